"""Ensembles (`--arch rnn+cnn+linear`, `--arch rnn+cnn`): the members trained each as alone,
their probabilities averaged.

    p_m = softmax(f_m(x))       for each member m (rnn, cnn, linear), as `--arch m` makes it
    p(y | x) = mean_m p_m        the ensemble's prediction
    logits   = log p(y | x)      what predict, eval and early stopping read
    one-vs-all (multi-label) models average the members' sigmoids instead.

The members share the featurizer (vocabulary, n-grams) and nothing else: each has its own
embedding, n-gram path and doc2vec path (the linear model reads the n-grams only). Each is
trained exactly as `--arch m` trains it alone, with its own early stopping
(classify/ensemble_fit.py), so the ensemble is the average of the models those commands make.

Why: the members make different errors (the cnn reads local windows of words, the GRU whole
sentences, the linear model which words occur, not their order or meaning), so their average
beats each; docs/classify.md has the figures. It costs the members' training and prediction
time, the linear model's being small.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import torch
from torch import nn

from .cnn import CNNClassifier, ConvConfig
from .linear import LinearClassifier
from .model import ClassifierConfig, RNNClassifier


def member_names(arch: str) -> list[str]:
    """"rnn+cnn+linear" -> ["rnn", "cnn", "linear"]."""
    return arch.split("+")


def member_configs(cfg: ConvConfig) -> list[ClassifierConfig]:
    """Each member's config: the rnn's is the recurrent fields of cfg, the others cfg with their arch."""
    rnn = ClassifierConfig(**{f.name: getattr(cfg, f.name) for f in fields(ClassifierConfig)})
    return [rnn if name == "rnn" else replace(cfg, arch=name) for name in member_names(cfg.arch)]


MEMBER_NETWORKS = {"rnn": RNNClassifier, "cnn": CNNClassifier, "linear": LinearClassifier}


class EnsembleClassifier(nn.Module):
    def __init__(self, cfg: ConvConfig, members: list[nn.Module] | None = None):
        """New members from cfg, or the trained ones (in cfg.arch's order)."""
        super().__init__()
        self.cfg = cfg
        if members is None:
            members = [MEMBER_NETWORKS[getattr(c, "arch", "rnn")](c) for c in member_configs(cfg)]
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
