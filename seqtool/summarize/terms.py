"""Sentence-by-term count matrices and the term weights the similarities use (BM25 and
TF-IDF IDFs, document frequencies), dense numpy for documents, scipy CSR past DENSE_CELLS."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, count
from typing import Sequence

import numpy as np

BM25_K1 = 1.2
BM25_B = 0.75
BM25_EPSILON = 0.25
DENSE_CELLS = 4_000_000  # term matrices up to this many cells stay dense numpy


@dataclass
class TermMatrix:
    """Sentence-by-term counts: (n, V), dense ndarray or scipy CSR."""

    counts: object
    vocab: dict
    lengths: np.ndarray  # (n,) terms per sentence, repeats counted
    weights: np.ndarray | None = None  # (n,) copies of each row (merged near-identical sentences)

    @property
    def n(self) -> int:
        return self.counts.shape[0]

    @property
    def total(self) -> float:
        """Sentences counted with their copies: the N of the IDFs."""
        return float(self.n if self.weights is None else self.weights.sum())

    def mean_length(self) -> float:
        if self.weights is None:
            return self.lengths.mean() if self.n else 1.0
        return float((self.lengths * self.weights).sum() / self.weights.sum()) if self.n else 1.0

    @property
    def sparse(self) -> bool:
        return not isinstance(self.counts, np.ndarray)


def term_matrix(sentences: Sequence[Sequence[str]], weights: np.ndarray | None = None) -> TermMatrix:
    """weights: copies of each sentence (None: one each); they count in N, df and mean length."""
    n = len(sentences)
    lengths = np.fromiter(map(len, sentences), dtype=np.intp, count=n)
    flat = list(chain.from_iterable(sentences))
    vocab = dict(zip(dict.fromkeys(flat), count()))  # first-use order
    v = max(1, len(vocab))
    rows = np.repeat(np.arange(n, dtype=np.intp), lengths)
    cols = np.fromiter(map(vocab.__getitem__, flat), dtype=np.intp, count=len(flat))
    if n * v <= DENSE_CELLS:
        counts = np.bincount(rows * v + cols, minlength=n * v).astype(np.float64).reshape(n, v)
    else:
        from scipy.sparse import csr_matrix

        counts = csr_matrix((np.ones(len(flat)), (rows, cols)), shape=(n, v))
        counts.sum_duplicates()
    return TermMatrix(counts, vocab, lengths.astype(np.float64),
                      None if weights is None else np.asarray(weights, dtype=np.float64))


def _binary(m):
    if isinstance(m, np.ndarray):
        return (m > 0).astype(np.float64)
    out = m.copy()
    out.data[:] = 1.0
    return out


def scale_columns(m, weights: np.ndarray):
    """m (n, V) with column j times weights[j] (dense stays dense, sparse stays CSR)."""
    if isinstance(m, np.ndarray):
        return m * weights[None, :]
    return m.multiply(weights[None, :]).tocsr()


def scale_rows(m, weights: np.ndarray):
    """m (n, V) with row i times weights[i]."""
    if isinstance(m, np.ndarray):
        return m * weights[:, None]
    return m.multiply(weights[:, None]).tocsr()


def doc_freq(tm: TermMatrix) -> np.ndarray:
    """(V,) how many sentences hold each term (copies counted)."""
    b = _binary(tm.counts)
    if tm.weights is not None:
        return np.asarray(b.T @ tm.weights).ravel()
    return np.asarray(b.sum(axis=0)).ravel()


def bm25_idf(tm: TermMatrix) -> np.ndarray:
    """gensim 3.x BM25 IDF: log((N - df + 0.5) / (df + 0.5)); negatives -> max(0, eps * mean IDF).

    A term in more than half the sentences has a negative IDF; gensim replaces
    it by eps * the mean IDF, which is itself negative when such terms dominate
    (e.g. [[], ["a"], ["a"], ["a", "b"], ["a", "b"]]) and would give negative
    edges, which PageRank does not allow. Clipping that floor at 0 keeps gensim's
    value wherever it is non-negative (so every document with a non-negative
    mean IDF, the benchmark's among them, scores as before) and otherwise lets
    such common terms add nothing.
    """
    df = doc_freq(tm)
    idf = np.log(tm.total - df + 0.5) - np.log(df + 0.5)
    mean = idf.mean() if idf.size else 0.0
    return np.where(idf < 0, max(0.0, BM25_EPSILON * mean), idf)
