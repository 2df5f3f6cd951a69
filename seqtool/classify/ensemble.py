"""rnn+cnn: the recurrent classifier and Kim's CNN side by side, their probabilities averaged.

    p_rnn = softmax(f_rnn(x)),  p_cnn = softmax(f_cnn(x))      each member as `--arch rnn` / `--arch cnn`
    p(y | x) = (p_rnn + p_cnn) / 2                              the ensemble's prediction
    logits   = log p(y | x)                                     what predict, eval and early stopping read
    one-vs-all (multi-label) models average the members' sigmoids instead.

The members share the featurizer (vocabulary, n-grams) and nothing else: each has its own
embedding, n-gram path and doc2vec path. Each is trained exactly as `--arch rnn` and
`--arch cnn` train it alone, with its own early stopping (classify/ensemble_fit.py), so the
ensemble is the average of the two models those commands make.

Why: the recurrent model and the CNN make different errors (the CNN reads local windows of
words, the GRU whole sentences), so their average beats each; docs/classify.md has the
figures. It costs the two models' training and prediction time.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import torch
from torch import nn

from .cnn import CNNClassifier, ConvConfig
from .model import ClassifierConfig, RNNClassifier


def member_configs(cfg: ConvConfig) -> list[ClassifierConfig]:
    """The rnn member's config (the recurrent fields of cfg) and the cnn member's."""
    rnn = ClassifierConfig(**{f.name: getattr(cfg, f.name) for f in fields(ClassifierConfig)})
    return [rnn, replace(cfg, arch="cnn")]


class EnsembleClassifier(nn.Module):
    def __init__(self, cfg: ConvConfig, members: list[nn.Module] | None = None):
        """New members from cfg, or the trained ones (rnn, cnn)."""
        super().__init__()
        self.cfg = cfg
        if members is None:
            rnn_cfg, cnn_cfg = member_configs(cfg)
            members = [RNNClassifier(rnn_cfg), CNNClassifier(cnn_cfg)]
        self.members = nn.ModuleList(members)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, ngrams: torch.Tensor | None = None,
                offsets: torch.Tensor | None = None, docs: torch.Tensor | None = None) -> torch.Tensor:
        """As RNNClassifier.forward: logits (B, C), here log p(y | x) of the averaged members."""
        stacked = torch.stack([m(tokens, lengths, ngrams, offsets, docs=docs) for m in self.members])  # (M, B, C)
        return self.combine(stacked)

    def combine(self, logits: torch.Tensor) -> torch.Tensor:
        """(M, B, C) member logits -> (B, C) ensemble logits (see the module docstring)."""
        return combine(logits, self.cfg.multi_label)


def combine(logits: torch.Tensor, multi_label: bool) -> torch.Tensor:
    """log of the mean of the members' softmaxes, (M, B, C) -> (B, C); for one-vs-all models the
    logit of the mean of their sigmoids. Computed in log space, so confident members give no inf."""
    log_m = math.log(logits.size(0))
    if not multi_label:
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=0) - log_m
    log_p = torch.logsumexp(nn.functional.logsigmoid(logits), dim=0) - log_m  # log mean sigmoid
    log_q = torch.logsumexp(nn.functional.logsigmoid(-logits), dim=0) - log_m  # log (1 - mean sigmoid)
    return log_p - log_q
