"""What `summarize` is asked for (SummaryOptions, whose fields are the CLI's flags) and
what it answers (Summary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Union

from ..core.errors import UsageError
from ..core.options import option

SPLITS = ("auto", "punkt", "lines")
DEFAULT_SENTENCES = 3


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
