"""Checking an output path before any work is done, so a long run cannot fail at its end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .errors import UsageError
from .sources import STDIN, Source


def check_output_path(path: str | os.PathLike, *, inputs: Iterable[Source] = (), option: str = "output",
                      suffixes: Iterable[str] | None = None) -> Path:
    """Refuse, before any work, an output that cannot be written or would replace an input.

    Checks: the parent folder exists and is a writable folder, the path is not a folder,
    it is not the same file (device and inode) as any of `inputs`, and its suffix is one of
    `suffixes` when given. '-' is not a path here: callers that accept stdout handle it first.
    """
    out = Path(path)
    if str(path) in ("", STDIN):
        raise UsageError(f"{option}: give a file name ('-' is not accepted here)")
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if out.suffix.lower() not in allowed:
            raise UsageError(f"{option} {out}: unsupported file type {out.suffix or '(none)'!r} "
                             f"(use {', '.join(allowed)})")
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a directory")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {out}: folder {parent} is not writable")
    try:
        st = out.stat()
    except OSError:
        return out
    for source in inputs:
        if source.is_stdin:
            continue
        try:
            other = os.stat(source.path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            raise UsageError(f"{option} {out}: is the input {source.name}; choose another output file")
    return out
