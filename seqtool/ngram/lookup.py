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
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, odd


def _home(keys: np.ndarray, bits: int) -> np.ndarray:
    """splitmix64 finaliser, top `bits` bits: a well-mixed home slot per key (the slots of
    the tables stored with models: changing it would make them miss)."""
    x = keys.view(np.uint64)
    t = x >> _S31  # in place from here: each new temporary is a pass of page faults
    t ^= x
    t *= _C1
    x = t >> _S29
    x ^= t
    x *= _C2
    np.right_shift(x, _S32, out=t)
    t ^= x
    t >>= np.uint64(64 - bits)
    return t.view(np.int64)


def fibonacci_home(keys: np.ndarray, bits: int) -> np.ndarray:
    """Multiplicative hashing, top `bits` bits: two passes, for tables that are never stored."""
    x = keys.view(np.uint64) * _GOLDEN
    x >>= np.uint64(64 - bits)
    return x.view(np.int64)


def hash_bits(n: int) -> int:
    """Home-slot bits for n keys: at least 2n buckets (load factor <= 1/2)."""
    return max(4, int(np.ceil(np.log2(2 * n + 1))))


class HashIndex:
    """Row of each key of a sorted, duplicate-free int64 array (-1 if absent).

    The table holds rows only (int32 below 2**31 keys, -1: empty): a probe compares
    keys[row] with the query, the same two gathers as a table of (key, row) pairs at a
    third of the size, small enough to be stored with the model (store.py)."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray | None = None, *, spare_bits: int = 0, home=_home):
        self.keys, self.home = keys, home
        self.bits = hash_bits(keys.size) + spare_bits  # spare bits: a sparser table, fewer probes
        self.rows = build_rows(keys, self.bits, home) if rows is None else rows

    @classmethod
    def stored(cls, keys: np.ndarray, rows: np.ndarray) -> "HashIndex | None":
        """The index over a table saved with the model; None when it does not fit these keys
        (then the caller builds one). Checked, so a corrupted table cannot index out of bounds
        or probe forever: a damaged one can only miss, never crash."""
        n = keys.size
        if rows.ndim != 1 or rows.size < (1 << hash_bits(n)) + 1 or rows.dtype.kind != "i" or not n:
            return None
        if rows[-1] != -1 or int(rows.min()) < -1 or int(rows.max()) >= n:
            return None
        return cls(keys, rows)

    def find(self, q: np.ndarray) -> np.ndarray:
        if self.keys.size == 0:
            return np.full(q.size, -1, np.int64)
        keys, table = self.keys, self.rows
        pos = self.home(q, self.bits)
        # The first probe over every query without index bookkeeping; most end there. An
        # empty slot (-1) reads the last key: its row is -1 whether that matches or not.
        r = table[pos].astype(np.int64)
        hit = keys[r] == q
        out = np.where(hit, r, -1)
        idx = np.flatnonzero(np.greater(r >= 0, hit))  # full and not it: probe on
        q, pos = q[idx], pos[idx] + 1
        while idx.size:
            r = table[pos]
            full = r >= 0
            hit = full & (keys[r] == q)
            out[idx[hit]] = r[hit]
            go_on = full > hit
            idx, q, pos = idx[go_on], q[go_on], pos[go_on] + 1
        return out


def build_rows(keys: np.ndarray, bits: int, home_of=_home) -> np.ndarray:
    """The linear-probing table of `keys` (their rows, -1 in empty slots)."""
    n = keys.size
    buckets = 1 << bits
    home = home_of(keys, bits)
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
    size = max(int(end[-1]) if n else 0, buckets) + 1  # always an empty slot at the end
    rows = np.full(size, -1, np.int32 if n < 2**31 else np.int64)
    rows[start[home] + rank] = np.arange(n)
    return rows


def search_sorted(keys: np.ndarray, q: np.ndarray) -> np.ndarray:
    out = np.full(q.size, -1, np.int64)
    if keys.size == 0 or q.size == 0:
        return out
    idx = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    hit = keys[idx] == q
    out[hit] = idx[hit]
    return out
