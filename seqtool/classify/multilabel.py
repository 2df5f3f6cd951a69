"""One-vs-all (multi-label) classifiers: when training uses them, their targets and validation
figure, and their evaluation: fastText's P@K / R@K, per-label F1.

Each example's predicted labels are the K most probable with probability >= threshold
(classify.topk.select; by default every label whose sigmoid is at least 0.5, the OVA
decision), and every figure is counted from those lists:

    accuracy  = share of examples whose predicted set equals their gold set (subset accuracy)
    micro_f1  = 2 * P@K * R@K / (P@K + R@K)  (the F1 of all label decisions pooled)
    macro_f1  = the mean over the model's labels of each label's F1
    per label = precision, recall, F1, support as `fasttext test-label` counts them

`--k 1 --threshold 0` gives fastText's `test` defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.errors import UsageError
from .data import Dataset
from .options import TrainOptions
from .topk import ALL, AtK, at_k, select

DEFAULT_THRESHOLD = 0.5


@dataclass
class MultiLabelReport:
    labels: list[str]
    accuracy: float  # subset accuracy
    micro_f1: float
    macro_f1: float
    per_class: list[dict]  # label, precision, recall, f1, support, predicted
    total: int
    at_k: AtK
    multi_label: bool = True

    def to_dict(self) -> dict:
        return {"multi_label": True, "accuracy": self.accuracy, "micro_f1": self.micro_f1,
                "macro_f1": self.macro_f1, "total": self.total, "labels": self.labels, "per_class": self.per_class,
                **self.at_k.to_dict()}


def evaluate_multilabel(clf, data: Dataset, *, k: int | None = None, threshold: float | None = None,
                        device: str = "cpu") -> MultiLabelReport:
    """clf: a stored Classifier or a training result (model, featurizer, labels)."""
    from .predict import probabilities

    k = ALL if k is None else k
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    probs = probabilities(clf, data.texts, device).tolist()  # (N, C)
    predicted = [[clf.labels[j] for j, _ in select(row, k, threshold)] for row in probs]
    gold = data.gold()
    found = at_k(gold, predicted, clf.labels, k=k, threshold=threshold)
    exact = sum(set(p) == set(g) for p, g in zip(predicted, gold))
    p, r = found.precision or 0.0, found.recall or 0.0
    micro = 2 * p * r / (p + r) if p + r else 0.0
    per = found.per_label
    macro = sum(c["f1"] for c in per) / len(per) if per else 0.0
    return MultiLabelReport(list(clf.labels), exact / len(gold) if gold else 0.0, micro, macro, per, len(gold),
                            found)


# ----------------------------------------------------------------------------- training
def multi_label(train: Dataset, opts: TrainOptions) -> bool:
    """One-vs-all outputs: asked for (--loss ova), or multi-label data under --loss auto."""
    if opts.loss == "softmax" and train.multi_label:
        raise UsageError(f"{train.origin}: multi-label data (several labels on one example) needs "
                         f"--loss ova or auto, not softmax")
    return opts.loss == "ova" or (opts.loss == "auto" and train.multi_label)


def multi_hot(label_sets: list[tuple[str, ...]], index: dict[str, int]) -> torch.Tensor:
    """(N, C) float targets: 1 where the example carries the label."""
    y = torch.zeros(len(label_sets), len(index))
    for row, labels in enumerate(label_sets):
        y[row, [index[x] for x in labels]] = 1.0
    return y


def decision_f1(logits: torch.Tensor, targets: list[set[int]]) -> float:
    """Micro-F1 of the decisions sigmoid >= 0.5 against each example's label ids, what early
    stopping watches for a multi-label model: P@1 reaches 1 long before an example's other
    labels are right (on tests/test_classify_multilabel.py's data it stopped training at
    epoch 3, predicting a third label on two-label texts)."""
    decided = (logits >= 0).tolist()  # logits (N, C); sigmoid >= 0.5
    hits = sum(row[j] for row, t in zip(decided, targets) for j in t)
    total = sum(map(sum, decided)) + sum(map(len, targets))
    return 2 * hits / total if total else 0.0
