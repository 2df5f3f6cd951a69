"""Folders in, folders out: the cron job.

`run_batch` writes one summary per input at the same relative path under
OUT (with --json: the same path with a .json suffix), each atomically and
durably, a group of files per sync (commit.GroupCommit). A lock
file in OUT makes a second overlapping run fail at once; a state file in OUT
(content sha256 + options per input, written atomically) lets --incremental
skip what is unchanged. A failing input is reported and the batch goes on; the
caller gets the count.

Nothing escapes OUT: every output path is checked to stay inside it, and a
symbolic link anywhere in the output tree is refused. Each input is read once,
streamed with the same line limit as plain mode, and hashed while it is read.
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
from ..core.io import (Digest, Source, atomic_write, directory_files, display_name, expand_inputs, read_text,
                       remove_stale_temps)
from .commit import GroupCommit
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

    def output(self, as_json: bool) -> str:
        """The summary's path relative to OUT: the input's, or with --json its .json twin."""
        return str(Path(self.rel).with_suffix(".json")) if as_json else self.rel


@dataclass
class BatchResult:
    written: int = 0
    skipped: int = 0            # unchanged since the last run (--incremental)
    empty: int = 0
    failed: list = field(default_factory=list)  # (relative name, message)
    total: int = 0
    inside_out_dir: list = field(default_factory=list)  # inputs not read: they are in OUT
    seconds: float = 0.0
    interrupted: bool = False

    def summary_line(self) -> str:
        parts = [f"{self.written} summarized", f"{self.skipped} unchanged", f"{len(self.failed)} failed"]
        if self.empty:
            parts.append(f"{self.empty} empty")
        if self.inside_out_dir:
            parts.append(f"{len(self.inside_out_dir)} skipped inside the output folder")
        return f"summarize: {', '.join(parts)} of {self.total} in {self.seconds:.1f} s"


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
    # surrogateescape: a file name that is not UTF-8 hashes by its bytes, like any other
    return zlib.crc32(key.encode("utf-8", "surrogateescape")) % n == k - 1


def _base_of(spec: str) -> Path:
    """The directory a glob's matches are named relative to: its part before the first wildcard."""
    parts = Path(spec).parts
    base = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        base.append(part)
    return Path(*base) if base else Path(".")


def collect_jobs(specs: list[str], out_dir: Path, skipped: list | None = None) -> list[Job]:
    """Inputs with their names relative to the directory (or glob base) they came from.

    Inputs inside OUT (OUT within an input folder) are left out, never summarized
    again; their paths are appended to `skipped` when given."""
    if any(spec == "-" for spec in specs):
        raise UsageError("--out-dir needs files or directories, not '-' (stdin)")
    out_real = os.path.realpath(out_dir)
    out_prefix = out_real.rstrip(os.sep) + os.sep
    real_dirs: dict[str, str] = {}
    jobs: list[Job] = []
    seen: dict[str, str] = {}
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            base = path
            found = directory_files(path)
            if not found:
                raise InputError(f"{spec}: directory contains no files")
            # (path, name relative to the folder): what expand_inputs and os.path.relpath give
            pairs = [(str(path / rel), os.path.normpath(rel)) for rel in found]
        else:
            if path.exists():
                base = path.parent
            elif any(ch in spec for ch in "*?["):
                base = _base_of(spec)
            else:
                base = path.parent
            pairs = [(source.path, os.path.relpath(source.path, base))
                     for source in expand_inputs([spec], allow_stdin=False)]
        for source_path, rel in pairs:
            real = _real_path(source_path, real_dirs)
            if real == out_real or real.startswith(out_prefix):
                if skipped is not None:  # OUT inside an input folder: never summarize our own summaries
                    skipped.append(source_path)
                continue
            if rel.startswith(".."):
                rel = Path(source_path).name
            if rel in seen and seen[rel] != source_path:
                raise UsageError(f"{display_name(source_path)} and {display_name(seen[rel])} would both be "
                                 f"written to {display_name(str(out_dir / rel))}")
            seen[rel] = source_path
            jobs.append(Job(source_path, rel))
    return jobs


def _real_path(path: str, real_dirs: dict) -> str:
    """os.path.realpath(path), its folder's resolved once per folder: a file that is no
    link is its resolved folder plus its name (one lstat, not one per path component)."""
    folder, name = os.path.split(path)
    if not name or name in (".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    real = real_dirs.get(folder)
    if real is None:
        real = real_dirs[folder] = os.path.realpath(folder or ".")
    return os.path.join(real, name)


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


def format_summary(summary, as_json: bool, name: str) -> str:
    if as_json:
        return json.dumps(summary.to_json(id=display_name(name)), ensure_ascii=False) + "\n"
    lines = list(summary.sentences)
    if summary.keywords:
        lines.append("keywords: " + ", ".join(summary.keywords))
    return "".join(line + "\n" for line in lines)


def _summarize_file(job: tuple) -> tuple:
    """Worker: (path, rel, out, known sha or None) -> (rel, status, sha, message, summary text).

    The worker only reads and summarizes; the parent writes every summary through one
    GroupCommit, so a group of files costs a few syncs instead of two fsyncs each."""
    path, rel, out, known = job
    st = worker_state()
    try:
        # One streamed read: the line limit holds (/dev/zero fails at once) and FIFOs work.
        digest = Digest()
        text = read_text(Source(path), encoding=st["encoding"], errors=st["errors"], digest=digest)
        sha = digest.hexdigest()
        if known is not None and known == sha and os.path.exists(out):
            return rel, "skipped", sha, "", None
        summary = summarize_text(text, st["options"], st.get("vectors"), name=str(path))
        content = format_summary(summary, st["json"], rel)
    except SeqtoolError as exc:
        return rel, "failed", None, exc.message, None
    except OSError as exc:
        return rel, "failed", None, f"{display_name(path)}: {exc.strerror or exc}", None
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        return rel, "failed", None, f"{display_name(path)}: unexpected {type(exc).__name__}: {exc}", None
    return rel, ("empty" if not summary.sentences else "written"), sha, "", content


def _stage(writer: GroupCommit, out_real: str, out: str, content: str, on_commit) -> Optional[str]:
    """Stage one summary for the next group commit; the error message if it cannot be."""
    if not _inside(out_real, out):  # a link planted after the check at the start
        return (f"{display_name(out)}: its folder leads outside the output folder "
                f"(a symbolic link); refusing to write it")
    try:
        writer.add(out, content, on_commit)
    except SeqtoolError as exc:
        return exc.message
    return None


def run_batch(specs: list[str], out_dir: str | os.PathLike, options: SummaryOptions, *, jobs: int = 1,
              incremental: bool = False, shard: Optional[str] = None, as_json: bool = False,
              encoding: str = "utf-8", errors: str = "strict", vectors=None) -> BatchResult:
    start = time.monotonic()
    out = Path(out_dir)
    shard_spec = parse_shard(shard)
    key = _options_key(options, {"json": as_json, "encoding": encoding, "errors": errors})
    inside: list[str] = []
    with out_dir_lock(out):
        out_real = os.path.realpath(out)
        state = {"options": options, "json": as_json, "encoding": encoding, "errors": errors,
                 "vectors": vectors, "out_real": out_real}
        todo = [j for j in collect_jobs(specs, out, inside) if in_shard(j.rel, shard_spec)]
        if inside:
            shown = display_name(inside[0]) + (f" and {len(inside) - 1} more" if len(inside) > 1 else "")
            if not todo:
                raise UsageError(f"--out-dir {display_name(str(out))}: every input is inside the output folder "
                                 f"({shown}) and summaries are never summarized again; "
                                 f"choose an output folder outside the inputs")
            console.warn(f"skipped {len(inside)} input(s) inside the output folder {display_name(str(out))} "
                         f"({shown}): summaries are never summarized again")
        outputs = [j.output(as_json) for j in todo]
        _check_unique(todo, outputs, out)
        check_output_tree(out, outputs)
        clean_stale_temps(out, outputs)
        files = load_state(out)
        result = BatchResult(total=len(todo), inside_out_dir=inside)
        tasks = []
        for j, rel_out in zip(todo, outputs):
            entry = files.get(j.rel) if incremental else None
            known = entry.get("sha256") if isinstance(entry, dict) and entry.get("options") == key else None
            tasks.append((j.path, j.rel, str(out / rel_out), known))
        writer = GroupCommit(out)
        last_save = time.monotonic()
        try:
            # closing(): on an interrupt in this loop the workers are stopped here, before cleanup.
            with console.progress() as bar, contextlib.closing(
                    ordered_map(_summarize_file, tasks, jobs=jobs, state=state)) as results:
                task = bar.add_task("summarize", total=len(tasks), status="")
                for (rel, status, sha, message, content), (_, _, target, _) in zip(results, tasks):
                    bar.advance(task)
                    if status not in ("failed", "skipped"):
                        # The state records a summary only once its group is on disk.
                        entry = {"sha256": sha, "options": key}
                        message = _stage(writer, out_real, target, content,
                                         lambda rel=rel, entry=entry: files.__setitem__(rel, entry))
                        if message is not None:
                            status = "failed"
                    if status == "failed":
                        files.pop(rel, None)
                        result.failed.append((rel, message))
                        console.error_line(display_name(message))
                        continue
                    if status == "skipped":
                        files[rel] = {"sha256": sha, "options": key}
                        result.skipped += 1
                    else:
                        result.written += 1
                        if status == "empty":
                            result.empty += 1
                            console.warn(f"{display_name(rel)}: no sentences; wrote an empty summary")
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        writer.commit()
                        save_state(out, files)
                        last_save = time.monotonic()
                writer.commit()
        except KeyboardInterrupt:
            result.interrupted = True
            writer.discard()
            # A temp file whose creation the signal interrupted has no owner left to remove
            # it; we still hold the lock, so clear this run's folders now.
            clean_stale_temps(out, outputs)
            raise
        except BaseException:
            writer.discard()
            raise
        finally:
            # Even on Ctrl-C or SIGTERM: what was committed is recorded, so --incremental resumes.
            save_state(out, files)
            result.seconds = time.monotonic() - start
    return result


def _check_unique(jobs: list[Job], outputs: list[str], out: Path) -> None:
    """With --json, a.txt and a.md would both become a.json: refuse before writing."""
    seen: dict[str, str] = {}
    for job, rel in zip(jobs, outputs):
        if rel in seen:
            raise UsageError(f"{display_name(job.path)} and {display_name(seen[rel])} would both be "
                             f"written to {display_name(str(out / rel))}")
        seen[rel] = job.path


def check_result(result: BatchResult) -> None:
    if result.failed:
        raise InputError(f"{len(result.failed)} of {result.total} input(s) failed (reported above); "
                         f"{result.written} summarized, {result.skipped} unchanged")
