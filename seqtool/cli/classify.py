"""seqtool classify: recurrent text classifiers."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.errors import NotBuiltError

app = typer.Typer(
    help="Text classification with recurrent networks: train, predict, eval, cross-validate.",
    epilog="Examples:\n\n  seqtool classify train reviews.tsv --name sentiment\n\n"
    "  cat new.txt | seqtool classify predict - --prob",
    no_args_is_help=True,
)


@app.command()
def train(data: Annotated[str, typer.Argument(help="Labelled data file or folder.")]) -> None:
    """Train a classifier."""
    raise NotBuiltError("seqtool classify train is not built yet (issue #7)")
