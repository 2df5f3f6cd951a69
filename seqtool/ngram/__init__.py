"""N-gram language models: KenLM-style modified Kneser-Ney (and other
smoothers) trained with numpy, ARPA in and out, scoring, prediction, sampling.

    from seqtool.ngram import train_ngram, load_ngram
    model = train_ngram(open("train.txt"), order=3)
    model.score(open("test.txt")).perplexity
    model.full_scores("the company said")   # KenLM's (log10 p, ngram_length, oov) per token
"""

from .arpa import arpa_word, read_arpa, write_arpa
from .model import NgramModel, ScoreResult, WordScore
from .store import load_ngram
from .train import NgramConfig, train_ngram

__all__ = ["NgramModel", "NgramConfig", "ScoreResult", "WordScore", "load_ngram", "train_ngram",
           "read_arpa", "write_arpa", "arpa_word"]
