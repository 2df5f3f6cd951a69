"""Document vectors: gensim's Doc2Vec (Le & Mikolov 2014), stored without pickle.

PV-DM (dm=1) predicts a word from its context words plus a paragraph vector D[doc]:
    h = mean(W[w_{t-k}], ..., W[w_{t+k}], D[doc])          # (d,)
    loss = -log s(h . U[w_t]) - sum_{n ~ P_neg} log s(-h . U[n])
PV-DBOW (dm=0) predicts each word of the document from D[doc] alone (h = D[doc]).
W are the word vectors, U the output weights (gensim's syn1neg, or syn1 with hierarchical
softmax). Inference for a new document freezes W and U and runs the same gradient steps on a
fresh D row only, so a stored model must keep W, U, the vocabulary (its counts give the negative
sampling table and the down-sampling thresholds) and the config, not just the document vectors.

Stored as kind "vectors" (seqtool.vectors.store's layout: the document vectors are the rows,
the document ids the "words", so `embed neighbors MODEL DOC_ID` works on them as on words),
plus doc2vec.safetensors and doc2vec-words.json for inference.

Documents are one per line (id: the line number), one per file of a folder (id: the path inside
the folder, the file name when it is flat) or JSONL {"id", "text"} records (id: "id", else the
line number). Tokens: seqtool's Tokenizer (whitespace, lower-cased, by default), the tokenizer of
the other seqtool vectors, which keeps punctuation and one-letter words ("!", "n't", "a") that
gensim's simple_preprocess drops; "gensim" selects simple_preprocess, the tokenizer of gensim's
tutorials. On SST-2 (benchmarks/bench_doc2vec.py, doc2vec + logistic regression, seed 1) the two
are within half a point, whitespace ahead: 56.78 vs 56.56 % with gensim's defaults, 73.48 vs
73.04 % with PV-DBOW + word training, 40 epochs; so the default follows the rest of seqtool.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..core import console
from ..core.errors import InputError, ModelError, UsageError
from ..core.io import Source, expand_inputs, iter_json_records, iter_source_lines, read_text
from ..core.store import ModelStore
from ..core.text import WORD_METHODS, Tokenizer
from .model import Vectors

LAYOUTS = ("auto", "lines", "files", "jsonl")
TOKENIZERS = (*WORD_METHODS, "gensim")
WEIGHTS_FILE = "doc2vec.safetensors"
WORDS_FILE = "doc2vec-words.json"


@dataclass
class Doc2VecConfig:
    dm: bool = True  # PV-DM (True) or PV-DBOW (False)
    vector_size: int = 100
    window: int = 5
    epochs: int = 10
    min_count: int = 5
    negative: int = 5
    hs: bool = False  # hierarchical softmax (with negative=0 it replaces negative sampling)
    sample: float = 1e-3
    alpha: float = 0.025
    min_alpha: float = 0.0001
    dbow_words: bool = False  # PV-DBOW: also train word vectors skip-gram style
    seed: int = 1
    workers: int = 3
    tokenizer: str = "whitespace"  # a seqtool word tokenizer, or "gensim" (simple_preprocess)
    lower: bool = True

    def check(self) -> "Doc2VecConfig":
        for name in ("vector_size", "window", "epochs", "min_count", "workers"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.negative < 0:
            raise UsageError("--negative must be 0 or more")
        if self.negative == 0 and not self.hs:
            raise UsageError("--negative 0 needs --hs (no output layer would be trained)")
        if self.tokenizer not in TOKENIZERS:
            raise UsageError(f"unknown tokenizer {self.tokenizer!r} (choose from {', '.join(TOKENIZERS)})")
        return self

    def tokenize(self) -> Callable[[str], list[str]]:
        if self.tokenizer == "gensim":
            from gensim.utils import simple_preprocess

            return simple_preprocess
        return Tokenizer("word", self.tokenizer, self.lower)

    def gensim_params(self) -> dict:
        return {"dm": int(self.dm), "vector_size": self.vector_size, "window": self.window,
                "epochs": self.epochs, "min_count": self.min_count, "negative": self.negative,
                "hs": int(self.hs), "sample": self.sample, "alpha": self.alpha, "min_alpha": self.min_alpha,
                "dbow_words": int(self.dbow_words), "seed": self.seed, "workers": self.workers}

    @classmethod
    def from_dict(cls, data: dict) -> "Doc2VecConfig":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


# ----------------------------------------------------------------------------- reading documents
@dataclass
class Document:
    id: str
    text: str
    where: str  # "file:line" or the file, for error messages


def read_documents(specs: Sequence[str], *, layout: str = "auto", encoding: str = "utf-8",
                   errors: str = "strict") -> list[Document]:
    """The documents of `specs` (files, folders, globs, '-'). layout "auto": a folder is one
    document per file, a .jsonl / .jsonl.gz file JSONL records, anything else one per line."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown document layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    kwargs = {"encoding": encoding, "errors": errors}
    groups = []  # (how, [sources], folder the ids are relative to)
    for spec in specs:
        how = layout
        if how == "auto":
            how = "files" if Path(spec).is_dir() else "jsonl" if spec.endswith((".jsonl", ".jsonl.gz")) else "lines"
        groups.append((how, expand_inputs([spec]), Path(spec) if Path(spec).is_dir() else None))
    prefix = sum(len(sources) for how, sources, _ in groups if how != "files") > 1
    docs: list[Document] = []
    for how, sources, folder in groups:
        for source in sources:
            if how == "files":
                ident = Path(source.path).relative_to(folder).as_posix() if folder else Path(source.path).name
                docs.append(Document(ident, read_text(source, **kwargs), source.name))
            else:
                docs.extend(_line_documents(source, how == "jsonl", prefix, kwargs))
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.id in seen:
            raise InputError(f"{doc.where}: document id {doc.id!r} repeats the one at {seen[doc.id]}")
        seen[doc.id] = doc.where
    if not docs:
        raise UsageError(f"{', '.join(specs) or 'the input'}: no documents (the input is empty or blank)")
    return docs


def _line_documents(source: Source, jsonl: bool, prefix: bool, kwargs: dict) -> Iterable[Document]:
    """One document per non-blank line; blank lines keep their number, so ids are file lines."""
    if jsonl:
        for record in iter_json_records([source], **kwargs):  # the one {"id", "text"} reader
            if record.error:
                raise InputError(record.error)
            ident = record.id
            if not isinstance(ident, (str, int)) or isinstance(ident, bool):
                raise InputError(f'{record.where}: "id" must be a string or an integer')
            # A line number names a document only within its file; a record's own id is used as it is.
            own_id = "id" in record.data
            yield Document(f"{source.name}:{ident}" if prefix and not own_id else str(ident), record.text, record.where)
        return
    for lineno, line in enumerate(iter_source_lines(source, **kwargs), 1):
        if line.strip():
            ident = str(lineno)
            yield Document(f"{source.name}:{ident}" if prefix else ident, line, f"{source.name}:{lineno}")


# ----------------------------------------------------------------------------- training
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


# ----------------------------------------------------------------------------- inference
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
    from .queries import neighbors as nearest

    return nearest(model.doc_vectors(), doc_id, top_n=top_n)


# ----------------------------------------------------------------------------- store
class _StoreWithFiles(ModelStore):
    """The model store, adding the inference files to the draft that save_vectors writes
    (save_vectors takes no extra files; see the report for the one-argument change)."""

    def __init__(self, base: ModelStore, write_files: Callable[[Path], None]):
        super().__init__(base.root)
        self._write_files = write_files

    @contextlib.contextmanager
    def writer(self, name, kind, **kwargs):
        with super().writer(name, kind, **kwargs) as draft:
            yield draft  # save_vectors writes vectors.npy, norms.npy, vocab.json
            self._write_files(draft.path)  # before the draft is published


def save_model(model: DocModel, name: str, *, extra: dict | None = None,
               store: ModelStore | None = None, lock: bool = True) -> Path:
    """Publish `model` as stored vectors `name` (doc vectors + inference arrays); returns its folder."""
    from ..core.tensors import save_tensors
    from .store import save_vectors

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
    return save_vectors(docs, name, extra=meta, store=_StoreWithFiles(store or ModelStore(), write_files),
                        lock=lock)


def load_model(name: str, *, store: ModelStore | None = None) -> DocModel:
    """Rebuild the gensim Doc2Vec of stored model `name`, able to infer vectors."""
    from gensim.models import Doc2Vec
    from gensim.models.keyedvectors import KeyedVectors

    from ..core.tensors import load_tensors
    from .store import open_stored

    store = store or ModelStore()
    info = store.open(name, ("vectors",))
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
          encoding: str = "utf-8", errors: str = "strict", store: ModelStore | None = None) -> tuple[DocModel, dict]:
    """Read, train and store under the store lock; returns (model, metrics)."""
    from ..core.store import validate_name

    validate_name(name)
    config.check()
    documents = read_documents(specs, layout=layout, encoding=encoding, errors=errors)
    store = store or ModelStore()
    with store.lock(name):
        start = time.perf_counter()
        model = train_model(documents, config)
        metrics = {"documents": len(documents), "vocab": len(model.gensim.wv),
                   "corpus_words": int(model.gensim.corpus_total_words),
                   "train_seconds": round(time.perf_counter() - start, 3)}
        save_model(model, name, extra={"metrics": metrics}, store=store, lock=False)
    return model, metrics
