"""Training doc2vec (gensim's Doc2Vec) and inferring vectors of new documents with it."""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ...core import console
from ...core.errors import UsageError
from ..model import Vectors
from ..queries import neighbors as nearest
from .config import Doc2VecConfig
from .documents import Document


@dataclass
class DocModel:
    """A trained (or loaded) gensim Doc2Vec with the config and tokenizer that made it."""

    gensim: object  # gensim.models.Doc2Vec
    config: Doc2VecConfig

    @property
    def ids(self) -> list[str]:
        return list(self.gensim.dv.index_to_key)

    def doc_vectors(self) -> Vectors:
        return Vectors(self.ids, np.asarray(self.gensim.dv.vectors, dtype=np.float32))


def tagged(documents: Sequence[Document], config: Doc2VecConfig) -> list:
    from gensim.models.doc2vec import TaggedDocument

    tokenize = config.tokenize()
    return [TaggedDocument(tokenize(doc.text), [doc.id]) for doc in documents]


def train_model(documents: Sequence[Document], config: Doc2VecConfig) -> DocModel:
    """Train Doc2Vec on `documents`: gensim's Doc2Vec(tagged(documents), **config.gensim_params())."""
    from gensim.models import Doc2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    config.check()
    if not documents:
        raise UsageError("no documents to train on (the input is empty or blank)")
    logging.getLogger("gensim").setLevel(logging.ERROR)  # stderr stays ours
    corpus = tagged(documents, config)
    if not any(doc.words for doc in corpus):
        raise UsageError(f"the {len(corpus)} document(s) have no words after tokenization")
    with console.progress() as bar:
        task = bar.add_task("doc2vec epochs", total=config.epochs, status="")

        class _Epochs(CallbackAny2Vec):
            def on_epoch_end(self, model):  # noqa: D401 - gensim hook
                bar.advance(task)

        try:
            model = Doc2Vec(corpus, callbacks=[_Epochs()], **config.gensim_params())
        except RuntimeError as exc:  # "you must first build vocabulary before training the model"
            raise UsageError(f"nothing to train on: no word occurs at least {config.min_count} times "
                             f"(lower --min-count) [{exc}]") from None
    return DocModel(model, config)


def infer(model: DocModel, texts: Sequence[str], *, epochs: int | None = None,
          hashfxn: Callable[[str], int] | None = None) -> np.ndarray:
    """(N, d) float32 vectors of new documents: gensim's infer_vector with the stored epochs and
    alpha, made repeatable. infer_vector starts from a vector seeded by Python's hash() of the
    text (different in every process) and draws from the model's shared RandomState (different
    on every call), so here the start is seeded by a CRC-32 of the config seed and the text and
    the RandomState is reset to the seed before each document: a document's vector depends on
    nothing but the model and its text. (`hashfxn=hash` gives infer_vector's own start.)"""
    from gensim.models.doc2vec_inner import train_document_dbow, train_document_dm
    from gensim.models.keyedvectors import pseudorandom_weak_vector

    gm, config = model.gensim, model.config
    epochs = epochs or config.epochs
    hashfxn = hashfxn or (lambda s: zlib.crc32(f"{config.seed}\t{s}".encode("utf-8")))
    tokenize = config.tokenize()
    d = gm.dv.vector_size
    out = np.empty((len(texts), d), dtype=np.float32)  # (N, d)
    lockf = np.ones(1, dtype=np.float32)
    work = np.zeros(gm.layer1_size, dtype=np.float32)
    neu1 = np.zeros(gm.layer1_size, dtype=np.float32)
    step = (config.alpha - config.min_alpha) / max(epochs - 1, 1)  # alpha falls linearly to min_alpha
    for i, text in enumerate(texts):
        words = tokenize(text)
        vec = pseudorandom_weak_vector(d, seed_string=" ".join(words), hashfxn=hashfxn).reshape(1, d)  # (1, d)
        gm.random = np.random.RandomState(config.seed)
        alpha = config.alpha
        for _ in range(epochs):  # W and U frozen: only vec learns
            if gm.sg:
                train_document_dbow(gm, words, [0], alpha, work, learn_words=False, learn_hidden=False,
                                    doctag_vectors=vec, doctags_lockf=lockf)
            else:
                train_document_dm(gm, words, [0], alpha, work, neu1, learn_words=False, learn_hidden=False,
                                  doctag_vectors=vec, doctags_lockf=lockf)
            alpha -= step
        out[i] = vec[0]
    return out


def features(model: DocModel, texts: Sequence[str]) -> np.ndarray:
    """Classifier features: the (N, d) inferred vectors of `texts`. Training texts are inferred
    too rather than taken from their trained rows, so that train and test features come from the
    same procedure: on SST-2 that is worth 1.6 points with gensim's defaults (56.78 vs 55.19 %)
    and 2 to 4 points of dev accuracy with more epochs (benchmarks/bench_doc2vec.py)."""
    return infer(model, texts)


def neighbors(model: DocModel, doc_id: str, *, top_n: int = 10) -> list:
    """The `top_n` documents nearest `doc_id` by cosine (seqtool.vectors.queries.Match list)."""
    return nearest(model.doc_vectors(), doc_id, top_n=top_n)
