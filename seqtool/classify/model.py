"""The classifier: a (bidirectional) RNN over packed sequences, pooled over time,
plus a linear bag-of-n-grams path whose logits are added to the RNN's.

The n-gram path is logistic regression on binary uni+bigram features (what
NBSVM and TF-IDF+LR exploit); the RNN adds word order and shared word meaning.
Each sequence's result does not depend on what it was batched with. On CUDA that
comes from packing (cuDNN runs packed batches natively). On CPU, PyTorch's packed
RNN costs grow with the square of the length (a bi-GRU batch of 64 x 400 steps:
16 s packed, 0.7 s padded), so there each direction runs on the padded batch, the
backward one over each sequence reversed within its own length: padding then only
ever follows a sequence's real steps, and the outputs that pooling reads are exact.
The lstm-peephole and cifg cells (seqtool.layers.cells) always take the padded
path: they have no packed kernel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..core.errors import UsageError
from ..layers.cells import CELLS as VARIANT_CELLS, LSTMVariant
from .docfeatures import add_doc_path, doc_logits

CELLS = ("lstm", "gru", "rnn", *VARIANT_CELLS)
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
    # one-vs-all outputs (sigmoid per label, trained with binary cross-entropy): multi-label data
    multi_label: bool = False
    doc_dim: int = 0  # > 0: a linear path on doc2vec vectors of this size (classify/docfeatures.py)

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise UsageError(f"unknown --cell {self.cell!r} (choose {', '.join(CELLS)})")
        if self.pooling not in POOLINGS:
            raise UsageError(f"unknown --pooling {self.pooling!r} (choose max, mean or last)")
        if self.layers < 1 or self.hidden < 1 or self.emb < 1:
            raise UsageError("--layers, --hidden and --emb must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}")
        if isinstance(self.doc_dim, bool) or not isinstance(self.doc_dim, int) or self.doc_dim < 0:
            raise UsageError(f"doc_dim must be a whole number of at least 0, got {self.doc_dim!r}")
        if not isinstance(self.multi_label, bool):
            raise UsageError(f"multi_label must be true or false, got {self.multi_label!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class RNNClassifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=cfg.pad_id)
        rnn_args = dict(num_layers=cfg.layers, bidirectional=cfg.bidirectional,
                        dropout=cfg.dropout if cfg.layers > 1 else 0.0, batch_first=True)
        if cfg.cell in VARIANT_CELLS:
            self.rnn = LSTMVariant(cfg.cell, cfg.emb, cfg.hidden, **rnn_args)
        else:
            rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cfg.cell]
            self.rnn = rnn_cls(cfg.emb, cfg.hidden, **rnn_args)
        self.drop = nn.Dropout(cfg.dropout)
        directions = 2 if cfg.bidirectional else 1
        self.out = nn.Linear(cfg.hidden * directions, cfg.num_classes)
        self.ngram = nn.EmbeddingBag(cfg.num_ngrams, cfg.num_classes, mode="sum") if cfg.num_ngrams else None
        if self.ngram is not None:
            nn.init.zeros_(self.ngram.weight)
            if cfg.nb_scale:
                # Per-n-gram feature value: its naive-Bayes log-count ratio (set by training).
                self.register_buffer("ngram_scale", torch.ones(cfg.num_ngrams))
        add_doc_path(self, cfg.num_classes, cfg.doc_dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, ngrams: torch.Tensor | None = None,
                offsets: torch.Tensor | None = None, packed: bool | None = None,
                docs: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) padded, lengths (B,) on CPU; ngrams flat (N,) with offsets (B,) -> logits (B, C).
        packed: run the RNN on a packed batch (default: on CUDA only; both give the same result;
        never for lstm-peephole and cifg). docs (B, d): doc2vec vectors, with cfg.doc_dim."""
        emb = self.drop(self.embedding(tokens))  # (B, T, E)
        lengths_dev = lengths.to(tokens.device)
        if (packed if packed is not None else tokens.is_cuda) and self.cfg.cell not in VARIANT_CELLS:
            out, _ = self.rnn(pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False))
            outputs, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))  # (B, T, D*H)
        else:
            outputs = self._run_padded(emb, lengths_dev)  # (B, T, D*H), exact where t < length
        if self.cfg.pooling == "last":  # each direction's final step: t = length - 1 forwards, t = 0 backwards
            h = self.cfg.hidden
            last = outputs.gather(1, (lengths_dev - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))).squeeze(1)
            pooled = torch.cat([last[:, :h], outputs[:, 0, h:]], dim=-1) if self.cfg.bidirectional else last
        else:
            pad = (torch.arange(tokens.size(1), device=tokens.device)[None, :] >= lengths_dev[:, None]).unsqueeze(-1)
            if self.cfg.pooling == "max":
                pooled = outputs.masked_fill(pad, float("-inf")).max(dim=1).values  # (B, D*H)
            else:
                pooled = outputs.masked_fill(pad, 0.0).sum(dim=1) / lengths_dev.to(outputs.dtype)[:, None]
        logits = self.out(self.drop(pooled))  # (B, C)
        if self.ngram is not None and ngrams is not None:
            weights = self.ngram_scale[ngrams] if self.cfg.nb_scale else None
            logits = logits + self.ngram(ngrams, offsets, per_sample_weights=weights)
        extra = doc_logits(self, docs)
        return logits if extra is None else logits + extra

    def _run_padded(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The stacked (bi)RNN on a padded batch, one direction and layer at a time, through
        self.rnn's own weights (so saved models and DDP see one module)."""
        steps = torch.arange(x.size(1), device=x.device)[None, :]  # (1, T)
        # Reverses each sequence within its length and leaves the padding where it is (an involution).
        reverse = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)  # (B, T)
        flip = lambda t: t.gather(1, reverse.unsqueeze(-1).expand(-1, -1, t.size(2)))  # noqa: E731
        for layer in range(self.cfg.layers):
            if layer:
                x = F.dropout(x, self.cfg.dropout, self.training)  # what nn.GRU does between layers
            outs = [self._direction(x, layer, "")]  # (B, T, H)
            if self.cfg.bidirectional:
                outs.append(flip(self._direction(flip(x), layer, "_reverse")))
            x = torch.cat(outs, dim=-1)  # (B, T, D*H)
        return x

    def _direction(self, x: torch.Tensor, layer: int, suffix: str) -> torch.Tensor:
        if self.cfg.cell in VARIANT_CELLS:  # x (B, T, I) -> (B, T, H)
            return self.rnn.run_layer(x.transpose(0, 1), layer, suffix)[0].transpose(0, 1)
        templates = self.__dict__.setdefault("_templates", {})
        if x.size(2) not in templates:  # weightless stand-in: functional_call supplies the weights
            rnn_cls = type(self.rnn)
            templates[x.size(2)] = rnn_cls(x.size(2), self.cfg.hidden, batch_first=True, device="meta")
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        weights = {f"{n}_l0": getattr(self.rnn, f"{n}_l{layer}{suffix}") for n in names}
        out, _ = torch.func.functional_call(templates[x.size(2)], weights, (x,))
        return out
