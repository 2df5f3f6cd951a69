"""Counting n-grams beyond memory: sorted runs on disk and a k-way merge, as lmplz -S.

BudgetCounter counts in memory (NgramCounter) while the tables fit its budget. Past it,
the word ids of the corpus are spooled to a private folder under --temp-dir and each
order k = 2..n is counted in one pass over that spool:

1. per chunk of whole sentences, the trie keys ``row(w1..wk-1) << 32 | wk`` are sorted
   and counted with numpy and written as a run (key, count, suffix row), one file each;
2. the runs are merged k ways, a block of each at a time, into the final sorted table
   of order k; the merge also writes, per run, the final row of each of its keys;
3. the rows are mapped back to token positions (the row of the k-gram ending at each
   position), which is what order k+1 needs for its keys and suffixes.

Since the prefix and suffix rows are final rows from the start, the tables come out
exactly as NgramCounter.finish() renumbers them: the same Counts, bit for bit. Memory
holds one chunk, one block per run and the vocabulary; the final table of each order
stays on disk (ondisk.DiskCounts): `finish(on_disk=True)` hands it over for the streamed
estimate (streamed.py), plain `finish()` reads it back whole into Counts.

The folder is removed when the counter (or the DiskCounts it handed over) closes, whatever
ends the build (an exception, Ctrl-C, SIGTERM: the CLI turns it into KeyboardInterrupt so
every `finally` runs).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.errors import OutputError, UsageError
from .counts import CHUNK_TOKENS, SHIFT, Counts, NgramCounter, _unique, sentence_positions
from .ondisk import MIN_BLOCK, ROW, DiskCounts, path_size
from .options import parse_memory

# Bytes of working arrays per token of a chunk (ids, positions, keys, sort order, inverse,
# rows: about a dozen int64 arrays); a chunk gets a quarter of the budget.
BYTES_PER_CHUNK_TOKEN = 128
MIN_CHUNK_TOKENS = 1024
# Peak bytes of the in-memory estimate per distinct n-gram, past the counting (measured: the
# tables read back, 24; the top order's arithmetic and the float32 model; the allocator's slack).
ESTIMATE_BYTES_PER_NGRAM = 64
# The streamed estimate (streamed.py) holds whole only arrays over one order below the top:
# continuation counts (8 bytes), <s> flags (1) and the float64 log-probs of the order below (8),
# never all at once; the rest goes block by block.
STREAMED_BYTES_PER_NGRAM = 10
# Rows, ranks and inverses on disk are int32: a trie key keeps a row in its upper 31 bits.
MAX_ROWS = (1 << 31) - 1

Stage = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)

class BudgetCounter(NgramCounter):
    """NgramCounter within `memory` bytes: in memory while the tables fit, sorted runs
    in a folder under `temp_dir` (default: the system's) past it. `external=True` goes
    to disk from the first chunk (for tests and benchmarks)."""

    def __init__(self, order: int, memory: int | str | None = None, temp_dir: str | None = None, *,
                 external: bool = False, chunk_tokens: int | None = None, stage: Stage | None = None,
                 info: Callable[[str], None] | None = None):
        self.memory = parse_memory(memory)
        chunk = chunk_tokens or min(CHUNK_TOKENS, self.memory // 4 // BYTES_PER_CHUNK_TOKEN)
        super().__init__(order, chunk_tokens=max(MIN_CHUNK_TOKENS, chunk))
        self.temp_dir = temp_dir
        if temp_dir is not None and not Path(temp_dir).is_dir():
            raise UsageError(f"--temp-dir {temp_dir}: not a folder")
        self._stage = stage
        self._info = info
        # The ids of the chunks counted in memory, for a move to disk: kept in memory while
        # they are small (an eighth of the budget), spooled to disk past that.
        self._kept: list[np.ndarray] = []
        self._spool: _Spool | None = None
        self._external = False
        if external and order > 1:
            with self._disk():
                self._go_external()

    @property
    def external(self) -> bool:
        return self._external

    @contextlib.contextmanager
    def _disk(self):
        """A full or failing --temp-dir: one line naming the folder (the runs are removed)."""
        try:
            yield
        except OSError as exc:
            where = self._spool.root if self._spool is not None else (self.temp_dir or tempfile.gettempdir())
            self.close()
            raise OutputError(f"--temp-dir {where}: {exc.strerror or exc} (the sorted runs of a corpus need "
                              f"up to about 70 bytes per token)") from None

    def flush(self) -> None:
        with self._disk():
            self._flush()

    def _flush(self) -> None:
        w = self._take_chunk()
        if w is None or self.order == 1:
            return
        if self._external:
            self._spool.add(w)
            return
        self._count_chunk(w)
        if self._spool is not None:
            self._spool.add(w)
        else:
            self._kept.append(w.astype(np.int32))
            if sum(a.nbytes for a in self._kept) > self.memory // 8:
                self._open_spool()
        # np.insert copies a table while it grows: the tables need twice their size.
        held = 2 * self.table_bytes() + sum(a.nbytes for a in self._kept)
        if held + self.chunk_tokens * BYTES_PER_CHUNK_TOKEN > self.memory:
            self._go_external()

    def _open_spool(self) -> None:
        self._spool = _Spool(Path(tempfile.mkdtemp(prefix="seqtool-ngram-", dir=self.temp_dir)))
        for w in self._kept:
            self._spool.add(w)
        self._kept = []

    def _go_external(self) -> None:
        if self._spool is None:
            self._open_spool()
        self._external = True
        if self._info is not None:
            self._info(f"the n-gram tables pass the memory budget ({self.memory / 2**20:,.0f} MiB): "
                       f"counting in sorted runs under {self._spool.root}")
        for k in range(len(self._tables)):
            self._tables[k] = type(self._tables[k])()

    def finish(self, *, on_disk: bool = False) -> Counts | DiskCounts:
        """The counts, in memory; with `on_disk`, a build that went to disk gives DiskCounts
        instead: the tables stay in their files, the caller closes them (the folder goes then)."""
        self.flush()
        if not self._external:
            self.close()  # the corpus fitted: no spool needed
            self._kept = []
            return super().finish()
        try:
            with self._disk():
                sizes = self._spool.count(self.order, self.memory, self._stage)
            disk = DiskCounts(self.order, list(self.words), self._unigrams(), self._spool.root, sizes,
                              self.tokens, self.sentences, self.memory)
            if on_disk:
                self._spool = None  # the folder is the DiskCounts' now
                return disk
            with self._disk():
                return disk.load()
        finally:
            self.close()

    def close(self) -> None:
        if self._spool is not None:
            self._spool.remove()


def estimate_bytes(sizes: list[int], *, streamed: bool = False) -> int:
    """About what the estimate and the model built from counts of these sizes hold at their
    peak: in memory (Counts), or `streamed` from DiskCounts (streamed.py), whose block buffers
    take a share of the budget on top (streamed.BLOCK_SHARE)."""
    if not streamed:
        return ESTIMATE_BYTES_PER_NGRAM * sum(sizes)
    return STREAMED_BYTES_PER_NGRAM * max(sizes[:-1] or [0])


class _Spool:
    """The corpus as int32 word ids (with <s> and </s>) in chunks of whole sentences,
    and the per-order files made from it, in one private folder."""

    def __init__(self, root: Path):
        self.root = root
        self.chunks: list[tuple[int, int]] = []  # (first token, tokens)
        self._ids = open(root / "ids.bin", "wb")
        self._size = 0

    def add(self, w: np.ndarray) -> None:
        self._ids.write(np.ascontiguousarray(w, dtype=np.int32).tobytes())
        self.chunks.append((self._size, w.size))
        self._size += w.size

    def remove(self) -> None:
        if not self._ids.closed:
            self._ids.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _read(self, name: str, chunk: int, dtype) -> np.ndarray:
        start, n = self.chunks[chunk]
        dtype = np.dtype(dtype)
        return np.fromfile(self.root / name, dtype=dtype, count=n, offset=start * dtype.itemsize).astype(np.int64)

    def count(self, order: int, memory: int, stage: Stage | None) -> list[int]:
        """Count orders 2..n into table{k}.bin (see ondisk.py); returns their sizes."""
        self._ids.close()
        for k in range(2, order + 1):
            runs = self._sort_runs(k, stage)
            self._merge_runs(k, runs, memory, stage)
            if k < order:
                self._rows(k, len(runs), stage)
            else:  # the top order's rows are never needed
                (self.root / f"inv{k}.bin").unlink()
                for c in range(len(runs)):
                    (self.root / f"rank{k}-{c}.bin").unlink()
            if k > 2:
                (self.root / f"rows{k - 1}.bin").unlink()
        (self.root / "ids.bin").unlink()
        return [path_size(self.root / f"table{k}.bin") for k in range(2, order + 1)]

    def _sort_runs(self, k: int, stage: Stage | None) -> list[Path]:
        """One sorted, counted run of order-k keys per chunk; the inverse (which run entry
        each position holds) is kept to map the merged rows back to positions."""
        advance = stage(f"sorting {k}-grams", len(self.chunks)) if stage else None
        runs = []
        with open(self.root / f"inv{k}.bin", "wb") as inv_file:
            for c in range(len(self.chunks)):
                w = self._read("ids.bin", c, np.int32)
                prev = w if k == 2 else self._read(f"rows{k - 1}.bin", c, np.int32)
                t = np.flatnonzero(sentence_positions(w) >= k - 1)
                uk, first, inv, cnt = _unique((prev[t - 1] << SHIFT) | w[t])
                run = self.root / f"run{k}-{c}.bin"
                np.stack([uk, cnt, prev[t[first]]], axis=1).tofile(run)  # (m, 3) int64
                inv.astype(np.int32).tofile(inv_file)  # < the chunk's size
                runs.append(run)
                if advance:
                    advance(1)
        return runs

    def _merge_runs(self, k: int, runs: list[Path], memory: int, stage: Stage | None) -> int:
        """Merge the runs into table{k}.bin (sorted keys, summed counts, suffix rows) and write
        rank{k}-{c}.bin: the table row of each entry of run c. Returns the table size."""
        sizes = [r.stat().st_size // (ROW * 8) for r in runs]
        # A block per run plus the merge's copies (about 4x) in half the budget.
        block = max(MIN_BLOCK, memory // 2 // (max(1, len(runs)) * ROW * 8 * 4))
        advance = stage(f"merging {k}-grams", sum(sizes)) if stage else None
        read = [0] * len(runs)
        bufs = [np.zeros((0, ROW), np.int64) for _ in runs]
        rank_files = [open(self.root / f"rank{k}-{c}.bin", "wb") for c in range(len(runs))]
        emitted = 0
        try:
            with open(self.root / f"table{k}.bin", "wb") as out:
                while True:
                    for r, size in enumerate(sizes):
                        if not len(bufs[r]) and read[r] < size:
                            m = min(block, size - read[r])
                            bufs[r] = np.fromfile(runs[r], dtype=np.int64, count=m * ROW,
                                                  offset=read[r] * ROW * 8).reshape(-1, ROW)
                            read[r] += m
                    live = [r for r in range(len(runs)) if len(bufs[r])]
                    if not live:
                        break
                    # Keys are unique within a run: every entry <= the smallest last key of the
                    # runs still being read is in the buffers now, and none will come later.
                    pending = [bufs[r][-1, 0] for r in live if read[r] < sizes[r]]
                    bound = min(pending) if pending else None
                    take = [len(bufs[r]) if bound is None else int(np.searchsorted(bufs[r][:, 0], bound, "right"))
                            for r in range(len(runs))]
                    batch = np.concatenate([bufs[r][: take[r]] for r in range(len(runs))])
                    uk, first, inv, _ = _unique(batch[:, 0], kind="stable")
                    # float64 sums are exact for counts below 2**53
                    summed = np.bincount(inv, weights=batch[:, 1], minlength=uk.size).astype(np.int64)
                    np.stack([uk, summed, batch[first, 2]], axis=1).tofile(out)
                    ranks = inv + emitted
                    start = 0
                    for r in range(len(runs)):
                        ranks[start: start + take[r]].astype(np.int32).tofile(rank_files[r])
                        start += take[r]
                        bufs[r] = bufs[r][take[r]:]
                    emitted += uk.size
                    if emitted > MAX_ROWS:
                        raise UsageError(f"more than {MAX_ROWS:,} distinct {k}-grams: the trie keys hold "
                                         f"rows below 2**31 (split the corpus or prune)")
                    if advance:
                        advance(len(batch))
        finally:
            for f in rank_files:
                f.close()
        for r in runs:
            r.unlink()
        return emitted

    def _rows(self, k: int, n_runs: int, stage: Stage | None) -> None:
        """rows{k}.bin: per token position, the table row of the k-gram ending there (-1: none)."""
        advance = stage(f"indexing {k}-grams", len(self.chunks)) if stage else None
        inv_path = self.root / f"inv{k}.bin"
        offset = 0
        with open(self.root / f"rows{k}.bin", "wb") as out:
            for c in range(len(self.chunks)):
                w = self._read("ids.bin", c, np.int32)
                t = np.flatnonzero(sentence_positions(w) >= k - 1)
                inv = np.fromfile(inv_path, dtype=np.int32, count=t.size, offset=offset * 4)
                offset += t.size
                rank_path = self.root / f"rank{k}-{c}.bin"
                rank = np.fromfile(rank_path, dtype=np.int32)
                rows = np.full(w.size, -1, np.int32)
                rows[t] = rank[inv]
                rows.tofile(out)
                rank_path.unlink()
                if advance:
                    advance(1)
        inv_path.unlink()


__all__ = ["BudgetCounter", "estimate_bytes"]
