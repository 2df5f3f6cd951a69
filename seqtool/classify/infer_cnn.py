"""Inference for CNNClassifier (Kim's CNN) on CPU: the logits of `model.forward`, several
times faster.

A filter bank of width w is w matrices F_0 .. F_{w-1} (M, E), one per place in the window:

    a_j = sum_o F_o x_{j-w+1+o}            (M,)  window ending at token j
    z   = max_j relu(b + a_j) = relu(b + max_j a_j)   (relu is monotone, b the same at every j)

F_o x depends on the word only, so, as infer.py does for the RNN's input projection, it is
computed once per distinct token of the batch, for every width and place in one matmul
(U, E) x (E, sum_w w * M); a window is then a sum of w gathered rows. A batch of 1,024
sentences has several times fewer distinct tokens than positions, and the convolution was
nearly all of the time. The padding (w - 1 zero vectors on both sides, and the batch's
padding) is a zero row; windows past a sentence's L + w - 1 are left out of the max.
Dropout is off (inference); cnn-rnn models use `model.forward`.

Measured (the session-8 bench_classify_arch.py, predict_logits on TREC test sentences, 1 thread, same
run): 24,100 sentences/s against the module's 5,100 (4.7x); 2.5-2.9x on a machine loaded 4x over.
`benchmarks/bench_classify_arch.py --speed` measures the whole `classify predict` on MR.
"""

from __future__ import annotations

from itertools import chain
from typing import Sequence

import numpy as np
import torch

from .cnn import CNNClassifier
from .features import Encoded

BATCH = 1024  # sentences per batch: more sentences share more of their words


def supported(model, device: str) -> bool:
    return type(model) is CNNClassifier and str(device) == "cpu" and not model.training


@torch.inference_mode()
def batch_logits(model: CNNClassifier, tokens: Sequence[Sequence[int]],
                 ngrams: Sequence[Sequence[int]] | None = None) -> torch.Tensor:
    """Logits (B, C) of token-id sequences (each non-empty) and their n-gram ids."""
    cfg = model.cfg
    lengths = torch.tensor([len(s) for s in tokens], dtype=torch.int64)  # (B,)
    flat = np.fromiter(chain.from_iterable(tokens), dtype=np.int64, count=int(lengths.sum()))
    uniq, inverse = np.unique(flat, return_inverse=True)
    U, T = len(uniq), int(lengths.max())

    # Row of the tables below per (sentence, position), U (a zero row) for padding: (B, T)
    steps = torch.arange(T)[None, :]
    rows = torch.full((len(tokens), T), U, dtype=torch.int64)
    rows[steps < lengths[:, None]] = torch.from_numpy(inverse.reshape(-1).astype(np.int64))
    x = torch.cat([model.embedding.weight[torch.from_numpy(uniq)], torch.zeros(1, cfg.emb)])  # (U + 1, E)

    pooled = []
    for conv in model.convs:
        w, M = conv.kernel_size[0], conv.out_channels
        # F_o x for every distinct word and place o, one matmul: (U + 1, w * M) -> w tables (U + 1, M)
        tables = torch.mm(x, conv.weight.permute(1, 2, 0).reshape(cfg.emb, w * M)).view(-1, w, M)
        tables = [tables[:, o].contiguous() for o in range(w)]
        padded = torch.nn.functional.pad(rows, (w - 1, w - 1), value=U)  # (B, T + 2(w-1))
        windows = T + w - 1
        a = tables[0].index_select(0, padded[:, :windows].reshape(-1))  # (B * windows, M)
        for o in range(1, w):  # a_j += F_o x_{j-w+1+o}
            a += tables[o].index_select(0, padded[:, o:o + windows].reshape(-1))
        a = a.view(len(tokens), windows, M)  # (B, T + w - 1, M)
        beyond = torch.arange(windows)[None, :] >= (lengths + w - 1)[:, None]  # (B, T + w - 1)
        a.masked_fill_(beyond.unsqueeze(-1), float("-inf"))
        pooled.append(torch.relu(a.amax(dim=1) + conv.bias))  # (B, M)
    logits = model.out(torch.cat(pooled, dim=1))  # (B, C)
    if model.ngram is not None and ngrams is not None:
        counts = torch.tensor([len(g) for g in ngrams], dtype=torch.int64)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)[:-1]])
        grams = torch.tensor([i for g in ngrams for i in g], dtype=torch.int64)
        weights = model.ngram_scale[grams] if cfg.nb_scale else None
        logits += model.ngram(grams, offsets, per_sample_weights=weights)
    return logits


@torch.no_grad()
def predict_logits(model: CNNClassifier, enc: Encoded) -> torch.Tensor:
    """Logits (N, C) in input order; batches are length-sorted, so they hold little padding."""
    out = torch.empty(len(enc), model.cfg.num_classes)
    order = sorted(range(len(enc)), key=lambda i: len(enc.tokens[i]))
    for start in range(0, len(enc), BATCH):
        idx = order[start:start + BATCH]
        out[idx] = batch_logits(model, [enc.tokens[i] for i in idx], [enc.ngrams[i] for i in idx])
    return out
