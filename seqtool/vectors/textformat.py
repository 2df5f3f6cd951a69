"""word2vec text, fastText .vec and GloVe text files: parsed in blocks of 1 MiB, the words split
off in Python and all the numbers of a block through one C-level `numpy.fromstring` call, into one
preallocated matrix (the peak memory is the float32 matrix plus one block)."""

from __future__ import annotations

import warnings
from typing import IO, Iterator

import numpy as np

from ..core import console
from ..core.errors import InputError
from .detect import BLOCK_BYTES, decode_words, parse_floats, check_claim, is_gzip, open_vectors, read_bytes


def _iter_blocks(fh: IO[bytes], path: str) -> Iterator[bytes]:
    """Blocks of whole lines."""
    carry = b""
    while True:
        block = read_bytes(fh, BLOCK_BYTES, path)
        if not block:
            if carry:
                yield carry
            return
        block = carry + block
        cut = block.rfind(b"\n")
        if cut < 0:
            carry = block
            continue
        carry = block[cut + 1:]
        yield block[: cut + 1]


def _count_lines(path: str) -> int | None:
    """Non-empty-ish line count of an uncompressed file (one fast pass), None for .gz."""
    with open_vectors(path) as fh:
        if is_gzip(fh):
            return None
        lines, last = 0, b"\n"
        while block := read_bytes(fh, BLOCK_BYTES, path):
            lines += block.count(b"\n")
            last = block[-1:]
        return lines + (last != b"\n")


def read_text_vectors(path: str, dim: int, *, header: bool, count: int | None,
               limit: int | None) -> tuple[list[str], np.ndarray]:
    """Parse a text file block by block into one preallocated matrix, so the peak
    memory is the float32 matrix plus one block (not a list of pieces plus a copy)."""
    rows = count if header else _count_lines(path)
    if rows is not None and limit is not None:
        rows = min(rows, limit)
    want = limit if limit is not None else (count if header else None)
    chunks: list[np.ndarray] = []  # only for .gz files without a header (unknown row count)
    words: list[str] = []
    state: dict = {}
    total = 0
    matrix = None
    with open_vectors(path) as fh:
        lineno = 0
        if header:
            fh.readline()
            lineno = 1
        if rows is not None:  # a text row is at least "w" + dim times " x", and a line end
            check_claim(path, fh, rows, 2 * dim + 2, str(dim))
            matrix = np.empty((rows, dim), dtype=np.float32)
        for block in _iter_blocks(fh, path):
            raw_words, numbers, lineno = _split_block(block, dim, path, lineno)
            if want is not None and total + len(raw_words) > want:
                raw_words, numbers = raw_words[: want - total], numbers[: want - total]
            if matrix is not None:
                if total + len(numbers) > len(matrix):  # more lines than counted or announced
                    numbers = numbers[: len(matrix) - total]
                    raw_words = raw_words[: len(numbers)]
                matrix[total:total + len(numbers)] = numbers
            else:
                chunks.append(numbers)
            words.extend(decode_words(raw_words, path, state))
            total += len(raw_words)
            if want is not None and total >= want:
                break
    if header and count is not None and limit is None and total != count:
        console.warn(f"{path}: header announces {count} vectors but the file has {total}")
    if matrix is None:
        matrix = np.concatenate(chunks) if chunks else np.zeros((0, dim), dtype=np.float32)
    elif total < len(matrix):
        matrix = matrix[:total]
    return words, matrix


def _split_block(block: bytes, dim: int, path: str, lineno: int) -> tuple[list[bytes], np.ndarray, int]:
    """Split a block of whole lines into raw words and an (n, dim) float32 array."""
    raw_words: list[bytes] = []
    rests: list[bytes] = []
    spaces = dim - 1
    lines = block.split(b"\n")
    for offset, line in enumerate(lines):
        line = line.rstrip()
        if not line:
            continue
        word, _, rest = line.partition(b" ")
        if rest.count(b" ") != spaces or not rest:
            # A word with spaces in it (GloVe 840B has some), or a malformed line.
            parts = line.rsplit(b" ", dim)
            if len(parts) != dim + 1 or not parts[0] or not parse_floats(parts[1:]):
                found = len(line.split()) - 1
                raise InputError(f"{path}: line {lineno + offset + 1} has {found} numbers after "
                                 f"the word, expected {dim}")
            word, rest = parts[0], b" ".join(parts[1:])
        raw_words.append(word)
        rests.append(rest)
    joined = b" ".join(rests)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flat = np.fromstring(joined, dtype=np.float32, sep=" ")  # C strtod over the whole block
    except ValueError:  # numpy >= 2 raises on a token that is not a number
        flat = np.zeros(0, dtype=np.float32)
    if flat.size != len(rests) * dim:
        _locate_bad_number(rests, dim, path, lineno + 1)
    return raw_words, flat.reshape(len(rests), dim), lineno + block.count(b"\n")


def _locate_bad_number(rests: list[bytes], dim: int, path: str, first_line: int) -> None:
    for offset, rest in enumerate(rests):
        for token in rest.split(b" "):
            try:
                float(token)
            except ValueError:
                shown = token[:30].decode("utf-8", "replace")
                raise InputError(f"{path}: not a number {shown!r} near line {first_line + offset}") from None
    raise InputError(f"{path}: malformed numbers in the block starting near line {first_line}")
