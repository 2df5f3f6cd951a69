"""Which inputs a batch summarizes: files, folders and globs, each named relative to
where it came from (its path under OUT), shards by a stable hash of that name, and never
anything inside OUT itself."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import InputError, UsageError
from ..core.io import directory_files, display_name, expand_inputs


@dataclass
class Job:
    path: str
    rel: str

    def output(self, as_json: bool) -> str:
        """The summary's path relative to OUT: the input's, or with --json its .json twin."""
        return str(Path(self.rel).with_suffix(".json")) if as_json else self.rel


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
