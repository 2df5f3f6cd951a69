"""fastText's character n-grams: the vector of a word missing from the vocabulary.

A fastText model (Bojanowski et al. 2017) keeps, besides one vector per word, a matrix of
`bucket` n-gram vectors. A word is wrapped as `<word>`, cut into its character n-grams of
`min_n`..`max_n` characters (UTF-8 aware), each n-gram hashed into a bucket; an unknown
word's vector is the mean of its n-grams' bucket vectors. This is gensim's
FastTextKeyedVectors.get_vector for an out-of-vocabulary word, in numpy, without gensim.

The hash is fastText's FNV-1a over the UTF-8 bytes, each byte first read as a *signed*
char (dictionary.cc: `h ^ uint32_t(int8_t(c))`), so bytes >= 0x80 are sign-extended;
gensim's ft_hash_bytes reproduces that, and so does ft_hash here.
"""

from __future__ import annotations

import numpy as np

FNV_OFFSET, FNV_PRIME, MASK = 2166136261, 16777619, 0xFFFFFFFF
HASH_NAME = "fasttext-fnv1a-int8"  # recorded in config.json: the n-grams mean nothing under another hash


def ft_hash(data: bytes) -> int:
    """fastText's 32-bit hash of `data` (gensim's ft_hash_bytes)."""
    h = FNV_OFFSET
    for b in data:
        # int8_t(b) widened to uint32_t: 0x80..0xFF become 0xFFFFFF80..0xFFFFFFFF
        h = ((h ^ (b | 0xFFFFFF00 if b & 0x80 else b)) * FNV_PRIME) & MASK
    return h


def ngrams_bytes(word: str, min_n: int, max_n: int) -> list[bytes]:
    """The character n-grams of `<word>` as UTF-8 bytes, in fastText's order (by start
    character, then length); the lone `<` and `>` are not n-grams (gensim's compute_ngrams_bytes)."""
    data = f"<{word}>".encode("utf-8")
    size = len(data)
    out = []
    for i in range(size):
        if data[i] & 0xC0 == 0x80:  # a continuation byte: no character starts here
            continue
        j, n = i, 1
        while j < size and n <= max_n:
            j += 1
            while j < size and data[j] & 0xC0 == 0x80:
                j += 1
            if n >= min_n and not (n == 1 and (i == 0 or j == size)):
                out.append(data[i:j])
            n += 1
    return out


# Each byte as fastText's hash widens it (int8_t -> uint32_t).
_WIDE = tuple(b | 0xFFFFFF00 if b & 0x80 else b for b in range(256))


def ngram_hashes(word: str, min_n: int, max_n: int, bucket: int) -> list[int]:
    """The bucket of each n-gram of `word` (gensim's ft_ngram_hashes), in ngrams_bytes' order.

    The n-grams starting at one character are prefixes of each other, and FNV-1a runs byte by
    byte, so one pass from each start gives all their hashes: the hash at each character end."""
    data = f"<{word}>".encode("utf-8")
    size, wide, out = len(data), _WIDE, []
    for i in range(size):
        if data[i] & 0xC0 == 0x80:
            continue
        h, j, n = FNV_OFFSET, i, 1
        while j < size and n <= max_n:
            h = ((h ^ wide[data[j]]) * FNV_PRIME) & MASK
            j += 1
            while j < size and data[j] & 0xC0 == 0x80:
                h = ((h ^ wide[data[j]]) * FNV_PRIME) & MASK
                j += 1
            if n >= min_n and not (n == 1 and (i == 0 or j == size)):
                out.append(h % bucket)
            n += 1
    return out


class Subwords:
    """The n-gram bucket matrix of a fastText model and the parameters that index it."""

    __slots__ = ("ngrams", "min_n", "max_n", "bucket", "_rows")

    def __init__(self, ngrams: np.ndarray, *, min_n: int, max_n: int):
        if ngrams.ndim != 2 or ngrams.dtype != np.float32:
            raise ValueError(f"Subwords: n-gram matrix must be 2-D float32, got {ngrams.dtype} {ngrams.shape}")
        self.ngrams = ngrams  # (bucket, d) float32, usually memory-mapped
        # The same memory as a plain ndarray: indexing a np.memmap costs a subclass per result.
        self._rows = ngrams.view(np.ndarray)
        self.min_n, self.max_n, self.bucket = int(min_n), int(max_n), int(ngrams.shape[0])

    @property
    def dim(self) -> int:
        return int(self.ngrams.shape[1])

    def vector(self, word: str) -> np.ndarray | None:
        """(d,) float32 mean of the n-gram vectors of `word`; None when it has no n-gram."""
        hashes = ngram_hashes(word, self.min_n, self.max_n, self.bucket)
        if not hashes:
            return None
        rows = self._rows.take(np.asarray(hashes, dtype=np.int64), axis=0)  # (k, d) float32
        # Reducing over axis 0 adds the rows one after another in float32, as gensim's loop does.
        return np.add.reduce(rows, axis=0, dtype=np.float32) / np.float32(len(hashes))

    def has_ngrams(self, word: str) -> bool:
        return bool(ngrams_bytes(word, self.min_n, self.max_n))

    def config(self) -> dict:
        return {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.bucket, "hash": HASH_NAME}
