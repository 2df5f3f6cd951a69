"""Advisory exclusive locks that fail at once and say who holds them."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Callable, Iterator

from .errors import StoreError


@contextlib.contextmanager
def exclusive_lock(path: Path, busy_message: Callable[[str], str]) -> Iterator[None]:
    """Hold an flock on `path` (created if needed) and write our pid into it.

    When another process holds it, raise StoreError(busy_message(its pid)).
    The lock dies with the process, so a killed run never leaves a stale lock.
    """
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StoreError(busy_message(holder)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
