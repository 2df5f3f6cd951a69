"""The recurrent language model: embedding -> RNN/GRU/LSTM stack -> softmax layer.

The stack is torch's fused nn.RNN/nn.GRU/nn.LSTM (cuDNN on a GPU), or for
lstm-peephole and cifg seqtool.layers.cells; the gate equations are written out
in seqtool.lm.numpy_engine and checked against torch in the tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..core.errors import ModelError, UsageError

from ..layers.cells import CELLS as VARIANT_CELLS, make_rnn
from .options import CELLS as OPTION_CELLS

CELLS = tuple(dict.fromkeys(OPTION_CELLS + VARIANT_CELLS))
MEMORY_CELLS = ("lstm", *VARIANT_CELLS)  # the cells whose state is (h, c)


@dataclass(frozen=True)
class LMConfig:
    vocab_size: int
    cell: str = "lstm"
    emb: int = 200
    hidden: int = 200
    layers: int = 2
    dropout: float = 0.2
    tie: bool = True

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise UsageError(f"unknown --cell {self.cell!r} (choose {', '.join(CELLS)})")
        for name in ("emb", "hidden", "layers", "vocab_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name} must be at least 1 (got {getattr(self, name)})")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1) (got {self.dropout})")
        if self.tie and self.emb != self.hidden:
            raise UsageError(f"--tie-weights needs --emb equal to --hidden (got {self.emb} and {self.hidden})")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LMConfig":
        try:
            return cls(**data)
        except (TypeError, UsageError) as exc:
            raise ModelError(f"language model config is invalid ({exc})") from None


class RNNLM(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.emb)
        self.drop = nn.Dropout(c.dropout)
        self.rnn = make_rnn(c.cell, c.emb, c.hidden, c.layers, c.dropout)
        self.decoder = nn.Linear(c.hidden, c.vocab_size)
        self.reset_parameters()
        if c.tie:
            self.decoder.weight = self.embed.weight

    def reset_parameters(self) -> None:
        # Small uniform embeddings/softmax (Zaremba et al.); torch's defaults for the RNN.
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def init_hidden(self, batch_size: int, device=None):
        c = self.config
        zeros = torch.zeros(c.layers, batch_size, c.hidden, device=device)
        return (zeros, zeros.clone()) if c.cell in MEMORY_CELLS else zeros

    def forward(self, tokens, hidden):
        """tokens (T, B) -> logits (T, B, V), new hidden."""
        x = self.drop(self.embed(tokens))  # (T, B, E)
        out, hidden = self.rnn(x, hidden)  # (T, B, H)
        return self.decoder(self.drop(out)), hidden

    # ------------------------------------------------------------ tensors on disk
    def export_tensors(self) -> dict:
        """The weights as a flat dict for safetensors (a tied softmax is stored once)."""
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.state_dict().items()}
        if self.config.tie:
            state.pop("decoder.weight", None)
        return state

    def import_tensors(self, tensors: dict, origin: str = "model") -> None:
        expected = set(self.export_tensors())
        got = set(tensors)
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            raise ModelError(f"{origin}: weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
        own = self.state_dict()
        for key, value in tensors.items():
            if tuple(value.shape) != tuple(own[key].shape):
                raise ModelError(f"{origin}: tensor {key} has shape {tuple(value.shape)}, "
                                 f"expected {tuple(own[key].shape)}")
        self.load_state_dict(tensors, strict=False)


def detach_hidden(hidden):
    """Cut the graph at a window boundary while keeping the values (truncated BPTT)."""
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def hidden_to_list(hidden) -> list:
    return list(hidden) if isinstance(hidden, tuple) else [hidden]


def hidden_from_list(items: list, cell: str):
    return tuple(items) if cell in MEMORY_CELLS else items[0]
