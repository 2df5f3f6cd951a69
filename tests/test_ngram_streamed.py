"""The estimate of a build beyond memory, streamed from its tables on disk (ngram/streamed.py):
the very model of the in-memory build (tables, model.safetensors bytes, ARPA, scores), what is
not streamed falls back and says so, the folder goes whatever ends the build."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.text import Tokenizer
from seqtool.ngram import NgramConfig, train_ngram
from seqtool.ngram import arpa, streamed
from seqtool.ngram.store import TENSORS_FILE, load_model_dir, model_tensors, save_model
from seqtool.ngram.train import build_model, count_corpus

from .test_ngram_external import zipf_corpus

TOK = Tokenizer("word")


def on_disk(lines, order, tmp_path, memory="1G"):
    """DiskCounts of `lines`, counted in sorted runs (several chunks) under tmp_path."""
    counts = count_corpus(lines, order, TOK, external=True, chunk_tokens=3000, memory=memory,
                          temp_dir=str(tmp_path), on_disk=True)
    assert counts.external and len(list(tmp_path.iterdir())) == 1
    return counts


def tensors_file(model, folder):
    folder.mkdir()
    save_model(model, folder)
    return (folder / TENSORS_FILE).read_bytes()


@pytest.mark.parametrize("smoothing", ["mkn", "kn", "wb"])
@pytest.mark.parametrize("order", [2, 3, 5])
def test_streamed_model_is_the_in_memory_model_byte_for_byte(smoothing, order, tmp_path, monkeypatch):
    # blocks of a few entries: most contexts are cut across blocks, some are longer than a block
    monkeypatch.setattr(streamed, "MIN_BLOCK", 5)
    monkeypatch.setattr(streamed, "BYTES_PER_BLOCK_ENTRY", 1 << 40)
    lines = zipf_corpus(1500, vocab=300, seed=order)
    config = NgramConfig(order=order, smoothing=smoothing)
    ref = build_model(count_corpus(lines, order, TOK), config, TOK)
    runs = tmp_path / "runs"
    runs.mkdir()
    with on_disk(lines, order, runs) as counts:
        got = build_model(counts, config, TOK)
        assert isinstance(got.keys[order], np.ndarray) and got.tensor_files
        streamed_bytes = tensors_file(got, tmp_path / "disk")
    assert list(runs.iterdir()) == []
    assert got.info == ref.info and got.words == ref.words
    for k in range(1, order + 1):
        np.testing.assert_array_equal(got.logp[k], ref.logp[k], err_msg=f"logp of order {k}")
        if k < order:
            np.testing.assert_array_equal(got.bow[k], ref.bow[k], err_msg=f"bow of order {k}")
        if k > 1:
            np.testing.assert_array_equal(got.keys[k], ref.keys[k], err_msg=f"keys of order {k}")
    # the saved file is safetensors' own serialisation of the same tensors, hash tables included
    assert streamed_bytes == tensors_file(ref, tmp_path / "mem")
    assert any(name.startswith("hash.") for name in model_tensors(ref))
    test = zipf_corpus(200, vocab=300, seed=9)
    assert got.score(test).log10_prob == ref.score(test).log10_prob  # scored after the folder went


def test_discount_fallback_warning_is_the_same(tmp_path):
    lines = ["a b", "a c", "b c"] * 3  # too few distinct counts for Kneser-Ney's discounts
    config = NgramConfig(order=3)
    said_mem, said_disk = [], []
    ref = build_model(count_corpus(lines, 3, TOK), config, TOK, warn=said_mem.append)
    with on_disk(lines, 3, tmp_path) as counts:
        got = build_model(counts, config, TOK, warn=said_disk.append)
        np.testing.assert_array_equal(got.logp[3], ref.logp[3])
    assert said_disk == said_mem and "fallback" in said_mem[0]


@pytest.mark.parametrize("overrides, why", [({"smoothing": "addk"}, "addk smoothing"),
                                            ({"prune": [0, 0, 1]}, "--prune"),
                                            ({"vocab_size": 50}, "--vocab-size")])
def test_what_is_not_streamed_is_read_back_and_said(overrides, why, tmp_path):
    lines = zipf_corpus(1500, vocab=300, seed=4)
    config = NgramConfig(order=3, **overrides)
    ref = build_model(count_corpus(lines, 3, TOK), config, TOK)
    said = []
    with on_disk(lines, 3, tmp_path) as counts:
        got = build_model(counts, config, TOK, info=said.append)
    assert len(said) == 1 and why in said[0] and "read back into memory" in said[0]
    assert got.tensor_files is None
    for k in range(1, 4):
        np.testing.assert_array_equal(got.logp[k], ref.logp[k])
    assert list(tmp_path.iterdir()) == []


def test_hash_tables_beyond_the_budget_are_left_out_and_said(tmp_path):
    lines = zipf_corpus(3000, vocab=2000, seed=5)
    ref = train_ngram(lines, NgramConfig(order=3))
    runs, folder = tmp_path / "runs", tmp_path / "model"
    runs.mkdir()
    folder.mkdir()
    said = []
    with on_disk(lines, 3, runs, memory="1M") as counts:
        save_model(build_model(counts, NgramConfig(order=3), TOK), folder, info=said.append)
    assert said and all("hash table" in line and "not stored" in line for line in said)
    left_out = {f"hash.{line.split()[1][0]}" for line in said}  # "order 3's hash table ..."
    raw = (folder / TENSORS_FILE).read_bytes()
    header = json.loads(raw[8: 8 + int.from_bytes(raw[:8], "little")])
    hashes = {name for name in model_tensors(ref) if name.startswith("hash.")}
    assert {name for name in header if name.startswith("hash.")} == hashes - left_out
    back = load_model_dir(folder, {"config": {"order": 3}}, "test")
    test = zipf_corpus(300, vocab=2000, seed=6)
    assert back.score(test).log10_prob == ref.score(test).log10_prob


def test_arpa_of_a_mapped_model_with_pages_released(tmp_path, monkeypatch):
    lines = zipf_corpus(1500, vocab=300, seed=7)
    ref = train_ngram(lines, NgramConfig(order=4))
    with on_disk(lines, 4, tmp_path) as counts:
        got = build_model(counts, NgramConfig(order=4), TOK)
    monkeypatch.setattr(arpa, "ARPA_CHUNK", 7)
    monkeypatch.setattr(arpa, "RELEASE_ROWS", 14)  # pages dropped every other chunk, read again
    released = []
    real = arpa.release_pages
    monkeypatch.setattr(arpa, "release_pages", lambda tables: released.append(1) or real(tables))
    a, b = io.BytesIO(), io.BytesIO()
    arpa.write_arpa_stream(ref, a)
    arpa.write_arpa_stream(got, b)
    assert a.getvalue() == b.getvalue() and len(released) > 10


def test_library_train_beyond_memory_streams_and_cleans_up(tmp_path):
    lines = zipf_corpus(3000, vocab=2000)
    a = train_ngram(lines, NgramConfig(order=3))
    b = train_ngram(lines, NgramConfig(order=3, memory="1M", temp_dir=str(tmp_path)))
    assert b.tensor_files and list(tmp_path.iterdir()) == []
    for k in range(1, 4):
        np.testing.assert_array_equal(a.logp[k], b.logp[k])


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError("disk full")])
def test_an_interrupted_estimate_removes_its_files(exc, tmp_path, monkeypatch):
    def broken(self, k, *a, **kw):
        assert any(self.counts.root.glob("logp.1"))  # files were written
        raise exc

    monkeypatch.setattr(streamed.StreamedEstimate, "_interpolate", broken)
    with pytest.raises(type(exc)):
        train_ngram(zipf_corpus(3000, vocab=2000), NgramConfig(order=3, memory="1M", temp_dir=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_the_streamed_build_holds_one_order_and_a_block_not_the_tables(tmp_path):
    """numpy's allocations (tracemalloc sees them) while estimating and saving from disk: the
    bound estimate_bytes gives plus the blocks' share of the budget and the copy buffer."""
    import tracemalloc

    from seqtool.ngram.external import estimate_bytes
    from seqtool.ngram.store import COPY_BYTES

    lines = zipf_corpus(20000, vocab=5000, seed=3)
    memory = 2 << 20
    runs, folder = tmp_path / "runs", tmp_path / "model"
    runs.mkdir()
    folder.mkdir()
    with count_corpus(lines, 5, TOK, external=True, memory=memory, temp_dir=str(runs), on_disk=True) as counts:
        sizes = counts.sizes()
        tracemalloc.start()
        try:
            save_model(build_model(counts, NgramConfig(order=5), TOK), folder)
            streamed_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    bound = estimate_bytes(sizes, streamed=True) + memory // streamed.BLOCK_SHARE + COPY_BYTES + (512 << 10)
    assert streamed_peak < bound < 24 * sum(sizes)  # below what the tables read back alone would take
    tracemalloc.start()
    try:
        counts = count_corpus(lines, 5, TOK)
        tracemalloc.reset_peak()
        build_model(counts, NgramConfig(order=5), TOK)
        in_memory_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert in_memory_peak > 5 * streamed_peak


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), max_size=9), min_size=1, max_size=60), st.integers(2, 5),
       st.sampled_from(["mkn", "kn", "wb"]))
def test_any_corpus_gives_the_same_model_streamed(sentences, order, smoothing):
    """Tiny and odd corpora too: empty top orders, one context, discounts that fall back."""
    import tempfile
    from pathlib import Path

    lines = [" ".join(f"t{i}" for i in s) for s in sentences]
    if not any(lines):
        return
    config = NgramConfig(order=order, smoothing=smoothing)
    ref = build_model(count_corpus(lines, order, TOK), config, TOK)
    with tempfile.TemporaryDirectory() as tmp:
        with on_disk(lines, order, Path(tmp)) as counts:
            got = build_model(counts, config, TOK)
        assert list(Path(tmp).iterdir()) == []
    assert got.info == ref.info
    for k in range(1, order + 1):
        np.testing.assert_array_equal(got.logp[k], ref.logp[k])
        if k < order:
            np.testing.assert_array_equal(got.bow[k], ref.bow[k])
        if k > 1:
            np.testing.assert_array_equal(got.keys[k], ref.keys[k])
