"""summarize --method, --language and --format from the CLI and from SummaryOptions."""

import json

import pytest

from seqtool.core.errors import UsageError
from seqtool.summarize import SummaryOptions, summarize_text

DOC = ("The bank raised interest rates today. Markets fell after the bank raised rates. "
       "A dog barked in the park. Rates and markets moved together all day.")


@pytest.mark.parametrize("method", ["textrank", "lexrank", "lsa", "lead"])
def test_every_method_from_the_cli(cli, method):
    result = cli("summarize", "-", "-n", "2", "--method", method, "--json", input=DOC)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["summary"]) == 2 and len(out["scores"]) == 2
    if method == "lead":
        assert out["indices"] == [0, 1]
    else:
        assert "A dog barked in the park." not in out["summary"]  # shares no word with the others


def test_lexrank_variants_and_lsa_dimensions_reach_the_scorer():
    thresholded = summarize_text(DOC, SummaryOptions(sentences=4, method="lexrank")).scores
    continuous = summarize_text(DOC, SummaryOptions(sentences=4, method="lexrank", lexrank_threshold=None)).scores
    assert thresholded != continuous
    assert summarize_text(DOC, SummaryOptions(sentences=4, method="lsa", lsa_dimensions="all")).scores != \
        summarize_text(DOC, SummaryOptions(sentences=4, method="lsa", lsa_dimensions=1)).scores


def test_bad_method_options_are_usage_errors(cli):
    result = cli("summarize", "-", "--method", "luhn", input=DOC)
    assert result.exit_code == 2 and "unknown --method 'luhn'" in result.stderr
    for bad in (dict(lexrank_threshold=1.0), dict(lsa_dimensions="most"), dict(format="pdf"),
                dict(language="klingon")):
        with pytest.raises(UsageError):
            SummaryOptions(**bad)


def test_language_picks_the_splitter_and_the_stemmer(cli):
    text = "Er kam am 3. Mai an. Die Häuser stehen. Das Haus steht leer."
    result = cli("summarize", "-", "-n", "3", "--language", "de", input=text)
    assert result.exit_code == 0 and result.stdout.splitlines()[0] == "Er kam am 3. Mai an."
    assert SummaryOptions(language="DE").language == "german"
    result = cli("summarize", "-", "--language", "klingon", input=text)
    assert result.exit_code == 2 and "supported: czech (cs)" in result.stderr


def test_format_text_keeps_markup_and_format_html_reads_a_fragment(cli, tmp_path):
    fragment = tmp_path / "frag.txt"
    fragment.write_text("<p>One sentence here.</p><script>x()</script>", encoding="utf-8")
    assert cli("summarize", str(fragment), "--format", "html").stdout == "One sentence here.\n"
    assert "<p>" in cli("summarize", str(fragment)).stdout


PAGE = "<p>Rates rose today.</p><nav>Home About</nav><p>Markets fell as rates rose.</p>"


def test_batch_jsonl_and_eval_reduce_html_by_the_name(cli, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.html").write_text(PAGE, encoding="utf-8")  # a fragment: only the name says HTML
    result = cli("summarize", str(docs), "--out-dir", str(tmp_path / "out"), "-n", "2")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "page.html").read_text(encoding="utf-8") == \
        "Rates rose today.\nMarkets fell as rates rose.\n"
    lines = tmp_path / "docs.jsonl"
    lines.write_text(json.dumps({"id": "page.html", "text": PAGE}) + "\n"
                     + json.dumps({"id": "page.txt", "text": PAGE}) + "\n", encoding="utf-8")
    records = [json.loads(line) for line in cli("summarize", "--jsonl", str(lines), "-n", "2").stdout.splitlines()]
    assert records[0]["summary"] == ["Rates rose today.", "Markets fell as rates rose."]
    assert any("<p>" in s for s in records[1]["summary"])  # not named .html, not starting <html: text
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "page.html").write_text("Rates rose today. Markets fell as rates rose.", encoding="utf-8")
    result = cli("summarize", str(docs), "--eval", str(refs), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["rouge1"] == 1.0


def test_cli_method_options_reach_the_scorer_and_others_are_refused(cli):
    def scores(*args):
        result = cli("summarize", "-", "-n", "4", "--json", *args, input=DOC)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["scores"]

    assert scores("--method", "lexrank", "--continuous") == \
        [round(float(s), 6) for s in summarize_text(DOC, SummaryOptions(sentences=4, method="lexrank",
                                                                        lexrank_threshold=None)).scores]
    assert scores("--method", "lexrank", "--lexrank-threshold", "0.1") == scores("--method", "lexrank")
    assert scores("--method", "lsa", "--lsa-dimensions", "1") == \
        [round(float(s), 6) for s in summarize_text(DOC, SummaryOptions(sentences=4, method="lsa",
                                                                        lsa_dimensions=1)).scores]
    for args, message in [(("--continuous",), "--continuous is a LexRank option: add --method lexrank"),
                          (("--method", "lsa", "--lexrank-threshold", "0.2"), "--lexrank-threshold is a LexRank"),
                          (("--method", "lexrank", "--continuous", "--lexrank-threshold", "0.2"),
                           "cannot be combined"),
                          (("--lsa-dimensions", "2"), "--lsa-dimensions is an LSA option"),
                          (("--method", "lsa", "--lsa-dimensions", "0"), "--lsa-dimensions must be half, all")]:
        result = cli("summarize", "-", *args, input=DOC)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout
