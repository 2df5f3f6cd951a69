"""The estimate of a build beyond memory, streamed from ondisk.DiskCounts order by order.

The arithmetic of estimate._interpolated (mkn, kn, wb; no pruning, no vocabulary limit:
those read the tables back, see not_streamed), the same float64 operations on the same
values in the same order, so the model comes out bit for bit the in-memory build's. Per
order k, two passes over table{k}.bin, a block at a time (np.fromfile: no mapped pages):

A. the adjusted counts (Kneser-Ney's continuation counts, summed from order k+1's suffix
   rows; raw counts for n-grams starting with <s>, for the top order and for Witten-Bell)
   go to adj{k}.bin, and their count-of-counts give the discounts;
B. blocks cut at context boundaries (the keys are sorted by context row, so a block holds
   every n-gram of its contexts: the per-context sums are those of a whole-table bincount,
   added in the same order), interpolated with the float64 log-probs of order k-1: they
   write order k's keys, float32 log-probs (and float64 ones for order k+1), and the
   backoffs of order k-1.

Held whole at any time: the continuation counts of one order (8 bytes an n-gram) and its
<s> flags (1), or the float64 log-probs of one order (8), plus a block (a share of the
budget); see external.estimate_bytes. The model's tables are left in files, named as the
tensors of model.safetensors, that store.save_model copies without reading them into memory.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from .counts import BOS_ID, SHIFT
from .estimate import _log10, count_of_counts, fallback_warning, kn_discount_of, mkn_discounts_of
from .ondisk import MIN_BLOCK, DiskCounts, path_size, read_rows

STREAMED = ("mkn", "kn", "wb")
# A block's arrays: a table block (3 int64) and some fifteen float64/int64 temporaries an entry.
BYTES_PER_BLOCK_ENTRY = 160
BLOCK_SHARE = 4  # blocks get a quarter of the budget


def not_streamed(config) -> str | None:
    """Why a config's estimate cannot be streamed (then the tables are read back), or None."""
    if config.smoothing not in STREAMED:
        return f"{config.smoothing} smoothing"
    if config.prune and any(config.prune):
        return "--prune/--min-count"
    if config.vocab_size is not None or config.min_freq > 1:
        return "--vocab-size/--min-freq"
    if config.lmplz_compat:
        return "lmplz_compat"
    return None


class StreamedEstimate:
    """Run with estimate(): fills `files` (tensor name -> file of its raw little-endian values,
    in counts.root), `discounts` and `warnings` (as estimate.Estimate's)."""

    def __init__(self, counts: DiskCounts, smoothing: str, stage=None):
        self.counts, self.smoothing, self.stage = counts, smoothing, stage
        self.n, self.sizes = counts.order, counts.sizes()
        self.V = len(counts.words) - 1  # every word that can be predicted: <s> excluded
        self.block = max(MIN_BLOCK, counts.memory // BLOCK_SHARE // BYTES_PER_BLOCK_ENTRY)
        self.files: dict[str, Path] = {}
        self.discounts: dict = {}
        self.warnings: list[str] = []
        self._bad: list[str] = []

    def _path(self, name: str) -> Path:
        return self.counts.root / name

    def estimate(self) -> "StreamedEstimate":
        bos = np.arange(len(self.counts.words)) == BOS_ID  # per n-gram of order k: starts with <s>
        lower = None  # float64 log10 p of order 1 (the higher orders': in files, see _interpolate)
        for k in range(1, self.n + 1):
            kn = self.smoothing != "wb" and k < self.n
            work = (self.sizes[k] if kn else 0) + self.sizes[k - 1] * (1 if k == 1 or self.smoothing == "wb" else 2)
            advance = self.stage(f"estimating {k}-grams", work) if self.stage else (lambda m: None)
            cc, adj, bos = self._adjusted(k, kn, bos, advance)
            d = self._discounts(k, cc)
            if k == 1:
                lower = self._unigrams(adj, d)
                advance(self.sizes[0])
            else:
                lower = self._interpolate(k, d, lower, advance)
        if self._bad:
            self.warnings.append(fallback_warning(self.smoothing, self._bad))
        return self

    # ------------------------------------------------------------ pass A
    def _adjusted(self, k: int, kn: bool, bos_lower: np.ndarray | None, advance):
        """(count-of-counts, the adjusted counts, <s> flags of order k when order k+1 needs them).
        The adjusted counts: an array for k = 1; else written to adj{k}.bin when `kn`
        (continuation counts), the raw counts otherwise."""
        cont = None
        if kn:  # distinct left extensions: how often each k-gram is the suffix of a (k+1)-gram
            cont = np.zeros(self.sizes[k - 1], np.int64)
            for rows in self._blocks(k + 1):
                np.add.at(cont, rows[:, 2], 1)
                advance(rows.shape[0])
        if k == 1:
            adj = np.where(bos_lower, self.counts.unigram, cont) if kn else self.counts.unigram.copy()
            adj[BOS_ID] = 0
            return count_of_counts(adj), adj, bos_lower
        if self.smoothing == "wb":  # raw counts, no discounts: nothing to count
            return None, None, None
        cc = np.zeros(5, np.int64)
        bos = np.empty(self.sizes[k - 1], bool) if kn and k + 1 < self.n else None
        with contextlib.ExitStack() as files:
            out = files.enter_context(open(self._path(f"adj{k}.bin"), "wb")) if kn else None
            start = 0
            for rows in self._blocks(k):
                a = rows[:, 1]
                if kn:
                    first = bos_lower[rows[:, 0] >> SHIFT]
                    a = np.where(first, a, cont[start: start + rows.shape[0]])
                    a.tofile(out)
                    if bos is not None:
                        bos[start: start + rows.shape[0]] = first
                cc += count_of_counts(a)
                start += rows.shape[0]
                advance(rows.shape[0])
        return cc.tolist(), None, bos

    def _discounts(self, k: int, cc: list[int]):
        if self.smoothing == "wb":
            return None
        if self.smoothing == "mkn":
            d, why = mkn_discounts_of(cc)
            self.discounts[k] = d
        else:
            d1, why = kn_discount_of(cc)
            d = self.discounts[k] = [d1]
        if why:
            self._bad.append(f"order {k} ({why})")
        return d

    # ------------------------------------------------------------ pass B
    def _unigrams(self, adj: np.ndarray, d) -> np.ndarray:
        p, _ = _probabilities(adj, np.zeros(adj.size, np.int64), 1, self.smoothing, d, None, self.V)
        np.asarray(p, np.float32).tofile(self._path("logp.1"))
        self.files["logp.1"] = self._path("logp.1")
        return p

    def _interpolate(self, k: int, d, lower: np.ndarray | None, advance) -> None:
        """Pass B of order k >= 2: its keys, log-probs and the backoffs of order k-1 to their files;
        `lower`: order k-1's float64 log-probs, or None to read them from logp{k-1}.f64 (held
        only during this pass: the next order's are written to a file for the next one)."""
        if lower is None:  # order k-1's float64 log-probs, written by the last pass
            lower = np.fromfile(self._path(f"logp{k - 1}.f64"), np.float64)
            self._path(f"logp{k - 1}.f64").unlink()
        adj = self._path(f"adj{k}.bin")
        names = [f"keys.{k}", f"logp.{k}", f"bow.{k - 1}"] + ([f"logp{k}.f64"] if k < self.n else [])
        outs = [open(self._path(name), "wb") for name in names]
        keys_out, logp_out, bow_out = outs[:3]
        cursor = 0  # the next context row whose backoff is due
        try:
            start = 0
            for rows in self._blocks(k, whole_contexts=True):
                m = rows.shape[0]
                a = np.fromfile(adj, np.int64, count=m, offset=start * 8) if adj.exists() else rows[:, 1]
                ctx = rows[:, 0] >> SHIFT
                c0, c1 = int(ctx[0]), int(ctx[-1])
                p, gamma = _probabilities(a, ctx - c0, c1 - c0 + 1, self.smoothing, d, lower[rows[:, 2]], self.V)
                np.ascontiguousarray(rows[:, 0]).tofile(keys_out)
                np.asarray(p, np.float32).tofile(logp_out)
                if k < self.n:
                    p.tofile(outs[3])
                # contexts with no k-gram have gamma 1: backoff log10 1 = 0
                np.zeros(c0 - cursor, np.float32).tofile(bow_out)
                np.asarray(_log10(gamma), np.float32).tofile(bow_out)
                cursor = c1 + 1
                start += m
                advance(m)
            np.zeros(self.sizes[k - 2] - cursor, np.float32).tofile(bow_out)
        finally:
            for f in outs:
                f.close()
        for name in names[:3]:
            self.files[name] = self._path(name)
        adj.unlink(missing_ok=True)
        self.counts.table(k).unlink()
        return None

    def _blocks(self, k: int, *, whole_contexts: bool = False):
        """Table k in blocks of self.block entries; `whole_contexts`: cut before the last
        context of a block (read again with the next), a block grown when one context is more."""
        path = self.counts.table(k)
        n = path_size(path)
        start = 0
        while start < n:
            m = min(self.block, n - start)
            while True:
                rows = read_rows(path, start, m)
                if not whole_contexts or start + m == n:
                    break
                ctx = rows[:, 0] >> SHIFT
                cut = int(np.searchsorted(ctx, ctx[-1], "left"))
                if cut > 0:
                    rows = rows[:cut]
                    break
                m = min(2 * m, n - start)
            yield rows
            start += rows.shape[0]


def _probabilities(a: np.ndarray, ctx: np.ndarray, nctx: int, smoothing: str, d, lower: np.ndarray | None,
                   V: int) -> tuple[np.ndarray, np.ndarray]:
    """(min(log10 p, 0) of each n-gram, gamma of each context 0..nctx-1), for n-grams of whole
    contexts with adjusted counts `a`: estimate._interpolated's loop body, operation for operation
    (`lower`: the float64 log10 p of each n-gram's suffix; None for the unigrams)."""
    if smoothing == "mkn":
        disc = np.zeros(a.size)
        for c, dc in zip((1, 2, 3), d):
            disc[a == c if c < 3 else a >= 3] = dc
    elif smoothing == "kn":
        disc = np.where(a > 0, d[0], 0.0)
    else:
        disc = None
    af = a.astype(np.float64)
    if disc is None:  # Witten-Bell: discount mass = number of distinct followers
        types = (af > 0).astype(np.float64)
        den = np.bincount(ctx, weights=af + types, minlength=nctx)
        mass = np.bincount(ctx, weights=types, minlength=nctx)
        del types
    else:
        den = np.bincount(ctx, weights=af, minlength=nctx)
        mass = np.bincount(ctx, weights=disc, minlength=nctx)
        np.subtract(af, disc, out=af)
        del disc
    u = af
    np.divide(u, den[ctx], out=u)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = np.where(den > 0, mass / den, 1.0)
    del den, mass
    if lower is None:
        p = u + gamma[0] / V
        p[BOS_ID] = 0.0
    else:
        scale = gamma[ctx]
        np.power(10.0, lower, out=lower)
        np.multiply(scale, lower, out=lower)
        del scale
        p = np.add(u, lower, out=u)
    p = _log10(p)
    return np.minimum(p, 0.0, out=p), gamma


__all__ = ["StreamedEstimate", "not_streamed", "STREAMED"]
