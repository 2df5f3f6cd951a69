"""The library entry points behind `seqtool classify train|predict|eval|cv`: train_model here,
evaluate_model and cross_validate in classify/evaluation.py (re-exported)."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, fields, replace

from ..core import console
from ..core.errors import UsageError
from ..core.store import ModelStore, name_from_inputs
from ..core.threads import apply_threads
from .data import Dataset, ReadOptions, check_trainable, read_dataset
from .evaluation import CVSummary, cross_validate, evaluate_model, predict_labels
from .holdout import early_stop_summary, hold_out, refit_epochs, refit_options
from .train import Hooks, TrainOptions, Trained, fit

__all__ = ["TrainSummary", "default_name", "train_model", "evaluate_model", "cross_validate", "CVSummary",
           "predict_labels", "hold_out", "refit_epochs"]


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
    # what valid_accuracy holds: "accuracy", or "micro_f1" of the one-vs-all decisions (multi-label)
    valid_metric: str = "accuracy"

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
        lock = store.lock(name) if dist.is_main else contextlib.nullcontext()
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
            installed = flag.installed() if hasattr(flag, "installed") else contextlib.nullcontext()
            published = []
            hint = f"continue with seqtool classify train {path} --resume --name {name}"
            with installed:
                started = time.perf_counter()
                if stopped is None:
                    def offer_early(trained: Trained, offer) -> bool:
                        done = offer.finished and not refit
                        ok = publish(trained, offer, early_stop_summary(trained), done)
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
                    stopped, state = early_stop_summary(result), None
                if refit:  # on all of DATA in its own order, as `cv` refits each fold
                    epochs = stopped["refit_epochs"]
                    info = {"epochs": epochs, "examples": len(data)}

                    def offer_refit(trained: Trained, offer) -> bool:
                        if not offer.finished:  # an unfinished refit is not a model to keep
                            return False
                        ok = publish(trained, offer, stopped, True, info, stopped["history"] + trained.history)
                        published.append(ok)
                        return ok

                    result = fit(data, None, refit_options(opts, stopped),
                                 hooks=Hooks(None, lambda st: checkpoint({**st, "early_stop": stopped}), flag,
                                             offer_refit, hint),
                                 resume_state=state, dist=dist, device=device, report=report,
                                 started=deadline_from)
    return TrainSummary(name, stopped["best_epoch"], stopped["valid_accuracy"], len(stopped["history"]),
                        stopped["refit_epochs"] if refit else 0, len(result.labels), len(train), len(valid),
                        round(time.perf_counter() - started, 2), result.embedding_coverage,
                        bool(published and published[-1]), dist.rank, result.status,
                        "micro_f1" if result.config.multi_label else "accuracy")


