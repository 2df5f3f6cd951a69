"""The figure early stopping watches on the validation data."""

from __future__ import annotations

import torch

from .data import Dataset
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


def validation_targets(valid: Dataset | None, labels: list[str], multi_label: bool) -> list:
    """What `accuracy` compares with: each example's label id (-1 for a label training never
    saw), or for a multi-label model its set of label ids."""
    if valid is None:
        return []
    index = {label: i for i, label in enumerate(labels)}
    if multi_label:
        return [{index[x] for x in gold if x in index} for gold in valid.gold()]
    return [index.get(label, -1) for label in valid.labels]
