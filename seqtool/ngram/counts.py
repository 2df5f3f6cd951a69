"""Streaming n-gram counting with numpy.

N-grams are stored as a prefix trie, one table per order: the k-gram
(w1..wk) is the key ``prefix << 32 | wk`` where ``prefix`` is the row of
(w1..w{k-1}) in the (k-1)-gram table (for k = 2, the word id of w1). Keys fit
in int64 whatever the order, and counting a chunk of tokens is one
``np.unique`` per order. Chunks are merged into global tables whose size is
the number of distinct n-grams, so memory does not grow with the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

SPECIALS = ("<unk>", "<s>", "</s>")
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SHIFT = np.int64(32)
WORD_MASK = np.int64((1 << 32) - 1)
CHUNK_TOKENS = 1 << 21


def split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(prefix rows, last words) of trie keys."""
    return keys >> SHIFT, keys & WORD_MASK


def sentence_positions(ids: np.ndarray) -> np.ndarray:
    """Position of every token inside its sentence (0 at each <s>)."""
    idx = np.arange(ids.size, dtype=np.int64)
    starts = np.where(ids == BOS_ID, idx, 0)
    np.maximum.accumulate(starts, out=starts)
    return idx - starts


UNK_TOKEN = "<unk>"


def corpus_word_ids(words: list[str]) -> "_WordIds":
    """The token -> id map counting uses. The corpus token `<unk>` IS the unknown
    word (id 0), as KenLM reads it in text and in ARPA files: n-grams around it are
    counted like any others, exactly as for words --min-freq maps to <unk>. The
    other specials are not looked up, so a corpus word `<s>` or `</s>` is ordinary."""
    ids = _WordIds(words)
    ids[UNK_TOKEN] = UNK_ID
    return ids


class _WordIds(dict):
    """token -> id, adding unseen tokens."""

    def __init__(self, words: list[str]):
        super().__init__()
        self.words = words

    def __missing__(self, token: str) -> int:
        i = len(self.words)
        self.words.append(token)
        self[token] = i
        return i


@dataclass
class _Table:
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))   # sorted
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))    # stable id per sorted key
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # by stable id
    suffix: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # by stable id


@dataclass
class Counts:
    """Final counts: per order k >= 2 sorted trie keys, raw counts and the row
    of each n-gram's suffix (w2..wk) in the (k-1) table. Order 1 is indexed
    by word id."""

    order: int
    words: list[str]
    unigram: np.ndarray                    # (V,) raw counts as a predicted word
    keys: list[np.ndarray | None]          # keys[k] for k >= 2
    counts: list[np.ndarray | None]
    suffix: list[np.ndarray | None]
    tokens: int = 0
    sentences: int = 0

    def first_word(self, k: int) -> np.ndarray:
        """The first word of every k-gram (to find those starting with <s>)."""
        first = np.arange(len(self.words), dtype=np.int64)
        for j in range(2, k + 1):
            first = first[split_keys(self.keys[j])[0]]
        return first

    def sizes(self) -> list[int]:
        return [len(self.words)] + [len(self.keys[k]) for k in range(2, self.order + 1)]

    # As ondisk.DiskCounts, which holds a folder: `with count_corpus(..) as counts` suits both.
    external = False

    def close(self) -> None:
        """Nothing to release: the tables are in memory."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NgramCounter:
    """Feed sentences (lists of tokens); memory follows distinct n-grams."""

    def __init__(self, order: int, chunk_tokens: int = CHUNK_TOKENS):
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order = order
        self.words: list[str] = list(SPECIALS)
        self.ids = corpus_word_ids(self.words)
        self.chunk_tokens = chunk_tokens
        self._buf: list[int] = []
        self._unigram = np.zeros(0, np.int64)
        self._tables = [_Table() for _ in range(order + 1)]
        self.tokens = 0
        self.sentences = 0

    def add(self, tokens: Iterable[str]) -> None:
        buf = self._buf
        buf.append(BOS_ID)
        buf.extend(map(self.ids.__getitem__, tokens))
        buf.append(EOS_ID)
        self.sentences += 1
        if len(buf) >= self.chunk_tokens:
            self.flush()

    def flush(self) -> None:
        w = self._take_chunk()
        if w is not None:
            self._count_chunk(w)

    def _take_chunk(self) -> np.ndarray | None:
        """The buffered sentences as one id array (whole sentences: no n-gram crosses
        two chunks), their tokens and unigrams counted; None when nothing is buffered."""
        if not self._buf:
            return None
        w = np.array(self._buf, dtype=np.int64)
        self._buf = []
        pos = sentence_positions(w)
        self.tokens += int(np.count_nonzero(pos))
        uni = np.bincount(w[pos >= 1], minlength=len(self.words))
        if self._unigram.size < uni.size:
            self._unigram = np.concatenate([self._unigram, np.zeros(uni.size - self._unigram.size, np.int64)])
        self._unigram += uni
        return w

    def _count_chunk(self, w: np.ndarray) -> None:
        pos = sentence_positions(w)
        prev = w  # ids of the (k-1)-gram ending at each position (-1: none)
        for k in range(2, self.order + 1):
            prev = self._merge(k, w, pos, prev)

    def table_bytes(self) -> int:
        """Memory held by the tables of distinct n-grams so far."""
        return sum(a.nbytes for t in self._tables for a in (t.keys, t.ids, t.count, t.suffix))

    def close(self) -> None:
        """Release what the counter holds outside memory (nothing, in memory)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unigrams(self) -> np.ndarray:
        unigram = np.zeros(len(self.words), np.int64)
        unigram[: self._unigram.size] = self._unigram
        return unigram

    def _merge(self, k: int, w: np.ndarray, pos: np.ndarray, prev: np.ndarray) -> np.ndarray:
        t = np.flatnonzero(pos >= k - 1)
        key = (prev[t - 1] << SHIFT) | w[t]
        uk, first, inv, cnt = _unique(key)
        table = self._tables[k]
        n_old = table.count.size
        suffix_of_uk = prev[t[first]]  # the (k-1)-gram ending at the same position
        if n_old == 0:  # first chunk: stable ids are the sorted ranks
            gid = np.arange(uk.size, dtype=np.int64)
            table.keys, table.ids, table.count, table.suffix = uk, gid, cnt, suffix_of_uk
        else:
            idx = np.searchsorted(table.keys, uk)
            found = idx < table.keys.size
            found[found] = table.keys[idx[found]] == uk[found]
            gid = np.empty(uk.size, np.int64)
            gid[found] = table.ids[idx[found]]
            new = ~found
            n_new = int(np.count_nonzero(new))
            gid[new] = np.arange(n_old, n_old + n_new)
            table.count = np.concatenate([table.count, np.zeros(n_new, np.int64)])
            table.count[gid] += cnt
            table.suffix = np.concatenate([table.suffix, suffix_of_uk[new]])
            table.keys = np.insert(table.keys, idx[new], uk[new])
            table.ids = np.insert(table.ids, idx[new], gid[new])
        out = np.full(w.size, -1, np.int64)
        out[t] = gid[inv]
        return out

    def finish(self) -> Counts:
        """Renumber every order by sorted key (prefix row, word) and return the counts."""
        self.flush()
        unigram = self._unigrams()
        keys: list = [None, None]
        counts: list = [None, None]
        suffix: list = [None, None]
        rank = None  # stable id -> row for the previous order (None: the identity)
        for k in range(2, self.order + 1):
            table = self._tables[k]
            if rank is None and np.array_equal(table.ids, np.arange(table.ids.size)):
                # Stable ids already are the rows (one chunk, or no new n-grams since).
                keys.append(table.keys)
                counts.append(table.count)
                suffix.append(table.suffix)
            else:
                prefix, word = split_keys(table.keys)
                new_keys = ((prefix if rank is None else rank[prefix]) << SHIFT) | word
                perm = np.argsort(new_keys)
                sid = table.ids[perm]
                keys.append(new_keys[perm])
                counts.append(table.count[sid])
                suffix.append(table.suffix[sid] if rank is None else rank[table.suffix[sid]])
                rank = np.empty(sid.size, np.int64)
                rank[sid] = np.arange(sid.size)
            self._tables[k] = _Table()
        return Counts(self.order, list(self.words), unigram, keys, counts, suffix, self.tokens, self.sentences)


def _unique(key: np.ndarray, kind: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(key, return_index, return_inverse, return_counts) with one
    unstable argsort; the index is some occurrence, not necessarily the first.
    kind='stable' for keys made of sorted runs (a merge), which it sorts faster."""
    perm = np.argsort(key, kind=kind)
    sk = key[perm]
    flag = np.empty(sk.size, bool)
    flag[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=flag[1:])
    starts = np.flatnonzero(flag)
    inv = np.empty(key.size, np.int64)
    inv[perm] = np.cumsum(flag) - 1
    cnt = np.diff(np.append(starts, sk.size))
    return sk[starts], perm[starts], inv, cnt


def limit_vocab(counts: Counts, *, min_freq: int = 1, max_size: int | None = None) -> Counts:
    """Map words below min_freq, or beyond the max_size most frequent, to <unk>
    and re-aggregate every order (the specials are always kept)."""
    V = len(counts.words)
    freq = counts.unigram.copy()
    ordinary = np.arange(len(SPECIALS), V)
    order_idx = sorted(ordinary.tolist(), key=lambda i: (-freq[i], counts.words[i]))
    keep = [i for i in order_idx if freq[i] >= min_freq]
    if max_size is not None:
        keep = keep[:max_size]
    wmap = np.zeros(V, np.int64)  # dropped words -> <unk>
    wmap[: len(SPECIALS)] = np.arange(len(SPECIALS))
    wmap[np.array(keep, dtype=np.int64)] = np.arange(len(SPECIALS), len(SPECIALS) + len(keep))
    words = list(SPECIALS) + [counts.words[i] for i in keep]
    unigram = np.bincount(wmap, weights=counts.unigram, minlength=len(words)).astype(np.int64)
    keys: list = [None, None]
    cnts: list = [None, None]
    suffix: list = [None, None]
    newid = wmap
    for k in range(2, counts.order + 1):
        prefix, word = split_keys(counts.keys[k])
        key = (newid[prefix] << SHIFT) | wmap[word]
        uk, inv = np.unique(key, return_inverse=True)
        inv = inv.reshape(-1)
        keys.append(uk)
        cnts.append(np.bincount(inv, weights=counts.counts[k], minlength=uk.size).astype(np.int64))
        suf = np.empty(uk.size, np.int64)
        suf[inv] = newid[counts.suffix[k]]
        suffix.append(suf)
        newid = inv
    return Counts(counts.order, words, unigram, keys, cnts, suffix, counts.tokens, counts.sentences)
