"""The counts of a build beyond memory, left on disk by external.py: one file per order.

table{k}.bin holds order k's final table, sorted by trie key, as rows of three int64:
key, raw count, suffix row, exactly Counts.keys[k], counts[k] and suffix[k] side by side.
DiskCounts owns the private folder they are in (removed by close()); load() reads them back
whole into Counts (for what is not streamed), read_rows() a block at a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .counts import Counts

ROW = 3  # a run or table entry: key, count, suffix row (int64 each)
MIN_BLOCK = 1024  # entries read from a run or table at a time, at least


def path_size(path: Path) -> int:
    """Entries of a table or run file."""
    return path.stat().st_size // (ROW * 8)


def read_rows(path: Path, start: int, count: int) -> np.ndarray:
    """Entries [start, start + count) of a table file as an (m, 3) int64 array (np.fromfile:
    read into private memory, no mapped pages left resident behind it)."""
    return np.fromfile(path, dtype=np.int64, count=count * ROW, offset=start * ROW * 8).reshape(-1, ROW)


class DiskCounts:
    """Counts whose order-k tables (k >= 2) are in `root`/table{k}.bin; the unigrams, the
    vocabulary and the totals are in memory. `memory`: the budget they were counted within."""

    external = True

    def __init__(self, order: int, words: list[str], unigram: np.ndarray, root: Path, sizes: list[int],
                 tokens: int, sentences: int, memory: int):
        self.order, self.words, self.unigram, self.root = order, words, unigram, Path(root)
        self._sizes = [len(words)] + list(sizes)
        self.tokens, self.sentences, self.memory = tokens, sentences, memory

    def sizes(self) -> list[int]:
        return list(self._sizes)

    def table(self, k: int) -> Path:
        return self.root / f"table{k}.bin"

    def load(self) -> Counts:
        """The tables read back whole (a block at a time: a mapped file's pages would count as
        resident memory, the whole table at once), each file removed once read."""
        keys: list = [None, None]
        counts: list = [None, None]
        suffix: list = [None, None]
        block = max(MIN_BLOCK, self.memory // 4 // (ROW * 8))
        for k in range(2, self.order + 1):
            path = self.table(k)
            n = path_size(path)
            cols = [np.empty(n, np.int64) for _ in range(ROW)]
            for start in range(0, n, block):
                part = read_rows(path, start, min(block, n - start))
                for col, values in zip(cols, part.T):
                    col[start: start + part.shape[0]] = values
            keys.append(cols[0])
            counts.append(cols[1])
            suffix.append(cols[2])
            path.unlink()
        return Counts(self.order, list(self.words), self.unigram, keys, counts, suffix, self.tokens, self.sentences)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["DiskCounts", "read_rows", "path_size", "ROW", "MIN_BLOCK"]
