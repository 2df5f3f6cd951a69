"""The sha256 of an input: taken while it is read (a Digest), or by reading a file again."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from .sources import Source


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


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 of a regular file, read a second time. For an input that is also read
    for its lines, pass a Digest to iter_source_lines instead (one read: FIFOs, '-')."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
