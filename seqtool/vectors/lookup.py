"""The query entry points of `seqtool embed` (neighbors, analogy, similarity, doesnt-match):
their options checked, the vectors loaded, unknown words reported; the ranking itself is
vectors/queries.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import InputError, UsageError
from .load import load_vectors
from .model import Vectors
from .queries import Match, known, unknown_message
from .queries import analogy as rank_analogy
from .queries import doesnt_match as rank_odd_one_out
from .queries import most_similar as rank_most_similar
from .queries import neighbors as nearest
from .queries import similarity as cosine_similarity


def check_top(top: int) -> None:
    if top < 1:
        raise UsageError(f"--top must be at least 1 (got {top})")


@dataclass
class Neighbors:
    word: str
    matches: list  # [Match], nearest first


@dataclass
class NeighborsResult:
    answers: list = field(default_factory=list)  # [Neighbors] for the known words, in the order asked
    missing: list = field(default_factory=list)  # [(word, message)] for the unknown ones


def neighbors(spec: str | Vectors, words: list[str], *, top: int = 10, case_insensitive: bool = False,
              limit: int | None = None) -> NeighborsResult:
    """Nearest neighbours of each word; unknown words are listed in `missing` (all unknown: InputError)."""
    check_top(top)
    vecs = load_vectors(spec, limit=limit)
    result = NeighborsResult()
    missing = [w for w in words if not known(vecs, w, case_insensitive=case_insensitive)]
    if len(missing) == len(words):
        raise InputError(unknown_message(vecs, missing, case_insensitive))
    for word in words:
        if word in missing:
            result.missing.append((word, unknown_message(vecs, [word], case_insensitive)))
        else:
            found = nearest(vecs, word, top_n=top, case_insensitive=case_insensitive)
            result.answers.append(Neighbors(word, found))
    return result


def most_similar(spec: str | Vectors, positive: list[str], negative: list[str], *, cosmul: bool = False,
                 top: int = 10, case_insensitive: bool = False, limit: int | None = None) -> list[Match]:
    """One combined query: gensim's most_similar(positive=, negative=) (most_similar_cosmul with `cosmul`)."""
    check_top(top)
    vecs = load_vectors(spec, limit=limit)
    missing = [w for w in [*positive, *negative] if not known(vecs, w, case_insensitive=case_insensitive)]
    if missing:
        raise InputError(unknown_message(vecs, missing, case_insensitive))
    return rank_most_similar(vecs, positive, negative, cosmul=cosmul, top_n=top, case_insensitive=case_insensitive)


@dataclass
class AnalogyAnswer:
    method: str   # add (3CosAdd) or mul (3CosMul)
    matches: list  # [Match], best first


def analogy(spec: str | Vectors, a: str, b: str, c: str, *, method: str = "both", top: int = 5,
            case_insensitive: bool = False, limit: int | None = None) -> list[AnalogyAnswer]:
    """a : b :: c : ? by each method asked for ("both": add, then mul)."""
    methods = analogy_methods(method)
    check_top(top)
    vecs = load_vectors(spec, limit=limit)
    return [AnalogyAnswer(m, rank_analogy(vecs, a, b, c, method=m, top_n=top, case_insensitive=case_insensitive))
            for m in methods]


def analogy_methods(method: str) -> tuple[str, ...]:
    """--method add, mul or both -> the methods to run, in order."""
    if method not in ("add", "mul", "both"):
        raise UsageError(f"--method must be add, mul or both (got {method!r})")
    return ("add", "mul") if method == "both" else (method,)


def similarity(spec: str | Vectors, word1: str, word2: str, *, case_insensitive: bool = False,
               limit: int | None = None) -> float:
    return cosine_similarity(load_vectors(spec, limit=limit), word1, word2, case_insensitive=case_insensitive)


def doesnt_match(spec: str | Vectors, words: list[str], *, case_insensitive: bool = False) -> list[Match]:
    """The words ranked by fit with the others, the odd one last (fewer than two words: UsageError)."""
    if len(words) < 2:
        raise UsageError(f"doesnt-match needs at least two words (got {len(words)})")
    return rank_odd_one_out(load_vectors(spec), words, case_insensitive=case_insensitive)
