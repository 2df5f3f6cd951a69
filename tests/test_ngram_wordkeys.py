"""The numpy word lookup of batch scoring (ngram/wordkeys.py) and the vectorised backoff
walk (ngram/scoring.py): the same ids as str.split and a dict, the same scores as a plain
per-token walk, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.text import Tokenizer
from seqtool.ngram import train_ngram, wordkeys
from seqtool.ngram.counts import BOS_ID, SHIFT, UNK_ID
from seqtool.ngram.encoding import WordIndex
from seqtool.ngram.wordkeys import WordKeys

SHAKESPEARE = Path(__file__).resolve().parent.parent / "corpora" / "tinyshakespeare.txt"
WHITESPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
VOCAB = ["a", "bb", "the", "seven77", "eight888", "abcdefgh", "abcdefgh1", "abcdefgh12", "sixteen-chars-16",
         "seventeen-chars17", "a-word-of-twenty-two!", "\0", "\x01", "x\x00y", "caf\u00e9", "two words", "", "<unk>"]


def reference_ids(index: dict, text: str) -> np.ndarray:
    return np.array([index[t] for t in text.split()], dtype=np.int64)


def index_of(words) -> WordIndex:
    index = WordIndex()
    for i, w in enumerate(words):
        index.setdefault(w, i + 3)
    index["<unk>"] = UNK_ID
    return index


piece = st.one_of(st.sampled_from(VOCAB), st.sampled_from(list(WHITESPACE)),
                  st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=20))


@settings(max_examples=200, deadline=None)
@given(st.lists(piece, max_size=40), st.lists(st.sampled_from(VOCAB), max_size=8))
def test_ids_are_those_of_split_and_a_dict(pieces, extra_vocab):
    index = index_of(VOCAB[:6] + extra_vocab + VOCAB[6:])
    text = "".join(p for p in pieces if p.isascii())
    keys = WordKeys(index, UNK_ID)
    assert keys.usable
    assert np.array_equal(keys.encode(text), reference_ids(index, text))


def test_known_ids_long_words_and_a_prefix_that_is_not_the_word():
    index = index_of(VOCAB)
    text = " the  abcdefgh12\tabcdefgh13 abcdefgh1 seventeen-chars17 a-word-of-twenty-two! \0 x\x00y zz\x1cbb"
    got = WordKeys(index, UNK_ID).encode(text).tolist()
    assert got == [index["the"], index["abcdefgh12"], UNK_ID, index["abcdefgh1"], index["seventeen-chars17"],
                   index["a-word-of-twenty-two!"], index["\0"], index["x\x00y"], UNK_ID, index["bb"]]


def test_a_hash_hit_on_another_word_is_checked(monkeypatch):
    # A hash that ignores the second 8 bytes: abcdefgh13 lands on abcdefgh12's slot.
    monkeypatch.setattr(wordkeys, "_long_keys", lambda w1, w2, n: ((w1 >> np.uint64(8)) | (
        n.astype(np.uint64) << np.uint64(56))).view(np.int64))
    index = index_of(["abcdefgh12", "the"])
    keys = WordKeys(index, UNK_ID)
    assert keys.usable
    assert keys.encode("abcdefgh13 abcdefgh12 the").tolist() == [UNK_ID, index["abcdefgh12"], index["the"]]
    # Two vocabulary words on one key: the table is not used (the dict is).
    assert not WordKeys(index_of(["abcdefgh12", "abcdefgh13"]), UNK_ID).usable


@pytest.fixture(scope="module")
def shakespeare():
    with open(SHAKESPEARE, encoding="utf-8") as fh:
        return [line.rstrip("\n") for _, line in zip(range(1500), fh)]


@pytest.mark.parametrize("lower", [False, True])
def test_batch_ids_equal_the_dict_path(shakespeare, lower):
    m = train_ngram(shakespeare[:1000], order=3)
    m.tokenizer = Tokenizer(lower=lower)  # a stored tokenizer may lowercase
    lines = shakespeare[1000:] + ["", "   ", "UPPER Case words", "tab\tand\x1cseparated"]
    fast = m.encode_lines(lines)
    assert m._encoder._keys is not None and m._encoder._keys.usable
    assert np.array_equal(fast, m._sentence_ids(list(m.tokenize_lines(lines))))
    other = lines + ["caf\u00e9 au lait\u00a0x"]  # not ASCII: str.split's whitespace, the dict
    assert np.array_equal(m.encode_lines(other), m._sentence_ids(list(m.tokenize_lines(other))))


def walk(model, ids: list[int]) -> tuple[list[float], list[int]]:
    """KenLM's backoff walk one token at a time, with the vectorised walk's float64 sums."""
    lps, lens = [], []
    rows = []  # rows[j - 1]: row of the j-gram ending at the previous token
    for i, w in enumerate(ids):
        if w == BOS_ID or i == 0:
            lps.append(0.0), lens.append(1)
            rows = [w]
            continue
        lp, m, found = float(model.logp[1][w]), 1, [w]
        for k in range(2, model.order + 1):
            if k - 1 > len(rows):  # no (k-1)-gram before: no k-gram here
                break
            key = (rows[k - 2] << int(SHIFT)) | w
            row = int(np.searchsorted(model.keys[k], key))
            if row == model.keys[k].size or model.keys[k][row] != key:
                break
            lp, m = float(model.logp[k][row]), k
            found.append(row)
        cum = [0.0]
        for j, r in enumerate(rows[: model.order - 1], start=1):
            cum.append(cum[-1] + float(model.bow[j][r]))
        if m < model.order:
            lp += cum[len(cum) - 1] - cum[m - 1]
        lps.append(lp), lens.append(m)
        rows = found
    return lps, lens


def test_vectorised_walk_equals_a_token_by_token_walk(shakespeare):
    m = train_ngram(shakespeare[:1200], order=4)
    ids = m.encode_lines(shakespeare[1200:1300] + ["the king the king the king", "unseen zebra words"])
    lp, match = m.token_scores(ids)
    lps, lens = walk(m, ids.tolist())
    assert lp.tolist() == lps and match.tolist() == lens
    assert set(lens) == {1, 2, 3, 4}
