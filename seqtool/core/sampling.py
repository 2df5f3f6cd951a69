"""Sampling options shared by every language model (neural and n-gram).

Temperature 0 means greedy decoding (documented in `seqtool sample --help`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .errors import UsageError


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    greedy: bool = False

    def __post_init__(self) -> None:
        if self.temperature < 0 or self.temperature != self.temperature:
            raise UsageError(f"--temp must be >= 0 (got {self.temperature}); 0 means greedy")
        if self.top_k is not None and self.top_k < 1:
            raise UsageError(f"--top-k must be at least 1 (got {self.top_k})")
        if self.top_p is not None and not (0.0 < self.top_p <= 1.0):
            raise UsageError(f"--top-p must be in (0, 1] (got {self.top_p})")

    @property
    def is_greedy(self) -> bool:
        return self.greedy or self.temperature == 0 or self.top_k == 1


def filter_probs(probs: np.ndarray, options: SamplingOptions) -> np.ndarray:
    """Apply temperature, top-k and top-p to a probability vector; returns a new
    normalised vector (greedy decoding is left to the caller)."""
    p = np.asarray(probs, dtype=np.float64)
    if options.temperature not in (0.0, 1.0):
        with np.errstate(divide="ignore"):
            logits = np.log(p) / options.temperature
        logits -= logits.max()
        p = np.exp(logits)
    if options.top_k is not None and options.top_k < p.size:
        cut = np.partition(p, -options.top_k)[-options.top_k]
        p = np.where(p >= cut, p, 0.0)
    if options.top_p is not None and options.top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        sorted_p = p[order] / p.sum()
        # keep the smallest prefix whose mass reaches top_p
        keep = np.searchsorted(np.cumsum(sorted_p), options.top_p) + 1
        mask = np.zeros_like(p, dtype=bool)
        mask[order[:keep]] = True
        p = np.where(mask, p, 0.0)
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("no probability mass left to sample from")
    return p / total


def choose(probs: np.ndarray, options: SamplingOptions, rng: np.random.Generator) -> int:
    """Pick one index from a probability vector according to `options`."""
    if options.is_greedy:
        return int(np.argmax(probs))
    p = filter_probs(probs, options)
    return int(rng.choice(p.size, p=p))
