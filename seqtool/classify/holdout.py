"""What `classify train` and `classify cv` share around fit(): the held-out validation split
that early stopping watches, and the epoch count of the refit on all the data."""

from __future__ import annotations

from dataclasses import replace

from ..core.errors import InputError
from .data import Dataset
from .options import TrainOptions
from .split import holdout
from .train import Trained


def hold_out(data: Dataset, opts: TrainOptions) -> tuple[Dataset, Dataset]:
    """The seeded, stratified validation split that early stopping watches."""
    train_idx, valid_idx = holdout(data.labels, opts.valid_split, opts.seed)
    if not valid_idx:
        raise InputError(f"{data.origin}: too few examples to hold out a validation split; pass --valid FILE")
    train, valid = data.subset(train_idx), data.subset(valid_idx)
    valid.origin = f"{data.origin} (held-out {opts.valid_split:g})"
    return train, valid


def early_stop_summary(trained: Trained) -> dict:
    members = [refit_epochs(m) for m in trained.members] if trained.members else None
    return {"best_epoch": trained.best_epoch, "valid_accuracy": trained.best_valid_accuracy,
            "history": trained.history, "refit_epochs": refit_epochs(trained), "member_refit_epochs": members}


def refit_epochs(trained: Trained) -> int:
    """Epochs for the refit: the LAST epoch with the best validation accuracy. Early
    stopping keeps the first of tied epochs, but on a small or easy validation set that
    is often the first epoch to saturate, and a refit that short would be undertrained.
    An ensemble's: its longest member's (each member refits for its own)."""
    if trained.members:
        return max(refit_epochs(m) for m in trained.members)
    best = round(trained.best_valid_accuracy, 5)
    return max([r["epoch"] for r in trained.history if r.get("valid_accuracy") == best] or [trained.best_epoch])


def refit_options(opts: TrainOptions, summary: dict) -> TrainOptions:
    """The refit's recipe from early_stop_summary's: exactly that many epochs (and an
    ensemble's members each their own)."""
    epochs = summary["refit_epochs"]
    return replace(opts, epochs=epochs, patience=epochs + 1, member_epochs=summary.get("member_refit_epochs"))
