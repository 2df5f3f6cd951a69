"""ROUGE-1/2/L F1 of our summaries against reference files with the same relative names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from ..core.errors import InputError, SeqtoolError, UsageError
from ..core.io import Source, read_text
from .inputs import collect_jobs
from .document import split_document
from .options import SummaryOptions
from .pipeline import summarize_text

METRICS = ("rouge1", "rouge2", "rougeL")
# Some references glue sentences together ("$10.9bn.For the full-year", BBC
# News Summary): a sentence end running straight into a capital gets its space.
_GLUED = re.compile(r"([a-z0-9%)\]][.!?]['\"\u2019\u201d]?)(?=[A-Z\"\u201c\u2018])")


def unglue(text: str) -> str:
    return _GLUED.sub(r"\1 ", text)


@lru_cache(maxsize=1)
def _scorer():
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise UsageError("--eval needs the rouge-score package: pip install 'seqtool[eval]'") from None
    return rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)


def rouge(reference: str, summary: str) -> dict:
    """F1 per metric, with rouge-score's Porter stemming."""
    scores = _scorer().score(reference, summary)
    return {m: scores[m].fmeasure for m in METRICS}


@dataclass
class EvalResult:
    rows: list = field(default_factory=list)  # (name, {metric: F1})
    failed: list = field(default_factory=list)

    def mean(self) -> dict:
        n = max(1, len(self.rows))
        return {m: sum(r[m] for _, r in self.rows) / n for m in METRICS}


def evaluate(specs: list[str], references: str, options: SummaryOptions, *, encoding: str = "utf-8",
             errors: str = "strict", vectors=None) -> Iterator[tuple[str, Optional[dict], Optional[str]]]:
    """Yield (name, scores, None) or (name, None, error) per input document.

    Without -n/--ratio/--words each summary has as many sentences as its
    reference (the usual protocol for extractive references).
    """
    ref_dir = Path(references)
    if not ref_dir.is_dir():
        raise InputError(f"{references}: reference folder not found")
    _scorer()
    fixed_size = any(v is not None for v in (options.sentences, options.ratio, options.words))
    for job in collect_jobs(specs, ref_dir / ".seqtool-no-output"):
        ref_path = ref_dir / job.rel
        try:
            if not ref_path.is_file():
                raise InputError(f"{job.path}: no reference {ref_path}")
            reference = unglue(read_text(Source(str(ref_path)), encoding=encoding, errors=errors).strip())
            text = read_text(Source(job.path), encoding=encoding, errors=errors)
            opts = options
            if not fixed_size:
                opts = replace(options, sentences=max(1, len(split_document(reference, "punkt", options.language))))
            summary = summarize_text(text, opts, vectors, name=str(job.path))
            yield job.rel, rouge(reference, " ".join(summary.sentences)), None
        except SeqtoolError as exc:
            yield job.rel, None, exc.message
