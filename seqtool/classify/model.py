"""The classifier: a (bidirectional) RNN over packed sequences, pooled over time,
plus a linear bag-of-n-grams path whose logits are added to the RNN's.

The n-gram path is logistic regression on binary uni+bigram features (what
NBSVM and TF-IDF+LR exploit); the RNN adds word order and shared word meaning.
Packing means no RNN step is spent on padding, and each sequence's result does
not depend on what it was batched with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..core.errors import UsageError

CELLS = ("lstm", "gru", "rnn")
POOLINGS = ("max", "mean", "last")


@dataclass
class ClassifierConfig:
    vocab_size: int
    num_classes: int
    num_ngrams: int = 0
    pad_id: int = 2
    cell: str = "gru"
    bidirectional: bool = True
    layers: int = 1
    hidden: int = 128
    emb: int = 128
    dropout: float = 0.5
    pooling: str = "max"
    nb_scale: bool = False

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise UsageError(f"unknown --cell {self.cell!r} (choose lstm, gru or rnn)")
        if self.pooling not in POOLINGS:
            raise UsageError(f"unknown --pooling {self.pooling!r} (choose max, mean or last)")
        if self.layers < 1 or self.hidden < 1 or self.emb < 1:
            raise UsageError("--layers, --hidden and --emb must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)


class RNNClassifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=cfg.pad_id)
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cfg.cell]
        self.rnn = rnn_cls(cfg.emb, cfg.hidden, num_layers=cfg.layers, bidirectional=cfg.bidirectional,
                           dropout=cfg.dropout if cfg.layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)
        directions = 2 if cfg.bidirectional else 1
        self.out = nn.Linear(cfg.hidden * directions, cfg.num_classes)
        self.ngram = nn.EmbeddingBag(cfg.num_ngrams, cfg.num_classes, mode="sum") if cfg.num_ngrams else None
        if self.ngram is not None:
            nn.init.zeros_(self.ngram.weight)
            if cfg.nb_scale:
                # Per-n-gram feature value: its naive-Bayes log-count ratio (set by training).
                self.register_buffer("ngram_scale", torch.ones(cfg.num_ngrams))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, ngrams: torch.Tensor | None = None,
                offsets: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) padded, lengths (B,) on CPU; ngrams flat (N,) with offsets (B,) -> logits (B, C)."""
        emb = self.drop(self.embedding(tokens))  # (B, T, E)
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        if self.cfg.pooling == "last":
            h = state[0] if isinstance(state, tuple) else state  # (L*D, B, H)
            directions = 2 if self.cfg.bidirectional else 1
            pooled = torch.cat([h[-d] for d in range(directions, 0, -1)], dim=-1)  # (B, D*H)
        else:
            padded, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))  # (B, T, D*H)
            mask = (torch.arange(tokens.size(1), device=tokens.device)[None, :]
                    < lengths.to(tokens.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
            if self.cfg.pooling == "max":
                pooled = padded.masked_fill(~mask, float("-inf")).max(dim=1).values
            else:
                pooled = padded.sum(dim=1) / lengths.to(padded.device, padded.dtype)[:, None]
        logits = self.out(self.drop(pooled))  # (B, C)
        if self.ngram is not None and ngrams is not None:
            weights = self.ngram_scale[ngrams] if self.cfg.nb_scale else None
            logits = logits + self.ngram(ngrams, offsets, per_sample_weights=weights)
        return logits
