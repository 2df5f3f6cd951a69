"""GloVe (Pennington, Socher & Manning, 2014), implemented with numpy + torch.

1. Co-occurrence counts: within a sentence (line), every pair of words at
   distance k <= window adds 1/k to X[w, c] and to X[c, w]; out-of-vocabulary
   words are dropped first, as in the reference cooccur.c. Counting is
   vectorised: for each distance k the pairs of a block of tokens are encoded
   as int64 keys w * V + c, sorted and summed (np.add.reduceat), and the
   partial sparse results are merged whenever they grow past a budget, so
   memory stays at the number of distinct pairs plus one block.
2. Weighted least squares: J = 1/2 sum f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2
   with f(x) = min(1, (x / x_max)^alpha), x_max = 100, alpha = 0.75, minimised
   with AdaGrad over shuffled mini-batches of non-zero entries. A mini-batch is
   a sparse matrix: one sampled dense x dense product (SDDMM) gives its dot
   products and two sparse x dense products give the gradients of W and W~, so
   no (batch, dim) tensor is ever materialised.
3. The vectors are W + W~.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

# Pairs buffered before they are sorted and merged (~8 bytes key + 4 bytes value each).
PAIR_BLOCK = 4_000_000


@dataclass
class GloveConfig:
    dim: int = 100
    window: int = 10
    epochs: int = 25
    x_max: float = 100.0
    alpha: float = 0.75
    lr: float = 0.05
    batch_size: int = 65536
    seed: int = 0
    threads: int = 1
    adagrad_init: float = 0.0  # initial sum of squared gradients (glove.c starts at 1.0)
    # AdaGrad accumulates the squared gradient of each entry, as glove.c's sequential
    # per-entry updates do, rather than the square of the batch's summed gradient:
    # frequent words (many entries per batch) then take proportionately smaller steps.
    # It converges in fewer epochs and to better vectors (PTB: notes/issue-5.md).
    per_entry: bool = True
    repartition: bool = False  # draw new random mini-batches every epoch (else only their order changes)


@dataclass
class Cooccurrence:
    """Sparse symmetric co-occurrence counts in COO form, sorted by (row, col)."""

    rows: np.ndarray  # (nnz,) int32
    cols: np.ndarray  # (nnz,) int32
    values: np.ndarray  # (nnz,) float64
    vocab_size: int

    def to_dense(self) -> np.ndarray:
        out = np.zeros((self.vocab_size, self.vocab_size))
        out[self.rows, self.cols] = self.values
        return out


class _Accumulator:
    """Sums (key, value) pairs into a sorted sparse vector, block by block."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.vals = np.zeros(0, dtype=np.float64)
        self.pending_keys: list[np.ndarray] = []
        self.pending_vals: list[np.ndarray] = []
        self.pending = 0

    def add(self, keys: np.ndarray, vals: np.ndarray) -> None:
        self.pending_keys.append(keys)
        self.pending_vals.append(vals)
        self.pending += len(keys)
        if self.pending >= PAIR_BLOCK:
            self.flush()

    @staticmethod
    def _reduce(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(keys) == 0:
            return keys, vals
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return keys[starts], np.add.reduceat(vals, starts)

    def flush(self) -> None:
        if not self.pending_keys:
            return
        keys = np.concatenate(self.pending_keys)
        vals = np.concatenate(self.pending_vals).astype(np.float64)
        self.pending_keys, self.pending_vals, self.pending = [], [], 0
        keys, vals = self._reduce(keys, vals)
        if len(self.keys):
            # Merge two sorted unique-key vectors: concatenate and reduce again.
            keys, vals = self._reduce(np.concatenate([self.keys, keys]), np.concatenate([self.vals, vals]))
        self.keys, self.vals = keys, vals


def count_cooccurrences(sentences: Iterable[np.ndarray], vocab_size: int, window: int,
                        block_tokens: int = 200_000) -> Cooccurrence:
    """Symmetric 1/distance-weighted counts from sentences given as int arrays of word ids
    (out-of-vocabulary words already removed)."""
    acc = _Accumulator()
    ids: list[np.ndarray] = []
    size = 0

    def process() -> None:
        if not ids:
            return
        tokens = np.concatenate(ids).astype(np.int64)  # (T,)
        sent = np.repeat(np.arange(len(ids)), [len(s) for s in ids])  # (T,) sentence of each token
        for k in range(1, window + 1):
            same = sent[k:] == sent[:-k]
            if not same.any():
                break
            left, right = tokens[:-k][same], tokens[k:][same]
            # One direction only; the transpose is added once at the end.
            acc.add(left * vocab_size + right, np.full(len(left), 1.0 / k, dtype=np.float64))
        ids.clear()

    for sentence in sentences:
        if len(sentence) < 2:
            continue
        ids.append(sentence)
        size += len(sentence)
        if size >= block_tokens:
            process()
            size = 0
    process()
    acc.flush()
    keys, vals = acc.keys, acc.vals
    transposed = (keys % vocab_size) * vocab_size + keys // vocab_size
    keys, vals = acc._reduce(np.concatenate([keys, transposed]), np.concatenate([vals, vals]))
    rows = (keys // vocab_size).astype(np.int32)
    cols = (keys % vocab_size).astype(np.int32)
    return Cooccurrence(rows, cols, vals, vocab_size)


class _Group:
    """A fixed mini-batch of non-zero entries as a CSR matrix S (V x V) and its transpose,
    so that one sampled dense-dense product gives the batch's dot products and two
    sparse-dense products give all the gradients, without materialising any
    (batch, dim) tensor."""

    def __init__(self, torch, crow, col, crow_t, col_t, to_t, x: np.ndarray, vocab: int, config: GloveConfig):
        self.crow, self.col = torch.from_numpy(crow), torch.from_numpy(col)
        self.crow_t, self.col_t = torch.from_numpy(crow_t), torch.from_numpy(col_t)
        self.to_t = torch.from_numpy(to_t)  # S-order position of each transpose entry
        self.shape = (vocab, vocab)
        xt = torch.from_numpy(x.astype(np.float32))
        self.logx = torch.log(xt)
        self.weight = torch.clamp(xt / config.x_max, max=1.0) ** config.alpha  # f(X)
        self.ones = torch.ones(len(x))


class _Batcher:
    """Splits the entries into random mini-batches, each sorted by (row, col) and by
    (col, row) as CSR needs. The two global orders are computed once; a new random
    partition then costs two stable radix sorts of small batch numbers."""

    def __init__(self, torch, cooc: Cooccurrence, config: GloveConfig):
        self.torch, self.cooc, self.config = torch, cooc, config
        self.rows, self.cols = cooc.rows.astype(np.int64), cooc.cols.astype(np.int64)
        self.by_row = np.lexsort((self.cols, self.rows))  # row, then column
        self.by_col = np.lexsort((self.rows, self.cols))

    def groups(self, perm: np.ndarray) -> list[_Group]:
        n, size, vocab = len(perm), self.config.batch_size, self.cooc.vocab_size
        n_groups = (n + size - 1) // size
        group = np.empty(n, dtype=np.uint16 if n_groups < 65536 else np.int64)
        group[perm] = np.arange(n) // size  # entry -> its batch
        # Stable sorts by batch keep the (row, col) and (col, row) orders inside each batch.
        by_row = self.by_row[np.argsort(group[self.by_row], kind="stable")]
        by_col = self.by_col[np.argsort(group[self.by_col], kind="stable")]
        bounds = np.searchsorted(group[by_row], np.arange(n_groups + 1))
        position = np.empty(n, dtype=np.int64)  # position of each entry in by_row order
        position[by_row] = np.arange(n)
        rows, cols = self.rows, self.cols
        out = []
        for k in range(n_groups):
            lo, hi = bounds[k], bounds[k + 1]
            sel, sel_t = by_row[lo:hi], by_col[lo:hi]
            crow = np.r_[0, np.cumsum(np.bincount(rows[sel], minlength=vocab))]
            crow_t = np.r_[0, np.cumsum(np.bincount(cols[sel_t], minlength=vocab))]
            out.append(_Group(self.torch, crow, cols[sel], crow_t, rows[sel_t], position[sel_t] - lo,
                              self.cooc.values[sel], vocab, self.config))
        return out


def train_glove(cooc: Cooccurrence, config: GloveConfig,
                on_epoch: Callable[[int, float, Callable[[], np.ndarray]], None] | None = None,
                ) -> tuple[np.ndarray, list[float]]:
    """Fit GloVe on `cooc`; returns the (V, dim) float32 vectors W + W~ and the loss per epoch.

    `on_epoch(epoch, loss, vectors)` is called after each epoch; `vectors()` gives W + W~ then."""
    import warnings

    with warnings.catch_warnings():
        # torch warns that sparse CSR support is "beta"; the operations used here are tested.
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return _fit(cooc, config, on_epoch)


def _fit(cooc: Cooccurrence, config: GloveConfig, on_epoch) -> tuple[np.ndarray, list[float]]:
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    gen = torch.Generator().manual_seed(config.seed)
    vocab, dim = cooc.vocab_size, config.dim

    def init(*shape: int) -> "torch.Tensor":
        # Reference initialisation: uniform in [-0.5, 0.5] / dim, biases too.
        return (torch.rand(*shape, generator=gen, dtype=torch.float32) - 0.5) / dim

    # Augmented rows make the biases part of one dot product:
    #   [w_i, b_i, 1] . [w~_j, 1, b~_j] = w_i . w~_j + b_i + b~_j
    # The constant columns get no gradient (masked below).
    w = torch.cat([init(vocab, dim), init(vocab, 1), torch.ones(vocab, 1)], 1)  # (V, d + 2)
    wc = torch.cat([init(vocab, dim), torch.ones(vocab, 1), init(vocab, 1)], 1)  # (V, d + 2)
    mask_w = torch.ones(dim + 2)
    mask_w[dim + 1] = 0
    mask_c = torch.ones(dim + 2)
    mask_c[dim] = 0
    # AdaGrad sums of squared gradients
    sq_w, sq_c = torch.full_like(w, config.adagrad_init), torch.full_like(wc, config.adagrad_init)
    batcher = _Batcher(torch, cooc, config)
    groups = batcher.groups(torch.randperm(len(cooc.values), generator=gen).numpy())
    losses: list[float] = []
    eps = 1e-8
    lr = config.lr

    def step(param, sq, grad, mask, grad_sq=None) -> None:
        # Dense AdaGrad: rows the batch did not touch have a zero gradient and do not move.
        grad.mul_(mask)
        if grad_sq is None:
            sq.addcmul_(grad, grad)
        else:
            sq.add_(grad_sq.mul_(mask))
        param.addcdiv_(grad, sq.sqrt().add_(eps), value=-lr)

    for epoch in range(config.epochs):
        total = 0.0
        if epoch and config.repartition:
            groups = batcher.groups(torch.randperm(len(cooc.values), generator=gen).numpy())
        for k in torch.randperm(len(groups), generator=gen).tolist():
            g = groups[k]
            pattern = torch.sparse_csr_tensor(g.crow, g.col, g.ones, size=g.shape)
            dots = torch.sparse.sampled_addmm(pattern, w, wc.T, beta=0.0).values()  # (B,)
            diff = dots - g.logx
            fdiff = g.weight * diff
            total += 0.5 * float(torch.dot(fdiff, diff))
            s = torch.sparse_csr_tensor(g.crow, g.col, fdiff, size=g.shape)
            s_t = torch.sparse_csr_tensor(g.crow_t, g.col_t, fdiff[g.to_t], size=g.shape)
            grad_w = s @ wc  # (V, d + 2), zero rows where the batch has no entry
            grad_c = s_t @ w  # (V, d + 2)
            sq_gw = sq_gc = None
            if config.per_entry:
                # sum over entries of (fdiff * w~_j)^2 = S(fdiff^2) @ (w~ * w~)
                f2 = fdiff * fdiff
                sq_gw = torch.sparse_csr_tensor(g.crow, g.col, f2, size=g.shape) @ (wc * wc)
                sq_gc = torch.sparse_csr_tensor(g.crow_t, g.col_t, f2[g.to_t], size=g.shape) @ (w * w)
            step(w, sq_w, grad_w, mask_w, sq_gw)
            step(wc, sq_c, grad_c, mask_c, sq_gc)
        if not math.isfinite(total):
            from ..core.errors import SeqtoolError

            raise SeqtoolError(f"GloVe diverged at epoch {epoch + 1} (loss {total}); lower --lr")
        losses.append(total)
        if on_epoch is not None:
            on_epoch(epoch + 1, total, lambda: (w[:, :dim] + wc[:, :dim]).contiguous().numpy())
    return (w[:, :dim] + wc[:, :dim]).contiguous().numpy(), losses
