"""train-lm options: one dataclass, the single place of defaults, help, checks and presets.

No torch import here: `seqtool train-lm --help` is built from these fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..core.errors import UsageError
from ..core.store import name_from_inputs
from ..core.options import EXTEND, RUN, given_names, option, resume_options as _resume, validate_fields

OPTIMIZERS = ("sgd", "adam", "adamw")
CELLS = ("rnn", "rnn-relu", "lstm", "gru", "lstm-peephole", "cifg")
LEVELS = ("word", "char")
SOFTMAXES = ("auto", "full", "adaptive")
SCHEDULES = ("plateau", "linear")

# A preset fills every option the user did not give; each can still be overridden.
PRESETS: dict[str, dict] = {
    # The "small" recipe of pytorch/examples word_language_model with tied weights
    # (Press & Wolf 2017): 2x200 LSTM, dropout 0.2, SGD lr 20, clip 0.25, lr/4 on plateau.
    # It fits a CPU hour on PTB (~1M tokens) and scales to corpora of a few million
    # words (fewer epochs fit, annealing still happens on the validation plateau).
    "ptb-small": dict(level="word", cell="lstm", layers=2, emb=200, hidden=200, dropout=0.2, tie=True,
                      bptt=35, batch_size=20, epochs=40, optimizer="sgd", lr=20.0, clip=0.25, softmax="full"),
    # "A corpus of 1-3M words, 60 minutes, 2 CPU cores" (issue 17). The budget fixes the
    # model size: measured tokens per CPU-second of one thread (PTB's 10k words, adaptive,
    # 40 steps, load 4-7): 2x200 3,929, 2x400 1,777, 2x650 757; two idle cores give 1.6-1.9x
    # one. So an hour is ~25M tokens at 2x200 (25 PTB epochs: a 200-unit model saturates,
    # ptb-small reached test 89.5 after 18), ~11M at 2x400 (12 PTB epochs at that load, 28 on
    # two idle cores; 4-5 of a 2-3M-word corpus) and ~5M at 2x650 (5 epochs, where Zaremba's
    # medium model needed 39): 2x400, tied (Press & Wolf 2017: tying helps most as the model
    # grows). Regularization: AWD-LSTM's values (dropouti 0.65, dropouth 0.3, dropout 0.4,
    # dropoute 0.1, wdrop 0.5; Merity et al. 2017) are for 1150 units and hundreds of
    # epochs; about two thirds of them here. The
    # first cut (half of them: 0.3/0.3/0.2/0.3, wdrop 0.2) overfit within the hour, train/valid
    # ppl 50/94 on PTB and 146/459 on BBC. SGD lr 20, clip 0.25 (pytorch/examples;
    # AWD uses SGD too): after 2 epochs of 8k PTB lines SGD 20 gave valid ppl 322 where Adam
    # 0.002 gave 424 (session 8). Schedule: linear decay to 0 over the hour (Li, Yumer &
    # Ramanan 2020, "Budgeted training": the best schedule for a fixed budget); a plateau
    # rule anneals late or never in 4-12 epochs. softmax auto: adaptive from 5,000 words
    # (1.9x the full softmax at 10k words, 4.8x at 33k). Measured in 60 minutes
    # (docs/train-lm.md): PTB, 2 idle threads, 27.9 epochs, test 82.41 (Zaremba medium 82.7;
    # the first cut: 88.99); BBC (60k words), 1 thread, test 458 against the pytorch/examples
    # loop's 718 (-36%; the first cut: 465).
    "cpu-hour": dict(level="word", cell="lstm", layers=2, emb=400, hidden=400, tie=True, softmax="auto",
                     dropout=0.4, dropout_in=0.4, dropout_hidden=0.25, dropout_out=0.4, dropout_emb=0.1,
                     weight_drop=0.35,
                     bptt=35, batch_size=20, epochs=100, optimizer="sgd", lr=20.0, clip=0.25,
                     schedule="linear", max_time=3600.0),
}


def preset_help() -> str:
    return "; ".join(f"{name}: " + " ".join(_flag(k, v) for k, v in values.items()) for name, values in PRESETS.items())


def _flag(key: str, value) -> str:
    opt = {"tie": "tie-weights"}.get(key, key.replace("_", "-"))
    if key == "max_time":
        return f"--{opt} {value / 60:g}m"
    if isinstance(value, bool):
        return f"--{opt}" if value else f"--no-{opt}"
    return f"--{opt} {value:g}" if isinstance(value, float) else f"--{opt} {value}"


M, R, T, E = "Model", "Regularization", "Training", "Evaluation"


@dataclass
class TrainOptions:
    corpus: list = option(help="Training text: files, directories, globs or '-'.", default_factory=list,
                          role=EXTEND, cli=False)
    valid: str | None = option(None, "Validation text (default: hold out the last 5% of the corpus).", panel=T)
    test: str | None = option(None, "Test text: its perplexity under the best model is reported at the end.",
                              panel=T, role=RUN)
    level: str = option("word", "word or char.", choices=LEVELS, panel=M)
    cell: str = option("lstm", "rnn, rnn-relu, lstm, gru, lstm-peephole (Gers & Schmidhuber) or cifg "
                       "(coupled input-forget gate).", choices=CELLS, panel=M)
    layers: int = option(2, "Stacked RNN layers.", minimum=1, panel=M)
    emb: int | None = option(None, "Embedding size.", default_text="200, or the dimension of --embeddings",
                             minimum=1, panel=M)
    hidden: int = option(200, "Hidden units per layer.", minimum=1, panel=M)
    dropout: float = option(0.2, "Dropout on embeddings, between layers and before the softmax.", minimum=0.0,
                            below=1.0, panel=M)
    tie: bool | None = option(None, "Share the embedding and softmax weights.", flag="--tie-weights/--no-tie-weights",
                              default_text="when --emb equals --hidden", panel=M)
    softmax: str = option("auto", "full, adaptive (Grave et al. 2017: frequent words in a head, rare ones in "
                          "clusters of smaller projections; exact probabilities, several times faster on large "
                          "vocabularies) or auto (adaptive from 5,000 words).", choices=SOFTMAXES, panel=M)
    cutoffs: str | None = option(None, "Adaptive softmax cluster boundaries by frequency rank, e.g. 2000,10000.",
                                 default_text="2000, 10000, 50000, ... while the vocabulary is at least twice the cut",
                                 panel=M)
    dropout_in: float | None = option(None, "AWD-LSTM: locked (variational) dropout on the embeddings, one mask "
                                      "per sequence.", default_text="off: --dropout", minimum=0.0, below=1.0, panel=R)
    dropout_hidden: float | None = option(None, "AWD-LSTM: locked dropout between layers.",
                                          default_text="off: --dropout", minimum=0.0, below=1.0, panel=R)
    dropout_out: float | None = option(None, "AWD-LSTM: locked dropout on the last layer's output.",
                                       default_text="off: --dropout", minimum=0.0, below=1.0, panel=R)
    dropout_emb: float = option(0.0, "AWD-LSTM: embedding dropout, whole words dropped (dropoute).", minimum=0.0,
                                below=1.0, panel=R)
    weight_drop: float = option(0.0, "AWD-LSTM: DropConnect on the hidden-to-hidden weights (wdrop).", minimum=0.0,
                                below=1.0, panel=R)
    alpha: float = option(0.0, "AWD-LSTM: activation regularization (AR) weight.", minimum=0.0, panel=R)
    beta: float = option(0.0, "AWD-LSTM: temporal activation regularization (TAR) weight.", minimum=0.0, panel=R)
    bptt: int = option(35, "Tokens per truncated-BPTT window.", minimum=1, panel=T)
    batch_size: int = option(20, "Parallel columns of the corpus.", minimum=1, panel=T)
    epochs: int = option(20, "Maximum epochs (on --resume: extend the run to this many).", minimum=1, role=EXTEND,
                         panel=T)
    max_time: float | None = option(None, "Stop after this long (90s, 10m, 1h30m), keeping the best model.",
                                    parse="duration", above=0.0, role=RUN, panel=T)
    lr: float | None = option(None, "Learning rate; divided by 4 (sgd) or 2 on a validation plateau.",
                              default_text="20 for sgd, 0.002 for adam/adamw", above=0.0, panel=T)
    optimizer: str = option("adam", "sgd, adam or adamw.", choices=OPTIMIZERS, panel=T)
    schedule: str = option("plateau", "plateau: divide the lr (see --lr) after an epoch without validation "
                           "improvement; linear: decay it linearly to 0 over the run's budget, --max-time or "
                           "--epochs, whichever is used up first (no plateau division): the best schedule "
                           "for a fixed budget (Li et al. 2020, Budgeted Training).", choices=SCHEDULES,
                           panel=T)
    clip: float | None = option(None, "Gradient norm clipping (0 = off).", default_text="0.25 for sgd, 1 otherwise",
                                minimum=0.0, panel=T)
    patience: int = option(3, "Stop after this many epochs without validation improvement.", minimum=1,
                           role=EXTEND, panel=T)
    max_vocab: int | None = option(None, "Keep the N most frequent tokens; the rest become <UNK>.", minimum=1,
                                   panel=M)
    min_freq: int = option(1, "Tokens seen fewer times become <UNK>.", minimum=1, panel=M)
    embeddings: str | None = option(None, "Initialise the embedding from word vectors (a file or stored vectors).",
                                    panel=M)
    freeze: bool = option(False, "Keep the --embeddings fixed.", panel=M)
    seed: int | None = option(None, "Random seed; the same seed gives the same result on CPU.")
    device: str = option("auto", "auto (CUDA when present), cpu, cuda or cuda:N.", role=RUN)
    threads: str | None = option(None, "CPU threads: a number, or auto (one per idle core: torch's threads "
                                 "spin-wait on a busy core).", default_text="auto, or $SEQTOOL_THREADS", role=RUN)
    name: str | None = option(None, "Name in the model store (default: from the first CORPUS file).", role=RUN)
    resume: bool = option(False, "Continue the run saved under --name: its whole recipe is kept; --epochs, "
                          "--patience, --max-time, --device, --test, --plot, --json may change.", role=RUN)
    publish_partial: bool = option(False, "Let an unfinished run (stopped or --max-time) replace a finished "
                                   "model of the same name.", role=RUN)
    force: bool = option(False, "Replace a model of another kind stored under --name (a language model of "
                         "the same name is always replaced, its previous version kept).", role=RUN)
    encoding: str = option("utf-8", "Text encoding of the inputs.")
    errors: str = option("strict", "On undecodable bytes: strict (fail, naming file and byte) or replace.",
                         choices=("strict", "replace", "ignore"))
    hold_out: float = option(0.05, "Share of the corpus held out without --valid.", cli=False)
    anneal: float | None = option(None, "lr divisor on a validation plateau.", default_text="4 for sgd, 2 otherwise",
                                  above=0.0, cli=False)
    eval_batch_size: int = option(10, "Columns for validation.", minimum=1, cli=False)
    amp: bool = option(True, "Mixed precision on CUDA.", cli=False)
    plot: str | None = option(None, "Also draw train/valid perplexity per epoch into this file (.png, .svg, .pdf; "
                              "needs matplotlib: seqtool[plot]).", role=RUN)
    as_json: bool = option(False, "Write JSON lines to stdout instead of text.", flag="--json", role=RUN)
    max_steps: int | None = option(None, "Stop (as on Ctrl-C, checkpointed) after N steps: tests, profiling.",
                                   minimum=1, role=RUN, hidden=True)
    preset: str | None = option(None, "A tested recipe: " + ", ".join(PRESETS) + " (see above).", panel=T,
                                choices=tuple(PRESETS))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainOptions":
        names = {f.name for f in fields(cls)}
        if "json" in data and "as_json" not in data:  # checkpoints written before the field's rename
            data = {**data, "as_json": data["json"]}
        return cls(**{k: v for k, v in data.items() if k in names})

    # ------------------------------------------------------------ resolved values
    @property
    def lr_value(self) -> float:
        return self.lr if self.lr is not None else (20.0 if self.optimizer == "sgd" else 2e-3)

    @property
    def cutoffs_tuple(self) -> tuple[int, ...] | None:
        if self.cutoffs is None:
            return None
        try:
            return tuple(int(part) for part in str(self.cutoffs).replace(",", " ").split())
        except ValueError:
            raise UsageError(f"--cutoffs takes whole numbers, e.g. 2000,10000 (got {self.cutoffs!r})") from None

    @property
    def clip_value(self) -> float:
        return self.clip if self.clip is not None else (0.25 if self.optimizer == "sgd" else 1.0)

    @property
    def anneal_value(self) -> float:
        return self.anneal if self.anneal is not None else (4.0 if self.optimizer == "sgd" else 2.0)

    def validate(self) -> "TrainOptions":
        validate_fields(self)
        if self.tie and self.emb is not None and self.emb != self.hidden:
            raise UsageError(f"--tie-weights needs --emb equal to --hidden (got {self.emb} and {self.hidden})")
        if self.freeze and not self.embeddings:
            raise UsageError("--freeze needs --embeddings VECTORS")
        if self.cutoffs is not None and self.softmax == "full":
            raise UsageError("--cutoffs needs --softmax adaptive (or auto)")
        self.cutoffs_tuple  # noqa: B018 - checks the numbers
        if self.freeze and self.tie:
            raise UsageError("--freeze cannot be combined with --tie-weights (the softmax would be frozen too)")
        return self


def resolve_options(given: dict, preset: str | None = None) -> TrainOptions:
    """Defaults, then the preset, then what the user gave (None = not given)."""
    values: dict = {}
    preset = preset if preset is not None else given.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise UsageError(f"unknown --preset {preset!r} (choose {', '.join(PRESETS)})")
        values.update(PRESETS[preset])
        values["preset"] = preset
    values.update({k: v for k, v in given.items() if v is not None})
    return TrainOptions.from_dict(values).validate()


def resume_options(saved: TrainOptions, given: TrainOptions, explicit: set[str] | None = None) -> TrainOptions:
    """The stored recipe with this call's run-control options (see seqtool.core.options)."""
    if explicit is None:
        explicit = given_names(given, TrainOptions())
    if not given.corpus:
        explicit = explicit - {"corpus"}
    opts = _resume(saved, given, explicit)
    opts.resume = True
    return opts


def default_model_name(corpus: list) -> str:
    """ptb.train.txt -> 'ptb.train'; stdin or odd names -> 'lm'."""
    return name_from_inputs(corpus, fallback="lm")
