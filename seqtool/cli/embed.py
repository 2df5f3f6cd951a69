"""seqtool embed: train, import, query and evaluate word vectors."""

from __future__ import annotations

from typing import Annotated, List

import typer

from ..core.errors import NotBuiltError

app = typer.Typer(
    help="Word vectors: train (word2vec, fastText, GloVe), import/export, query and evaluate.",
    epilog="Examples:\n\n  seqtool embed train corpus.txt --algo glove --name g100\n\n"
    "  seqtool embed neighbors g100 king queen --top 5",
    no_args_is_help=True,
)


@app.command()
def train(corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'.")]) -> None:
    """Train word vectors on a corpus."""
    raise NotBuiltError("seqtool embed train is not built yet (issue #5)")
