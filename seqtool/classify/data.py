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

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError, UsageError
from ..core.io import HashedSource, Source, expand_inputs, iter_source_lines, json_records, read_text, sha256_of

FORMATS = ("auto", "tsv", "csv", "jsonl", "fasttext", "space", "folder")
LABEL_SEP = ","  # between the labels of one example in a TSV/CSV/JSON/space label field
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y", "polarity", "intent")
TEXT_NAMES = ("text", "sentence", "review", "content", "document", "question", "body", "utterance", "x")
FASTTEXT_PREFIX = "__label__"
_SNIFF_LINES = 2000
_LABELISH = re.compile(r"^[A-Za-z0-9_+\-]+(:[^\s]+)?$")
# csv's default field limit (128 KiB) is too small for whole documents.
csv.field_size_limit(2**31 - 1)


@dataclass
class Dataset:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    origin: str = ""
    # sha256 of the file read (hashed while reading it: FIFOs and '-' too), or of a folder's
    # (path, sha256) list; None for a part of a data set
    sha256: str | None = None
    # every example's labels once any example has several (multi-label data); None otherwise
    label_sets: list[tuple[str, ...]] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, label: str | list[str] | tuple[str, ...], where: str) -> None:
        """One example; `label` a label or a list of them (a repeated one counts once)."""
        found = tuple(dict.fromkeys(x.strip() for x in ([label] if isinstance(label, str) else label)))
        if not found or not all(found):
            raise InputError(f"{where}: empty label")
        if not text.strip():
            raise InputError(f"{where}: empty text (label {found[0]!r})")
        if len(found) > 1 and self.label_sets is None:
            self.label_sets = [(x,) for x in self.labels]
        self.texts.append(text)
        self.labels.append(found[0])
        if self.label_sets is not None:
            self.label_sets.append(found)

    @property
    def multi_label(self) -> bool:
        return self.label_sets is not None

    def gold(self) -> list[tuple[str, ...]]:
        """Every example's labels (one each for single-label data)."""
        return self.label_sets if self.label_sets is not None else [(x,) for x in self.labels]

    def subset(self, indices) -> "Dataset":
        indices = list(indices)
        sets = [self.label_sets[i] for i in indices] if self.label_sets is not None else None
        return Dataset([self.texts[i] for i in indices], [self.labels[i] for i in indices], self.origin,
                       label_sets=sets)

    def classes(self) -> list[str]:
        if self.label_sets is not None:
            return sorted({x for labels in self.label_sets for x in labels})
        return sorted(set(self.labels))


@dataclass
class ReadOptions:
    format: str = "auto"
    text_col: str | None = None
    label_col: str | None = None
    header: bool | None = None  # None: decide from the columns / first row
    encoding: str = "utf-8"
    errors: str = "strict"
    label_sep: str | None = LABEL_SEP  # splits a label field into several labels (None or "": never)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise UsageError(f"unknown format {self.format!r} (choose from {', '.join(FORMATS)})")


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
        return _read_delimited(read_text_lines(lines), source.name, ",", opts)
    if fmt == "csv":
        return _read_delimited(read_text(source, encoding=opts.encoding, errors=opts.errors), source.name, ",", opts)
    lines = iter_source_lines(source, encoding=opts.encoding, errors=opts.errors)
    return _parse_lines(fmt, lines, source.name, opts)


def read_text_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def split_labels(field: str, sep: str | None) -> str | list[str]:
    """'a,b' -> ['a', 'b'] (with sep ','); a field without sep stays one label."""
    return field.split(sep) if sep and sep in field else field


def _parse_lines(fmt: str, lines, name: str, opts: ReadOptions) -> Dataset:
    if fmt == "fasttext":
        return _read_fasttext(lines, name)
    if fmt == "jsonl":
        return _read_jsonl(lines, name, opts)
    if fmt == "space":
        return _read_space(lines, name, opts)
    if fmt == "tsv":
        return _read_tsv(lines, name, opts)
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
    for record in json_records(lines, name, text_key=None):  # the one JSON-lines reader (core/io)
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


def _read_tsv(lines, name: str, opts: ReadOptions) -> Dataset:
    # TSV is one record per line with no quoting (quotes are ordinary text, as in GLUE);
    # fields with tabs or newlines need CSV.
    rows = ((lineno, line.split("\t")) for lineno, line in enumerate(lines, 1) if line.strip())
    return _rows_to_dataset(rows, name, opts)


def _read_delimited(text: str, name: str, delimiter: str, opts: ReadOptions) -> Dataset:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

    def rows():
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
        except csv.Error as exc:
            raise InputError(f"{name}: line {reader.line_num}: malformed CSV ({exc})") from None

    return _rows_to_dataset(rows(), name, opts)


def _column(spec: str, header: list[str] | None, name: str, what: str) -> int:
    if header is not None and spec in header:
        return header.index(spec)
    if spec.isdigit():
        if int(spec) < 1:
            raise UsageError(f"--{what}-col {spec}: columns are numbered from 1")
        return int(spec) - 1
    columns = ", ".join(header) if header else "none (no header row)"
    raise InputError(f"{name}: {what} column {spec!r} does not exist (columns: {columns})")


def _rows_to_dataset(rows, name: str, opts: ReadOptions) -> Dataset:
    rows = iter(rows)
    first = next(rows, None)
    data = Dataset(origin=name)
    if first is None:
        raise InputError(f"{name}: no labelled examples (the file is empty)")
    first_line, first_row = first
    lowered = [c.strip().lower() for c in first_row]
    header = opts.header
    named = [s for s in (opts.text_col, opts.label_col) if s is not None and not s.isdigit()]
    if header is None:
        known = any(c in LABEL_NAMES for c in lowered) and any(c in TEXT_NAMES for c in lowered)
        header = bool(named) or (opts.text_col is None and opts.label_col is None and known)
    cols = [c.strip() for c in first_row] if header else None
    pending = [] if header else [first]

    if opts.label_col is not None:
        label_i = _column(opts.label_col, cols, name, "label")
    elif cols is not None:
        label_i = next((i for i, c in enumerate(lowered) if c in LABEL_NAMES), None)
        if label_i is None:
            raise InputError(f"{name}: no label column (columns: {', '.join(cols)}); use --label-col")
    else:
        label_i = None
    if opts.text_col is not None:
        text_i = _column(opts.text_col, cols, name, "text")
    elif cols is not None:
        text_i = next((i for i, c in enumerate(lowered) if c in TEXT_NAMES), None)
        if text_i is None:
            raise InputError(f"{name}: no text column (columns: {', '.join(cols)}); use --text-col")
    else:
        text_i = None
    if label_i is None or text_i is None:
        # No header and no columns given: two columns, the label is the one with
        # fewer distinct values (label<TAB>text and text<TAB>label both work).
        if len(first_row) != 2:
            raise InputError(f"{name}: {len(first_row)} columns and no header naming them; "
                             f"use --text-col and --label-col")
        pending.extend(rows)
        rows = iter(())
        distinct0 = len({r[0] for _, r in pending if len(r) > 0})
        distinct1 = len({r[1] for _, r in pending if len(r) > 1})
        label_i = label_i if label_i is not None else (0 if distinct0 <= distinct1 else 1)
        text_i = text_i if text_i is not None else 1 - label_i
    if header and cols is not None and max(label_i, text_i) >= len(cols):
        bad = "label" if label_i >= len(cols) else "text"
        raise InputError(f"{name}: {bad} column {max(label_i, text_i) + 1} does not exist "
                         f"(the header has {len(cols)} columns)")
    del first_line
    for lineno, row in _chain(pending, rows):
        where = f"{name}: line {lineno}"
        if label_i >= len(row):
            raise InputError(f"{where}: no label (only {len(row)} column{'s' if len(row) != 1 else ''})")
        if text_i >= len(row):
            raise InputError(f"{where}: no text (only {len(row)} column{'s' if len(row) != 1 else ''})")
        data.add(row[text_i], split_labels(row[label_i], opts.label_sep), where)
    return data


def _chain(first, rest):
    yield from first
    yield from rest


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
