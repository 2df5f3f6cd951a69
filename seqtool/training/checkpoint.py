"""Training checkpoints: optimizer/scheduler/RNG state and the loop position.

Saved with torch.save to a temp file and renamed into place; loaded only with
weights_only=True, so a checkpoint can never run code.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ..core.errors import ModelError
from ..core.atomic import write_bytes_atomic

from .publish import CHECKPOINT_FILE
CHECKPOINT_VERSION = 2  # 2: seqtool.training.loop's LoopState + the task's state


def save_checkpoint(directory: Path, state: dict) -> Path:
    buffer = io.BytesIO()
    torch.save({"checkpoint_version": CHECKPOINT_VERSION, **state}, buffer)
    path = Path(directory) / CHECKPOINT_FILE
    write_bytes_atomic(path, buffer.getvalue())
    return path


def load_checkpoint(directory: Path, map_location: str = "cpu") -> dict | None:
    """The checkpoint in `directory`, or None when there is none."""
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ModelError(f"{path}: checkpoint is corrupted or not a seqtool checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise ModelError(f"{path}: unsupported checkpoint version (made by another seqtool version; "
                         f"train afresh without --resume)")
    return state
