"""Whitespace-separated words of ASCII text to vocabulary ids in numpy, without a Python
string per word: `str.split` and a dict lookup per token cost more than the n-gram lookups.

A word of up to 7 bytes is its own int64 key (its bytes, read as one little-endian word
with the rest masked off, and its length in the top byte). A word of 8 to 16 bytes is keyed
by a hash of its two 8-byte words and its length, and a hit is checked against the stored
words, so a collision cannot give a wrong id. Longer words (rare) are looked up in the
dict. The ids are exactly those of `map(index.__getitem__, text.split())`: the whitespace
is str.split's (str.isspace) for ASCII, and text that is not ASCII is not given to this.
"""

from __future__ import annotations

import numpy as np

from .lookup import HashIndex, fibonacci_home

MAX_BYTES = 16  # longer words take the dict
PAD = " " * MAX_BYTES  # after the text, so that both 8-byte reads stay inside the buffer
_LEN_SHIFT = np.uint64(56)
_MASK = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_MIX1, _MIX2, _LOW56 = np.uint64(29), np.uint64(32), np.uint64(8)


def _spaces(b: np.ndarray) -> np.ndarray:
    """str.isspace of ASCII bytes: 9-13, 28-31 and 32."""
    ws = b == 32
    ws |= (b - np.uint8(9)) <= 4  # uint8 arithmetic wraps: bytes below 9 become large
    ws |= (b - np.uint8(28)) <= 3
    return ws


def _words(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, length, key) of every word of `raw`, which starts with whitespace and ends with
    PAD; key -1 for words over MAX_BYTES."""
    b = np.frombuffer(raw, np.uint8)
    ws = _spaces(b)
    edges = np.flatnonzero(ws[1:] != ws[:-1]) + 1  # alternately where a word starts and ends
    start, length = edges[0::2], edges[1::2] - edges[0::2]
    # An unaligned 8-byte view at every byte offset: one gather reads a word's first 8 bytes.
    view = np.ndarray((b.size - 7,), dtype="<u8", buffer=raw, strides=(1,))
    w1 = view[start]
    key = w1 & _MASK[np.minimum(length, 8)]
    key |= length.astype(np.uint64) << _LEN_SHIFT
    out = key.view(np.int64)
    long = np.flatnonzero(length > 7)
    if long.size:
        n = length[long]
        w2 = view[start[long] + 8] & _MASK[np.clip(n - 8, 0, 8)]
        out[long] = _long_keys(w1[long], w2, n)
        out[long[n > MAX_BYTES]] = -1
    return start, length, out


def _long_keys(w1: np.ndarray, w2: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Hash keys of 8..16-byte words: 56 mixed bits, the length (>= 8) in the top byte, so
    they never equal a short word's exact key."""
    with np.errstate(over="ignore"):
        x = w1 * _C1 + w2
        x ^= x >> _MIX1
        x *= _C2
        x ^= x >> _MIX2
    x >>= _LOW56
    x |= n.astype(np.uint64) << _LEN_SHIFT
    return x.view(np.int64)


class WordKeys:
    """Word ids of whitespace-separated ASCII text, for one token -> id mapping `index`
    (a dict whose missing words read as `unknown`)."""

    def __init__(self, index: dict, unknown: int):
        self.index, self.unknown = index, unknown
        words = [w for w in index if len(w) <= MAX_BYTES and w.isascii() and w.split() == [w]]
        raw = (" " + " ".join(words) + PAD).encode("ascii")
        start, length, keys = _words(raw)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        # Two 8..16-byte words whose 56-bit hashes meet: then this table is not used at all.
        self.usable = keys.size == len(words) and not np.any(keys[1:] == keys[:-1])
        b = np.frombuffer(raw, np.uint8)
        view = np.ndarray((b.size - 7,), dtype="<u8", buffer=raw, strides=(1,))
        start, length = start[order], length[order]
        self.first = view[start]  # what a hit on a hashed key is checked against
        self.second = view[start + 8] & _MASK[np.clip(length - 8, 0, 8)]
        self.ids = np.append(np.array([index[w] for w in words], dtype=np.int64)[order], unknown)
        self.table = HashIndex(keys, spare_bits=2, home=fibonacci_home)  # small: cache-resident

    def encode(self, text: str) -> np.ndarray:
        """Ids of text.split() (text ASCII); the unknown id for words not in the index."""
        raw = (" " + text + PAD).encode("ascii")
        start, length, keys = _words(raw)
        row = self.table.find(keys)
        long = np.flatnonzero(length > 7)
        if long.size:  # a hashed key's hit holds only if the words are equal
            view = np.ndarray((len(raw) - 7,), dtype="<u8", buffer=raw, strides=(1,))
            r, s = row[long], start[long]
            same = (self.first[r] == view[s]) & (self.second[r] == view[s + 8] & _MASK[np.clip(length[long] - 8, 0, 8)])
            row[long[~same]] = -1
        ids = self.ids[row]  # row -1: the unknown id at the end
        for i in np.flatnonzero(length > MAX_BYTES).tolist():
            ids[i] = self.index[text[start[i] - 1: start[i] - 1 + length[i]]]
        return ids
