"""Adaptive softmax (Grave et al. 2017, "Efficient softmax approximation for GPUs").

The vocabulary is split by frequency at the cutoffs c_0 < c_1 < ... < c_n = V:

    head     ids [0, c_0)        the frequent words, plus one entry per tail cluster
    tail k   ids [c_k, c_{k+1})  a cluster of rarer words, k = 0 .. n-1

    p(w | h) = softmax(W_head h + b_head)[w]                          w in the head
    p(w | h) = softmax(W_head h + b_head)[c_0 + k]
               * softmax(W_k (P_k h) + b_k)[w - c_k]                  w in tail k

P_k projects the hidden state to H / 4**(k+1) dimensions: rare words get small
vectors, which is where most of the saving on a large vocabulary comes from.
It is an exact distribution (the head's cluster entries carry the clusters' mass),
so perplexities stay comparable with a full softmax.

It relies on seqtool's Vocab ordering (seqtool/core/vocab.py): the specials
(<UNK>, <EOS>, ...) take the first ids, then ordinary tokens by count,
descending. So id order is frequency order and the specials sit in the head.

Training (`loss`) computes the head for every position but a tail cluster only for
the positions whose target falls in it, never the V-wide softmax.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import check_cutoffs, cluster_dims, default_cutoffs  # noqa: F401  (torch-free, re-exported)


class AdaptiveSoftmax(nn.Module):
    """hidden (N, H) -> exact log-probabilities over V words, computed by frequency cluster.

    Parameters (names as stored):
      word_weight     (c_0, H)   head rows of the frequent words; absent when tied
      cluster_weight  (n, H)     head rows of the tail clusters
      head_bias       (c_0 + n,)
      tails.k.proj.weight (d_k, H), tails.k.out.weight (size_k, d_k), tails.k.out.bias (size_k,)

    Tying (`tie_words_to`): the head row of word w *is* embedding row w for w < c_0
    (the same storage, read at every call), which needs emb == hidden. Tail words are
    not tied: their output vectors have d_k < emb dimensions.
    """

    def __init__(self, hidden: int, vocab_size: int, cutoffs, tied: bool = False):
        super().__init__()
        self.hidden, self.vocab_size = hidden, vocab_size
        self.cutoffs = check_cutoffs(cutoffs, vocab_size)
        self.bounds = list(self.cutoffs) + [vocab_size]  # c_0 .. c_n
        self.head_words, self.n_clusters = self.cutoffs[0], len(self.cutoffs)
        self.tied = tied
        self._tied_source: list = []  # [nn.Embedding]: a plain list, so it is not a submodule
        self.word_weight = None if tied else nn.Parameter(torch.empty(self.head_words, hidden))
        self.cluster_weight = nn.Parameter(torch.empty(self.n_clusters, hidden))
        self.head_bias = nn.Parameter(torch.zeros(self.head_words + self.n_clusters))
        # the cutoffs as a tensor that follows the module's device (not stored)
        self.register_buffer("cutoff_ids", torch.tensor(self.cutoffs), persistent=False)
        self.tails = nn.ModuleList()
        for k, dim in enumerate(cluster_dims(hidden, self.n_clusters)):
            size = self.bounds[k + 1] - self.bounds[k]
            tail = nn.Module()
            tail.proj = nn.Linear(hidden, dim, bias=False)
            tail.out = nn.Linear(dim, size)
            self.tails.append(tail)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Small uniform output vectors as for the full softmax (Zaremba et al.).
        if self.word_weight is not None:
            nn.init.uniform_(self.word_weight, -0.1, 0.1)
        nn.init.uniform_(self.cluster_weight, -0.1, 0.1)
        nn.init.zeros_(self.head_bias)
        for tail in self.tails:
            nn.init.uniform_(tail.out.weight, -0.1, 0.1)
            nn.init.zeros_(tail.out.bias)

    def tie_words_to(self, embedding: nn.Embedding) -> None:
        if not self.tied or embedding.weight.shape[1] != self.hidden:
            raise ValueError("tying needs an AdaptiveSoftmax(tied=True) and emb == hidden")
        self._tied_source[:] = [embedding]

    def head_weight(self) -> torch.Tensor:
        """(c_0 + n, H): the frequent words' rows, then one row per cluster."""
        words = self._tied_source[0].weight[: self.head_words] if self.tied else self.word_weight
        return torch.cat((words, self.cluster_weight), dim=0)

    def head_log_prob(self, hidden: torch.Tensor) -> torch.Tensor:
        """(N, H) -> (N, c_0 + n): log p(word) for head words, log p(cluster) for the rest."""
        return F.log_softmax(F.linear(hidden, self.head_weight(), self.head_bias), dim=-1)

    def tail_log_prob(self, hidden: torch.Tensor, k: int) -> torch.Tensor:
        """(N, H) -> (N, size_k): log p(w | cluster k) for the words of cluster k."""
        tail = self.tails[k]
        return F.log_softmax(tail.out(tail.proj(hidden)), dim=-1)

    def target_log_prob(self, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """log p(target | hidden) for each row: (N, H), (N,) -> (N,)."""
        head = self.head_log_prob(hidden)  # (N, c_0 + n)
        # cluster index per target: 0 = head, k + 1 = tail k
        cluster = torch.bucketize(target, self.cutoff_ids, right=True)
        head_index = torch.where(cluster == 0, target, self.head_words + cluster - 1)
        logp = head.gather(1, head_index.unsqueeze(1)).squeeze(1)  # (N,)
        for k in range(self.n_clusters):
            rows = (cluster == k + 1).nonzero().squeeze(1)  # (N_k,)
            if rows.numel() == 0:
                continue  # no target in this cluster: its softmax is never computed
            within = (target.index_select(0, rows) - self.bounds[k]).unsqueeze(1)  # (N_k, 1)
            tail = self.tail_log_prob(hidden.index_select(0, rows), k)  # (N_k, size_k)
            logp = logp.index_add(0, rows, tail.gather(1, within).squeeze(1))
        return logp

    def loss(self, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of the targets: (N, H), (N,) -> ()."""
        return -self.target_log_prob(hidden, target).mean()

    def log_prob(self, hidden: torch.Tensor) -> torch.Tensor:
        """Exact normalized log-probabilities of every word: (N, H) -> (N, V)."""
        head = self.head_log_prob(hidden)  # (N, c_0 + n)
        parts = [head[:, : self.head_words]]
        for k in range(self.n_clusters):
            cluster = head[:, self.head_words + k: self.head_words + k + 1]  # (N, 1)
            parts.append(cluster + self.tail_log_prob(hidden, k))  # (N, size_k)
        return torch.cat(parts, dim=1)

    def extra_repr(self) -> str:
        return f"hidden={self.hidden}, vocab={self.vocab_size}, cutoffs={list(self.cutoffs)}, tied={self.tied}"

