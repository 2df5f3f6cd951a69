"""LexRank, LSA and Lead-k (seqtool.summarize.methods): hand-computed answers, the paper's formulas
written out with numpy, the sparse paths against the dense ones, and every method on arbitrary input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.summarize import methods as m
from seqtool.summarize import textrank as tr
from seqtool.summarize import terms as term_module  # term_matrix reads DENSE_CELLS there
from seqtool.summarize.pipeline import SummaryOptions, select

# ---------------------------------------------------------------- LexRank
# Four sentences; N = 4, df(a) = 3, df(b) = df(c) = 2, df(d) = df(e) = 1.
DOC4 = [["a", "b", "c"], ["a", "b"], ["c", "d"], ["e", "a"]]
IDF = {"a": math.log(4 / 3), "b": math.log(2), "c": math.log(2), "d": math.log(4), "e": math.log(4)}


def hand_cosine(x, y):
    """The paper's idf-modified cosine, term by term."""
    tf = lambda s, w: s.count(w)  # noqa: E731
    num = sum(tf(x, w) * tf(y, w) * IDF[w] ** 2 for w in set(x) & set(y))
    norm = lambda s: math.sqrt(sum((tf(s, w) * IDF[w]) ** 2 for w in set(s)))  # noqa: E731
    return num / (norm(x) * norm(y))


def walk(w):
    """D^-1 W, a row without weight jumping uniformly (PageRank's dangling nodes)."""
    strength = w.sum(axis=1, keepdims=True)
    return np.where(strength > 0, w / np.where(strength > 0, strength, 1), 1 / len(w))


def stationary(w, d=0.85):
    """p = (1 - d)/N + d (D^-1 W)^T p, solved directly."""
    n = len(w)
    return np.linalg.solve(np.eye(n) - d * walk(w).T, np.full(n, (1 - d) / n))


def test_lexrank_cosines_are_the_papers_idf_modified_cosine():
    cos = m.lexrank_graph(DOC4, threshold=None, self_loops=True)
    expected = np.array([[hand_cosine(x, y) for y in DOC4] for x in DOC4])
    np.testing.assert_allclose(cos, expected, atol=1e-12)
    np.testing.assert_allclose(np.diag(cos), 1.0)  # the paper's Algorithm 3 keeps cos(x, x) = 1
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(m.lexrank_graph(DOC4, threshold=None), expected, atol=1e-12)
    # The values the threshold test below relies on:
    assert cos[0, 1] == pytest.approx(0.734608, abs=1e-6)
    assert cos[0, 2] == pytest.approx(0.303431, abs=1e-6)
    assert cos[0, 3] == pytest.approx(0.057218, abs=1e-6)
    assert cos[1, 3] == pytest.approx(0.077889, abs=1e-6)
    assert cos[1, 2] == cos[2, 3] == 0.0


def test_thresholded_lexrank_is_the_stationary_walk_on_edges_above_the_threshold():
    w = m.lexrank_graph(DOC4)  # t = 0.1: edges 0-1 and 0-2; 0-3 (0.057) and 1-3 (0.078) fall below
    np.testing.assert_array_equal(w, [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    scores = m.lexrank_scores(DOC4)
    np.testing.assert_allclose(scores, stationary(w), atol=1e-12)
    # By hand, d = 0.85: sentence 3 has no edge and jumps uniformly, p3 = 0.15/4 + 0.85 p3/4 = 1/21;
    # p1 = p2 = 0.15/4 + 0.85 (p0/2 + p3/4) and p0 + 2 p1 = 20/21 give p0 = 120/259, p1 = 190/777.
    np.testing.assert_allclose(scores, [120 / 259, 190 / 777, 190 / 777, 1 / 21], atol=1e-12)
    assert list(tr.rank_order(scores)) == [0, 1, 2, 3]
    # The paper's Algorithm 3 literally (self-loops): sentence 3 then keeps what it gets, p3 = 1/4, and
    # outranks the linked sentences 1 and 2 (p1 = 0.15/4 + 0.85 (p0/3 + p1/2), p0 + 2 p1 = 3/4).
    looped = m.lexrank_scores(DOC4, self_loops=True)
    np.testing.assert_array_equal(m.lexrank_graph(DOC4, self_loops=True), w + np.eye(4))
    np.testing.assert_allclose(looped, [171 / 548, 30 / 137, 30 / 137, 1 / 4], atol=1e-12)
    assert list(tr.rank_order(looped)) == [0, 3, 1, 2]
    # Lower the threshold under 0.078 and 1-3 joins; under 0.057, 0-3 too.
    assert m.lexrank_graph(DOC4, threshold=0.06)[1, 3] == 1.0
    assert m.lexrank_graph(DOC4, threshold=0.06)[0, 3] == 0.0
    assert m.lexrank_graph(DOC4, threshold=0.05)[0, 3] == 1.0


def test_continuous_lexrank_weighs_edges_by_cosine_and_matches_a_power_iteration():
    cos = np.array([[hand_cosine(x, y) if i != j else 0.0 for j, y in enumerate(DOC4)]
                    for i, x in enumerate(DOC4)])
    scores = m.lexrank_scores(DOC4, threshold=None)
    np.testing.assert_allclose(scores, stationary(cos), atol=1e-12)
    # The paper's power method with damping, run to convergence from the uniform vector.
    p = walk(cos)
    x = np.full(4, 0.25)
    for _ in range(500):
        x = 0.15 / 4 + 0.85 * p.T @ x
    np.testing.assert_allclose(scores, x, atol=1e-12)
    assert scores.sum() == pytest.approx(1.0)
    assert int(np.argmax(scores)) == 0
    np.fill_diagonal(cos, 1.0)
    np.testing.assert_allclose(m.lexrank_scores(DOC4, None, self_loops=True), stationary(cos), atol=1e-12)


def test_lexrank_of_a_sentence_without_terms_and_of_a_single_sentence():
    # An all-stop-word sentence has no edge at all (not even to itself): it spreads its rank uniformly.
    scores = m.lexrank_scores([["a", "b"], [], ["a", "c"], ["d"]])
    assert np.isfinite(scores).all() and scores.sum() == pytest.approx(1.0)
    assert scores[1] < scores[0]
    # One sentence: every idf is log(1/1) = 0, so no edges; the one sentence gets all the rank.
    np.testing.assert_allclose(m.lexrank_scores([["x", "y"]]), [1.0])
    assert m.lexrank_scores([]).shape == (0,)
    with pytest.raises(ValueError, match="threshold"):
        m.lexrank_scores(DOC4, threshold=1.5)


def grouped_sentences(groups=6, size=10, seed=0):
    """Sentences in disjoint vocabularies: each has at most size - 1 neighbours."""
    rng = np.random.default_rng(seed)
    out = []
    for g in range(groups):
        vocab = [f"g{g}w{i}" for i in range(8)]
        out += [list(rng.choice(vocab, size=rng.integers(1, 6))) for _ in range(size)]
    return out


@pytest.mark.parametrize("threshold", [0.1, None])
@pytest.mark.parametrize("self_loops", [False, True])
def test_bounded_sparse_lexrank_equals_the_dense_graph_when_no_edge_is_cut(threshold, self_loops):
    sents = grouped_sentences()  # 60 sentences, at most 9 neighbours each
    dense = m.lexrank_graph(sents, threshold, self_loops=self_loops, max_neighbors=100)
    sparse = m.lexrank_graph(sents, threshold, self_loops=self_loops, max_neighbors=20)  # 60 > 21: bounded
    assert isinstance(dense, np.ndarray) and not isinstance(sparse, np.ndarray)
    np.testing.assert_allclose(sparse.toarray(), dense, atol=1e-12)
    np.testing.assert_allclose(m.lexrank_scores(sents, threshold, self_loops=self_loops, max_neighbors=20),
                               m.lexrank_scores(sents, threshold, self_loops=self_loops, max_neighbors=100),
                               atol=1e-5)


def test_lexrank_on_a_sparse_term_matrix_equals_the_dense_one(monkeypatch):
    sents = grouped_sentences(groups=3)
    dense = m.lexrank_scores(sents, None)
    monkeypatch.setattr(term_module, "DENSE_CELLS", 0)  # term_matrix returns scipy CSR counts
    assert tr.term_matrix(sents).sparse
    np.testing.assert_allclose(m.lexrank_scores(sents, None), dense, atol=1e-12)


# ---------------------------------------------------------------- LSA
def test_lsa_on_a_hand_decomposed_matrix():
    # Terms (a, b) by sentences: A = [[2, 1, 0], [0, 0, 1]]; A^T A = [[4, 2, 0], [2, 1, 0], [0, 0, 1]]
    # has eigenvalues 5 (v = (2, 1, 0)/sqrt 5) and 1 (v = (0, 0, 1)): sigma = (sqrt 5, 1).
    doc = [["a", "a"], ["a"], ["b"]]
    # "half": 1 < sqrt(5)/2 = 1.118 is dropped, so score = sqrt(5) * |v_1| = (2, 1, 0).
    np.testing.assert_allclose(m.lsa_scores(doc), [2.0, 1.0, 0.0], atol=1e-12)
    # Every dimension: the length of each sentence's column of A, (2, 1, 1).
    np.testing.assert_allclose(m.lsa_scores(doc, "all"), [2.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(m.lsa_scores(doc, 2), [2.0, 1.0, 1.0], atol=1e-12)


def test_lsa_equals_the_formula_on_numpys_svd():
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(12)]
    doc = [list(rng.choice(vocab, size=rng.integers(1, 9))) for _ in range(9)]
    tm = tr.term_matrix(doc)
    a = tm.counts.T  # (V, N) term-by-sentence
    _, sigma, vt = np.linalg.svd(a, full_matrices=False)
    for dims in ("half", "all", 1, 3):
        k = {"half": int((sigma >= sigma[0] / 2).sum()), "all": len(sigma)}.get(dims, dims)
        expected = np.sqrt(((sigma[:k, None] * vt[:k]) ** 2).sum(axis=0))  # sqrt(sum_k (sigma_k v_ki)^2)
        np.testing.assert_allclose(m.lsa_scores(doc, dims), expected, atol=1e-10)


def test_lsa_dimension_rules():
    sigma = np.array([4.0, 2.0, 1.99, 0.0])
    assert m.kept_dimensions(sigma, "half") == 2  # 2.0 is exactly half: kept
    assert m.kept_dimensions(sigma, "all") == 4
    assert m.kept_dimensions(sigma, 3) == 3 and m.kept_dimensions(sigma, 10) == 4
    assert m.kept_dimensions(np.zeros(3), "half") == 3
    for bad in (0, -1, "most", True, 1.5):
        with pytest.raises(ValueError, match="dimensions"):
            m.kept_dimensions(sigma, bad)


def test_lsa_scores_do_not_depend_on_the_basis_of_equal_singular_values():
    # Three sentences with disjoint words of the same count: sigma = (1, 1, 1), any basis is an SVD.
    np.testing.assert_allclose(m.lsa_scores([["a"], ["b"], ["c"]]), [1.0, 1.0, 1.0], atol=1e-12)


def test_lsa_on_a_sparse_term_matrix_uses_the_top_singular_triplets(monkeypatch):
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(40)]
    doc = [list(rng.choice(vocab, size=rng.integers(2, 10))) for _ in range(30)]
    dense = m.lsa_scores(doc)
    monkeypatch.setattr(term_module, "DENSE_CELLS", 0)
    np.testing.assert_allclose(m.lsa_scores(doc), dense, atol=1e-8)


def test_lsa_without_any_term_scores_zero():
    np.testing.assert_allclose(m.lsa_scores([[], []]), [0.0, 0.0])
    assert m.lsa_scores([]).shape == (0,)


# ---------------------------------------------------------------- Lead-k and dispatch
def test_lead_scores_rank_the_document_order():
    scores = m.lead_scores([["x"], [], ["y"], ["x"]])
    np.testing.assert_allclose(scores, [1.0, 0.75, 0.5, 0.25])
    sentences = ["One.", "Two.", "Three.", "Four."]
    assert select(sentences, tr.rank_order(scores), SummaryOptions(sentences=2)) == [0, 1]
    assert m.lead_scores([]).shape == (0,)


def test_sentence_scores_dispatches_by_method():
    np.testing.assert_allclose(m.sentence_scores("textrank", DOC4), tr.textrank_scores(DOC4))
    np.testing.assert_allclose(m.sentence_scores("textrank", DOC4, similarity="tfidf"),
                               tr.textrank_scores(DOC4, "tfidf"))
    np.testing.assert_allclose(m.sentence_scores("lexrank", DOC4), m.lexrank_scores(DOC4))
    np.testing.assert_allclose(m.sentence_scores("lexrank", DOC4, lexrank_threshold=None),
                               m.lexrank_scores(DOC4, None))
    np.testing.assert_allclose(m.sentence_scores("lsa", DOC4, lsa_dimensions=1), m.lsa_scores(DOC4, 1))
    np.testing.assert_allclose(m.sentence_scores("lead", DOC4), m.lead_scores(DOC4))
    with pytest.raises(ValueError, match="unknown method 'luhn'"):
        m.sentence_scores("luhn", DOC4)
    assert set(m.METHODS) == {"textrank", "lexrank", "lsa", "lead"} and m.DEFAULT_METHOD == "textrank"


# ---------------------------------------------------------------- every method, any input
terms = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "ß", "東京", "x" * 30]), max_size=8),
                 max_size=25)


@settings(max_examples=150, deadline=None)
@given(terms)
def test_every_method_gives_one_finite_score_per_sentence(sentences):
    variants = [("textrank", {}), ("textrank", {"similarity": "bm25"}), ("lexrank", {}),
                ("lexrank", {"lexrank_threshold": None}), ("lsa", {}), ("lsa", {"lsa_dimensions": "all"}),
                ("lsa", {"lsa_dimensions": 1}), ("lead", {})]
    for method, params in variants:
        scores = m.sentence_scores(method, sentences, **params)
        assert scores.shape == (len(sentences),), (method, params)
        assert np.isfinite(scores).all(), (method, params)
        assert (scores >= 0).all(), (method, params)
        if method in ("textrank", "lexrank") and sentences:
            assert scores.sum() == pytest.approx(1.0), (method, params)
