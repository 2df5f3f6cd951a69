"""WordIndex (the compact word -> row map of large vocabularies) behaves like a dict."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from seqtool.vectors import Vectors
from seqtool.vectors.wordindex import WordIndex


@given(st.lists(st.text(max_size=6), max_size=60), st.lists(st.text(max_size=6), max_size=10))
def test_lookups_equal_a_first_occurrence_dict(words, probes):
    index, expected = WordIndex(words), {}
    for row, word in enumerate(words):
        expected.setdefault(word, row)
    for word in words + probes:
        assert index.get(word) == expected.get(word)
        assert (word in index) == (word in expected)
    assert len(index) == len(expected)
    assert list(index) == list(expected)


class Colliding(str):
    """Every instance hashes alike, so lookups must walk the run of equal hashes."""

    def __hash__(self) -> int:
        return 7


def test_hash_collisions_are_resolved_by_comparing_the_words():
    words = [Colliding(w) for w in ["a", "b", "c", "b"]]
    index = WordIndex(words)
    assert [index.get(Colliding(w)) for w in "abcd"] == [0, 1, 2, None]
    assert index[Colliding("c")] == 2


def test_large_vocabularies_get_the_compact_index():
    words = [f"w{i}" for i in range(60_000)]
    vecs = Vectors(words, np.zeros((60_000, 2), dtype=np.float32))
    assert isinstance(vecs.index, WordIndex)
    assert vecs.index["w59999"] == 59_999 and "w60000" not in vecs
