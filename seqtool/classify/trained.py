"""What training gives back (Trained) and what it tells its caller along the way (Hooks, the
epoch records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..training.loop import EpochEnd, Publication
from .model import ClassifierConfig
from .features import Featurizer


@dataclass
class Trained:
    model: nn.Module
    featurizer: Featurizer
    labels: list[str]
    config: ClassifierConfig
    history: list[dict]
    best_epoch: int
    best_valid_accuracy: float
    embedding_coverage: float | None = None
    status: str = "finished"  # the loop's: finished, early-stopped, time-limit, stopped
    members: list["Trained"] | None = None  # an ensemble's: each member's own (classify/ensemble_fit.py)


@dataclass
class Hooks:
    """What the caller wants to hear about (all optional)."""

    on_epoch: Callable[[dict, "Trained"], None] | None = None  # after each epoch; Trained holds the best so far
    save_checkpoint: Callable[[dict], None] | None = None
    stop: object | None = None  # anything with a .requested attribute (StopFlag)
    # offered the best model at improved epoch ends, at the end and on a stop; returns whether it was stored
    publish: Callable[["Trained", Publication], bool] | None = None
    resume_hint: str = "continue with --resume"


def epoch_record(end: EpochEnd, member: str | None) -> dict:
    """An epoch's record (metrics.jsonl line, --json line); an ensemble member's names it."""
    record = {"epoch": end.epoch, "train_loss": end.train_loss, "valid_accuracy": end.score,
              "best": end.improved, "seconds": round(end.seconds, 2)}
    if member is not None:
        record = {"member": member, **record}
    if end.score is None:
        record["refit"] = True
    return record
