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

Which inputs and their names: inputs.py; OUT's lock, state and safety checks: outdir.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..core import console
from ..core.errors import InputError, SeqtoolError, UsageError
from ..core.io import Digest, Source, display_name, read_text
from .commit import GroupCommit
from .inputs import Job, collect_jobs, in_shard, parse_shard  # noqa: F401  (Job, collect_jobs: this module's API)
from .outdir import (LOCK_FILE, STATE_FILE, STATE_VERSION, _check_unique, _inside, _options_key,  # noqa: F401
                     check_output_tree, clean_stale_temps, load_state, out_dir_lock, save_state)
from .parallel import ordered_map, worker_state
from .options import SummaryOptions
from .pipeline import summarize_text

SAVE_EVERY_S = 10.0


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


def check_result(result: BatchResult) -> None:
    if result.failed:
        raise InputError(f"{len(result.failed)} of {result.total} input(s) failed (reported above); "
                         f"{result.written} summarized, {result.skipped} unchanged")
