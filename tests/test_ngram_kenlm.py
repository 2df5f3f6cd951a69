"""seqtool ngram score against the kenlm module on the same ARPA file: per-word scores
(KenLM's full_scores), totals, both perplexities, and the corpus token <unk> as KenLM's
unknown word."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from seqtool.ngram import read_arpa, train_ngram, write_arpa
from seqtool.ngram import api

kenlm = pytest.importorskip("kenlm")  # a dev dependency: these comparisons must run in CI

SHAKESPEARE = Path(__file__).resolve().parent.parent / "corpora" / "tinyshakespeare.txt"


@pytest.fixture(scope="module")
def unk_data():
    """PTB-style data: words seen once in the first 600 lines are replaced by <unk>; the
    test lines keep some unseen words as they are (OOVs) and spell others <unk>."""
    with open(SHAKESPEARE, encoding="utf-8") as fh:
        lines = [line.split() for _, line in zip(range(900), fh)]
    freq = Counter(w for line in lines[:600] for w in line)
    train = [" ".join(w if freq[w] > 1 else "<unk>" for w in line) for line in lines[:600]]
    test = [" ".join(w if freq[w] > 1 or i % 2 else "<unk>" for i, w in enumerate(line)) for line in lines[600:]]
    test += ["<unk>", "<unk> <unk> <unk>", "zebra <unk> the", "the <unk> of the <unk>"]
    assert sum(line.split().count("<unk>") for line in train) > 300
    return train, [t for t in test if t.strip()]


@pytest.fixture(scope="module")
def unk_arpa(unk_data, tmp_path_factory):
    model = train_ngram(unk_data[0], order=4)
    path = tmp_path_factory.mktemp("kenlm") / "unk4.arpa"
    write_arpa(model, path)
    return model, path


def kenlm_totals(km, lines):
    """KenLM query's figures: tokens = words + </s>; OOVs = tokens scored as <unk>."""
    total = oov_total = 0.0
    tokens = oov = 0
    for line in lines:
        for prob, _, is_oov in km.full_scores(line):
            total += prob
            tokens += 1
            if is_oov:
                oov += 1
                oov_total += prob
    return total, tokens, oov, 10 ** (-total / tokens), 10 ** (-(total - oov_total) / (tokens - oov))


def test_unk_is_written_as_kenlms_unknown_word(unk_arpa):
    model, path = unk_arpa
    text = path.read_text()
    assert "<unk_>" not in text and "\t<unk>\t" in text
    # n-grams around <unk> are counted and written, as for any word
    assert any(line.split("\t")[1].split()[:1] == ["<unk>"] for line in text.split("\\2-grams:")[1].splitlines()[1:50]
               if "\t" in line)
    back = read_arpa(path)
    assert back.words == model.words and back.sizes() == model.sizes()


def test_per_word_scores_equal_kenlm_full_scores(unk_arpa, unk_data):
    model, path = unk_arpa
    km = kenlm.Model(str(path))
    for m in (model, read_arpa(path)):
        for line in unk_data[1]:
            ours = m.full_scores(line)
            theirs = list(km.full_scores(line))
            assert len(ours) == len(theirs) == len(line.split()) + 1
            for (p, n, o), (kp, kn, ko) in zip(ours, theirs):
                assert (n, o) == (kn, ko), line
                assert abs(p - kp) < 1e-4, line


def test_totals_and_perplexities_equal_kenlm(unk_arpa, unk_data):
    model, path = unk_arpa
    km = kenlm.Model(str(path))
    lines = unk_data[1]
    total, tokens, oov, ppl, ppl_excl = kenlm_totals(km, lines)
    for m in (model, read_arpa(path)):
        ours = m.score(lines)
        assert (ours.tokens, ours.oov) == (tokens, oov) and oov > 100
        assert abs(ours.log10_prob - total) < 1e-4 * len(lines)
        assert ours.perplexity == pytest.approx(ppl, rel=1e-6)
        assert ours.perplexity_excl_oov == pytest.approx(ppl_excl, rel=1e-6)
    # Model.perplexity of one sentence: 10^(-score / (words + 1))
    for line in lines[:50]:
        part = next(model.score_lines([line], per_sentence=True))
        assert part.perplexity == pytest.approx(km.perplexity(line), rel=1e-5)
        assert abs(part.log10_prob - km.score(line, bos=True, eos=True)) < 1e-4


def test_context_carries_across_unk_as_in_kenlm(tmp_path):
    # A hand-written ARPA with n-grams around <unk>: KenLM uses "a <unk>" and "<unk> b";
    # an unseen word reads as <unk> and gets the same numbers.
    path = tmp_path / "t.arpa"
    path.write_text("\\data\\\nngram 1=5\nngram 2=4\n\n\\1-grams:\n-1.0\t<unk>\t-0.3\n-99\t<s>\t-0.2\n"
                    "-0.7\t</s>\n-0.5\ta\t-0.25\n-0.6\tb\t-0.1\n\n\\2-grams:\n-0.2\t<s> a\n-0.15\ta <unk>\n"
                    "-0.05\t<unk> b\n-0.3\tb </s>\n\n\\end\\\n")
    m, km = read_arpa(path), kenlm.Model(str(path))
    want = {"a <unk> b": [(-0.2, 2, False), (-0.15, 2, True), (-0.05, 2, False), (-0.3, 2, False)],
            "zz b": [(-1.2, 1, True), (-0.05, 2, False), (-0.3, 2, False)],
            "a b": [(-0.2, 2, False), (-0.85, 1, False), (-0.3, 2, False)]}
    for line, scores in want.items():
        for got in (m.full_scores(line), list(km.full_scores(line))):
            assert [(round(p, 5), n, o) for p, n, o in got] == scores, line
    assert m.full_scores("a zz b") == m.full_scores("a <unk> b")


def test_ptb_style_training_scores_the_same_in_kenlm(unk_arpa, unk_data):
    """The issue's case: train on text holding <unk>, score text holding <unk> in both."""
    model, path = unk_arpa
    km = kenlm.Model(str(path))
    ours = model.score(unk_data[1])
    theirs = sum(km.score(line) for line in unk_data[1])
    assert abs(ours.log10_prob - theirs) < 1e-4 * len(unk_data[1])


# ----------------------------------------------------------------- CLI
CORPUS = "b d\nb d b\nb b\n"


def test_cli_per_word_golden(cli, tmp_path):
    (tmp_path / "c.txt").write_text(CORPUS)
    cli("ngram", "train", tmp_path / "c.txt", "-n", "2", "--name", "bd", "--arpa", tmp_path / "bd.arpa")
    result = cli("ngram", "score", "bd", "-", "--per-word", input="b d\n\nd zz\n")
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    # p(b|<s>) = 13/72, p(d|b) = 131/420, p(</s>|d) = 73/168 (test_ngram.py): all bigrams
    assert rows[:4] == [f"1\t1\tb\t{math.log10(13 / 72):.4f}\t2\t0", f"1\t2\td\t{math.log10(131 / 420):.4f}\t2\t0",
                        f"1\t3\t</s>\t{math.log10(73 / 168):.4f}\t2\t0",
                        f"1\ttotal\t{math.log10(13 / 72 * 131 / 420 * 73 / 168):.4f}\t3\t0\t3.4444"]
    # "<s> d", "d <unk>" and "<unk> </s>" were never seen: unigrams, zz an OOV
    assert [r.split("\t")[2::2] for r in rows[4:7]] == [["d", "1"], ["zz", "1"], ["</s>", "1"]]
    assert [r.split("\t")[5] for r in rows[4:7]] == ["0", "1", "0"]
    assert rows[7] == "2\ttotal\t-2.1059\t3\t1\t5.0345" and rows[8] == "total\t-3.7172\t6\t1\t4.1643\t3.3203"
    km = kenlm.Model(str(tmp_path / "bd.arpa"))
    theirs = list(km.full_scores("d zz"))
    for row, (p, n, o) in zip(rows[4:7], theirs):
        assert row.split("\t")[3:] == [f"{p:.4f}", str(n), str(int(o))]
    records = [json.loads(x) for x in cli("ngram", "score", "bd", "-", "--per-word", "--json",
                                          input="b d\nd zz\n").stdout.splitlines()]
    assert [w["token"] for w in records[0]["words"]] == ["b", "d", "</s>"]
    assert records[1]["words"][1] == {"token": "zz", "log10_prob": pytest.approx(theirs[1][0], abs=1e-6),
                                      "ngram_length": 1, "oov": True}
    assert records[1]["oov"] == 1 and records[2]["tokens"] == 6 and records[2]["oov"] == 1
    assert records[2]["perplexity_excl_oov"] == pytest.approx(3.3203, abs=1e-4)


def test_cli_several_files_and_stdin(cli, tmp_path, unk_arpa, unk_data):
    _, path = unk_arpa
    lines = unk_data[1]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(lines[:40]) + "\n")
    b.write_text("\n".join(lines[40:90]) + "\n")
    stdin = "\n".join(lines[90:]) + "\n"
    result = cli("ngram", "score", path, a, "-", b, "--json", input=stdin)
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    _, tokens, oov, ppl, ppl_excl = kenlm_totals(kenlm.Model(str(path)), lines)
    assert (got["sentences"], got["tokens"], got["oov"]) == (len(lines), tokens, oov)
    assert got["perplexity"] == pytest.approx(ppl, rel=1e-6)
    assert got["perplexity_excl_oov"] == pytest.approx(ppl_excl, rel=1e-6)
    # sentences are numbered across the inputs, in the order given
    rows = cli("ngram", "score", path, a, "-", b, "--per-sentence", input=stdin).stdout.splitlines()
    assert len(rows) == len(lines) + 1 and rows[40].startswith("41\t") and rows[-1].startswith("total\t")
    summary = api.score(str(path), [str(a), str(b)], per_word=True)
    assert summary.total.tokens == sum(len(t.split()) + 1 for t in lines[:90])
