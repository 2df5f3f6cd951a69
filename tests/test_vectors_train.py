"""Training: GloVe co-occurrence counts and loss, word2vec equal to gensim, the CLI."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from seqtool.vectors import load_vectors
from seqtool.vectors import glove
from seqtool.vectors.glove import GloveConfig, count_cooccurrences, train_glove

SENTENCES = [[0, 1, 2, 0, 3], [2, 2, 1], [4], [3, 0, 1, 4, 2, 0, 0, 1], [1, 3]]


def _brute_force(sentences, window):
    counts = defaultdict(float)
    for sent in sentences:
        for a in range(len(sent)):
            for b in range(a + 1, min(len(sent), a + window + 1)):
                counts[sent[a], sent[b]] += 1.0 / (b - a)
                counts[sent[b], sent[a]] += 1.0 / (b - a)
    return counts


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_cooccurrence_counts_match_brute_force(window, monkeypatch):
    monkeypatch.setattr(glove, "PAIR_BLOCK", 5)  # force many partial merges
    arrays = [np.array(s, dtype=np.int32) for s in SENTENCES]
    cooc = count_cooccurrences(iter(arrays), 5, window, block_tokens=4)
    expected = _brute_force(SENTENCES, window)
    got = {(int(r), int(c)): float(v) for r, c, v in zip(cooc.rows, cooc.cols, cooc.values)}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12)
    dense = cooc.to_dense()
    assert np.allclose(dense, dense.T)
    assert list(zip(cooc.rows, cooc.cols)) == sorted(zip(cooc.rows, cooc.cols))


def test_cooccurrence_on_random_corpus_matches_brute_force():
    rng = np.random.default_rng(3)
    sentences = [list(rng.integers(0, 30, rng.integers(0, 40))) for _ in range(60)]
    cooc = count_cooccurrences((np.array(s, dtype=np.int32) for s in sentences), 30, 4, block_tokens=100)
    dense = np.zeros((30, 30))
    for (a, b), v in _brute_force(sentences, 4).items():
        dense[a, b] = v
    assert np.allclose(cooc.to_dense(), dense)


def _toy_cooccurrences():
    rng = np.random.default_rng(0)
    # Two topics of 20 words each: words co-occur within their topic only.
    sentences = [rng.integers(0, 20, 12) + 20 * (k % 2) for k in range(400)]
    return count_cooccurrences((s.astype(np.int32) for s in sentences), 40, 5)


def test_glove_loss_decreases_and_learns_structure():
    cooc = _toy_cooccurrences()
    vectors, losses = train_glove(cooc, GloveConfig(dim=8, epochs=6, batch_size=256, seed=1))
    assert vectors.shape == (40, 8) and vectors.dtype == np.float32
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 0.01 * losses[0]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    same = sims[:20, :20][~np.eye(20, dtype=bool)].mean()
    other = sims[:20, 20:].mean()
    assert same > other + 0.3
    again, losses2 = train_glove(cooc, GloveConfig(dim=8, epochs=6, batch_size=256, seed=1))
    assert losses2 == losses and np.array_equal(again, vectors)


def test_glove_objective_is_the_weighted_least_squares():
    cooc = _toy_cooccurrences()
    # With lr 0 nothing moves: the first "loss" is J at the initial point, which we recompute.
    import torch

    cfg = GloveConfig(dim=4, epochs=1, lr=0.0, batch_size=10**6, seed=5)
    _, (loss,) = train_glove(cooc, cfg)
    gen = torch.Generator().manual_seed(5)  # the initialisation draws first, in this order

    def init(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float32) - 0.5) / 4

    w, b = init(40, 4), init(40, 1)
    wc, bc = init(40, 4), init(40, 1)
    x = cooc.values
    f = np.minimum(1.0, (x / 100.0) ** 0.75)
    pred = (w.numpy()[cooc.rows] * wc.numpy()[cooc.cols]).sum(1) + b.numpy()[cooc.rows, 0] + bc.numpy()[cooc.cols, 0]
    expected = 0.5 * float((f * (pred - np.log(x)) ** 2).sum())
    assert loss == pytest.approx(expected, rel=1e-4)


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    path = tmp_path / "corpus.txt"
    lines = [" ".join(rng.choice(words[:30] if k % 2 else words[30:], 10)) for k in range(600)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_word2vec_equals_gensim_and_is_reproducible(cli, corpus):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    args = ("--dim", "16", "--epochs", "2", "--workers", "1", "--seed", "7", "--min-count", "2")
    result = cli("embed", "train", corpus, "--name", "a", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("a\tword2vec\twords=60\tdim=16\tseconds=")
    cli("embed", "train", corpus, "--name", "b", *args)
    a, b = load_vectors("a"), load_vectors("b")
    assert a.words == b.words and np.array_equal(a.matrix, b.matrix)
    ref = Word2Vec(LineSentence(str(corpus)), vector_size=16, epochs=2, workers=1, seed=7, min_count=2)
    assert a.words == ref.wv.index_to_key and np.array_equal(a.matrix, ref.wv.vectors)


def test_glove_and_fasttext_from_the_cli(cli, corpus):
    result = cli("embed", "train", corpus, "--algo", "glove", "--dim", "8", "--epochs", "5",
                 "--window", "3", "--name", "g", "--json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["words"] == 60 and record["dim"] == 8 and len(record["loss_per_epoch"]) == 5
    assert record["loss_per_epoch"][-1] < record["loss_per_epoch"][0]
    from seqtool.core.store import ModelStore

    info = ModelStore().open("g", ("vectors",))
    assert info.config["config"]["algo"] == "glove" and info.config["training"]["corpus"][0]["sha256"]
    near = cli("embed", "neighbors", "g", "w1", "--top", "5").stdout.splitlines()
    assert sum(int(line.split("\t")[1][1:]) < 30 for line in near) >= 4  # same topic
    result = cli("embed", "train", corpus, "--algo", "fasttext", "--dim", "8", "--epochs", "1",
                 "--name", "ft", "--sg", "--bucket", "5000")
    assert result.exit_code == 0, result.stderr
    assert load_vectors("ft").dim == 8


def test_train_errors(cli, corpus, tmp_path):
    result = cli("embed", "train", corpus, "--algo", "bert")
    assert result.exit_code == 2 and "--algo must be one of" in result.stderr
    result = cli("embed", "train", corpus, "--min-count", "100000", "--algo", "glove")
    assert result.exit_code == 1 and "--min-count" in result.stderr
    result = cli("embed", "train", tmp_path / "missing.txt")
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_default_name_is_derived_from_the_input_and_printed(cli, corpus):
    # issue 18.7: no more 'word2vec100' for every corpus
    from seqtool.core.store import ModelStore

    result = cli("embed", "train", corpus, "--dim", "8", "--epochs", "1", "--workers", "1", "--min-count", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("corpus-word2vec8\tword2vec\t")
    assert "stored the vectors as 'corpus-word2vec8'" in result.stderr
    assert ModelStore().open("corpus-word2vec8", ("vectors",)).config["config"]["dim"] == 8
    glove = cli("embed", "train", corpus, "--algo", "glove", "--dim", "4", "--epochs", "1", "--min-count", "1",
                "--name", "g4")
    assert glove.exit_code == 0 and glove.stdout.startswith("g4\t") and "stored the vectors" not in glove.stderr


def test_bracketed_help_text_survives_rich_markup(cli):
    # issue 18.3: "[default: 5; GloVe: 25]" and "seqtool[plot]" were eaten as markup tags
    import re

    def flat(*args):
        text = cli(*args, "--help").stdout
        return re.sub(r"[\s│╭╮╰╯─]+", " ", text)

    assert "[default: (5; GloVe: 25; doc2vec: 10)]" in flat("embed", "train")
    assert "[default: (0.025; GloVe: 0.75)]" in flat("embed", "train")
    assert "seqtool[plot]" in flat("embed", "plot")
    assert "[default: 100 words or 500 chars" in flat("ngram", "generate")
