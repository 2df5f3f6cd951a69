"""What `seqtool summarize` does, as library calls: the CLI parses, calls one of
these, and prints what comes back. Every file write of summarize happens below
this module (batch summaries and their state); the other modes only return data.

    documents(sources, options)          -> DocumentSummary per input   (plain mode)
    folder(inputs, out_dir, options)     -> BatchResult                 (--out-dir)
    records(sources, options)            -> RecordSummary per JSON line (--jsonl)
    evaluation(inputs, refs, options)    -> EvalRow per document        (--eval)

Every JSON record has one shape, `Summary.to_json(id=...)`:
{"id", "summary", "scores", "indices", "sentences"} (+ "keywords").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from ..core.io import Digest, Source, read_text
from .batch import BatchResult, run_batch
from .options import Summary, SummaryOptions
from .pipeline import summarize_text


@dataclass
class DocumentSummary:
    name: str          # the input as errors and `==> name <==` show it
    summary: Summary
    sha256: str        # of the input's bytes, computed in the one read

    def to_json(self) -> dict:
        return self.summary.to_json(id=self.name)


@dataclass
class RecordSummary:
    """One JSON-lines record: its output record, or the error that stopped it."""

    record: Optional[dict]
    error: Optional[str]


@dataclass
class EvalRow:
    document: Optional[str]
    scores: Optional[dict]
    error: Optional[str]


def documents(sources: Iterable[Source], options: SummaryOptions, *, encoding: str = "utf-8",
              errors: str = "strict", vectors=None) -> Iterator[DocumentSummary]:
    """Summarize each input (a file, a FIFO or stdin: each read once, streamed)."""
    for source in sources:
        digest = Digest()
        text = read_text(source, encoding=encoding, errors=errors, digest=digest)
        yield DocumentSummary(source.name, summarize_text(text, options, vectors, name=source.name),
                              digest.hexdigest())


def folder(inputs: list[str], out_dir: str, options: SummaryOptions, *, jobs: int = 1, incremental: bool = False,
           shard: Optional[str] = None, as_json: bool = False, encoding: str = "utf-8", errors: str = "strict",
           vectors=None) -> BatchResult:
    """One summary file per input under `out_dir` (see batch.run_batch): the counts and seconds."""
    return run_batch(inputs, out_dir, options, jobs=jobs, incremental=incremental, shard=shard,
                     as_json=as_json, encoding=encoding, errors=errors, vectors=vectors)


def records(sources: list[Source], options: SummaryOptions, *, jobs: int = 1, shard: Optional[str] = None,
            encoding: str = "utf-8", errors: str = "strict", vectors=None) -> Iterator[RecordSummary]:
    """`{"id", "text"}` lines in, one RecordSummary per record, in input order."""
    from .jsonl import summarize_jsonl

    for record, error in summarize_jsonl(sources, options, jobs=jobs, shard=shard, encoding=encoding,
                                         errors=errors, vectors=vectors):
        yield RecordSummary(record, error)


def evaluation(inputs: list[str], references: str, options: SummaryOptions, *, encoding: str = "utf-8",
               errors: str = "strict", vectors=None) -> Iterator[EvalRow]:
    """ROUGE-1/2/L F1 per document against the reference with the same relative name."""
    from .evaluate import evaluate

    for name, scores, error in evaluate(inputs, references, options, encoding=encoding, errors=errors,
                                        vectors=vectors):
        yield EvalRow(name, scores, error)
