"""seqtool summarize: extractive TextRank summaries."""

from __future__ import annotations

from typing import Annotated, List

import typer

from ..core.errors import NotBuiltError

COMMAND = dict(
    help="Summarize documents by TextRank: the most central sentences, in document order.",
    epilog="Examples:\n\n  cat article.txt | seqtool summarize - -n 3\n\n"
    "  seqtool summarize inbox/ --out-dir summaries/ --incremental --jobs 2",
)


def summarize(inputs: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'.")]) -> None:
    raise NotBuiltError("seqtool summarize is not built yet (issue #6)")
