"""The figure early stopping watches on the validation data."""

from __future__ import annotations

import torch

from .features import Encoded
from .logits import classifier_logits
from .multilabel import decision_f1


def accuracy(model: torch.nn.Module, enc: Encoded, targets: list, device: str) -> float:
    """The validation figure early stopping watches: accuracy; for multi-label targets (a set of
    label ids per example) the micro-F1 of the one-vs-all decisions (classify.multilabel)."""
    if not targets:
        return 0.0
    logits = classifier_logits(model, enc, device)
    if isinstance(targets[0], (set, frozenset)):
        return decision_f1(logits, targets)
    pred = logits.argmax(dim=1)
    return float((pred == torch.tensor(targets)).float().mean())
