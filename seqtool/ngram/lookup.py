"""Vectorised key -> row lookups: binary search, or a linear-probing hash table
(what KenLM's probing structure does) when a batch is large enough to pay for
building one.

The table is built without a per-key loop or a sort: inserting the keys in
order of their home slot gives linear probing's layout, and where each home
slot's keys end is a running maximum over the bucket sizes (see __init__).
Slots past the end spill into a tail instead of wrapping around, so a probe
only ever moves forward.
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S31, _S29, _S32 = np.uint64(31), np.uint64(29), np.uint64(32)


def _home(keys: np.ndarray, bits: int) -> np.ndarray:
    """splitmix64 finaliser, top `bits` bits: a well-mixed home slot per key."""
    x = keys.view(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _S31)) * _C1
        x = (x ^ (x >> _S29)) * _C2
    x = x ^ (x >> _S32)
    return (x >> np.uint64(64 - bits)).astype(np.int64)


class HashIndex:
    """Row of each key of a sorted, duplicate-free int64 array (-1 if absent)."""

    def __init__(self, keys: np.ndarray):
        n = keys.size
        self.bits = max(4, int(np.ceil(np.log2(2 * n + 1))))  # load factor <= 1/2
        buckets = 1 << self.bits
        home = _home(keys, self.bits)
        # Bucket h holds its keys at [start[h], end[h]) with end[h] = max(end[h-1], h) + c[h]:
        # end[h] - C[h] = max(0, max over i <= h of (i - C[i-1])), C the running bucket sizes.
        c = np.bincount(home, minlength=buckets)
        cum = np.cumsum(c)
        end = cum + np.maximum.accumulate(np.maximum(np.arange(buckets) - (cum - c), 0))
        start = end - c
        # Rank of each key inside its bucket: one round per key sharing a home slot.
        rank = np.zeros(n, np.int64)
        left = np.arange(n)
        winner = np.empty(buckets, np.int64)
        r = 0
        while left.size:
            winner[home[left]] = left
            won = winner[home[left]] == left
            rank[left[won]] = r
            left = left[~won]
            r += 1
        slot = start[home] + rank
        size = max(int(end[-1]) if n else 0, buckets) + 1  # always an empty slot at the end
        self.slots = np.full(size, -1, np.int64)   # the key stored in each slot (-1: empty)
        self.rows = np.full(size, -1, np.int32 if n < 2**31 else np.int64)
        self.slots[slot] = keys
        self.rows[slot] = np.arange(n)

    def find(self, q: np.ndarray) -> np.ndarray:
        out = np.full(q.size, -1, np.int64)
        pos = _home(q, self.bits)
        idx = np.arange(q.size)
        while idx.size:
            s = self.slots[pos]
            hit = s == q
            out[idx[hit]] = self.rows[pos[hit]]
            go_on = ~hit & (s != -1)
            idx, q, pos = idx[go_on], q[go_on], pos[go_on] + 1
        return out


def search_sorted(keys: np.ndarray, q: np.ndarray) -> np.ndarray:
    out = np.full(q.size, -1, np.int64)
    if keys.size == 0 or q.size == 0:
        return out
    idx = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    hit = keys[idx] == q
    out[hit] = idx[hit]
    return out
