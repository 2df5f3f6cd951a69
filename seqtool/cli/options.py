"""Option types shared by several commands, and the one way a command's Typer parameters
are derived from its options dataclass (seqtool.core.options.option fields)."""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Annotated, Any, Callable, Optional

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON lines to stdout instead of text.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Random seed; the same seed gives the same result on CPU.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of the inputs.")]
ErrorsOpt = Annotated[str, typer.Option("--errors", help="On undecodable bytes: strict (fail, naming file and byte) or replace.")]


def complete_model_names(incomplete: str) -> list[str]:
    """Shell completion of model names: the stored models whose name starts with what was typed."""
    from ..core.store import ModelStore

    try:
        names = [info.name for info in ModelStore().list()]
    except Exception:  # noqa: BLE001 - a broken store must not break the user's shell
        return []
    return sorted(n for n in names if n.startswith(incomplete))


NameOpt = Annotated[Optional[str], typer.Option("--name", help="Name in the model store (default: derived from the command).",
                                                autocompletion=complete_model_names)]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Model name (default: the last one trained of this kind).",
                                                 autocompletion=complete_model_names)]
ThreadsOpt = Annotated[Optional[str], typer.Option("--threads", help="CPU threads: a number, or auto (one per idle "
                                                  "core).", show_default="auto, or $SEQTOOL_THREADS")]
ModelArg = Annotated[str, typer.Argument(help="Model name.", autocompletion=complete_model_names)]


def examples(*lines: str) -> str:
    """A help epilog of example command lines, one a line, kept as written: click rewraps
    paragraphs to the terminal width, which would break a command line in two (the \\b line
    tells click not to)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def check_errors_mode(errors: str) -> str:
    from ..core.errors import UsageError

    if errors not in ("strict", "replace", "ignore"):
        raise UsageError(f"--errors must be strict, replace or ignore (got {errors!r})")
    return errors


@dataclass
class Given:
    """The options a command received: every value, and which of them the user typed."""

    values: dict
    explicit: set

    def typed(self) -> dict:
        return {k: v for k, v in self.values.items() if k in self.explicit}


def option_parameters(cls: type, *, exclude: tuple = ()) -> list[inspect.Parameter]:
    """Typer parameters for the command-line fields of options dataclass `cls`: flag, help,
    panel and default all from the field, so what --help shows is what the code uses."""
    hints = typing.get_type_hints(cls)
    params = []
    for f in fields(cls):
        meta = f.metadata
        if not meta.get("cli", True) or f.name in exclude or f.default is MISSING:
            continue
        kind = _plain(hints[f.name])
        if meta.get("parse") in ("duration", "ints"):  # parsed by the dataclass
            kind = str
        default = f.default
        decls = [meta.get("flag") or "--" + f.name.replace("_", "-")] + ([meta["short"]] if meta.get("short") else [])
        show: Any = True
        if meta.get("default_text"):
            show = meta["default_text"]
        elif default is None or (kind is bool and "/" not in decls[0]):
            show = False
        # Rich reads [..] as markup; the help is shown as written.
        option = typer.Option(*decls, help=meta.get("help", ""), show_default=show,
                              rich_help_panel=meta.get("panel"), hidden=meta.get("hidden", False))
        annotation = Annotated[Optional[kind] if default is None else kind, option]
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
    return params


def _plain(hint: Any) -> type:
    """int | None -> int (Typer wants the value type; None is the default, not a type)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def with_options(cls: type, *, exclude: tuple = ()) -> Callable:
    """Give `command` the parameters of options dataclass `cls`; it receives them as one
    Given in its `given` parameter (which of them the user typed, from click's parameter
    source: a preset's or a checkpoint's value gives way only to a typed flag)."""
    derived = option_parameters(cls, exclude=exclude)
    names = [p.name for p in derived]

    def decorate(command: Callable) -> Callable:
        own = inspect.signature(command, eval_str=True)

        @functools.wraps(command)
        def wrapper(ctx: typer.Context, **kwargs):
            values = {name: kwargs.pop(name) for name in names}
            # Typer bundles its own click: compare the source by name, not by enum identity.
            explicit = {name for name in names
                        if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"}
            return command(given=Given(values, explicit), **kwargs)

        ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        params = [ctx_param] + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.kind != p.KEYWORD_ONLY else p
                                for p in own.parameters.values() if p.name != "given"] + derived
        # Positional (argument) parameters first, as Python requires of a signature.
        params = [ctx_param] + sorted(params[1:], key=lambda p: p.default is not inspect.Parameter.empty)
        wrapper.__signature__ = own.replace(parameters=params)
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        wrapper.option_names = names
        return wrapper

    return decorate
