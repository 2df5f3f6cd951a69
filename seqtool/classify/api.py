"""The library entry points behind `seqtool classify train|predict|eval|cv`."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, fields, replace
from typing import Callable

from ..core import console
from ..core.errors import InputError, ModelError, UsageError
from ..core.store import ModelStore, name_from_inputs
from ..core.threads import apply_threads
from .data import Dataset, ReadOptions, check_trainable, read_dataset
from .metrics import Report, evaluate
from .split import holdout, kfold
from .topk import check_k
from .train import Hooks, TrainOptions, Trained, fit

def same_data(stored: dict, now: dict, paths: dict) -> bool:
    """The checkpoint's data fingerprint matches the data read now (Dataset.sha256); a
    checkpoint made on stdin before stdin was hashed has None there: nothing to compare."""
    return all(stored.get(k) == v or (stored.get(k) is None and paths.get(k) == "-") for k, v in now.items())


def train_valid(path: str, read: ReadOptions, opts: TrainOptions,
                valid_path: str | None) -> tuple[Dataset, Dataset, Dataset]:
    """(all of DATA, the part trained on, the validation set)."""
    data = read_dataset(path, read)
    check_trainable(data)
    if valid_path:
        return data, data, read_dataset(valid_path, read)
    train, valid = hold_out(data, opts)
    return data, train, valid


def hold_out(data: Dataset, opts: TrainOptions) -> tuple[Dataset, Dataset]:
    """The seeded, stratified validation split that early stopping watches."""
    train_idx, valid_idx = holdout(data.labels, opts.valid_split, opts.seed)
    if not valid_idx:
        raise InputError(f"{data.origin}: too few examples to hold out a validation split; pass --valid FILE")
    train, valid = data.subset(train_idx), data.subset(valid_idx)
    valid.origin = f"{data.origin} (held-out {opts.valid_split:g})"
    return train, valid


@dataclass
class TrainSummary:
    """What `classify train` reports: the model's name, its early-stopping figures, the sizes."""

    model: str
    best_epoch: int
    valid_accuracy: float
    epochs: int  # early-stopping epochs trained
    refit_epochs: int  # epochs of the refit on all of DATA (0: none)
    classes: int
    train_examples: int
    valid_examples: int
    seconds: float
    embedding_coverage: float | None
    published: bool  # whether this run's model is the one now stored under `model`
    rank: int = 0  # under torchrun, only rank 0 reports
    status: str = "finished"  # "time-limit" when --max-time ended the run (then there is no refit)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rank"}

    def __getitem__(self, key: str):  # summary["valid_accuracy"], as the API documented before 0.5
        return getattr(self, key)


def default_name(path: str) -> str:
    """reviews.tsv -> 'reviews-classifier' (the one default-name policy of the store)."""
    return name_from_inputs([path], suffix="-classifier", fallback="classifier")


def train_model(path: str, *, read: ReadOptions | None = None, opts: TrainOptions | None = None,
                valid_path: str | None = None, name: str | None = None, resume: bool = False,
                report=None, stop=None, explicit: set[str] | None = None,
                publish_partial: bool = False) -> TrainSummary:
    """Train, keep the best model in the store, checkpoint every epoch.

    On `resume` the recipe is the checkpoint's: an option in `explicit` (the ones the user
    gave; without it, those that differ from the defaults) with another value is refused.
    A run that has not finished never replaces a finished model (unless `publish_partial`)."""
    from ..core.device import resolve_device
    from ..training.checkpoint import load_checkpoint, save_checkpoint
    from ..core.options import given_names, resume_options
    from ..training.publish import CHECKPOINT_FILE, may_replace, no_checkpoint
    from ..training.report import notice
    from ..training.runtime import StopFlag, device_for_rank, distributed_session
    from . import store as saved

    deadline_from = time.monotonic()  # --max-time: the whole run, reading the data and both phases included
    read = read or ReadOptions()
    opts = opts or TrainOptions()
    derived = name is None
    name = name or default_name(path)
    store = ModelStore()
    ckpt_dir = store.checkpoint_dir(name, create=False)  # validates the name before any work
    store.check_replace(name, saved.KIND, force=opts.force)
    state = None
    if resume:
        state = load_checkpoint(ckpt_dir)
        if state is None:
            raise no_checkpoint(store, name)
        if state.get("early_stop") is not None and state.get("finished"):
            raise UsageError(f"--resume: model '{name}' finished its training (early stopping, then the refit "
                             f"on all of DATA); a refit cannot be extended: train afresh without --resume")
        if "options" not in state or not isinstance(state["options"], dict):
            raise UsageError(f"the checkpoint of '{name}' holds no options; train afresh without --resume")
        stored = TrainOptions(**{**TrainOptions().to_dict(), **state["options"]})
        opts = resume_options(stored, replace(opts), given_names(opts, TrainOptions()) if explicit is None else explicit)
    apply_threads(opts.threads)
    device = resolve_device(opts.device)
    with distributed_session(device) as dist:
        device = device_for_rank(device, dist)
        data, train, valid = train_valid(path, read, opts, valid_path)
        if derived and dist.is_main:
            notice(f"model name: '{name}' (from {path}; --name chooses another)")
        fingerprint = {"data": data.sha256, "valid": valid.sha256 if valid_path else None}
        lock = store.lock(name) if dist.is_main else _nullcontext()
        with lock:
            ckpt_dir = store.checkpoint_dir(name)
            if state is not None and not same_data(state.get("fingerprint", {}), fingerprint,
                                                   {"data": path, "valid": valid_path}):
                raise UsageError(f"the checkpoint of '{name}' was made with other data; "
                                 f"resume with the same files or train without --resume")
            if state is None and (ckpt_dir / CHECKPOINT_FILE).exists() and dist.is_main:
                console.warn(f"starting '{name}' afresh; its previous checkpoint will be replaced "
                             f"(use --resume to continue it)")
            training = {"data": {"path": str(path), "sha256": fingerprint["data"], "examples": len(train)},
                        "valid": {"path": str(valid_path) if valid_path else None, "sha256": fingerprint["valid"],
                                  "examples": len(valid)},
                        "options": opts.to_dict(), "format": read.format}
            refit = opts.refit and valid_path is None
            told = []

            def publish(trained: Trained, offer, early: dict, finished: bool, refit_info: dict | None = None,
                        history: list | None = None) -> bool:
                epochs = len(early["history"])  # early-stopping epochs, as TrainSummary.epochs
                allowed, why = may_replace(store, name, finished=finished, epochs=epochs,
                                           publish_partial=publish_partial)
                if not allowed:
                    if not told:
                        notice(why)
                        told.append(why)
                    return False
                saved.save(store, name, trained.model, trained.featurizer, trained.labels,
                           training={**training, "history": history or early["history"],
                                     "best_epoch": early["best_epoch"], "refit": refit_info,
                                     "status": offer.status, "finished": finished},
                           metrics={"valid_accuracy": early["valid_accuracy"], "epochs": epochs,
                                    "embedding_coverage": trained.embedding_coverage},
                           extra_files={"metrics.jsonl": "".join(json.dumps(r) + "\n"
                                                                 for r in history or early["history"])},
                           force=opts.force)
                return True

            def checkpoint(state_: dict) -> None:
                save_checkpoint(ckpt_dir, {**state_, "fingerprint": fingerprint, "options": opts.to_dict()})

            # A checkpoint of the refit phase carries the early-stopping phase's summary.
            stopped = state.get("early_stop") if state is not None else None
            flag = stop if stop is not None else StopFlag()
            installed = flag.installed() if hasattr(flag, "installed") else _nullcontext()
            published = []
            hint = f"continue with seqtool classify train {path} --resume --name {name}"
            with installed:
                started = time.perf_counter()
                if stopped is None:
                    def offer_early(trained: Trained, offer) -> bool:
                        done = offer.finished and not refit
                        ok = publish(trained, offer, _early_stop_summary(trained), done)
                        published.append(ok)
                        return ok

                    result = fit(train, valid, opts, hooks=Hooks(None, checkpoint, flag, offer_early, hint),
                                 resume_state=state, dist=dist, device=device, report=report,
                                 started=deadline_from)
                    if result.status == "time-limit":  # out of time: the best held-out epoch, no refit
                        if refit:
                            notice(f"--max-time reached in the early-stopping phase: no refit; the best "
                                   f"held-out epoch is kept ({hint})")
                        refit = False
                    stopped, state = _early_stop_summary(result), None
                if refit:  # on all of DATA in its own order, as `cv` refits each fold
                    epochs = stopped["refit_epochs"]
                    info = {"epochs": epochs, "examples": len(data)}

                    def offer_refit(trained: Trained, offer) -> bool:
                        if not offer.finished:  # an unfinished refit is not a model to keep
                            return False
                        ok = publish(trained, offer, stopped, True, info, stopped["history"] + trained.history)
                        published.append(ok)
                        return ok

                    result = fit(data, None, replace(opts, epochs=epochs, patience=epochs + 1),
                                 hooks=Hooks(None, lambda st: checkpoint({**st, "early_stop": stopped}), flag,
                                             offer_refit, hint),
                                 resume_state=state, dist=dist, device=device, report=report,
                                 started=deadline_from)
    return TrainSummary(name, stopped["best_epoch"], stopped["valid_accuracy"], len(stopped["history"]),
                        stopped["refit_epochs"] if refit else 0, len(result.labels), len(train), len(valid),
                        round(time.perf_counter() - started, 2), result.embedding_coverage,
                        bool(published and published[-1]), dist.rank, result.status)


def _early_stop_summary(trained: Trained) -> dict:
    return {"best_epoch": trained.best_epoch, "valid_accuracy": trained.best_valid_accuracy,
            "history": trained.history, "refit_epochs": refit_epochs(trained)}


def refit_epochs(trained: Trained) -> int:
    """Epochs for the refit: the LAST epoch with the best validation accuracy. Early
    stopping keeps the first of tied epochs, but on a small or easy validation set that
    is often the first epoch to saturate, and a refit that short would be undertrained."""
    best = round(trained.best_valid_accuracy, 5)
    return max([r["epoch"] for r in trained.history if r.get("valid_accuracy") == best] or [trained.best_epoch])


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


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
            epochs = refit_epochs(result)
            result = fit(rest, None, replace(opts, epochs=epochs, patience=epochs + 1), device=device,
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
