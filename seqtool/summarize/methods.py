"""LexRank, LSA and Lead-k: sentence scorers beside TextRank, with its shape.

Every scorer takes the sentences as lists of terms (tokenized, stop words
removed, stemmed: pipeline.document_terms) and returns one finite score per
sentence, higher is better; textrank.rank_order and pipeline.select turn the
scores into a summary. `sentence_scores` picks a scorer by --method name.

LexRank (Erkan & Radev 2004). Sentences are TF-IDF vectors, tf the raw count
of a term in the sentence and idf_w = log(N / n_w) with N sentences, n_w of
them holding w (each sentence is a "document"). The idf-modified cosine

    cos(x, y) = sum_w tf_wx tf_wy idf_w^2 / (|x| |y|),    |x| = sqrt(sum_w (tf_wx idf_w)^2)

weighs the edges between different sentences. Thresholded LexRank keeps an
edge where cos > t (t = 0.1, the paper's best) with weight 1; continuous
LexRank keeps every cosine as the weight. Each row is divided by its degree
(its weight sum) and the scores are the stationary distribution of that
random walk with damping:

    p = (1 - d) / N + d * (D^-1 W)^T p          d = 0.85 (the paper's jump is 1 - d = 0.15)

which is textrank.pagerank (exact linear solve on small graphs, the power
method on large ones). A sentence without an edge (stop words only, or no
word shared) spreads its rank uniformly, as PageRank's dangling nodes do.

Self-loops: the paper's Algorithm 3 fills the whole cosine matrix, diagonal
included (cos(x, x) = 1 > t), so every sentence is its own neighbour;
`self_loops=True` does exactly that. It is off by default because a loop
lets a sentence linked to nothing keep its share of the walk: such a sentence
then outranks well-connected ones (tests/test_summarize_methods.py has a
4-sentence case), and on BBC News Summary (150 articles) ROUGE-1 drops from
0.689 to 0.651 thresholded and from 0.785 to 0.779 continuous.

LSA (Steinberger & Jezek 2004). A = term-by-sentence counts (V, N), its SVD
A = U S V^T (S and V taken from the eigendecomposition of the small (N, N)
matrix A^T A = V S^2 V^T), and sentence i scores the length of its row of V S
over the kept dimensions k:

    score_i = sqrt(sum_k (sigma_k * v_{k,i})^2)

Dimension rule (`dimensions`): "half" (default) keeps every dimension whose
singular value is at least half the largest, the reduction Steinberger &
Jezek describe; an int keeps that many; "all" keeps every dimension (what
sumy does: max(3, all), so its score is just the length of the sentence's
column of its smoothed tf matrix). With the whole of a group of equal
singular values always kept or dropped together, the scores do not depend on
which basis the SVD picked for that group.

Lead-k: the first sentences; score_i = (N - i) / N.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from .neighbors import SCALE_MIN_SENTENCES
from .textrank import (Pairwise, bounded_graph, doc_freq, neighbor_graph, pagerank, scale_columns,
                       scale_rows, term_matrix, textrank_scores)

METHODS = ("textrank", "lexrank", "lsa", "lead")
DEFAULT_METHOD = "textrank"
LEXRANK_THRESHOLD = 0.1  # Erkan & Radev's choice for thresholded LexRank
LSA_HALF = 0.5           # "half": keep sigma_k >= LSA_HALF * sigma_1
LSA_SPARSE_TOP = 50      # sparse (very large) documents: at most this many singular triplets


# ---------------------------------------------------------------- LexRank
def lexrank_idf(tm) -> np.ndarray:
    """(V,) the paper's idf_w = log(N / n_w), sentences as documents (0 for a term in every sentence)."""
    df = doc_freq(tm)
    return np.log(tm.total / np.maximum(df, 1.0))


def _unit_tfidf(tm) -> Pairwise:
    """Rows tf * idf scaled to unit length (all-zero rows stay zero): their products are the cosines."""
    t = scale_columns(tm.counts, lexrank_idf(tm))  # (N, V)
    sq = np.asarray((t.multiply(t) if tm.sparse else t * t).sum(axis=1)).ravel()  # (N,) |x|^2
    inv = np.where(sq > 0, 1.0 / np.sqrt(np.where(sq > 0, sq, 1.0)), 0.0)
    t = scale_rows(t, inv)
    return Pairwise(t, t)


def lexrank_graph(sentences: Sequence[Sequence[str]], threshold: float | None = LEXRANK_THRESHOLD, *,
                  self_loops: bool = False, max_neighbors: int = 100, copies: np.ndarray | None = None):
    """(N, N) LexRank edge weights: 1 where cos > threshold, or cos itself (threshold None).

    Above max_neighbors + 1 sentences each sentence keeps only its max_neighbors
    strongest cosines (textrank.bounded_graph, symmetrised), as a scipy CSR.
    copies: merged near-identical sentences (see neighbors): the merged graph.
    """
    tm = term_matrix(sentences, copies)
    n = tm.n
    pair = _unit_tfidf(tm)
    if copies is not None:
        return _merged_lexrank_graph(pair, n, threshold, self_loops, max_neighbors, copies)
    if n <= max_neighbors + 1:
        w = pair.rows(0, n)  # (N, N) cosines; diagonal 1 for every sentence with a term of idf > 0
        if not self_loops:
            np.fill_diagonal(w, 0.0)
        return w if threshold is None else (w > threshold).astype(np.float64)
    w = bounded_graph(pair, n, max_neighbors, average=False)  # diagonal left out
    if threshold is not None:
        w.data = (w.data > threshold).astype(np.float64)
        w.eliminate_zeros()
    if self_loops:
        from scipy.sparse import diags

        unit = pair.left  # (N, V) unit rows, or zero rows for sentences without a weighted term
        w = w + diags((np.asarray(abs(unit).sum(axis=1)).ravel() > 0).astype(np.float64))
    return w.tocsr()


def _merged_lexrank_graph(pair: Pairwise, n: int, threshold, self_loops: bool, k: int, copies: np.ndarray):
    from . import neighbors

    if n <= k + 1:
        w = pair.rows(0, n) if n else np.zeros((0, 0))
        np.fill_diagonal(w, 0.0)
        if threshold is not None:
            w = (w > threshold).astype(np.float64)
    else:
        w = neighbor_graph(pair, n, k)
        if threshold is not None:
            w.data = (w.data > threshold).astype(np.float64)
            w.eliminate_zeros()
    own = pair.diagonal()  # cos(I, I): 1, or 0 for a sentence without a weighted term
    own = own if threshold is None else (own > threshold).astype(np.float64)
    return neighbors.quotient(w, own, copies, self_loops=self_loops)


def lexrank_scores(sentences: Sequence[Sequence[str]], threshold: float | None = LEXRANK_THRESHOLD, *,
                   damping: float = 0.85, self_loops: bool = False, max_neighbors: int = 100,
                   copies: np.ndarray | None = None) -> np.ndarray:
    """LexRank of each sentence (a list of terms); threshold None is continuous LexRank. Sums to 1.

    copies: each sentence stands for this many; the score is one copy's."""
    if not sentences:
        return np.zeros(0)
    if threshold is not None and not 0.0 <= threshold < 1.0:
        raise ValueError(f"the LexRank threshold must be in [0, 1) (got {threshold})")
    graph = lexrank_graph(sentences, threshold, self_loops=self_loops, max_neighbors=max_neighbors,
                          copies=copies)
    if copies is None:
        return pagerank(graph, damping=damping)
    return pagerank(graph, damping=damping, copies=copies) / copies


# ---------------------------------------------------------------- LSA
def kept_dimensions(sigma: np.ndarray, dimensions: Union[str, int] = "half") -> int:
    """How many of the (descending) singular values to keep."""
    if dimensions == "all":
        return len(sigma)
    if dimensions == "half":
        if not len(sigma) or sigma[0] <= 0:
            return len(sigma)
        # 1e-12: a value equal to half the largest up to rounding is kept, as it would be exactly.
        return int(np.count_nonzero(sigma >= LSA_HALF * sigma[0] * (1 - 1e-12)))
    if isinstance(dimensions, (int, np.integer)) and not isinstance(dimensions, bool) and dimensions >= 1:
        return min(int(dimensions), len(sigma))
    raise ValueError(f"LSA dimensions must be 'half', 'all' or a positive int (got {dimensions!r})")


def lsa_scores(sentences: Sequence[Sequence[str]], dimensions: Union[str, int] = "half",
               copies: np.ndarray | None = None) -> np.ndarray:
    """Steinberger & Jezek's LSA score of each sentence: sqrt(sum_k (sigma_k v_ki)^2) over k kept dimensions.

    copies: each sentence stands for this many. A with a column repeated m times has the
    SVD of A with that column times sqrt(m), whose V row is sqrt(m) times each copy's."""
    if not sentences:
        return np.zeros(0)
    tm = term_matrix(sentences)
    counts = tm.counts if copies is None else scale_rows(tm.counts, np.sqrt(copies))
    if tm.sparse:
        sigma, vt = _top_singular(counts.T.tocsr().astype(np.float64))
    else:
        sigma, vt = _right_singular(counts.T)  # A: (V, N) term-by-sentence counts
    k = kept_dimensions(sigma, dimensions)
    weighted = sigma[:k, None] * vt[:k]  # (k, N): sentence i in the latent space, column i
    scores = np.sqrt((weighted * weighted).sum(axis=0))
    return scores if copies is None else scores / np.sqrt(copies)


def _right_singular(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sigma (N,) descending and V^T (N, N) of A = U S V^T, from A^T A = V S^2 V^T.

    The (N, N) eigenproblem gives the same S and V as np.linalg.svd(A) (up to the
    signs and the basis inside a group of equal values, which the score does
    not see) at a fraction of the cost when terms outnumber sentences.
    """
    gram = a.T @ a  # (N, N)
    lam, v = np.linalg.eigh(gram)  # ascending
    lam = np.maximum(lam[::-1], 0.0)  # rounding can leave -1e-15 where sigma is 0
    return np.sqrt(lam), v[:, ::-1].T


def _top_singular(a) -> tuple[np.ndarray, np.ndarray]:
    """The largest singular values (descending) and right vectors of a big sparse (V, N) matrix."""
    from scipy.sparse.linalg import svds

    k = min(LSA_SPARSE_TOP, min(a.shape) - 1)
    if k < 1:
        return np.linalg.svd(a.toarray(), full_matrices=False)[1:]
    if a.shape[1] > SCALE_MIN_SENTENCES:
        return _randomized_singular(a, k)
    _, sigma, vt = svds(a, k=k, random_state=0)
    order = np.argsort(-sigma)
    return sigma[order], vt[order]


def _randomized_singular(a, k: int, oversample: int = 30, power: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Halko, Martinsson & Tropp's randomized truncated SVD (seeded) of a long input's sparse
    (V, N) matrix, several times faster than ARPACK's svds there. Approximate: on a flat
    spectrum (random text) the leading values are within ~1% and the "half" rule may keep
    a few dimensions fewer; on text whose first dimensions dominate they agree closely."""
    rng = np.random.default_rng(0)
    q = np.linalg.qr(a @ rng.standard_normal((a.shape[1], k + oversample)))[0]  # (V, k + p)
    for _ in range(power):
        # Orthonormalised on the term side only (V rows, fewer than N): half the QRs.
        z = a.T @ q  # (N, k + p)
        q = np.linalg.qr(a @ (z / np.maximum(np.linalg.norm(z, axis=0), 1e-300)))[0]
    b = (a.T @ q).T  # (k + p, N) = Q^T A
    # SVD of the small side: B B^T = W S^2 W^T, V^T = S^-1 W^T B
    lam, w = np.linalg.eigh(b @ b.T)
    lam, w = np.maximum(lam[::-1], 0.0), w[:, ::-1]
    sigma = np.sqrt(lam[:k])
    vt = (w[:, :k].T @ b) / np.where(sigma > 0, sigma, 1.0)[:, None]
    return sigma, vt


# ---------------------------------------------------------------- Lead-k
def lead_scores(sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """(N - i) / N: the first sentence scores 1, the order of the document is the ranking."""
    n = len(sentences)
    return (n - np.arange(n, dtype=np.float64)) / max(n, 1)


# ---------------------------------------------------------------- dispatch
def sentence_scores(method: str, sentences: Sequence[Sequence[str]], *, similarity: str = "overlap",
                    damping: float = 0.85, vectors=None, max_neighbors: int = 100,
                    lexrank_threshold: float | None = LEXRANK_THRESHOLD,
                    lsa_dimensions: Union[str, int] = "half", copies: np.ndarray | None = None) -> np.ndarray:
    """One score per sentence by `method` (one of METHODS); the options of other methods are ignored.

    copies: the sentences are merged nodes standing for this many each (neighbors)."""
    if method == "textrank":
        return textrank_scores(sentences, similarity, damping=damping, vectors=vectors,
                               max_neighbors=max_neighbors, copies=copies)
    if method == "lexrank":
        return lexrank_scores(sentences, lexrank_threshold, damping=damping, max_neighbors=max_neighbors,
                              copies=copies)
    if method == "lsa":
        return lsa_scores(sentences, lsa_dimensions, copies)
    if method == "lead":
        return lead_scores(sentences)
    raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
