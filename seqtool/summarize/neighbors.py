"""Long inputs in sub-quadratic time: near-identical sentences merged, neighbours without all pairs.

Below SCALE_MIN_SENTENCES sentences nothing here runs: the graph is today's (textrank.
similarity_graph, every pair in row blocks), so those summaries are unchanged. Above it
(a 50,000-sentence transcript, a log of near-identical lines):

1. Merge. Sentences with the same multiset of terms (the stemmed, lower-cased words left
   once stop words and bare numbers are dropped, in any order) are one node with m copies.
   They differ only in case, punctuation, numbers, stop words, word order or inflection,
   and every similarity gives them identical rows, so the merge is exact: a node I with
   m_I copies and edge weights s(J, I) between nodes gets the quotient graph

       W'[J, I] = m_J (m_I - [I = J]) s(J, I)        teleport and dangling mass m_I / n

   whose PageRank X_I is the sum of its copies' PageRank on the full graph (each copy
   scores X_I / m_I); the tests check that against the unmerged graph. The IDFs, BM25's
   mean length and LexRank's N count the copies (textrank.TermMatrix.weights).

2. Neighbours. Up to EXACT_MAX_NODES distinct nodes, every pair in row blocks as before
   (textrank.bounded_graph). Past it, an inverted index: two sentences get an edge
   candidate when they share a term, i.e. the sparse product of the (n, V) term factors.
   Its cost is the sum over terms of df^2, which a term in most sentences makes quadratic,
   so terms are taken from the rarest up while that sum stays within PAIR_BUDGET per node;
   the commonest terms, those in more sentences than the budget allows, are left out of
   the edge weights too (a term in nearly every sentence says little about which one is
   central, as a stop word). When no term is left out, the graph equals bounded_graph's
   (tested). Each node keeps its max_neighbors strongest edges, symmetrised (max), as
   bounded_graph does. Embedding similarity: an approximate search, sentences sorted by
   SimHash codes (random hyperplanes, seeded) in SIMHASH_ROUNDS orders; each is compared
   with its SIMHASH_WINDOW neighbours in each order, exact cosines on those pairs only.

LSA needs no graph: the merged columns are scaled by sqrt(m) (same singular values and
vectors as the m copies) and the big matrix goes to a truncated sparse SVD.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SCALE_MIN_SENTENCES = 5000  # inputs longer than this are merged and searched (pipeline)
EXACT_MAX_NODES = 5000      # distinct nodes up to this: every pair, in row blocks
PAIR_BUDGET = 400           # inverted-index pair products per node
SIMHASH_BITS = 16
SIMHASH_ROUNDS = 4
SIMHASH_WINDOW = 16
SEED = 0
PAIR_CHUNK = 1_000_000


def merge_duplicates(terms: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """first (u,) index of each distinct term multiset, inverse (n,) its node per sentence, counts (u,)."""
    nodes: dict[tuple, int] = {}
    first: list[int] = []
    inverse = np.empty(len(terms), dtype=np.intp)
    for i, t in enumerate(terms):
        key = tuple(sorted(t))
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = len(first)
            first.append(i)
        inverse[i] = node
    counts = np.bincount(inverse, minlength=len(first)).astype(np.float64)
    return np.asarray(first, dtype=np.intp), inverse, counts


def neighbor_graph(pair, n: int, k: int):
    """(n, n) CSR: each node's k strongest edges (no diagonal), symmetrised by max."""
    from .textrank import bounded_graph

    if n <= EXACT_MAX_NODES:
        return bounded_graph(pair, n, k, not pair.symmetric)
    if pair.vectors:
        r, c = simhash_candidates(pair.left, k)
        v = _pair_products(pair, r, c)
    else:
        r, c, v = _index_candidates(pair, n)
    if pair.post is not None:
        v = pair.post(v, r, c)
    return top_k(r, c, v, n, k)


def _pruned_columns(factor, budget: float) -> np.ndarray:
    """Term columns from the rarest up while the sum of df^2 (the product's cost) stays within budget."""
    df = np.diff(factor.indptr).astype(np.float64)  # (V,) structural non-zeros per column
    order = np.argsort(df, kind="stable")
    cost = np.cumsum(df[order] ** 2)
    return np.sort(order[:int(np.searchsorted(cost, budget, side="right"))])


def _index_candidates(pair, n: int):
    """Pairs sharing a kept term and their products over the kept terms (the inverted index)."""
    from scipy.sparse import csc_matrix

    left, right = csc_matrix(pair.left), csc_matrix(pair.right)  # small vocabularies come dense
    keep = _pruned_columns(right, PAIR_BUDGET * float(n))
    left, right = left[:, keep].tocsr(), right[:, keep].tocsr()
    product = (left @ right.T).tocsr()  # (n, n) sparse: one entry per pair sharing a kept term
    if not pair.symmetric:
        product = (0.5 * (product + product.T)).tocsr()  # BM25 both ways, as bounded_graph
    coo = product.tocoo()
    return coo.row.astype(np.intp), coo.col.astype(np.intp), coo.data.astype(np.float64)


def simhash_candidates(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Approximate neighbours of unit rows: pairs within SIMHASH_WINDOW of each other in
    SIMHASH_ROUNDS orders by SimHash code (sign bits of random projections, seeded)."""
    n, d = vectors.shape
    rng = np.random.default_rng(SEED)
    window = max(SIMHASH_WINDOW, k // SIMHASH_ROUNDS)
    weights = 1 << np.arange(SIMHASH_BITS - 1, -1, -1, dtype=np.int64)
    rows, cols = [], []
    for _ in range(SIMHASH_ROUNDS):
        planes = rng.standard_normal((d, SIMHASH_BITS))
        proj = vectors @ planes  # (n, bits)
        codes = (proj > 0).astype(np.int64) @ weights
        order = np.lexsort((proj[:, 0], codes))  # the code, then the first projection
        for offset in range(1, min(window, n - 1) + 1):
            rows.append(order[:-offset])
            cols.append(order[offset:])
    r, c = np.concatenate(rows), np.concatenate(cols)
    key = np.unique(np.minimum(r, c) * n + np.maximum(r, c))
    r, c = key // n, key % n
    return np.concatenate([r, c]), np.concatenate([c, r])


def _pair_products(pair, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """left[r_i] . right[c_i] for dense factors, in chunks."""
    out = np.empty(len(r), dtype=np.float64)
    for start in range(0, len(r), PAIR_CHUNK):
        stop = start + PAIR_CHUNK
        out[start:stop] = np.einsum("ij,ij->i", pair.left[r[start:stop]], pair.right[c[start:stop]])
    return out


def top_k(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, k: int):
    """Each row's k largest positive off-diagonal values (ties: the lower column), symmetrised by max."""
    from scipy.sparse import coo_matrix

    keep = (r != c) & (v > 0)
    r, c, v = r[keep], c[keep], v[keep]
    order = np.lexsort((c, -v, r))
    r, c, v = r[order], c[order], v[order]
    starts = np.searchsorted(r, np.arange(n))
    rank = np.arange(len(r)) - starts[r]
    keep = rank < k
    w = coo_matrix((v[keep], (r[keep], c[keep])), shape=(n, n)).tocsr()
    return w.maximum(w.T).tocsr()


def quotient(graph, self_similarity: np.ndarray, copies: np.ndarray, self_loops: bool = False):
    """The merged graph: W'[J, I] = m_J (m_I - [I = J]) s(J, I) (see the module's docstring).

    graph: (u, u) edge weights between distinct nodes, zero diagonal, dense or sparse;
    self_similarity: (u,) s(I, I), the weight between two copies of I; self_loops: each
    copy also links to itself (LexRank's option), adding m_I s(I, I) to the diagonal."""
    m = np.asarray(copies, dtype=np.float64)
    diag = m * (m - 1.0 + (1.0 if self_loops else 0.0)) * self_similarity
    if isinstance(graph, np.ndarray):
        w = graph * m[:, None] * m[None, :]
        w[np.diag_indices_from(w)] += diag
        return w
    from scipy.sparse import diags

    scale = diags(m)
    return (scale @ graph @ scale + diags(diag)).tocsr()
