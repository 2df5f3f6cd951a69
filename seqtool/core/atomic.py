"""Atomic writes: a temp file beside the target, fsync, rename over it; and the clean-up of
the temp files a killed run leaves (only seqtool's, told by their names)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import StoreError

# Every temp file seqtool writes beside an output starts with this: stale-temp
# cleanup removes only names of this shape, never another program's `.x.tmp`.
TEMP_PREFIX = ".seqtool-tmp-"
TEMP_SUFFIX = ".tmp"


def fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Write to a temp file beside `path`, fsync, then rename over it.

    On any error the temp file is removed and `path` is left as it was.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
        os.fchmod(fd, _default_mode(path))
    except OSError as exc:
        if tmp is not None:
            unlink_quietly(tmp)
        raise StoreError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:  # Ctrl-C or SIGTERM right after the temp file was made
        if tmp is not None:
            unlink_quietly(tmp)
        raise
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding, "newline": "\n"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(directory)
    except OSError as exc:
        unlink_quietly(tmp)
        if exc.errno is not None and exc.strerror:
            raise StoreError(f"{path}: write failed ({exc.strerror}); the previous file is untouched") from None
        raise
    except BaseException:
        unlink_quietly(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


# mkstemp's random part: 8 characters of [a-z0-9_].
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r".*\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$", re.S)


def is_seqtool_temp(name: str) -> bool:
    """True for the name of a temp file that atomic_write made (and only for those)."""
    return bool(_TEMP_NAME.match(name))


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Remove atomic_write's temp files left in `folder` (not below it) by a killed run.

    Call it only on a folder seqtool writes and while holding the lock that keeps
    other seqtool writers out. Other programs' files (`.x.tmp`) are never touched."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if is_seqtool_temp(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _default_mode(path: Path) -> int:
    """Keep the permissions of the file being replaced, else the umask's default
    (mkstemp's 0600 would make outputs private by surprise)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def unlink_quietly(path: str | os.PathLike) -> None:
    """Remove a file if it is there; a file already gone (or not removable) is no error here."""
    try:
        os.unlink(path)
    except OSError:
        pass
