"""TextRank (Mihalcea & Tarau 2004): sentence graphs, similarities and PageRank.

Sentences are nodes; a similarity between two sentences is the weight of the
edge joining them; PageRank ranks the nodes. Everything here works on lists
of terms (already tokenized, stop words removed), so it is language-agnostic.

Similarities (all symmetric, non-negative, zero diagonal):
  overlap    the paper's |Si ∩ Sj| / (log|Si| + log|Sj|)
  bm25       Barrios et al. 2016 (gensim 3.x summarizer): BM25 of Sj for the
             query Si, k1=1.2, b=0.75, negative IDF -> 0.25 * mean IDF
             (clipped at 0, so no edge is negative);
             BM25 is asymmetric, the edge weight is the mean of both ways
  tfidf      cosine of TF-IDF vectors (smooth IDF)
  embedding  cosine of averaged word vectors (negative cosines -> 0)

Graphs are built in row blocks with numpy/scipy products (no Python loop over
pairs). Above `max_neighbors` sentences each node keeps only its strongest
`max_neighbors` edges (then symmetrised), so memory stays O(n * max_neighbors).

PageRank (rank.py) is networkx.pagerank's definition; the term matrices and
IDFs are in terms.py. On a 20-sentence news article networkx spends ~2 ms
building its graph, more than our whole pipeline.
"""

from __future__ import annotations

from itertools import chain, count
from typing import Sequence

import numpy as np

# The term matrix and PageRank live in their own modules; their names stay importable from here.
from .rank import EXACT_MAX_NODES, keywords, pagerank, rank_order  # noqa: F401
from .terms import (BM25_B, BM25_EPSILON, BM25_K1, DENSE_CELLS, TermMatrix, _binary, bm25_idf,  # noqa: F401
                    doc_freq, scale_columns, scale_rows, term_matrix)

SIMILARITIES = ("overlap", "bm25", "tfidf", "embedding")
DEFAULT_SIMILARITY = "overlap"
BLOCK_ROWS = 512
# Bounded-neighbour graphs up to this many nodes are built dense: the same edges as the
# CSR one, without importing scipy (0.4 s) for a long article.
DENSE_GRAPH_MAX = 2_000


class Pairwise:
    """Left and right factors whose product (plus a post-step) gives similarity rows.

    post(values, rows, cols): the similarity of pairs from their products, elementwise
    (rows and cols broadcast against values: a block, or the pairs of a sparse graph)."""

    def __init__(self, left, right, post=None, symmetric: bool = True, vectors: bool = False):
        self.left, self.right, self.post = left, right, post
        self.symmetric = symmetric  # False (BM25): the edge is the mean of both ways
        self.vectors = vectors      # dense sentence vectors (embedding), not term counts

    def rows(self, start: int, stop: int) -> np.ndarray:
        block = self.left[start:stop] @ self.right.T
        block = block if isinstance(block, np.ndarray) else block.toarray()
        block = np.asarray(block, dtype=np.float64)
        if self.post is not None:
            block = self.post(block, np.arange(start, stop)[:, None], np.arange(block.shape[1])[None, :])
        return block

    def diagonal(self) -> np.ndarray:
        """(n,) each row's similarity with itself (what a copy of it scores)."""
        if isinstance(self.left, np.ndarray):
            values = (self.left * self.right).sum(axis=1)
        else:
            values = np.asarray(self.left.multiply(self.right).sum(axis=1)).ravel()
        values = np.asarray(values, dtype=np.float64)
        index = np.arange(len(values))
        return values if self.post is None else self.post(values, index, index)


def _overlap(tm: TermMatrix) -> Pairwise:
    b = _binary(tm.counts)
    with np.errstate(divide="ignore"):
        loglen = np.where(tm.lengths > 0, np.log(np.maximum(tm.lengths, 1.0)), 0.0)

    def post(values, rows, cols):
        denom = loglen[rows] + loglen[cols]
        # Two one-word sentences: log 1 + log 1 = 0; count the shared word as is.
        denom = np.where(denom > 1e-12, denom, 1.0)
        return values / denom

    return Pairwise(b, b, post)


def _bm25(tm: TermMatrix) -> Pairwise:
    idf = bm25_idf(tm)
    avgdl = tm.mean_length()
    avgdl = avgdl if avgdl > 0 else 1.0
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * tm.lengths / avgdl)  # (n,)
    counts = tm.counts
    if isinstance(counts, np.ndarray):
        sat = counts * (BM25_K1 + 1.0) / (counts + norm[:, None])
    else:
        sat = counts.tocoo()
        sat.data = sat.data * (BM25_K1 + 1.0) / (sat.data + norm[sat.row])
        sat = sat.tocsr()
    query = scale_columns(counts, idf)  # query terms with their repeats, as gensim
    return Pairwise(query, sat, symmetric=False)


def _tfidf(tm: TermMatrix) -> Pairwise:
    df = doc_freq(tm)
    idf = np.log((1.0 + tm.total) / (1.0 + df)) + 1.0
    t = scale_columns(tm.counts, idf)
    sq = np.asarray(t.multiply(t).sum(axis=1) if not isinstance(t, np.ndarray) else (t * t).sum(axis=1)).ravel()
    inv = np.where(sq > 0, 1.0 / np.sqrt(np.where(sq > 0, sq, 1.0)), 0.0)
    t = scale_rows(t, inv)
    return Pairwise(t, t)


def sentence_vectors(sentences: Sequence[Sequence[str]], vectors) -> np.ndarray:
    """(n, d) unit-length averages of the known word vectors of each sentence (zeros if none)."""
    matrix = np.asarray(vectors.matrix, dtype=np.float32)
    index = vectors.index
    out = np.zeros((len(sentences), matrix.shape[1]), dtype=np.float64)
    for i, terms in enumerate(sentences):
        ids = [index[t] for t in terms if t in index]
        if not ids:
            ids = [index[t.lower()] for t in terms if t.lower() in index]
        if ids:
            out[i] = matrix[ids].mean(axis=0)
    norms = np.linalg.norm(out, axis=1)
    return out / np.where(norms > 0, norms, 1.0)[:, None]


def _embedding(tm: TermMatrix, sentences, vectors) -> Pairwise:
    if vectors is None:
        raise ValueError("the embedding similarity needs word vectors")
    e = sentence_vectors(sentences, vectors)
    return Pairwise(e, e, lambda values, rows, cols: np.maximum(values, 0.0), vectors=True)


def similarity_graph(sentences: Sequence[Sequence[str]], similarity: str = DEFAULT_SIMILARITY, *,
                     vectors=None, max_neighbors: int = 100, copies: np.ndarray | None = None):
    """Weighted adjacency (n, n): dense ndarray, or scipy CSR when neighbours are bounded.

    copies: the sentences are distinct nodes standing for this many sentences each
    (neighbors.merge_duplicates); the graph is then the merged one (neighbors.quotient)."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"unknown similarity {similarity!r} (choose from {', '.join(SIMILARITIES)})")
    if similarity == "overlap" and copies is None and 0 < len(sentences) <= max_neighbors + 1:
        return _small_overlap_graph(sentences)  # a whole article, most often: the same graph, sooner
    tm = term_matrix(sentences, copies)
    n = tm.n
    if similarity == "overlap":
        pair = _overlap(tm)
    elif similarity == "bm25":
        pair = _bm25(tm)
    elif similarity == "tfidf":
        pair = _tfidf(tm)
    else:
        pair = _embedding(tm, sentences, vectors)
    symmetric_needed = similarity == "bm25"
    if copies is not None:
        from . import neighbors

        if n <= max_neighbors + 1:
            graph = pair.rows(0, n) if n else np.zeros((0, 0))
            graph = 0.5 * (graph + graph.T) if symmetric_needed else graph
            np.fill_diagonal(graph, 0.0)
        else:
            graph = neighbor_graph(pair, n, max_neighbors)
        return neighbors.quotient(graph, pair.diagonal(), copies)
    if n <= max_neighbors + 1:
        w = pair.rows(0, n) if n else np.zeros((0, 0))
        if symmetric_needed:
            w = 0.5 * (w + w.T)
        np.fill_diagonal(w, 0.0)
        return w  # non-negative by construction (embedding clips in its post-step)
    return bounded_graph(pair, n, max_neighbors, symmetric_needed, dense=n <= DENSE_GRAPH_MAX)


def _small_overlap_graph(sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """similarity_graph's dense overlap graph, bit for bit, in half the numpy calls.

    The general path's steps on the same values: a 0/1 sentence-by-term matrix (set
    where a term occurs, which is counts > 0), its product with its transpose (BLAS,
    the same operands and layout), the same log lengths, and each pair's sum of them
    (broadcast instead of gathered through index arrays: the same additions), the
    same guard and division; no Pairwise, no counts matrix. At ~20 sentences the numpy
    calls' own cost is the graph's cost (tests/test_textrank.py checks the equality)."""
    n = len(sentences)
    lengths = np.fromiter(map(len, sentences), dtype=np.intp, count=n)
    flat = list(chain.from_iterable(sentences))
    vocab = dict(zip(dict.fromkeys(flat), count()))  # first-use order, as term_matrix
    b = np.zeros((n, max(1, len(vocab))))
    b[np.repeat(np.arange(n, dtype=np.intp), lengths),
      np.fromiter(map(vocab.__getitem__, flat), dtype=np.intp, count=len(flat))] = 1.0
    lengths = lengths.astype(np.float64)
    with np.errstate(divide="ignore"):
        loglen = np.where(lengths > 0, np.log(np.maximum(lengths, 1.0)), 0.0)
    denom = loglen[:, None] + loglen[None, :]
    w = (b @ b.T) / np.where(denom > 1e-12, denom, 1.0)
    w.flat[::n + 1] = 0.0  # the diagonal (what np.fill_diagonal does, without its checks)
    return w


def neighbor_graph(pair: Pairwise, n: int, k: int):
    """Each node's k strongest edges, symmetrised: over all pairs up to neighbors.EXACT_MAX_NODES
    nodes, past it among the candidates of neighbors.approximate_graph."""
    from . import neighbors

    if n <= neighbors.EXACT_MAX_NODES:
        return bounded_graph(pair, n, k, not pair.symmetric)
    return neighbors.approximate_graph(pair, n, k)


def bounded_graph(pair: Pairwise, n: int, k: int, average: bool, dense: bool = False):
    """Keep each row's k strongest edges, then symmetrise (max, or mean for BM25): scipy CSR,
    or with `dense` the same edges in an (n, n) ndarray."""
    r, c, v = _strongest_edges(pair, n, k, average)
    if dense:
        w = np.zeros((n, n))
        w[r, c] = v  # (r, c) pairs are distinct: each row's top k columns
        return np.maximum(w, w.T)
    from scipy.sparse import coo_matrix

    w = coo_matrix((v, (r, c)), shape=(n, n)).tocsr()
    return w.maximum(w.T).tocsr()


def _strongest_edges(pair: Pairwise, n: int, k: int, average: bool):
    """(rows, cols, values) of each row's k strongest positive edges, the diagonal left out."""
    rows, cols, vals = [], [], []
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        block = pair.rows(start, stop)  # (b, n)
        local = np.arange(stop - start)
        if average:
            # BM25 both ways: mean of S[i, j] and S[j, i]; S[j, i] for this block is a column slice.
            block = 0.5 * (block + _columns(pair, start, stop))
        block[local, start + local] = 0.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]  # (b, k)
        r = np.repeat(np.arange(start, stop), k)
        c = top.ravel()
        v = block[local.repeat(k), c]
        keep = v > 0
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(v[keep])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _columns(pair: Pairwise, start: int, stop: int) -> np.ndarray:
    """S[:, start:stop].T, i.e. rows start:stop of the transposed similarity."""
    block = pair.right[start:stop] @ pair.left.T
    block = block if isinstance(block, np.ndarray) else block.toarray()
    return np.asarray(block, dtype=np.float64)


def textrank_scores(sentences: Sequence[Sequence[str]], similarity: str = DEFAULT_SIMILARITY, *,
                    damping: float = 0.85, vectors=None, max_neighbors: int = 100,
                    copies: np.ndarray | None = None) -> np.ndarray:
    """TextRank score of each sentence (a list of terms). Sums to 1; uniform when no edges.

    copies: each sentence stands for this many (merged near-identical ones); the score
    returned is that of one copy, so the copies' scores sum to 1."""
    if not sentences:
        return np.zeros(0)
    graph = similarity_graph(sentences, similarity, vectors=vectors, max_neighbors=max_neighbors, copies=copies)
    if copies is None:
        # A bounded graph (dense or not) keeps its power iteration: the scores stay the CSR graph's.
        return pagerank(graph, damping=damping, exact=None if len(sentences) <= max_neighbors + 1 else False)
    return pagerank(graph, damping=damping, copies=copies) / copies


