"""The one reader of `{"id", "text"}` JSON-lines inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from .readers import iter_source_lines
from .sources import Source


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
