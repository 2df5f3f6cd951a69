"""Tokenizers (word, char) and an offline sentence splitter.

NLTK and Punkt are imported on first use, so importing this module is cheap.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Callable

from .errors import UsageError

WORD_METHODS = ("whitespace", "treebank", "regex")
LEVELS = ("word", "char")
DEFAULT_REGEX = r"\w+|[^\w\s]"


@lru_cache(maxsize=1)
def _treebank() -> Callable[[str], list[str]]:
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer().tokenize


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"invalid tokenizer regex {pattern!r}: {exc}") from None


def word_tokenize(text: str, method: str = "whitespace", lower: bool = False,
                  pattern: str | None = None) -> list[str]:
    """Split text into words.

    whitespace: split on runs of whitespace (pre-tokenized corpora such as PTB).
    treebank:   Penn Treebank conventions via NLTK ("didn't" -> "did", "n't").
    regex:      every match of `pattern` (default: word characters or one symbol).
    """
    if lower:
        text = text.lower()
    if method == "whitespace":
        return text.split()
    if method == "treebank":
        return _treebank()(text)
    if method == "regex":
        return _compiled(pattern or DEFAULT_REGEX).findall(text)
    raise UsageError(f"unknown word tokenizer {method!r} (choose from {', '.join(WORD_METHODS)})")


def char_tokenize(text: str, lower: bool = False) -> list[str]:
    """Every Unicode code point is a token (spaces included)."""
    return list(text.lower() if lower else text)


@dataclass(frozen=True)
class Tokenizer:
    """A tokenizer as plain data, saved with each model so loading reproduces it."""

    level: str = "word"
    method: str = "whitespace"
    lower: bool = False
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise UsageError(f"unknown level {self.level!r} (choose word or char)")
        if self.level == "word" and self.method not in WORD_METHODS:
            raise UsageError(f"unknown word tokenizer {self.method!r} (choose from {', '.join(WORD_METHODS)})")

    def __call__(self, text: str) -> list[str]:
        if self.level == "char":
            return char_tokenize(text, self.lower)
        return word_tokenize(text, self.method, self.lower, self.pattern)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens) if self.level == "char" else " ".join(tokens)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Tokenizer":
        return cls(**data)


@lru_cache(maxsize=8)
def _punkt(language: str):
    import punkt

    try:
        return punkt.PunktSentenceTokenizer(punkt.load_model(language))
    except Exception as exc:  # the package raises its own ModelError types
        raise UsageError(f"no offline sentence model for language {language!r} ({exc})") from None


_PARAGRAPH = re.compile(r"\n\s*\n")


def split_sentences(text: str, language: str = "english") -> list[str]:
    """Split text into sentences with Punkt (offline), never across paragraphs.

    Paragraphs are separated by blank lines; line breaks inside a paragraph
    are treated as spaces.
    """
    tokenizer = _punkt(language)
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            sentences.extend(s.strip() for s in tokenizer.tokenize(paragraph) if s.strip())
    return sentences
