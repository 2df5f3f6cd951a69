"""The labelled data set every reader returns, and the options of reading one."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import InputError, UsageError

FORMATS = ("auto", "tsv", "csv", "jsonl", "fasttext", "space", "folder")
LABEL_SEP = ","  # between the labels of one example in a TSV/CSV/JSON/space label field
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y", "polarity", "intent")
TEXT_NAMES = ("text", "sentence", "review", "content", "document", "question", "body", "utterance", "x")


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


def split_labels(field: str, sep: str | None) -> str | list[str]:
    """'a,b' -> ['a', 'b'] (with sep ','); a field without sep stays one label."""
    return field.split(sep) if sep and sep in field else field
