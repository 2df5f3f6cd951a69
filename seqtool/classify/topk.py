"""Top-K predictions and fastText's test figures: precision@K and recall@K, per-label F1.

fastText (`fasttext test MODEL FILE K THRESHOLD`, src/meter.cc Meter::log) predicts for each
example the labels among the K most probable whose probability is at least THRESHOLD (so
fewer than K when the model has fewer labels or the threshold cuts), then counts over the
whole file:

    predicted     = number of labels predicted, over all examples
    gold          = number of gold labels, over all examples
    predictedGold = predicted labels that are among the example's gold labels
    P@K = predictedGold / predicted        R@K = predictedGold / gold

So P@K is not "correct / (K * N)": an example for which fewer than K labels are predicted
adds fewer to the denominator. A gold label the model does not know is dropped (fastText's
dictionary has no id for it) and an example left with no gold label is skipped: it is not
in N. With nothing predicted P@K is undefined (fastText prints nan; here None).

Per label (fastText's `test-label`): precision = predictedGold / predicted of that label,
recall = predictedGold / gold, F1 their harmonic mean; 0 where a denominator is 0 (as
seqtool.classify.metrics and scikit-learn's zero_division=0; fastText gives nan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

ALL = -1  # --k -1: every label (fastText's k = -1)


def check_k(k: int, flag: str = "--k") -> int:
    """K of the top-K: at least 1, or -1 (ALL) for every label."""
    from ..core.errors import UsageError

    if k < 1 and k != ALL:
        raise UsageError(f"{flag} must be at least 1 (or -1 for every label), got {k}")
    return k


def select(probs: Sequence[float], k: int = 1, threshold: float = 0.0) -> list[tuple[int, float]]:
    """(label index, probability) of the K most probable labels with probability >= threshold,
    most probable first (ties: the lower index first). k = -1: all labels."""
    order = sorted(range(len(probs)), key=lambda j: (-probs[j], j))
    if k != ALL:
        order = order[:k]
    return [(j, float(probs[j])) for j in order if probs[j] >= threshold]


@dataclass
class AtK:
    k: int
    threshold: float
    examples: int  # counted: with at least one gold label known to the model
    predicted: int
    gold: int
    predicted_gold: int
    per_label: list[dict]  # label, precision, recall, f1, support (gold), predicted

    @property
    def precision(self) -> float | None:
        return self.predicted_gold / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.predicted_gold / self.gold if self.gold else None

    def to_dict(self) -> dict:
        return {"k": self.k, "threshold": self.threshold, "examples": self.examples,
                "precision_at_k": self.precision, "recall_at_k": self.recall, "predicted": self.predicted,
                "gold": self.gold, "predicted_gold": self.predicted_gold}


def at_k(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str], *,
         k: int, threshold: float) -> AtK:
    """fastText's Meter over the examples: gold label sets and the predicted label lists."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    known = set(labels)
    counts = {label: [0, 0, 0] for label in labels}  # predicted, gold, predicted_gold
    n = n_pred = n_gold = n_hit = 0
    for gold_i, pred_i in zip(gold, predicted):
        g = [x for x in dict.fromkeys(gold_i) if x in known]
        if not g:
            continue  # fastText skips a line with no known label
        n += 1
        n_gold += len(g)
        n_pred += len(pred_i)
        for x in g:
            counts[x][1] += 1
        for x in pred_i:
            counts[x][0] += 1
            if x in g:
                counts[x][2] += 1
                n_hit += 1
    per_label = []
    for label in labels:
        p, g, hit = counts[label]
        precision = hit / p if p else 0.0
        recall = hit / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": g,
                          "predicted": p})
    return AtK(k, threshold, n, n_pred, n_gold, n_hit, per_label)
