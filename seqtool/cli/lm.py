"""seqtool train-lm: train a recurrent language model."""

from __future__ import annotations

from typing import Annotated, List

import typer

from ..core.errors import NotBuiltError

COMMAND = dict(
    help="Train an RNN/LSTM/GRU language model on text.",
    epilog="Examples:\n\n  seqtool train-lm corpus.txt --cell gru\n\n"
    "  seqtool train-lm ptb.train.txt --valid ptb.valid.txt --preset ptb-small --max-time 60m",
)


def train_lm(corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'.")]) -> None:
    raise NotBuiltError("seqtool train-lm is not built yet (issue #4)")
