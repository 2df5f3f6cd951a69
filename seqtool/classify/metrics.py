"""Accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix.

A class with no predictions has precision 0 (and no gold examples: recall 0),
as scikit-learn reports with zero_division=0; macro-F1 averages F1 over every
class seen in gold or predictions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Report:
    labels: list[str]
    accuracy: float
    macro_f1: float
    per_class: list[dict]  # label, precision, recall, f1, support
    confusion: list[list[int]]  # [gold][predicted], in `labels` order
    total: int
    at_k: object | None = None  # classify.topk.AtK: fastText's P@K / R@K, when asked for

    def to_dict(self) -> dict:
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "total": self.total,
               "labels": self.labels, "per_class": self.per_class, "confusion": self.confusion}
        if self.at_k is not None:
            out.update(self.at_k.to_dict())
        return out


def evaluate(gold: list[str], predicted: list[str], labels: list[str] | None = None) -> Report:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    order = list(labels or [])
    for label in sorted(set(gold) | set(predicted)):
        if label not in order:
            order.append(label)
    index = {label: i for i, label in enumerate(order)}
    k = len(order)
    confusion = [[0] * k for _ in range(k)]
    for g, p in zip(gold, predicted):
        confusion[index[g]][index[p]] += 1
    per_class = []
    for i, label in enumerate(order):
        tp = confusion[i][i]
        predicted_i = sum(confusion[r][i] for r in range(k))
        support = sum(confusion[i])
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": support})
    total = len(gold)
    correct = sum(confusion[i][i] for i in range(k))
    macro = sum(c["f1"] for c in per_class) / k if k else 0.0
    return Report(order, correct / total if total else 0.0, macro, per_class, confusion, total)
