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
   (textrank.bounded_graph). Past it, each node is compared only with the nodes of its
   blocks: BLOCK_NODES consecutive nodes in document order and in MINHASH_ROUNDS MinHash
   orders. A MinHash order is an inverted index walked in a random (seeded) order of the
   terms: each sentence goes under its first term in that order, so sentences sharing a
   term sit together, and two sentences sit together with probability their Jaccard
   similarity. Within a block the similarities are exact (every term counts, the
   commonest too: leaving those out of the products inverted the ranking of a uniform
   random text), each node keeps its KEEP_PER_BLOCK strongest per block and its
   max_neighbors strongest overall, symmetrised (max) as bounded_graph does. Cost:
   O(n * BLOCK_NODES * (MINHASH_ROUNDS + 1)), not O(n^2). With one block holding every
   node the graph is bounded_graph's (tested). Embedding similarity: an approximate search,
   sentences sorted by SimHash codes (random hyperplanes, seeded) in SIMHASH_ROUNDS orders;
   each is compared with its SIMHASH_WINDOW neighbours in each order, exact cosines on
   those pairs only.

LSA needs no graph: the merged columns are scaled by sqrt(m) (same singular values and
vectors as the m copies) and the big matrix goes to a randomized truncated SVD
(methods._randomized_singular).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SCALE_MIN_SENTENCES = 5000  # inputs longer than this are merged and searched (pipeline)
EXACT_MAX_NODES = 5000      # distinct nodes up to this: every pair, in row blocks
BLOCK_NODES = 128           # nodes compared all-pairs in one block
MINHASH_ROUNDS = 3          # MinHash orders (besides the document's)
KEEP_PER_BLOCK = 32         # strongest edges a node keeps from each block
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


def approximate_graph(pair, n: int, k: int):
    """(n, n) CSR for more than EXACT_MAX_NODES nodes: each node's k strongest edges among its
    candidates (no diagonal), symmetrised by max, as textrank.bounded_graph does over all pairs."""
    if pair.vectors:
        r, c = simhash_candidates(pair.left, k)
        v = _pair_products(pair, r, c)
        v = v if pair.post is None else pair.post(v, r, c)
        return top_k(r, c, v, n, k)
    return block_graph(pair, n, k)


def minhash_orders(factor, rounds: int, seed: int = SEED) -> list[np.ndarray]:
    """Node orders in which sentences sharing terms sit together: for a random order of the
    terms (seeded), each sentence's first term (its MinHash), then its first in a second
    order; two sentences fall together with probability their Jaccard similarity."""
    from scipy.sparse import csr_matrix

    m = csr_matrix(factor)
    n, v = m.shape
    rng = np.random.default_rng(seed)
    nonempty = np.diff(m.indptr) > 0
    starts = m.indptr[:-1][nonempty]

    def minhash() -> np.ndarray:
        rank = rng.permutation(v)
        out = np.full(n, v, dtype=np.int64)  # a sentence without terms sorts last
        if len(m.indices):
            out[nonempty] = np.minimum.reduceat(rank[m.indices], starts)
        return out

    hashes = [minhash() for _ in range(rounds + 1)]
    return [np.lexsort((hashes[r + 1], hashes[r])) for r in range(rounds)]


def block_graph(pair, n: int, k: int):
    """Exact similarities within blocks of BLOCK_NODES consecutive nodes of each order
    (document order and MINHASH_ROUNDS MinHash orders); each node keeps its k strongest
    over all its blocks, then the graph is symmetrised (max), as bounded_graph's."""
    from scipy.sparse import coo_matrix, csr_matrix

    left, right = csr_matrix(pair.left), csr_matrix(pair.right)  # small vocabularies come dense
    orders = [np.arange(n)] + minhash_orders(right, MINHASH_ROUNDS)
    kb = max(1, min(k, BLOCK_NODES - 1, KEEP_PER_BLOCK))
    # (n, rounds * kb): each node's candidates, the node itself (value 0) where a block has fewer
    cols = np.repeat(np.arange(n, dtype=np.int32)[:, None], len(orders) * kb, axis=1)
    vals = np.zeros(cols.shape, dtype=np.float64)
    for o, order in enumerate(orders):
        for start in range(0, n, BLOCK_NODES):
            idx = order[start:start + BLOCK_NODES]
            b = min(kb, len(idx) - 1)
            if b < 1:
                continue
            block = (left[idx] @ right[idx].T).toarray()  # (len(idx), len(idx))
            if not pair.symmetric:
                block = 0.5 * (block + block.T)  # BM25 both ways: S[j, i] is the transpose
            if pair.post is not None:
                block = pair.post(block, idx[:, None], idx[None, :])
            np.fill_diagonal(block, 0.0)
            top = np.argpartition(-block, b - 1, axis=1)[:, :b]  # (len(idx), b)
            cols[idx, o * kb:o * kb + b] = idx[top]
            vals[idx, o * kb:o * kb + b] = np.take_along_axis(block, top, axis=1)
    # A pair met in several orders counts once: sort each row by column, zero the repeats.
    by_col = np.argsort(cols, axis=1, kind="stable")
    cols, vals = np.take_along_axis(cols, by_col, axis=1), np.take_along_axis(vals, by_col, axis=1)
    vals[:, 1:][cols[:, 1:] == cols[:, :-1]] = 0.0
    if cols.shape[1] > k:
        top = np.argpartition(-vals, k - 1, axis=1)[:, :k]
        cols, vals = np.take_along_axis(cols, top, axis=1), np.take_along_axis(vals, top, axis=1)
    r = np.repeat(np.arange(n), cols.shape[1])
    c, v = cols.ravel(), vals.ravel()
    keep = v > 0
    w = coo_matrix((v[keep], (r[keep], c[keep])), shape=(n, n)).tocsr()
    return w.maximum(w.T).tocsr()


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
    counts = np.bincount(r, minlength=n)
    heavy = counts[r] > k  # entries of the rows that must drop some
    if heavy.any():
        hr, hc, hv = r[heavy], c[heavy], v[heavy]
        # Two stable sorts (cheaper than lexsort): by value descending, then by row, so each
        # row's entries run strongest first and equal values keep the (row, column) order.
        order = np.argsort(-hv, kind="stable")
        order = order[np.argsort(hr[order], kind="stable")]
        hr, hc, hv = hr[order], hc[order], hv[order]
        first = np.searchsorted(hr, hr)  # where each entry's row starts
        top = np.arange(len(hr)) - first < k
        light = ~heavy
        r = np.concatenate([r[light], hr[top]])
        c = np.concatenate([c[light], hc[top]])
        v = np.concatenate([v[light], hv[top]])
    keep = slice(None)
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
