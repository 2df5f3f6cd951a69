"""HTML input (seqtool.summarize.html): text and paragraphs kept, code and page furniture dropped,
entities decoded, malformed markup survived."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.summarize import SummaryOptions, split_document, summarize_text
from seqtool.core.errors import UsageError
from seqtool.summarize.html import html_to_text, is_html_name, looks_like_html, prepare_text

# The page of the issue: today it summarizes to "The cat ran.</p></body></html>".
PAGE = ("<!DOCTYPE html>\n<html><head><title>Pets</title><style>p { color: red; }</style></head>\n"
        "<body><p>The cat ran.</p></body></html>\n")


def test_the_issues_page_is_its_one_sentence():
    assert html_to_text(PAGE) == "The cat ran.\n"
    assert summarize_text(html_to_text(PAGE), SummaryOptions(sentences=3)).sentences == ["The cat ran."]


def test_script_style_and_page_furniture_are_dropped_with_their_contents():
    page = """<html><head><title>Site name</title><meta charset="utf-8">
      <script>var s = "<p>not text</p>"; if (a < b && c > d) {}</script>
      <style>body { font: 12px } p::after { content: "x" }</style></head>
    <body>
      <header><h1>Site banner</h1></header>
      <nav><ul><li>Home</li><li>News</li></ul></nav>
      <main><article><h2>Rates rise</h2><p>The bank raised rates.</p>
        <aside>Related: <a href="/x">other story</a></aside>
        <p>Markets fell.</p><noscript>Enable JavaScript.</noscript>
        <form><button>Subscribe</button></form><div hidden>Cookie banner</div></article></main>
      <footer>Copyright</footer>
      <script src="tracker.js"></script>
    </body></html>"""
    assert html_to_text(page) == "Rates rise\n\nThe bank raised rates.\n\nMarkets fell.\n"


def test_entities_and_character_references_are_decoded():
    page = "<p>Fish &amp; chips &lt;3 &#163;5 &#x20AC;6 caf&eacute; &quot;q&quot; a&nbsp;b &copy; AT&T</p>"
    assert html_to_text(page) == 'Fish & chips <3 £5 €6 café "q" a b © AT&T\n'


def test_blocks_make_paragraphs_inline_elements_do_not():
    page = ("<div>Intro <b>bold</b>ly said.<p>Nested <em>one</em>.</p>Tail text.</div>"
            "<ul><li>First item</li><li>Second <i>item</i></li></ul>"
            "<table><tr><td>Cell A</td><td>Cell B</td></tr></table>"
            "<p>Line one<br>line two<br/>line three</p><pre>code  block\n  next line</pre>")
    assert html_to_text(page).split("\n\n") == [
        "Intro boldly said.", "Nested one.", "Tail text.", "First item", "Second item", "Cell A", "Cell B",
        "Line one\nline two\nline three", "code block\nnext line\n"]
    # Whitespace and line breaks of the source do not matter inside a paragraph.
    assert html_to_text("<p>one\n   two\t three</p>") == "one two three\n"


def test_a_malformed_document_still_gives_its_text():
    page = ("<html><body><p>Unclosed paragraph <p>Another & one <b>bold <i>both</b> after</i>"
            "</span></div> stray end tags <nav>Menu never closed <p>menu item"
            "</body><p>After the body. <!-- a comment --> <![CDATA[x]]> <p class=\"a>b\">Odd attribute.")
    assert html_to_text(page).split("\n\n") == [
        "Unclosed paragraph", "Another & one bold both after", "stray end tags", "After the body.",
        "Odd attribute.\n"]  # (a stray </div> still ends a block; the unclosed <nav> ends at </body>)
    # A drop nested in itself ends at its own end tag, not the first one.
    assert html_to_text("<div hidden><div>inner</div>still hidden</div><p>shown</p>") == "shown\n"
    assert html_to_text("") == "" and html_to_text("<p></p><script>x</script>") == ""
    assert html_to_text("plain text, no tags") == "plain text, no tags\n"


def test_paragraphs_stay_apart_in_the_sentence_splitter():
    page = "<h1>Budget day</h1><p>The minister spoke. Taxes rose.</p><p>Critics objected.</p>"
    assert split_document(html_to_text(page)) == ["Budget day", "The minister spoke.", "Taxes rose.",
                                                  "Critics objected."]


def test_html_detection_by_name_and_content():
    assert looks_like_html("<!DOCTYPE html><html>") and looks_like_html("\ufeff\n  <HTML lang=en>")
    assert looks_like_html("<!doctype HTML>")
    assert not looks_like_html("The <html> tag starts a page.") and not looks_like_html("<p>fragment</p>")
    assert is_html_name("page.HTML") and is_html_name("a/b.htm") and is_html_name("x.xhtml")
    assert not is_html_name("notes.txt") and not is_html_name("html")


def test_prepare_text_by_format_name_and_content():
    fragment = "<p>A fragment.</p>"
    assert prepare_text(PAGE) == "The cat ran.\n"                        # auto: content sniffed
    assert prepare_text(fragment, name="notes/frag.htm") == "A fragment.\n"  # auto: by name
    assert prepare_text(fragment) == fragment                              # auto: plain text stays
    assert prepare_text(fragment, "html") == "A fragment.\n"
    assert prepare_text(PAGE, "text", name="page.html") == PAGE
    with pytest.raises(UsageError, match="unknown --format 'pdf'"):
        prepare_text("x", "pdf")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/&;#pa bhtml!-=\"'\nscriptnav")), max_size=120))
def test_any_markup_soup_gives_text_without_raising(markup):
    text = html_to_text(markup)
    assert isinstance(text, str)
    assert "\n\n\n" not in text and not text.startswith("\n")


def test_cli_summarizes_an_html_file_to_its_text(cli, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    result = cli("summarize", str(page), "-n", "3")
    assert result.exit_code == 0 and result.stdout == "The cat ran.\n"
