"""seqtool summarize on single documents: edge cases, options, stdin and JSON."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import UsageError
from seqtool.summarize import SummaryOptions, split_document, summarize_sentences, summarize_text

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
SOLAR = (
    "Solar power is growing fast in many countries.\n\n"
    "Cheap solar panels made solar power the cheapest electricity in sunny countries. "
    "The cat slept all afternoon. "
    "Batteries store solar power for the evening when panels stop producing.\n\n"
    "Grid operators now plan for solar power and batteries together. "
    "Bananas are yellow."
)


def test_top_sentences_come_back_in_document_order():
    summary = summarize_text(SOLAR, SummaryOptions(sentences=3))
    assert summary.total == 6
    assert summary.indices == sorted(summary.indices)
    assert "The cat slept all afternoon." not in summary.sentences
    assert "Bananas are yellow." not in summary.sentences
    assert summary.sentences == [split_document(SOLAR)[i] for i in summary.indices]


@pytest.mark.parametrize("similarity", ["overlap", "bm25", "tfidf"])
def test_every_similarity_prefers_the_connected_sentences(similarity):
    summary = summarize_text(SOLAR, SummaryOptions(sentences=2, similarity=similarity))
    assert all("solar" in s.lower() for s in summary.sentences)


def test_empty_document_gives_an_empty_summary():
    for text in ("", "\n\n  \n"):
        summary = summarize_text(text)
        assert summary.sentences == [] and summary.total == 0


def test_one_sentence_and_fewer_sentences_than_asked():
    assert summarize_text("Just one sentence here.", SummaryOptions(sentences=3)).sentences == \
        ["Just one sentence here."]
    two = summarize_text("First point made. Second point made.", SummaryOptions(sentences=5))
    assert two.sentences == ["First point made.", "Second point made."]


def test_all_identical_sentences_give_that_sentence_once():
    text = "The same words again. " * 6
    summary = summarize_text(text, SummaryOptions(sentences=3))
    assert summary.sentences == ["The same words again."] and summary.indices == [0]


def test_no_shared_words_falls_back_to_document_order():
    text = "Apples grow slowly. Bicycles rust outside. Clouds drift east. Dolphins swim north."
    for similarity in ("overlap", "bm25", "tfidf"):
        summary = summarize_text(text, SummaryOptions(sentences=2, similarity=similarity))
        assert summary.indices == [0, 1]
        assert summary.scores[0] == pytest.approx(0.25)


def test_ties_are_broken_by_position_deterministically():
    # 0 and 2 are interchangeable (same words), as are 1 and 3: a two-way tie each time.
    sents = ["red apples fall", "blue rivers run", "red apples fall down", "blue rivers run deep"]
    first = summarize_sentences(sents, SummaryOptions(sentences=1))
    assert all(summarize_sentences(sents, SummaryOptions(sentences=1)).indices == first.indices
               for _ in range(3))
    cycle = ["alpha beta", "beta gamma", "gamma delta", "delta alpha"]  # a ring: every node equal
    assert summarize_sentences(cycle, SummaryOptions(sentences=2)).indices == [0, 1]


def test_non_english_text_works_on_its_own_words():
    text = ("Москва большой город. Москва столица России. Кошка спит на диване. "
            "В Москве живёт много людей, Москва растёт.")
    summary = summarize_text(text, SummaryOptions(sentences=2))
    assert all("Москв" in s for s in summary.sentences)
    lines = "東京 は 大きい 都市 です\n東京 は 首都 です\n猫 が 寝る\n"
    assert summarize_text(lines, SummaryOptions(sentences=1, split="lines")).sentences == ["東京 は 大きい 都市 です"]


def test_thousands_of_sentences_finish_quickly():
    rng = np.random.default_rng(1)
    vocab = [f"word{i}" for i in range(3000)]
    ids = rng.integers(0, len(vocab), size=(2500, 10))
    text = " ".join(" ".join(vocab[j] for j in row) + "." for row in ids)
    summary = summarize_text(text, SummaryOptions(sentences=5, max_neighbors=30))
    assert summary.total == 2500 and len(summary.sentences) == 5


def test_ratio_and_word_budget():
    text = " ".join(f"Sentence {w} talks about topic {w} and topic." for w in "abcdefghij")
    assert len(summarize_text(text, SummaryOptions(ratio=0.3)).sentences) == 3
    assert len(summarize_text(text, SummaryOptions(ratio=0.01)).sentences) == 1
    # Every sentence has 8 words: 15 words fit one, 16 fit two.
    assert len(summarize_text(text, SummaryOptions(words=15)).sentences) == 1
    summary = summarize_text(text, SummaryOptions(words=16))
    assert sum(len(s.split()) for s in summary.sentences) == 16 and len(summary.sentences) == 2
    assert len(summarize_text(text, SummaryOptions(words=1)).sentences) == 1  # always at least one


def test_conflicting_or_bad_options_are_usage_errors():
    with pytest.raises(UsageError, match="choose one of"):
        SummaryOptions(sentences=2, words=10)
    with pytest.raises(UsageError, match="similarity"):
        SummaryOptions(similarity="jaccard")
    with pytest.raises(UsageError, match="damping"):
        SummaryOptions(damping=1.5)


def test_split_modes():
    text = "Results\nThe first test passed. The second failed.\n\nA new paragraph. Dr. Smith agreed."
    assert split_document(text, "auto") == ["Results", "The first test passed.", "The second failed.",
                                            "A new paragraph.", "Dr. Smith agreed."]
    assert split_document(text, "punkt")[0] == "Results The first test passed."
    assert split_document(text, "lines") == ["Results", "The first test passed. The second failed.",
                                             "A new paragraph. Dr. Smith agreed."]
    wrapped = ("This paragraph was hard-wrapped by an editor at a fixed\n"
               "width, so its lines break in the middle of a sentence and\n"
               "must be joined again. It has two sentences.")
    assert split_document(wrapped, "auto") == [
        "This paragraph was hard-wrapped by an editor at a fixed width, so its lines break in the middle "
        "of a sentence and must be joined again.", "It has two sentences."]


def test_custom_and_disabled_stop_words(tmp_path):
    text = "The the the cat. The the dog. A fish swims."
    stop = tmp_path / "stop.txt"
    stop.write_text("# comment\ncat\ndog\nfish\nswims\n", encoding="utf-8")
    # With only content words stopped, "the" links the first two sentences.
    summary = summarize_text(text, SummaryOptions(sentences=2, stopwords=str(stop)))
    assert summary.indices == [0, 1]
    assert summarize_text(text, SummaryOptions(sentences=1, stopwords="none")).total == 3


def test_keywords_are_unstemmed_words():
    summary = summarize_text(SOLAR, SummaryOptions(sentences=1, keywords=2))
    assert summary.keywords[0] == "solar" and len(summary.keywords) == 2


class FakeVectors:
    words = ["sun", "solar", "light", "fish"]
    matrix = np.array([[1, 0], [0.95, 0.05], [0.9, 0.1], [0, 1]], dtype=np.float32)
    index = {w: i for i, w in enumerate(words)}


def test_embedding_similarity_with_word_vectors():
    sents = ["sun", "solar light", "fish", "light"]
    options = SummaryOptions(sentences=3, similarity="embedding", stem=False)
    summary = summarize_sentences(sents, options, vectors=FakeVectors())
    assert summary.sentences == ["sun", "solar light", "light"]  # "fish" points elsewhere


def test_cli_embedding_similarity_reads_a_vectors_file(cli, tmp_path):
    pytest.importorskip("seqtool.vectors")
    vec = tmp_path / "tiny.vec"
    vec.write_text("4 2\nsun 1 0\nsolar 0.95 0.05\nlight 0.9 0.1\nfish 0 1\n", encoding="utf-8")
    result = cli("summarize", "-", "--split", "lines", "-n", "3", "--embeddings", vec,
                 input="Sun!\nSolar light.\nFish.\nLight.\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["Sun!", "Solar light.", "Light."]


# ---------------------------------------------------------------- CLI
def test_cli_reads_stdin_and_prints_one_sentence_per_line(cli):
    result = cli("summarize", "-", "-n", "2", input=SOLAR)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("solar" in line.lower() for line in lines)
    assert result.stderr == ""


def test_a_real_shell_pipeline(tmp_path):
    import subprocess
    import sys

    doc = tmp_path / "doc.txt"
    doc.write_text(SOLAR, encoding="utf-8")
    proc = subprocess.run(f"cat '{doc}' | '{sys.executable}' -m seqtool summarize - -n 1 | wc -l", shell=True,
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1" and proc.stderr == ""


def test_cli_empty_input_warns_and_exits_zero(cli):
    result = cli("summarize", "-", input="")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "warning" in result.stderr and "empty" in result.stderr


def test_cli_json_and_keywords(cli, tmp_path):
    doc = tmp_path / "solar.txt"
    doc.write_text(SOLAR, encoding="utf-8")
    result = cli("summarize", doc, "--json", "-n", "2", "--keywords", "3", "--similarity", "bm25")
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj["id"] == str(doc) and len(obj["summary"]) == 2 and len(obj["scores"]) == 2
    assert obj["sentences"] == 6 and obj["keywords"][0] == "solar"


def test_cli_several_files_get_headers(cli, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(SOLAR, encoding="utf-8")
    result = cli("summarize", tmp_path, "-n", "1")
    assert result.exit_code == 0
    assert result.stdout.count("==> ") == 2


def test_cli_errors_are_one_line(cli, tmp_path):
    result = cli("summarize", tmp_path / "missing.txt")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "missing.txt" in result.stderr
    result = cli("summarize", "-", "-n", "2", "--words", "9", input="x")
    assert result.exit_code == 2 and "choose one of" in result.stderr
    result = cli("summarize", "-", "--similarity", "embedding", input="x")
    assert result.exit_code == 2 and "--embeddings" in result.stderr


def test_help_explains_the_default_similarity(cli):
    result = cli("summarize", "--help")
    assert result.exit_code == 0
    assert "default similarity is overlap" in " ".join(result.stdout.split())


# ---------------------------------------------------------------- sentence splitting
TRICKY = ["Mr.", "Dr.", "U.S.", "Inc.", "J.", "etc.", "No.", "5", "2004.", "$1.5bn.", "47.3%.", "p.m.",
          "word.", "Word.", "The", "the", "However,", '"Yes.', '"We', "(he", "left.)", "end...", "Wow!",
          "why?", "It's", "e.g.", "St.", "--", "--.", "a.", "B.", "China's.", "Jan.", "Co.", ".", "?!",
          '"', ")", ".)", '."', "end.'", "...", "Yes.)", '"No."', "So,", "Ph.D.", "III.", "(The", "[1].", "$5."]


def _punkt_reference(text):
    from seqtool.core.text import split_sentences

    return split_sentences(text)


def test_fast_splitter_matches_punkt_on_tricky_text_and_the_corpora():
    from seqtool.summarize.sentences import split_paragraph

    texts = [
        "Mr. Smith met Dr. Jones. They talked. The U.S. Army left. J. Bach wrote. See No. 5 please.",
        'He said "no." Then left. "Yes." Fine. Wow.. Ok. Hm. . . Right. Done -- yes. In 2004. The year.',
        "It cost $1.5bn. The firm grew 47.3%. However, analysts said. (He left.) Then she came.",
    ]
    texts += [p.read_text(encoding="utf-8") for p in sorted((CORPORA / "docs").glob("*.txt"))]
    with open(CORPORA / "tinyshakespeare.txt", encoding="utf-8") as fh:
        texts += [line for _, line in zip(range(3000), fh) if line.strip()]
    for text in texts:
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        assert [s for p in paragraphs for s in split_paragraph(p)] == _punkt_reference(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=25))
def test_fast_splitter_matches_punkt_on_random_tricky_text(words):
    from seqtool.summarize.sentences import split_paragraph

    text = " ".join(words)
    assert split_paragraph(text) == _punkt_reference(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("aZ09_ .,;'\"-\t\n!?()é東İ")), max_size=40), max_size=6))
def test_document_terms_are_the_lowercased_word_regex_matches(sentences):
    """pipeline.document_terms (a translate for ASCII sentences, a memo per word): per sentence
    the \\w+ words of its lower case, minus stop words and bare numbers, each stemmed."""
    import re

    from seqtool.summarize.pipeline import document_terms, load_stopwords
    from seqtool.summarize.stem import stem_map

    stop = load_stopwords(None)
    expected = []
    for s in sentences:
        words = [w for w in re.findall(r"\w+", s.lower()) if w not in stop and not w.isdigit()]
        stems = stem_map(words)
        expected.append([stems[w] for w in words])
    assert document_terms(sentences, stop) == expected
    assert document_terms(sentences, stop, stem=False) == [
        [w for w in re.findall(r"\w+", s.lower()) if w not in stop and not w.isdigit()] for s in sentences]
