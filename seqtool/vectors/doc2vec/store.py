"""doc2vec models in the model store: kind "vectors" (the document vectors are the rows, the ids
the "words"), plus doc2vec.safetensors (W, U, counts) and doc2vec-words.json for inference."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from ...core.errors import ModelError, UsageError
from ...core.store import ModelStore, validate_name
from ...core.tensors import load_tensors, save_tensors
from ..store import KIND, open_stored, save_vectors
from .config import Doc2VecConfig
from .documents import read_documents
from .model import DocModel, train_model

WEIGHTS_FILE = "doc2vec.safetensors"
WORDS_FILE = "doc2vec-words.json"


def save_model(model: DocModel, name: str, *, extra: dict | None = None,
               store: ModelStore | None = None, lock: bool = True, force: bool = False) -> Path:
    """Publish `model` as stored vectors `name` (doc vectors + inference arrays); returns its folder
    (`force`: replace a model of another kind stored under the name)."""
    gm, config = model.gensim, model.config
    wv = gm.wv
    arrays = {"word_vectors": np.ascontiguousarray(wv.vectors, dtype=np.float32),  # (V, d) W
              "word_counts": np.asarray(wv.expandos["count"], dtype=np.int64),  # (V,)
              "sample_int": np.asarray(wv.expandos["sample_int"], dtype=np.uint32)}  # (V,) keep thresholds
    if config.negative:
        arrays["syn1neg"] = np.ascontiguousarray(gm.syn1neg, dtype=np.float32)  # (V, d) U
    if config.hs:
        arrays["syn1"] = np.ascontiguousarray(gm.syn1, dtype=np.float32)  # (V, d) U, Huffman-tree nodes

    def write_files(folder: Path) -> None:
        save_tensors(arrays, folder / WEIGHTS_FILE, framework="np")
        with open(folder / WORDS_FILE, "w", encoding="utf-8") as fh:
            json.dump(list(wv.index_to_key), fh, ensure_ascii=False, separators=(",", ":"))

    docs = model.doc_vectors()
    meta = {"config": {"dim": docs.dim, "count": len(docs), "algo": "doc2vec", **asdict(config)},
            "tokenizer": {"method": config.tokenizer, "lower": config.lower}, "doc2vec": {"words": len(wv)},
            **(extra or {})}
    return save_vectors(docs, name, extra=meta, store=store, lock=lock, force=force, add_files=write_files)


def load_model(name: str, *, store: ModelStore | None = None) -> DocModel:
    """Rebuild the gensim Doc2Vec of stored model `name`, able to infer vectors."""
    from gensim.models import Doc2Vec
    from gensim.models.keyedvectors import KeyedVectors

    store = store or ModelStore()
    info = store.open(name, (KIND,))
    origin = f"vectors '{info.name}'"
    stored = info.config.get("config", {})
    if stored.get("algo") != "doc2vec":
        raise ModelError(f"{origin}: holds {stored.get('algo') or 'imported'} word vectors, not a doc2vec model")
    try:
        config = Doc2VecConfig.from_dict(stored).check()
        with open(info.file(WORDS_FILE), encoding="utf-8") as fh:
            words = json.load(fh)
    except FileNotFoundError:
        raise ModelError(f"{origin}: {WORDS_FILE} is missing; retrain the model") from None
    except (ValueError, TypeError, UsageError, UnicodeDecodeError) as exc:
        raise ModelError(f"{origin}: config.json or {WORDS_FILE} is corrupted ({exc}); retrain the model") from None
    arrays = load_tensors(info.file(WEIGHTS_FILE), framework="np", origin=origin)
    docs = open_stored(info.name, store=store)
    v, d = len(words), config.vector_size
    want = {"word_vectors": (v, d), "word_counts": (v,), "sample_int": (v,),
            **({"syn1neg": (v, d)} if config.negative else {}), **({"syn1": (v, d)} if config.hs else {})}
    if (not isinstance(words, list) or docs.dim != d
            or any(k not in arrays or arrays[k].shape != shape for k, shape in want.items())):
        raise ModelError(f"{origin}: {WEIGHTS_FILE}, {WORDS_FILE} and config.json do not agree; retrain the model")

    gm = Doc2Vec(**config.gensim_params())  # no documents: an empty model to fill
    wv = gm.wv
    wv.index_to_key = list(words)
    wv.key_to_index = {w: i for i, w in enumerate(words)}
    wv.allocate_vecattrs(attrs=["count", "sample_int"], types=[np.int64, np.uint32])
    wv.expandos["count"][:] = arrays["word_counts"]
    wv.expandos["sample_int"][:] = arrays["sample_int"]
    wv.vectors = np.array(arrays["word_vectors"], dtype=np.float32)  # writable: gensim's C code takes a pointer
    wv.norms = None
    if config.negative:
        gm.syn1neg = np.array(arrays["syn1neg"], dtype=np.float32)
        gm.make_cum_table()  # the negative-sampling table, from the counts as in training
    if config.hs:
        gm.syn1 = np.array(arrays["syn1"], dtype=np.float32)
        gm.create_binary_tree()  # the Huffman codes, from the counts as in training
    gm.dv = KeyedVectors(d)
    gm.dv.index_to_key = list(docs.words)
    gm.dv.key_to_index = {k: i for i, k in enumerate(docs.words)}
    gm.dv.vectors = np.array(docs.matrix, dtype=np.float32)  # (N, d)
    gm.dv.vectors_lockf = np.ones(1, dtype=np.float32)
    gm.corpus_count = len(docs)
    return DocModel(gm, config)


def train(specs: Sequence[str], config: Doc2VecConfig, *, name: str, layout: str = "auto",
          encoding: str = "utf-8", errors: str = "strict", store: ModelStore | None = None,
          force: bool = False) -> tuple[DocModel, dict]:
    """Read, train and store under the store lock; returns (model, metrics). A name holding a
    model of another kind is refused before any work, unless `force`."""
    validate_name(name)
    config.check()
    store = store or ModelStore()
    store.check_replace(name, KIND, force=force)
    documents = read_documents(specs, layout=layout, encoding=encoding, errors=errors)
    with store.lock(name):
        start = time.perf_counter()
        model = train_model(documents, config)
        metrics = {"documents": len(documents), "vocab": len(model.gensim.wv),
                   "corpus_words": int(model.gensim.corpus_total_words),
                   "train_seconds": round(time.perf_counter() - start, 3)}
        save_model(model, name, extra={"metrics": metrics}, store=store, lock=False, force=force)
    return model, metrics
