"""Reading and writing the common word-vector file formats.

* word2vec binary: "N D\\n", then per word "word " + D little-endian float32
  (the C tool adds "\\n" after each vector, gensim does not; both are read);
* word2vec text / fastText .vec: "N D" header line, then "word x1 ... xD";
* GloVe text: the same lines without a header;
* fastText binary models (.bin): the word vectors and the n-gram buckets (vectors/fastbin.py).

The format is detected from the content, never from the file name; `.gz`
files are decompressed on the fly. Text files are parsed in blocks of 1 MiB: the words are split off in Python and all the numbers of a block go
through one C-level `numpy.fromstring` call, which is what makes the loader
several times faster than a per-line parser.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from typing import IO, Iterator

import numpy as np

from ..core import console
from ..core.errors import InputError, UsageError
from ..core import io as seqio
from ..core.io import Source, open_binary
from .model import Vectors

FORMATS = ("word2vec-binary", "word2vec-text", "glove", "fasttext-bin")
BLOCK_BYTES = 1 << 20
_PROBE_BYTES = 1 << 16


# ---------------------------------------------------------------- opening
@contextlib.contextmanager
def _open(path: str) -> Iterator:
    """The (decompressed) bytes of a vector file, through core/io's opener: the file
    itself, or a gzip reader with the gzip-bomb guard (which offers readline only;
    _read() reads through either)."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file (and no stored vectors of that name)")
    if not os.path.isfile(path) and not os.path.isdir(path):
        # Detecting the format reads the start of the file, loading reads it again.
        raise InputError(f"{path}: not a regular file (a pipe or device cannot be read twice); "
                         f"save it to a file first")
    with open_binary(Source(path if path != "-" else "./-")) as fh:
        yield fh


def _is_gzip(fh) -> bool:
    return not isinstance(fh, io.BufferedIOBase)  # open_binary gives plain files as they are


def _read(fh, n: int, path: str) -> bytes:
    """Up to `n` bytes (all that is left for n < 0). core/io's gzip reader has only
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


def _check_claim(path: str, fh, rows: int, row_bytes: int, what: str) -> None:
    """Refuse, before allocating, a header claiming more rows than the file can hold
    (`row_bytes`: the fewest bytes one row takes)."""
    size = os.fstat(fh.fileno()).st_size if not _is_gzip(fh) else None
    if size is None:  # gzip: at most what the guard lets through
        size = max(seqio.GZIP_RATIO_FLOOR, os.path.getsize(path) * seqio.MAX_GZIP_RATIO)
    if rows * row_bytes > size:
        raise InputError(f"{path}: header claims {rows:,} vectors of dimension {what}, more than a "
                         f"{_size(size)} file can hold; the header is wrong or the file truncated")


def _size(n: int) -> str:
    return f"{n:,}-byte" if n < 1 << 20 else f"{n / (1 << 20):,.1f} MiB"


def _is_int(token: bytes) -> bool:
    return token.isdigit()


def _parse_floats(tokens: list[bytes]) -> bool:
    try:
        for t in tokens:
            float(t)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- detection
def detect_format(path: str) -> tuple[str, int | None, int]:
    """(format, header count or None, dimension) of a vector file, from its first bytes."""
    with _open(path) as fh:
        probe = _read(fh, _PROBE_BYTES, path)
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
        text_ok = len(parts) == dim + 1 and _parse_floats(parts[1:]) and b"\x00" not in second
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
    with _open(path) as fh:
        while block := _read(fh, BLOCK_BYTES, path):
            rows += block.count(b"\n")
    # A header file has `count` lines after the first (count - 1 "\n" when the last has none).
    return rows - 1 not in (count, count - 1)


# ---------------------------------------------------------------- reading
def read_vectors(path: str, *, limit: int | None = None, fmt: str | None = None) -> Vectors:
    """Read any supported vector file (format detected unless `fmt` is given)."""
    detected, count, dim = detect_format(path)
    fmt = fmt or detected
    try:
        if fmt == "fasttext-bin":
            from .fastbin import read_fasttext_bin

            return read_fasttext_bin(path, limit=limit)
        if fmt == "word2vec-binary":
            words, matrix = _read_binary(path, count or 0, dim, limit)
        elif fmt in ("word2vec-text", "glove"):
            words, matrix = _read_text(path, dim, header=fmt == "word2vec-text", count=count, limit=limit)
        else:
            raise UsageError(f"unknown vector format {fmt!r}")
    except (ValueError, IndexError) as exc:  # found by fuzzing: malformed files the checks above missed
        raise InputError(f"{path}: malformed {fmt} vector file ({exc})") from None
    if len(words) != len(matrix):
        raise InputError(f"{path}: malformed {fmt} vector file ({len(words)} words but {len(matrix)} vectors)")
    return _dedupe(path, words, matrix)


def _dedupe(path: str, words: list[str], matrix: np.ndarray) -> Vectors:
    if _has_repeats(words):
        # Like gensim: the first row of a repeated word wins, later ones are dropped.
        seen: set[str] = set()
        keep = [i for i, w in enumerate(words) if not (w in seen or seen.add(w))]
        console.warn(f"{path}: {len(words) - len(keep)} repeated words; kept the first vector of each")
        return Vectors([words[i] for i in keep], np.ascontiguousarray(matrix[keep]))
    return Vectors(words, matrix)


def _has_repeats(words: list[str]) -> bool:
    """Whether a word occurs twice. Sorting the words' hashes costs 8 bytes a word where a
    set would cost ~40 (16 MiB for 400k words, a tenth of the matrix): the set is built only
    when two hashes collide."""
    from .wordindex import word_hashes

    hashes = np.sort(word_hashes(words))
    if not (hashes[1:] == hashes[:-1]).any():
        return False
    return len(set(words)) != len(words)


def _decode_words(raw: list[bytes], path: str, state: dict) -> list[str]:
    try:
        return b"\n".join(raw).decode("utf-8").split("\n")
    except UnicodeDecodeError:
        if not state.get("warned"):
            console.warn(f"{path}: some words are not valid UTF-8; their bad bytes were replaced")
            state["warned"] = True
        return [w.decode("utf-8", "replace") for w in raw]


def _iter_blocks(fh: IO[bytes], path: str) -> Iterator[bytes]:
    """Blocks of whole lines."""
    carry = b""
    while True:
        block = _read(fh, BLOCK_BYTES, path)
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
    with _open(path) as fh:
        if _is_gzip(fh):
            return None
        lines, last = 0, b"\n"
        while block := _read(fh, BLOCK_BYTES, path):
            lines += block.count(b"\n")
            last = block[-1:]
        return lines + (last != b"\n")


def _read_text(path: str, dim: int, *, header: bool, count: int | None,
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
    with _open(path) as fh:
        lineno = 0
        if header:
            fh.readline()
            lineno = 1
        if rows is not None:  # a text row is at least "w" + dim times " x", and a line end
            _check_claim(path, fh, rows, 2 * dim + 2, str(dim))
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
            words.extend(_decode_words(raw_words, path, state))
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
            if len(parts) != dim + 1 or not parts[0] or not _parse_floats(parts[1:]):
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


def _read_binary(path: str, count: int, dim: int, limit: int | None) -> tuple[list[str], np.ndarray]:
    n = count if limit is None else min(count, limit)
    with _open(path) as fh:
        fh.readline()
        _check_claim(path, fh, n, 4 * dim + 2, str(dim))  # a binary row: "w ", then dim float32s
        data = _read(fh, -1, path) if _is_gzip(fh) else None
        if data is None:
            import mmap

            try:
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:
                data = b""
            offset = fh.tell()
        else:
            offset = 0
        return _parse_binary(data, offset, n, dim, path)


def _parse_binary(data, pos: int, n: int, dim: int, path: str) -> tuple[list[str], np.ndarray]:
    nbytes = 4 * dim
    matrix = np.empty((n, dim), dtype=np.float32)
    raw_words: list[bytes] = []
    size = len(data)
    find = data.find
    for i in range(n):
        while pos < size and data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = find(b" ", pos, pos + 100_000)
        if space < 0 or space + 1 + nbytes > size:
            raise InputError(f"{path}: binary word2vec data ends after {i} of {n} vectors "
                             f"(truncated file or wrong header)")
        raw_words.append(bytes(data[pos:space]))
        matrix[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + nbytes
    if hasattr(data, "close"):
        del find
        data.close()
    return _decode_words(raw_words, path, {}), matrix


# ---------------------------------------------------------------- writing
def write_vectors(vecs: Vectors, out: IO[bytes], fmt: str, *, binary: bool = False,
                  block_rows: int = 20000) -> None:
    """Write `vecs` to a binary stream as word2vec (header) or GloVe (no header) text,
    or word2vec binary. Text numbers use the shortest of %.7g / %.9g that reads
    back to the identical float32, so round trips are exact."""
    if fmt not in ("word2vec", "glove"):
        raise UsageError(f"--format must be word2vec or glove (got {fmt!r})")
    if binary and fmt != "word2vec":
        raise UsageError("--binary is only available with --format word2vec")
    n, dim = vecs.matrix.shape
    for w in vecs.words:
        if not w or " " in w or "\n" in w:
            if binary or fmt == "word2vec" or "\n" in w or not w:
                raise InputError(f"word {w!r} contains a space or line break (or is empty); the "
                                 f"{fmt} format cannot store it")
    if fmt == "word2vec":
        out.write(f"{n} {dim}\n".encode())
    for start in range(0, n, block_rows):
        rows = np.asarray(vecs.matrix[start:start + block_rows], dtype=np.float32)
        words = vecs.words[start:start + block_rows]
        if binary:
            little = rows.astype("<f4", copy=False)
            out.write(b"".join(w.encode("utf-8") + b" " + little[i].tobytes() + b"\n"
                               for i, w in enumerate(words)))
        else:
            out.write(_format_rows(words, rows).encode("utf-8"))


def _format_rows(words: list[str], rows: np.ndarray) -> str:
    dim = rows.shape[1]
    short = " ".join(["%.7g"] * dim)
    lines = [short % tuple(r) for r in rows.tolist()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = np.fromstring(" ".join(lines), dtype=np.float32, sep=" ").reshape(rows.shape)
    bad = ~((back == rows) | (np.isnan(back) & np.isnan(rows)))
    # 7 significant digits are exact for most values read from text files; the
    # others (typical of trained vectors) need 9, which is always exact for float32.
    for i in np.flatnonzero(bad.any(axis=1)).tolist():
        tokens = lines[i].split(" ")
        for k in np.flatnonzero(bad[i]).tolist():
            tokens[k] = "%.9g" % float(rows[i, k])
        lines[i] = " ".join(tokens)
    return "".join(f"{w} {line}\n" for w, line in zip(words, lines))
