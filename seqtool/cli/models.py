"""seqtool models: list, show and remove stored models."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from ..core import console
from ..core.store import KINDS, ModelStore
from .options import JsonOpt

app = typer.Typer(
    help="Manage the model store ($SEQTOOL_HOME, default ~/.local/share/seqtool).",
    epilog="Examples:\n\n  seqtool models list\n\n  seqtool models show tri --json\n\n  seqtool models rm old-model --yes",
    no_args_is_help=True,
)


def _summary(info) -> dict:
    cfg = info.config
    return {"name": info.name, "kind": cfg["kind"], "created": cfg.get("created"),
            "metrics": cfg.get("metrics", {}), "path": str(info.path)}


@app.command("list")
def list_models(
    kind: Annotated[Optional[str], typer.Option("--kind", help=f"Only this kind ({', '.join(KINDS)}).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored models, one per line: name, kind, created."""
    store = ModelStore()
    defaults = {store.default_name([k]) for k in KINDS}
    for info in store.list():
        if kind and info.kind != kind:
            continue
        row = _summary(info)
        row["default"] = info.name in defaults
        if as_json:
            console.emit_json(row)
        else:
            mark = "*" if row["default"] else ""
            console.emit(f"{info.name}{mark}\t{row['kind']}\t{row['created']}")


@app.command()
def show(name: Annotated[str, typer.Argument(help="Model name.")], as_json: JsonOpt = False) -> None:
    """Print a model's config.json (kind, hyperparameters, corpus, metrics)."""
    info = ModelStore().open(name, KINDS)
    if as_json:
        console.emit_json(info.config)
    else:
        console.emit(json.dumps(info.config, indent=2, ensure_ascii=False))


@app.command()
def path(name: Annotated[str, typer.Argument(help="Model name.")]) -> None:
    """Print the directory holding a model's files."""
    console.emit(str(ModelStore().open(name, KINDS).path))


@app.command("rm")
def remove(
    name: Annotated[str, typer.Argument(help="Model name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a model, its old versions and its checkpoints."""
    store = ModelStore()
    store.open(name, KINDS)
    if not yes and not typer.confirm(f"Remove model '{name}'?", err=True):
        raise typer.Exit(1)
    store.remove(name)
    console.info(f"removed model '{name}'")
