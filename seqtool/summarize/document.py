"""A document into sentences, never across a paragraph (blank line): lines grouped into
units by layout, each unit split by Punkt (sentences.split_paragraph), or one per line."""

from __future__ import annotations

import re

from ..core.errors import UsageError
from .options import SPLITS

_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")
# A hard-wrapped paragraph: lines reach at least this share of its longest line.
_FULL_LINE = 0.7
_MIN_WRAP_WIDTH = 40


def _units(paragraph: str) -> list[str]:
    """Lines of a paragraph grouped into units: hard-wrapped lines are joined, other lines stand alone."""
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines
    width = max(len(line) for line in lines)
    full = [len(line) >= _FULL_LINE * width for line in lines[:-1]]
    if width < _MIN_WRAP_WIDTH or sum(full) * 2 < len(full):
        return lines
    units, current = [], []
    for line, is_full in zip(lines, full + [False]):
        current.append(line)
        if not is_full:
            units.append(" ".join(current))
            current = []
    if current:
        units.append(" ".join(current))
    return units


def split_document(text: str, mode: str = "auto", language: str = "english") -> list[str]:
    """Sentences of a document, never crossing a paragraph (blank line).

    punkt: Punkt inside each paragraph, line breaks are spaces.
    lines: every non-empty line is one sentence.
    auto:  like punkt, but a line is its own unit unless the paragraph looks
           hard-wrapped (most lines near the longest one), so headings and
           list items do not run into the next sentence.
    """
    from .sentences import split_paragraph

    if mode == "lines":
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    if mode not in SPLITS:
        raise UsageError(f"unknown --split {mode!r} (choose from {', '.join(SPLITS)})")
    out: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        for unit in (_units(paragraph) if mode == "auto" else [paragraph]):
            out.extend(split_paragraph(unit, language))
    return out
