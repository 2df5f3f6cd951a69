"""Training options (torch-free, so the CLI can show the defaults without importing torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..core.errors import UsageError


@dataclass
class TrainOptions:
    """The defaults are the recipe: no tuning flags needed for sentence classification."""

    cell: str = "gru"
    bidirectional: bool = True
    layers: int = 1
    hidden: int = 128
    emb: int = 128
    dropout: float = 0.5
    pooling: str = "max"
    ngrams: int = 2
    nb_scale: bool = False
    embeddings: str | None = None
    freeze: bool = False
    epochs: int = 20
    patience: int = 3
    batch_size: int = 64
    lr: float = 3e-3
    ngram_lr: float | None = 0.01
    weight_decay: float = 0.0
    clip: float = 5.0
    word_dropout: float = 0.0  # a in a / (a + count): rare words trained as <UNK> (0: off)
    valid_split: float = 0.1
    max_len: int = 400
    min_freq: int = 1
    seed: int = 0
    device: str = "auto"
    # After early stopping on a held-out split, train afresh on all the data for the best
    # epoch count (what the peers' users do); the held-out accuracy is the one reported.
    refit: bool = True
    tokenizer: dict = field(default_factory=lambda: {"level": "word", "method": "regex", "lower": True})

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise UsageError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.lr <= 0:
            raise UsageError(f"--lr must be positive, got {self.lr}")
        if self.max_len < 1:
            raise UsageError(f"--max-len must be at least 1, got {self.max_len}")
        if self.ngrams < 0 or self.ngrams > 5:
            raise UsageError(f"--ngrams must be between 0 and 5, got {self.ngrams}")
        if self.freeze and not self.embeddings:
            raise UsageError("--freeze needs --embeddings VECTORS")

    def to_dict(self) -> dict:
        return asdict(self)

    # Options that change the model or the batches (a resume must use the same ones).
    def fingerprint(self) -> dict:
        d = self.to_dict()
        for key in ("device", "epochs", "patience"):
            d.pop(key)
        return d


DEFAULTS = TrainOptions()
