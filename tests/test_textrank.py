"""TextRank internals: PageRank, similarities, sparse graphs, ties, keywords."""

import math

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix

from seqtool.summarize import textrank as tr

# A hand-built 4-sentence graph: a path 0-1-2 with a heavier edge 1-2, and 3 hanging off 2.
W4 = np.array([[0.0, 1.0, 0.0, 0.0],
               [1.0, 0.0, 2.0, 0.0],
               [0.0, 2.0, 0.0, 0.5],
               [0.0, 0.0, 0.5, 0.0]])


def hand_power_iteration(w, d=0.85, steps=200):
    """PageRank by the textbook formula, one node at a time (no numpy)."""
    n = len(w)
    out = [sum(row) for row in w]
    x = [1.0 / n] * n
    for _ in range(steps):
        dangling = sum(x[j] for j in range(n) if out[j] == 0)
        x = [(1 - d) / n + d * (sum(x[j] * w[j][i] / out[j] for j in range(n) if out[j] > 0) + dangling / n)
             for i in range(n)]
    return x


def test_pagerank_of_a_hand_built_graph_matches_networkx_and_a_hand_power_iteration():
    ours = tr.pagerank(W4)
    hand = hand_power_iteration(W4.tolist())
    graph = nx.Graph()
    for i, j in [(0, 1), (1, 2), (2, 3)]:
        graph.add_edge(i, j, weight=W4[i, j])
    ref = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    np.testing.assert_allclose(ours, hand, atol=1e-9)
    np.testing.assert_allclose(ours, [ref[i] for i in range(4)], atol=1e-9)
    assert ours.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ours, [0.151769, 0.403301, 0.348231, 0.096699], atol=1e-6)
    # Node 1 has the most edge weight (1 + 2), then 2 (2 + 0.5): the centre of the path.
    assert list(tr.rank_order(ours)) == [1, 2, 0, 3]


@pytest.mark.parametrize("engine", ["numpy", "networkx"])
def test_pagerank_engines_agree_with_dangling_nodes_and_sparse_input(engine):
    w = np.zeros((5, 5))
    w[:4, :4] = W4  # node 4 has no edges at all
    dense = tr.pagerank(w, engine=engine)
    sparse = tr.pagerank(csr_matrix(w), engine=engine)
    hand = hand_power_iteration(w.tolist())
    np.testing.assert_allclose(dense, hand, atol=2e-6)
    np.testing.assert_allclose(sparse, hand, atol=2e-6)


def test_pagerank_with_no_edges_is_uniform_and_ties_go_by_position():
    scores = tr.pagerank(np.zeros((4, 4)))
    np.testing.assert_allclose(scores, 0.25)
    assert list(tr.rank_order(scores)) == [0, 1, 2, 3]
    # Differences below 1e-9 (relative) are float noise: a tie, decided by position.
    assert list(tr.rank_order(np.array([0.3, 0.3 + 1e-13, 0.2]))) == [0, 1, 2]


def test_overlap_is_the_papers_formula_on_a_hand_computed_pair():
    s1, s2 = ["cat", "sat", "mat"], ["cat", "mat", "dog", "ran"]
    w = tr.similarity_graph([s1, s2], "overlap")
    expected = 2 / (math.log(3) + math.log(4))  # 2 shared words, |S1| = 3, |S2| = 4
    assert w[0, 1] == pytest.approx(expected) == pytest.approx(0.804859, abs=1e-6)
    assert w[1, 0] == w[0, 1] and w[0, 0] == 0.0


def test_overlap_of_two_one_word_sentences_does_not_divide_by_zero():
    w = tr.similarity_graph([["sun"], ["sun"], ["moon"]], "overlap")
    assert w[0, 1] == 1.0 and w[0, 2] == 0.0


def test_bm25_on_hand_computed_pairs():
    sents = [["a", "b"], ["a", "c", "c"], ["d"]]
    # N = 3 sentences; df(a) = 2 -> log((3-2+.5)/(2+.5)) < 0 -> 0.25 * mean IDF (gensim's rule).
    idf_rare = math.log(2.5 / 1.5)
    idf_a = 0.25 * (math.log(1.5 / 2.5) + 3 * idf_rare) / 4
    np.testing.assert_allclose(tr.bm25_idf(tr.term_matrix(sents)), [idf_a, idf_rare, idf_rare, idf_rare])
    avgdl = 2.0
    k1, b = 1.2, 0.75
    # Query S1 against S2 (|S2| = 3): only "a" matches, tf = 1.
    s1_s2 = idf_a * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 3 / avgdl))
    # Query S2 against S1 (|S1| = 2): "a" matches once; "c" is not in S1.
    s2_s1 = idf_a * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 2 / avgdl))
    assert s1_s2 == pytest.approx(0.053010, abs=1e-6)
    raw = tr._bm25(tr.term_matrix(sents)).rows(0, 3)
    assert raw[0, 1] == pytest.approx(s1_s2) and raw[1, 0] == pytest.approx(s2_s1)
    w = tr.similarity_graph(sents, "bm25")
    assert w[0, 1] == w[1, 0] == pytest.approx((s1_s2 + s2_s1) / 2)
    assert w[0, 2] == 0.0 and w[2, 2] == 0.0


def test_bm25_floor_is_never_negative_when_the_mean_idf_is():
    sents = [[], ["a"], ["a"], ["a", "b"], ["a", "b"]]
    # N = 5: idf(a) = log(1.5 / 4.5) < 0, idf(b) = log(3.5 / 2.5); their mean is negative, so
    # gensim's floor 0.25 * mean would be negative: it is clipped to 0 and "a" adds nothing.
    idf_b = math.log(1.4)
    np.testing.assert_allclose(tr.bm25_idf(tr.term_matrix(sents)), [0.0, idf_b])
    # The only edge: S3 <-> S4 through "b", tf 1, |S| = 2, avgdl = 6 / 5 = 1.2 -> K = 1.2 (0.25 + 0.75 * 2 / 1.2) = 1.8.
    w = tr.similarity_graph(sents, "bm25")
    expected = np.zeros((5, 5))
    expected[3, 4] = expected[4, 3] = idf_b * 2.2 / (1 + 1.8)
    np.testing.assert_allclose(w, expected, atol=1e-12)
    # PageRank: S0-S2 dangle (p each, p = 0.15 / 5 + 0.85 * 3p / 5 -> 3/49), S3 and S4 share the rest (20/49).
    np.testing.assert_allclose(tr.textrank_scores(sents, "bm25"), np.array([3, 3, 3, 20, 20]) / 49)


def test_tfidf_cosine_of_identical_and_disjoint_sentences():
    w = tr.similarity_graph([["x", "y"], ["x", "y"], ["z"]], "tfidf")
    assert w[0, 1] == pytest.approx(1.0) and w[0, 2] == 0.0 and w[2, 1] == 0.0


class FakeVectors:
    words = ["king", "queen", "apple"]
    matrix = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0]], dtype=np.float32)
    index = {w: i for i, w in enumerate(words)}


def test_embedding_similarity_is_cosine_of_averaged_vectors_clipped_at_zero():
    w = tr.similarity_graph([["king"], ["queen", "unknown"], ["apple"]], "embedding", vectors=FakeVectors())
    assert w[0, 1] == pytest.approx(0.9 / math.hypot(0.9, 0.1), rel=1e-5)
    assert w[0, 2] == 0.0  # cosine -1 is no edge, not a negative one


@pytest.mark.parametrize("similarity", ["overlap", "bm25", "tfidf"])
def test_bounded_graph_keeps_everything_when_the_bound_allows(similarity, monkeypatch):
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(30)]
    sents = [list(rng.choice(vocab, size=rng.integers(1, 8))) for _ in range(40)]
    dense = tr.similarity_graph(sents, similarity, max_neighbors=100)
    monkeypatch.setattr(tr, "BLOCK_ROWS", 7)  # several row blocks
    pair = {"overlap": tr._overlap, "bm25": tr._bm25, "tfidf": tr._tfidf}[similarity](tr.term_matrix(sents))
    sparse = tr.bounded_graph(pair, 40, 39, similarity == "bm25").toarray()
    np.testing.assert_allclose(sparse, dense, atol=1e-12)


@pytest.mark.parametrize("similarity", ["overlap", "bm25", "tfidf"])
def test_a_dense_bounded_graph_has_the_csr_graphs_edges_and_scores(similarity):
    """A long article (more than max_neighbors + 1 sentences, up to DENSE_GRAPH_MAX) gets the
    bounded graph as an ndarray (no scipy import): the same edges bit for bit, and the same
    power iteration, so the same scores as the CSR graph."""
    rng = np.random.default_rng(5)
    vocab = [f"w{i}" for i in range(60)]
    sents = [list(rng.choice(vocab, size=rng.integers(1, 10))) for _ in range(150)]
    pair = {"overlap": tr._overlap, "bm25": tr._bm25, "tfidf": tr._tfidf}[similarity](tr.term_matrix(sents))
    sparse = tr.bounded_graph(pair, 150, 12, similarity == "bm25")
    dense = tr.bounded_graph(pair, 150, 12, similarity == "bm25", dense=True)
    assert isinstance(dense, np.ndarray) and not isinstance(sparse, np.ndarray)
    assert np.array_equal(dense, sparse.toarray())
    graph = tr.similarity_graph(sents, similarity, max_neighbors=12)
    assert isinstance(graph, np.ndarray) and np.array_equal(graph, dense)
    scores = tr.textrank_scores(sents, similarity, max_neighbors=12)
    np.testing.assert_allclose(scores, tr.pagerank(sparse), rtol=1e-12, atol=0)
    assert not np.allclose(scores, tr.pagerank(dense), rtol=1e-12, atol=0)  # not the exact solve


def test_thousands_of_sentences_use_a_bounded_sparse_graph():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(2000)]
    sents = [[vocab[j] for j in row] for row in rng.integers(0, len(vocab), size=(3000, 12))]
    graph = tr.similarity_graph(sents, "tfidf", max_neighbors=20)
    assert not isinstance(graph, np.ndarray)
    assert graph.nnz <= 2 * 20 * 3000
    assert (graph != graph.T).nnz == 0
    scores = tr.textrank_scores(sents, "tfidf", max_neighbors=20)
    assert scores.shape == (3000,) and scores.sum() == pytest.approx(1.0)


def test_keywords_rank_the_hub_word_first():
    sents = [["solar", "panel"], ["solar", "power"], ["solar", "farm"], ["wind", "farm"]]
    words = [w for w, _ in tr.keywords(sents, 2)]
    assert words == ["solar", "farm"]
    assert tr.keywords([], 3) == [] and tr.keywords([["one"]], 3) == [("one", 1.0)]


def _general_overlap_graph(sentences):
    """The overlap graph by the general path (term matrix, Pairwise rows, post-step)."""
    w = tr._overlap(tr.term_matrix(sentences)).rows(0, len(sentences))
    np.fill_diagonal(w, 0.0)
    return w


def test_small_overlap_graph_is_the_general_paths_bit_for_bit():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(40)]
    docs = [[["sun"]], [[], ["a"]], [["a", "a", "b"], ["a"], [], ["b", "c", "c", "c"]]]
    for _ in range(300):  # random articles: empty sentences, repeats, 1 to 101 sentences
        n = int(rng.integers(1, 102))
        docs.append([list(rng.choice(words, size=int(rng.integers(0, 12)))) for _ in range(n)])
    for sents in docs:
        fast = tr.similarity_graph(sents, "overlap")  # n <= max_neighbors + 1: the small path
        slow = _general_overlap_graph(sents)
        assert fast.shape == slow.shape and fast.tobytes() == slow.tobytes()
        assert tr.textrank_scores(sents).tobytes() == tr.pagerank(slow, exact=None).tobytes()
