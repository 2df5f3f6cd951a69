"""Reading text from sources: streamed line by line, never read into one string (except a
document-sized read_text), every decoding problem naming the file and the byte offset."""

from __future__ import annotations

import os
from typing import Iterable, Iterator

from .binary import GZIP_MAGIC, open_binary
from .digest import Digest, HashedSource
from .errors import InputError
from .sources import Source

# A single line longer than this is refused rather than read into memory.
MAX_LINE_BYTES = int(os.environ.get("SEQTOOL_MAX_LINE_BYTES", 16 * 1024 * 1024))


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
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None  # pragma: no cover - replaced by a special file between stat and open
            # Its size, plus one byte to see growth: no 1 MB buffer made and shrunk per file
            # (buffered: a short read of the raw file is retried, never taken for the end).
            size = min(info.st_size, SMALL_FILE_BYTES)
            data = fh.read(size + 1)
    except (OSError, LookupError):
        return None
    if len(data) > min(size, max_line_bytes or MAX_LINE_BYTES) or data[:2] == GZIP_MAGIC or b"\x00" in data:
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
