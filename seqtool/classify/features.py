"""Text -> model inputs: token ids for the RNN and n-gram ids for the linear path.

Both vocabularies are built from the training texts only. The n-gram path sees
each distinct n-gram of a text once (binary bag, as in NBSVM), and n-grams never
seen in training are dropped rather than mapped to a shared id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from ..core.text import Tokenizer
from ..core.vocab import PAD, UNK_ID, Vocab, DEFAULT_SPECIALS

TOKEN_SPECIALS = DEFAULT_SPECIALS + (PAD,)


@dataclass
class Encoded:
    """A set of texts ready for batching: per-text token ids and n-gram ids."""

    tokens: list[list[int]]
    ngrams: list[list[int]]
    docs: torch.Tensor | None = None  # (N, d) doc2vec vectors, with --features doc2vec:MODEL

    def __len__(self) -> int:
        return len(self.tokens)


class Featurizer:
    def __init__(self, tokenizer: Tokenizer, vocab: Vocab, ngram_vocab: Vocab | None, ngram_order: int,
                 max_len: int, doc=None):
        self.doc = doc  # a classify.docfeatures.DocFeatures, or None
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.ngram_vocab = ngram_vocab
        self.ngram_order = ngram_order if ngram_vocab is not None else 0
        self.max_len = max_len

    @classmethod
    def build(cls, texts: Iterable[str], tokenizer: Tokenizer, *, ngram_order: int, max_len: int,
              min_freq: int = 1, max_vocab: int | None = None, max_ngrams: int | None = None,
              doc=None) -> "Featurizer":
        word_counts: Counter = Counter()
        ngram_counts: Counter = Counter()
        for text in texts:
            toks = tokenizer(text)
            word_counts.update(toks)
            if ngram_order > 0:
                ngram_counts.update(set(_ngrams(toks, ngram_order)))
        vocab = Vocab.build(word_counts, min_freq=min_freq, max_size=max_vocab, specials=TOKEN_SPECIALS)
        ngram_vocab = None
        if ngram_order > 0:
            ngram_vocab = Vocab.build(ngram_counts, max_size=max_ngrams)
        return cls(tokenizer, vocab, ngram_vocab, ngram_order, max_len, doc)

    @property
    def num_ngrams(self) -> int:
        return len(self.ngram_vocab) if self.ngram_vocab is not None else 0

    def encode_one(self, text: str) -> tuple[list[int], list[int]]:
        toks = self.tokenizer(text)
        ids = self.vocab.encode(toks[: self.max_len]) if toks else []
        if not ids:
            ids = [UNK_ID]  # an empty or all-space line still gets a prediction
        grams: list[int] = []
        if self.ngram_vocab is not None:
            known = set(map(self.ngram_vocab.stoi.get, _ngrams(toks, self.ngram_order)))
            known.discard(None)  # n-grams never seen in training
            grams = sorted(known)
        return ids, grams

    def encode(self, texts: Sequence[str]) -> Encoded:
        pairs = [self.encode_one(t) for t in texts]
        docs = self.doc.vectors(texts) if self.doc is not None else None
        return Encoded([p[0] for p in pairs], [p[1] for p in pairs], docs)

    def to_config(self) -> dict:
        conf = {"tokenizer": self.tokenizer.to_dict(), "ngram_order": self.ngram_order, "max_len": self.max_len}
        if self.doc is not None:
            conf["doc2vec"] = self.doc.to_config()
        return conf


def _ngrams(tokens: list[str], order: int) -> list[str]:
    out = list(tokens)
    for n in range(2, order + 1):
        out.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)))))
    return out


def collate(enc: Encoded, indices: Sequence[int], pad_id: int):
    """A batch: padded tokens (B, T), lengths (B,), flat n-gram ids and their offsets (B,)."""
    seqs = [enc.tokens[i] for i in indices]
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    tokens = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.int64)  # (B, T)
    for row, seq in enumerate(seqs):
        tokens[row, : len(seq)] = torch.tensor(seq, dtype=torch.int64)
    grams = [enc.ngrams[i] for i in indices]
    offsets = torch.tensor([0] + [len(g) for g in grams[:-1]], dtype=torch.int64).cumsum(0)
    flat = torch.tensor([i for g in grams for i in g], dtype=torch.int64)
    return tokens, lengths, flat, offsets
