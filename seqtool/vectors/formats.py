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

By concern: detect.py opens a file and tells its format, textformat.py parses the text formats,
this module reads word2vec binary and writes both.
"""

from __future__ import annotations

import warnings
from typing import IO

import numpy as np

from ..core import console
from ..core.errors import InputError, UsageError
from .detect import FORMATS, decode_words, check_claim, detect_format, is_gzip, open_vectors, read_bytes
from .model import Vectors
from .textformat import read_text_vectors

__all__ = ["FORMATS", "detect_format", "read_vectors", "write_vectors"]


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
            words, matrix = read_text_vectors(path, dim, header=fmt == "word2vec-text", count=count, limit=limit)
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


def _read_binary(path: str, count: int, dim: int, limit: int | None) -> tuple[list[str], np.ndarray]:
    n = count if limit is None else min(count, limit)
    with open_vectors(path) as fh:
        fh.readline()
        check_claim(path, fh, n, 4 * dim + 2, str(dim))  # a binary row: "w ", then dim float32s
        data = read_bytes(fh, -1, path) if is_gzip(fh) else None
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
    return decode_words(raw_words, path, {}), matrix


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
