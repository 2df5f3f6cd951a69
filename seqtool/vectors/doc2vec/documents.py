"""Reading documents for doc2vec: one per line (id: the line number), one per file of a folder
(id: the path inside the folder) or JSONL {"id", "text"} records (id: "id", else the line number)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ...core.errors import InputError, UsageError
from ...core.jsonlines import iter_json_records
from ...core.readers import iter_source_lines, read_text
from ...core.sources import Source, expand_inputs

LAYOUTS = ("auto", "lines", "files", "jsonl")


@dataclass
class Document:
    id: str
    text: str
    where: str  # "file:line" or the file, for error messages


def read_documents(specs: Sequence[str], *, layout: str = "auto", encoding: str = "utf-8",
                   errors: str = "strict") -> list[Document]:
    """The documents of `specs` (files, folders, globs, '-'). layout "auto": a folder is one
    document per file, a .jsonl / .jsonl.gz file JSONL records, anything else one per line."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown document layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    kwargs = {"encoding": encoding, "errors": errors}
    groups = []  # (how, [sources], folder the ids are relative to)
    for spec in specs:
        how = layout
        if how == "auto":
            how = "files" if Path(spec).is_dir() else "jsonl" if spec.endswith((".jsonl", ".jsonl.gz")) else "lines"
        groups.append((how, expand_inputs([spec]), Path(spec) if Path(spec).is_dir() else None))
    prefix = sum(len(sources) for how, sources, _ in groups if how != "files") > 1
    docs: list[Document] = []
    for how, sources, folder in groups:
        for source in sources:
            if how == "files":
                ident = Path(source.path).relative_to(folder).as_posix() if folder else Path(source.path).name
                docs.append(Document(ident, read_text(source, **kwargs), source.name))
            else:
                docs.extend(_line_documents(source, how == "jsonl", prefix, kwargs))
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.id in seen:
            raise InputError(f"{doc.where}: document id {doc.id!r} repeats the one at {seen[doc.id]}")
        seen[doc.id] = doc.where
    if not docs:
        raise UsageError(f"{', '.join(specs) or 'the input'}: no documents (the input is empty or blank)")
    return docs


def _line_documents(source: Source, jsonl: bool, prefix: bool, kwargs: dict) -> Iterable[Document]:
    """One document per non-blank line; blank lines keep their number, so ids are file lines."""
    if jsonl:
        for record in iter_json_records([source], **kwargs):  # the one {"id", "text"} reader
            if record.error:
                raise InputError(record.error)
            ident = record.id
            if not isinstance(ident, (str, int)) or isinstance(ident, bool):
                raise InputError(f'{record.where}: "id" must be a string or an integer')
            # A line number names a document only within its file; a record's own id is used as it is.
            own_id = "id" in record.data
            yield Document(f"{source.name}:{ident}" if prefix and not own_id else str(ident), record.text, record.where)
        return
    for lineno, line in enumerate(iter_source_lines(source, **kwargs), 1):
        if line.strip():
            ident = str(lineno)
            yield Document(f"{source.name}:{ident}" if prefix else ident, line, f"{source.name}:{lineno}")
