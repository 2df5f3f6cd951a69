"""The pieces of a classifier's training step: word dropout's probabilities, the optimizers
(dense Adam + SparseAdam for the tables), the seeded batches of an epoch."""

from __future__ import annotations

import torch

from .model import RNNClassifier
from .options import TrainOptions


def unk_probabilities(token_lists: list[list[int]], vocab_size: int, alpha: float, pad_id: int) -> torch.Tensor | None:
    """Per word id, the chance that training replaces it by <UNK>: alpha / (alpha + count)
    (Kiperwasser & Goldberg 2016), so rare words, which resemble the unseen words of
    new text, are dropped most. None when alpha is 0."""
    if alpha <= 0:
        return None
    flat = torch.tensor([i for ids in token_lists for i in ids], dtype=torch.int64)
    counts = torch.bincount(flat, minlength=vocab_size).float()  # (V,)
    prob = alpha / (alpha + counts)
    prob[pad_id] = 0.0
    return prob


class Optimizers:
    """Adam for the dense weights and SparseAdam for the embedding tables: a batch
    touches a few hundred of the ~100k rows, and dense Adam would update them all."""

    def __init__(self, model: RNNClassifier, opts: TrainOptions, sparse: bool):
        emb = [model.embedding.weight] if model.embedding.weight.requires_grad else []
        bag = [model.ngram.weight] if model.ngram is not None else []
        ids = {id(p) for p in emb + bag}
        dense = [p for p in model.parameters() if id(p) not in ids and p.requires_grad]
        model.embedding.sparse = sparse
        if model.ngram is not None:
            model.ngram.sparse = sparse
        # The linear n-gram path is plain logistic regression: each weight sees few
        # updates (one per example containing its n-gram), so it gets a larger step.
        tables = [g for g in ({"params": emb, "lr": opts.lr}, {"params": bag, "lr": opts.ngram_lr or opts.lr})
                  if g["params"]]
        if sparse:
            self.parts = [torch.optim.Adam(dense, lr=opts.lr, weight_decay=opts.weight_decay),
                          torch.optim.SparseAdam(tables, lr=opts.lr)]
        else:
            self.parts = [torch.optim.Adam([{"params": dense, "weight_decay": opts.weight_decay}] + tables,
                                           lr=opts.lr)]

    def zero_grad(self) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=True)

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def state_dict(self) -> dict:
        return {"parts": [part.state_dict() for part in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for part, sd in zip(self.parts, state["parts"], strict=True):
            part.load_state_dict(sd)


def batches_for_epoch(lengths: list[int], batch_size: int, seed: int, epoch: int, rank: int = 0,
                      world: int = 1) -> list[list[int]]:
    """The batches one rank trains on in `epoch`: a function of (seed, epoch) only, so resume needs no state.

    Examples are shuffled, then sorted by length within windows of 50 batches, so a
    batch holds similar lengths (fewer RNN time steps) while batches stay random.
    """
    n = len(lengths)
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    window = batch_size * 50
    order = [i for w in range(0, n, window) for i in sorted(order[w:w + window], key=lengths.__getitem__)]
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    shuffle = torch.randperm(len(batches), generator=g).tolist()
    batches = [batches[i] for i in shuffle]
    if world > 1:
        usable = len(batches) - len(batches) % world or len(batches)
        batches = batches[:usable][rank::world]
        if not batches:  # fewer batches than ranks: every rank repeats the first
            batches = [order[:batch_size]]
    return batches
