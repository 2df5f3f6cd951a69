"""What an input is, and turning command-line inputs into a list of them.

Inputs are paths, `-` (stdin), directories (read recursively, sorted) or glob patterns.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import InputError

STDIN = "-"


def display_name(path: str) -> str:
    """A path as text that can always be printed or put in JSON: bytes that are not
    UTF-8 (kept by Python as surrogate escapes) are shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Source:
    """One input: a file path or stdin (`-`). `name` is what errors show."""

    path: str

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else display_name(self.path)

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


def _has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def expand_inputs(specs: Iterable[str], *, allow_stdin: bool = True) -> list[Source]:
    """Turn command-line inputs into a list of readable sources.

    Directories expand to every non-hidden file below them (sorted), globs to
    their sorted matches. A missing path or an empty glob is an InputError.
    """
    sources: list[Source] = []
    for spec in specs:
        if spec == STDIN:
            if not allow_stdin:
                raise InputError("reading from stdin ('-') is not supported here")
            sources.append(Source(STDIN))
            continue
        path = Path(spec)
        if path.is_dir():
            found = directory_files(path)
            if not found:
                raise InputError(f"{spec}: directory contains no files")
            sources.extend(Source(str(path / rel)) for rel in found)
        elif path.exists():
            if not path.is_file() and not _is_readable_special(path):
                raise InputError(f"{spec}: not a regular file")
            sources.append(Source(spec))
        elif _has_magic(spec):
            matches = sorted(m for m in glob.glob(spec, recursive=True) if os.path.isfile(m))
            if not matches:
                raise InputError(f"{spec}: no files match this pattern")
            sources.extend(Source(m) for m in matches)
        else:
            raise InputError(f"{spec}: no such file or directory")
    return sources


def directory_files(path: str | os.PathLike) -> list[str]:
    """The files below `path` (links to files included, no hidden file or folder, links to
    folders not entered), relative to it, sorted as Paths sort (part by part): what
    sorted(Path.rglob("*")) filtered that way gives, at os.walk's cost instead of pathlib's."""
    top = os.fspath(path)
    found: list[str] = []
    for root, dirs, files in os.walk(top, onerror=_unless_permission):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_root = root[len(top):].lstrip(os.sep)
        for name in files:
            if not name.startswith(".") and os.path.isfile(os.path.join(root, name)):
                found.append(os.path.join(rel_root, name) if rel_root else name)
    found.sort(key=lambda rel: rel.split(os.sep))
    return found


def _unless_permission(exc: OSError) -> None:
    # rglob skipped an unreadable folder and raised on any other error: so do we.
    if not isinstance(exc, PermissionError):
        raise exc


def _is_readable_special(path: Path) -> bool:
    # Named pipes and /dev/stdin-like character devices are fine to stream.
    import stat

    mode = path.stat().st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)
