"""Advisory exclusive locks that fail at once (or wait a little) and say who holds them.

An flock belongs to the open file, and a forked child shares the parent's open
files: a worker process would keep the parent's lock alive after the parent was
killed. So every lock taken here is recorded, and `release_inherited_locks()`
(called first thing in a forked worker) closes the child's copies; the lock then
lives exactly as long as the process that took it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path
from typing import Callable, Iterator

from .errors import StoreError

# fd -> pid of the process that took the lock (a forked child sees its parent's entries).
_held: dict[int, int] = {}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
    if text.isdigit() and not pid_alive(int(text)):
        return f"{text}, no longer running: a process it started still holds the lock"
    return text


@contextlib.contextmanager
def exclusive_lock(path: Path, busy_message: Callable[[str], str], *, wait: float = 0.0) -> Iterator[None]:
    """Hold an flock on `path` (created if needed) and write our pid into it.

    When another process holds it (for longer than `wait` seconds), raise
    StoreError(busy_message(its pid)). The lock dies with the process, so a killed
    run never leaves a stale lock.
    """
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the lock file ({exc.strerror})") from None
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise StoreError(f"{path}: cannot lock ({exc.strerror})") from None
                if time.monotonic() >= deadline:
                    raise StoreError(busy_message(_holder(fd))) from None
                time.sleep(0.01)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _held[fd] = os.getpid()
        try:
            yield
        finally:
            _held.pop(fd, None)
    finally:
        os.close(fd)


def release_inherited_locks() -> None:
    """In a forked child: close the lock files inherited from the parent, so that the
    parent's locks are released when the parent dies, whatever its children do."""
    me = os.getpid()
    for fd, owner in list(_held.items()):
        if owner != me:
            _held.pop(fd, None)
            with contextlib.suppress(OSError):
                os.close(fd)


def die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (PR_SET_PDEATHSIG).

    `parent`: the parent's pid, taken by the parent before it started this process. Reading
    it here with getppid() would race: a parent killed between the fork and this call has
    already left us to init, getppid() names init, and the check below would pass.

    A worker killed this way may leave a temp file, which the next run removes (see
    core.atomic.remove_stale_temps); it never holds a lock (release_inherited_locks)."""
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
