"""seqtool sample: decoding rules, determinism, streaming, n-gram dispatch, errors."""

import os
import subprocess
import sys
import time
import types

import numpy as np
import pytest
import torch

from seqtool.core.sampling import SamplingOptions, filter_probs
from seqtool.core.store import ModelStore
from seqtool.core.vocab import EOS, Vocab
from seqtool.lm.generate import detokenizer, open_generator, sample_text
from seqtool.lm.store import write_lm
from seqtool.lm.model import LMConfig, RNNLM

torch.set_num_threads(1)

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def make_lm(name, level="word", cell="gru", seed=0, scale=3.0):
    """A random (untrained) model in the store; `scale` sharpens its distributions."""
    torch.manual_seed(seed)
    tokens = WORDS if level == "word" else list("abcde \n")
    vocab = Vocab.build({t: 10 - i for i, t in enumerate(tokens)})
    config = LMConfig(vocab_size=len(vocab), cell=cell, emb=8, hidden=8, layers=1, dropout=0.0, tie=False)
    model = RNNLM(config)
    with torch.no_grad():
        model.decoder.weight.mul_(scale * 10)
    with ModelStore().writer(name, "lm") as draft:
        write_lm(draft, model.export_tensors(), config.to_dict(), vocab, level, training={}, metrics={})
    return model, vocab


def generate(name, n=30, prime=None, seed=0, **opts):
    gen = open_generator(name)
    return list(gen.tokens(gen.prime_ids(prime)[1], length=n, options=SamplingOptions(**opts),
                           rng=np.random.default_rng(seed)))


def test_tiny_temperature_equals_greedy():
    for seed in range(50):  # a random model whose greedy path is not one repeated token
        make_lm("m", seed=seed, scale=0.3)
        greedy = generate("m", greedy=True)
        if len(set(greedy)) > 2:
            break
    assert generate("m", temperature=0.0) == greedy
    assert generate("m", temperature=1e-5, seed=5) == greedy
    assert len(set(greedy)) > 2
    assert generate("m", temperature=1.0, seed=5) != greedy


def test_top_k_one_equals_greedy_and_top_p_tiny_too():
    make_lm("m")
    greedy = generate("m", greedy=True)
    assert generate("m", top_k=1, seed=7) == greedy
    assert generate("m", top_p=1e-9, seed=7) == greedy


def test_top_p_keeps_the_smallest_nucleus():
    p = np.array([0.05, 0.5, 0.15, 0.3])
    kept = filter_probs(p, SamplingOptions(top_p=0.8))
    assert np.flatnonzero(kept).tolist() == [1, 3]  # 0.5 + 0.3 reaches 0.8
    kept = filter_probs(p, SamplingOptions(top_p=0.81))
    assert np.flatnonzero(kept).tolist() == [1, 2, 3]
    assert kept.sum() == pytest.approx(1.0)


def test_sampling_follows_the_model_distribution():
    model, vocab = make_lm("m", scale=0.05)  # nearly flat: many different tokens
    drawn = generate("m", n=400, seed=1)
    assert len(set(drawn)) >= 6
    assert generate("m", n=400, seed=1) == drawn  # same seed, same text
    assert generate("m", n=400, seed=2) != drawn


def test_word_pieces_join_with_spaces_and_eos_is_a_newline():
    piece = detokenizer("word")
    assert "".join(piece(t) for t in ["a", "b", EOS, "c", EOS]) == "a b\nc\n"
    piece = detokenizer("char")
    assert "".join(piece(t) for t in "a b\n") == "a b\n"


def test_prime_is_echoed_and_continued():
    make_lm("m")
    gen = open_generator("m")
    text = "".join(sample_text(gen, prime="the cat", length=5, options=SamplingOptions(greedy=True),
                               rng=np.random.default_rng(0)))
    assert text.startswith("the cat")
    assert text.endswith("\n")


def test_cli_sample_is_deterministic_and_counts(cli):
    make_lm("m", scale=0.05)
    a = cli("sample", "--model", "m", "--length", "20", "--seed", "3", "--num", "2")
    b = cli("sample", "--model", "m", "--length", "20", "--seed", "3", "--num", "2")
    assert a.exit_code == 0 and a.stdout == b.stdout
    samples = a.stdout.split("\n\n")
    assert len(samples) == 2
    words = a.stdout.split()
    assert all(w in WORDS + ["<UNK>"] for w in words)


def test_cli_defaults_to_the_last_trained_model(cli):
    make_lm("first", level="char")
    make_lm("second", level="word")
    out = cli("sample", "--length", "10", "--seed", "1", "--greedy").stdout
    assert all(w in WORDS + ["<UNK>"] for w in out.split())


def test_cli_until_eos_gives_one_line_per_sample(cli):
    make_lm("m", scale=0.05)
    result = cli("sample", "--model", "m", "--until-eos", "--num", "4", "--length", "200", "--seed", "1")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 4


def test_cli_errors_and_warnings(cli):
    none = cli("sample")
    assert none.exit_code == 1 and "train one with: seqtool train-lm" in none.stderr
    make_lm("m")
    for args, text in [(["--temp", "-1"], "--temp must be >= 0"), (["--top-p", "0"], "--top-p must be in (0, 1]"),
                       (["--top-p", "1.5"], "--top-p"), (["--top-k", "0"], "--top-k must be at least 1"),
                       (["--num", "0"], "--num")]:
        result = cli("sample", "--model", "m", *args)
        assert result.exit_code == 2, args
        assert result.stderr.count("\n") == 1 and text in result.stderr
    unknown = cli("sample", "--model", "m", "--prime", "zebra quagga", "--length", "3", "--seed", "1")
    assert unknown.exit_code == 0
    assert "all of the prime not in the vocabulary" in unknown.stderr and "<UNK>" in unknown.stderr
    assert unknown.stdout.startswith("zebra quagga")
    wrong = cli("sample", "--model", "nope")
    assert wrong.exit_code == 1 and "not found" in wrong.stderr


def test_cli_streams_tokens_and_stops_quietly_when_the_reader_leaves(tmp_path):
    make_lm("stream", level="char", scale=0.05)
    env = dict(os.environ, PYTHONUNBUFFERED="0")
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "sample", "--model", "stream", "--length",
                             "2000000", "--seed", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.read(20)  # arrives long before the 2M tokens are done: streamed
    assert len(first) == 20 and proc.poll() is None
    proc.stdout.close()  # like `| head -c 20`
    try:
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    assert code == 0
    assert proc.stderr.read() == b""


def test_ngram_models_are_sampled_through_the_ngram_generate_path(cli, monkeypatch):
    # sample on an n-gram model goes through ngram.api.generate, the code `ngram generate` uses:
    # the model's tokenizer, sentences until --length tokens (each sentence end counts one).
    from seqtool.core.text import Tokenizer
    from seqtool.lm import generate as lm_generate

    calls = []

    class FakeNgram:
        level = "word"
        tokenizer = Tokenizer()

        def generate(self, prime, *, max_len, options, rng):
            calls.append((list(prime), max_len, options))
            yield from (["hello", "world"] if not prime else ["again"])[:max_len]

    monkeypatch.setattr(lm_generate, "load_ngram", lambda name: FakeNgram())
    with ModelStore().writer("tri", "ngram") as draft:
        draft.config["config"] = {"order": 3}
    result = cli("sample", "--prime", "say", "--length", "6", "--temp", "0.5", "--seed", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "say again\nhello world\nhello\n"
    assert calls[0][0] == ["say"] and calls[0][2].temperature == 0.5
    assert [c[1] for c in calls] == [6, 4, 1]  # the token budget left for each sentence
    result = cli("sample", "--model", "tri", "--until-eos", "--num", "2")
    assert result.stdout == "hello world\nhello world\n"
    calls.clear()
    cli("sample", "--model", "tri", "--until-eos")
    assert calls[0][1] == 100  # the one default length (ngram generate's too)


def test_fast_temperature_sampling_draws_the_tempered_distribution():
    from seqtool.lm.generate import pick

    logits = np.log(np.array([0.5, 0.3, 0.2], dtype=np.float32))
    rng = np.random.default_rng(0)
    draws = np.bincount([pick(logits, SamplingOptions(1.0), rng) for _ in range(8000)], minlength=3) / 8000
    np.testing.assert_allclose(draws, [0.5, 0.3, 0.2], atol=0.02)
    tempered = np.array([0.5, 0.3, 0.2]) ** 2
    tempered /= tempered.sum()
    draws = np.bincount([pick(logits, SamplingOptions(0.5), rng) for _ in range(8000)], minlength=3) / 8000
    np.testing.assert_allclose(draws, tempered, atol=0.02)
    k2 = np.bincount([pick(logits, SamplingOptions(1.0, top_k=2), rng) for _ in range(5000)], minlength=3)
    assert k2[2] == 0 and k2[0] > k2[1] > 0


def test_sampling_a_real_ngram_model(cli, tmp_path):
    pytest.importorskip("seqtool.ngram")
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the cat\n" * 20, encoding="utf-8")
    assert cli("ngram", "train", corpus, "-n", "2", "--name", "bi").exit_code == 0
    a = cli("sample", "--until-eos", "--num", "3", "--seed", "4")
    assert a.exit_code == 0, a.stderr
    assert a.stdout == cli("sample", "--model", "bi", "--until-eos", "--num", "3", "--seed", "4").stdout
    lines = a.stdout.splitlines()
    assert len(lines) == 3 and all(set(line.split()) <= {"the", "cat", "sat", "on", "mat", "dog"} for line in lines)
