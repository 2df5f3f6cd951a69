"""seqtool ngram: train, score, predict and generate with n-gram language models."""

from __future__ import annotations

from typing import Annotated, List

import typer

from ..core.errors import NotBuiltError

app = typer.Typer(
    help="N-gram language models (modified Kneser-Ney by default), KenLM-compatible ARPA in and out.",
    epilog="Examples:\n\n  seqtool ngram train corpus.txt -n 3 --name tri\n\n"
    "  seqtool ngram score tri test.txt --per-sentence\n\n"
    "  seqtool ngram predict tri \"students opened their\" --top 5\n\n"
    "  seqtool ngram generate tri --num 3 --seed 1",
    no_args_is_help=True,
)


@app.command()
def train(corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'.")]) -> None:
    """Count n-grams and estimate a smoothed model."""
    raise NotBuiltError("seqtool ngram train is not built yet (issue #3)")
