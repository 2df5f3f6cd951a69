"""English Snowball (Porter2) stemming through PyStemmer (C, ~1 ms to import;
NLTK's Porter stemmer costs >1 s of import time on every shell pipeline)."""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=1)
def _english():
    import Stemmer

    return Stemmer.Stemmer("english")


def stem_map(words: Iterable[str]) -> dict[str, str]:
    """word -> stem for ASCII words; other scripts map to themselves (English rules would garble them)."""
    words = list(words)
    ascii_words = [w for w in words if w.isascii()]
    out = dict(zip(ascii_words, _english().stemWords(ascii_words)))
    for w in words:
        out.setdefault(w, w)
    return out


def stem_word(word: str) -> str:
    """stem_map's answer for one word."""
    return _english().stemWord(word) if word.isascii() else word


def stem(word: str) -> str:
    return stem_map([word])[word]
