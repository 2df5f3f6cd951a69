"""stderr for humans, stdout for data.

Progress bars and informational logs appear only when stderr is a terminal;
warnings and errors always go to stderr (unless --quiet), one line each.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # errors is imported when an error is made, not at start-up
    from .errors import OutputError

_state = {"quiet": False, "debug": False, "force_progress": None}


def configure(*, quiet: bool | None = None, debug: bool | None = None) -> None:
    if quiet is not None:
        _state["quiet"] = quiet
    if debug is not None:
        _state["debug"] = debug


def is_debug() -> bool:
    return bool(_state["debug"]) or os.environ.get("SEQTOOL_DEBUG") == "1"


def is_quiet() -> bool:
    return bool(_state["quiet"])


def _is_tty(stream: Any) -> bool:
    # A replaced (None) or closed stream is not a terminal.
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def stderr_is_tty() -> bool:
    return _is_tty(sys.stderr)


def show_progress() -> bool:
    """Progress bars only on an interactive stderr (override: SEQTOOL_PROGRESS=0/1)."""
    env = os.environ.get("SEQTOOL_PROGRESS")
    if env in ("0", "1"):
        return env == "1"
    return stderr_is_tty() and not is_quiet()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    if not is_quiet():
        print(f"seqtool: warning: {message}", file=sys.stderr, flush=True)


def note(message: str) -> None:
    """A log line that goes to stderr whether or not it is a terminal (a cron job's
    `2>>log` keeps it), unless --quiet."""
    if not is_quiet() and sys.stderr is not None:
        print(f"seqtool: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    """A log line for people watching; hidden when stderr is not a terminal."""
    if show_progress() or os.environ.get("SEQTOOL_VERBOSE") == "1":
        print(f"seqtool: {message}", file=sys.stderr, flush=True)


def error_line(message: str) -> None:
    if sys.stderr is None:  # stderr closed too: the exit code is all that is left
        return
    try:
        print(f"seqtool: error: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def stdout_error(exc: OSError | None = None) -> OutputError:
    from .errors import OutputError

    if exc is None:
        return OutputError("cannot write to stdout: it is closed")
    return OutputError(f"cannot write to stdout ({exc.strerror or exc})")


def write_stdout(text: str) -> None:
    """Data to stdout; a closed or failing stdout is one OutputError, not a traceback
    (a reader that went away, EPIPE, stays a BrokenPipeError: the CLI exits quietly)."""
    if sys.stdout is None:
        raise stdout_error()
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise stdout_error(exc) from None


def emit(line: str) -> None:
    """Write one line of data to stdout."""
    write_stdout(line + "\n")


def emit_json(obj: Any) -> None:
    write_stdout(json.dumps(obj, ensure_ascii=False) + "\n")


def stdout_is_tty() -> bool:
    return _is_tty(sys.stdout)


def emit_table(columns: list[str], rows: list[list[Any]], *, title: str | None = None) -> None:
    """A table on stdout: tab-separated with a header row when stdout is not a terminal (for
    `cut`, `awk`, a spreadsheet), columns aligned with spaces on a terminal; never box-drawing
    characters, which are not data. Numbers are right-aligned, text left-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    if not stdout_is_tty():
        for row in [list(columns)] + cells:
            emit("\t".join(row))
        return
    widths = [max(len(str(col)), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(columns))]

    def line(row: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric)).rstrip()

    if title:
        emit(title)
    emit(line([str(c) for c in columns]))
    for row in cells:
        emit(line(row))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _NoProgress:
    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def advance(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def progress(*columns: Any, transient: bool = True) -> Iterator[Any]:
    """A rich Progress on stderr, or a do-nothing stand-in when it should not show."""
    if not show_progress():
        yield _NoProgress()
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    cols = columns or (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*cols, console=_stderr_console(), transient=transient) as bar:
        yield bar
