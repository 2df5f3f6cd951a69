"""doc2vec's training options (gensim's Doc2Vec parameters plus the tokenizer), stored in the
model's config.json so that inference rebuilds the same model."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable

from ...core.errors import UsageError
from ...core.text import WORD_METHODS, Tokenizer
from ..options import TrainConfig

TOKENIZERS = (*WORD_METHODS, "gensim")


@dataclass
class Doc2VecConfig:
    dm: bool = True  # PV-DM (True) or PV-DBOW (False)
    vector_size: int = 100
    window: int = 5
    epochs: int = 10
    min_count: int = 5
    negative: int = 5
    hs: bool = False  # hierarchical softmax (with negative=0 it replaces negative sampling)
    sample: float = 1e-3
    alpha: float = 0.025
    min_alpha: float = 0.0001
    dbow_words: bool = False  # PV-DBOW: also train word vectors skip-gram style
    seed: int = 1
    workers: int = 3
    tokenizer: str = "whitespace"  # a seqtool word tokenizer, or "gensim" (simple_preprocess)
    lower: bool = True

    def check(self) -> "Doc2VecConfig":
        for name in ("vector_size", "window", "epochs", "min_count", "workers"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.negative < 0:
            raise UsageError("--negative must be 0 or more")
        if self.negative == 0 and not self.hs:
            raise UsageError("--negative 0 needs --hs (no output layer would be trained)")
        if self.tokenizer not in TOKENIZERS:
            raise UsageError(f"unknown tokenizer {self.tokenizer!r} (choose from {', '.join(TOKENIZERS)})")
        return self

    def tokenize(self) -> Callable[[str], list[str]]:
        if self.tokenizer == "gensim":
            from gensim.utils import simple_preprocess

            return simple_preprocess
        return Tokenizer("word", self.tokenizer, self.lower)

    def gensim_params(self) -> dict:
        return {"dm": int(self.dm), "vector_size": self.vector_size, "window": self.window,
                "epochs": self.epochs, "min_count": self.min_count, "negative": self.negative,
                "hs": int(self.hs), "sample": self.sample, "alpha": self.alpha, "min_alpha": self.min_alpha,
                "dbow_words": int(self.dbow_words), "seed": self.seed, "workers": self.workers}

    @classmethod
    def from_options(cls, options: TrainConfig) -> "Doc2VecConfig":
        """The doc2vec config of `embed train --algo doc2vec`'s options (tokenizer and case: doc2vec's own)."""
        return cls(dm=options.dm, vector_size=options.dim, window=options.window, min_count=options.min_count,
                   epochs=options.n_epochs, workers=options.workers, seed=options.seed, negative=options.negative,
                   hs=options.hs, sample=options.sample, alpha=options.learning_rate, min_alpha=options.min_alpha)

    @classmethod
    def from_dict(cls, data: dict) -> "Doc2VecConfig":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
