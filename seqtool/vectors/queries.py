"""Similarity queries: neighbours, analogies (3CosAdd, 3CosMul), similarity,
odd-one-out. Cosine similarity throughout, with the same arithmetic as
gensim's KeyedVectors (unit vectors, float32), so the answers agree.

A word missing from fastText vectors is answered with the vector of its character
n-grams (seqtool.vectors.subwords), as gensim's FastTextKeyedVectors answers it:
such a word is a query term without a row, so no answer is excluded for it.

One query is one matrix-vector product over the (memory-mapped) matrix
divided by the stored row norms: no normalised copy of the matrix is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError, UsageError
from .model import Vectors


@dataclass
class Match:
    word: str
    score: float


@dataclass
class Term:
    """One query word: its row, or (fastText, not in the vocabulary) None, and its unit vector."""

    word: str
    row: int | None
    unit: np.ndarray  # (d,) float32


def term(vecs: Vectors, word: str, *, case_insensitive: bool = False) -> Term | None:
    """The word's row first (exactly, then in another capitalisation when asked), else the
    vector of its character n-grams (fastText); None when neither exists."""
    row = vecs.find(word, case_insensitive=case_insensitive)
    if row is not None:
        return Term(word, row, unit_row(vecs, row))
    if vecs.subwords is not None:
        vec = vecs.subwords.vector(word)
        if vec is not None:
            return Term(word, None, unit(vec))
    return None


def known(vecs: Vectors, word: str, *, case_insensitive: bool = False) -> bool:
    """Whether a query on `word` can be answered (in the vocabulary, or fastText n-grams)."""
    if vecs.find(word, case_insensitive=case_insensitive) is not None:
        return True
    return vecs.subwords is not None and vecs.subwords.has_ngrams(word)


def resolve(vecs: Vectors, words: list[str], *, case_insensitive: bool = False) -> list[int]:
    """Rows of `words` (vocabulary words only); an InputError naming every unknown word otherwise."""
    rows = [vecs.find(w, case_insensitive=case_insensitive) for w in words]
    missing = [w for w, r in zip(words, rows) if r is None]
    if missing:
        raise InputError(unknown_message(vecs, missing, case_insensitive, subwords=False))
    return rows  # type: ignore[return-value]


def terms(vecs: Vectors, words: list[str], *, case_insensitive: bool = False) -> list[Term]:
    """A Term for each word; an InputError naming every unknown word otherwise."""
    found = [term(vecs, w, case_insensitive=case_insensitive) for w in words]
    missing = [w for w, t in zip(words, found) if t is None]
    if missing:
        raise InputError(unknown_message(vecs, missing, case_insensitive))
    return found  # type: ignore[return-value]


def _rows(found: list[Term]) -> set[int]:
    return {t.row for t in found if t.row is not None}


def unknown_message(vecs: Vectors, missing: list[str], case_insensitive: bool, *, subwords: bool = True) -> str:
    names = ", ".join(repr(w) for w in missing)
    hint = ""
    if not case_insensitive and any(vecs.find(w, case_insensitive=True) is not None for w in missing):
        hint = "; a different capitalisation is known (use --case-insensitive)"
    plural = "s" if len(missing) > 1 else ""
    where = " and no character n-gram of it" if subwords and vecs.subwords is not None else ""
    return f"unknown word{plural} {names} (not among the {len(vecs)} words of the vectors{where}){hint}"


def unit(vec: np.ndarray) -> np.ndarray:
    """float32 unit vector, computed in float64 like gensim's matutils.unitvec."""
    v64 = np.asarray(vec, dtype=np.float64)
    norm = float(np.sqrt(np.dot(v64, v64)))
    return (v64 * (1.0 / norm)).astype(np.float32) if norm > 0 else v64.astype(np.float32)


def unit_row(vecs: Vectors, row: int) -> np.ndarray:
    norm = vecs.norms[row]
    vec = np.asarray(vecs.matrix[row], dtype=np.float32)
    return vec / norm if norm > 0 else vec


def cosines(vecs: Vectors, query: np.ndarray, limit: int | None = None) -> np.ndarray:
    """(n,) cosine of every row (the first `limit`) with a unit `query`; zero rows give 0."""
    matrix = vecs.matrix if limit is None else vecs.matrix[:limit]
    norms = vecs.safe_norms if limit is None else vecs.safe_norms[:limit]
    sims = matrix @ query.astype(np.float32)  # (n,): the one pass over the matrix
    sims /= norms
    return sims


def top(scores: np.ndarray, k: int, exclude: set[int]) -> list[int]:
    """Indices of the k best scores, best first, skipping `exclude`."""
    n = len(scores)
    want = min(n, k + len(exclude))
    if want <= 0:
        return []
    part = _best(scores, want)
    order = part[np.argsort(-scores[part], kind="stable")]
    return [int(i) for i in order if int(i) not in exclude][:k]


TOP_BLOCK = 1024


def _best(scores: np.ndarray, want: int) -> np.ndarray:
    """Indices of the `want` largest scores, in no order.

    argpartition over 400k scores costs about as much as the matrix-vector product
    itself. Each of the `want` best scores lies in one of the `want` blocks with the
    largest maxima (a block outside them has `want` larger maxima above it), so only
    those blocks and the ragged tail need the partition: one cheap max per block."""
    n = len(scores)
    if want >= n:
        return np.arange(n)
    full = n - n % TOP_BLOCK
    blocks = full // TOP_BLOCK
    if blocks < 4 * want or np.isnan(scores).any():
        return np.argpartition(scores, n - want)[n - want:]
    maxima = scores[:full].reshape(blocks, TOP_BLOCK).max(axis=1)  # (blocks,)
    chosen = np.argpartition(maxima, blocks - want)[blocks - want:]
    candidates = (chosen[:, None] * TOP_BLOCK + np.arange(TOP_BLOCK)).ravel()
    candidates = np.concatenate([candidates, np.arange(full, n)])
    sub = scores[candidates]
    return candidates[np.argpartition(sub, len(sub) - want)[len(sub) - want:]]


def mean_unit(vecs: Vectors, positive: list[Term], negative: list[Term]) -> np.ndarray:
    """Normalised mean of the unit vectors (gensim's get_mean_vector, post-normalised)."""
    mean = np.zeros(vecs.dim, dtype=np.float32)
    for t in positive:
        mean += t.unit
    for t in negative:
        mean -= t.unit
    return unit(mean.astype(np.float64) / (len(positive) + len(negative)))


def neighbors(vecs: Vectors, word: str, *, top_n: int = 10, case_insensitive: bool = False,
              restrict: int | None = None) -> list[Match]:
    (found,) = terms(vecs, [word], case_insensitive=case_insensitive)
    sims = cosines(vecs, found.unit, restrict)
    return [Match(vecs.words[i], float(sims[i])) for i in top(sims, top_n, _rows([found]))]


def most_similar(vecs: Vectors, positive: list[str], negative: list[str] = (), *, cosmul: bool = False,
                 top_n: int = 10, case_insensitive: bool = False, restrict: int | None = None) -> list[Match]:
    """gensim's most_similar(positive=, negative=): cosine with the normalised mean of the unit
    vectors (positives added, negatives subtracted); with `cosmul`, most_similar_cosmul: the
    product of the positives' cosines shifted to [0, 1] over the negatives' (+1e-6; Levy &
    Goldberg 2014, eq. 4). The query words themselves are never answers."""
    if not positive:
        raise UsageError("give at least one positive word")
    found = terms(vecs, [*positive, *negative], case_insensitive=case_insensitive)  # every unknown word named
    pos, neg = found[:len(positive)], found[len(positive):]
    if cosmul:
        def shifted(t: Term) -> np.ndarray:  # (n,) cosines in [0, 1]
            return (1 + cosines(vecs, t.unit, restrict)) / 2

        pos_d, neg_d = [shifted(t) for t in pos], [shifted(t) for t in neg]
        scores = np.prod(pos_d, axis=0) / (np.prod(neg_d or [np.ones_like(pos_d[0])], axis=0) + 0.000001)
    else:
        scores = cosines(vecs, mean_unit(vecs, pos, neg), restrict)
    return [Match(vecs.words[i], float(scores[i])) for i in top(scores, top_n, _rows(found))]


def analogy(vecs: Vectors, a: str, b: str, c: str, *, method: str = "add", top_n: int = 10,
            case_insensitive: bool = False, restrict: int | None = None) -> list[Match]:
    """a : b :: c : ?  ranked by 3CosAdd (cos(x, b - a + c) on unit vectors) or 3CosMul."""
    if method not in ("add", "mul"):
        raise UsageError(f"--method must be add or mul (got {method!r})")
    terms(vecs, [a, b, c], case_insensitive=case_insensitive)  # unknown words named in the order given
    return most_similar(vecs, [b, c], [a], cosmul=method == "mul", top_n=top_n,
                        case_insensitive=case_insensitive, restrict=restrict)


def similarity(vecs: Vectors, w1: str, w2: str, *, case_insensitive: bool = False) -> float:
    t1, t2 = terms(vecs, [w1, w2], case_insensitive=case_insensitive)
    return float(np.dot(t1.unit, t2.unit))


def doesnt_match(vecs: Vectors, words: list[str], *, case_insensitive: bool = False) -> list[Match]:
    """The words ranked by cosine with the mean of their unit vectors, the odd one LAST."""
    if len(words) < 2:
        raise UsageError(f"doesnt-match needs at least two words (got {len(words)})")
    found = terms(vecs, words, case_insensitive=case_insensitive)
    units = np.vstack([t.unit for t in found]).astype(np.float32)  # (k, d)
    mean = unit((units.astype(np.float64).sum(axis=0) / len(found)).astype(np.float32))
    dists = units @ mean
    order = sorted(range(len(words)), key=lambda i: -float(dists[i]))
    return [Match(words[i], float(dists[i])) for i in order]
