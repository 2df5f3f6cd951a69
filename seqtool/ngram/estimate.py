"""Smoothing: from counts to an ARPA-style backoff model (log10 p, log10 backoff).

Every smoother yields, per order k, the probability of each stored k-gram and,
for k < n, the backoff weight of each k-gram used as a context, with the usual
ARPA meaning: p(w | h) = p(hw) if hw is stored, else bow(h) * p(w | h minus
its first word). The interpolated smoothers (mkn, kn, wb) follow KenLM's lmplz:
lower orders of Kneser-Ney use adjusted (continuation) counts except for
n-grams starting with <s>, unigrams are interpolated with the uniform
distribution over the vocabulary (<unk> included, <s> excluded), and pruned
n-grams give their mass to the backoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import UsageError
from .counts import BOS_ID, SHIFT, UNK_ID, Counts, split_keys
from .options import SMOOTHINGS
FALLBACK_MKN = (0.5, 1.0, 1.5)  # lmplz --discount_fallback defaults
FALLBACK_KN = 0.5
STUPID_ALPHA = 0.4  # Brants et al. 2007


@dataclass
class Estimate:
    logp: list            # logp[k]: (N_k,) float64 log10 probabilities (k = 1..n)
    bow: list             # bow[k]: (N_k,) float64 log10 backoffs (k = 1..n-1)
    keep: list            # keep[k]: bool mask of n-grams kept after pruning, or None
    discounts: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def thresholds(values: list[int] | None, order: int) -> list[int]:
    """KenLM --prune semantics: value i applies to order i+1, the last one to the rest;
    an n-gram whose count is <= its threshold is dropped."""
    if not values:
        return [0] * order
    vals = list(values)[:order]
    vals += [vals[-1]] * (order - len(vals))
    if any(v < 0 for v in vals):
        raise UsageError("--prune/--min-count values must not be negative")
    if vals[0] > 0:
        raise UsageError("pruning unigrams is not supported; use --min-freq or --vocab-size to limit the vocabulary")
    if any(b < a for a, b in zip(vals, vals[1:])):
        raise UsageError(f"--prune thresholds must not decrease with the order (got {vals})")
    return vals


def count_of_counts(a: np.ndarray) -> list[int]:
    return [int(np.count_nonzero(a == c)) for c in range(5)]


def mkn_discounts(a: np.ndarray) -> tuple[list[float], str | None]:
    """Chen & Goodman eq. 26, as lmplz: D(c) for c = 1, 2, 3+ from count-of-counts."""
    return mkn_discounts_of(count_of_counts(a))


def mkn_discounts_of(n: list[int]) -> tuple[list[float], str | None]:
    """mkn_discounts from the count-of-counts n[0..4] (streamed.py sums them block by block)."""
    if min(n[1], n[2], n[3]) == 0:
        return list(FALLBACK_MKN), f"count-of-counts n1..n3 = {n[1]}, {n[2]}, {n[3]}"
    y = n[1] / (n[1] + 2.0 * n[2])
    d = [j - (j + 1) * y * n[j + 1] / n[j] for j in (1, 2, 3)]
    if any(not (0.0 <= dj <= j) for j, dj in zip((1, 2, 3), d)):
        return list(FALLBACK_MKN), f"discounts {', '.join(f'{x:.3f}' for x in d)} out of range"
    return d, None


def kn_discount(a: np.ndarray) -> tuple[float, str | None]:
    return kn_discount_of(count_of_counts(a))


def kn_discount_of(n: list[int]) -> tuple[float, str | None]:
    if n[1] == 0:
        return FALLBACK_KN, f"no singletons (n1 = 0, n2 = {n[2]})"
    return n[1] / (n[1] + 2.0 * n[2]), None


def _log10(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log10(x)


def estimate(counts: Counts, smoothing: str = "mkn", *, k: float = 0.01,
             prune: list[int] | None = None, lmplz_compat: bool = False,
             stats_from: Counts | None = None) -> Estimate:
    """stats_from: the counts before the vocabulary was limited, for the discounts."""
    if smoothing not in SMOOTHINGS:
        raise UsageError(f"unknown smoothing {smoothing!r} (choose from {', '.join(SMOOTHINGS)})")
    if smoothing in ("addk", "mle", "stupid-backoff") and prune and any(prune):
        raise UsageError(f"--prune/--min-count is supported with mkn, kn and wb, not {smoothing}")
    thr = thresholds(prune, counts.order)
    if smoothing in ("mkn", "kn", "wb"):
        return _interpolated(counts, smoothing, thr, lmplz_compat, stats_from)
    if smoothing == "stupid-backoff":
        return _stupid(counts)
    if smoothing == "addk" and not (k > 0 and math.isfinite(k)):
        raise UsageError(f"--k must be a positive number for add-k smoothing (got {k})")
    return _additive(counts, 0.0 if smoothing == "mle" else k)


def _vocab_size(counts: Counts) -> int:
    return len(counts.words) - 1  # every word that can be predicted: <s> excluded


def _contexts(counts: Counts, kk: int) -> np.ndarray:
    """Row of each kk-gram's context (its first kk-1 words) in the (kk-1) table."""
    return counts.keys[kk] >> SHIFT


def _adjusted_counts(counts: Counts, smoothing: str) -> list:
    """The counts each order is estimated from: raw counts for the top order and for
    Witten-Bell; Kneser-Ney's continuation counts (distinct left extensions) for
    lower orders, except n-grams starting with <s>, which keep their raw counts."""
    n = counts.order
    sizes = counts.sizes()
    adj: list = [None] * (n + 1)
    for kk in range(1, n + 1):
        raw = counts.unigram if kk == 1 else counts.counts[kk]
        if smoothing == "wb" or kk == n:
            adj[kk] = raw.astype(np.int64, copy=False)  # read only: no copy of the largest table
            continue
        cont = np.bincount(counts.suffix[kk + 1], minlength=sizes[kk - 1]).astype(np.int64)
        adj[kk] = np.where(counts.first_word(kk) == BOS_ID, raw, cont)
    adj[1] = adj[1].copy()
    adj[1][BOS_ID] = 0
    return adj


def _interpolated(counts: Counts, smoothing: str, thr: list[int], lmplz_compat: bool = False,
                  stats_from: Counts | None = None) -> Estimate:
    n = counts.order
    V = _vocab_size(counts)
    sizes = counts.sizes()
    est = Estimate([None] * (n + 1), [None] * (n + 1), [None] * (n + 1))
    bad = []
    adj = _adjusted_counts(counts, smoothing)
    # Count-of-counts come from the corpus before words were mapped to <unk> (as KenLM's
    # vocabulary pruning does): the mapping removes the rare words the discounts are made of.
    stats_adj = adj if stats_from is None else _adjusted_counts(stats_from, smoothing)
    quirk = {}
    if lmplz_compat and smoothing in ("mkn", "kn"):
        quirk = _lmplz_last_counts(counts if stats_from is None else stats_from)
    for kk in range(1, n + 1):
        a = adj[kk]
        stats = stats_adj[kk]
        if kk in quirk:
            stats = stats.copy()
            stats[quirk[kk][0]] = quirk[kk][1]
        raw = counts.unigram if kk == 1 else counts.counts[kk]
        kept = raw > thr[kk - 1] if kk > 1 and thr[kk - 1] > 0 else None
        if smoothing == "mkn":
            d, why = mkn_discounts(stats)
            est.discounts[kk] = d
            disc = np.zeros(a.size)
            for c, dc in zip((1, 2, 3), d):
                disc[a == c if c < 3 else a >= 3] = dc
        elif smoothing == "kn":
            d1, why = kn_discount(stats)
            est.discounts[kk] = [d1]
            disc = np.where(a > 0, d1, 0.0)
        else:
            why = None
            disc = None
        if why:
            bad.append(f"order {kk} ({why})")
        # The arithmetic below runs in place (u, then p, in af's array): the top order is the
        # largest table and this loop the peak of a build's memory; the values are those of
        # the plain expressions, u = (af - disc) / den[ctx], p = u + gamma[ctx] * 10**logp[suffix].
        ctx = np.zeros(a.size, np.int64) if kk == 1 else _contexts(counts, kk)
        nctx = 1 if kk == 1 else sizes[kk - 2]
        af = a.astype(np.float64)
        adj[kk] = stats_adj[kk] = a = stats = None  # (N_k,) int64 each, not needed past here
        if disc is None:  # Witten-Bell: discount mass = number of distinct followers
            types = (af > 0).astype(np.float64)
            den = np.bincount(ctx, weights=af + types, minlength=nctx)
            mass = np.bincount(ctx, weights=types if kept is None else np.where(kept, types, types + af),
                               minlength=nctx)
            del types
        else:
            den = np.bincount(ctx, weights=af, minlength=nctx)
            mass = np.bincount(ctx, weights=disc if kept is None else np.where(kept, disc, af), minlength=nctx)
            np.subtract(af, disc, out=af)
            del disc
        u = af
        np.divide(u, den[ctx], out=u)
        with np.errstate(invalid="ignore", divide="ignore"):
            gamma = np.where(den > 0, mass / den, 1.0)
        del den, mass, af
        if kk == 1:
            p = u + gamma[0] / V
            p[BOS_ID] = 0.0
        else:
            scale = gamma[ctx]
            del ctx
            lower = est.logp[kk - 1][counts.suffix[kk]]
            np.power(10.0, lower, out=lower)
            np.multiply(scale, lower, out=lower)
            del scale
            p = np.add(u, lower, out=u)
            del lower
        del u
        p = _log10(p)
        est.logp[kk] = np.minimum(p, 0.0, out=p)
        del p
        if kk > 1:
            est.bow[kk - 1] = _log10(gamma)
            est.keep[kk] = kept
    if bad:
        est.warnings.append(fallback_warning(smoothing, bad))
    return est


def fallback_warning(smoothing: str, bad: list[str]) -> str:
    fb = "D1, D2, D3+ = 0.5, 1, 1.5" if smoothing == "mkn" else "D = 0.5"
    return (f"Kneser-Ney discounts could not be estimated for {'; '.join(bad)}; "
            f"using the fallback {fb} (a corpus this small gives a poor model)")


def _lmplz_last_counts(counts: Counts) -> dict:
    """lmplz's count-of-counts take, for the lower-order n-grams still pending
    when its adjust-counts pass ends, the count of highest-order occurrences in
    place of the adjusted count (the raw count, as far as the discounts show). Those are the suffixes of the last n-gram in
    suffix order (by last word id, then the one before, ...). Replicating this
    keeps the discounts equal to lmplz's to every digit it prints (on PTB the
    unigram D3+ moves from 1.26227 to lmplz's 1.26492; perplexity does not move
    in its first 7 digits). Off by default: it is a quirk, not Chen & Goodman."""
    n = counts.order
    if n < 2 or counts.keys[n].size == 0:
        return {}
    cand = np.arange(counts.keys[n].size)
    rows = cand
    for k in range(n, 0, -1):  # narrow down by w_n, then w_{n-1}, ...
        word = rows if k == 1 else split_keys(counts.keys[k][rows])[1]
        best = word == word.max()
        cand, rows = cand[best], rows[best]
        if cand.size == 1 or k == 1:
            break
        rows = split_keys(counts.keys[k][rows])[0]
    last = int(cand[0])
    out = {}
    target = last
    for kk in range(n - 1, 0, -1):
        target = int(counts.suffix[kk + 1][target])
        out[kk] = (target, int((counts.unigram if kk == 1 else counts.counts[kk])[target]))
    return out


def _follow_counts(counts: Counts, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """(context row of each kk-gram, total count of each context as a history)."""
    ctx = _contexts(counts, kk)
    cnt = counts.counts[kk].astype(np.float64)
    return ctx, np.bincount(ctx, weights=cnt, minlength=len(counts.keys[kk - 1]) if kk > 2 else len(counts.words))


def _additive(counts: Counts, k: float) -> Estimate:
    """Textbook add-k (k = 0: maximum likelihood) of order n.

    A full history h (n-1 words, or fewer after <s>) gives p(w|h) =
    (c(hw) + k) / (c(h) + kV); an unseen history gives 1/V. Stored lower-order
    n-grams not starting with <s> carry 1/V so that backing off lands on the
    uniform distribution, and bow(h) = kV / (c(h) + kV) scales it to exactly
    the add-k mass of an unseen word.
    """
    n = counts.order
    V = _vocab_size(counts)
    est = Estimate([None] * (n + 1), [None] * (n + 1), [None] * (n + 1))
    uni = counts.unigram.astype(np.float64)
    if n == 1:
        total = uni.sum() - uni[BOS_ID]
        p = (uni + k) / (total + k * V) if total + k * V > 0 else np.full(uni.size, 1.0 / V)
        p[BOS_ID] = 0.0
        est.logp[1] = _log10(p)
        return est
    p1 = np.full(len(counts.words), 1.0 / V)
    p1[BOS_ID] = 0.0
    est.logp[1] = _log10(p1)
    for kk in range(2, n + 1):
        ctx, hist = _follow_counts(counts, kk)
        c = counts.counts[kk].astype(np.float64)
        full = np.ones(c.size, bool) if kk == n else counts.first_word(kk) == BOS_ID
        p = np.where(full, (c + k) / (hist[ctx] + k * V), 1.0 / V)
        est.logp[kk] = _log10(p)
        # A context is a full history when it has n-1 words or starts with <s>.
        full_ctx = np.ones(hist.size, bool) if kk == n else counts.first_word(kk - 1) == BOS_ID
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(hist > 0, k * V / (hist + k * V), 1.0)
        est.bow[kk - 1] = np.where(full_ctx, _log10(b), 0.0)
    return est


def _stupid(counts: Counts) -> Estimate:
    """Brants et al.'s stupid backoff: relative frequencies, constant backoff 0.4.
    The scores are not normalised probabilities."""
    n = counts.order
    est = Estimate([None] * (n + 1), [None] * (n + 1), [None] * (n + 1))
    uni = counts.unigram.astype(np.float64)
    uni[BOS_ID] = 0.0
    total = uni.sum()
    est.logp[1] = _log10(uni / total) if total > 0 else np.full(uni.size, -np.inf)
    for kk in range(2, n + 1):
        ctx, hist = _follow_counts(counts, kk)
        est.logp[kk] = _log10(counts.counts[kk] / hist[ctx])
        est.bow[kk - 1] = np.full(hist.size, math.log10(STUPID_ALPHA))
    return est


__all__ = ["SMOOTHINGS", "Estimate", "estimate", "mkn_discounts", "kn_discount", "thresholds", "UNK_ID"]
