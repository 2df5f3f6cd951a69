"""Initialise an embedding matrix from pretrained word vectors.

    from seqtool.vectors import load_vectors
    from seqtool.vectors.embedding import init_embedding
    coverage = init_embedding(model.embed.weight, vocab, load_vectors(spec))
    model.embed.weight.requires_grad_(not freeze)

Used by train-lm and the classifier; works with any object that has `.dim`
(or `.matrix`) and `.get(word)` / `.find(word, case_insensitive=True)`, and `.subwords`
for fastText vectors: a word they lack gets the mean of its character n-gram vectors,
the vector gensim's FastText.wv[word] gives it, rather than a random row.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Coverage:
    """How the rows of the ordinary vocabulary words (specials not counted) were filled."""

    words: int  # ordinary vocabulary words
    found: int  # words of the vectors (exactly, or in another capitalisation)
    subwords: int  # words the vectors lack, given the mean of their character n-grams (fastText)

    @property
    def share(self) -> float:
        """The share of words given a pretrained vector (0..1)."""
        return (self.found + self.subwords) / self.words if self.words else 0.0

    def describe(self, source: str) -> str:
        """e.g. '92.0% of the 1,000 vocabulary words found in wiki.bin, 6.5% (65) more from their
        character n-grams'."""
        found = self.found / self.words if self.words else 0.0
        text = f"{found:.1%} of the {self.words:,} vocabulary words found in {source}"
        if self.subwords:
            text += f", {self.subwords / self.words:.1%} ({self.subwords:,}) more from their character n-grams"
        return text


def fill_embedding(weight, vocab: Vocab, vectors, *, case_insensitive: bool = True) -> Coverage:
    """Copy the vector of every vocabulary word found in `vectors` into its row of
    `weight` (V, E), in place; with fastText vectors (`vectors.subwords`), a word they
    lack gets the vector of its character n-grams. Rows of the other words and of the
    specials keep their initialisation.

    Lookup is exact first, then (case_insensitive) the most frequent case variant, then the
    n-grams: a trained vector of the same word in other capitals is kept over an estimate."""
    import torch

    rows, dim = weight.shape
    if rows != len(vocab):
        raise ValueError(f"embedding has {rows} rows for a vocabulary of {len(vocab)}")
    vdim = vectors_dim(vectors)
    if vdim != dim:
        raise UsageError(f"--embeddings: the vectors have dimension {vdim} but the embedding has {dim} "
                         f"(set --emb {vdim})")
    subwords = getattr(vectors, "subwords", None)
    ids, found, from_subwords = [], [], 0
    start = len(vocab.specials)
    for i in range(start, len(vocab)):
        word = vocab.itos[i]
        row = _lookup(vectors, word) if case_insensitive else vectors.get(word)
        if row is None and subwords is not None:
            row = subwords.vector(word)  # None when `<word>` is shorter than min_n: no n-gram
            from_subwords += row is not None
        if row is not None:
            ids.append(i)
            found.append(np.asarray(row, dtype=np.float32))
    if found:
        values = torch.from_numpy(np.stack(found)).to(weight.device, weight.dtype)
        with torch.no_grad():
            weight[torch.tensor(ids, device=weight.device)] = values
    return Coverage(len(vocab) - start, len(ids) - from_subwords, from_subwords)


def init_embedding(weight, vocab: Vocab, vectors, *, case_insensitive: bool = True) -> float:
    """fill_embedding, returning the share of ordinary vocabulary words given a pretrained
    vector (0..1): found in the vectors or, for fastText, from their character n-grams."""
    return fill_embedding(weight, vocab, vectors, case_insensitive=case_insensitive).share
