"""JSON lines in, JSON lines out: {"id", "text"} -> {"id", "summary", "scores"}."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from ..core.errors import InputError, SeqtoolError
from ..core.io import Source, iter_json_records
from .inputs import in_shard, parse_shard
from .options import SummaryOptions
from .pipeline import summarize_text
from .parallel import ordered_map, worker_state


@dataclass
class JsonlResult:
    records: int = 0
    failed: list = field(default_factory=list)  # messages


def _records(sources: Iterable[Source], encoding: str, errors: str) -> Iterator[tuple]:
    """(where, id, text, None) per non-blank line, or (where, None, None, error message)."""
    for record in iter_json_records(sources, encoding=encoding, errors=errors):
        yield record.where, record.id, record.text, record.error


def _summarize_record(item: tuple) -> tuple:
    where, ident, text, error = item
    if error is not None:
        return None, error
    st = worker_state()
    try:
        # A string id is the document's name: "page.html" is reduced to its text under --format auto.
        name = ident if isinstance(ident, str) else None
        summary = summarize_text(text, st["options"], st.get("vectors"), name=name)
    except SeqtoolError as exc:
        return None, f"{where}: {exc.message}"
    return summary.to_json(id=ident), None


def summarize_jsonl(sources: list[Source], options: SummaryOptions, *, jobs: int = 1,
                    shard: Optional[str] = None, encoding: str = "utf-8", errors: str = "strict",
                    vectors=None) -> Iterator[tuple[Optional[dict], Optional[str]]]:
    """Yield (output record, None) or (None, error message) per input record, in input order."""
    spec = parse_shard(shard)
    items = (r for r in _records(sources, encoding, errors)
             if spec is None or in_shard(r[0] if r[3] else json.dumps(r[1], sort_keys=True), spec))
    state = {"options": options, "vectors": vectors}
    yield from ordered_map(_summarize_record, items, jobs=jobs, state=state, chunk=32)


def check_failures(result: JsonlResult) -> None:
    if result.failed:
        raise InputError(f"{len(result.failed)} of {result.records} record(s) failed (reported above)")
