"""Input readers and atomic writers.

Inputs are paths, `-` (stdin), directories (read recursively, sorted) or glob
patterns; `.gz` files are decompressed transparently (detected by their magic
bytes). Text is streamed line by line, never read into one string, and every
decoding problem names the file and the byte offset.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import hashlib
import json
import os
import re
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import InputError, StoreError, UsageError

# A single line longer than this is refused rather than read into memory.
MAX_LINE_BYTES = int(os.environ.get("SEQTOOL_MAX_LINE_BYTES", 16 * 1024 * 1024))
# A .gz input may expand to at most this many times its compressed size once it
# has produced 1 GiB (gzip bombs expand ~1000x; real text compresses ~3-10x).
MAX_GZIP_RATIO = 200
GZIP_RATIO_FLOOR = 1 << 30
STDIN = "-"
# Every temp file seqtool writes beside an output starts with this: stale-temp
# cleanup removes only names of this shape, never another program's `.x.tmp`.
TEMP_PREFIX = ".seqtool-tmp-"
TEMP_SUFFIX = ".tmp"


def display_name(path: str) -> str:
    """A path as text that can always be printed or put in JSON: bytes that are not
    UTF-8 (kept by Python as surrogate escapes) are shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Source:
    """One input: a file path or stdin (`-`). `name` is what errors show."""

    path: str

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == STDIN else display_name(self.path)

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


def _has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def expand_inputs(specs: Iterable[str], *, allow_stdin: bool = True) -> list[Source]:
    """Turn command-line inputs into a list of readable sources.

    Directories expand to every non-hidden file below them (sorted), globs to
    their sorted matches. A missing path or an empty glob is an InputError.
    """
    sources: list[Source] = []
    for spec in specs:
        if spec == STDIN:
            if not allow_stdin:
                raise InputError("reading from stdin ('-') is not supported here")
            sources.append(Source(STDIN))
            continue
        path = Path(spec)
        if path.is_dir():
            found = directory_files(path)
            if not found:
                raise InputError(f"{spec}: directory contains no files")
            sources.extend(Source(str(path / rel)) for rel in found)
        elif path.exists():
            if not path.is_file() and not _is_readable_special(path):
                raise InputError(f"{spec}: not a regular file")
            sources.append(Source(spec))
        elif _has_magic(spec):
            matches = sorted(m for m in glob.glob(spec, recursive=True) if os.path.isfile(m))
            if not matches:
                raise InputError(f"{spec}: no files match this pattern")
            sources.extend(Source(m) for m in matches)
        else:
            raise InputError(f"{spec}: no such file or directory")
    return sources


def directory_files(path: str | os.PathLike) -> list[str]:
    """The files below `path` (links to files included, no hidden file or folder, links to
    folders not entered), relative to it, sorted as Paths sort (part by part): what
    sorted(Path.rglob("*")) filtered that way gives, at os.walk's cost instead of pathlib's."""
    top = os.fspath(path)
    found: list[str] = []
    for root, dirs, files in os.walk(top, onerror=_unless_permission):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_root = root[len(top):].lstrip(os.sep)
        for name in files:
            if not name.startswith(".") and os.path.isfile(os.path.join(root, name)):
                found.append(os.path.join(rel_root, name) if rel_root else name)
    found.sort(key=lambda rel: rel.split(os.sep))
    return found


def _unless_permission(exc: OSError) -> None:
    # rglob skipped an unreadable folder and raised on any other error: so do we.
    if not isinstance(exc, PermissionError):
        raise exc


def _is_readable_special(path: Path) -> bool:
    # Named pipes and /dev/stdin-like character devices are fine to stream.
    import stat

    mode = path.stat().st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


class Digest:
    """The sha256 of a source's bytes (as stored: a .gz is hashed compressed, like
    sha256_of), computed while the source is read, so it is read once. Pass one to
    iter_source_lines (or read_text); `hexdigest()` is valid once the lines are exhausted."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0
        self.complete = False

    def update(self, block: bytes) -> None:
        self._hash.update(block)
        self.size += len(block)

    def hexdigest(self) -> str:
        if not self.complete:
            raise RuntimeError("Digest.hexdigest() before the source was read to its end")
        return self._hash.hexdigest()


@dataclass(frozen=True)
class HashedSource(Source):
    """A Source whose first read to the end feeds its `digest` (for readers that take Sources,
    such as lm/data.build_corpus): `source.digest.hexdigest()` afterwards, with no second read.
    Later reads of it are not hashed again."""

    digest: Digest = field(default_factory=Digest, compare=False, repr=False)


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
        if head == b"\x1f\x8b":
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
        if head == b"\x1f\x8b":
            guard = _GzipGuard(raw, source.name, size)
            try:
                yield guard
            finally:
                guard.close()
        else:
            yield raw
    finally:
        fh.close()


def iter_source_lines(
    source: Source,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    keep_newlines: bool = False,
    max_line_bytes: int | None = None,
    digest: Digest | None = None,
) -> Iterator[str]:
    """Stream the lines of one source as str, CRLF and LF alike.

    Lines are returned without their line ending unless keep_newlines, in
    which case every line ends with exactly "\\n" (except possibly the last).
    With `digest`, the source's sha256 is computed in the same single read
    (FIFOs and stdin work: nothing is opened twice).
    """
    limit = max_line_bytes or MAX_LINE_BYTES
    offset = 0
    lineno = 0
    if digest is None and isinstance(source, HashedSource) and source.digest.size == 0 \
            and not source.digest.complete:
        digest = source.digest
    with open_binary(source, digest) as fh:
        while True:
            raw = fh.readline(limit + 1)
            if not raw:
                break
            lineno += 1
            # NUL first: /dev/zero or a sparse file is binary data, not a long line.
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise InputError(f"{source.name}: binary data (NUL byte) at byte {offset + nul}; expected text")
            if len(raw) > limit:
                raise InputError(
                    f"{source.name}: line {lineno} is longer than {limit >> 20} MiB "
                    f"(SEQTOOL_MAX_LINE_BYTES raises the limit)"
                )
            try:
                text = raw.decode(encoding, errors)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source.name}: invalid {exc.encoding} at byte {offset + exc.start} (line {lineno}); "
                    f"use --encoding or --errors replace"
                ) from None
            except LookupError:
                raise InputError(f"unknown encoding: {encoding}") from None
            offset += len(raw)
            has_nl = text.endswith("\n")
            text = text.rstrip("\n")
            if text.endswith("\r"):
                text = text[:-1]
            if keep_newlines and has_nl:
                text += "\n"
            yield text
        if digest is not None:  # readline gave b"": every stored byte went through the digest
            digest.complete = True


def iter_lines(sources: Iterable[Source], **kwargs) -> Iterator[str]:
    """The lines of several sources, one after another."""
    for source in sources:
        yield from iter_source_lines(source, **kwargs)


def read_text(source: Source, *, encoding: str = "utf-8", errors: str = "strict",
              max_line_bytes: int | None = None, digest: Digest | None = None) -> str:
    """A whole (document-sized) source as one string with LF line endings."""
    text = _read_small_file(source, encoding, errors, max_line_bytes, digest)
    if text is not None:
        return text
    return "".join(iter_source_lines(source, keep_newlines=True, encoding=encoding, errors=errors,
                                     max_line_bytes=max_line_bytes, digest=digest))


SMALL_FILE_BYTES = 1 << 20
# Encodings in which a byte 0x0A is always a whole "\n" (never inside a character) and that
# keep no state between lines: decoding the whole file equals decoding it line by line.
_LINEWISE_ENCODINGS = frozenset({"utf-8", "ascii", "iso8859-1", "cp1252", "latin-1"})


def _read_small_file(source: Source, encoding: str, errors: str, max_line_bytes: int | None,
                     digest: Digest | None) -> str | None:
    """read_text of a small regular file in one read and one decode, or None where that
    could differ from the line-by-line reader (gzip, NUL, a decoding error, an encoding
    with state, a file over SMALL_FILE_BYTES): that reader then decides, errors included."""
    if source.is_stdin or isinstance(source, HashedSource):
        return None
    import codecs
    import stat

    try:
        if codecs.lookup(encoding).name not in _LINEWISE_ENCODINGS:
            return None
        # stat before open: opening a FIFO would consume its one writer (the line reader owns those)
        if not stat.S_ISREG(os.stat(source.path).st_mode):
            return None
        with open(source.path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None  # pragma: no cover - replaced by a special file between stat and open
            data = fh.read(SMALL_FILE_BYTES + 1)
    except (OSError, LookupError):
        return None
    if len(data) > min(SMALL_FILE_BYTES, max_line_bytes or MAX_LINE_BYTES) or data[:2] == b"\x1f\x8b" \
            or b"\x00" in data:
        return None
    try:
        text = data.decode(encoding, errors)
    except UnicodeDecodeError:
        return None
    if digest is not None:
        digest.update(data)
        digest.complete = True
    # The line reader's endings: CRLF -> LF, and a last line without LF loses one CR.
    text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\r") else text


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 of a regular file, read a second time. For an input that is also read
    for its lines, pass a Digest to iter_source_lines instead (one read: FIFOs, '-')."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Write to a temp file beside `path`, fsync, then rename over it.

    On any error the temp file is removed and `path` is left as it was.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
        os.fchmod(fd, _default_mode(path))
    except OSError as exc:
        if tmp is not None:
            _unlink_quietly(tmp)
        raise StoreError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:  # Ctrl-C or SIGTERM right after the temp file was made
        if tmp is not None:
            _unlink_quietly(tmp)
        raise
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding, "newline": "\n"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(directory)
    except OSError as exc:
        _unlink_quietly(tmp)
        if exc.errno is not None and exc.strerror:
            raise StoreError(f"{path}: write failed ({exc.strerror}); the previous file is untouched") from None
        raise
    except BaseException:
        _unlink_quietly(tmp)
        raise


# mkstemp's random part: 8 characters of [a-z0-9_].
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r".*\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$", re.S)


def is_seqtool_temp(name: str) -> bool:
    """True for the name of a temp file that atomic_write made (and only for those)."""
    return bool(_TEMP_NAME.match(name))


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Remove atomic_write's temp files left in `folder` (not below it) by a killed run.

    Call it only on a folder seqtool writes and while holding the lock that keeps
    other seqtool writers out. Other programs' files (`.x.tmp`) are never touched."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if is_seqtool_temp(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _default_mode(path: Path) -> int:
    """Keep the permissions of the file being replaced, else the umask's default
    (mkstemp's 0600 would make outputs private by surprise)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


def check_output_path(path: str | os.PathLike, *, inputs: Iterable[Source] = (), option: str = "output",
                      suffixes: Iterable[str] | None = None) -> Path:
    """Refuse, before any work, an output that cannot be written or would replace an input.

    Checks: the parent folder exists and is a writable folder, the path is not a folder,
    it is not the same file (device and inode) as any of `inputs`, and its suffix is one of
    `suffixes` when given. '-' is not a path here: callers that accept stdout handle it first.
    """
    out = Path(path)
    if str(path) in ("", STDIN):
        raise UsageError(f"{option}: give a file name ('-' is not accepted here)")
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        if out.suffix.lower() not in allowed:
            raise UsageError(f"{option} {out}: unsupported file type {out.suffix or '(none)'!r} "
                             f"(use {', '.join(allowed)})")
    if out.is_dir():
        raise UsageError(f"{option} {out}: is a directory")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {out}: folder {parent} is not writable")
    try:
        st = out.stat()
    except OSError:
        return out
    for source in inputs:
        if source.is_stdin:
            continue
        try:
            other = os.stat(source.path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            raise UsageError(f"{option} {out}: is the input {source.name}; choose another output file")
    return out


# ---------------------------------------------------------------- JSON lines
@dataclass(frozen=True)
class JsonRecord:
    """One non-blank line of a JSON-lines input: the parsed object, or why it is not one."""

    source: str                  # the input's display name
    lineno: int
    data: dict | None            # None when `error` says what is wrong
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lineno}"

    @property
    def id(self) -> object:
        """The record's "id", or its line number when it has none."""
        return self.data.get("id", self.lineno) if self.data is not None else None

    @property
    def text(self) -> str | None:
        return self.data.get("text") if self.data is not None else None


def iter_json_records(sources: Iterable[Source], *, encoding: str = "utf-8", errors: str = "strict",
                      text_key: str | None = "text") -> Iterator[JsonRecord]:
    """The one reader of `{"id", "text"}` JSON lines: a JsonRecord per non-blank line.

    A line that is not a JSON object (or, when `text_key` is given, lacks a string
    under it) comes back with `error` set, so callers decide whether to skip it or
    stop; an unreadable input (bad encoding, a giant line) raises InputError."""
    for source in sources:
        yield from json_records(iter_source_lines(source, encoding=encoding, errors=errors), source.name,
                                text_key=text_key)


def json_records(lines: Iterable[str], name: str, *, text_key: str | None = "text") -> Iterator[JsonRecord]:
    """iter_json_records over lines already read from input `name` (e.g. kept to sniff a format)."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield JsonRecord(name, lineno, None, f"{where}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield JsonRecord(name, lineno, None, f"{where}: expected a JSON object")
            continue
        if text_key is not None and not isinstance(obj.get(text_key), str):
            yield JsonRecord(name, lineno, None, f'{where}: expected an object with a string "{text_key}"')
            continue
        yield JsonRecord(name, lineno, obj)
