"""HTML input: a page reduced to its text, one paragraph per block.

Parsed with the standard library's html.parser (a tolerant tokenizer: it
never raises on bad markup), so unclosed tags, stray end tags and bare `&`
all come through. What comes out is what split_document expects: paragraphs
(p, headings, list items, table cells, blockquotes...) separated by a blank
line, whitespace inside a paragraph collapsed, `<br>` a line break, `<pre>`
kept line by line, entities and character references decoded.

Dropped with everything inside them: script, style, template, noscript, svg,
math, iframe, object, head (title and meta are not body text) and the page's
furniture: nav, header, footer, aside, form, button, select, and any element
with the `hidden` attribute. A drop that is never closed ends at </body> or
</html>, so one stray `<nav>` cannot swallow the rest of a page.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Optional

from ..core.errors import UsageError

FORMATS = ("auto", "text", "html")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# Blocks: each starts and ends a paragraph.
BLOCKS = frozenset("""
    address article blockquote caption center dd details dialog dir div dl dt fieldset figcaption figure
    h1 h2 h3 h4 h5 h6 hgroup hr li main menu ol p pre section summary table tbody td tfoot th thead tr ul
    body html
""".split())
DROPPED = frozenset("""
    script style template noscript svg math iframe object head title
    nav header footer aside form button select textarea
""".split())
# Elements that never have an end tag: their start must not open a dropped region.
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def looks_like_html(text: str) -> bool:
    """Text that starts (after a BOM and whitespace) with `<!doctype html` or `<html`."""
    head = text[:64].lstrip("\ufeff \t\r\n").lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def is_html_name(name: str) -> bool:
    return name.lower().endswith(HTML_SUFFIXES)


def prepare_text(text: str, fmt: str = "auto", name: Optional[str] = None) -> str:
    """The text to summarize: `fmt` html always, text never, auto for an .html/.htm name or HTML content."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "html" or (fmt == "auto" and ((name is not None and is_html_name(name)) or looks_like_html(text))):
        return html_to_text(text)
    return text


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # &amp; &#233; &eacute; -> characters, in data
        self.paragraphs: list[str] = []
        self._lines: list[str] = []   # finished lines of the open paragraph
        self._words: list[str] = []   # pieces of the current line
        self._drop: list[str] = []    # the open dropped elements, innermost last
        self._pre = 0

    # ------------------------------------------------------------ structure
    def _end_line(self) -> None:
        line = " ".join("".join(self._words).split())
        if line:
            self._lines.append(line)
        self._words = []

    def _end_paragraph(self) -> None:
        self._end_line()
        if self._lines:
            self.paragraphs.append("\n".join(self._lines))
        self._lines = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if self._drop:
            if tag not in VOID:
                self._drop.append(tag)  # track nesting, so the drop ends at its own end tag
            return
        if tag in DROPPED or (tag not in VOID and any(name == "hidden" for name, _ in attrs)):
            self._drop.append(tag)
            return
        if tag in BLOCKS:
            self._end_paragraph()
            if tag == "pre":
                self._pre += 1
        elif tag == "br":
            self._end_line()

    def handle_startendtag(self, tag: str, attrs) -> None:  # <br/>, <p/>: nothing inside to drop
        if not self._drop and (tag in BLOCKS or tag == "br"):
            self._end_paragraph() if tag in BLOCKS else self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if self._drop:
            if tag in ("body", "html"):
                self._drop.clear()  # an unclosed drop ends with the page
            elif tag in self._drop:
                # Close the innermost open one and whatever was left unclosed inside it (<p>, <li>).
                del self._drop[len(self._drop) - 1 - self._drop[::-1].index(tag):]
            return
        if tag in BLOCKS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._drop:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._words.append(first)
            for line in rest:
                self._end_line()
                self._words.append(line)
        else:
            self._words.append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()


def html_to_text(markup: str) -> str:
    """The text of an HTML document: paragraphs separated by blank lines, furniture and code dropped."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "\n\n".join(parser.paragraphs) + ("\n" if parser.paragraphs else "")
