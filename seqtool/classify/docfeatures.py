"""doc2vec document vectors as classifier features (`classify train --features doc2vec:MODEL`).

MODEL is a stored doc2vec model (`seqtool embed train --algo doc2vec`). Every text, in
training and in prediction alike, gets the vector that model infers for it
(seqtool.vectors.doc2vec.features: train and test features from one procedure), and the
classifier gains a linear path on it, standardised with the training mean and sd:

    logits = network(text) + ngram path + W_d ((v - mean) / sd) + b_d      v: (d,) inferred

the same logistic-regression head the bag-of-n-grams path is (its logits added to the
network's), so `--features doc2vec:MODEL` on top of the recipe adds what "doc2vec + logistic
regression" learns. W_d starts at zero, so the first step sees the network alone.

The classifier stores MODEL's name and the sha256 of its inference weights: a doc2vec model
replaced under that name afterwards would give other vectors, and loading the classifier
then fails in one line instead of predicting from vectors it was not trained on.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..core.errors import ModelError


class DocFeatures:
    """The doc2vec model a classifier reads, loaded on first use."""

    def __init__(self, name: str, dim: int | None = None, sha256: str | None = None):
        self.name, self.dim, self.sha256 = name, dim, sha256
        self._model = None

    @classmethod
    def open(cls, name: str) -> "DocFeatures":
        feats = cls(name)
        feats.model()  # fails now, with the model's name, rather than after the vocabulary is built
        return feats

    def model(self):
        if self._model is None:
            from ..core.digest import sha256_of
            from ..core.store import ModelStore
            from ..vectors import doc2vec

            store = ModelStore()
            info = store.open(self.name, ("vectors",))
            digest = sha256_of(info.file(doc2vec.WEIGHTS_FILE)) if info.file(doc2vec.WEIGHTS_FILE).exists() else None
            if self.sha256 is not None and digest != self.sha256:
                raise ModelError(f"doc2vec model '{self.name}' has changed since this classifier was trained on "
                                 f"its vectors; retrain the classifier (or restore that model)")
            self._model = doc2vec.load_model(self.name, store=store)
            self.sha256 = digest
            self.dim = self._model.gensim.dv.vector_size
        return self._model

    def vectors(self, texts: Sequence[str]) -> torch.Tensor:
        """(N, d) float32: the vectors the doc2vec model infers for `texts`."""
        from ..vectors import doc2vec

        model = self.model()
        if not texts:
            return torch.zeros(0, self.dim)
        return torch.from_numpy(doc2vec.features(model, list(texts)))

    def to_config(self) -> dict:
        return {"model": self.name, "dim": self.dim, "sha256": self.sha256}

    @classmethod
    def from_config(cls, conf: dict) -> "DocFeatures":
        return cls(str(conf["model"]), int(conf["dim"]), conf.get("sha256"))


def add_doc_path(model: nn.Module, num_classes: int, doc_dim: int) -> None:
    """model.doc: the linear head on standardised document vectors (None when doc_dim is 0;
    then nothing is built and no random number drawn, so other models stay bit-for-bit)."""
    model.doc = nn.Linear(doc_dim, num_classes) if doc_dim else None
    if model.doc is not None:
        nn.init.zeros_(model.doc.weight)
        nn.init.zeros_(model.doc.bias)
        # set by training from the training texts' vectors
        model.register_buffer("doc_mean", torch.zeros(doc_dim))
        model.register_buffer("doc_scale", torch.ones(doc_dim))


def doc_logits(model: nn.Module, docs: torch.Tensor | None) -> torch.Tensor | None:
    """docs (B, d) -> logits (B, C) of the document-vector path, or None when it is off."""
    if getattr(model, "doc", None) is None or docs is None:
        return None
    return model.doc((docs.to(model.doc_mean.device) - model.doc_mean) * model.doc_scale)


def standardise(model: nn.Module, docs: torch.Tensor) -> None:
    """Set the path's mean and 1/sd from the training vectors docs (N, d)."""
    with torch.no_grad():
        model.doc_mean.copy_(docs.mean(0))
        sd = docs.std(0, unbiased=False) if len(docs) > 1 else torch.ones(docs.size(1))
        model.doc_scale.copy_(1.0 / sd.clamp(min=1e-6))
