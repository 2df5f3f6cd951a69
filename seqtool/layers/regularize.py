"""Regularizers for recurrent LMs from AWD-LSTM (Merity et al. 2017, "Regularizing and
Optimizing LSTM Language Models"), written for torch's fused nn.LSTM/nn.GRU/nn.RNN.

    locked dropout    one Bernoulli mask per sequence, shared over all time steps
                      (Gal & Ghahramani's variational dropout): x (T, B, H) * m (1, B, H)
    embedding dropout whole rows of the embedding matrix dropped: a dropped word is
                      zero wherever it occurs in the batch; kept rows scaled by 1/(1-p)
    weight drop       DropConnect on the hidden-to-hidden matrices W_hh: one mask per
                      forward call (so per batch), the recurrence itself stays fused
    AR / TAR          alpha * mean(o_t^2) on the dropped last-layer output,
                      beta * mean((h_t - h_{t-1})^2) on the undropped one
"""

from __future__ import annotations

import warnings
import weakref

import torch
import torch.nn.functional as F
from torch import nn


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence: (T, B, H) -> (T, B, H), identity in eval mode."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(keep) / keep  # (1, B, H)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


def embedding_dropout(embed: nn.Embedding, tokens: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """embed(tokens) with whole words dropped: tokens (T, B) -> (T, B, E).

    The mask is over the vocabulary (V, 1), so every occurrence of a dropped word
    in the batch is zero, and the kept rows are scaled by 1/(1-p)."""
    if not training or p == 0.0:
        return embed(tokens)
    weight = embed.weight  # (V, E)
    mask = weight.new_empty(weight.size(0), 1).bernoulli_(1.0 - p) / (1.0 - p)  # (V, 1)
    return F.embedding(tokens, weight * mask, embed.padding_idx)


# ---------------------------------------------------------------------- weight drop
RAW_SUFFIX = "_raw"
_CUDNN_COPY_WARNING = "RNN module weights are not part of single contiguous chunk of memory"


def hh_weight_names(rnn: nn.Module) -> list[str]:
    """The W_hh names of a recurrent stack: torch's fused ones or layers.cells' (same names)."""
    names = getattr(rnn, "_flat_weights_names", None) or list(rnn._parameters)
    return [name for name in names if name.startswith("weight_hh_l")]


def apply_weight_drop(rnn: nn.RNNBase, p: float) -> nn.RNNBase:
    """DropConnect on every W_hh of a fused torch RNN, in place.

    Each `weight_hh_lk` Parameter becomes `weight_hh_lk_raw` (what the optimizer
    updates and the state dict holds); a forward pre-hook writes
    dropout(raw, p) (train) or raw (eval) back as the plain tensor `weight_hh_lk`,
    which RNNBase.__setattr__ puts into the module's `_flat_weights`, so torch's
    fused kernel runs as usual and the gradient flows through the dropout to raw.
    """
    if p <= 0.0:
        return rnn
    names = hh_weight_names(rnn)
    rnn.weight_drop_names = names  # the Parameters are renamed below, so remember them
    for name in names:
        raw = rnn._parameters.pop(name)
        rnn.register_parameter(name + RAW_SUFFIX, nn.Parameter(raw.data))
        setattr(rnn, name, raw.data)  # a plain tensor until the first forward
    rnn.weight_drop = p
    rnn.register_forward_pre_hook(_write_dropped_weights)
    if torch.cuda.is_available():
        # cuDNN wants all weights in one buffer; the dropped W_hh are fresh tensors each call,
        # so torch copies them (correct, slightly slower) and warns about it on every call.
        warnings.filterwarnings("ignore", message=_CUDNN_COPY_WARNING)
    return rnn


def _write_dropped_weights(rnn: nn.RNNBase, args) -> None:
    for name in rnn.weight_drop_names:
        raw = getattr(rnn, name + RAW_SUFFIX)
        # raw * 1 in eval: a plain tensor (setattr with a Parameter would register it again)
        weight = F.dropout(raw, rnn.weight_drop, training=True) if rnn.training else raw * 1.0
        setattr(rnn, name, weight)
    # __setattr__ has put the new tensors into _flat_weights; marking them as seen keeps
    # RNNBase.forward from re-flattening (on CUDA an in-place copy of every weight,
    # including the dropped ones that are part of the graph) on each call.
    if isinstance(rnn, nn.RNNBase):
        rnn._flat_weight_refs = [weakref.ref(w) if w is not None else None for w in rnn._flat_weights]


# ---------------------------------------------------------------------- AR / TAR
def activation_penalty(dropped_out: torch.Tensor, raw_out: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """alpha * mean(o^2) + beta * mean((h_t - h_{t-1})^2); outputs (T, B, H) -> ()."""
    penalty = dropped_out.new_zeros(())
    if alpha:
        penalty = penalty + alpha * dropped_out.pow(2).mean()
    if beta and raw_out.size(0) > 1:
        penalty = penalty + beta * (raw_out[1:] - raw_out[:-1]).pow(2).mean()
    return penalty
