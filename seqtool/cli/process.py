"""The process around a command: SIGTERM taken as Ctrl-C, a closed stdin/stdout/stderr held
with /dev/null, and a stdout reader that went away. cli/app.py's SeqtoolGroup uses these to
turn each ending into its exit code."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

from ..core import console


class ReaderGone(Exception):
    """stdout's reader went away; raised past Typer, which would turn EPIPE into exit 1."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM; raised past Typer, which would turn it into a silent exit 130."""


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM takes the path of Ctrl-C: every `finally` and `except BaseException`
    # (store drafts, atomic_write temp files, batch state) runs, then exit 130.
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt():
    try:
        old_term = signal.signal(signal.SIGTERM, _terminate)
        old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)


def forget_interrupt_in_eval() -> None:
    # CPython 3.11: a KeyboardInterrupt escaping an eval() of a string (typing resolves
    # annotations that way while Typer reads the signatures) sets a flag that makes the
    # interpreter end by re-raising SIGINT (exit -2) even though we caught it; the next
    # eval() of a string clears it.
    eval("None")


class _ClosedStdout:
    """Stands for a stdout that was closed (`>&-`): data written to it is one clear error."""

    encoding = "utf-8"

    @property
    def buffer(self) -> "_ClosedStdout":
        return self

    def write(self, data: Any) -> int:
        raise console.stdout_error()

    def writelines(self, lines: Any) -> None:
        raise console.stdout_error()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise console.stdout_error()


def guard_standard_streams() -> None:
    """A closed fd 0/1/2 would be reused by the next file opened (a lock file, a model)
    and then written as if it were stdout: hold them with /dev/null instead."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                got = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
                if got != fd:
                    os.dup2(got, fd)
                    os.close(got)
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()  # type: ignore[assignment]


def silence_stdout() -> None:
    # The reader went away (`seqtool sample | head -1`): stop quietly.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
