"""seqtool sample: generate text from a language model."""

from __future__ import annotations

import typer

from ..core.errors import NotBuiltError

COMMAND = dict(
    help="Generate text from a trained language model (neural or n-gram).",
    epilog="Examples:\n\n  seqtool sample --temp 0.8\n\n  seqtool sample --model shakespeare --prime 'ROMEO:' --length 200 --seed 1",
)


def sample() -> None:
    raise NotBuiltError("seqtool sample is not built yet (issue #4)")
