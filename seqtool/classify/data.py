"""Labelled-text readers: TSV, CSV, JSON lines, fastText, label-first lines, a folder per label.

Every reader returns a `Dataset` (parallel lists of texts and labels) and fails
with one line naming the file, the line and the problem. `--format auto` picks a
format from the path (a folder, .tsv, .csv, .jsonl) or, for other files, from the
first lines: `__label__` prefixes mean fastText, `{` means JSON lines, a tab in
every line means TSV, and "LABEL text" lines (SST's `0 sentence`, TREC's
`COARSE:fine question`) are accepted only when the first words form a small,
clearly label-like set; anything else asks for `--format`.

Multi-label data is detected, not declared: fastText lines with several `__label__`
prefixes, a JSON label that is a list, or a label field holding `--label-sep` (`,` by
default: `sports,politics<TAB>text`). A data set with one such example is multi-label:
`Dataset.label_sets` then holds every example's labels, and `labels` the first of each
(what the stratified splits use).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..core.errors import InputError, UsageError
from ..core.digest import HashedSource, sha256_of
from ..core.jsonlines import json_records
from ..core.readers import iter_source_lines, read_text
from ..core.sources import Source, expand_inputs
from .columns import read_delimited, read_tsv
from .dataset import FORMATS, LABEL_NAMES, LABEL_SEP, TEXT_NAMES, Dataset, ReadOptions, split_labels

__all__ = ["FORMATS", "LABEL_NAMES", "LABEL_SEP", "TEXT_NAMES", "Dataset", "ReadOptions", "split_labels",
           "read_dataset", "detect_format", "check_trainable", "read_text_lines"]

FASTTEXT_PREFIX = "__label__"
_SNIFF_LINES = 2000
_LABELISH = re.compile(r"^[A-Za-z0-9_+\-]+(:[^\s]+)?$")


def read_dataset(path: str, opts: ReadOptions | None = None) -> Dataset:
    """Read labelled examples from a file, a folder per label, or '-'."""
    opts = opts or ReadOptions()
    fmt = opts.format
    p = Path(path)
    if fmt == "folder" or (fmt == "auto" and path != "-" and p.is_dir()):
        return _read_folder(path, opts)
    if path != "-" and p.is_dir():
        raise InputError(f"{path}: is a directory; use --format folder (one subfolder per label)")
    (source,) = expand_inputs([path])
    source = HashedSource(source.path)
    data = _read_file(source, fmt, path, opts)
    data.sha256 = source.digest.hexdigest() if source.digest.complete else None
    return data


def _read_file(source: Source, fmt: str, path: str, opts: ReadOptions) -> Dataset:
    if fmt == "auto":
        lines = list(iter_source_lines(source, encoding=opts.encoding, errors=opts.errors))
        fmt = detect_format(path, lines, opts)
        if fmt not in ("csv",):
            return _parse_lines(fmt, lines, source.name, opts)
        return read_delimited(read_text_lines(lines), source.name, ",", opts)
    if fmt == "csv":
        return read_delimited(read_text(source, encoding=opts.encoding, errors=opts.errors), source.name, ",", opts)
    lines = iter_source_lines(source, encoding=opts.encoding, errors=opts.errors)
    return _parse_lines(fmt, lines, source.name, opts)


def read_text_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _parse_lines(fmt: str, lines, name: str, opts: ReadOptions) -> Dataset:
    if fmt == "fasttext":
        return _read_fasttext(lines, name)
    if fmt == "jsonl":
        return _read_jsonl(lines, name, opts)
    if fmt == "space":
        return _read_space(lines, name, opts)
    if fmt == "tsv":
        return read_tsv(lines, name, opts)
    raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def detect_format(path: str, lines: list[str], opts: ReadOptions) -> str:
    suffix = Path(path).suffix.lower() if path != "-" else ""
    by_suffix = {".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    head = [line for line in lines[:_SNIFF_LINES] if line.strip()]
    if not head:
        raise InputError(f"{path}: no labelled examples (the file is empty)")
    if all(line.lstrip().startswith(FASTTEXT_PREFIX) for line in head):
        return "fasttext"
    if all(line.lstrip().startswith("{") for line in head):
        return "jsonl"
    if all("\t" in line for line in head):
        return "tsv"
    if opts.text_col is not None or opts.label_col is not None:
        return "csv"
    if _looks_label_first(head):
        return "space"
    raise InputError(f"{path}: cannot tell the data format from its first lines; "
                     f"pass --format tsv, csv, jsonl, fasttext or space")


def _looks_label_first(lines: list[str]) -> bool:
    """'LABEL text' lines: every first word label-like, few distinct ones, each used several times."""
    firsts = []
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) < 2 or not _LABELISH.match(parts[0]):
            return False
        firsts.append(parts[0])
    distinct = len(set(firsts))
    return len(lines) >= 10 and distinct >= 2 and distinct <= min(100, len(lines) // 5)


def _read_fasttext(lines, name: str) -> Dataset:
    data = Dataset(origin=name)
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        words = line.split()
        labels = []
        while words and words[0].startswith(FASTTEXT_PREFIX):
            labels.append(words.pop(0)[len(FASTTEXT_PREFIX):])
        where = f"{name}: line {lineno}"
        if not labels:
            raise InputError(f"{where}: no label (expected '{FASTTEXT_PREFIX}LABEL text')")
        data.add(" ".join(words), labels, where)  # several __label__ prefixes: multi-label
    return data


def _read_space(lines, name: str, opts: ReadOptions | None = None) -> Dataset:
    sep = (opts or ReadOptions()).label_sep
    data = Dataset(origin=name)
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        where = f"{name}: line {lineno}"
        if len(parts) < 2:
            raise InputError(f"{where}: no text after the label (expected 'LABEL text')")
        data.add(parts[1], split_labels(parts[0], sep), where)
    return data


def _pick(value: object, where: str, what: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise InputError(f"{where}: {what} must be a string or a number, not {type(value).__name__}")


def _read_jsonl(lines, name: str, opts: ReadOptions) -> Dataset:
    data = Dataset(origin=name)
    text_key, label_key = opts.text_col, opts.label_col
    for record in json_records(lines, name, text_key=None):  # the one JSON-lines reader (core/jsonlines)
        if record.error:
            raise InputError(record.error)
        obj, where = record.data, f"{name}: line {record.lineno}"
        if text_key is None:
            text_key = next((k for k in TEXT_NAMES if k in obj), None)
            if text_key is None:
                raise InputError(f"{where}: no text field (tried {', '.join(TEXT_NAMES)}; use --text-col)")
        if label_key is None:
            label_key = next((k for k in LABEL_NAMES if k in obj), None)
            if label_key is None:
                raise InputError(f"{where}: no label field (tried {', '.join(LABEL_NAMES)}; use --label-col)")
        if label_key not in obj or obj[label_key] is None:
            raise InputError(f"{where}: no label field {label_key!r}")
        if text_key not in obj or obj[text_key] is None:
            raise InputError(f"{where}: no text field {text_key!r}")
        value = obj[label_key]
        if isinstance(value, list):  # {"labels": ["a", "b"]}: multi-label
            if not value:
                raise InputError(f"{where}: empty label list")
            label = [_pick(v, where, "label") for v in value]
        else:
            label = split_labels(_pick(value, where, "label"), opts.label_sep)
        data.add(_pick(obj[text_key], where, "text"), label, where)
    return data


def _read_folder(path: str, opts: ReadOptions) -> Dataset:
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{path}: --format folder needs a directory with one subfolder per label")
    data = Dataset(origin=path)
    labels = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not labels:
        raise InputError(f"{path}: no label subfolders (expected {path}/LABEL/*.txt)")
    digests = {}
    for folder in labels:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            source = HashedSource(str(file))
            text = read_text(source, encoding=opts.encoding, errors=opts.errors)
            digests[file] = source.digest.hexdigest()
            data.add(" ".join(text.split()), folder.name, str(file))
    if not data.texts:
        raise InputError(f"{path}: the label subfolders contain no files")
    # The fingerprint of every file below the folder (hidden ones too, read only to hash them).
    h = hashlib.sha256()
    for file in sorted(x for x in root.rglob("*") if x.is_file()):
        h.update(f"{file.relative_to(root)}\0{digests.get(file) or sha256_of(file)}\n".encode())
    data.sha256 = h.hexdigest()
    return data


def check_trainable(data: Dataset) -> None:
    classes = data.classes()
    if len(data) == 0:
        raise InputError(f"{data.origin}: no labelled examples")
    if len(classes) < 2:
        raise InputError(f"{data.origin}: only one class ({classes[0]!r}); a classifier needs at least two")
