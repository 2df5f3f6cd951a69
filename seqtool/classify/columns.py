"""Labelled examples in columns: TSV (one record per line, no quoting) and CSV, with or without
a header row. The label and text columns are the ones --label-col / --text-col name, else the
header's label-like and text-like names, else (two columns, no header) the label is the column
with fewer distinct values."""

from __future__ import annotations

import csv
import io

from ..core.errors import InputError, UsageError
from .dataset import LABEL_NAMES, TEXT_NAMES, Dataset, ReadOptions, split_labels

# csv's default field limit (128 KiB) is too small for whole documents.
csv.field_size_limit(2**31 - 1)


def read_tsv(lines, name: str, opts: ReadOptions) -> Dataset:
    # TSV is one record per line with no quoting (quotes are ordinary text, as in GLUE);
    # fields with tabs or newlines need CSV.
    rows = ((lineno, line.split("\t")) for lineno, line in enumerate(lines, 1) if line.strip())
    return _rows_to_dataset(rows, name, opts)


def read_delimited(text: str, name: str, delimiter: str, opts: ReadOptions) -> Dataset:
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


def _find_column(spec: str | None, cols: list[str] | None, lowered: list[str], names: tuple[str, ...],
                 name: str, what: str) -> int | None:
    """The `what` column: the one --WHAT-col names, else (with a header) the first of `names`;
    None without a header and without --WHAT-col (rows_to_dataset then tells the columns apart)."""
    if spec is not None:
        return _column(spec, cols, name, what)
    if cols is None:
        return None
    found = next((i for i, c in enumerate(lowered) if c in names), None)
    if found is None:
        raise InputError(f"{name}: no {what} column (columns: {', '.join(cols)}); use --{what}-col")
    return found


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

    label_i = _find_column(opts.label_col, cols, lowered, LABEL_NAMES, name, "label")
    text_i = _find_column(opts.text_col, cols, lowered, TEXT_NAMES, name, "text")
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
