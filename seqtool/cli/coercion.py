"""Typer's value coercion without Pydantic for the plain cases.

Typer 0.29 coerces every parameter of the command being run through a Pydantic
TypeAdapter: importing Pydantic and building 25 adapters costs ~0.3 s of every
`seqtool summarize` start, more than the summaries of 500 articles. The values
a command line gives are nearly always already typed (defaults) or plain text
for str, int, float and lists of str, whose conversions are Python's own; this
does those and hands everything else (a ranged number, a choice, a path, a file,
a custom parser, an unusual spelling such as "1_000" or " 5") to Typer's own
coercion, built on first need, so every value and every error message stays Typer's.
tests/test_cli_basics.py checks the two agree value by value.
"""

from __future__ import annotations

import re
import typing
from typing import Any, Callable, Optional

_INT = re.compile(r"-?[0-9]{1,300}")
_FLOAT = re.compile(r"-?[0-9]{1,300}(?:\.[0-9]{1,300})?")


def _plain_type(annotation: Any) -> Optional[tuple[str, type]]:
    """('one', T) for T or Optional[T], ('list', str) for List[str] or Optional[List[str]],
    T in str/int/float/bool; None for anything else."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation, origin = args[0], typing.get_origin(args[0])
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        return ("list", str) if item is str else None
    if annotation in (str, int, float, bool):
        return "one", annotation
    return None


def _convert(kind: type, value: Any) -> Any:
    """value as `kind` where the conversion is certain; _NO where Typer should decide."""
    if kind is str:
        return value if type(value) is str else _NO
    if kind is bool:
        return value if type(value) is bool else _NO
    if kind is int:
        if type(value) is int:
            return value
        return int(value) if type(value) is str and _INT.fullmatch(value) else _NO
    if type(value) is float:
        return value
    return float(value) if type(value) is str and _FLOAT.fullmatch(value) else _NO


_NO = object()


def install() -> None:
    """Route typer.core's coercion through plain_runtime_param (idempotent)."""
    import typer.core as core

    # Typer's internals are private: where a Typer release has moved them, Typer coerces alone.
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_seqtool_plain", False):
        return
    try:
        core.build_runtime_param = plain_runtime_param(original)
    except (ImportError, AttributeError):
        pass


def plain_runtime_param(typer_build: Callable) -> Callable:
    """A build_runtime_param that answers the plain cases itself and defers the rest to `typer_build`."""
    from typer._coercion import RuntimeParam

    class PlainRuntimeParam(RuntimeParam):
        def __init__(self, descriptor, shape: str, kind: type):
            super().__init__(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
            object.__setattr__(self, "_shape", (shape, kind, descriptor))
            object.__setattr__(self, "_typer", None)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            shape, kind, descriptor = self._shape
            if shape == "one":
                out = _convert(kind, value)
            elif isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                out = list(value)
            else:
                out = _NO
            if out is not _NO:
                return out
            if self._typer is None:
                object.__setattr__(self, "_typer", typer_build(descriptor))
            return self._typer._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor):
        try:
            info = descriptor.parameter_info
            plain = None
            if not (descriptor.is_file or descriptor.is_ranged or descriptor.is_datetime or descriptor.is_choice
                    or getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None
                    or getattr(info, "path_type", None) is not None or getattr(info, "exists", False)
                    or getattr(info, "resolve_path", False)):
                plain = _plain_type(descriptor.annotation)
            if plain is not None:
                return PlainRuntimeParam(descriptor, *plain)
        except (AttributeError, TypeError):  # a descriptor of another Typer release
            pass
        return typer_build(descriptor)

    build._seqtool_plain = True
    return build
