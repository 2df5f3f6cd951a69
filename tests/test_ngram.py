"""seqtool.ngram: known answers worked out by hand, normalisation, ARPA round trips,
agreement with KenLM's own query code (the `kenlm` module)."""

from __future__ import annotations

import math
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.ngram import NgramConfig, arpa_word, read_arpa, train_ngram, write_arpa
from seqtool.ngram.counts import BOS_ID, EOS_ID, UNK_ID, NgramCounter

# Three sentences; tokens <s> b d </s> / <s> b d b </s> / <s> b b </s>.
# Vocabulary <unk> <s> </s> b d: 4 predictable tokens (V = 4, <s> excluded).
# Bigram counts: <s> b 3, b d 2, b </s> 2, d </s> 1, d b 1, b b 1.
CORPUS = ["b d", "b d b", "b b"]


def model(smoothing, order=2, **kw):
    return train_ngram(CORPUS, order=order, smoothing=smoothing, **kw)


def p(m, word, context=(), bos=True):
    ids = m.context_ids(list(context), bos)
    return 10.0 ** m.next_log10(ids)[m.index.get(word, {"</s>": EOS_ID, "<unk>": UNK_ID}.get(word))]


def bow(m, order, row):
    return 10.0 ** float(m.bow[order][row])


def close(a, b, tol=1e-6):
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=1e-12)


# ----------------------------------------------------------------- known answers
def test_mle_known_answers():
    m = model("mle")
    assert close(p(m, "d", ["b"], bos=False), F(2, 5))    # c(b d) / c(b .) = 2/5
    assert close(p(m, "b", [], bos=True), 1)              # every sentence starts with b
    assert close(p(m, "</s>", ["d"], bos=False), F(1, 2))
    assert p(m, "d", ["d"], bos=False) == 0               # unseen bigram after a seen history
    assert close(p(m, "d", ["<unk>"], bos=False), F(1, 4))  # unseen history: uniform 1/V
    # p(b d) = p(b|<s>) p(d|b) p(</s>|d) = 1 * 2/5 * 1/2
    assert close(m.sentence_log10(["b", "d"]), math.log10(1 / 5))
    uni = model("mle", order=1)
    assert close(p(uni, "b"), F(5, 10)) and close(p(uni, "</s>"), F(3, 10))
    assert p(uni, "<unk>") == 0


def test_addk_known_answers():
    m = model("addk", k=0.5)
    assert close(p(m, "d", ["b"], bos=False), F(5, 14))    # (2 + .5) / (5 + .5 * 4)
    assert close(p(m, "<unk>", ["b"], bos=False), F(1, 14))  # (0 + .5) / 7
    assert close(p(m, "b", ["d"], bos=False), F(3, 8))      # (1 + .5) / (2 + 2)
    assert close(p(m, "d", ["d"], bos=False), F(1, 8))
    assert close(p(m, "b", ["<unk>"], bos=False), F(1, 4))  # unseen history
    assert close(bow(m, 1, m.index["b"]) * F(1, 4), F(1, 14))  # bow(b) * uniform = add-k mass
    uni = model("addk", order=1, k=1)
    assert close(p(uni, "d"), F(3, 14)) and close(p(uni, "<unk>"), F(1, 14))  # (c + 1) / (10 + 4)


def test_kn_known_answers():
    m = model("kn")
    # Unigrams use continuation counts: b after {<s>, d, b} = 3, d after {b} = 1, </s> after {d, b} = 2.
    # D1 = n1 / (n1 + 2 n2) = 1/3 (unigram), 3/7 (bigram: n1 = 3, n2 = 2).
    assert m.info["discounts"] == {"1": [pytest.approx(1 / 3)], "2": [pytest.approx(3 / 7)]}
    # p(w) = (a(w) - 1/3) / 6 + gamma / V with gamma = (1/3 * 3) / 6 = 1/6
    assert close(p(m, "b", bos=False), F(35, 72))
    assert close(p(m, "d", bos=False), F(11, 72))
    assert close(p(m, "</s>", bos=False), F(23, 72))
    assert close(p(m, "<unk>", bos=False), F(3, 72))
    # p(d|b) = (2 - 3/7) / 5 + gamma(b) p(d), gamma(b) = 3/7 * 3 / 5 = 9/35
    assert close(p(m, "d", ["b"], bos=False), F(99, 280))
    assert close(bow(m, 1, m.index["b"]), F(9, 35))
    # p(b|<s>) = (3 - 3/7) / 3 + (3/7 * 1 / 3) p(b)
    assert close(p(m, "b"), F(467, 504))
    assert close(bow(m, 1, BOS_ID), F(1, 7))


def test_mkn_known_answers():
    m = model("mkn")
    # Bigram count-of-counts n1..n4 = 3, 2, 1, 0: Y = 3/7, D1 = 3/7, D2 = 19/14, D3+ = 3.
    # Unigram adjusted count-of-counts 1, 1, 1, 0: Y = 1/3, D1 = 1/3, D2 = 1, D3+ = 3.
    d = m.info["discounts"]
    assert d["2"] == pytest.approx([3 / 7, 19 / 14, 3.0])
    assert d["1"] == pytest.approx([1 / 3, 1.0, 3.0])
    # Unigrams: u = (a - D(a)) / 6; gamma = (1/3 + 1 + 3) / 6 = 13/18, spread over V = 4.
    assert close(p(m, "b", bos=False), F(13, 72))      # a(b) = 3: (3 - 3) / 6 + 13/72
    assert close(p(m, "d", bos=False), F(21, 72))
    assert close(p(m, "</s>", bos=False), F(25, 72))
    assert close(p(m, "<unk>", bos=False), F(13, 72))
    # Context b: den 5, gamma(b) = (3/7 * 1 + 19/14 * 2) / 5 = 22/35
    assert close(bow(m, 1, m.index["b"]), F(22, 35))
    assert close(p(m, "d", ["b"], bos=False), F(131, 420))
    assert close(p(m, "</s>", ["b"], bos=False), F(437, 1260))
    assert close(p(m, "b", ["b"], bos=False), F(41, 180))
    assert close(p(m, "<unk>", ["b"], bos=False), F(143, 1260))  # only the backoff part
    # Context d: u = (1 - 3/7) / 2, gamma(d) = 3/7 * 2 / 2 = 3/7
    assert close(bow(m, 1, m.index["d"]), F(3, 7))
    assert close(p(m, "</s>", ["d"], bos=False), F(73, 168))
    # Context <s>: only b, a(<s> b) = 3 so D3+ = 3 takes all of it: gamma = 1, bow = 1.
    assert close(bow(m, 1, BOS_ID), 1)
    assert close(p(m, "b"), F(13, 72))
    sentence = F(13, 72) * F(131, 420) * F(73, 168)
    assert close(m.sentence_log10(["b", "d"]), math.log10(sentence))


def test_wb_and_stupid_backoff_known_answers():
    wb = model("wb")
    # unigram: (c + T/V) / (N + T) with c(b) = 5, N = 10, T = 3
    assert close(p(wb, "b", bos=False), F(23, 52))
    assert close(p(wb, "d", ["b"], bos=False), F(137, 416))  # (2 + 3 p(d)) / (5 + 3)
    assert close(bow(wb, 1, wb.index["b"]), F(3, 8))
    sb = model("stupid-backoff")
    assert close(p(sb, "d", ["b"], bos=False), F(2, 5))
    assert close(p(sb, "d", ["d"], bos=False), 0.4 * F(2, 10))  # unseen: 0.4 * c(d) / N


# ----------------------------------------------------------------- normalisation
@pytest.fixture(scope="module")
def small_corpus():
    with open(Path(__file__).resolve().parent.parent / "corpora" / "tinyshakespeare.txt", encoding="utf-8") as fh:
        return [line for _, line in zip(range(400), fh)]


@pytest.mark.parametrize("smoothing", ["mkn", "kn", "wb", "addk", "mle"])
def test_probabilities_sum_to_one(small_corpus, smoothing):
    m = train_ngram(small_corpus, order=3, smoothing=smoothing)
    contexts = [[], ["First"], ["First", "Citizen:"], ["the", "king"], ["zzz-unseen"], ["of", "zzz-unseen"],
                ["I", "am"], ["You", "are", "all"]]
    for ctx in contexts:
        for bos in (True, False):
            total = np.sum(10.0 ** m.next_log10(m.context_ids(ctx, bos)))
            assert abs(total - 1.0) < 1e-6, (smoothing, ctx, bos, total)


def test_pruned_and_vocab_limited_models_sum_to_one(small_corpus):
    for kw in ({"prune": [0, 1]}, {"prune": [0, 0, 1]}, {"vocab_size": 100}, {"min_freq": 3}):
        m = train_ngram(small_corpus, order=3, **kw)
        for ctx in ([], ["First", "Citizen:"], ["the", "king"], ["of", "the"]):
            total = np.sum(10.0 ** m.next_log10(m.context_ids(ctx)))
            assert abs(total - 1.0) < 1e-6, (kw, ctx, total)
    full = train_ngram(small_corpus, order=3)
    pruned = train_ngram(small_corpus, order=3, prune=[0, 1])
    assert pruned.sizes()[1] < full.sizes()[1] and pruned.sizes()[0] == full.sizes()[0]
    limited = train_ngram(small_corpus, order=3, vocab_size=100)
    assert len(limited.words) == 103


def test_stupid_backoff_is_not_normalised_but_predict_is(small_corpus):
    m = train_ngram(small_corpus, order=3, smoothing="stupid-backoff")
    raw = np.sum(10.0 ** m.next_log10(m.context_ids(["First", "Citizen:"])))
    assert raw > 1.01
    assert abs(sum(pr for _, pr in m.predict("the king", top=10 ** 6)) - 1.0) < 1e-6


def test_scoring_agrees_with_the_next_word_distribution(small_corpus):
    m = train_ngram(small_corpus, order=4)
    sentence = "First Citizen: you are all resolved rather to zzz die".split()
    ids = [BOS_ID] + m.encode(sentence) + [EOS_ID]
    per_token = m.token_logprobs(np.array(ids))
    for t in range(1, len(ids)):
        assert per_token[t] == pytest.approx(m.next_log10(ids[:t])[ids[t]], abs=1e-9)


# ----------------------------------------------------------------- counting
@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "<unk>", "<s>"]), max_size=7), min_size=1, max_size=12),
       st.integers(min_value=3, max_value=40))
def test_chunked_counting_equals_one_pass(sentences, chunk):
    def run(chunk_tokens):
        c = NgramCounter(3, chunk_tokens=chunk_tokens)
        for s in sentences:
            c.add(s)
        return c.finish()

    a, b = run(1 << 20), run(chunk)
    assert a.words == b.words and np.array_equal(a.unigram, b.unigram)
    for k in (2, 3):
        assert np.array_equal(a.keys[k], b.keys[k]) and np.array_equal(a.counts[k], b.counts[k])
        assert np.array_equal(a.suffix[k], b.suffix[k])
    # brute force: every trigram count
    from collections import Counter

    want = Counter()
    for s in sentences:
        toks = [0] + s + [1]  # sentinels: a corpus word "<s>" is not the sentence start
        want.update(tuple(toks[i:i + 3]) for i in range(len(toks) - 2))
    assert sum(want.values()) == int(a.counts[3].sum()) and len(want) == a.keys[3].size


def test_corpus_unk_is_the_unknown_word():
    # The token <unk> is KenLM's unknown word (id 0), counted like any word; <UNK> and <s> are ordinary.
    m = train_ngram(["the <unk> rose", "a <unk> fell", "<UNK> <s> x"], order=2)
    assert "<unk>" not in m.words[3:] and "<UNK>" in m.index and "<s>" in m.index
    assert m.encode(["<unk>", "zebra"]) == [UNK_ID, UNK_ID]
    res = m.score(["the <unk> rose"])
    assert res.oov == 1 and res.tokens == 4
    # "the zebra rose" reads as "the <unk> rose": the same n-grams, the same score.
    assert m.score(["the zebra rose"]).log10_prob == res.log10_prob
    assert m.keys[2].size == 12  # 4 + 4 + 4 bigrams: none is lost or merged around <unk>


def test_tiny_corpus_falls_back_with_one_warning():
    warnings = []
    m = train_ngram(["a b"], order=3, warn=warnings.append)
    assert len(warnings) == 1 and "fallback" in warnings[0] and "\n" not in warnings[0]
    assert math.isfinite(m.sentence_log10(["a", "b"]))


# ----------------------------------------------------------------- ARPA
def test_arpa_round_trip_is_exact(tmp_path, small_corpus):
    m = train_ngram(small_corpus + ["the <unk> <s> </s> <unk_> word"], order=3)
    for name in ("m.arpa", "m.arpa.gz"):
        write_arpa(m, tmp_path / name)
        back = read_arpa(tmp_path / name)
        assert back.words == m.words and back.sizes() == m.sizes()
        test = small_corpus[:50] + ["zebra <unk> <s> </s> <unk_> word"]
        assert back.score(test).log10_prob == m.score(test).log10_prob


def test_char_level_arpa_round_trip(tmp_path, small_corpus):
    m = train_ngram(small_corpus[:100], order=4, level="char")
    write_arpa(m, tmp_path / "c.arpa")
    back = read_arpa(tmp_path / "c.arpa")
    assert back.level == "char" and " " in back.index
    assert back.score(small_corpus[100:150]).log10_prob == m.score(small_corpus[100:150]).log10_prob


def test_scores_match_the_kenlm_module(tmp_path, small_corpus):
    import kenlm  # a dev dependency: this comparison must run in CI
    m = train_ngram(small_corpus + ["a line with <unk> in it"], order=4)
    write_arpa(m, tmp_path / "m.arpa")
    km = kenlm.Model(str(tmp_path / "m.arpa"))
    test = small_corpus[:200] + ["zebra unseen words here", "a line with <unk> in it", "x"]
    for line in test:
        tokens = line.split()
        if not tokens:
            continue
        ours = m.sentence_log10(tokens)
        theirs = km.score(" ".join(arpa_word(t) for t in tokens), bos=True, eos=True)
        assert abs(ours - theirs) < 1e-4, line


def test_reads_an_arpa_file_from_another_tool(tmp_path):
    import kenlm  # a dev dependency: this comparison must run in CI
    # SRILM style: no seqtool header, missing backoffs, -99 for <s>.
    text = """
\\data\\
ngram 1=5
ngram 2=4

\\1-grams:
-1.0\t<unk>
-99\t<s>\t-0.5
-0.6\t</s>
-0.7\ta\t-0.2
-0.8\tb

\\2-grams:
-0.3\t<s> a
-0.4\ta b
-0.5\tb </s>
-0.2\ta </s>

\\end\\
"""
    path = tmp_path / "other.arpa"
    path.write_text(text)
    m = read_arpa(path)
    km = kenlm.Model(str(path))
    for s in ["a b", "b a", "a zz b", "b"]:
        assert abs(m.sentence_log10(s.split()) - km.score(s)) < 1e-5, s
    assert m.score(["a zz b"]).oov == 1


def test_malformed_arpa_is_one_clear_error(tmp_path):
    from seqtool.core.errors import ModelError

    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1 a\n\n\\end\\\n")
    with pytest.raises(ModelError, match="1 entries but the header says 2"):
        read_arpa(bad)
    (tmp_path / "empty.arpa").write_text("hello\n")
    with pytest.raises(ModelError, match="no .data. line"):
        read_arpa(tmp_path / "empty.arpa")


# ----------------------------------------------------------------- generation
def test_generate_is_reproducible_and_stops(small_corpus):
    from seqtool.core.sampling import SamplingOptions

    m = train_ngram(small_corpus, order=3)
    opts = SamplingOptions(temperature=0.8, top_k=20)
    a = list(m.generate(["First"], max_len=30, options=opts, rng=np.random.default_rng(3)))
    b = list(m.generate(["First"], max_len=30, options=opts, rng=np.random.default_rng(3)))
    assert a == b and 0 < len(a) <= 30 and "</s>" not in a and "<unk>" not in a
    greedy = list(m.generate([], max_len=5, options=SamplingOptions(temperature=0), rng=np.random.default_rng(0)))
    assert greedy[0] == m.predict("", top=1)[0][0]


def test_load_ngram_from_store_and_config_round_trip(small_corpus):
    from seqtool.core.store import ModelStore
    from seqtool.ngram import NgramModel, load_ngram
    from seqtool.ngram.store import save_model

    m = train_ngram(small_corpus, NgramConfig(order=3, level="word"))
    store = ModelStore()
    with store.writer("tri", "ngram") as draft:
        save_model(m, draft.path)
        draft.config.update(m.config())
    back = load_ngram("tri")
    assert isinstance(back, NgramModel) and back.level == "word" and back.order == 3
    assert back.score(small_corpus[:30]).log10_prob == m.score(small_corpus[:30]).log10_prob
    assert load_ngram(None).sizes() == m.sizes()


@pytest.mark.parametrize("level", ["word", "char"])
def test_batch_encoding_matches_sentence_by_sentence(small_corpus, level):
    m = train_ngram(small_corpus[:150], order=3, level=level)
    lines = ["", "  ", "First Citizen:", "\tzebra  unseen\u00a0words ", "a", "You are all resolved"]
    per = list(m.score_lines(lines, per_sentence=True))
    sentences = [t for t in (m.tokenizer(ln) for ln in lines) if t]
    assert len(per) == len(sentences)
    for res, tokens in zip(per, sentences):
        assert res.tokens == len(tokens) + 1
        assert res.log10_prob == pytest.approx(m.sentence_log10(tokens), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=(1 << 40)), unique=True, max_size=300),
       st.lists(st.integers(min_value=0, max_value=(1 << 40)), max_size=100))
def test_hash_index_finds_what_binary_search_finds(keys, extra):
    from seqtool.ngram.lookup import HashIndex, search_sorted

    keys = np.array(sorted(keys), dtype=np.int64)
    q = np.concatenate([keys, np.array(extra, dtype=np.int64)])
    assert np.array_equal(HashIndex(keys).find(q), search_sorted(keys, q))


def test_lmplz_compat_counts_the_last_ngram_raw():
    # lmplz's pending unigram at the end of adjust-counts is d (the highest word id
    # ending the last bigram in suffix order); its raw count 2 replaces its adjusted
    # count 1 in the count-of-counts, leaving no unigram with adjusted count 1.
    warnings = []
    m = train_ngram(CORPUS, order=2, lmplz_compat=True, warn=warnings.append)
    assert m.info["discounts"]["1"] == [0.5, 1.0, 1.5] and "order 1" in warnings[0]
    assert m.info["discounts"]["2"] == pytest.approx([3 / 7, 19 / 14, 3.0])


def test_vocab_limit_keeps_the_full_corpus_discounts(small_corpus):
    warnings = []
    full = train_ngram(small_corpus, order=3)
    limited = train_ngram(small_corpus, order=3, vocab_size=50, warn=warnings.append)
    assert warnings == [] and limited.info["discounts"] == full.info["discounts"]
    assert limited.score(["the king of zebras"]).oov >= 1


# ---------------------------------------------------------------- issue 16.5: one guarded gzip opener
def test_gzip_arpa_goes_through_the_guarded_opener(tmp_path, monkeypatch, small_corpus):
    import gzip

    from seqtool.core import binary
    from seqtool.core.errors import InputError

    model = train_ngram(small_corpus, order=2)
    write_arpa(model, tmp_path / "m.arpa.gz")
    assert read_arpa(tmp_path / "m.arpa.gz").sizes() == model.sizes()
    write_arpa(model, tmp_path / "m.arpa")
    monkeypatch.setattr(binary, "GZIP_RATIO_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.arpa.gz"  # 8 MiB of comments before \data\, ~1000x compressed
    bomb.write_bytes(gzip.compress(b"# padding\n" * (800 * 1024) + (tmp_path / "m.arpa").read_bytes()))
    with pytest.raises(InputError, match="gzip bomb"):
        read_arpa(bomb)


def test_a_file_with_a_giant_line_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    from seqtool.core import readers
    from seqtool.core.errors import ModelError

    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1 << 20)
    path = tmp_path / "sparse.txt"
    with open(path, "wb") as fh:
        fh.truncate(8 << 20)  # like a sparse file: NULs, no line end
    with pytest.raises(ModelError, match="longer than 1 MiB.*not an ARPA file"):
        read_arpa(path)
