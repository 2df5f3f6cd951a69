"""Initialise an embedding matrix from pretrained word vectors.

    from seqtool.vectors import load_vectors
    from seqtool.vectors.embedding import init_embedding
    coverage = init_embedding(model.embed.weight, vocab, load_vectors(spec))
    model.embed.weight.requires_grad_(not freeze)

Used by train-lm and the classifier; works with any object that has `.dim`
(or `.matrix`) and `.get(word)` / `.find(word, case_insensitive=True)`.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import UsageError
from ..core.vocab import Vocab


def vectors_dim(vectors) -> int:
    dim = getattr(vectors, "dim", None)
    return int(dim) if dim is not None else int(np.asarray(vectors.matrix).shape[1])


def _lookup(vectors, word: str):
    row = vectors.get(word)
    if row is None and hasattr(vectors, "find"):
        index = vectors.find(word, case_insensitive=True)
        if index is not None:
            row = vectors.matrix[index]
    return row


def init_embedding(weight, vocab: Vocab, vectors, *, case_insensitive: bool = True) -> float:
    """Copy the vector of every vocabulary word found in `vectors` into its row of
    `weight` (V, E), in place; rows of missing words and specials keep their
    initialisation. Returns the share of ordinary vocabulary words covered (0..1).

    Lookup is exact first, then (case_insensitive) the most frequent case variant.
    """
    import torch

    rows, dim = weight.shape
    if rows != len(vocab):
        raise ValueError(f"embedding has {rows} rows for a vocabulary of {len(vocab)}")
    vdim = vectors_dim(vectors)
    if vdim != dim:
        raise UsageError(f"--embeddings: the vectors have dimension {vdim} but the embedding has {dim} "
                         f"(set --emb {vdim})")
    ids, found = [], []
    start = len(vocab.specials)
    for i in range(start, len(vocab)):
        word = vocab.itos[i]
        row = _lookup(vectors, word) if case_insensitive else vectors.get(word)
        if row is not None:
            ids.append(i)
            found.append(np.asarray(row, dtype=np.float32))
    if found:
        values = torch.from_numpy(np.stack(found)).to(weight.device, weight.dtype)
        with torch.no_grad():
            weight[torch.tensor(ids, device=weight.device)] = values
    ordinary = len(vocab) - start
    return len(ids) / ordinary if ordinary else 0.0
