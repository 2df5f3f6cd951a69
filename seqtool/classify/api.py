"""The library entry points behind `seqtool classify train|predict|eval|cv`."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..core import console
from ..core.errors import InputError, ModelError, UsageError
from ..core.io import sha256_of
from ..core.store import ModelStore
from .data import Dataset, ReadOptions, check_trainable, read_dataset
from .metrics import Report, evaluate
from .split import holdout, kfold
from .infer import predict_logits
from .train import Hooks, TrainOptions, Trained, fit

DEFAULT_NAME = "classifier"


def data_fingerprint(path: str) -> str | None:
    """sha256 of a data file, or of the (path, sha256) list of a folder; None for stdin."""
    p = Path(path)
    if path == "-" or not p.exists():
        return None
    if p.is_file():
        return sha256_of(p)
    h = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        h.update(f"{f.relative_to(p)}\0{sha256_of(f)}\n".encode())
    return h.hexdigest()


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


def train_model(path: str, *, read: ReadOptions | None = None, opts: TrainOptions | None = None,
                valid_path: str | None = None, name: str | None = None, resume: bool = False,
                report=None, stop=None) -> dict:
    """Train, keep the best model in the store, checkpoint every epoch; returns a summary dict."""
    from ..core.device import resolve_device
    from ..training.checkpoint import load_checkpoint, save_checkpoint
    from ..training.runtime import StopFlag, device_for_rank, distributed_session
    from . import store as saved

    read = read or ReadOptions()
    opts = opts or TrainOptions()
    name = name or DEFAULT_NAME
    store = ModelStore()
    store.checkpoint_dir(name, create=False)  # validates the name before any work
    device = resolve_device(opts.device)
    with distributed_session(device) as dist:
        device = device_for_rank(device, dist)
        data, train, valid = train_valid(path, read, opts, valid_path)
        fingerprint = {"data": data_fingerprint(path), "valid": data_fingerprint(valid_path) if valid_path else None,
                       "options": opts.fingerprint()}
        lock = store.lock(name) if dist.is_main else _nullcontext()
        with lock:
            ckpt_dir = store.checkpoint_dir(name)
            state = None
            if resume:
                state = load_checkpoint(ckpt_dir)
                if state is None:
                    raise UsageError(f"no checkpoint to resume for model '{name}' (in {ckpt_dir})")
                if state.get("fingerprint") != fingerprint:
                    raise UsageError(f"the checkpoint of '{name}' was made with other data or options; "
                                     f"resume with the same ones or train without --resume")
            elif (ckpt_dir / "checkpoint.pt").exists() and dist.is_main:
                console.warn(f"starting '{name}' afresh; its previous checkpoint will be replaced "
                             f"(use --resume to continue it)")
            training = {"data": {"path": str(path), "sha256": fingerprint["data"], "examples": len(train)},
                        "valid": {"path": str(valid_path) if valid_path else None, "sha256": fingerprint["valid"],
                                  "examples": len(valid)},
                        "options": opts.to_dict(), "format": read.format}

            def publish(trained: Trained, history: list[dict], best: dict, refit_info: dict | None = None) -> None:
                saved.save(store, name, trained.model, trained.featurizer, trained.labels,
                           training={**training, "history": history, "best_epoch": best["best_epoch"],
                                     "refit": refit_info},
                           metrics={"valid_accuracy": best["valid_accuracy"],
                                    "embedding_coverage": trained.embedding_coverage},
                           extra_files={"metrics.jsonl": "".join(json.dumps(r) + "\n" for r in history)})

            def on_epoch_hook(record: dict, trained: Trained) -> None:
                if record["best"]:
                    publish(trained, trained.history, _early_stop_summary(trained))

            def checkpoint(state_: dict) -> None:
                save_checkpoint(ckpt_dir, {**state_, "fingerprint": fingerprint})

            # A checkpoint of the refit phase carries the early-stopping phase's summary.
            stopped = state.get("early_stop") if state is not None else None
            refit = opts.refit and valid_path is None
            flag = stop if stop is not None else StopFlag()
            installed = flag.installed() if hasattr(flag, "installed") else _nullcontext()
            with installed:
                started = time.perf_counter()
                if stopped is None:
                    result = fit(train, valid, opts, hooks=Hooks(on_epoch_hook, checkpoint, flag),
                                 resume_state=state, dist=dist, device=device, report=report)
                    stopped, state = _early_stop_summary(result), None
                if refit:  # on all of DATA in its own order, as `cv` refits each fold
                    epochs = stopped["refit_epochs"]
                    result = fit(data, None, replace(opts, epochs=epochs, patience=epochs + 1),
                                 hooks=Hooks(None, lambda st: checkpoint({**st, "early_stop": stopped}), flag),
                                 resume_state=state, dist=dist, device=device, report=report)
                    if dist.is_main:
                        publish(result, stopped["history"] + result.history, stopped,
                                refit_info={"epochs": epochs, "examples": len(data)})
    return {"model": name, "best_epoch": stopped["best_epoch"], "valid_accuracy": stopped["valid_accuracy"],
            "epochs": len(stopped["history"]), "refit_epochs": stopped["refit_epochs"] if refit else 0,
            "classes": len(result.labels), "train_examples": len(train),
            "valid_examples": len(valid), "seconds": round(time.perf_counter() - started, 2),
            "embedding_coverage": result.embedding_coverage, "rank": dist.rank}


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
    feat = trained_or_clf.featurizer
    logits = predict_logits(trained_or_clf.model, feat.encode(texts), device)
    return [trained_or_clf.labels[i] for i in logits.argmax(dim=1).tolist()]


def evaluate_model(path: str, *, name: str | None = None, read: ReadOptions | None = None,
                   device: str = "auto") -> Report:
    from ..core.device import resolve_device
    from . import store as saved

    device = resolve_device(device)
    clf = saved.load(name, device=device)
    data = read_dataset(path, read or ReadOptions())
    if len(data) == 0:
        raise InputError(f"{path}: no labelled examples")
    unknown = sorted(set(data.labels) - set(clf.labels))
    if unknown and len(unknown) == len(set(data.labels)):
        raise ModelError(f"{path}: none of its labels ({', '.join(unknown[:5])}) are known to model "
                         f"'{clf.name}' ({', '.join(clf.labels[:5])})")
    if unknown:
        console.warn(f"{path}: labels unknown to model '{clf.name}': {', '.join(unknown[:5])}")
    predicted = predict_labels(clf, data.texts, device)
    return evaluate(data.labels, predicted, clf.labels)


def cross_validate(path: str, *, folds: int = 10, read: ReadOptions | None = None,
                   opts: TrainOptions | None = None, valid_path: str | None = None,
                   on_fold: Callable[[dict], None] | None = None, max_folds: int | None = None) -> dict:
    """Seeded stratified k-fold: train on k-1 folds (early stopping on a held-out part), test on one.

    max_folds runs only the first folds of the same split (a quicker estimate)."""
    from ..core.device import resolve_device

    opts = opts or TrainOptions()
    data = read_dataset(path, read or ReadOptions())
    check_trainable(data)
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
        result = fit(train, valid, opts, device=device)
        best_epoch = result.best_epoch
        if opts.refit and valid_fixed is None:
            epochs = refit_epochs(result)
            result = fit(rest, None, replace(opts, epochs=epochs, patience=epochs + 1), device=device)
        test = data.subset(test_idx)
        report = evaluate(test.labels, predict_labels(result, test.texts, device), result.labels)
        row = {"fold": k + 1, "accuracy": report.accuracy, "macro_f1": report.macro_f1,
               "test_examples": len(test), "best_epoch": best_epoch,
               "seconds": round(time.perf_counter() - started, 2)}
        results.append(row)
        if on_fold is not None:
            on_fold(row)
    accs = [r["accuracy"] for r in results]
    f1s = [r["macro_f1"] for r in results]
    return {"folds": folds, "folds_run": len(results), "seed": opts.seed, "accuracy_mean": _mean(accs), "accuracy_std": _std(accs),
            "macro_f1_mean": _mean(f1s), "macro_f1_std": _std(f1s), "per_fold": results}


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _std(xs: list[float]) -> float:
    """Sample standard deviation (n - 1), as usually reported for k-fold CV."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
