"""Folders in, folders out: the cron job.

`run_batch` writes one summary per input at the same relative path under
OUT, each atomically. A lock file in OUT makes a second overlapping run fail
at once; a state file in OUT (content sha256 + options per input, written
atomically) lets --incremental skip what is unchanged. A failing input is
reported and the batch goes on; the caller gets the count.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..core import console
from ..core.errors import InputError, SeqtoolError, StoreError, UsageError
from ..core.io import Source, atomic_write, expand_inputs, read_text
from .pipeline import SummaryOptions, summarize_text
from .parallel import ordered_map, worker_state

LOCK_FILE = ".seqtool-summarize.lock"
STATE_FILE = ".seqtool-summarize-state.json"
STATE_VERSION = 1
SAVE_EVERY_S = 10.0


@dataclass
class Job:
    path: str
    rel: str


@dataclass
class BatchResult:
    written: int = 0
    skipped: int = 0
    empty: int = 0
    failed: list = field(default_factory=list)  # (relative name, message)
    total: int = 0


def parse_shard(spec: Optional[str]) -> Optional[tuple[int, int]]:
    """'K/N' -> (K, N), 1 <= K <= N."""
    if spec is None:
        return None
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise UsageError(f"--shard must look like K/N, e.g. 2/8 (got {spec!r})") from None
    if not (n >= 1 and 1 <= k <= n):
        raise UsageError(f"--shard {spec}: need 1 <= K <= N")
    return k, n


def in_shard(key: str, shard: Optional[tuple[int, int]]) -> bool:
    """Stable across machines and runs: a hash of the item's name, not its position."""
    if shard is None:
        return True
    k, n = shard
    return zlib.crc32(key.encode("utf-8")) % n == k - 1


def _base_of(spec: str) -> Path:
    """The directory a glob's matches are named relative to: its part before the first wildcard."""
    parts = Path(spec).parts
    base = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        base.append(part)
    return Path(*base) if base else Path(".")


def collect_jobs(specs: list[str], out_dir: Path) -> list[Job]:
    """Inputs with their names relative to the directory (or glob base) they came from."""
    if any(spec == "-" for spec in specs):
        raise UsageError("--out-dir needs files or directories, not '-' (stdin)")
    out_real = out_dir.resolve()
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            base = path
        elif path.exists():
            base = path.parent
        elif any(ch in spec for ch in "*?["):
            base = _base_of(spec)
        else:
            base = path.parent
        for source in expand_inputs([spec], allow_stdin=False):
            real = Path(source.path).resolve()
            if real == out_real or out_real in real.parents:
                continue  # OUT inside an input folder: never summarize our own summaries
            rel = os.path.relpath(source.path, base)
            if rel.startswith(".."):
                rel = Path(source.path).name
            if rel in seen and seen[rel] != source.path:
                raise UsageError(f"{source.path} and {seen[rel]} would both be written to {out_dir / rel}")
            seen[rel] = source.path
            jobs.append(Job(source.path, rel))
    return jobs


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
    with atomic_write(out_dir / STATE_FILE) as fh:
        json.dump({"version": STATE_VERSION, "files": files}, fh, sort_keys=True)


def _clean_stale_temps(out_dir: Path) -> None:
    # Temp files of a run that was killed (atomic_write names them .NAME.*.tmp); we hold the lock.
    for tmp in out_dir.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def format_summary(summary, as_json: bool, name: str) -> str:
    if as_json:
        return json.dumps(summary.to_json(id=name), ensure_ascii=False) + "\n"
    lines = list(summary.sentences)
    if summary.keywords:
        lines.append("keywords: " + ", ".join(summary.keywords))
    return "".join(line + "\n" for line in lines)


def _summarize_file(job: tuple) -> tuple:
    """Worker: (path, rel, out, known sha or None) -> (rel, status, sha, message)."""
    path, rel, out, known = job
    st = worker_state()
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return rel, "failed", None, f"{path}: cannot read ({exc.strerror})"
    sha = hashlib.sha256(raw).hexdigest()
    if known is not None and known == sha and os.path.exists(out):
        return rel, "skipped", sha, ""
    try:
        text = read_text(Source(path), encoding=st["encoding"], errors=st["errors"])
        summary = summarize_text(text, st["options"], st.get("vectors"))
        with atomic_write(out) as fh:
            fh.write(format_summary(summary, st["json"], rel))
    except SeqtoolError as exc:
        return rel, "failed", None, exc.message
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        return rel, "failed", None, f"{path}: unexpected {type(exc).__name__}: {exc}"
    return rel, ("empty" if not summary.sentences else "written"), sha, ""


def run_batch(specs: list[str], out_dir: str | os.PathLike, options: SummaryOptions, *, jobs: int = 1,
              incremental: bool = False, shard: Optional[str] = None, as_json: bool = False,
              encoding: str = "utf-8", errors: str = "strict", vectors=None) -> BatchResult:
    out = Path(out_dir)
    shard_spec = parse_shard(shard)
    state = {"options": options, "json": as_json, "encoding": encoding, "errors": errors, "vectors": vectors}
    key = _options_key(options, {"json": as_json, "encoding": encoding, "errors": errors})
    with out_dir_lock(out):
        _clean_stale_temps(out)
        todo = [j for j in collect_jobs(specs, out) if in_shard(j.rel, shard_spec)]
        files = load_state(out)
        result = BatchResult(total=len(todo))
        tasks = []
        for j in todo:
            entry = files.get(j.rel) if incremental else None
            known = entry.get("sha256") if isinstance(entry, dict) and entry.get("options") == key else None
            tasks.append((j.path, j.rel, str(out / j.rel), known))
        last_save = time.monotonic()
        try:
            with console.progress() as bar:
                task = bar.add_task("summarize", total=len(tasks), status="")
                for rel, status, sha, message in ordered_map(_summarize_file, tasks, jobs=jobs, state=state):
                    bar.advance(task)
                    if status == "failed":
                        files.pop(rel, None)
                        result.failed.append((rel, message))
                        console.error_line(message)
                        continue
                    files[rel] = {"sha256": sha, "options": key}
                    if status == "skipped":
                        result.skipped += 1
                    else:
                        result.written += 1
                        if status == "empty":
                            result.empty += 1
                            console.warn(f"{rel}: no sentences; wrote an empty summary")
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        save_state(out, files)
                        last_save = time.monotonic()
        finally:
            # Even on Ctrl-C: what was written is recorded, so --incremental resumes.
            save_state(out, files)
    return result


def check_result(result: BatchResult) -> None:
    if result.failed:
        raise InputError(f"{len(result.failed)} of {result.total} input(s) failed (reported above); "
                         f"{result.written} summarized, {result.skipped} unchanged")
