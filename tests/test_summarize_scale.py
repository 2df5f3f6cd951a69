"""Long inputs (summarize/neighbors.py): the merge of near-identical sentences is exact, the
inverted index gives bounded_graph's graph when it leaves no term out, SimHash finds planted
neighbours, and inputs under the size take today's path."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.summarize import SummaryOptions, methods, neighbors, pipeline
from seqtool.summarize import textrank as tr

WORDS = [f"w{i}" for i in range(12)]


def expand(terms):
    """The distinct term lists of `terms` and their copies, as the pipeline merges them."""
    first, inverse, copies = neighbors.merge_duplicates(terms)
    return [terms[i] for i in first], inverse, copies


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=5), min_size=2, max_size=9),
       st.lists(st.integers(1, 4), min_size=9, max_size=9),
       st.sampled_from(["overlap", "bm25", "tfidf"]))
def test_merging_copies_gives_each_copy_its_unmerged_pagerank(base, reps, similarity):
    # Sentences repeated (in shuffled term order: the merge key is the multiset).
    terms = [list(reversed(t)) if r % 2 else list(t) for t, n in zip(base, reps) for r in range(n)]
    full = tr.textrank_scores(terms, similarity)
    unique, inverse, copies = expand(terms)
    merged = tr.textrank_scores(unique, similarity, copies=copies)[inverse]
    np.testing.assert_allclose(merged, full, rtol=1e-6, atol=1e-9)
    assert merged.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("threshold,self_loops", [(0.1, False), (None, False), (0.1, True)])
def test_merged_lexrank_and_lsa_equal_the_unmerged(threshold, self_loops):
    rng = np.random.default_rng(3)
    base = [list(rng.choice(WORDS, size=int(rng.integers(1, 6)))) for _ in range(15)]
    terms = [t for t in base for _ in range(int(rng.integers(1, 4)))]
    unique, inverse, copies = expand(terms)
    full = methods.lexrank_scores(terms, threshold, self_loops=self_loops)
    merged = methods.lexrank_scores(unique, threshold, self_loops=self_loops, copies=copies)[inverse]
    np.testing.assert_allclose(merged, full, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(methods.lsa_scores(unique, "half", copies)[inverse],
                               methods.lsa_scores(terms, "half"), rtol=1e-7, atol=1e-9)


def random_terms(n, vocab, seed, lo=3, hi=9):
    rng = np.random.default_rng(seed)
    return [[f"t{j}" for j in rng.choice(vocab, size=int(rng.integers(lo, hi)), replace=False)]
            for _ in range(n)]


@pytest.mark.parametrize("similarity", ["overlap", "bm25", "tfidf"])
def test_one_block_holding_every_node_gives_the_all_pairs_graph(monkeypatch, similarity):
    terms = random_terms(300, 200, seed=1)
    tm = tr.term_matrix(terms)
    pair = {"overlap": tr._overlap, "bm25": tr._bm25, "tfidf": tr._tfidf}[similarity](tm)
    monkeypatch.setattr(neighbors, "BLOCK_NODES", 10 ** 6)
    monkeypatch.setattr(neighbors, "KEEP_PER_BLOCK", 10 ** 6)
    exact = tr.bounded_graph(pair, tm.n, 20, not pair.symmetric)
    fast = neighbors.block_graph(pair, tm.n, 20)
    if similarity == "tfidf":  # no ties at the 20th edge: equal entry by entry
        assert exact.nnz == fast.nnz and abs(exact - fast).max() < 1e-12
    # overlap and BM25 tie often at the 20th edge, where either graph may keep either edge;
    # each row's strongest weights agree all the same
    for i in range(tm.n):
        np.testing.assert_allclose(np.sort(exact[i].data)[::-1][:5], np.sort(fast[i].data)[::-1][:5])


def test_blocks_approximate_the_all_pairs_ranking():
    # 3,000 nodes, blocks of 128: each node is compared with about 500 of them, not 3,000
    rng = np.random.default_rng(4)
    vocab = [f"t{i}" for i in range(3000)]
    p = 1.0 / np.arange(1, 3001) ** 1.1
    terms = [list(rng.choice(vocab, size=int(rng.integers(6, 14)), p=p / p.sum())) for _ in range(3000)]
    unique, inverse, copies = expand(terms)
    tm = tr.term_matrix(unique, copies)
    pair = tr._overlap(tm)
    exact = tr.pagerank(neighbors.quotient(tr.bounded_graph(pair, tm.n, 100, False), pair.diagonal(), copies),
                        copies=copies)
    fast = tr.pagerank(neighbors.quotient(neighbors.block_graph(pair, tm.n, 100), pair.diagonal(), copies),
                       copies=copies)
    from scipy.stats import spearmanr

    assert spearmanr(exact, fast)[0] > 0.8
    top_exact, top_fast = set(np.argsort(-exact)[:30]), set(np.argsort(-fast)[:30])
    assert len(top_exact & top_fast) >= 15


def test_minhash_orders_put_sentences_sharing_terms_together():
    from scipy.sparse import csr_matrix

    # rows 0 and 2 are the same set; row 1 shares nothing with them
    m = csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=float))
    for order in neighbors.minhash_orders(m, 3):
        pos = {int(node): i for i, node in enumerate(order)}
        assert abs(pos[0] - pos[2]) == 1 and pos[3] == 3  # together; no terms: last


def test_top_k_keeps_each_rows_strongest_and_symmetrises():
    r = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    c = np.array([1, 2, 3, 0, 3, 0, 1, 2])
    v = np.array([0.5, 0.9, 0.1, 0.5, 0.4, 0.9, 0.2, 5.0])  # (2, 2) is a diagonal: dropped
    w = neighbors.top_k(r, c, v, 4, 1).toarray()
    # row 0 keeps (0, 2); row 1 keeps (1, 0); row 2 keeps (2, 0); then max with the transpose
    expected = np.zeros((4, 4))
    expected[0, 2] = expected[2, 0] = 0.9
    expected[1, 0] = expected[0, 1] = 0.5
    np.testing.assert_array_equal(w, expected)


def test_simhash_finds_planted_near_neighbours():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, 50))
    noisy = centres[:, None, :] + 0.05 * rng.standard_normal((1000, 3, 50))  # 3 close copies each
    vectors = noisy.reshape(-1, 50)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    r, c = neighbors.simhash_candidates(vectors, k=8)
    found = set(zip(r.tolist(), c.tolist()))
    planted = [(3 * g + a, 3 * g + b) for g in range(1000) for a in range(3) for b in range(3) if a != b]
    recall = sum(p in found for p in planted) / len(planted)
    assert recall > 0.95
    assert len(found) < 0.05 * len(vectors) ** 2  # far from every pair


def test_inputs_under_the_size_take_todays_path(monkeypatch):
    called = []
    monkeypatch.setattr(neighbors, "merge_duplicates", lambda terms: called.append(1))
    sentences = [f"Sentence about topic {i % 7} and the river {i % 5}." for i in range(300)]
    pipeline.summarize_sentences(sentences, SummaryOptions(sentences=2))
    assert called == []


def test_a_long_input_picks_one_of_each_near_identical_group_and_ranks_as_the_unmerged_graph(monkeypatch):
    rng = np.random.default_rng(5)
    topics = [f"topic{i}" for i in range(400)]
    base = [f"The river {rng.choice(topics)} meets the sea near {rng.choice(topics)} and {rng.choice(topics)}."
            for _ in range(1000)]
    # Each sentence three times, with other numbers and case: near-identical, not exact repeats.
    sentences = [s.replace("The", f"the {j}") if j else s for s in base for j in range(3)]
    monkeypatch.setattr(neighbors, "SCALE_MIN_SENTENCES", 1000)
    options = SummaryOptions(sentences=5, max_neighbors=10 ** 5)  # every edge: the graphs are exact
    merged = pipeline.summarize_sentences(sentences, options)
    terms = pipeline.document_terms(sentences, pipeline.load_stopwords(None))
    keys = [tuple(sorted(terms[i])) for i in merged.indices]
    assert len(set(keys)) == 5  # never two copies of one sentence
    monkeypatch.setattr(neighbors, "SCALE_MIN_SENTENCES", 10 ** 9)
    exact = pipeline.summarize_sentences(sentences, SummaryOptions(sentences=15, max_neighbors=10 ** 5))
    # The unmerged graph picks the same 5 (and, as before merging, repeats them with other numbers).
    assert set(keys) == {tuple(sorted(terms[i])) for i in exact.indices}
    assert set(merged.indices) <= set(exact.indices)  # the first copy of each: the same score, earlier
    np.testing.assert_allclose(merged.scores, [exact.scores[exact.indices.index(i)] for i in merged.indices],
                               rtol=1e-5)


def test_fifty_thousand_sentences_of_every_method_stay_fast():
    import time

    terms = random_terms(50_000, 20_000, seed=2, lo=6, hi=14)
    for method in ("textrank", "lexrank", "lsa"):
        start = time.process_time()
        first, inverse, copies = neighbors.merge_duplicates(terms)
        scores = methods.sentence_scores(method, [terms[i] for i in first], copies=copies)[inverse]
        assert np.isfinite(scores).all() and len(scores) == 50_000
        assert time.process_time() - start < 30  # all pairs would take minutes
