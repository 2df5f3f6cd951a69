"""From a classifier config to its untrained network, for every --arch."""

from __future__ import annotations

from torch import nn

from .cnn import CNNClassifier, CNNRNNClassifier
from .ensemble import EnsembleClassifier
from .linear import LinearClassifier
from .model import ClassifierConfig, RNNClassifier

NETWORKS = {"rnn": RNNClassifier, "cnn": CNNClassifier, "cnn-rnn": CNNRNNClassifier, "linear": LinearClassifier,
            "rnn+cnn": EnsembleClassifier, "rnn+cnn+linear": EnsembleClassifier}


def build_classifier(cfg: ClassifierConfig) -> nn.Module:
    """RNNClassifier, CNNClassifier, CNNRNNClassifier, LinearClassifier or EnsembleClassifier, by cfg.arch
    (a ClassifierConfig, which has no arch, is an rnn)."""
    return NETWORKS[getattr(cfg, "arch", "rnn")](cfg)
