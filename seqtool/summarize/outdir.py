"""The output folder a batch writes: its lock, its state file (content sha256 and
options per input, for --incremental), stale temp files a killed run left, and the
checks that no write leaves OUT."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Iterator

from ..core import console
from ..core.errors import StoreError, UsageError
from ..core.io import atomic_write, display_name, remove_stale_temps
from .inputs import Job
from .options import SummaryOptions

LOCK_FILE = ".seqtool-summarize.lock"
STATE_FILE = ".seqtool-summarize-state.json"
STATE_VERSION = 1


@contextlib.contextmanager
def out_dir_lock(out_dir: Path) -> Iterator[None]:
    """Exclusive lock on OUT; a second run fails at once with who holds it."""
    from ..core.locking import exclusive_lock

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{out_dir}: cannot create the output folder ({exc.strerror})") from None
    with exclusive_lock(out_dir / LOCK_FILE, lambda pid: f"{out_dir} is being written by another seqtool "
                                                        f"summarize (pid {pid}); this run stops without touching it"):
        yield


def _options_key(options: SummaryOptions, extra: dict) -> str:
    blob = json.dumps({**options.to_dict(), **extra}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_state(out_dir: Path) -> dict:
    try:
        data = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        console.warn(f"{out_dir / STATE_FILE}: unreadable state file; every input will be summarized again")
        return {}
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(data.get("files"), dict):
        return {}
    return data["files"]


def save_state(out_dir: Path, files: dict) -> None:
    # dumps, not dump: json.dump streams through the pure-Python encoder (5x slower on a
    # 2,225-file state); the text is the same.
    text = json.dumps({"version": STATE_VERSION, "files": files}, sort_keys=True)
    with atomic_write(out_dir / STATE_FILE) as fh:
        fh.write(text)


def clean_stale_temps(out_dir: Path, outputs: list[str]) -> int:
    """Remove atomic_write temp files (.seqtool-tmp-*) a killed run left in OUT and in
    the folders this run writes to; we hold OUT's lock. Nothing else is touched."""
    folders = {out_dir} | {out_dir / Path(rel).parent for rel in outputs}
    return sum(remove_stale_temps(folder) for folder in sorted(folders))


def check_output_tree(out_dir: Path, outputs: list[str]) -> None:
    """Refuse, before any write, a symbolic link on the way to an output (it would let a
    write land outside OUT) or an output path that leaves OUT."""
    checked: set[Path] = set()
    for rel in outputs:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise UsageError(f"{display_name(rel)}: an output path outside {out_dir}; refusing to write it")
        path = out_dir
        for part in Path(rel).parts:
            path = path / part
            if path in checked:
                continue
            checked.add(path)
            if path.is_symlink():
                raise StoreError(f"{display_name(str(path))}: a symbolic link inside the output folder; "
                                 f"refusing to write through it (remove it or choose another --out-dir)")


def _inside(out_real: str, path: str) -> bool:
    """Whether the folder of `path`, links resolved, is OUT or below it."""
    real = os.path.realpath(os.path.dirname(path))
    return real == out_real or real.startswith(out_real.rstrip(os.sep) + os.sep)


def _check_unique(jobs: list[Job], outputs: list[str], out: Path) -> None:
    """With --json, a.txt and a.md would both become a.json: refuse before writing."""
    seen: dict[str, str] = {}
    for job, rel in zip(jobs, outputs):
        if rel in seen:
            raise UsageError(f"{display_name(job.path)} and {display_name(seen[rel])} would both be "
                             f"written to {display_name(str(out / rel))}")
        seen[rel] = job.path
