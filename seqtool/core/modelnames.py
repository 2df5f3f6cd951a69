"""What a stored model may be called, and the default name a command derives from its inputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from .errors import UsageError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or name.endswith((".tmp", ".lock")):
        raise UsageError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' or '-' (no '/', not starting with '.')"
        )
    return name


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def name_from_inputs(inputs: Iterable[str] | None, *, suffix: str = "", fallback: str) -> str:
    """The default model name, one policy for every kind: the first input's stem
    (ptb.train.txt -> 'ptb.train', news.txt.gz -> 'news', a folder -> its name) plus
    the kind's `suffix`; `fallback` (plus suffix) for stdin or a name with nothing usable."""
    first = next(iter(inputs or []), "-")
    stem = ""
    if first != "-":
        path = Path(first.rstrip("/") or first)
        stem = path.name
        if not path.is_dir():
            stem = path.stem if path.suffix != ".gz" else Path(path.stem).stem
        stem = _UNSAFE.sub("-", stem).strip("-._")[:60]
    if not stem or not stem[0].isalnum():
        stem = fallback
    return validate_name(stem + suffix)
