"""What scoring returns: ScoreResult (totals with KenLM query's definitions) and WordScore
(one token's KenLM full_scores tuple)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass
class ScoreResult:
    """Totals with KenLM query's definitions: tokens count every word plus one
    </s> per sentence; OOVs are words outside the vocabulary (scored as <unk>).
    `log10_prob_excl_oov` is summed over the in-vocabulary tokens only (not
    computed as a difference, which is nan when an OOV scores -inf)."""

    sentences: int = 0
    tokens: int = 0
    oov: int = 0
    log10_prob: float = 0.0
    log10_prob_excl_oov: float = 0.0
    words: list | None = None  # per-word scoring: a WordScore per token and the </s>

    @property
    def perplexity(self) -> float:
        return _ppl(self.log10_prob, self.tokens)

    @property
    def perplexity_excl_oov(self) -> float:
        return _ppl(self.log10_prob_excl_oov, self.tokens - self.oov)

    def add(self, other: "ScoreResult") -> None:
        self.sentences += other.sentences
        self.tokens += other.tokens
        self.oov += other.oov
        self.log10_prob += other.log10_prob
        self.log10_prob_excl_oov += other.log10_prob_excl_oov

    def to_dict(self) -> dict:
        return {"sentences": self.sentences, "tokens": self.tokens, "oov": self.oov,
                "log10_prob": self.log10_prob, "perplexity": self.perplexity,
                "perplexity_excl_oov": self.perplexity_excl_oov}

    def unnormalized_dict(self) -> dict:
        """For models whose scores are not probabilities (stupid backoff): the score of the
        in-vocabulary tokens, no perplexity (see docs/ngram.md)."""
        return {"sentences": self.sentences, "tokens": self.tokens, "oov": self.oov,
                "log10_score": self.log10_prob_excl_oov}


class WordScore(NamedTuple):
    """One token's score, KenLM's full_scores tuple (prob, ngram_length, oov) with the token."""

    token: str
    log10_prob: float
    ngram_length: int  # the length of the n-gram whose probability was used (1: the unigram)
    oov: bool          # scored as <unk>: outside the vocabulary, or the token <unk> itself


def _ppl(log10_prob: float, tokens: int) -> float:
    if tokens <= 0:
        return float("nan")
    try:
        return 10.0 ** (-log10_prob / tokens)
    except OverflowError:
        return float("inf")


__all__ = ["ScoreResult", "WordScore"]
