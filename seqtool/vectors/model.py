"""The in-memory word-vector type: words and a float32 matrix (possibly memory-mapped)."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np


class Vectors:
    """Words and their float32 vectors, row i of `matrix` belonging to `words[i]`.

    `matrix` may be a read-only memory map (vectors loaded from the store); copy
    it (`np.array(v.matrix)`) before modifying it. Rows are usually ordered by
    decreasing corpus frequency, as every common format stores them. When a
    word occurs twice, `index` and `get` use its first row.
    """

    __slots__ = ("words", "matrix", "subwords", "_index", "_norms", "_folded", "_scans", "_safe_norms")

    def __init__(self, words: Sequence[str], matrix: np.ndarray, *, norms: np.ndarray | None = None,
                 subwords=None):
        if not isinstance(words, list):
            words = list(words)
        if not isinstance(matrix, np.ndarray) or matrix.dtype != np.float32:
            matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"Vectors: matrix must be 2-D (n, d), got shape {matrix.shape}")
        if matrix.shape[0] != len(words):
            raise ValueError(f"Vectors: {len(words)} words but {matrix.shape[0]} matrix rows")
        self.words: list[str] = words
        self.matrix: np.ndarray = matrix  # (n, d) float32
        # fastText: a seqtool.vectors.subwords.Subwords giving unknown words a vector (else None)
        self.subwords = subwords
        self._index: Mapping[str, int] | None = None
        self._norms = norms
        self._folded: dict[str, int] | None = None
        self._scans = 0
        self._safe_norms: np.ndarray | None = None

    # ------------------------------------------------------------ mapping
    @property
    def index(self) -> Mapping[str, int]:
        """word -> row (the first row of a repeated word). Built on first use: a dict for
        small vocabularies, a compact WordIndex (a fifth of a dict's memory) for large ones."""
        if self._index is None:
            if len(self.words) > 50_000:
                from .wordindex import WordIndex

                self._index = WordIndex(self.words)
            else:
                self._index = dict(zip(reversed(self.words), range(len(self.words) - 1, -1, -1)))
        return self._index

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        extra = f", {self.subwords.bucket} n-gram buckets" if self.subwords is not None else ""
        return f"Vectors({len(self.words)} words, dim {self.dim}{extra})"

    def get(self, word: str) -> np.ndarray | None:
        """The (d,) float32 vector of `word`, or None when it is not in the vocabulary."""
        row = self.index.get(word)
        return None if row is None else self.matrix[row]

    def find(self, word: str, *, case_insensitive: bool = False) -> int | None:
        """The row of `word`; with case_insensitive, an exact match first, then the
        most frequent (lowest) row whose lower-cased form matches."""
        if self._index is None and self._scans < 8 and len(self.words) > 50_000:
            # A command line query looks up a handful of words: scanning the list
            # (C speed, a few ms) is far cheaper than building the index (~0.3 s for 400k).
            self._scans += 1
            try:
                row: int | None = self.words.index(word)
            except ValueError:
                row = None
        else:
            row = self.index.get(word)
        if row is not None or not case_insensitive:
            return row
        if self._folded is None:
            self._folded = dict(zip((w.lower() for w in reversed(self.words)),
                                    range(len(self.words) - 1, -1, -1)))
        return self._folded.get(word.lower())

    @property
    def norms(self) -> np.ndarray:
        """(n,) float32 L2 norms of the rows (stored with imported vectors, else computed once)."""
        if self._norms is None:
            self._norms = _row_norms(self.matrix)
        return self._norms

    @property
    def safe_norms(self) -> np.ndarray:
        """Norms with 0 replaced by inf, so dividing by them maps zero rows to similarity 0."""
        if self._safe_norms is None:
            norms = np.asarray(self.norms, dtype=np.float32)
            self._safe_norms = np.where(norms > 0, norms, np.float32(np.inf)).astype(np.float32)
        return self._safe_norms

    def subset(self, rows: Iterable[int]) -> "Vectors":
        rows = np.asarray(list(rows), dtype=np.int64)
        return Vectors([self.words[i] for i in rows], np.ascontiguousarray(self.matrix[rows]))

    def head(self, limit: int | None) -> "Vectors":
        """The first `limit` rows (the most frequent words in the usual orderings)."""
        if limit is None or limit >= len(self.words):
            return self
        norms = None if self._norms is None else self._norms[:limit]
        return Vectors(self.words[:limit], self.matrix[:limit], norms=norms, subwords=self.subwords)


def _row_norms(matrix: np.ndarray, block: int = 8192) -> np.ndarray:
    out = np.empty(matrix.shape[0], dtype=np.float32)
    for start in range(0, matrix.shape[0], block):
        part = np.asarray(matrix[start:start + block], dtype=np.float32)
        # The same arithmetic as numpy.linalg.norm(axis=1), which gensim uses.
        out[start:start + block] = np.sqrt(np.add.reduce(part * part, axis=1))
    return out
