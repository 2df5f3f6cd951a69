"""Label a stream: one line in, one result out, in order.

Lines are gathered into chunks (up to 4096 lines or 16 MiB) for speed, but a
chunk is also flushed as soon as no more input is immediately available, so
`tail -f log | seqtool classify predict -` answers each line as it arrives.
"""

from __future__ import annotations

import os
import select
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch

from ..core.errors import InputError, UsageError
from ..core.readers import iter_source_lines
from ..core.sources import Source
from .logits import classifier_logits
from .store import Classifier
from .topk import ALL, check_k, select as select_top

CHUNK = 4096
CHUNK_BYTES = 16 << 20  # bounds memory when the lines are long


@dataclass
class Prediction:
    label: str | None  # None for an empty input line
    prob: float
    top: list[tuple[str, float]]


def probabilities(clf: Classifier, texts: list[str], device: str = "cpu") -> torch.Tensor:
    """(N, C) label probabilities of non-empty texts: a softmax over the labels, or for a
    one-vs-all (multi-label) model each label's own sigmoid, as fastText's predict-prob gives."""
    logits = classifier_logits(clf.model, clf.featurizer.encode(texts), device)
    return torch.sigmoid(logits) if getattr(clf.model.cfg, "multi_label", False) else torch.softmax(logits, dim=1)


def predict_texts(clf: Classifier, texts: list[str], top_k: int = 1, device: str = "cpu",
                  threshold: float | None = None) -> list[Prediction]:
    """Predictions for a list of texts (an empty text gets label None): the top_k most probable
    labels (-1: all), keeping those with probability >= threshold (fastText's predict-prob;
    a text may then get no label: label None, top [])."""
    check_k(top_k)
    keep = [i for i, t in enumerate(texts) if t.strip()]
    out = [Prediction(None, 0.0, []) for _ in texts]
    if not keep:
        return out
    probs = probabilities(clf, [texts[i] for i in keep], device)  # (N, C)
    labels = clf.labels
    if threshold is None:  # the fast path of every plain `predict`
        k = len(labels) if top_k == ALL else max(1, min(top_k, len(labels)))
        values, indices = probs.topk(k, dim=1)
        for i, row_values, row_indices in zip(keep, values.tolist(), indices.tolist()):
            top = [(labels[j], v) for v, j in zip(row_values, row_indices)]
            out[i] = Prediction(top[0][0], top[0][1], top)
        return out
    for i, row in zip(keep, probs.tolist()):
        top = [(labels[j], v) for j, v in select_top(row, top_k, threshold)]
        out[i] = Prediction(top[0][0] if top else None, top[0][1] if top else 0.0, top)
    return out


def _stdin_fd() -> int | None:
    try:
        fd = sys.stdin.buffer.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd


def _decode(raw: bytes, lineno: int, name: str, encoding: str, errors: str) -> str:
    try:
        text = raw.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: invalid {exc.encoding} at line {lineno}; use --encoding or --errors replace") from None
    except LookupError:
        raise UsageError(f"unknown encoding: {encoding}") from None
    return text[:-1] if text.endswith("\r") else text


def _fd_chunks(fd: int, name: str, encoding: str, errors: str, size: int) -> Iterator[list[str]]:
    """Chunks of lines from a file descriptor, flushed whenever reading would block."""
    buf = b""
    pending: list[str] = []
    lineno = held = 0
    while True:
        if pending and not select.select([fd], [], [], 0)[0]:
            yield pending
            pending, held = [], 0
        data = os.read(fd, 1 << 16)
        if not data:
            break
        buf += data
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            lineno += 1
            pending.append(_decode(raw, lineno, name, encoding, errors))
            held += len(raw)
            if len(pending) >= size or held >= CHUNK_BYTES:
                yield pending
                pending, held = [], 0
    if buf:
        pending.append(_decode(buf, lineno + 1, name, encoding, errors))
    if pending:
        yield pending


def _chunked(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    held = 0
    for line in lines:
        chunk.append(line)
        held += len(line)
        if len(chunk) >= size or held >= CHUNK_BYTES:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def line_chunks(sources: list[Source], *, encoding: str = "utf-8", errors: str = "strict",
                size: int = CHUNK) -> Iterator[list[str]]:
    for source in sources:
        fd = _stdin_fd() if source.is_stdin else None
        if fd is not None:
            yield from _fd_chunks(fd, source.name, encoding, errors, size)
        else:
            yield from _chunked(iter_source_lines(source, encoding=encoding, errors=errors), size)


def predict_stream(clf: Classifier, sources: list[Source], *, top_k: int = 1, device: str = "cpu",
                   encoding: str = "utf-8", errors: str = "strict", size: int = CHUNK,
                   threshold: float | None = None) -> Iterator[list[Prediction]]:
    """Predictions chunk by chunk (a caller writing to a pipe should flush after each)."""
    for chunk in line_chunks(sources, encoding=encoding, errors=errors, size=size):
        yield predict_texts(clf, chunk, top_k, device, threshold)


def format_prediction(pred: Prediction, *, prob: bool, top_k: int, as_json: bool,
                      threshold: float | None = None) -> str | dict:
    several = top_k != 1 or threshold is not None  # a list of labels per line
    if as_json:
        obj: dict = {"label": pred.label, "prob": round(pred.prob, 6) if pred.label is not None else None}
        if several:
            obj["top"] = [{"label": lab, "prob": round(p, 6)} for lab, p in pred.top]
        return obj
    if pred.label is None:
        return ""
    items = pred.top if several else pred.top[:1]
    if prob:
        return "\t".join(f"{lab}\t{p:.4f}" for lab, p in items)
    return "\t".join(lab for lab, _ in items)
