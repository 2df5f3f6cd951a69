"""`embed train`'s options: one dataclass, the single place of their defaults, help and checks
(numpy-free, so `seqtool --help` reads the defaults without importing numpy or gensim)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..core.errors import UsageError
from ..core.options import option, validate_fields

ALGOS = ("word2vec", "fasttext", "glove", "doc2vec")
_GENSIM = ("word2vec", "fasttext", "doc2vec")
# The options only some algorithms read (the others apply to all): a typed one that the chosen
# algorithm ignores is worth a warning, since the user expected it to change something.
APPLIES_TO = {"sg": ("word2vec", "fasttext"), "negative": _GENSIM, "sample": _GENSIM, "hs": _GENSIM,
              "min_alpha": _GENSIM, "min_n": ("fasttext",), "max_n": ("fasttext",), "bucket": ("fasttext",),
              "x_max": ("glove",), "lr": ("glove",), "dm": ("doc2vec",), "layout": ("doc2vec",),
              "lower": ("word2vec", "fasttext", "glove")}
W2V, FT, GLOVE, DOC = "word2vec and fastText", "fastText subwords", "GloVe", "doc2vec"


@dataclass
class TrainConfig:
    """`embed train`'s options: the single place of their defaults, help and checks (the CLI's
    parameters are derived from these fields). gensim's defaults, so that a model trained
    here equals gensim's trained with the same options, seed and workers=1."""

    algo: str = option("word2vec", "word2vec, fasttext, glove, or doc2vec (document vectors, Le & Mikolov 2014, "
                       "through gensim's Doc2Vec).")
    sg: bool = option(False, "Skip-gram or CBOW (word2vec, fastText).", flag="--sg/--cbow", panel=W2V)
    dim: int = option(100, "Vector dimension.", minimum=1)
    window: int = option(5, "Context words on each side.", minimum=1)
    min_count: int = option(5, "Ignore words rarer than this.", minimum=1)
    epochs: int | None = option(None, "Passes over the corpus.", default_text="5; GloVe: 25; doc2vec: 10",
                                minimum=1)
    workers: int = option(3, "Threads; use 1 with --seed for identical results run after run.", minimum=1)
    seed: int = option(1, "Random seed.")
    lower: bool = option(False, "Lower-case the corpus.")
    negative: int = option(5, "Noise words drawn per context word (negative sampling; 0 turns it off, "
                           "then give --hs).", minimum=0, panel=W2V)
    sample: float = option(1e-3, "Down-sample words more frequent than this share of the corpus (0 = off).",
                           minimum=0.0, panel=W2V)
    hs: bool = option(False, "Hierarchical softmax (alone with --negative 0, or beside negative sampling).",
                      panel=W2V)
    # One flag, each peer's meaning: gensim's alpha is the learning rate, GloVe's the exponent of f(x).
    alpha: float | None = option(None, "word2vec, fastText: initial learning rate (gensim's alpha); GloVe: "
                                 "weighting exponent of f(x) = min(1, (x/x_max)^alpha).",
                                 default_text="0.025; GloVe: 0.75", above=0.0)
    min_alpha: float = option(0.0001, "word2vec, fastText: learning rate at the end of training (linear decay).",
                              minimum=0.0, panel=W2V)
    min_n: int = option(3, "fastText: shortest character n-gram.", minimum=1, panel=FT)
    max_n: int = option(6, "fastText: longest character n-gram.", minimum=1, panel=FT)
    bucket: int = option(2_000_000, "fastText: hash buckets of the n-gram vectors (stored: bucket x dim float32, "
                         "800 MB at 100 dimensions; lower it for small corpora).", minimum=1, panel=FT)
    x_max: float = option(100.0, "GloVe: count at which the weight reaches 1.", above=0.0, panel=GLOVE)
    lr: float = option(0.05, "GloVe: AdaGrad learning rate.", above=0.0, panel=GLOVE)
    batch_size: int = option(65536, "GloVe: co-occurrences per mini-batch.", minimum=1, cli=False)
    dm: bool = option(True, "doc2vec: PV-DM (distributed memory) or PV-DBOW.", flag="--dm/--dbow", panel=DOC)
    layout: str = option("auto", "doc2vec documents: auto (a folder: one per file; .jsonl: {\"id\",\"text\"} "
                         "records; else one per line), lines, files or jsonl.", panel=DOC)

    def check(self) -> "TrainConfig":
        if self.algo not in ALGOS:
            raise UsageError(f"--algo must be one of {', '.join(ALGOS)} (got {self.algo!r})")
        validate_fields(self)
        if self.algo != "glove" and self.negative == 0 and not self.hs:
            raise UsageError("--negative 0 leaves nothing to train: give --hs (hierarchical softmax) too")
        if self.algo == "fasttext" and self.max_n < self.min_n:
            raise UsageError(f"--max-n must be at least --min-n (got {self.max_n} < {self.min_n}); "
                             f"for vectors without subwords use --algo word2vec")
        return self

    def ignored(self, explicit: set) -> list[str]:
        """The flags among `explicit` (field names) that --algo does not use."""
        from ..core.options import flag_of

        by_name = {f.name: f for f in fields(self)}
        return [flag_of(by_name[n]) for n in sorted(explicit) if n in APPLIES_TO and self.algo not in APPLIES_TO[n]]

    @property
    def n_epochs(self) -> int:
        return self.epochs if self.epochs is not None else {"glove": 25, "doc2vec": 10}.get(self.algo, 5)

    @property
    def learning_rate(self) -> float:
        """gensim's alpha (word2vec, fastText)."""
        return self.alpha if self.alpha is not None else 0.025

    @property
    def glove_alpha(self) -> float:
        """GloVe's weighting exponent."""
        return self.alpha if self.alpha is not None else 0.75

    def resolved(self) -> dict:
        """The options as trained (worked-out defaults filled in), for config.json."""
        out = asdict(self)
        out.update(epochs=self.n_epochs, alpha=self.glove_alpha if self.algo == "glove" else self.learning_rate)
        for name in ("dm", "layout"):
            out.pop(name)
        if self.algo != "fasttext":
            for name in ("min_n", "max_n", "bucket"):
                out.pop(name)
        return out
