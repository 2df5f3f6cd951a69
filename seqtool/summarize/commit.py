"""Durable writes of many small files at disk speed: a group commit.

atomic_write pays two fsyncs per file (the file, then its folder): 4,454 of them, 5.3 s of
12 s, for the 2,225 BBC articles. A batch keeps the same guarantee, every summary whole or
absent after a crash or a power loss, with a few syncs per group of files:

  1. each summary goes to its own temp file beside its target (no fsync yet);
  2. one sync makes all the group's temp files durable: syncfs(2) on Linux (one call
     flushes the filesystem holding OUT), else an fsync per temp file;
  3. the renames, each atomic: a target is the old file or the whole new one;
  4. one more sync (syncfs, else an fsync per folder) makes the renames durable, and only
     then does `on_commit` run, so the state file never records a summary the disk lacks.

A crash before step 3 leaves temp files only (named like atomic_write's, so the next run's
clean_stale_temps removes them); one during step 3 leaves each target old or new, never a
part, because every temp it renames was already durable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

from ..core.errors import StoreError
from ..core.atomic import TEMP_PREFIX, TEMP_SUFFIX, fsync_dir, unlink_quietly
from ..core.sources import display_name

# files per commit; SEQTOOL_COMMIT_FILES=1 gives atomic_write's one-file-at-a-time durability
GROUP_FILES = max(1, int(os.environ.get("SEQTOOL_COMMIT_FILES", "512") or 512))
GROUP_SECONDS = 2.0   # ... or this long since the group's first file, whichever comes first


@lru_cache(maxsize=1)
def _syncfs() -> Optional[Callable[[int], int]]:
    """libc's syncfs(fd), or None where there is none (macOS, Windows, old libcs)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


def sync_filesystem(folder: str | os.PathLike) -> bool:
    """syncfs on the filesystem holding `folder`; False where unavailable or it failed."""
    fn = _syncfs()
    if fn is None or os.environ.get("SEQTOOL_NO_SYNCFS"):
        return False
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


class GroupCommit:
    """Stage files with `add`; `commit` makes the staged group durable and visible at once."""

    def __init__(self, root: str | os.PathLike, *, group_files: int = GROUP_FILES,
                 group_seconds: float = GROUP_SECONDS):
        self.root = Path(root)
        self.group_files, self.group_seconds = group_files, group_seconds
        self._staged: list[tuple[str, Path, Callable[[], None] | None]] = []  # (temp, target, on_commit)
        self._since = 0.0
        self.commits = 0
        self.syncs = 0
        self._folders: set[Path] = set()
        self._new_mode = _default_mode()  # read once: the umask is the process's

    def add(self, target: str | os.PathLike, text: str, on_commit: Callable[[], None] | None = None) -> None:
        """Write `text` to a temp file beside `target`; it replaces `target` at the next commit."""
        target = Path(target)
        folder = target.parent
        tmp = None
        try:
            if folder not in self._folders:  # one mkdir per folder, not per file
                folder.mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)
            fd, tmp = _create_temp(folder, target.name)
            try:
                mode = _mode(target, self._new_mode)
                if mode != self._new_mode:  # created with the default already; a replaced file keeps its own
                    os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                raise
            _write_temp(fd, text)
        except OSError as exc:
            _unlink(tmp)
            raise StoreError(f"{display_name(str(target))}: cannot write ({exc.strerror or exc})") from None
        except BaseException:  # Ctrl-C or SIGTERM mid-write: no half temp file stays staged
            _unlink(tmp)
            raise
        if not self._staged:
            self._since = time.monotonic()
        self._staged.append((tmp, target, on_commit))
        if len(self._staged) >= self.group_files or time.monotonic() - self._since >= self.group_seconds:
            self.commit()

    def commit(self) -> int:
        """Sync the staged temp files, rename them over their targets, sync the renames. Returns the count."""
        staged, self._staged = self._staged, []
        if not staged:
            return 0
        done = 0
        try:
            if not sync_filesystem(self.root):
                for tmp, _, _ in staged:
                    _fsync_file(tmp)
            self.syncs += 1
            for tmp, target, _ in staged:
                os.replace(tmp, target)
                done += 1
        except OSError as exc:
            for tmp, _, _ in staged[done:]:
                _unlink(tmp)
            raise StoreError(f"{display_name(str(self.root))}: write failed ({exc.strerror or exc}); "
                             f"each summary is its old or its new version, never a part") from None
        except BaseException:
            for tmp, _, _ in staged[done:]:
                _unlink(tmp)
            raise
        if not sync_filesystem(self.root):
            for folder in sorted({target.parent for _, target, _ in staged}):
                fsync_dir(folder)
        self.syncs += 1
        self.commits += 1
        for _, _, on_commit in staged:
            if on_commit is not None:
                on_commit()
        return len(staged)

    def discard(self) -> None:
        """Remove the staged temp files (their targets stay as they were)."""
        staged, self._staged = self._staged, []
        for tmp, _, _ in staged:
            _unlink(tmp)

    @property
    def pending(self) -> int:
        return len(self._staged)


_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """mkstemp's file (a new name of its shape: 8 random [a-z0-9_], O_EXCL, no link followed)
    but created with the umask's default mode, so most files need no fchmod. Per file this
    costs one open, where mkstemp pays for abspath, a retry loop and a chmod."""
    prefix = os.path.join(folder, f"{TEMP_PREFIX}{name}.")
    for _ in range(100):
        tmp = prefix + "".join(_random().choices(_TEMP_CHARS, k=8)) + TEMP_SUFFIX
        try:
            return os.open(tmp, _CREATE_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", prefix)


@lru_cache(maxsize=1)
def _random():
    import random

    return random.Random()


def _write_temp(fd: int, text: str) -> None:
    """Write `text` as UTF-8 (no newline translation) and close `fd`."""
    try:
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _default_mode() -> int:
    """0o666 less the umask: what a new file gets."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _mode(path: Path, new: int) -> int:
    """The replaced file's permissions, else `new`, the umask's default (mkstemp's 0600 would surprise)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return new


def _unlink(path: Optional[str]) -> None:
    if path is not None:  # None: the temp file was never made
        unlink_quietly(path)
