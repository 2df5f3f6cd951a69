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

PageRank is networkx.pagerank's definition (weighted, dangling nodes spread
their rank uniformly): small dense graphs are solved exactly with one linear
solve, larger ones by a vectorised power iteration with networkx's stopping
rule (L1 change < n * tol). On a 20-sentence news article networkx spends
~2 ms building its graph, more than our whole pipeline; `engine="networkx"`
runs networkx itself, and the tests check both against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

SIMILARITIES = ("overlap", "bm25", "tfidf", "embedding")
DEFAULT_SIMILARITY = "overlap"
BM25_K1 = 1.2
BM25_B = 0.75
BM25_EPSILON = 0.25
BLOCK_ROWS = 512
DENSE_CELLS = 4_000_000
EXACT_MAX_NODES = 400  # dense graphs up to this size: PageRank by one linear solve  # term matrices up to this many cells stay dense numpy


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
    lengths = np.fromiter((len(t) for t in sentences), dtype=np.intp, count=n)
    flat = [t for terms in sentences for t in terms]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(flat))}  # first-use order
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
    return bounded_graph(pair, n, max_neighbors, symmetric_needed)


def neighbor_graph(pair: Pairwise, n: int, k: int):
    """Each node's k strongest edges, symmetrised: over all pairs up to neighbors.EXACT_MAX_NODES
    nodes, past it among the candidates of neighbors.approximate_graph."""
    from . import neighbors

    if n <= neighbors.EXACT_MAX_NODES:
        return bounded_graph(pair, n, k, not pair.symmetric)
    return neighbors.approximate_graph(pair, n, k)


def bounded_graph(pair: Pairwise, n: int, k: int, average: bool):
    """Keep each row's k strongest edges, then symmetrise (max, or mean for BM25)."""
    from scipy.sparse import coo_matrix

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
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    w = coo_matrix((v, (r, c)), shape=(n, n)).tocsr()
    return w.maximum(w.T).tocsr()


def _columns(pair: Pairwise, start: int, stop: int) -> np.ndarray:
    """S[:, start:stop].T, i.e. rows start:stop of the transposed similarity."""
    block = pair.right[start:stop] @ pair.left.T
    block = block if isinstance(block, np.ndarray) else block.toarray()
    return np.asarray(block, dtype=np.float64)


def pagerank(weights, damping: float = 0.85, tol: float = 1e-6, max_iter: int = 100,
             engine: str = "numpy", copies: np.ndarray | None = None) -> np.ndarray:
    """PageRank of a weighted graph, as networkx.pagerank computes it.

    weights: (n, n) non-negative, dense or scipy sparse; weights[i, j] is the
    edge i -> j. Nodes without out-edges spread their rank uniformly.
    Returns (n,) scores summing to 1. copies: node i stands for copies[i] nodes
    (a merged graph): the jump and the dangling rank go in proportion to them,
    networkx's personalization and dangling vectors.
    """
    n = weights.shape[0]
    if n == 0:
        return np.zeros(0)
    if not 0.0 <= damping <= 1.0:
        raise ValueError(f"damping must be in [0, 1] (got {damping})")
    if copies is not None:
        return _pagerank_weighted(weights, damping, tol, max_iter, np.asarray(copies, dtype=np.float64))
    if engine == "networkx":
        import networkx as nx

        graph = (nx.from_numpy_array(weights, create_using=nx.DiGraph) if isinstance(weights, np.ndarray)
                 else nx.from_scipy_sparse_array(weights, create_using=nx.DiGraph))
        graph.add_nodes_from(range(n))
        ranks = nx.pagerank(graph, alpha=damping, tol=tol, max_iter=max_iter, weight="weight")
        return np.array([ranks[i] for i in range(n)])
    strength = np.asarray(weights.sum(axis=1)).ravel()  # (n,)
    dangling = strength <= 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, strength))
    if isinstance(weights, np.ndarray) and n <= EXACT_MAX_NODES:
        # The fixed point the power iteration approaches, solved directly:
        # (I - d * (W^T D^-1 + 1 dangling^T / n)) x = (1 - d) / n
        m = weights.T * inv[None, :] + dangling[None, :] / n
        x = np.linalg.solve(np.eye(n) - damping * m, np.full(n, (1.0 - damping) / n))
        return x / x.sum()
    wt = weights.T if isinstance(weights, np.ndarray) else weights.T.tocsr()
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = damping * (wt @ (last * inv) + last[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(x - last).sum() < n * tol:
            break
    return x


def _pagerank_weighted(weights, damping: float, tol: float, max_iter: int, copies: np.ndarray) -> np.ndarray:
    """pagerank with the jump vector p = copies / sum(copies) (the dangling rank follows p too)."""
    n = weights.shape[0]
    p = copies / copies.sum()  # (n,)
    strength = np.asarray(weights.sum(axis=1)).ravel()
    dangling = strength <= 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, strength))
    if isinstance(weights, np.ndarray) and n <= EXACT_MAX_NODES:
        m = weights.T * inv[None, :] + p[:, None] * dangling[None, :]
        x = np.linalg.solve(np.eye(n) - damping * m, (1.0 - damping) * p)
        return x / x.sum()
    wt = weights.T if isinstance(weights, np.ndarray) else weights.T.tocsr()
    x = p.copy()
    for _ in range(max_iter):
        last = x
        x = damping * (wt @ (last * inv) + last[dangling].sum() * p) + (1.0 - damping) * p
        # networkx's rule counts n nodes; here they are the merged graph's copies
        if np.abs(x - last).sum() < copies.sum() * tol:
            break
    return x


def rank_order(scores: np.ndarray) -> np.ndarray:
    """Indices by decreasing score; scores equal to 1e-9 (relative) tie and go by position."""
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    scale = scores.max()
    quantized = np.round(scores / (scale if scale > 0 else 1.0), 9)
    return np.argsort(-quantized, kind="stable")  # stable: equal scores keep document order


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
        return pagerank(graph, damping=damping)
    return pagerank(graph, damping=damping, copies=copies) / copies


def keywords(sentences: Sequence[Sequence[str]], top: int, *, window: int = 2,
             damping: float = 0.85) -> list[tuple[str, float]]:
    """TextRank keywords: PageRank over a co-occurrence graph of terms (window of `window`).

    Without a part-of-speech tagger (none works offline) every non-stop-word
    term is a candidate. Returns (term, score), best first, ties by first use.
    """
    vocab: dict[str, int] = {}
    left: list[int] = []
    right: list[int] = []
    for terms in sentences:
        ids = [vocab.setdefault(t, len(vocab)) for t in terms]
        for offset in range(1, window):
            left.extend(ids[:-offset])
            right.extend(ids[offset:])
    if not vocab or top <= 0:
        return []
    from scipy.sparse import coo_matrix

    v = len(vocab)
    pairs = coo_matrix((np.ones(len(left)), (left, right)), shape=(v, v)).tocsr()
    graph = pairs + pairs.T
    graph.setdiag(0)
    graph.eliminate_zeros()
    graph.data[:] = 1.0  # an unweighted graph, as in the paper
    scores = pagerank(graph.tocsr(), damping=damping)
    words = list(vocab)
    order = rank_order(scores)[:top]
    return [(words[i], float(scores[i])) for i in order]
