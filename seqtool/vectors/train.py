"""Training word vectors on a corpus: word2vec and fastText through gensim,
GloVe with seqtool.vectors.glove. vectors/api.py stores the result (kind
"vectors", the memory-mappable layout of seqtool.vectors.store).

The corpus is read as one sentence per line, split on whitespace (lower-cased
with `lower`), lines longer than 10,000 words cut in pieces as gensim's
LineSentence does, so a model trained here equals one trained with gensim on
LineSentence(file) with the same parameters (and `workers=1`, `seed`).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from typing import Iterator

import numpy as np

from ..core import console
from ..core.errors import InputError
from ..core.digest import Digest, sha256_of
from ..core.readers import iter_source_lines
from ..core.sources import Source
from .model import Vectors
from .options import TrainConfig

MAX_SENTENCE = 10_000  # gensim's MAX_WORDS_IN_BATCH / LineSentence max_sentence_length


class Corpus:
    """A restartable iterable of token lists over files.

    Training iterates many times (gensim: one vocabulary pass + one per epoch), so a
    corpus of up to CACHE_BYTES is kept in memory after the first pass; stdin always is.
    """

    CACHE_BYTES = 64 << 20

    def __init__(self, sources: list[Source], *, lower: bool = False, encoding: str = "utf-8",
                 errors: str = "strict", digests: list[Digest] | None = None):
        self.sources = sources
        self.digests = digests  # one per source, fed by the first pass (then None)
        self.lower = lower
        self.kwargs = {"encoding": encoding, "errors": errors}
        self._cached: list[list[str]] | None = None
        stdin = any(s.is_stdin for s in sources)
        size = 0 if stdin else sum(os.path.getsize(s.path) for s in sources)
        self._cache = stdin or size <= self.CACHE_BYTES
        if stdin:
            self._cached = list(self._read())

    def _read(self) -> Iterator[list[str]]:
        # The first pass hashes each input as it reads it (one read: FIFOs and '-' work).
        digests, self.digests = self.digests, None
        for i, source in enumerate(self.sources):
            digest = digests[i] if digests else None
            for line in iter_source_lines(source, digest=digest, **self.kwargs):
                tokens = (line.lower() if self.lower else line).split()
                for start in range(0, len(tokens), MAX_SENTENCE):
                    yield tokens[start:start + MAX_SENTENCE]

    def __iter__(self) -> Iterator[list[str]]:
        if self._cached is None and self._cache:
            self._cached = list(self._read())
        if self._cached is not None:
            return iter(self._cached)
        return self._read()


def corpus_record(sources: list[Source], digests: list[Digest] | None = None) -> list[dict]:
    """What the stored config says about the corpus (path, size and sha256 of each input):
    from the Digest fed while training read it, else (a regular file only) read again."""
    out = []
    for i, s in enumerate(sources):
        digest = digests[i] if digests else None
        if digest is not None and digest.complete:
            out.append({"path": "-" if s.is_stdin else os.path.abspath(s.path), "bytes": digest.size,
                        "sha256": digest.hexdigest()})
        elif s.is_stdin:
            out.append({"path": "-"})
        elif not os.path.isfile(s.path):  # a FIFO cannot be read again to hash it
            out.append({"path": os.path.abspath(s.path)})
        else:
            out.append({"path": os.path.abspath(s.path), "bytes": os.path.getsize(s.path),
                        "sha256": sha256_of(s.path)})
    return out


def train_vectors(sources: list[Source], config: TrainConfig, *, encoding: str = "utf-8",
                  errors: str = "strict", digests: list[Digest] | None = None) -> tuple[Vectors, dict]:
    """Train on `sources`; returns (vectors, metrics). Nothing is stored here: vectors/api.py
    publishes the result through vectors/store.py. `digests` (one per source) get each
    input's sha256 from the first pass over it."""
    config.check()
    corpus = Corpus(sources, lower=config.lower, encoding=encoding, errors=errors, digests=digests)
    start = time.perf_counter()
    label = ", ".join(s.name for s in sources[:3]) + (", ..." if len(sources) > 3 else "")
    try:
        if config.algo == "glove":
            vecs, metrics = _train_glove(corpus, config)
        else:
            vecs, metrics = _train_gensim(corpus, config)
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None
    metrics["train_seconds"] = round(time.perf_counter() - start, 3)
    if len(vecs) == 0:
        raise InputError(f"{label}: no word occurs at least {config.min_count} times "
                         f"(is the corpus empty? else lower --min-count)")
    return vecs, metrics


def stored_config(vecs: Vectors, config: TrainConfig, sources: list[Source], metrics: dict,
                  digests: list[Digest] | None = None) -> dict:
    """The config.json entries of trained vectors (besides the store's own)."""
    return {"config": {"dim": vecs.dim, "count": len(vecs), **config.resolved()},
            "tokenizer": {"level": "word", "method": "whitespace", "lower": config.lower},
            "training": {"corpus": corpus_record(sources, digests)}, "metrics": metrics}


def gensim_model(corpus, config: TrainConfig, callbacks=()):
    """The gensim Word2Vec / FastText model for `config` (shared with the benchmark)."""
    from gensim.models import FastText, Word2Vec

    cls = FastText if config.algo == "fasttext" else Word2Vec
    extra = dict(min_n=config.min_n, max_n=config.max_n, bucket=config.bucket) if cls is FastText else {}
    return cls(sentences=corpus, vector_size=config.dim, window=config.window, min_count=config.min_count,
               sg=1 if config.sg else 0, workers=config.workers, seed=config.seed, epochs=config.n_epochs,
               negative=config.negative, sample=config.sample, hs=1 if config.hs else 0,
               alpha=config.learning_rate, min_alpha=config.min_alpha, callbacks=list(callbacks), **extra)


def _train_gensim(corpus: Corpus, config: TrainConfig) -> tuple[Vectors, dict]:
    from gensim.models.callbacks import CallbackAny2Vec

    logging.getLogger("gensim").setLevel(logging.ERROR)  # stderr stays ours

    with console.progress() as bar:
        task = bar.add_task(f"{config.algo} epochs", total=config.n_epochs, status="")

        class _Epochs(CallbackAny2Vec):
            def on_epoch_end(self, model):  # noqa: D401 - gensim hook
                bar.advance(task)

        try:
            model = gensim_model(corpus, config, callbacks=[_Epochs()])
        except RuntimeError as exc:  # "you must first build vocabulary before training the model"
            raise InputError(f"nothing to train on: {exc} (is the corpus empty, or --min-count too high?)") from None
    wv = model.wv
    subwords = None
    if config.algo == "fasttext":
        from .subwords import Subwords

        subwords = Subwords(np.asarray(wv.vectors_ngrams, dtype=np.float32), min_n=wv.min_n, max_n=wv.max_n)
    vecs = Vectors(list(wv.index_to_key), np.array(wv.vectors, dtype=np.float32), subwords=subwords)
    return vecs, {"corpus_words": int(model.corpus_total_words), "vocab": len(vecs)}


def build_vocab(corpus: Corpus, min_count: int) -> tuple[list[str], np.ndarray, int]:
    """Words with at least `min_count` occurrences, most frequent first (ties: first seen)."""
    counts: Counter[str] = Counter()
    total = 0
    for tokens in corpus:
        counts.update(tokens)
        total += len(tokens)
    kept = sorted(((w, c) for w, c in counts.items() if c >= min_count), key=lambda wc: -wc[1])
    return [w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64), total


def glove_cooccurrences(corpus: Corpus, min_count: int, window: int):
    """The vocabulary (most frequent first), corpus size and co-occurrence counts GloVe fits."""
    from .glove import count_cooccurrences

    words, _, total = build_vocab(corpus, min_count)
    index = {w: i for i, w in enumerate(words)}

    def id_sentences() -> Iterator[np.ndarray]:
        get = index.get
        for tokens in corpus:
            ids = [i for i in map(get, tokens) if i is not None]
            if len(ids) > 1:
                yield np.array(ids, dtype=np.int32)

    return words, total, count_cooccurrences(id_sentences(), len(words), window)


def _train_glove(corpus: Corpus, config: TrainConfig) -> tuple[Vectors, dict]:
    from .glove import GloveConfig, train_glove

    t0 = time.perf_counter()
    words, total, cooc = glove_cooccurrences(corpus, config.min_count, config.window)
    count_seconds = time.perf_counter() - t0
    if not words:
        return Vectors([], np.zeros((0, config.dim), dtype=np.float32)), {}
    gconf = GloveConfig(dim=config.dim, window=config.window, epochs=config.n_epochs, x_max=config.x_max,
                        alpha=config.glove_alpha, lr=config.lr, batch_size=config.batch_size, seed=config.seed,
                        threads=config.workers)
    with console.progress() as bar:
        task = bar.add_task("GloVe epochs", total=gconf.epochs, status="")

        def on_epoch(epoch: int, loss: float, _vectors) -> None:
            bar.update(task, advance=1, status=f"loss {loss:.4g}")

        matrix, losses = train_glove(cooc, gconf, on_epoch=on_epoch)
    metrics = {"corpus_words": total, "vocab": len(words), "cooccurrence_nonzeros": int(len(cooc.values)),
               "cooccurrence_seconds": round(count_seconds, 3), "loss_per_epoch": [round(x, 4) for x in losses]}
    return Vectors(words, matrix), metrics
