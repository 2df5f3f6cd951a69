"""Opening a source as bytes: a file or stdin, `.gz` decompressed (told by its magic bytes,
not its name) behind the gzip-bomb guard, and hashed on the way when a Digest is given."""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import zlib
from typing import IO, Iterator

from .digest import Digest
from .errors import InputError
from .sources import Source

# A .gz input may expand to at most this many times its compressed size once it
# has produced 1 GiB (gzip bombs expand ~1000x; real text compresses ~3-10x).
MAX_GZIP_RATIO = 200
GZIP_RATIO_FLOOR = 1 << 30
GZIP_MAGIC = b"\x1f\x8b"


class _HashingReader:
    """A binary file seen through a Digest: every byte handed out is hashed once."""

    def __init__(self, raw: IO[bytes], digest: Digest):
        self._raw = raw
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        block = self._raw.read(size)
        self._digest.update(block)
        return block

    def readline(self, limit: int = -1) -> bytes:
        line = self._raw.readline(limit)
        self._digest.update(line)
        return line

    def peek(self, size: int = 0) -> bytes:
        return self._raw.peek(size) if hasattr(self._raw, "peek") else b""

    def close(self) -> None:
        pass


class _GzipGuard:
    """Wraps a GzipFile to stop gzip bombs and turn zlib failures into InputErrors."""

    def __init__(self, raw: IO[bytes], name: str, compressed_size: int | None):
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self._name = name
        self._limit = None
        if compressed_size is not None:
            self._limit = max(GZIP_RATIO_FLOOR, compressed_size * MAX_GZIP_RATIO)
        self._read = 0

    def readline(self, limit: int = -1) -> bytes:
        return self._counted(self._gz.readline, limit)

    def read(self, n: int = -1) -> bytes:
        """Up to `n` decompressed bytes (n < 0: all that is left, gathered block by block so
        that a bomb is stopped at the limit, not after it has filled the memory)."""
        if n is not None and n >= 0:
            return self._counted(self._gz.read, n)
        blocks = []
        while block := self._counted(self._gz.read, 1 << 20):
            blocks.append(block)
        return b"".join(blocks)

    def _counted(self, read, size: int) -> bytes:
        """read(size), with zlib failures as InputErrors and every byte counted against the limit."""
        try:
            data = read(size)
        except EOFError:
            raise InputError(f"{self._name}: truncated gzip file (ended before the end of the stream)") from None
        except (OSError, zlib.error) as exc:
            raise InputError(f"{self._name}: corrupt gzip data ({exc})") from None
        self._read += len(data)
        if self._limit is not None and self._read > self._limit:
            raise InputError(
                f"{self._name}: gzip data expands more than {MAX_GZIP_RATIO}x its size "
                f"(over {self._limit >> 20} MiB); refusing a likely gzip bomb"
            )
        return data

    def close(self) -> None:
        self._gz.close()


@contextlib.contextmanager
def open_binary(source: Source, digest: Digest | None = None) -> Iterator[object]:
    """Yield an object with readline(limit) over the (decompressed) bytes of a source;
    with a `digest`, the stored bytes are hashed as they are read."""
    if source.is_stdin:
        if sys.stdin is None:
            raise InputError("<stdin>: stdin is closed")
        raw = sys.stdin.buffer
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        if digest is not None:
            raw = _HashingReader(raw, digest)
        if head == GZIP_MAGIC:
            guard = _GzipGuard(raw, source.name, None)
            yield guard
        else:
            yield raw
        return
    try:
        fh = open(source.path, "rb")
    except IsADirectoryError:
        raise InputError(f"{source.name}: is a directory, expected a file") from None
    except FileNotFoundError:
        raise InputError(f"{source.name}: no such file or directory") from None
    except PermissionError:
        raise InputError(f"{source.name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{source.name}: cannot open ({exc.strerror})") from None
    try:
        head = fh.peek(2)[:2] if hasattr(fh, "peek") else b""
        size = os.fstat(fh.fileno()).st_size
        raw = fh if digest is None else _HashingReader(fh, digest)
        if head == GZIP_MAGIC:
            guard = _GzipGuard(raw, source.name, size)
            try:
                yield guard
            finally:
                guard.close()
        else:
            yield raw
    finally:
        fh.close()
