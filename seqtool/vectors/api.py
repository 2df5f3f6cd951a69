"""What `seqtool embed` calls: load, train, import, export, the queries, evaluation.

    vecs = load_vectors("glove100")                                # a stored name or a vector file
    result = train(["corpus.txt"], TrainConfig(algo="glove"))      # TrainResult, stored as corpus-glove100
    import_vectors("glove.6B.100d.txt", "glove100")                # ImportResult
    neighbors("glove100", ["king"], top=5).answers[0].matches      # [Match(word, score), ...]

Every function returns a result dataclass; every store write of vectors goes
through train() / import_vectors() here and vectors/store.py. The loader is vectors/load.py,
the query entry points vectors/lookup.py (both re-exported here).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import IO, Optional

from ..core import console
from ..core.errors import UsageError
from ..core.atomic import atomic_write
from ..core.digest import Digest
from ..core.outputs import check_output_path
from ..core.sources import Source, expand_inputs
from ..core.store import ModelStore, name_from_inputs, validate_name
from .load import load_vectors
from .lookup import (AnalogyAnswer, Neighbors, NeighborsResult, analogy, analogy_methods, doesnt_match,
                     most_similar, neighbors, similarity)
from .model import Vectors
from .store import KIND
from .train import TrainConfig, stored_config, train_vectors

__all__ = ["load_vectors", "TrainResult", "default_name", "train", "ImportResult", "import_vectors", "ExportResult",
           "export", "Neighbors", "NeighborsResult", "neighbors", "most_similar", "AnalogyAnswer", "analogy",
           "analogy_methods", "similarity", "doesnt_match", "Evaluation", "evaluate", "Plotted", "plot",
           "VectorsInfo", "info", "infer_documents"]


def _is_file(spec: str | Vectors) -> bool:
    return isinstance(spec, str) and os.path.isfile(spec)


# ---------------------------------------------------------------- train, import, export
@dataclass
class TrainResult:
    name: str
    vectors: Vectors
    config: TrainConfig
    metrics: dict
    default_name: bool  # True when the name was derived from the input (no --name)


def default_name(corpus: list[str], config: TrainConfig) -> str:
    """corpus.txt + word2vec, 100 dimensions -> 'corpus-word2vec100' (stdin: 'vectors-word2vec100';
    doc2vec: 'doc2vec100-doc2vec100')."""
    return name_from_inputs(corpus, suffix=f"-{config.algo}{config.dim}",
                            fallback=f"doc2vec{config.dim}" if config.algo == "doc2vec" else "vectors")


def train(corpus: list[str], config: TrainConfig, *, name: str | None = None, encoding: str = "utf-8",
          errors: str = "strict", force: bool = False, store: ModelStore | None = None) -> TrainResult:
    """Train vectors on `corpus` (files, folders, globs, '-') and store them as `name`
    (a name holding a model of another kind only when `force`). doc2vec (seqtool.vectors.doc2vec)
    reads documents (`config.layout`) and stores document vectors: the ids are the rows, so
    `embed neighbors NAME DOC_ID` finds similar documents."""
    from .store import save_vectors

    config.check()
    chosen = validate_name(name or default_name(corpus, config))
    store = store or ModelStore()
    store.check_replace(chosen, KIND, force=force)  # before any work
    if config.algo == "doc2vec":
        from . import doc2vec

        model, metrics = doc2vec.train(corpus, doc2vec.Doc2VecConfig.from_options(config), name=chosen,
                                       layout=config.layout, encoding=encoding, errors=errors, store=store,
                                       force=force)
        return TrainResult(chosen, model.doc_vectors(), config, metrics, default_name=name is None)
    sources = expand_inputs(corpus)
    digests = [Digest() for _ in sources]  # each input hashed while it is read
    with store.lock(chosen):
        vecs, metrics = train_vectors(sources, config, encoding=encoding, errors=errors, digests=digests)
        save_vectors(vecs, chosen, extra=stored_config(vecs, config, sources, metrics, digests), store=store,
                     lock=False, force=force)
    return TrainResult(chosen, vecs, config, metrics, default_name=name is None)


@dataclass
class ImportResult:
    name: str
    vectors: Vectors
    format: str  # as detected: word2vec-binary, word2vec-text or glove
    seconds: float


def import_vectors(path: str, name: str, *, limit: int | None = None, force: bool = False,
                   store: ModelStore | None = None) -> ImportResult:
    """Read a vector file and store it as `name` (memory-mapped on later loads; a name
    holding a model of another kind only when `force`)."""
    from .formats import detect_format, read_vectors
    from .store import save_vectors

    store = store or ModelStore()
    store.check_replace(validate_name(name), KIND, force=force)  # before any work
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    start = time.perf_counter()
    fmt = detect_format(path)[0]
    vecs = read_vectors(path, limit=limit)
    source = {"path": os.path.abspath(path), "format": fmt, "bytes": os.path.getsize(path), "limit": limit}
    save_vectors(vecs, name, extra={"source": source}, store=store, force=force)
    return ImportResult(name, vecs, fmt, time.perf_counter() - start)


@dataclass
class ExportResult:
    words: int
    dim: int
    output: str  # a file, or "-" for stdout


def export(spec: str | Vectors, *, output: str | None = None, fmt: str = "word2vec", binary: bool = False,
           limit: int | None = None, stdout: IO[bytes] | None = None) -> ExportResult:
    """Write vectors as word2vec (header) or GloVe (no header) text, or word2vec binary,
    to `output` (atomically) or to stdout (None or '-')."""
    from .formats import write_vectors

    if fmt not in ("word2vec", "glove"):
        raise UsageError(f"--format must be word2vec or glove (got {fmt!r})")
    if binary and fmt != "word2vec":
        raise UsageError("--binary is only available with --format word2vec")
    to_stdout = output is None or output == "-"
    if to_stdout and binary and sys.stdout.isatty():
        raise UsageError("refusing to write binary vectors to a terminal; use -o FILE or a pipe")
    if not to_stdout:
        check_output_path(output, inputs=[Source(spec)] if _is_file(spec) else [], option="--output")
    vecs = load_vectors(spec, limit=limit)
    if to_stdout:
        if stdout is None and sys.stdout is None:
            raise console.stdout_error()
        try:
            if sys.stdout is not None:
                sys.stdout.flush()
            out = stdout or sys.stdout.buffer
            write_vectors(vecs, out, fmt, binary=binary)
            out.flush()
        except BrokenPipeError:  # the reader went away (| head): the CLI exits quietly
            raise
        except OSError as e:  # a full disk, /dev/full: one line, no traceback
            raise console.stdout_error(e) from None
    else:
        with atomic_write(output, "wb") as fh:
            write_vectors(vecs, fh, fmt, binary=binary)
    return ExportResult(len(vecs), vecs.dim, "-" if to_stdout else output)


@dataclass
class Evaluation:
    analogies: Optional[object] = None  # evaluate.AnalogyResult
    pairs: Optional[object] = None      # evaluate.PairResult


def evaluate(spec: str | Vectors, *, analogies: str | None = None, pairs: str | None = None,
             only: str | None = None, restrict: int = 300000, case_sensitive: bool = False,
             method: str = "add", limit: int | None = None) -> Evaluation:
    """gensim's evaluate_word_analogies / evaluate_word_pairs figures (see vectors/evaluate.py)."""
    from .evaluate import evaluate_analogies, evaluate_pairs

    if only not in (None, "analogies", "pairs"):
        raise UsageError(f"--only must be analogies or pairs (got {only!r})")
    if restrict < 1:
        raise UsageError(f"--restrict must be at least 1 (got {restrict})")
    if method not in ("add", "mul"):
        raise UsageError(f"--method must be add or mul (got {method!r})")
    vecs = load_vectors(spec, limit=limit)
    out = Evaluation()
    if only in (None, "analogies"):
        out.analogies = evaluate_analogies(vecs, analogies, restrict=restrict, case_insensitive=not case_sensitive,
                                           method=method)
    if only in (None, "pairs"):
        out.pairs = evaluate_pairs(vecs, pairs, restrict=restrict, case_insensitive=not case_sensitive)
    return out


@dataclass
class Plotted:
    output: str
    points: list  # [(word, x, y, is_query)]


def plot(spec: str | Vectors, words: list[str], output: str, *, neighbours: int = 5,
         case_insensitive: bool = False, limit: int | None = None) -> Plotted:
    """A 2-D PCA map of `words` and their neighbours, written to `output` in the format its suffix names."""
    from ..core.plotting import plot_suffixes
    from .plot import plot_words

    if neighbours < 0:
        raise UsageError(f"--neighbors must be >= 0 (got {neighbours})")
    check_output_path(output, inputs=[Source(spec)] if _is_file(spec) else [], option="--output",
                      suffixes=plot_suffixes("--output"))
    placed = plot_words(load_vectors(spec, limit=limit), words, output, neighbours=neighbours,
                        case_insensitive=case_insensitive)
    return Plotted(output, placed)


@dataclass
class VectorsInfo:
    words: int
    dim: int
    first: list  # the first 10 words
    subwords: Optional[dict] = None  # fastText: {"min_n", "max_n", "bucket", "hash"}


def info(spec: str | Vectors) -> VectorsInfo:
    vecs = load_vectors(spec)
    return VectorsInfo(len(vecs), vecs.dim, vecs.words[:10],
                       vecs.subwords.config() if vecs.subwords is not None else None)


def infer_documents(name: str, inputs: list[str], *, layout: str = "auto", encoding: str = "utf-8",
                    errors: str = "strict"):
    """(id, vector) for each document of `inputs` under stored doc2vec model `name`."""
    from . import doc2vec

    model = doc2vec.load_model(name)
    docs = doc2vec.read_documents(inputs, layout=layout, encoding=encoding, errors=errors)
    vectors = doc2vec.infer(model, [d.text for d in docs])
    return [(str(d.id), vectors[i]) for i, d in enumerate(docs)]
