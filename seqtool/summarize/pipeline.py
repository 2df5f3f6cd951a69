"""One document in, one summary out: HTML to text, splitting, terms, scoring (--method), selection."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from itertools import chain, filterfalse
from operator import is_not
from pathlib import Path
from typing import Optional, Sequence, Union

from ..core.errors import InputError, UsageError
from ..core.options import option

SPLITS = ("auto", "punkt", "lines")
DEFAULT_SENTENCES = 3
_WORD = re.compile(r"\w+")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")
# A hard-wrapped paragraph: lines reach at least this share of its longest line.
_FULL_LINE = 0.7
_MIN_WRAP_WIDTH = 40


@dataclass(frozen=True)
class SummaryOptions:
    """How to summarize; saved as JSON in batch state so a change re-runs every input.

    The one place of each option's default and help: `seqtool summarize` derives its
    flags from these fields (seqtool.cli.options.with_options); the checks are below."""

    sentences: Optional[int] = option(None, "Sentences per summary.", flag="--sentences", short="-n",
                                      default_text=str(DEFAULT_SENTENCES))
    ratio: Optional[float] = option(None, "Summary size as a share of the sentences, e.g. 0.2.")
    words: Optional[int] = option(None, "Word budget: best sentences while they fit (at least one).")
    similarity: str = option("overlap", "Edge weight: overlap (the paper's formula, best on the benchmark), "
                             "tfidf (cosine), bm25 (Barrios et al.) or embedding (cosine of averaged word "
                             "vectors, needs --embeddings).", default_text="overlap; embedding with --embeddings")
    damping: float = option(0.85, "PageRank damping factor.")
    split: str = option("auto", "auto: Punkt per paragraph, un-wrapped lines stand alone; punkt: Punkt per "
                        "paragraph; lines: one sentence per non-empty line.")
    keywords: int = option(0, "Also list this many TextRank keywords.")
    # None: the shipped list of `language`; "none": no list; else a file
    stopwords: Optional[str] = option(None, "Stop-word file (one word a line), or 'none'. Default: the shipped "
                                      "list of --language (English only so far; other languages: none).")
    stem: bool = option(True, "Stem the terms (Snowball).", cli=False)
    max_neighbors: int = option(100, "Edges kept per sentence past this many sentences.", cli=False)
    language: str = option("english", "Sentence splitter, stop words and stemmer of this language, a name or ISO "
                           "code: english, de, fr... (sumy's Tokenizer(language) and Stemmer(language)).")
    method: str = option("textrank", "textrank (sumy TextRankSummarizer), lexrank (Erkan & Radev; sumy "
                         "LexRankSummarizer), lsa (Steinberger & Jezek; sumy LsaSummarizer) or lead (the first "
                         "sentences).")  # methods.METHODS
    # None: continuous LexRank (the CLI's --continuous)
    lexrank_threshold: Optional[float] = option(0.1, "LexRank: an edge where the idf-modified cosine exceeds "
                                                "this (the paper's; sumy LexRankSummarizer.threshold).")
    lsa_dimensions: Union[str, int] = option("half", "LSA: half (singular values at least half the largest, the "
                                             "paper's), all (what sumy LsaSummarizer keeps) or a count.")
    format: str = option("auto", "auto (HTML for .html/.htm files and text starting <!doctype html or <html), "
                         "text or html (sumy's HtmlParser vs PlaintextParser).")  # html.FORMATS

    def __post_init__(self) -> None:
        from .html import FORMATS
        from .languages import language
        from .methods import METHODS
        from .textrank import SIMILARITIES

        given = [name for name, v in (("-n", self.sentences), ("--ratio", self.ratio), ("--words", self.words))
                 if v is not None]
        if len(given) > 1:
            raise UsageError(f"choose one of -n, --ratio and --words (got {' and '.join(given)})")
        if self.sentences is not None and self.sentences < 1:
            raise UsageError(f"-n must be at least 1 (got {self.sentences})")
        if self.ratio is not None and not (0.0 < self.ratio <= 1.0):
            raise UsageError(f"--ratio must be in (0, 1] (got {self.ratio})")
        if self.words is not None and self.words < 1:
            raise UsageError(f"--words must be at least 1 (got {self.words})")
        if self.similarity not in SIMILARITIES:
            raise UsageError(f"unknown --similarity {self.similarity!r} (choose from {', '.join(SIMILARITIES)})")
        if not (0.0 < self.damping < 1.0):
            raise UsageError(f"--damping must be between 0 and 1 (got {self.damping})")
        if self.split not in SPLITS:
            raise UsageError(f"unknown --split {self.split!r} (choose from {', '.join(SPLITS)})")
        if self.keywords < 0:
            raise UsageError(f"--keywords must be >= 0 (got {self.keywords})")
        if self.max_neighbors < 1:
            raise UsageError(f"max_neighbors must be at least 1 (got {self.max_neighbors})")
        if self.method not in METHODS:
            raise UsageError(f"unknown --method {self.method!r} (choose from {', '.join(METHODS)})")
        if self.lexrank_threshold is not None and not 0.0 <= self.lexrank_threshold < 1.0:
            raise UsageError(f"--lexrank-threshold must be in [0, 1) (got {self.lexrank_threshold})")
        dims = self.lsa_dimensions
        if not (dims in ("half", "all") or (isinstance(dims, int) and not isinstance(dims, bool) and dims >= 1)):
            raise UsageError(f"--lsa-dimensions must be half, all or a positive count (got {dims!r})")
        if self.format not in FORMATS:
            raise UsageError(f"unknown --format {self.format!r} (choose from {', '.join(FORMATS)})")
        object.__setattr__(self, "language", language(self.language).name)  # "de" -> "german"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Summary:
    sentences: list[str]          # chosen sentences, in document order
    indices: list[int]            # their positions among all sentences
    scores: list[float]           # their scores (by --method)
    total: int                    # sentences in the document
    keywords: list[str] = field(default_factory=list)

    def to_json(self, **extra) -> dict:
        out = {**extra, "summary": self.sentences, "scores": [round(s, 6) for s in self.scores],
               "indices": self.indices, "sentences": self.total}
        if self.keywords:
            out["keywords"] = self.keywords
        return out


# ---------------------------------------------------------------- splitting
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


# ---------------------------------------------------------------- terms
@lru_cache(maxsize=16)
def load_stopwords(spec: Optional[str] = None, language: str = "english") -> frozenset:
    """The language's shipped list (None; empty where none ships), no list ("none"), or a file of one word per line."""
    if spec is not None and spec.lower() == "none":
        return frozenset()
    if spec is None:
        from .languages import language as resources

        return resources(language).stopwords()
    else:
        try:
            text = Path(spec).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{spec}: stop-word file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{spec}: cannot read the stop-word file ({exc})") from None
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#"))


_TERM_CACHE_MAX = 200_000
# An ASCII sentence's \\w+ words, lower-cased, are its words once every other character is a
# space: str.translate of ASCII to ASCII runs in C, 1.4x faster than the regular expression.
_ASCII_WORDS = str.maketrans({i: chr(i).lower() if chr(i).isalnum() or chr(i) == "_" else " " for i in range(128)})
_word_caches: dict = {}


def document_terms(sentences: Sequence[str], stopwords: frozenset, stem: bool = True,
                   language: str = "english") -> list[list[str]]:
    """Per sentence: lower-cased \\w+ words minus stop words and bare numbers, stemmed.

    Memoised per word ("profits" -> "profit", "the" -> None) for each (stop list,
    stem) pair, so a batch stems each distinct word once; a sentence's words are one
    translate and split (ASCII) or one findall, and its terms one map over the memo, in C. (A memo per whitespace
    token, "profits," -> ("profit",), is as fast once warm and slower on a batch's
    first pass, where most of the distinct tokens are new.)
    """
    key = (id(stopwords), stem, language)
    words = _word_caches.setdefault(key, {})  # word -> term, or None for a word left out
    if len(words) > _TERM_CACHE_MAX:
        words.clear()
    found = [s.translate(_ASCII_WORDS).split() if s.isascii() else _WORD.findall(s.lower()) for s in sentences]
    # (set.difference(dict) would walk the whole memo: test membership instead, in C)
    unseen = set(filterfalse(words.__contains__, chain.from_iterable(found)))
    if unseen:
        kept = [w for w in unseen if w not in stopwords and not w.isdigit()]
        if stem:
            from .languages import language as resources

            words.update(resources(language).stem_map(kept))
        else:
            words.update(zip(kept, kept))
        words.update(dict.fromkeys(unseen.difference(kept)))
    term, kept_term = words.__getitem__, partial(is_not, None)  # (is_not: an empty stem stays a term)
    return [list(filter(kept_term, map(term, ws))) for ws in found]


def sentence_terms(sentence: str, stopwords: frozenset, stem: bool = True) -> list[str]:
    return document_terms([sentence], stopwords, stem)[0]


# ---------------------------------------------------------------- selection
def summary_size(total: int, options: SummaryOptions) -> Optional[int]:
    """How many sentences to return (None with --words, which is a word budget)."""
    if options.words is not None:
        return None
    if options.ratio is not None:
        return max(1, math.ceil(options.ratio * total - 1e-9)) if total else 0
    return min(total, options.sentences if options.sentences is not None else DEFAULT_SENTENCES)


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def select(sentences: Sequence[str], order: Sequence[int], options: SummaryOptions,
           groups: Optional[Sequence[int]] = None) -> list[int]:
    """Pick sentences in rank order (exact repeats skipped), return them in document order.

    groups: merged near-identical sentences (long inputs) share a group, and one of a
    group is picked at most; a negative group never excludes another sentence."""
    size = summary_size(len(sentences), options)
    chosen: list[int] = []
    seen: set = set()
    budget = options.words
    used = 0
    for i in order:
        key = _key(sentences[i])
        if key in seen:
            continue
        group = None if groups is None or groups[i] < 0 else ("group", int(groups[i]))
        if group is not None and group in seen:
            continue
        if size is not None:
            if len(chosen) >= size:
                break
        else:
            length = len(sentences[i].split())
            if chosen and used + length > budget:
                continue
            used += length
        seen.add(key)
        if group is not None:
            seen.add(group)
        chosen.append(int(i))
        if size is None and used >= budget:
            break
    return sorted(chosen)


def summarize_sentences(sentences: Sequence[str], options: SummaryOptions = SummaryOptions(),
                        vectors=None) -> Summary:
    """Score pre-split sentences by options.method and pick the best."""
    import numpy as np

    from . import methods, neighbors, textrank

    sentences = list(sentences)
    if not sentences:
        return Summary([], [], [], 0)
    stop = load_stopwords(options.stopwords, options.language)
    if options.method == "lead":
        terms = [()] * len(sentences)  # Lead-k reads only the number of sentences
    else:
        # Word vectors are keyed by words, not stems.
        terms = document_terms(sentences, stop, options.stem and options.similarity != "embedding",
                               options.language)
    params = dict(similarity=options.similarity, damping=options.damping, vectors=vectors,
                  max_neighbors=options.max_neighbors, lexrank_threshold=options.lexrank_threshold,
                  lsa_dimensions=options.lsa_dimensions)
    groups = None
    if options.method != "lead" and len(sentences) > neighbors.SCALE_MIN_SENTENCES:
        # Long inputs: near-identical sentences become one node (exact, see neighbors).
        first, groups, copies = neighbors.merge_duplicates(terms)
        scores = methods.sentence_scores(options.method, [terms[i] for i in first], copies=copies,
                                         **params)[groups]
        groups = np.where(np.asarray([len(t) > 0 for t in terms]), groups, -1)  # no terms: no group
    else:
        scores = methods.sentence_scores(options.method, terms, **params)
    order = textrank.rank_order(scores)
    chosen = select(sentences, order, options, groups)
    summary = Summary([sentences[i] for i in chosen], chosen, [float(scores[i]) for i in chosen], len(sentences))
    if options.keywords:
        summary.keywords = top_keywords(sentences, stop, options.keywords, stem=options.stem,
                                        damping=options.damping, language=options.language)
    return summary


def top_keywords(sentences: Sequence[str], stop: frozenset, top: int, *, stem: bool = True,
                 damping: float = 0.85, language: str = "english") -> list[str]:
    """TextRank keywords over stems, each shown as its most frequent word form ("profits", not "profit")."""
    from collections import Counter

    from . import textrank

    surface = document_terms(sentences, stop, stem=False, language=language)
    stems = document_terms(sentences, stop, stem=stem, language=language)
    forms: dict[str, Counter] = {}
    for words, roots in zip(surface, stems):
        for word, root in zip(words, roots):
            forms.setdefault(root, Counter())[word] += 1
    ranked = textrank.keywords(stems, top, damping=damping)
    # Counter.most_common keeps first-seen order among equal counts: deterministic.
    return [forms[root].most_common(1)[0][0] for root, _ in ranked]


def summarize_text(text: str, options: SummaryOptions = SummaryOptions(), vectors=None,
                   name: Optional[str] = None) -> Summary:
    """Split `text` (HTML reduced to its text, by options.format and the file `name`) and summarize it."""
    from .html import prepare_text

    text = prepare_text(text, options.format, name)
    return summarize_sentences(split_document(text, options.split, options.language), options, vectors)
