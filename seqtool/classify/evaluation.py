"""The library entry points behind `seqtool classify eval` and `seqtool classify cv`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from typing import Callable

from ..core import console
from ..core.errors import InputError, ModelError
from ..core.threads import apply_threads
from .data import ReadOptions, check_trainable, read_dataset
from .holdout import early_stop_summary, hold_out, refit_options
from .metrics import Report, evaluate
from .options import TrainOptions
from .split import kfold
from .topk import check_k
from .train import fit


def predict_labels(trained_or_clf, texts: list[str], device: str = "cpu") -> list[str]:
    from .logits import classifier_logits

    feat = trained_or_clf.featurizer
    logits = classifier_logits(trained_or_clf.model, feat.encode(texts), device)
    return [trained_or_clf.labels[i] for i in logits.argmax(dim=1).tolist()]


def evaluate_model(path: str, *, name: str | None = None, read: ReadOptions | None = None,
                   device: str = "auto", k: int | None = None, threshold: float | None = None) -> Report:
    """The report on labelled data, with fastText's P@K and R@K (`fasttext test MODEL DATA K
    THRESHOLD`) in report.at_k (k default 1, threshold 0); a multi-label model's report is
    classify.multilabel's (k default -1: all labels, threshold 0.5)."""
    from ..core.device import resolve_device
    from . import store as saved

    if k is not None:
        check_k(k)
    device = resolve_device(device)
    clf = saved.load(name, device=device)
    data = read_dataset(path, read or ReadOptions())
    if len(data) == 0:
        raise InputError(f"{path}: no labelled examples")
    unknown = sorted(set(data.classes()) - set(clf.labels))
    if unknown and len(unknown) == len(data.classes()):
        raise ModelError(f"{path}: none of its labels ({', '.join(unknown[:5])}) are known to model "
                         f"'{clf.name}' ({', '.join(clf.labels[:5])})")
    if unknown:
        console.warn(f"{path}: labels unknown to model '{clf.name}': {', '.join(unknown[:5])}")
    if getattr(clf.model.cfg, "multi_label", False):
        from .multilabel import evaluate_multilabel

        return evaluate_multilabel(clf, data, k=k, threshold=threshold, device=device)
    if data.multi_label:
        raise InputError(f"{path}: multi-label data, but model '{clf.name}' is a single-label (softmax) "
                         f"classifier; train with --loss ova to evaluate on several labels per example")
    from .predict import probabilities
    from .topk import at_k, select

    probs = probabilities(clf, data.texts, device)  # (N, C); data texts are never empty
    report = evaluate(data.labels, [clf.labels[i] for i in probs.argmax(dim=1).tolist()], clf.labels)
    threshold = 0.0 if threshold is None else threshold
    k = 1 if k is None else k
    predicted = [[clf.labels[j] for j, _ in select(row, k, threshold)] for row in probs.tolist()]
    report.at_k = at_k(data.gold(), predicted, clf.labels, k=k, threshold=threshold)
    return report


def cross_validate(path: str, *, folds: int = 10, read: ReadOptions | None = None,
                   opts: TrainOptions | None = None, valid_path: str | None = None,
                   on_fold: Callable[[dict], None] | None = None, max_folds: int | None = None) -> "CVSummary":
    """Seeded stratified k-fold: train on k-1 folds (early stopping on a held-out part), test on one.
    opts.max_time bounds each fold's training (a fold out of time is not refit).

    max_folds runs only the first folds of the same split (a quicker estimate)."""
    from ..core.device import resolve_device

    opts = opts or TrainOptions()
    data = read_dataset(path, read or ReadOptions())
    check_trainable(data)
    apply_threads(opts.threads)
    device = resolve_device(opts.device)
    valid_fixed = read_dataset(valid_path, read or ReadOptions()) if valid_path else None
    results = []
    for k, test_idx in enumerate(kfold(data.labels, folds, opts.seed)[:max_folds]):
        started = time.perf_counter()
        held = set(test_idx)
        rest = data.subset([i for i in range(len(data)) if i not in held])
        if valid_fixed is None:
            train, valid = hold_out(rest, opts)
        else:
            train, valid = rest, valid_fixed
        fold_start = time.monotonic()  # --max-time bounds each fold's training (both phases)
        result = fit(train, valid, opts, device=device, started=fold_start)
        best_epoch = result.best_epoch
        if opts.refit and valid_fixed is None and result.status != "time-limit":
            result = fit(rest, None, refit_options(opts, early_stop_summary(result)), device=device,
                         started=fold_start)
        test = data.subset(test_idx)
        if result.config.multi_label:
            from .multilabel import evaluate_multilabel

            report = evaluate_multilabel(result, test, device=device)
        else:
            report = evaluate(test.labels, predict_labels(result, test.texts, device), result.labels)
        row = {"fold": k + 1, "accuracy": report.accuracy, "macro_f1": report.macro_f1,
               "test_examples": len(test), "best_epoch": best_epoch,
               "seconds": round(time.perf_counter() - started, 2)}
        results.append(row)
        if on_fold is not None:
            on_fold(row)
    accs = [r["accuracy"] for r in results]
    f1s = [r["macro_f1"] for r in results]
    return CVSummary(folds, len(results), opts.seed, _mean(accs), _std(accs), _mean(f1s), _std(f1s), results)


@dataclass
class CVSummary:
    """k-fold cross-validation: mean and sample std of the folds' accuracy and macro-F1."""

    folds: int
    folds_run: int
    seed: int
    accuracy_mean: float
    accuracy_std: float
    macro_f1_mean: float
    macro_f1_std: float
    per_fold: list  # one dict per fold: fold, accuracy, macro_f1, test_examples, best_epoch, seconds

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __getitem__(self, key: str):  # cv["accuracy_mean"], as the API documented before 0.5
        return getattr(self, key)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _std(xs: list[float]) -> float:
    """Sample standard deviation (n - 1), as usually reported for k-fold CV."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
