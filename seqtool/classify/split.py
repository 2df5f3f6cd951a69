"""Seeded, stratified splits: a validation hold-out and k folds.

Each class is shuffled on its own and dealt out, so every fold (and the
hold-out) keeps the class proportions of the whole set.
"""

from __future__ import annotations

import random
from collections import defaultdict

from ..core.errors import UsageError


def _by_class(labels: list[str], seed: int) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[label].append(i)
    rng = random.Random(seed)
    out = []
    for label in sorted(groups):
        members = groups[label]
        rng.shuffle(members)
        out.append(members)
    return out


def holdout(labels: list[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, held-out indices), about `fraction` of every class held out."""
    if not 0.0 < fraction < 1.0:
        raise UsageError(f"--valid-split must be between 0 and 1, got {fraction}")
    train, held = [], []
    for members in _by_class(labels, seed):
        k = int(round(len(members) * fraction))
        k = min(k, len(members) - 1)  # keep at least one of every class for training
        held.extend(members[:k])
        train.extend(members[k:])
    return sorted(train), sorted(held)


def kfold(labels: list[str], folds: int, seed: int) -> list[list[int]]:
    """`folds` disjoint test index lists covering every example once."""
    if folds < 2:
        raise UsageError(f"--folds must be at least 2, got {folds}")
    if folds > len(labels):
        raise UsageError(f"--folds {folds} is more than the {len(labels)} examples")
    parts: list[list[int]] = [[] for _ in range(folds)]
    offset = 0
    for members in _by_class(labels, seed):
        for j, index in enumerate(members):
            parts[(offset + j) % folds].append(index)
        offset += len(members)  # continue dealing where the last class stopped: equal fold sizes
    return [sorted(p) for p in parts]
