"""fastText subwords (the n-gram buckets, unknown words' vectors equal to gensim's) and
embed train's gensim options (they reach gensim: the model equals gensim's)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import ModelError
from seqtool.core.store import ModelStore
from seqtool.vectors import load_vectors
from seqtool.vectors.subwords import ft_hash, ngram_hashes, ngrams_bytes

fasttext = pytest.importorskip("gensim.models.fasttext")
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_hash_equals_gensims_ft_hash_bytes(data):
    assert ft_hash(data) == ft_hash_bytes(data)


def test_hash_known_values():
    assert ft_hash(b"") == 2166136261  # the FNV offset basis
    # A byte >= 0x80 is sign-extended first (fastText reads a signed char): not plain FNV-1a.
    plain = ((2166136261 ^ 0xE9) * 16777619) & 0xFFFFFFFF
    assert ft_hash(b"\xe9") == ((2166136261 ^ 0xFFFFFFE9) * 16777619) & 0xFFFFFFFF != plain


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.integers(1, 4), st.integers(0, 4), st.sampled_from([1, 7, 2_000_000]))
def test_ngrams_and_buckets_equal_gensims(word, min_n, extra, bucket):
    max_n = min_n + extra
    assert ngrams_bytes(word, min_n, max_n) == compute_ngrams_bytes(word, min_n, max_n)
    assert ngram_hashes(word, min_n, max_n, bucket) == fasttext.ft_ngram_hashes(word, min_n, max_n, bucket)


def test_ngrams_known_answer():
    assert ngrams_bytes("ab", 1, 2) == [b"<a", b"a", b"ab", b"b", b"b>"]  # the lone < and > are not n-grams
    assert ngrams_bytes("é", 2, 2) == ["<é".encode(), "é>".encode()]  # characters, not bytes


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    stems = [f"walk{i}" for i in range(20)] + [f"talk{i}" for i in range(20)]
    words = [s + end for s in stems for end in ("", "ing", "ed")]
    lines = [" ".join(rng.choice(words[:60] if k % 2 else words[60:], 12)) for k in range(500)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


FT_ARGS = ("--algo", "fasttext", "--dim", "12", "--epochs", "2", "--workers", "1", "--seed", "3",
           "--min-count", "2", "--min-n", "2", "--max-n", "4", "--bucket", "5000")


def _gensim_fasttext(corpus, **extra):
    from gensim.models.word2vec import LineSentence

    return fasttext.FastText(LineSentence(str(corpus)), vector_size=12, epochs=2, workers=1, seed=3,
                             min_count=2, min_n=2, max_n=4, bucket=5000, **extra)


OOV = ["walk99ing", "talked", "xyz", "größe", "walk1ed!"]


def test_fasttext_unknown_words_equal_gensims_wv(cli, corpus):
    result = cli("embed", "train", corpus, "--name", "ft", *FT_ARGS)
    assert result.exit_code == 0, result.stderr
    ref = _gensim_fasttext(corpus).wv
    vecs = load_vectors("ft")
    assert vecs.words == ref.index_to_key and np.array_equal(vecs.matrix, ref.vectors)
    sub = vecs.subwords
    assert (sub.min_n, sub.max_n, sub.bucket) == (2, 4, 5000)
    assert isinstance(sub.ngrams, np.memmap) and np.array_equal(sub.ngrams, ref.vectors_ngrams)
    for word in OOV:
        assert word not in ref.key_to_index
        assert np.allclose(sub.vector(word), ref[word], atol=1e-5, rtol=0)
    assert cli("embed", "info", "ft").stdout.startswith("words=120\tdim=12\tngrams=2-4\tbuckets=5000\tfirst=")
    config = ModelStore().open("ft", ("vectors",)).config
    assert config["subwords"] == {"min_n": 2, "max_n": 4, "bucket": 5000, "hash": "fasttext-fnv1a-int8"}
    assert config["config"]["min_n"] == 2 and config["config"]["bucket"] == 5000


def test_fasttext_queries_on_unknown_words_equal_gensim(cli, corpus):
    assert cli("embed", "train", corpus, "--name", "ft", *FT_ARGS).exit_code == 0
    ref = _gensim_fasttext(corpus).wv
    out = cli("embed", "similarity", "ft", "walk99ing", "walk3").stdout.split("\t")
    assert float(out[2]) == pytest.approx(float(ref.similarity("walk99ing", "walk3")), abs=1e-5)
    got = [json.loads(line) for line in cli("embed", "neighbors", "ft", "talked", "walk1", "--top", "5",
                                            "--json").stdout.splitlines()]
    for record in got:
        expected = ref.most_similar(record["word"], topn=5)
        assert [n["word"] for n in record["neighbors"]] == [w for w, _ in expected]
        assert [n["score"] for n in record["neighbors"]] == pytest.approx([s for _, s in expected], abs=1e-5)
    combined = cli("embed", "neighbors", "ft", "-p", "walk99ing", "--negative", "talked", "--top", "4").stdout
    expected = ref.most_similar(positive=["walk99ing"], negative=["talked"], topn=4)
    assert [line.split("\t")[1] for line in combined.splitlines()] == [w for w, _ in expected]
    odd = cli("embed", "doesnt-match", "ft", "walk1", "walk2ing", "walk77", "talk3").stdout.strip()
    assert odd == ref.doesnt_match(["walk1", "walk2ing", "walk77", "talk3"])


def test_word2vec_vectors_have_no_subwords(cli, corpus):
    assert cli("embed", "train", corpus, "--name", "w", "--dim", "8", "--epochs", "1", "--min-count", "2").exit_code == 0
    vecs = load_vectors("w")
    assert vecs.subwords is None
    result = cli("embed", "similarity", "w", "walk99ing", "walk3")
    assert result.exit_code == 1 and "unknown word 'walk99ing'" in result.stderr
    assert not (ModelStore().open("w", ("vectors",)).path / "ngrams.npy").exists()


def test_damaged_ngrams_are_one_clear_error(cli, corpus):
    assert cli("embed", "train", corpus, "--name", "ft", *FT_ARGS).exit_code == 0
    path = ModelStore().open("ft", ("vectors",)).path / "ngrams.npy"
    np.save(path, np.zeros((10, 12), dtype=np.float32))
    with pytest.raises(ModelError, match="ngrams.npy and config.json do not agree"):
        load_vectors("ft")
    path.unlink()
    result = cli("embed", "neighbors", "ft", "walk1")
    assert result.exit_code == 1 and "ngrams.npy is missing" in result.stderr


def test_limit_keeps_the_subwords(cli, corpus):
    assert cli("embed", "train", corpus, "--name", "ft", *FT_ARGS).exit_code == 0
    head = load_vectors("ft", limit=10)
    assert len(head) == 10 and head.subwords is not None


# ---------------------------------------------------------------- gensim's training options
def test_gensim_options_reach_gensim(cli, corpus):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    args = ("--dim", "10", "--epochs", "2", "--workers", "1", "--seed", "5", "--min-count", "2", "--sg",
            "--negative", "0", "--hs", "--sample", "1e-4", "--alpha", "0.05", "--min-alpha", "0.001", "--window", "3")
    result = cli("embed", "train", corpus, "--name", "opts", *args)
    assert result.exit_code == 0, result.stderr
    ref = Word2Vec(LineSentence(str(corpus)), vector_size=10, epochs=2, workers=1, seed=5, min_count=2, sg=1,
                   negative=0, hs=1, sample=1e-4, alpha=0.05, min_alpha=0.001, window=3)
    vecs = load_vectors("opts")
    assert vecs.words == ref.wv.index_to_key and np.array_equal(vecs.matrix, ref.wv.vectors)
    default = Word2Vec(LineSentence(str(corpus)), vector_size=10, epochs=2, workers=1, seed=5, min_count=2, sg=1,
                       window=3)
    assert not np.allclose(vecs.matrix, default.wv.vectors)  # the options changed the model
    stored = ModelStore().open("opts", ("vectors",)).config["config"]
    assert (stored["negative"], stored["hs"], stored["sample"], stored["alpha"], stored["min_alpha"]) == \
        (0, True, 1e-4, 0.05, 0.001)
    assert "bucket" not in stored  # fastText's options are not recorded for word2vec


def test_fasttext_options_reach_gensim(cli, corpus):
    args = (*FT_ARGS, "--negative", "3", "--alpha", "0.04", "--sg")
    assert cli("embed", "train", corpus, "--name", "ft2", *args).exit_code == 0
    ref = _gensim_fasttext(corpus, negative=3, alpha=0.04, sg=1).wv
    vecs = load_vectors("ft2")
    assert np.array_equal(vecs.matrix, ref.vectors) and np.array_equal(vecs.subwords.ngrams, ref.vectors_ngrams)


def test_glove_alpha_is_the_weighting_exponent(cli, corpus):
    from seqtool.vectors.options import TrainConfig

    assert TrainConfig(algo="glove").glove_alpha == 0.75 and TrainConfig().learning_rate == 0.025
    assert cli("embed", "train", corpus, "--algo", "glove", "--dim", "4", "--epochs", "2", "--alpha", "0.5",
               "--name", "g").exit_code == 0
    assert ModelStore().open("g", ("vectors",)).config["config"]["alpha"] == 0.5


@pytest.mark.parametrize("args, message", [
    (("--negative", "0"), "--negative 0 leaves nothing to train: give --hs"),
    (("--algo", "fasttext", "--min-n", "5", "--max-n", "3"), "--max-n must be at least --min-n"),
    (("--alpha", "0"), "--alpha must be above 0"),
    (("--sample", "-1"), "--sample must be at least 0"),
    (("--bucket", "0", "--algo", "fasttext"), "--bucket must be at least 1"),
])
def test_bad_options_are_refused_before_training(cli, corpus, args, message):
    result = cli("embed", "train", corpus, "--name", "bad", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not ModelStore().exists("bad")


def test_every_train_option_is_derived_from_trainconfig(cli):
    # issue 16: the flags and defaults in --help come from the dataclass fields, not from a copy
    import re
    from dataclasses import MISSING, fields

    from seqtool.cli.embed import train
    from seqtool.vectors.options import TrainConfig

    text = re.sub(r"[\s│╭╮╰╯─]+", " ", cli("embed", "train", "--help").stdout)
    cli_fields = [f for f in fields(TrainConfig) if f.metadata.get("cli", True)]
    assert set(train.option_names) == {f.name for f in cli_fields}
    for f in cli_fields:
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        assert flag.split("/")[0] in text
        if f.default is not MISSING and f.default is not None and not isinstance(f.default, bool):
            assert f"[default: {f.default}]" in text, f.name


def test_doc2vec_gets_the_gensim_options(cli, corpus):
    from seqtool.vectors import doc2vec

    result = cli("embed", "train", corpus, "--algo", "doc2vec", "--dim", "8", "--epochs", "1", "--workers", "1",
                 "--negative", "0", "--hs", "--sample", "0", "--alpha", "0.05", "--min-alpha", "0.01", "--name", "d")
    assert result.exit_code == 0, result.stderr
    config = doc2vec.load_model("d").config
    assert (config.negative, config.hs, config.sample, config.alpha, config.min_alpha) == (0, True, 0.0, 0.05, 0.01)
    bad = cli("embed", "train", corpus, "--algo", "doc2vec", "--sample", "-1", "--name", "d2")
    assert bad.exit_code == 2 and "--sample must be at least 0" in bad.stderr


def test_options_the_algorithm_ignores_are_named(cli, corpus):
    result = cli("embed", "train", corpus, "--algo", "glove", "--dim", "4", "--epochs", "1", "--bucket", "10",
                 "--negative", "3", "--name", "g")
    assert result.exit_code == 0
    assert "warning: --algo glove does not use --bucket, --negative; ignored" in result.stderr
    quiet = cli("embed", "train", corpus, "--algo", "glove", "--dim", "4", "--epochs", "1", "--x-max", "10",
                "--name", "g")
    assert "ignored" not in quiet.stderr


# ---------------------------------------------------------------- fastText .bin models
def test_import_of_a_fasttext_bin_keeps_its_ngrams(cli, corpus, tmp_path):
    from gensim.models.fasttext import load_facebook_model, save_facebook_model

    model = _gensim_fasttext(corpus)
    path = tmp_path / "model.bin"
    save_facebook_model(model, str(path))
    result = cli("embed", "import", path, "--name", "fb")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("fb\tfasttext-bin\twords=120\tdim=12")
    vecs, ref = load_vectors("fb"), load_facebook_model(str(path)).wv
    assert vecs.words == ref.index_to_key
    assert np.allclose(vecs.matrix, ref.vectors, atol=1e-6, rtol=0)
    assert vecs.subwords.bucket == 5000 and (vecs.subwords.min_n, vecs.subwords.max_n) == (2, 4)
    for word in OOV:
        assert np.allclose(vecs.subwords.vector(word), model.wv[word], atol=1e-5, rtol=0)
    near = cli("embed", "neighbors", "fb", "talked", "--top", "3").stdout.splitlines()
    assert [line.split("\t")[1] for line in near] == [w for w, _ in ref.most_similar("talked", topn=3)]
    assert len(load_vectors(str(path), limit=7)) == 7  # a .bin is also read directly, --limit applies


def test_fasttext_bin_equals_the_fasttext_module(tmp_path, corpus):
    fasttext_module = pytest.importorskip("fasttext")
    from seqtool.vectors.formats import read_vectors

    model = fasttext_module.train_unsupervised(str(corpus), model="skipgram", dim=8, epoch=1, minCount=2,
                                               bucket=2000, minn=2, maxn=5, thread=1, verbose=0)
    path = tmp_path / "ft.bin"
    model.save_model(str(path))
    vecs = read_vectors(str(path))
    assert vecs.words == model.words  # '</s>' included: fastText gives it no n-grams
    for word in [*vecs.words[:10], *OOV]:
        ours = vecs.get(word) if word in vecs else vecs.subwords.vector(word)
        assert np.allclose(ours, model.get_word_vector(word), atol=1e-6, rtol=0), word


def test_damaged_fasttext_bin_is_one_clear_error(cli, corpus, tmp_path):
    from gensim.models.fasttext import save_facebook_model

    path = tmp_path / "model.bin"
    save_facebook_model(_gensim_fasttext(corpus), str(path))
    data = path.read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[:4000])
    result = cli("embed", "import", cut, "--name", "x")
    assert result.exit_code == 1 and "cut.bin: malformed fastText model (input matrix" in result.stderr
    other = tmp_path / "v12.bin"
    other.write_bytes(data[:4] + (99).to_bytes(4, "little") + data[8:])
    result = cli("embed", "import", other, "--name", "x")
    assert result.exit_code == 1 and "fastText model version 99" in result.stderr
    assert not ModelStore().exists("x")
