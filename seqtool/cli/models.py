"""seqtool models: list, show, choose the default, remove and prune stored models."""

from __future__ import annotations

import json
import shutil
import sys
from typing import Annotated, Optional

import typer

from ..core import console
from ..core.errors import UsageError
from ..core.store import KINDS, ModelStore, StoreEntry, dir_size
from .options import JsonOpt, ModelArg, complete_model_names, examples

app = typer.Typer(
    help="Manage the model store ($SEQTOOL_HOME, default ~/.local/share/seqtool).",
    epilog=examples("seqtool models list", "seqtool models list --kind lm | cut -f1", "seqtool models show tri --json", "seqtool models default tri", "seqtool models rm old-model --yes", "seqtool models prune"),
    no_args_is_help=True,
)

COLUMNS = ("name", "kind", "default", "created", "size", "checkpoint", "status")


def _human(size: Optional[int]) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _row(store: ModelStore, entry: StoreEntry, defaults: dict) -> dict:
    checkpoints = store.checkpoint_dir(entry.name, create=False)
    checkpoint = dir_size(checkpoints) if checkpoints.is_dir() else None
    if entry.broken:
        return {"name": entry.name, "kind": None, "default": False, "created": None, "size": None,
                "checkpoint": checkpoint, "broken": True, "problem": entry.problem}
    info = entry.info
    return {"name": info.name, "kind": info.kind, "default": defaults.get(info.kind) == info.name,
            "created": info.config.get("created"), "size": dir_size(info.path), "checkpoint": checkpoint,
            "broken": False, "metrics": info.config.get("metrics", {}), "path": str(info.path)}


@app.command("list")
def list_models(
    kind: Annotated[Optional[str], typer.Option("--kind", help=f"Only this kind ({', '.join(KINDS)}).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored models: name, kind, default, created, size, checkpoint size, status.

    Tab-separated without a header when stdout is not a terminal (`| cut -f1` gives names); sizes are bytes there, human-readable on a terminal. Broken entries (a dangling link, a damaged config) are listed as broken; `models rm` removes them.

    Examples:

      seqtool models list

      seqtool models list --kind lm | cut -f1

      seqtool models list --json
    """
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown --kind {kind!r} (choose from {', '.join(KINDS)})")
    store = ModelStore()
    problem = store.defaults_problem()
    if problem:
        console.warn(f"{problem}; the defaults are unknown until `seqtool models default NAME`")
    defaults = store.default_of_kind()
    rows = [_row(store, e, defaults) for e in store.entries()]
    rows = [r for r in rows if kind is None or r["kind"] == kind]
    if as_json:
        for row in rows:
            console.emit_json(row)
        return
    tty = console.stdout_is_tty()
    table = []
    for row in rows:
        size = _human if tty else (lambda v: "" if v is None else str(v))
        table.append([row["name"], row["kind"] or "broken", "default" if row["default"] else "",
                      row["created"] or "", size(row["size"]), size(row["checkpoint"]),
                      f"broken: {row['problem']}" if row["broken"] else "ok"])
    if not tty:
        for cells in table:
            console.emit("\t".join(cells))
        return
    table.insert(0, list(COLUMNS))
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS) - 1)]
    for cells in table:
        console.emit("  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[-1])
    total = sum(dir_size(p) for p in store.checkpoint_dirs())
    if total:
        console.emit(f"checkpoints: {_human(total)} in all (`seqtool models prune` removes finished runs' ones)")


@app.command(epilog=examples("seqtool models show tri", "seqtool models show demo --json"))
def show(name: ModelArg, as_json: JsonOpt = False) -> None:
    """Print a model's config.json (kind, hyperparameters, corpus, metrics)."""
    info = ModelStore().open(name, KINDS)
    if as_json:
        console.emit_json(info.config)
    else:
        console.emit(json.dumps(info.config, indent=2, ensure_ascii=False))


@app.command(epilog=examples("seqtool models path demo", "seqtool models path tri"))
def path(name: ModelArg) -> None:
    """Print the directory holding a model's files."""
    console.emit(str(ModelStore().open(name, KINDS).path))


@app.command("default")
def set_default(name: ModelArg) -> None:
    """Make NAME the default model of its kind (what `sample` and the other commands use without --model).

    Examples:

      seqtool models default tri

      seqtool models default sentiment
    """
    store = ModelStore()
    info = store.open(name, KINDS)
    store.set_default(info.kind, info.name)
    console.info(f"'{info.name}' is now the default {info.kind} model")


@app.command("rm", epilog=examples("seqtool models rm old-model --yes", "seqtool models rm broken-entry -y"))
def remove(
    name: Annotated[str, typer.Argument(help="Model name (a broken entry too).", autocompletion=complete_model_names)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed without a terminal).")] = False,
) -> None:
    """Remove a model (or a broken entry), its old versions and its checkpoints.

    Without a terminal to confirm on, --yes is required (exit 2 otherwise).

    Examples:

      seqtool models rm old-model --yes
    """
    store = ModelStore()
    entry = next((e for e in store.entries() if e.name == name), None)
    if entry is None:
        store.open(name, KINDS)  # the one "not found" (or invalid name) message
    if not yes:
        try:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if not interactive:
            raise UsageError(f"models rm {name}: no terminal to confirm on; pass --yes to remove without asking")
        if not typer.confirm(f"Remove model '{name}'?", err=True):
            raise typer.Exit(1)
    store.remove(name)
    console.info(f"removed model '{name}'" + (" (a broken entry)" if entry is not None and entry.broken else ""))


def checkpoint_finished(folder) -> bool:
    """Whether the checkpoint in `folder` records a finished run ("finished": true, as
    train-lm writes it). Read with weights_only=True: a checkpoint can never run code.
    A checkpoint without the flag (classify's) or unreadable counts as not finished."""
    import torch

    from ..training.checkpoint import CHECKPOINT_FILE

    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        return False
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - a damaged checkpoint is kept, never guessed at
        return False
    return isinstance(state, dict) and state.get("finished") is True


@app.command()
def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
) -> None:
    """Remove the checkpoints of finished runs; prints NAME<TAB>bytes for each.

    Kept: the checkpoint of every run that did not finish (interrupted, stopped by --max-time: `--resume` continues it) and checkpoints that record no "finished" flag (classify). A pruned finished run can no longer be extended with `train-lm --resume --epochs N`; its model stays.

    Examples:

      seqtool models prune --dry-run

      seqtool models prune
    """
    store = ModelStore()
    freed = 0
    for folder in store.checkpoint_dirs():
        if not checkpoint_finished(folder):
            continue
        size = dir_size(folder)
        if not dry_run:
            with store.lock(folder.name):
                shutil.rmtree(folder)
        freed += size
        console.emit(f"{folder.name}\t{size}")
    console.note(f"{'would free' if dry_run else 'freed'} {_human(freed)} of finished runs' checkpoints")
