"""Opening a word-vector file (plain or .gz, through core/binary's guarded opener) and telling its
format from its first bytes: word2vec binary or text, GloVe text, or a fastText .bin model."""

from __future__ import annotations

import contextlib
import io
import os
from typing import Iterator

from ..core import binary, console
from ..core.errors import InputError
from ..core.binary import open_binary
from ..core.sources import Source

FORMATS = ("word2vec-binary", "word2vec-text", "glove", "fasttext-bin")
BLOCK_BYTES = 1 << 20
_PROBE_BYTES = 1 << 16


# ---------------------------------------------------------------- opening
@contextlib.contextmanager
def open_vectors(path: str) -> Iterator:
    """The (decompressed) bytes of a vector file, through core/binary's opener: the file
    itself, or a gzip reader with the gzip-bomb guard (which offers readline only;
    read_bytes() reads through either)."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file (and no stored vectors of that name)")
    if not os.path.isfile(path) and not os.path.isdir(path):
        # Detecting the format reads the start of the file, loading reads it again.
        raise InputError(f"{path}: not a regular file (a pipe or device cannot be read twice); "
                         f"save it to a file first")
    with open_binary(Source(path if path != "-" else "./-")) as fh:
        yield fh


def is_gzip(fh) -> bool:
    return not isinstance(fh, io.BufferedIOBase)  # open_binary gives plain files as they are


def read_bytes(fh, n: int, path: str) -> bytes:
    """Up to `n` bytes (all that is left for n < 0). core/binary's gzip reader has only
    readline(limit) today, so its bytes are gathered line by line (binary .gz vectors
    load ~1.6x slower than with a read(); the plain files and text .gz are not affected)."""
    try:
        if hasattr(fh, "read"):
            return fh.read(n)
        pieces, left = [], n
        while left != 0:
            piece = fh.readline(left if left > 0 else BLOCK_BYTES)
            if not piece:
                break
            pieces.append(piece)
            left = left - len(piece) if left > 0 else left
        return b"".join(pieces)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def check_claim(path: str, fh, rows: int, row_bytes: int, what: str) -> None:
    """Refuse, before allocating, a header claiming more rows than the file can hold
    (`row_bytes`: the fewest bytes one row takes)."""
    size = os.fstat(fh.fileno()).st_size if not is_gzip(fh) else None
    if size is None:  # gzip: at most what the guard lets through
        size = max(binary.GZIP_RATIO_FLOOR, os.path.getsize(path) * binary.MAX_GZIP_RATIO)
    if rows * row_bytes > size:
        raise InputError(f"{path}: header claims {rows:,} vectors of dimension {what}, more than a "
                         f"{_size(size)} file can hold; the header is wrong or the file truncated")


def _size(n: int) -> str:
    return f"{n:,}-byte" if n < 1 << 20 else f"{n / (1 << 20):,.1f} MiB"


def _is_int(token: bytes) -> bool:
    return token.isdigit()


def parse_floats(tokens: list[bytes]) -> bool:
    try:
        for t in tokens:
            float(t)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- detection
def detect_format(path: str) -> tuple[str, int | None, int]:
    """(format, header count or None, dimension) of a vector file, from its first bytes."""
    with open_vectors(path) as fh:
        probe = read_bytes(fh, _PROBE_BYTES, path)
    if not probe.strip():
        raise InputError(f"{path}: empty file, expected word vectors")
    from .fastbin import MAGIC_BYTES

    if probe[:4] == MAGIC_BYTES and len(probe) >= 12:
        return "fasttext-bin", None, int.from_bytes(probe[8:12], "little", signed=True)
    first, _, rest = probe.partition(b"\n")
    tokens = first.split()
    if len(tokens) == 2 and _is_int(tokens[0]) and _is_int(tokens[1]) and int(tokens[1]) > 0:
        count, dim = int(tokens[0]), int(tokens[1])
        second = rest.split(b"\n", 1)[0]
        parts = second.rstrip().rsplit(b" ", dim)
        text_ok = len(parts) == dim + 1 and parse_floats(parts[1:]) and b"\x00" not in second
        if text_ok:
            if dim == 1 and _looks_like_glove_dim1(path, count, first):
                return "glove", None, 1
            return "word2vec-text", count, dim
        if count == 0 or b" " in rest[: 1024]:
            return "word2vec-binary", count, dim
        raise InputError(f"{path}: header says {count} x {dim} but the next line is neither "
                         f"text vectors nor binary word2vec data")
    parts = first.rstrip().split(b" ")
    # The GloVe dimension is the number of trailing numbers on the first line.
    dim = 0
    for token in reversed(parts[1:]):
        try:
            float(token)
        except ValueError:
            break
        dim += 1
    if dim == 0:
        raise InputError(f"{path}: not a word-vector file (first line is not 'word x1 x2 ...' "
                         f"nor a 'count dim' header)")
    return "glove", None, dim


def _looks_like_glove_dim1(path: str, count: int, first: bytes) -> bool:
    # "3 1" could be a header (3 words, dim 1) or the GloVe row of word "3".
    # Only the row count can tell: a header must match the number of rows after it.
    rows = 0
    with open_vectors(path) as fh:
        while block := read_bytes(fh, BLOCK_BYTES, path):
            rows += block.count(b"\n")
    # A header file has `count` lines after the first (count - 1 "\n" when the last has none).
    return rows - 1 not in (count, count - 1)


def decode_words(raw: list[bytes], path: str, state: dict) -> list[str]:
    try:
        return b"\n".join(raw).decode("utf-8").split("\n")
    except UnicodeDecodeError:
        if not state.get("warned"):
            console.warn(f"{path}: some words are not valid UTF-8; their bad bytes were replaced")
            state["warned"] = True
        return [w.decode("utf-8", "replace") for w in raw]
