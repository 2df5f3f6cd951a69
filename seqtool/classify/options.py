"""Training options: one dataclass, the single place of the recipe's defaults, help and checks
(torch-free, so the CLI can show the defaults without importing torch). The Typer parameters
of `classify train` and `classify cv` are derived from these fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..core.errors import UsageError
from ..core.options import EXTEND, RUN, option, validate_fields

M, T = "Model", "Training"


@dataclass
class TrainOptions:
    """The defaults are the recipe: no tuning flags needed for sentence classification."""

    arch: str = option("rnn+cnn+linear", "rnn+cnn+linear (the rnn, the cnn and the linear model, each trained "
                       "as alone, their probabilities averaged: the most accurate, at the rnn's and the cnn's "
                       "cost), rnn+cnn, rnn (recurrent), cnn (Kim 2014 CNN-rand: widths 3,4,5 x 100 maps, max "
                       "over time), cnn-rnn (convolution and pooling, then the recurrent stack) or linear "
                       "(logistic regression on TF-IDF uni+bigrams; its epochs walk C = 1, 4, 16, 64, 256).",
                       choices=("rnn+cnn+linear", "rnn+cnn", "rnn", "cnn", "cnn-rnn", "linear"), panel=M)
    widths: str = option("3,4,5", "cnn, cnn-rnn and the ensembles: convolution filter widths.", panel=M)
    maps: int = option(100, "cnn, cnn-rnn and the ensembles: feature maps per filter width.", minimum=1, panel=M)
    max_norm: float = option(3.0, "cnn, cnn-rnn and the ensembles: l2 bound on each output-layer row after every update (0 = off).",
                             minimum=0.0, panel=M)
    pool: int = option(2, "cnn-rnn: max-pool size and stride over time before the RNN (1 = none).", minimum=1,
                       panel=M)
    cell: str = option("gru", "Recurrent cell (rnn, cnn-rnn and the ensembles): lstm, gru, rnn, lstm-peephole or cifg.",
                       choices=("lstm", "gru", "rnn", "lstm-peephole", "cifg"), panel=M)
    bidirectional: bool = option(True, "Read the text both ways.", flag="--bidirectional/--unidirectional", panel=M)
    layers: int = option(1, "Stacked recurrent layers.", minimum=1, panel=M)
    hidden: int = option(128, "Hidden units per direction.", minimum=1, panel=M)
    emb: int = option(128, "Word embedding size (taken from --embeddings when given).", minimum=1, panel=M)
    dropout: float = option(0.5, "Dropout on embeddings and pooled features.", minimum=0.0, below=1.0, panel=M)
    pooling: str = option("max", "Over time: max, mean or last (final states).", choices=("max", "mean", "last"),
                          panel=M)
    ngrams: int = option(2, "Linear bag-of-n-grams path up to this order (0 turns it off).", minimum=0, maximum=5,
                         panel=M)
    nb_scale: bool = option(False, "Scale n-gram features by their naive-Bayes log-count ratio.", cli=False)
    embeddings: str | None = option(None, "Pretrained word vectors (a stored vectors model or a vectors file).",
                                    panel=M)
    freeze: bool = option(False, "Keep the pretrained vectors fixed.", panel=M)
    epochs: int = option(20, "Most epochs (early stopping usually ends sooner).", minimum=1, role=EXTEND, panel=T)
    patience: int = option(3, "Stop after this many epochs without a better validation accuracy.", minimum=1,
                           role=EXTEND, panel=T)
    batch_size: int = option(64, "Examples per batch.", minimum=1, panel=T)
    lr: float = option(3e-3, "Adam learning rate.", above=0.0, panel=T)
    ngram_lr: float | None = option(0.01, "Learning rate of the n-gram table (None: --lr).", cli=False)
    weight_decay: float = option(0.0, "Adam weight decay of the dense weights.", minimum=0.0, cli=False)
    clip: float = option(5.0, "Gradient norm clipping of the recurrent weights (0 = off).", minimum=0.0, cli=False)
    # a in a / (a + count): rare words trained as <UNK> (0: off)
    word_dropout: float = option(0.0, "Train <UNK> on rare words: word w becomes <UNK> with probability "
                                 "a/(a + count(w)), so unseen words get a trained embedding (0 turns it off).",
                                 minimum=0.0, panel=T)
    valid_split: float = option(0.1, "Fraction of DATA held out (stratified) when there is no --valid.",
                                above=0.0, below=1.0, panel=T)
    max_len: int = option(400, "Tokens kept per text (the rest is cut).", minimum=1, panel=M)
    min_freq: int = option(1, "Words seen fewer times become <UNK>.", minimum=1, cli=False)
    seed: int = option(0, "Random seed; the same seed gives the same result on CPU.")
    device: str = option("auto", "auto (CUDA when present), cpu, cuda or cuda:N.", role=RUN)
    threads: str | None = option(None, "CPU threads: a number, or auto (one per idle core: torch's threads "
                                 "spin-wait on a busy core).", default_text="auto, or $SEQTOOL_THREADS", role=RUN)
    force: bool = option(False, "Replace a model of another kind stored under --name (a classifier of the "
                         "same name is always replaced, its previous version kept).", role=RUN)
    # After early stopping on a held-out split, train afresh on all the data for the best
    # epoch count (what the peers' users do); the held-out accuracy is the one reported.
    refit: bool = option(True, "After early stopping on the held-out split, retrain on all of DATA for the best "
                         "epoch count (not with --valid).", flag="--refit/--no-refit", panel=T)
    # fastText's -loss ova: one sigmoid per label, binary cross-entropy, for multi-label data
    loss: str = option("auto", "softmax (one label per text), ova (one-vs-all: a sigmoid per label, binary "
                       "cross-entropy, as fastText's -loss ova) or auto: ova when DATA is multi-label "
                       "(__label__a __label__b text, or a,b in the label field), else softmax.",
                       choices=("auto", "softmax", "ova"), panel=M)
    features: str | None = option(None, "doc2vec:MODEL adds a linear (logistic-regression) path on the "
                                  "document vector the stored doc2vec MODEL infers for each text.", panel=M)
    max_time: float | None = option(None, "Stop after this long (90s, 10m, 1h30m), keeping the best model "
                                    "(no refit then; --resume continues).", parse="duration", above=0.0,
                                    role=RUN, panel=T)
    # an ensemble's refit: each member's own epoch count (set by the early-stopping phase, not by users)
    member_epochs: list | None = option(None, "Refit epochs per member of an ensemble.", cli=False)
    tokenizer: dict = option(help="Tokenizer settings.", cli=False,
                             default_factory=lambda: {"level": "word", "method": "regex", "lower": True})

    def __post_init__(self) -> None:
        validate_fields(self)  # also turns a --max-time of "10m" into seconds
        self.width_tuple  # noqa: B018 - checks the numbers
        if self.freeze and not self.embeddings:
            raise UsageError("--freeze needs --embeddings VECTORS")
        self.doc2vec_model  # noqa: B018 - checks --features

    @property
    def doc2vec_model(self) -> str | None:
        """The stored doc2vec model of --features doc2vec:MODEL (None without --features)."""
        if self.features is None:
            return None
        name = self.features[len("doc2vec:"):] if self.features.startswith("doc2vec:") else ""
        if not name:
            raise UsageError(f"--features takes doc2vec:MODEL (a stored doc2vec model), got {self.features!r}")
        return name

    @property
    def width_tuple(self) -> tuple[int, ...]:
        try:
            widths = tuple(int(w) for w in str(self.widths).replace(",", " ").split())
        except ValueError:
            widths = ()
        if not widths or min(widths) < 1:
            raise UsageError(f"--widths takes whole numbers of at least 1, e.g. 3,4,5 (got {self.widths!r})")
        return widths

    def to_dict(self) -> dict:
        return asdict(self)

    # Options that change the model or the batches (a resume must use the same ones).
    def fingerprint(self) -> dict:
        d = self.to_dict()
        for key in ("device", "threads", "epochs", "patience", "max_time", "member_epochs"):
            d.pop(key)
        return d


DEFAULTS = TrainOptions()
