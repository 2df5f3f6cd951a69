"""A 2-D PCA map of some words and their nearest neighbours (matplotlib, optional)."""

from __future__ import annotations

import io
import os

import numpy as np

from ..core.errors import SeqtoolError, UsageError
from ..core.atomic import write_bytes_atomic
from ..core.plotting import plot_suffixes
from .model import Vectors
from .queries import neighbors, resolve



def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """(k, d) -> (k, 2): projection on the two main principal axes (sign fixed for stable output)."""
    centred = matrix.astype(np.float64) - matrix.mean(axis=0, keepdims=True)
    if len(centred) < 2:
        return np.zeros((len(centred), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]  # (2, d)
    # Make the largest loading of each axis positive so the picture does not flip between runs.
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    coords = centred @ (axes * signs[:, None]).T
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    return coords


def plot_words(vecs: Vectors, words: list[str], output: str, *, neighbours: int = 5,
               case_insensitive: bool = False, title: str | None = None) -> list[tuple[str, float, float, bool]]:
    """Draw `words` (bold) and their `neighbours` nearest words; returns (word, x, y, is_query) rows."""
    ext = os.path.splitext(output)[1].lower().lstrip(".")
    suffixes = plot_suffixes("--output")
    if "." + ext not in suffixes:
        raise UsageError(f"{output}: the map is written as {', '.join(suffixes)}; use one of these extensions")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SeqtoolError("plotting needs matplotlib, which is not installed: "
                           "pip install 'seqtool[plot]' (or pip install matplotlib)") from None
    rows = resolve(vecs, words, case_insensitive=case_insensitive)
    chosen: dict[int, bool] = {r: True for r in rows}
    for word in words:
        for m in neighbors(vecs, word, top_n=neighbours, case_insensitive=case_insensitive):
            chosen.setdefault(vecs.index[m.word], False)
    order = list(chosen)
    coords = pca_2d(np.asarray(vecs.matrix[order], dtype=np.float32))
    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    for (row, is_query), (x, y) in zip(chosen.items(), coords):
        ax.scatter([x], [y], s=30 if is_query else 12, color="tab:red" if is_query else "tab:blue")
        ax.annotate(vecs.words[row], (x, y), xytext=(3, 3), textcoords="offset points",
                    fontsize=10 if is_query else 8, fontweight="bold" if is_query else "normal")
    ax.set_title(title or "PCA of " + ", ".join(words[:5]) + (" ..." if len(words) > 5 else ""))
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format=ext, bbox_inches="tight")
    plt.close(fig)
    write_bytes_atomic(output, buf.getvalue())
    return [(vecs.words[r], float(x), float(y), q) for (r, q), (x, y) in zip(chosen.items(), coords)]
