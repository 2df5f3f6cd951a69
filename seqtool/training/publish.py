"""When a training run may replace the model stored under its name.

A run offers its best model at each improved epoch end, at its end, and (if it published
nothing yet) when it is stopped. It replaces what is stored only when it got at least as
far: a finished model (one whose run ended as asked: all epochs, or early stopping) is
replaced only by a finished run, or when the user says so (--publish-partial); an
unfinished one by a run of at least as many epochs. So an interrupted retrain never
replaces, and never prunes the versions of, the model it was meant to improve.
"""

from __future__ import annotations

from ..core.errors import SeqtoolError, UsageError
from ..core.store import KINDS, ModelStore

CHECKPOINT_FILE = "checkpoint.pt"  # as seqtool.training.checkpoint writes it (that module imports torch)


def stored_progress(store: ModelStore, name: str) -> tuple[bool, float] | None:
    """(finished, epochs) of the model stored under `name`; None when there is none (or it is
    unreadable: a new version is then better than nothing)."""
    if not store.exists(name):
        return None
    try:
        info = store.open(name, KINDS)
    except SeqtoolError:
        return None
    training = info.config.get("training") or {}
    metrics = info.config.get("metrics") or {}
    # Models from before this rule did not say; they count as finished (the safe side).
    finished = bool(training.get("finished", True))
    epochs = metrics.get("epochs", training.get("epochs", 0))
    return finished, float(epochs) if isinstance(epochs, (int, float)) else 0.0


def may_replace(store: ModelStore, name: str, *, finished: bool, epochs: float,
                publish_partial: bool = False) -> tuple[bool, str]:
    """(whether a run that got this far may publish under `name`, why not when it may not)."""
    stored = stored_progress(store, name)
    if stored is None or publish_partial or finished:
        return True, ""
    stored_finished, stored_epochs = stored
    if stored_finished:
        return False, (f"model '{name}' is kept: it holds a finished run ({stored_epochs:g} epochs) and this "
                       f"run has not finished (its best model is in the checkpoint: --resume continues it; "
                       f"--publish-partial publishes unfinished runs)")
    if epochs < stored_epochs:
        return False, (f"model '{name}' is kept: it holds an unfinished run of {stored_epochs:g} epochs, "
                       f"further than this one ({epochs:g})")
    return True, ""


def checkpoint_names(store: ModelStore) -> list[str]:
    """The models that have a training checkpoint (what --resume can continue)."""
    root = store.root / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CHECKPOINT_FILE).is_file())


def no_checkpoint(store: ModelStore, name: str) -> UsageError:
    """--resume of a name without a checkpoint: say which names have one."""
    names = checkpoint_names(store)
    have = f"models with a checkpoint: {', '.join(names)}" if names else "no model has a checkpoint"
    return UsageError(f"--resume: no checkpoint to resume for model '{name}' ({have})")
