"""--embeddings with fastText vectors (issue 20): a vocabulary word the vectors lack gets its
character n-grams' vector -- gensim's FastText.wv[word] -- not a random row, in train-lm and
classify train, and the coverage message counts those words."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqtool.core.vocab import Vocab
from seqtool.vectors import Vectors, load_vectors
from seqtool.vectors.embedding import Coverage, fill_embedding, init_embedding
from seqtool.vectors.subwords import Subwords

fasttext = pytest.importorskip("gensim.models.fasttext")

FT_ARGS = ("--algo", "fasttext", "--dim", "12", "--epochs", "2", "--workers", "1", "--seed", "3",
           "--min-count", "2", "--min-n", "2", "--max-n", "4", "--bucket", "5000")
# once each in the corpus: below --min-count 2, so not among the vectors' words; in an LM's vocabulary
RARE = ["walk99ing", "talkative", "größe", "wal"]


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    stems = [f"walk{i}" for i in range(10)] + [f"talk{i}" for i in range(10)]
    words = [s + end for s in stems for end in ("", "ing", "ed")]
    # first: train-lm holds the corpus's tail out for validation
    lines = [" ".join(RARE)] + [" ".join(rng.choice(words, 10)) for _ in range(300)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ft(cli, corpus):
    """fastText vectors trained by `embed train`, and gensim's model of the same settings (equal to them:
    tests/test_embed_subwords.py)."""
    from gensim.models.word2vec import LineSentence

    result = cli("embed", "train", corpus, "--name", "ft", *FT_ARGS)
    assert result.exit_code == 0, result.stderr
    ref = fasttext.FastText(LineSentence(str(corpus)), vector_size=12, epochs=2, workers=1, seed=3,
                            min_count=2, min_n=2, max_n=4, bucket=5000).wv
    vecs = load_vectors("ft")
    assert vecs.words == ref.index_to_key and not any(w in ref.key_to_index for w in RARE)
    return vecs, ref


def test_missing_words_get_gensims_subword_vector(ft):
    vecs, ref = ft
    vocab = Vocab.build({w: 5 for w in ["walk1", "talk2ed", *RARE]})
    weight = torch.full((len(vocab), 12), 7.0)
    coverage = fill_embedding(weight, vocab, vecs)
    assert coverage == Coverage(words=6, found=2, subwords=4)
    for word in ["walk1", "talk2ed", *RARE]:
        np.testing.assert_allclose(weight[vocab.id(word)].numpy(), ref[word], rtol=1e-6, atol=1e-7)
    assert weight[0].tolist() == [7.0] * 12  # specials keep their initialisation
    assert init_embedding(torch.zeros(len(vocab), 12), vocab, vecs) == 1.0


def test_a_word_without_ngrams_keeps_its_row_and_plain_vectors_have_no_subwords():
    ngrams = np.arange(20, dtype=np.float32).reshape(5, 4)
    vecs = Vectors(["cat"], np.ones((1, 4), np.float32), subwords=Subwords(ngrams, min_n=5, max_n=5))
    vocab = Vocab.build({"cat": 3, "dog": 2, "a": 1})  # "<a>" is 3 characters: no 5-gram
    weight = torch.zeros(len(vocab), 4)
    assert fill_embedding(weight, vocab, vecs) == Coverage(3, 1, 1)
    assert weight[vocab.id("a")].tolist() == [0.0] * 4
    assert weight[vocab.id("dog")].tolist() == Subwords(ngrams, min_n=5, max_n=5).vector("dog").tolist()
    plain = Vectors(["cat"], np.ones((1, 4), np.float32))
    assert fill_embedding(torch.zeros(len(vocab), 4), vocab, plain) == Coverage(3, 1, 0)


def test_the_coverage_message_counts_the_subword_words():
    assert Coverage(200, 150, 40).describe("ft") == \
        "75.0% of the 200 vocabulary words found in ft, 20.0% (40) more from their character n-grams"
    assert Coverage(4, 1, 0).describe("v.txt") == "25.0% of the 4 vocabulary words found in v.txt"
    assert Coverage(0, 0, 0).share == 0.0


def test_train_lm_embeddings_take_the_subword_vectors(cli, corpus, ft):
    from seqtool.core.tensors import load_tensors
    from seqtool.lm.store import open_lm

    vecs, ref = ft
    result = cli("train-lm", corpus, "--embeddings", "ft", "--freeze", "--hidden", "8", "--layers", "1",
                 "--epochs", "1", "--bptt", "5", "--batch-size", "4", "--device", "cpu", "--seed", "1",
                 "--name", "lm-ft")
    assert result.exit_code == 0, result.stderr
    stored = open_lm("lm-ft")
    words = len(stored.vocab) - len(stored.vocab.specials)
    assert f"--embeddings: {(words - 4) / words:.1%} of the {words} vocabulary words found in ft, " \
           f"{4 / words:.1%} (4) more from their character n-grams (frozen)" in result.stderr
    embed = load_tensors(stored.weights_path)["embed.weight"].numpy()  # frozen: the rows as filled
    for word in ["walk3ing", *RARE]:
        np.testing.assert_allclose(embed[stored.vocab.id(word)], ref[word], rtol=1e-6, atol=1e-7)


def test_classify_embeddings_take_the_subword_vectors(cli, corpus, ft, tmp_path):
    from seqtool.classify.store import load

    vecs, ref = ft
    lines = corpus.read_text(encoding="utf-8").splitlines()
    data = tmp_path / "labelled.tsv"
    data.write_text("".join(f"{'ab'[i % 2]}\t{line}\n" for i, line in enumerate(lines)), encoding="utf-8")
    result = cli("classify", "train", data, "--format", "tsv", "--embeddings", "ft", "--freeze", "--epochs", "1",
                 "--hidden", "8", "--device", "cpu", "--seed", "1", "--name", "clf-ft")
    assert result.exit_code == 0, result.stderr
    assert "(4) more from their character n-grams" in result.stderr
    clf = load("clf-ft")
    vocab = clf.featurizer.vocab
    for net in clf.model.members[:2]:  # the default ensemble: the rnn and the cnn start from the vectors (linear has none)
        weight = net.embedding.weight.detach().numpy()
        for word in ["talk7", *RARE]:
            assert word in vocab
            np.testing.assert_allclose(weight[vocab.id(word)], ref[word], rtol=1e-6, atol=1e-7)
