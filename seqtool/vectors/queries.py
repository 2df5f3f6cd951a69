"""Similarity queries: neighbours, analogies (3CosAdd, 3CosMul), similarity,
odd-one-out. Cosine similarity throughout, with the same arithmetic as
gensim's KeyedVectors (unit vectors, float32), so the answers agree.

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


def resolve(vecs: Vectors, words: list[str], *, case_insensitive: bool = False) -> list[int]:
    """Rows of `words`; an InputError naming every unknown word otherwise."""
    rows = [vecs.find(w, case_insensitive=case_insensitive) for w in words]
    missing = [w for w, r in zip(words, rows) if r is None]
    if missing:
        raise InputError(unknown_message(vecs, missing, case_insensitive))
    return rows  # type: ignore[return-value]


def unknown_message(vecs: Vectors, missing: list[str], case_insensitive: bool) -> str:
    names = ", ".join(repr(w) for w in missing)
    hint = ""
    if not case_insensitive and any(vecs.find(w, case_insensitive=True) is not None for w in missing):
        hint = "; a different capitalisation is known (use --case-insensitive)"
    plural = "s" if len(missing) > 1 else ""
    return f"unknown word{plural} {names} (not among the {len(vecs)} words of the vectors){hint}"


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


def mean_unit(vecs: Vectors, positive: list[int], negative: list[int]) -> np.ndarray:
    """Normalised mean of the unit vectors (gensim's get_mean_vector, post-normalised)."""
    mean = np.zeros(vecs.dim, dtype=np.float32)
    for r in positive:
        mean += unit_row(vecs, r)
    for r in negative:
        mean -= unit_row(vecs, r)
    return unit(mean.astype(np.float64) / (len(positive) + len(negative)))


def neighbors(vecs: Vectors, word: str, *, top_n: int = 10, case_insensitive: bool = False,
              restrict: int | None = None) -> list[Match]:
    (row,) = resolve(vecs, [word], case_insensitive=case_insensitive)
    sims = cosines(vecs, unit_row(vecs, row), restrict)
    return [Match(vecs.words[i], float(sims[i])) for i in top(sims, top_n, {row})]


def most_similar(vecs: Vectors, positive: list[str], negative: list[str] = (), *, cosmul: bool = False,
                 top_n: int = 10, case_insensitive: bool = False, restrict: int | None = None) -> list[Match]:
    """gensim's most_similar(positive=, negative=): cosine with the normalised mean of the unit
    vectors (positives added, negatives subtracted); with `cosmul`, most_similar_cosmul: the
    product of the positives' cosines shifted to [0, 1] over the negatives' (+1e-6; Levy &
    Goldberg 2014, eq. 4). The query words themselves are never answers."""
    if not positive:
        raise UsageError("give at least one positive word")
    rows = resolve(vecs, [*positive, *negative], case_insensitive=case_insensitive)  # every unknown word named
    pos, neg = rows[:len(positive)], rows[len(positive):]
    if cosmul:
        def shifted(row: int) -> np.ndarray:  # (n,) cosines in [0, 1]
            return (1 + cosines(vecs, unit_row(vecs, row), restrict)) / 2

        pos_d, neg_d = [shifted(r) for r in pos], [shifted(r) for r in neg]
        scores = np.prod(pos_d, axis=0) / (np.prod(neg_d or [np.ones_like(pos_d[0])], axis=0) + 0.000001)
    else:
        scores = cosines(vecs, mean_unit(vecs, pos, neg), restrict)
    return [Match(vecs.words[i], float(scores[i])) for i in top(scores, top_n, set(pos) | set(neg))]


def analogy(vecs: Vectors, a: str, b: str, c: str, *, method: str = "add", top_n: int = 10,
            case_insensitive: bool = False, restrict: int | None = None) -> list[Match]:
    """a : b :: c : ?  ranked by 3CosAdd (cos(x, b - a + c) on unit vectors) or 3CosMul."""
    if method not in ("add", "mul"):
        raise UsageError(f"--method must be add or mul (got {method!r})")
    resolve(vecs, [a, b, c], case_insensitive=case_insensitive)  # unknown words named in the order given
    return most_similar(vecs, [b, c], [a], cosmul=method == "mul", top_n=top_n,
                        case_insensitive=case_insensitive, restrict=restrict)


def similarity(vecs: Vectors, w1: str, w2: str, *, case_insensitive: bool = False) -> float:
    r1, r2 = resolve(vecs, [w1, w2], case_insensitive=case_insensitive)
    return float(np.dot(unit_row(vecs, r1), unit_row(vecs, r2)))


def doesnt_match(vecs: Vectors, words: list[str], *, case_insensitive: bool = False) -> list[Match]:
    """The words ranked by cosine with the mean of their unit vectors, the odd one LAST."""
    if len(words) < 2:
        raise UsageError(f"doesnt-match needs at least two words (got {len(words)})")
    rows = resolve(vecs, words, case_insensitive=case_insensitive)
    units = np.vstack([unit_row(vecs, r) for r in rows]).astype(np.float32)  # (k, d)
    mean = unit((units.astype(np.float64).sum(axis=0) / len(rows)).astype(np.float32))
    dists = units @ mean
    order = sorted(range(len(words)), key=lambda i: -float(dists[i]))
    return [Match(words[i], float(dists[i])) for i in order]
