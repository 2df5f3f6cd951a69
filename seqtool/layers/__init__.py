"""Neural building blocks shared by the models: recurrent cells (cells.py), the adaptive
softmax (adaptive.py) and the AWD-LSTM regularizers (regularize.py); each imports torch.

This file holds the adaptive softmax's torch-free arithmetic -- the cutoff rule and
the stored tensor shapes -- so the model store and the numpy sampler can check and
read an adaptive model without importing torch.
"""

from __future__ import annotations

# Cutoff candidates: the head holds the 2,000 most frequent words (about 85-90% of
# running text in English corpora of 1-100 M words); clusters grow 5x each.
CUTOFF_STEPS = (2_000, 10_000, 50_000, 250_000, 1_250_000)
DIV_VALUE = 4  # cluster k's projection has hidden // 4**(k+1) dimensions
# `auto` uses the adaptive softmax from this vocabulary size up (benchmarks/bench_lm_softmax.py)
AUTO_ADAPTIVE_FROM = 5_000


def default_cutoffs(vocab_size: int) -> tuple[int, ...]:
    """The cutoffs used when none are given: 2k, 10k, 50k, ... words, each kept only
    while at least as many words lie beyond it as before it (V >= 2c), so no cluster
    is tiny. V=10k -> (2000,); V=33k -> (2000, 10000); V=100k -> (2000, 10000, 50000).
    A vocabulary under 4,000 words gets one cut in the middle (adaptive does not pay
    there; `auto` picks the full softmax)."""
    cuts = tuple(c for c in CUTOFF_STEPS if vocab_size >= 2 * c)
    return cuts or (max(1, vocab_size // 2),)


def auto_softmax(vocab_size: int) -> str:
    """What `--softmax auto` means: "adaptive" for a vocabulary large enough to pay."""
    return "adaptive" if vocab_size >= AUTO_ADAPTIVE_FROM else "full"


def check_cutoffs(cutoffs, vocab_size: int) -> tuple[int, ...]:
    """Cutoffs as a tuple of strictly increasing ints in [1, V); ValueError otherwise."""
    cuts = tuple(int(c) for c in cutoffs)
    if not cuts:
        raise ValueError("cutoffs must name at least one cut")
    if any(b <= a for a, b in zip(cuts, cuts[1:])) or cuts[0] < 1 or cuts[-1] >= vocab_size:
        raise ValueError(f"cutoffs must increase strictly within 1..{vocab_size - 1} (got {list(cuts)})")
    return cuts


def cluster_dims(hidden: int, n_clusters: int) -> list[int]:
    """The projection size of each tail cluster: hidden / 4, hidden / 16, ... (at least 1)."""
    return [max(1, hidden // DIV_VALUE ** (k + 1)) for k in range(n_clusters)]


def adaptive_shapes(prefix: str, hidden: int, vocab_size: int, cutoffs, tied: bool) -> dict[str, tuple[int, ...]]:
    """The tensor shapes an AdaptiveSoftmax stores under `prefix` (word_weight absent when tied)."""
    cuts = check_cutoffs(cutoffs, vocab_size)
    bounds = list(cuts) + [vocab_size]
    n = len(cuts)
    shapes = {f"{prefix}cluster_weight": (n, hidden), f"{prefix}head_bias": (cuts[0] + n,)}
    if not tied:
        shapes[f"{prefix}word_weight"] = (cuts[0], hidden)
    for k, dim in enumerate(cluster_dims(hidden, n)):
        size = bounds[k + 1] - bounds[k]
        shapes.update({f"{prefix}tails.{k}.proj.weight": (dim, hidden), f"{prefix}tails.{k}.out.weight": (size, dim),
                       f"{prefix}tails.{k}.out.bias": (size,)})
    return shapes
