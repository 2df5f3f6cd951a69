"""Convolutional sentence classifiers: Kim's CNN (`--arch cnn`) and a CNN-RNN (`--arch cnn-rnn`).

cnn, Kim 2014 ("Convolutional Neural Networks for Sentence Classification"), CNN-rand:

    x_1 .. x_L = E[w_1] .. E[w_L]                  word vectors (E random, trained)
    c^w_{k,j}  = relu(f^w_k . [x_{j-w+1}; ..; x_j] + b^w_k)    filter k of width w, window ending at j
    z^w_k      = max_j c^w_{k,j}                   max-over-time pooling
    z          = [z^3; z^4; z^5]                   3 widths x 100 maps = 300 features
    logits     = W dropout_0.5(z) + b  (+ the linear bag-of-n-grams' logits, when on)
    after each update: w_c <- w_c * min(1, 3 / ||w_c||_2) for every row w_c of W   (max_norm_)

Short inputs: every sentence is padded with w - 1 zero vectors on both sides (a "wide"
convolution, Kim's code pads by the widest filter's w - 1), so a sentence of L >= 1 words has
L + w - 1 windows for every width and no input is shorter than a filter. Windows that lie
wholly in the batch's padding are left out of the max, so a sentence's logits do not depend
on what it was batched with.

cnn-rnn (the CNN-LSTM of Keras' examples): the same convolutions with "same" padding over the
embeddings, max-pooling of size and stride `pool` over time, then the recurrent stack and the
pooling of the RNN model (seqtool.classify.model):

    c_t = [relu(conv^w(x)_t) for w in widths]      (B, T, maps * len(widths))
    s_i = max(c_{pool*i}, .., c_{pool*i + pool-1})  (B, ceil(T / pool), ...)
    h   = BiGRU/LSTM(s),  pooled over time, logits = W dropout(pooled) (+ n-grams)

Both are drop-in replacements for RNNClassifier in training: the same forward signature,
`.cfg`, `.embedding`, `.ngram` (and `ngram_scale` with nb_scale), plus `apply_constraints()`,
which the training step calls after each optimizer step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..core.errors import UsageError
from .docfeatures import add_doc_path, doc_logits
from .model import ClassifierConfig, RNNClassifier

ARCHS = ("rnn", "cnn", "cnn-rnn", "linear", "rnn+cnn", "rnn+cnn+linear")  # a+b: seqtool.classify.ensemble


@dataclass
class ConvConfig(ClassifierConfig):
    """ClassifierConfig plus the convolution; cell/bidirectional/layers/hidden/pooling are
    read by cnn-rnn and by an ensemble's recurrent member; linear reads none of them."""

    arch: str = "cnn"
    widths: tuple[int, ...] = (3, 4, 5)
    maps: int = 100  # feature maps per width
    max_norm: float = 3.0  # l2 bound on each row of the output layer (0: off)
    pool: int = 2  # cnn-rnn: max-pool size and stride over time (1: none)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.widths = tuple(int(w) for w in self.widths)  # JSON gives a list back
        if self.arch not in ARCHS[1:]:
            raise UsageError(f"unknown convolutional --arch {self.arch!r} (choose {', '.join(ARCHS[1:])})")
        if not self.widths or min(self.widths) < 1 or self.maps < 1 or self.pool < 1:
            raise UsageError("filter widths, --maps and --pool must be at least 1")
        if self.max_norm < 0:
            raise UsageError(f"--max-norm must be 0 (off) or positive, got {self.max_norm}")


def config_from_dict(d: dict) -> ClassifierConfig:
    """The config a stored model was saved with: any arch but "rnn" -> ConvConfig; "rnn" or
    no arch at all (every model saved before the CNNs) -> ClassifierConfig. A stored config that
    fails validation raises ValueError (the store reports it as a corrupted model, not a usage error)."""
    try:
        if d.get("arch", "rnn") != "rnn":
            return ConvConfig(**d)
        known = {f.name for f in fields(ClassifierConfig)}
        return ClassifierConfig(**{k: v for k, v in d.items() if k in known})
    except UsageError as exc:
        raise ValueError(str(exc)) from None


@torch.no_grad()
def max_norm_(weight: torch.Tensor, bound: float) -> None:
    """w_c <- w_c * min(1, bound / ||w_c||_2) for each row w_c of weight (C, F), in place
    (Hinton et al. 2012's constraint as Kim 2014 uses it, on the softmax layer)."""
    norms = weight.norm(dim=1, keepdim=True)  # (C, 1)
    weight.mul_(torch.clamp(bound / norms.clamp(min=1e-12), max=1.0))


def _padding_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, steps) True where t >= length (batch padding)."""
    return torch.arange(steps, device=lengths.device)[None, :] >= lengths[:, None]


def _linear_ngrams(model: nn.Module, ngrams: torch.Tensor | None, offsets: torch.Tensor | None):
    """The bag-of-n-grams logits (B, C), or None when the path is off (as in RNNClassifier)."""
    if model.ngram is None or ngrams is None:
        return None
    weights = model.ngram_scale[ngrams] if model.cfg.nb_scale else None
    return model.ngram(ngrams, offsets, per_sample_weights=weights)


def _add_ngram_path(model: nn.Module, cfg: ClassifierConfig) -> None:
    model.ngram = nn.EmbeddingBag(cfg.num_ngrams, cfg.num_classes, mode="sum") if cfg.num_ngrams else None
    if model.ngram is not None:
        nn.init.zeros_(model.ngram.weight)
        if cfg.nb_scale:  # per-n-gram feature value: its naive-Bayes log-count ratio (set by training)
            model.register_buffer("ngram_scale", torch.ones(cfg.num_ngrams))


class CNNClassifier(nn.Module):
    """Kim's CNN-rand; with cfg.num_ngrams > 0 also seqtool's linear n-gram path."""

    def __init__(self, cfg: ConvConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=cfg.pad_id)
        nn.init.uniform_(self.embedding.weight, -0.25, 0.25)  # Kim's initialisation of CNN-rand's words
        with torch.no_grad():
            self.embedding.weight[cfg.pad_id].zero_()
        # padding = w - 1 on both sides: the wide convolution (see the module docstring)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.emb, cfg.maps, w, padding=w - 1) for w in cfg.widths)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.maps * len(cfg.widths), cfg.num_classes)
        _add_ngram_path(self, cfg)
        add_doc_path(self, cfg.num_classes, cfg.doc_dim)

    def features(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """z, the max-pooled feature maps (B, maps * len(widths)), before dropout."""
        lengths = lengths.to(tokens.device)
        x = self.embedding(tokens)  # (B, T, E)
        x = x.masked_fill(_padding_mask(lengths, tokens.size(1)).unsqueeze(-1), 0.0)  # zero vectors past L
        x = x.transpose(1, 2)  # (B, E, T): Conv1d wants channels first
        pooled = []
        for conv in self.convs:
            w = conv.kernel_size[0]
            c = F.relu(conv(x))  # (B, M, T + w - 1); window j covers tokens j-w+1 .. j
            beyond = _padding_mask(lengths + w - 1, c.size(2)).unsqueeze(1)  # (B, 1, T + w - 1)
            # Windows past L + w - 1 hold only batch padding. 0 is neutral in a max of ReLUs.
            pooled.append(c.masked_fill(beyond, 0.0).amax(dim=2))  # (B, M)
        return torch.cat(pooled, dim=1)  # (B, M * len(widths))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, ngrams: torch.Tensor | None = None,
                offsets: torch.Tensor | None = None, docs: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) padded, lengths (B,); ngrams flat (N,) with offsets (B,) -> logits (B, C)."""
        logits = self.out(self.drop(self.features(tokens, lengths)))  # (B, C)
        bag = _linear_ngrams(self, ngrams, offsets)
        logits = logits if bag is None else logits + bag
        extra = doc_logits(self, docs)
        return logits if extra is None else logits + extra

    def apply_constraints(self) -> None:
        """Kim's max-norm on the output layer; call after every optimizer step."""
        if self.cfg.max_norm > 0:
            max_norm_(self.out.weight, self.cfg.max_norm)


class CNNRNNClassifier(RNNClassifier):
    """Convolution + max-pooling over the embeddings, then RNNClassifier's recurrent stack and pooling.

    The recurrent stack is built by RNNClassifier itself (so every cell it supports works here),
    from a config whose `emb` is the convolution's channel count: that is its input size. The
    embedding that construction makes is a throwaway (a vocabulary of pad_id + 1 rows), replaced
    by the real one.
    """

    def __init__(self, cfg: ConvConfig):
        channels = cfg.maps * len(cfg.widths)
        super().__init__(replace(cfg, emb=channels, vocab_size=cfg.pad_id + 1))
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=cfg.pad_id)
        # "same" padding: output t is centred on token t ((w-1)//2 before, w//2 after)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.emb, cfg.maps, w) for w in cfg.widths)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, ngrams: torch.Tensor | None = None,
                offsets: torch.Tensor | None = None, packed: bool | None = None,
                docs: torch.Tensor | None = None) -> torch.Tensor:
        """As RNNClassifier.forward; the recurrence runs over ceil(T / pool) pooled steps."""
        cfg = self.cfg
        lengths_dev = lengths.to(tokens.device)
        x = self.drop(self.embedding(tokens))  # (B, T, E)
        x = x.masked_fill(_padding_mask(lengths_dev, tokens.size(1)).unsqueeze(-1), 0.0)
        x = x.transpose(1, 2)  # (B, E, T)
        c = torch.cat([F.relu(conv(F.pad(x, ((w - 1) // 2, w // 2))))
                       for conv, w in zip(self.convs, cfg.widths)], dim=1)  # (B, C, T)
        # Zero past L, so a pool window that straddles the end sees the same as the sentence alone.
        c = c.masked_fill(_padding_mask(lengths_dev, c.size(2)).unsqueeze(1), 0.0)
        s = F.max_pool1d(c, cfg.pool, cfg.pool, ceil_mode=True).transpose(1, 2)  # (B, T', C)
        steps = (lengths + cfg.pool - 1) // cfg.pool  # (B,) pooled lengths, on CPU for packing
        steps_dev = steps.to(tokens.device)
        if packed if packed is not None else tokens.is_cuda:
            out, _ = self.rnn(pack_padded_sequence(s, steps.cpu(), batch_first=True, enforce_sorted=False))
            outputs, _ = pad_packed_sequence(out, batch_first=True, total_length=s.size(1))  # (B, T', D*H)
        else:
            outputs = self._run_padded(s, steps_dev)  # (B, T', D*H), exact where t < steps
        pooled = self._pool(outputs, steps_dev)  # (B, D*H)
        logits = self.out(self.drop(pooled))  # (B, C)
        bag = _linear_ngrams(self, ngrams, offsets)
        logits = logits if bag is None else logits + bag
        extra = doc_logits(self, docs)
        return logits if extra is None else logits + extra

    def _pool(self, outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """RNNClassifier's pooling over time: max, mean, or each direction's last step."""
        if self.cfg.pooling == "last":  # t = length - 1 forwards, t = 0 backwards
            h = self.cfg.hidden
            last = outputs.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))).squeeze(1)
            return torch.cat([last[:, :h], outputs[:, 0, h:]], dim=-1) if self.cfg.bidirectional else last
        pad = _padding_mask(lengths, outputs.size(1)).unsqueeze(-1)  # (B, T', 1)
        if self.cfg.pooling == "max":
            return outputs.masked_fill(pad, float("-inf")).max(dim=1).values
        return outputs.masked_fill(pad, 0.0).sum(dim=1) / lengths.to(outputs.dtype)[:, None]

    def apply_constraints(self) -> None:
        if self.cfg.max_norm > 0:
            max_norm_(self.out.weight, self.cfg.max_norm)
