"""Queries and evaluation: known answers on a hand-made set, equality with gensim."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from seqtool.core.errors import InputError
from seqtool.vectors import Vectors, load_vectors
from seqtool.vectors import queries
from seqtool.vectors.evaluate import evaluate_analogies, evaluate_pairs
from seqtool.vectors.store import save_vectors

gensim_data = pytest.importorskip("gensim.test.utils").datapath

TINY = {
    "king": [1, 1, 0], "queen": [1, -1, 0], "man": [0, 1, 0], "woman": [0, -1, 0],
    "apple": [0, 0, 1], "banana": [0.1, 0, 1], "prince": [0.9, 1, 0.1], "King": [5, 5, 5],
}


@pytest.fixture
def tiny() -> Vectors:
    return Vectors(list(TINY), np.array(list(TINY.values()), dtype=np.float32))


def _kv(vecs: Vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vecs.dim)
    kv.add_vectors(vecs.words, np.array(vecs.matrix))
    return kv


def test_neighbors_known_answers(tiny):
    found = queries.neighbors(tiny, "king", top_n=3)
    assert [m.word for m in found] == ["prince", "King", "man"]
    assert found[0].score == pytest.approx(1.9 / (math.sqrt(2) * math.sqrt(1.82)), abs=1e-6)
    assert found[1].score == pytest.approx(10 / (math.sqrt(2) * math.sqrt(75)), abs=1e-6)
    assert found[2].score == pytest.approx(1 / math.sqrt(2), abs=1e-6)
    assert "king" not in [m.word for m in queries.neighbors(tiny, "king", top_n=10)]
    assert len(queries.neighbors(tiny, "king", top_n=100)) == len(TINY) - 1


def test_analogy_known_answers(tiny):
    add = queries.analogy(tiny, "man", "king", "woman", method="add", top_n=2)
    assert add[0].word == "queen"
    expected = np.array([1 / math.sqrt(2), 1 / math.sqrt(2) - 2, 0])
    expected_cos = expected @ np.array([1, -1, 0]) / (np.linalg.norm(expected) * math.sqrt(2))
    assert add[0].score == pytest.approx(expected_cos, abs=1e-6)
    mul = queries.analogy(tiny, "man", "king", "woman", method="mul", top_n=1)
    assert mul[0].word == "queen"
    # (1 + cos(queen, king)) / 2 * (1 + cos(queen, woman)) / 2 / ((1 + cos(queen, man)) / 2 + 1e-6)
    c = 1 / math.sqrt(2)
    assert mul[0].score == pytest.approx(0.5 * ((1 + c) / 2) / ((1 - c) / 2 + 1e-6), rel=1e-5)


def test_similarity_doesnt_match_and_case(tiny):
    assert queries.similarity(tiny, "king", "man") == pytest.approx(1 / math.sqrt(2), abs=1e-7)
    assert queries.doesnt_match(tiny, ["king", "prince", "man", "apple"])[-1].word == "apple"
    assert queries.doesnt_match(tiny, ["king", "queen", "prince", "apple"])[-1].word == "queen"
    assert tiny.find("KING", case_insensitive=True) == 0  # the first (most frequent) form wins
    assert tiny.find("Banana", case_insensitive=True) == 5
    with pytest.raises(InputError, match="unknown word 'QUEEN'.*--case-insensitive"):
        queries.neighbors(tiny, "QUEEN")
    with pytest.raises(InputError, match=r"unknown words 'x', 'y' \(not among the 8 words"):
        queries.analogy(tiny, "x", "king", "y")


def test_queries_agree_with_gensim():
    from gensim.models import KeyedVectors

    path = gensim_data("euclidean_vectors.bin")
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    vecs = load_vectors(path)
    for word in ("man", "the", "police"):
        ours = queries.neighbors(vecs, word, top_n=5)
        theirs = kv.most_similar(word, topn=5)
        assert [m.word for m in ours] == [w for w, _ in theirs]
        assert np.allclose([m.score for m in ours], [s for _, s in theirs], atol=1e-6)
    ours = queries.analogy(vecs, "man", "king", "woman", method="add", top_n=5)
    theirs = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
    assert [m.word for m in ours] == [w for w, _ in theirs]
    assert np.allclose([m.score for m in ours], [s for _, s in theirs], atol=1e-6)
    ours = queries.analogy(vecs, "man", "king", "woman", method="mul", top_n=5)
    theirs = kv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5)
    assert [m.word for m in ours] == [w for w, _ in theirs]
    assert np.allclose([m.score for m in ours], [s for _, s in theirs], rtol=1e-5)
    assert queries.similarity(vecs, "man", "woman") == pytest.approx(float(kv.similarity("man", "woman")), abs=1e-7)
    words = ["man", "woman", "child", "police"]
    assert queries.doesnt_match(vecs, words)[-1].word == kv.doesnt_match(words)


@pytest.mark.parametrize("name,binary", [("euclidean_vectors.bin", True), ("lee_fasttext.vec", False)])
def test_evaluation_equals_gensim(name, binary):
    from gensim.models import KeyedVectors

    path = gensim_data(name)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    vecs = load_vectors(path)
    score, sections = kv.evaluate_word_analogies(gensim_data("questions-words.txt"))
    ours = evaluate_analogies(vecs)
    assert ours.total.accuracy == score
    for theirs, mine in zip(sections, ours.sections + [ours.total]):
        assert (len(theirs["correct"]), len(theirs["correct"]) + len(theirs["incorrect"])) == \
            (mine.correct, mine.attempted), theirs["section"]
    pearson, spearman, oov = kv.evaluate_word_pairs(gensim_data("wordsim353.tsv"))
    mine = evaluate_pairs(vecs)
    assert mine.spearman == pytest.approx(spearman[0], abs=1e-12)
    assert mine.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert mine.oov_ratio == pytest.approx(oov, abs=1e-12)


def test_analogy_rules_match_gensim_on_a_tiny_file(tiny, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": royal\nMAN KING WOMAN QUEEN\nman king woman prince\nman king woman unknown\n"
                         "not four words\n: fruit\napple banana apple banana\nking queen man woman\n")
    kv = _kv(tiny)
    for case_insensitive in (True, False):
        for restrict in (300000, 6):
            score, sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=restrict,
                                                         case_insensitive=case_insensitive)
            ours = evaluate_analogies(tiny, str(questions), restrict=restrict, case_insensitive=case_insensitive)
            assert ours.total.accuracy == score
            assert [(s.correct, s.attempted) for s in ours.sections] == \
                [(len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections[:-1]]
    ours = evaluate_analogies(tiny, str(questions))
    assert (ours.total.correct, ours.total.attempted, ours.total.questions) == (2, 4, 5)
    assert ours.oov_ratio == pytest.approx(20.0)


def test_cli_queries_and_unknown_words(cli, tiny):
    save_vectors(tiny, "tiny")
    result = cli("embed", "neighbors", "tiny", "king", "--top", "2")
    assert result.exit_code == 0
    assert result.stdout == "king\tprince\t0.995870\nking\tKing\t0.816497\n"
    result = cli("embed", "neighbors", "tiny", "king", "nope", "--top", "1", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["neighbors"][0]["word"] == "prince"
    assert "unknown word 'nope'" in result.stderr
    result = cli("embed", "neighbors", "tiny", "nope")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("seqtool: error: unknown word 'nope'")
    result = cli("embed", "analogy", "tiny", "MAN", "KING", "WOMAN", "-i", "--top", "1")
    assert result.stdout.splitlines() == ["add\tqueen\t0.959683", "mul\tqueen\t2.914194"]
    result = cli("embed", "similarity", "tiny", "king", "man", "--json")
    assert json.loads(result.stdout)["similarity"] == pytest.approx(0.7071068, abs=1e-6)
    result = cli("embed", "doesnt-match", "tiny", "king", "prince", "man", "apple")
    assert result.stdout == "apple\n"


def test_cli_evaluate_reports_sections_and_pairs(cli, tmp_path):
    path = gensim_data("euclidean_vectors.bin")
    result = cli("embed", "evaluate", path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("analogies\tcapital-common-countries\taccuracy=0.0000\tcorrect=0\tattempted=20")
    assert lines[-2] == ("analogies\ttotal\taccuracy=0.0024\tcorrect=1\tattempted=409\tquestions=19544\t"
                         "coverage=0.0209")
    assert lines[-1].startswith("pairs\twordsim353.tsv\tspearman=0.2736\t")
    assert lines[-1].endswith("pairs=109\toov=244\toov_ratio=69.12%")
    result = cli("embed", "evaluate", path, "--only", "pairs", "--json")
    assert set(json.loads(result.stdout)) == {"pairs"}


def test_plot_writes_a_png(cli, tiny, tmp_path):
    pytest.importorskip("matplotlib")
    save_vectors(tiny, "tiny")
    out = tmp_path / "map.png"
    result = cli("embed", "plot", "tiny", "king", "apple", "--neighbors", "2", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout == f"{out}\twords=5\n"  # king, apple, prince, King, banana


@pytest.mark.parametrize("n", [10, 5000, 50_000, 50_000 + 777])
@pytest.mark.parametrize("k, exclude", [(1, set()), (10, {3}), (40, {0, 1, 2})])
def test_top_equals_a_full_sort(n, k, exclude):
    # Large n takes the block-maxima shortcut; its answer must be the full sort's.
    rng = np.random.default_rng(n + k)
    scores = rng.normal(size=n).astype(np.float32)
    scores[rng.integers(0, n, 5)] = 10.0 + np.arange(5)  # winners clustered in a few blocks
    expected = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in exclude][:k]
    assert queries.top(scores, k, exclude) == expected


def test_top_with_nan_scores_falls_back_to_the_full_partition():
    scores = np.zeros(50_000, dtype=np.float32)
    scores[123], scores[40_000] = 0.9, np.nan
    assert 123 in queries.top(scores, 2, set())


# ---------------------------------------------------------------- issue 18.12: misuse is a usage error
@pytest.mark.parametrize("args, message", [
    (["doesnt-match", "tiny", "king"], "doesnt-match needs at least two words (got 1)"),
    (["neighbors", "tiny", "king", "--top", "0"], "--top must be at least 1"),
    (["analogy", "tiny", "man", "king", "woman", "--top", "0"], "--top must be at least 1"),
    (["analogy", "tiny", "man", "king", "woman", "--method", "sub"], "--method must be add, mul or both"),
    (["neighbors", "tiny", "king", "--limit", "0"], "--limit must be at least 1"),
    (["export", "tiny", "--format", "fasttext"], "--format must be word2vec or glove"),
    (["export", "tiny", "--format", "glove", "--binary"], "--binary is only available with --format word2vec"),
    (["evaluate", "tiny", "--method", "sub"], "--method must be add or mul"),
    (["evaluate", "tiny", "--only", "both"], "--only must be analogies or pairs"),
    (["plot", "tiny", "king", "-o", "map.bmp"], "unsupported file type"),  # jpg/jpeg are written where matplotlib can (issue 18 item 10)
    (["plot", "tiny", "king", "-o", "/no/such/folder/map.png"], "does not exist"),
    (["export", "tiny", "-o", "/no/such/folder/v.txt"], "does not exist"),
])
def test_misuse_is_a_usage_error(cli, tiny, args, message):
    save_vectors(tiny, "tiny")
    result = cli("embed", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1 and message in result.stderr


def test_export_refuses_to_overwrite_its_input(cli, tiny, tmp_path):
    save_vectors(tiny, "tiny")
    path = tmp_path / "v.txt"
    assert cli("embed", "export", "tiny", "-o", path).exit_code == 0
    before = path.read_bytes()
    result = cli("embed", "export", path, "--format", "glove", "-o", path)
    assert result.exit_code == 2 and "is the input" in result.stderr
    assert path.read_bytes() == before


def test_most_similar_with_positive_and_negative_equals_gensim():
    from gensim.models import KeyedVectors

    path = gensim_data("euclidean_vectors.bin")
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    vecs = load_vectors(path)
    cases = [(["king", "woman"], ["man"]), (["police", "the"], []), (["man"], ["woman", "the"])]
    for positive, negative in cases:
        for cosmul in (False, True):
            ours = queries.most_similar(vecs, positive, negative, cosmul=cosmul, top_n=5)
            query = kv.most_similar_cosmul if cosmul else kv.most_similar
            theirs = query(positive=positive, negative=negative, topn=5)
            assert [m.word for m in ours] == [w for w, _ in theirs], (positive, negative, cosmul)
            assert np.allclose([m.score for m in ours], [s for _, s in theirs], atol=1e-6)


def test_embed_neighbors_positive_negative_through_the_cli(cli):
    from seqtool.vectors import api

    path = gensim_data("euclidean_vectors.bin")
    out = cli("embed", "neighbors", path, "-p", "king", "--positive", "woman", "--negative", "man", "--top", "3")
    assert out.exit_code == 0, out.stderr
    expected = api.most_similar(path, ["king", "woman"], ["man"], top=3)
    assert [line.split("\t")[:2] for line in out.stdout.splitlines()] == [["king+woman-man", m.word] for m in expected]
    mul = cli("embed", "neighbors", path, "king", "--negative", "man", "--cosmul", "--json")
    assert mul.exit_code == 0 and '"method": "cosmul"' in mul.stdout
    assert cli("embed", "neighbors", path, "--negative", "man").exit_code == 2
    assert cli("embed", "neighbors", path).exit_code == 2
