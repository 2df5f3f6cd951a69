"""Option types shared by several commands (Annotated, so commands stay declarative)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON lines to stdout instead of text.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Random seed; the same seed gives the same result on CPU.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of the inputs.")]
ErrorsOpt = Annotated[str, typer.Option("--errors", help="On undecodable bytes: strict (fail, naming file and byte) or replace.")]
NameOpt = Annotated[Optional[str], typer.Option("--name", help="Name in the model store (default: derived from the command).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Model name (default: the last one trained of this kind).")]


def check_errors_mode(errors: str) -> str:
    from ..core.errors import UsageError

    if errors not in ("strict", "replace", "ignore"):
        raise UsageError(f"--errors must be strict, replace or ignore (got {errors!r})")
    return errors
