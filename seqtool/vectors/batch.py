"""Queries from lines of text, answered one by one as they arrive (fastText's `nn` and
`analogies` prompts, and batch files of pairs or triples), the vectors loaded once.

    neighbors:  `king` (the word's neighbours) or `king woman -man` (one combined query:
                words with a leading '-' are negative, gensim's most_similar(positive=, negative=))
    similarity: `cat dog` (a TAB-separated line uses only its tabs: words may hold spaces;
                further fields, as the gold score of a wordsim file, are ignored)
    analogy:    `man king woman` (a : b :: c : ?; a fourth field, as in questions-words.txt,
                is ignored)

Blank lines, `#` comments and questions-words' `: section` lines are skipped. Each
answer is yielded before the next line is read, so a prompt or a pipe gets it at once.
A line naming an unknown word (or malformed) yields a Skipped with the line's number and
the reason; `strict` makes it an InputError instead.

    lines = query_lines("-")                                   # stdin, read line by line
    for answer in neighbors_stream("glove100", lines, top=5):  # NeighborsAnswer | Skipped
        ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..core.errors import InputError, SeqtoolError
from ..core.readers import iter_source_lines
from ..core.sources import Source
from .load import load_vectors
from .lookup import analogy_methods, check_top
from .model import Vectors
from .queries import analogy, most_similar, neighbors, similarity


@dataclass
class Skipped:
    line: int
    text: str
    reason: str


@dataclass
class NeighborsAnswer:
    line: int
    positive: list
    negative: list
    combined: bool  # a most_similar query (several words, a negative one, or cosmul)
    matches: list = field(default_factory=list)  # [Match], best first

    @property
    def label(self) -> str:
        """`king`, or `king+woman-man` for a combined query."""
        return "+".join(self.positive) + "".join(f"-{w}" for w in self.negative)


@dataclass
class PairAnswer:
    line: int
    word1: str
    word2: str
    similarity: float


@dataclass
class AnalogyLine:
    line: int
    a: str
    b: str
    c: str
    answers: list  # [(method, [Match])], in the order of the methods asked


def _fields(text: str) -> list[str]:
    return [f.strip() for f in text.split("\t")] if "\t" in text else text.split()


def _skip(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith(("#", ": "))


def _lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, text in enumerate(lines, 1):
        if not _skip(text):
            yield number, text


def _answer(origin: str, number: int, text: str, strict: bool, compute):
    """compute() or, on a query error, a Skipped (strict: the error, naming the line)."""
    try:
        return compute()
    except SeqtoolError as exc:
        if strict:
            raise InputError(f"{origin}: line {number}: {exc}") from None
        return Skipped(number, text, str(exc))


def _answered(lines: Iterable[str], origin: str, strict: bool, answer) -> Iterator:
    """answer(number, text) for each query line, in turn (a query error: a Skipped, see _answer)."""
    for number, text in _lines(lines):
        yield _answer(origin, number, text, strict, lambda: answer(number, text))


def _words(text: str, need: int, expected: str) -> list[str]:
    """The fields of a pair or triple line: at least `need` of them (fewer: a query error)."""
    words = _fields(text)
    if len(words) < need:
        raise InputError(f"expected {expected}, got {len(words)}")
    return words


def neighbors_lines(vecs: Vectors, lines: Iterable[str], *, top_n: int = 10, cosmul: bool = False,
                    case_insensitive: bool = False, strict: bool = False,
                    origin: str = "<stdin>") -> Iterator[NeighborsAnswer | Skipped]:
    def answer(number: int, text: str) -> NeighborsAnswer:
        words = text.split()
        positive = [w for w in words if not (w.startswith("-") and len(w) > 1)]
        negative = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
        combined = cosmul or len(words) > 1 or bool(negative)
        if not positive:
            raise InputError("a query needs at least one word without a leading '-'")
        if combined:
            found = most_similar(vecs, positive, negative, cosmul=cosmul, top_n=top_n,
                                 case_insensitive=case_insensitive)
        else:
            found = neighbors(vecs, positive[0], top_n=top_n, case_insensitive=case_insensitive)
        return NeighborsAnswer(number, positive, negative, combined, found)

    return _answered(lines, origin, strict, answer)


def similarity_lines(vecs: Vectors, lines: Iterable[str], *, case_insensitive: bool = False, strict: bool = False,
                     origin: str = "<stdin>") -> Iterator[PairAnswer | Skipped]:
    def answer(number: int, text: str) -> PairAnswer:
        w1, w2 = _words(text, 2, "two words")[:2]
        return PairAnswer(number, w1, w2, similarity(vecs, w1, w2, case_insensitive=case_insensitive))

    return _answered(lines, origin, strict, answer)


def analogy_lines(vecs: Vectors, lines: Iterable[str], *, methods: tuple = ("add", "mul"), top_n: int = 5,
                  case_insensitive: bool = False, strict: bool = False,
                  origin: str = "<stdin>") -> Iterator[AnalogyLine | Skipped]:
    def answer(number: int, text: str) -> AnalogyLine:
        a, b, c = _words(text, 3, "three words (a b c for a : b :: c : ?)")[:3]
        return AnalogyLine(number, a, b, c, [(m, analogy(vecs, a, b, c, method=m, top_n=top_n,
                                                         case_insensitive=case_insensitive)) for m in methods])

    return _answered(lines, origin, strict, answer)


# ---------------------------------------------------------------- the api: vectors loaded once, a stream of answers
def query_lines(path: str, *, encoding: str = "utf-8", errors: str = "strict") -> Iterator[str]:
    """The lines of a query file or of stdin ('-'), read one at a time (a prompt gets each
    answer before it types the next line)."""
    return iter_source_lines(Source(path), encoding=encoding, errors=errors)


def neighbors_stream(spec: str | Vectors, lines: Iterable[str], *, top: int = 10, cosmul: bool = False,
                     case_insensitive: bool = False, limit: int | None = None, strict: bool = False,
                     origin: str = "<stdin>") -> Iterator:
    """One neighbours query per line (`king`, or `king woman -man`): fastText's `nn` prompt.
    The vectors are loaded now, once; see seqtool.vectors.batch for the line format."""
    check_top(top)
    vecs = load_vectors(spec, limit=limit)
    return neighbors_lines(vecs, lines, top_n=top, cosmul=cosmul, case_insensitive=case_insensitive,
                           strict=strict, origin=origin)


def similarity_stream(spec: str | Vectors, lines: Iterable[str], *, case_insensitive: bool = False,
                      limit: int | None = None, strict: bool = False, origin: str = "<stdin>") -> Iterator:
    """The cosine similarity of the pair on each line."""
    vecs = load_vectors(spec, limit=limit)
    return similarity_lines(vecs, lines, case_insensitive=case_insensitive, strict=strict, origin=origin)


def analogy_stream(spec: str | Vectors, lines: Iterable[str], *, method: str = "both", top: int = 5,
                   case_insensitive: bool = False, limit: int | None = None, strict: bool = False,
                   origin: str = "<stdin>") -> Iterator:
    """a : b :: c : ? for the triple on each line: fastText's `analogies` prompt."""
    methods = analogy_methods(method)
    check_top(top)
    vecs = load_vectors(spec, limit=limit)
    return analogy_lines(vecs, lines, methods=methods, top_n=top,
                         case_insensitive=case_insensitive, strict=strict, origin=origin)
