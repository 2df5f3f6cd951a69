"""PageRank (networkx.pagerank's definition), the ranking of scores, and TextRank keywords.

Weighted PageRank where nodes without out-edges spread their rank uniformly: small dense
graphs are solved exactly with one linear solve, larger ones (and the bounded-neighbour
graphs of long documents) by a vectorised power iteration with networkx's stopping rule
(L1 change < n * tol). `engine="networkx"` runs networkx itself; the tests check both.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

EXACT_MAX_NODES = 400  # dense graphs up to this size: PageRank by one linear solve


def pagerank(weights, damping: float = 0.85, tol: float = 1e-6, max_iter: int = 100,
             engine: str = "numpy", copies: np.ndarray | None = None, exact: bool | None = None) -> np.ndarray:
    """PageRank of a weighted graph, as networkx.pagerank computes it.

    weights: (n, n) non-negative, dense or scipy sparse; weights[i, j] is the
    edge i -> j. Nodes without out-edges spread their rank uniformly.
    Returns (n,) scores summing to 1. copies: node i stands for copies[i] nodes
    (a merged graph): the jump and the dangling rank go in proportion to them,
    networkx's personalization and dangling vectors. exact: False forces the power
    iteration on a small dense graph (None: the linear solve up to EXACT_MAX_NODES).
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
    if isinstance(weights, np.ndarray) and n <= EXACT_MAX_NODES and exact is not False:
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
