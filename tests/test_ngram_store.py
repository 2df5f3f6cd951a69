"""Stored n-gram models: memory-mapped tables, hash tables saved with the model, and the
streamed ARPA export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.store import ModelStore
from seqtool.ngram import arpa, read_arpa, train_ngram, write_arpa
from seqtool.ngram.lookup import HashIndex, search_sorted
from seqtool.ngram.store import TENSORS_FILE, load_ngram, publish

SHAKESPEARE = Path(__file__).resolve().parent.parent / "corpora" / "tinyshakespeare.txt"


@pytest.fixture(scope="module")
def lines():
    with open(SHAKESPEARE, encoding="utf-8") as fh:
        return [line for _, line in zip(range(700), fh)]


def mapped(a: np.ndarray) -> bool:
    """Whether `a` is a view into a memory-mapped file (through any chain of views)."""
    while a is not None:
        if isinstance(a, np.memmap):
            return True
        a = getattr(a, "base", None)
    return False


def stored(model, name="m"):
    store = ModelStore()
    with store.lock(name):
        publish(model, name, training={}, store=store)
    return store.open(name, kinds=("ngram",)).path


def test_stored_model_is_memory_mapped_and_scores_the_same(lines):
    model = train_ngram(lines[:500], order=4)
    stored(model)
    back = load_ngram("m")
    for k in range(2, 5):
        assert mapped(back.keys[k]) and not back.keys[k].flags.writeable
        assert mapped(back.logp[k])
    assert sorted(back._stored_hash) == [2, 3, 4] and back._hash == {}
    # one short sentence is looked up through the stored table: nothing is built or copied
    assert back.sentence_log10(["the", "king"]) == model.sentence_log10(["the", "king"])
    assert mapped(back._hash[2].rows)
    test = lines[500:]
    assert back.score(test).log10_prob == model.score(test).log10_prob
    assert all(mapped(back._hash[k].rows) for k in (2, 3, 4))


def test_a_corrupted_hash_table_is_rebuilt_not_trusted(lines):
    model = train_ngram(lines[:300], order=3)
    path = stored(model) / TENSORS_FILE
    raw = bytearray(path.read_bytes())
    (n,) = np.frombuffer(bytes(raw[:8]), "<u8")
    header = json.loads(bytes(raw[8:8 + int(n)]))
    begin, end = header["hash.2"]["data_offsets"]
    at = 8 + int(n) + begin
    raw[at:at + 16] = np.array([2**30] * 4, "<i4").tobytes()  # rows far past the table's keys
    path.write_bytes(bytes(raw))
    back = load_ngram("m")
    test = lines[300:400]
    assert back.score(test).log10_prob == model.score(test).log10_prob
    index = back._hash.get(2)  # refused: binary search, or a table built afresh
    assert 2 not in back._stored_hash and (index is None or not mapped(index.rows))
    assert mapped(back._hash[3].rows)


def test_old_models_without_hash_tables_still_load(lines, monkeypatch):
    from seqtool.ngram import store as ngram_store

    model = train_ngram(lines[:300], order=3)
    plain = ngram_store.model_tensors

    def without_hashes(m):
        return {k: v for k, v in plain(m).items() if not k.startswith("hash.")}

    with monkeypatch.context() as patch:
        patch.setattr(ngram_store, "model_tensors", without_hashes)
        stored(model)
    back = load_ngram("m")
    assert back._stored_hash == {}
    assert back.score(lines[300:]).log10_prob == model.score(lines[300:]).log10_prob


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**40), max_size=300, unique=True), st.lists(st.integers(0, 2**40), max_size=200))
def test_hash_lookup_equals_binary_search(keys, probes):
    keys = np.array(sorted(keys), dtype=np.int64)
    q = np.array(probes + keys[::3].tolist(), dtype=np.int64)
    index = HashIndex(keys)
    assert np.array_equal(index.find(q), search_sorted(keys, q))
    again = HashIndex.stored(keys, index.rows.copy())
    if keys.size:
        assert np.array_equal(again.find(q), search_sorted(keys, q))


def test_arpa_export_streams_in_chunks(lines, monkeypatch, tmp_path):
    model = train_ngram(lines[:300] + ["the <unk> of <s> x"], order=4)
    whole = io.BytesIO()
    arpa.write_arpa_stream(model, whole)
    monkeypatch.setattr(arpa, "ARPA_CHUNK", 7)
    chunked = io.BytesIO()
    arpa.write_arpa_stream(model, chunked)
    assert chunked.getvalue() == whole.getvalue()
    text = whole.getvalue().decode()
    assert text.count("\n") > sum(model.sizes()) and "\t<unk>\t" in text and "<s_>" in text
    write_arpa(model, tmp_path / "m.arpa.gz")
    back = read_arpa(tmp_path / "m.arpa.gz")
    assert back.words == model.words and back.score(lines[300:]).log10_prob == model.score(lines[300:]).log10_prob


def test_big_orders_are_saved_without_their_hash_table(lines, monkeypatch):
    from seqtool.ngram import store as ngram_store

    model = train_ngram(lines[:300], order=3)
    small, big = sorted((2, 3), key=lambda k: model.keys[k].size)
    assert model.keys[small].size < model.keys[big].size
    monkeypatch.setattr(ngram_store, "STORED_HASH_MAX_KEYS", model.keys[small].size)
    path = stored(model) / TENSORS_FILE
    (n,) = np.frombuffer(path.read_bytes()[:8], "<u8")
    names = set(json.loads(path.read_bytes()[8:8 + int(n)]))
    assert f"hash.{small}" in names and f"hash.{big}" not in names
    back = load_ngram("m")
    assert back.score(lines[300:]).log10_prob == model.score(lines[300:]).log10_prob
