"""The recurrent language model: embedding -> RNN/GRU/LSTM stack -> softmax layer.

The stack is torch's fused nn.RNN/nn.GRU/nn.LSTM (cuDNN on a GPU), or for
lstm-peephole and cifg seqtool.layers.cells; the gate equations are written out
in seqtool.lm.numpy_engine and checked against torch in the tests.

The softmax layer is a full V-wide linear layer or an adaptive softmax
(seqtool.layers.adaptive). Regularization is today's dropout (one nn.Dropout on
the embeddings and the output, torch's inter-layer dropout) unless the AWD-LSTM
options are set (seqtool.layers.regularize): each None/0 default keeps today's
behaviour at that place, with the same random stream.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import ModelError, UsageError
from ..layers import check_cutoffs, default_cutoffs
from ..layers.adaptive import AdaptiveSoftmax
from ..layers.regularize import RAW_SUFFIX, LockedDropout, activation_penalty, apply_weight_drop, embedding_dropout

from ..layers.cells import CELLS as VARIANT_CELLS, make_rnn
from .options import CELLS as OPTION_CELLS

CELLS = tuple(dict.fromkeys(OPTION_CELLS + VARIANT_CELLS))
MEMORY_CELLS = ("lstm", *VARIANT_CELLS)  # the cells whose state is (h, c)

SOFTMAXES = ("full", "adaptive")


@dataclass(frozen=True)
class LMConfig:
    vocab_size: int
    cell: str = "lstm"
    emb: int = 200
    hidden: int = 200
    layers: int = 2
    dropout: float = 0.2  # today's dropout: embeddings, output, and between layers
    tie: bool = True
    softmax: str = "full"  # "full" | "adaptive"
    cutoffs: tuple[int, ...] | None = None  # adaptive only; None: default_cutoffs(vocab_size)
    # AWD-LSTM (Merity et al. 2017). None: today's nn.Dropout(dropout) at that place;
    # a number: locked (variational) dropout with that rate there.
    dropout_in: float | None = None  # dropouti: on the embeddings
    dropout_hidden: float | None = None  # dropouth: between layers (one module per layer)
    dropout_out: float | None = None  # dropout: on the last layer's output
    dropout_emb: float = 0.0  # dropoute: whole embedding rows
    weight_drop: float = 0.0  # wdrop: DropConnect on the hidden-to-hidden matrices
    alpha: float = 0.0  # AR: alpha * mean(dropped output^2)
    beta: float = 0.0  # TAR: beta * mean((h_t - h_{t-1})^2)

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise UsageError(f"unknown --cell {self.cell!r} (choose {', '.join(CELLS)})")
        for name in ("emb", "hidden", "layers", "vocab_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name} must be at least 1 (got {getattr(self, name)})")
        for name in ("dropout", "dropout_in", "dropout_hidden", "dropout_out", "dropout_emb", "weight_drop"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value < 1.0:
                raise UsageError(f"--{name.replace('_', '-')} must be in [0, 1) (got {value})")
        for name in ("alpha", "beta"):
            if getattr(self, name) < 0:
                raise UsageError(f"--{name} must be >= 0 (got {getattr(self, name)})")
        if self.tie and self.emb != self.hidden:
            raise UsageError(f"--tie-weights needs --emb equal to --hidden (got {self.emb} and {self.hidden})")
        if self.softmax not in SOFTMAXES:
            raise UsageError(f"unknown --softmax {self.softmax!r} (choose {', '.join(SOFTMAXES)})")
        if self.softmax == "adaptive":
            # stored resolved, so a later change of the default rule cannot change a saved model
            cuts = default_cutoffs(self.vocab_size) if self.cutoffs is None else self.cutoffs
            try:
                object.__setattr__(self, "cutoffs", check_cutoffs(cuts, self.vocab_size))
            except (TypeError, ValueError) as exc:
                raise UsageError(f"--cutoffs: {exc}") from None
        elif self.cutoffs is not None:
            raise UsageError("--cutoffs needs --softmax adaptive")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cutoffs"] = None if self.cutoffs is None else list(self.cutoffs)
        return data

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
        self.lock_in = None if c.dropout_in is None else LockedDropout(c.dropout_in)
        self.lock_out = None if c.dropout_out is None else LockedDropout(c.dropout_out)
        if c.dropout_hidden is None:  # one fused stack, torch's dropout between layers
            self.rnn = make_rnn(c.cell, c.emb, c.hidden, c.layers, c.dropout)
            stacks = [self.rnn]
        else:  # locked dropout between layers needs one module per layer
            self.rnn = None
            self.rnns = nn.ModuleList(make_rnn(c.cell, c.emb if k == 0 else c.hidden, c.hidden, 1, 0.0)
                                      for k in range(c.layers))
            self.lock_hidden = LockedDropout(c.dropout_hidden)
            stacks = list(self.rnns)
        for stack in stacks:
            apply_weight_drop(stack, c.weight_drop)
        if c.softmax == "adaptive":
            self.decoder = None
            self.softmax = AdaptiveSoftmax(c.hidden, c.vocab_size, c.cutoffs, tied=c.tie)
            if c.tie:  # head rows of the c_0 most frequent words = their embedding rows
                self.softmax.tie_words_to(self.embed)
        else:
            self.softmax = None
            self.decoder = nn.Linear(c.hidden, c.vocab_size)
        self.reset_parameters()
        if c.tie and self.decoder is not None:
            self.decoder.weight = self.embed.weight

    def reset_parameters(self) -> None:
        # Small uniform embeddings/softmax (Zaremba et al.); torch's defaults for the RNN.
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        if self.decoder is not None:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

    def init_hidden(self, batch_size: int, device=None):
        c = self.config
        zeros = torch.zeros(c.layers, batch_size, c.hidden, device=device)
        return (zeros, zeros.clone()) if c.cell in MEMORY_CELLS else zeros

    # ------------------------------------------------------------ forward
    def features(self, tokens, hidden):
        """tokens (T, B) -> dropped last-layer output (T, B, H), undropped one, new hidden."""
        c = self.config
        x = embedding_dropout(self.embed, tokens, c.dropout_emb, self.training)  # (T, B, E)
        x = self.drop(x) if self.lock_in is None else self.lock_in(x)
        if self.rnn is not None:
            raw, hidden = self.rnn(x, hidden)  # (T, B, H)
        else:
            # the (L, B, H) state, split per layer and joined again, as the fused stack has it
            lstm = c.cell in MEMORY_CELLS
            states = zip(*(h.split(1) for h in hidden)) if lstm else hidden.split(1)
            new = []
            for k, (rnn, state) in enumerate(zip(self.rnns, states)):
                x, state = rnn(x, state)  # (T, B, H)
                new.append(state)
                if k < c.layers - 1:
                    x = self.lock_hidden(x)
            raw = x
            hidden = tuple(torch.cat(s) for s in zip(*new)) if lstm else torch.cat(new)
        out = self.drop(raw) if self.lock_out is None else self.lock_out(raw)
        return out, raw, hidden

    def forward(self, tokens, hidden, targets=None):
        """tokens (T, B) -> logits (T, B, V), new hidden.

        With the adaptive softmax the scores are exact log-probabilities (the same
        softmax, so F.cross_entropy on them still gives the right loss). With targets
        (T, B): (loss, new hidden) instead, where loss is the mean NLL of the targets
        (without the V-wide softmax when adaptive) plus, in training mode, the AR/TAR
        penalty when alpha/beta are set. Passing targets through forward (rather than
        calling .loss) keeps a DistributedDataParallel wrapper in the loop."""
        out, raw, hidden = self.features(tokens, hidden)
        if targets is None:
            if self.softmax is not None:
                return self.softmax.log_prob(out.reshape(-1, out.size(-1))).view(*out.shape[:2], -1), hidden
            return self.decoder(out), hidden
        flat, flat_targets = out.reshape(-1, out.size(-1)), targets.reshape(-1)  # (T*B, H), (T*B,)
        if self.softmax is not None:
            loss = self.softmax.loss(flat, flat_targets)
        else:
            loss = F.cross_entropy(self.decoder(flat), flat_targets)
        c = self.config
        if self.training and (c.alpha or c.beta):
            loss = loss + activation_penalty(out, raw, c.alpha, c.beta)
        return loss, hidden

    def loss(self, tokens, targets, hidden):
        """(mean NLL of targets (T, B) given tokens (T, B), new hidden); see forward."""
        return self(tokens, hidden, targets=targets)

    def log_probs(self, tokens, hidden):
        """Exact normalized log-probabilities (T, B, V) of the next token, new hidden."""
        scores, hidden = self(tokens, hidden)
        return (scores if self.softmax is not None else F.log_softmax(scores, dim=-1)), hidden

    # ------------------------------------------------------------ tensors on disk
    # Stored names do not depend on the regularization: per-layer modules are stored
    # under the fused stack's names (rnns.k.weight_ih_l0 -> rnn.weight_ih_lk) and a
    # weight-dropped matrix as the raw one it is in eval mode (weight_hh_lk_raw ->
    # weight_hh_lk), so the numpy engine and older seqtools read them unchanged.
    def _stored_names(self) -> dict[str, str]:
        """{stored name: own state_dict name} (a tied softmax is stored once)."""
        names = {}
        for own in self.state_dict():
            stored = own[: -len(RAW_SUFFIX)] if own.endswith(RAW_SUFFIX) else own
            if stored.startswith("rnns."):
                _, k, param = stored.split(".", 2)  # rnns.k.weight_ih_l0
                stored = f"rnn.{param[:-1]}{k}"
            names[stored] = own
        if self.config.tie:
            names.pop("decoder.weight", None)
        return names

    def export_tensors(self) -> dict:
        """The weights as a flat dict for safetensors, under the stored names."""
        state = self.state_dict()
        return {stored: state[own].detach().to("cpu", torch.float32).contiguous()
                for stored, own in self._stored_names().items()}

    def import_tensors(self, tensors: dict, origin: str = "model") -> None:
        names = self._stored_names()
        expected, got = set(names), set(tensors)
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            raise ModelError(f"{origin}: weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
        own = self.state_dict()
        for key, value in tensors.items():
            if tuple(value.shape) != tuple(own[names[key]].shape):
                raise ModelError(f"{origin}: tensor {key} has shape {tuple(value.shape)}, "
                                 f"expected {tuple(own[names[key]].shape)}")
        self.load_state_dict({names[k]: v for k, v in tensors.items()}, strict=False)


def detach_hidden(hidden):
    """Cut the graph at a window boundary while keeping the values (truncated BPTT)."""
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def hidden_to_list(hidden) -> list:
    return list(hidden) if isinstance(hidden, tuple) else [hidden]


def hidden_from_list(items: list, cell: str):
    return tuple(items) if cell in MEMORY_CELLS else items[0]
