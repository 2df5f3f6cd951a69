"""The backoff walk over a batch of token ids, vectorised per order, and the totals drawn
from it (per batch, per sentence, per word).

Order 2 is looked up at every position, with dense masked copies. Above it, order k's
lookups run only on the positions whose k-gram can exist: as KenLM, a context is extended
left only while the shorter n-gram ending here exists, so the k+1-grams to look up end at
the positions i where the k-grams ending at i and at i-1 were both found. The positions
found are kept sorted, so those are neighbours in that list: no per-order pass over the
whole batch, no sentence positions.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .counts import BOS_ID, UNK_ID
from .results import ScoreResult, WordScore


def token_scores(model, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log10 p, length of the n-gram used) of every token of concatenated sentences
    `<s> w.. </s>`, KenLM's FullScoreReturn prob and ngram_length (0 and 1 at each <s>).
    `model` gives order, logp, bow and find(k, ctx rows, words)."""
    ids = np.asarray(ids, dtype=np.int64)
    n, order = ids.size, model.order
    start = ids == BOS_ID  # position 0 in its sentence (as is the first id whatever it is)
    if n:
        start[0] = True
    lp = model.logp[1][ids].astype(np.float64)
    match = np.ones(n, np.int8)
    if order == 1 or n == 0:
        lp[start] = 0.0
        return lp, match
    # A token matched at length m after a context whose longest stored n-gram has length L
    # pays the backoffs of lengths m..L: back[i-1] - paid[i], with back[p] the backoffs of all
    # the n-grams ending at p summed and paid[i] those of lengths < m, summed in the same
    # order (bitwise the partial sum, so a full match pays exactly 0.0; it is masked anyway).
    back = model.bow[1][ids].astype(np.float64)
    paid = np.zeros(n)
    # Order 2 over the whole batch as slices, dense: masked copies, no position lists (a miss,
    # row -1, reads the last entry, masked off). 2-grams ending at a sentence start are dropped.
    row = model.find(2, ids[:-1], ids[1:])
    hit = row >= 0
    hit &= ~start[1:]
    at = np.zeros(0, np.int64)
    if hit.any():  # (else the table may be empty, with no entry for a miss to read)
        np.copyto(lp[1:], model.logp[2][row], where=hit)
        np.copyto(match[1:], 2, where=hit)
        np.copyto(paid[1:], back[:-1], where=hit)  # before this order's backoffs are added in
        if order > 2:
            np.add(back[1:], model.bow[2][row], out=back[1:], where=hit)
            # The 3-gram at i needs the 2-grams at i and i-1 (row j is the 2-gram at j + 1).
            pair = np.flatnonzero(hit[1:] & hit[:-1])
            ctx, at = row[pair], pair + 2
    for k in range(3, order + 1):
        if at.size == 0:
            break
        row = model.find(k, ctx, ids[at])
        hit = row >= 0
        at, row = at[hit], row[hit]
        lp[at] = model.logp[k][row]
        match[at] = k
        paid[at] = back[at - 1]
        if k == order:
            break
        back[at] += model.bow[k][row]
        # The k+1-gram at i needs the k-grams at i and i-1: neighbours in the sorted `at`.
        pair = np.flatnonzero(at[1:] - at[:-1] == 1)
        ctx, at = row[pair], at[pair + 1]
    fix = match < order
    fix[start] = False
    fix = fix[1:]
    # The same float64 sum as lp[i] + (back[i-1] - paid[i]), only where a backoff is paid
    # (elsewhere the difference can be -inf - -inf: a nan warning for a value never used).
    gap = np.subtract(back[:-1], paid[1:], out=paid[1:], where=fix)
    np.add(lp[1:], gap, out=lp[1:], where=fix)
    lp[start] = 0.0
    return lp, match


def batch_totals(ids: np.ndarray, lp: np.ndarray, per_sentence: bool) -> Iterator[ScoreResult]:
    """One ScoreResult for the batch, or one per sentence, from its ids and token scores."""
    is_oov = ids == UNK_ID
    if not per_sentence:
        nsent = int(np.count_nonzero(ids == BOS_ID))
        yield ScoreResult(nsent, ids.size - nsent, int(is_oov.sum()), float(lp.sum()), float(lp[~is_oov].sum()))
        return
    sent = np.cumsum(ids == BOS_ID) - 1
    n = int(sent[-1]) + 1
    total = np.bincount(sent, weights=lp, minlength=n)
    toks = np.bincount(sent, minlength=n) - 1
    oov = np.bincount(sent, weights=is_oov, minlength=n)
    iv_lp = np.bincount(sent, weights=np.where(is_oov, 0.0, lp), minlength=n)
    for i in range(n):
        yield ScoreResult(1, int(toks[i]), int(oov[i]), float(total[i]), float(iv_lp[i]))


def word_results(batch: list, ids: np.ndarray, lp: np.ndarray, match: np.ndarray) -> Iterator[ScoreResult]:
    """One ScoreResult per sentence of `batch` (tokens), its words a WordScore per token and </s>."""
    lps, lens, oovs = lp.tolist(), match.tolist(), (ids == UNK_ID).tolist()
    at = 1  # the first word after <s>
    for tokens in batch:
        end = at + len(tokens) + 1
        words = [WordScore(t, lps[j], lens[j], oovs[j]) for j, t in zip(range(at, end), [*tokens, "</s>"])]
        oov = sum(oovs[at:end])
        yield ScoreResult(1, len(words), oov, sum(lps[at:end]),
                          sum(w.log10_prob for w in words if not w.oov) if oov else sum(lps[at:end]),
                          words=words)
        at = end + 1
