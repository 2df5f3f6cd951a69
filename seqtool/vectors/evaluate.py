"""Intrinsic evaluation: word analogies (accuracy per section) and word-pair
similarity (Spearman), with the exact rules of gensim's
KeyedVectors.evaluate_word_analogies / evaluate_word_pairs, so the figures are
the same: only the first `restrict` (300,000) words count, words are matched
upper-cased (first, i.e. most frequent, case variant wins), questions with
unknown words are skipped and reported as coverage, and an analogy is right
when the best of the top 5 answers that is not one of the three question
words is the expected word.

The analogy questions are answered in batches (one matrix product per batch
instead of one per question), which is many times faster on large
vocabularies than gensim's loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError, UsageError
from .model import Vectors
from .queries import unit

RESTRICT = 300_000


def default_file(name: str) -> str:
    """A test file that gensim ships (questions-words.txt, wordsim353.tsv)."""
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"gensim is not installed, so its {name} is not available; pass a file")
    path = os.path.join(list(spec.submodule_search_locations)[0], "test", "test_data", name)
    if not os.path.exists(path):
        raise InputError(f"{path}: not found in the gensim installation; pass a file")
    return path


@dataclass
class Section:
    name: str
    correct: int = 0
    attempted: int = 0
    questions: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.attempted if self.attempted else 0.0

    @property
    def coverage(self) -> float:
        return self.attempted / self.questions if self.questions else 0.0

    def as_dict(self) -> dict:
        return {"section": self.name, "correct": self.correct, "attempted": self.attempted,
                "questions": self.questions, "accuracy": self.accuracy, "coverage": self.coverage}


@dataclass
class AnalogyResult:
    file: str
    method: str
    sections: list[Section] = field(default_factory=list)
    total: Section = field(default_factory=lambda: Section("Total accuracy"))

    @property
    def oov_ratio(self) -> float:
        """Percentage of questions skipped for unknown words (gensim's oov_ratio)."""
        return 100.0 * (1 - self.total.coverage) if self.total.questions else 0.0


@dataclass
class PairsResult:
    file: str
    spearman: float
    spearman_p: float
    pearson: float
    pearson_p: float
    pairs: int
    oov: int

    @property
    def oov_ratio(self) -> float:
        return 100.0 * self.oov / (self.pairs + self.oov) if self.pairs + self.oov else 0.0


def _vocab(vecs: Vectors, restrict: int, case_insensitive: bool) -> dict[str, int]:
    keys = vecs.words[:restrict]
    index = vecs.index
    fold = str.upper if case_insensitive else (lambda w: w)
    return {fold(k): index[k] for k in reversed(keys)}


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, "rb") as fh:
            return [line.decode("utf-8") for line in fh]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: invalid UTF-8 at byte {exc.start} of a line") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def evaluate_analogies(vecs: Vectors, path: str | None = None, *, restrict: int = RESTRICT,
                       case_insensitive: bool = True, method: str = "add",
                       batch: int | None = None) -> AnalogyResult:
    path = path or default_file("questions-words.txt")
    if method not in ("add", "mul"):
        raise UsageError(f"--method must be add or mul (got {method!r})")
    ok = _vocab(vecs, restrict, case_insensitive)
    result = AnalogyResult(path, method)
    questions: list[tuple[Section, tuple[str, str, str, str], tuple[int, int, int]]] = []
    section: Section | None = None
    for line_no, line in enumerate(_read_lines(path)):
        if line.startswith(": "):
            section = Section(line.lstrip(": ").strip())
            result.sections.append(section)
            continue
        if section is None:
            raise InputError(f"{path}: line {line_no + 1} comes before the first ': SECTION' header")
        words = [w.upper() for w in line.split()] if case_insensitive else line.split()
        if len(words) != 4:
            continue
        section.questions += 1
        if any(w not in ok for w in words):
            continue
        a, b, c, _ = words
        questions.append((section, tuple(words), (ok[a], ok[b], ok[c])))  # type: ignore[arg-type]
    limit = min(restrict, len(vecs))
    matrix = vecs.matrix[:limit]
    norms = np.asarray(vecs.norms[:limit])
    batch = batch or max(1, min(512, (1 << 24) // max(1, limit)))
    words = vecs.words
    for start in range(0, len(questions), batch):
        chunk = questions[start:start + batch]
        scores = _batch_scores(vecs, matrix, norms, [q[2] for q in chunk], method)  # (B, limit)
        want = min(limit, 8)  # top 5 + the 3 question words, as gensim's most_similar(topn=5)
        if want < limit:
            best = np.argpartition(-scores, want - 1, axis=1)[:, :want]
        else:
            best = np.tile(np.arange(limit), (len(chunk), 1))
        for j, (sec, (a, b, c, expected), rows) in enumerate(chunk):
            cand = best[j]
            cand = cand[np.argsort(-scores[j, cand], kind="stable")]
            ranked = [int(i) for i in cand if int(i) not in rows][:5]
            ignore = {a, b, c}
            predicted = None
            for i in ranked:
                predicted = words[i].upper() if case_insensitive else words[i]
                if predicted in ok and predicted not in ignore:
                    break
            sec.attempted += 1
            if predicted == expected:
                sec.correct += 1
    for sec in result.sections:
        result.total.correct += sec.correct
        result.total.attempted += sec.attempted
        result.total.questions += sec.questions
    return result


def _batch_scores(vecs: Vectors, matrix: np.ndarray, norms: np.ndarray,
                  rows: list[tuple[int, int, int]], method: str) -> np.ndarray:
    def unit_rows(idx: list[int]) -> np.ndarray:  # (B, d) float32 unit vectors
        sub = np.asarray(vecs.matrix[idx], dtype=np.float32)
        n = np.asarray(vecs.norms[idx], dtype=np.float32)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, sub / n, sub).astype(np.float32)

    ua = unit_rows([r[0] for r in rows])
    ub = unit_rows([r[1] for r in rows])
    uc = unit_rows([r[2] for r in rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "add":
            # gensim: float32 mean of b + c - a over 3, then unit length, then cosines.
            mean = ((ub + uc) - ua).astype(np.float64) / 3.0
            length = np.sqrt(np.einsum("ij,ij->i", mean, mean))[:, None]
            mean = np.where(length > 0, mean * (1.0 / np.where(length > 0, length, 1.0)), mean)
            mean = mean.astype(np.float32)  # (B, d)
            scores = (mean @ matrix.T) / norms[None, :]  # (B, limit)
        else:
            cos = [(1 + (u @ matrix.T) / norms[None, :]) / 2 for u in (ub, uc, ua)]
            scores = cos[0] * cos[1] / (cos[2] + 0.000001)
    scores[~np.isfinite(scores)] = -np.inf
    return scores


def evaluate_pairs(vecs: Vectors, path: str | None = None, *, restrict: int = RESTRICT,
                   case_insensitive: bool = True, delimiter: str = "\t") -> PairsResult:
    from scipy import stats

    path = path or default_file("wordsim353.tsv")
    ok = _vocab(vecs, restrict, case_insensitive)
    gold: list[float] = []
    model: list[float] = []
    oov = 0
    for line in _read_lines(path):
        if not line or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if len(parts) != 3:
            continue
        a, b, sim = (p.upper() for p in parts) if case_insensitive else parts
        try:
            value = float(sim)
        except ValueError:
            continue
        if a not in ok or b not in ok:
            oov += 1
            continue
        gold.append(value)
        model.append(float(np.dot(unit(vecs.matrix[ok[a]]), unit(vecs.matrix[ok[b]]))))
    if not gold:
        raise InputError(f"{path}: no usable word pairs (bad format, or every pair has an unknown word)")
    if len(gold) < 3:
        raise InputError(f"{path}: only {len(gold)} pairs have both words known; too few for a correlation")
    spearman = stats.spearmanr(gold, model)
    pearson = stats.pearsonr(gold, model)
    return PairsResult(path, float(spearman[0]), float(spearman[1]), float(pearson[0]),
                       float(pearson[1]), len(gold), oov)
