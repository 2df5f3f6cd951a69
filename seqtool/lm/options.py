"""train-lm options, defaults and presets (no torch import here: --help stays fast)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..core.errors import UsageError
from ..core.store import name_from_inputs

OPTIMIZERS = ("sgd", "adam", "adamw")
CELLS = ("rnn", "rnn-relu", "lstm", "gru", "lstm-peephole", "cifg")

# A preset fills every option the user did not give; each can still be overridden.
PRESETS: dict[str, dict] = {
    # The "small" recipe of pytorch/examples word_language_model with tied weights
    # (Press & Wolf 2017): 2x200 LSTM, dropout 0.2, SGD lr 20, clip 0.25, lr/4 on plateau.
    # It fits a CPU hour on PTB (~1M tokens) and scales to corpora of a few million
    # words (fewer epochs fit, annealing still happens on the validation plateau).
    "ptb-small": dict(level="word", cell="lstm", layers=2, emb=200, hidden=200, dropout=0.2, tie=True,
                      bptt=35, batch_size=20, epochs=40, optimizer="sgd", lr=20.0, clip=0.25),
}


def preset_help() -> str:
    lines = []
    for name, values in PRESETS.items():
        flags = " ".join(_flag(k, v) for k, v in values.items())
        lines.append(f"{name}: {flags}")
    return "; ".join(lines)


def _flag(key: str, value) -> str:
    opt = {"tie": "tie-weights", "batch_size": "batch-size"}.get(key, key)
    if isinstance(value, bool):
        return f"--{opt}" if value else f"--no-{opt}"
    return f"--{opt} {value:g}" if isinstance(value, float) else f"--{opt} {value}"


@dataclass
class TrainOptions:
    corpus: list = field(default_factory=list)
    valid: str | None = None
    test: str | None = None
    level: str = "word"
    cell: str = "lstm"
    layers: int = 2
    emb: int | None = None  # None: 200, or the dimension of --embeddings
    hidden: int = 200
    dropout: float = 0.2
    tie: bool | None = None  # None: tie when emb == hidden and the embedding is trained
    bptt: int = 35
    batch_size: int = 20
    epochs: int = 20
    max_time: float | None = None  # seconds for this invocation
    lr: float | None = None  # None: 20 for sgd, 2e-3 for adam/adamw
    optimizer: str = "adam"
    clip: float | None = None  # None: 0.25 for sgd, 1.0 otherwise
    max_vocab: int | None = None
    min_freq: int = 1
    embeddings: str | None = None
    freeze: bool = False
    seed: int | None = None
    device: str = "auto"
    name: str | None = None
    resume: bool = False
    encoding: str = "utf-8"
    errors: str = "strict"
    hold_out: float = 0.05
    anneal: float | None = None  # lr divisor on a validation plateau (None: 4 sgd, 2 adam)
    patience: int = 3  # stop after this many epochs in a row without improvement
    eval_batch_size: int = 10
    amp: bool = True  # mixed precision on CUDA
    plot: str | None = None
    json: bool = False
    max_steps: int | None = None  # stop (as on Ctrl-C, checkpointed) after N steps: tests, profiling
    preset: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainOptions":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    # ------------------------------------------------------------ resolved values
    @property
    def lr_value(self) -> float:
        return self.lr if self.lr is not None else (20.0 if self.optimizer == "sgd" else 2e-3)

    @property
    def clip_value(self) -> float:
        return self.clip if self.clip is not None else (0.25 if self.optimizer == "sgd" else 1.0)

    @property
    def anneal_value(self) -> float:
        return self.anneal if self.anneal is not None else (4.0 if self.optimizer == "sgd" else 2.0)

    def validate(self) -> "TrainOptions":
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(f"unknown --optimizer {self.optimizer!r} (choose {', '.join(OPTIMIZERS)})")
        if self.cell not in CELLS:
            raise UsageError(f"unknown --cell {self.cell!r} (choose {', '.join(CELLS)})")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1) (got {self.dropout})")
        if self.tie and self.emb is not None and self.emb != self.hidden:
            raise UsageError(f"--tie-weights needs --emb equal to --hidden (got {self.emb} and {self.hidden})")
        if self.level not in ("word", "char"):
            raise UsageError(f"unknown --level {self.level!r} (choose word or char)")
        for name in ("bptt", "batch_size", "epochs", "min_freq", "eval_batch_size", "hidden", "layers"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if self.emb is not None and self.emb < 1:
            raise UsageError(f"--emb must be at least 1 (got {self.emb})")
        if self.lr is not None and not self.lr > 0:
            raise UsageError(f"--lr must be positive (got {self.lr})")
        if self.clip is not None and self.clip < 0:
            raise UsageError(f"--clip must be >= 0 (got {self.clip}); 0 turns clipping off")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise UsageError(f"--max-vocab must be at least 1 (got {self.max_vocab})")
        if self.max_time is not None and self.max_time <= 0:
            raise UsageError("--max-time must be positive")
        if self.freeze and not self.embeddings:
            raise UsageError("--freeze needs --embeddings VECTORS")
        if self.freeze and self.tie:
            raise UsageError("--freeze cannot be combined with --tie-weights (the softmax would be frozen too)")
        return self


def resolve_options(given: dict, preset: str | None = None) -> TrainOptions:
    """Defaults, then the preset, then what the user gave (None = not given)."""
    values: dict = {}
    if preset is not None:
        if preset not in PRESETS:
            raise UsageError(f"unknown --preset {preset!r} (choose {', '.join(PRESETS)})")
        values.update(PRESETS[preset])
        values["preset"] = preset
    values.update({k: v for k, v in given.items() if v is not None})
    return TrainOptions.from_dict(values).validate()


def default_model_name(corpus: list) -> str:
    """ptb.train.txt -> 'ptb.train'; stdin or odd names -> 'lm'."""
    return name_from_inputs(corpus, fallback="lm")
