"""`--arch linear`: logistic regression on TF-IDF weighted n-grams, the classic TF-IDF+LR
baseline, over the featurizer's bag of distinct uni+bigrams (classify/features.py):

    idf_j  = ln((1 + N) / (1 + df_j)) + 1             df_j: training texts holding n-gram j
    x_j    = idf_j / sqrt(sum_{k in text} idf_k^2)     n-grams j of the text (binary tf, l2-normalised)
    logits = W x + b                                   W (C, F), b (C,)
    p(y|x) = softmax(logits)                           one-vs-all models: sigmoid(logits) per label

It is trained as a convex problem, not by SGD (classify/linear_train.py):

    min_{W,b}  mean_i loss(y_i, logits_i) + ||W||^2 / (2 c N)

which is sklearn's `C * sum_i loss_i + ||W||^2 / 2` divided by C N, so c means what sklearn's
C does. Why a member of the default ensemble: it reads the words, not their order or meaning,
so its errors are the ones the rnn and the cnn make least (docs/classify.md has the figures).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.errors import UsageError


class LinearClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if not cfg.num_ngrams:
            raise UsageError("--arch linear reads the n-gram features: give --ngrams 1 or more")
        self.cfg = cfg
        self.table = nn.EmbeddingBag(cfg.num_ngrams, cfg.num_classes, mode="sum")  # W^T (F, C)
        nn.init.zeros_(self.table.weight)
        self.bias = nn.Parameter(torch.zeros(cfg.num_classes))  # b (C,)
        self.register_buffer("idf", torch.ones(cfg.num_ngrams))  # set from the training texts

    def forward(self, tokens: torch.Tensor | None, lengths: torch.Tensor | None, ngrams: torch.Tensor,
                offsets: torch.Tensor, docs: torch.Tensor | None = None) -> torch.Tensor:
        """As RNNClassifier.forward, reading only the n-grams: flat ids (N,), offsets (B,) -> logits (B, C)."""
        idf = self.idf[ngrams]  # (N,)
        counts = torch.diff(offsets, append=torch.tensor([ngrams.numel()], device=offsets.device))  # (B,)
        bag = torch.repeat_interleave(torch.arange(len(offsets), device=offsets.device), counts)  # (N,)
        norm = torch.zeros(len(offsets), device=idf.device, dtype=idf.dtype).index_add_(0, bag, idf * idf).sqrt()
        x = idf / norm[bag]  # the x_j of each n-gram of each text
        return self.table(ngrams, offsets, per_sample_weights=x) + self.bias  # texts without a known n-gram: b

    @torch.no_grad()
    def bag_logits(self, ngrams: list[list[int]]) -> torch.Tensor:
        """Logits (B, C) of texts given as lists of n-gram ids (the fast path of predict)."""
        device = self.bias.device
        counts = np.fromiter(map(len, ngrams), dtype=np.int64, count=len(ngrams))
        offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)).to(device)
        flat = torch.from_numpy(np.fromiter((i for g in ngrams for i in g), dtype=np.int64,
                                            count=int(counts.sum()))).to(device)
        return self.forward(None, None, flat, offsets).float().cpu()
