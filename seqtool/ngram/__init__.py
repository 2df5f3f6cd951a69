"""N-gram language models: KenLM-style modified Kneser-Ney (and other
smoothers) trained with numpy, ARPA in and out, scoring, prediction, sampling.

    from seqtool.ngram import train_ngram, load_ngram
    model = train_ngram(open("train.txt"), order=3)
    model.score(open("test.txt")).perplexity
    model.full_scores("the company said")   # KenLM's (log10 p, ngram_length, oov) per token

Importing this package costs nothing: the names below load their module (and
numpy) on first use, so the CLI can read NgramConfig's defaults at --help time.
"""

from __future__ import annotations

from ..core.lazy import lazy_exports

_EXPORTS = {  # name -> (module, its name there)
    "NgramModel": (".model", "NgramModel"),
    "ScoreResult": (".model", "ScoreResult"),
    "WordScore": (".model", "WordScore"),
    "NgramConfig": (".options", "NgramConfig"),
    "load_ngram": (".store", "load_ngram"),
    "train_ngram": (".train", "train_ngram"),
    "read_arpa": (".arpa", "read_arpa"),
    "write_arpa": (".arpa", "write_arpa"),
    "arpa_word": (".arpa", "arpa_word"),
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
