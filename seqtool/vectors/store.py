"""Vectors in the model store (kind "vectors"), laid out for memory mapping.

    vectors.npy   float32 (n, d), C order: opened with mmap, so a reload reads
                  only the .npy header and the pages a query touches
    norms.npy     float32 (n,) row norms, so similarity queries need no pass
                  over the matrix before the first answer
    vocab.json    JSON list of the n words, row order
    ngrams.npy    fastText only: float32 (bucket, d) n-gram vectors, memory-mapped like
                  the matrix, so a word missing from the vocabulary gets the vector of
                  its character n-grams (seqtool.vectors.subwords)
    config.json   {"config": {"dim", "count", ...}, "subwords": {"min_n", "max_n", "bucket",
                  "hash"} (fastText), "source" or "training", "metrics"}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.errors import ModelError
from ..core.store import ModelStore
from .model import Vectors

MATRIX_FILE = "vectors.npy"
NORMS_FILE = "norms.npy"
VOCAB_FILE = "vocab.json"
NGRAMS_FILE = "ngrams.npy"
KIND = "vectors"


def save_vectors(vecs: Vectors, name: str, *, extra: dict | None = None, store: ModelStore | None = None,
                 lock: bool = True, force: bool = False, add_files: Callable[[Path], None] | None = None) -> Path:
    """Publish `vecs` as stored vectors `name`; returns the model directory.
    (`lock=False` when the caller already holds the store lock on `name`; `force` replaces a
    model of another kind stored under the name; `add_files(folder)` writes a kind's own files,
    doc2vec's inference arrays, into the draft before it is published.)"""
    import contextlib

    store = store or ModelStore()
    with (store.lock(name) if lock else contextlib.nullcontext()), store.writer(name, KIND, force=force) as draft:
        _write_npy(draft.path / MATRIX_FILE, vecs.matrix)
        np.save(draft.path / NORMS_FILE, np.asarray(vecs.norms, dtype=np.float32), allow_pickle=False)
        with open(draft.path / VOCAB_FILE, "w", encoding="utf-8") as fh:
            json.dump(vecs.words, fh, ensure_ascii=False, separators=(",", ":"))
        draft.config = {"config": {"dim": vecs.dim, "count": len(vecs)}, **(extra or {})}
        if vecs.subwords is not None:
            _write_npy(draft.path / NGRAMS_FILE, vecs.subwords.ngrams)
            draft.config["subwords"] = vecs.subwords.config()
        if add_files is not None:
            add_files(draft.path)
    return store.open(name, (KIND,)).path


def _write_npy(path: Path, matrix: np.ndarray) -> None:
    # np.save streams a C-contiguous array (or memory map) straight to the file.
    with open(path, "wb") as fh:
        np.save(fh, np.asarray(matrix, dtype=np.float32), allow_pickle=False)


def open_stored(name: str, *, limit: int | None = None, store: ModelStore | None = None) -> Vectors:
    """Memory-map stored vectors `name` (a fraction of a second for 400k x 300)."""
    store = store or ModelStore()
    info = store.open(name, (KIND,), hint="import some with: seqtool embed import FILE --name NAME")
    origin = f"vectors '{info.name}'"
    try:
        matrix = np.load(info.file(MATRIX_FILE), mmap_mode="r", allow_pickle=False)
        norms = np.load(info.file(NORMS_FILE), mmap_mode="r", allow_pickle=False)
        with open(info.file(VOCAB_FILE), encoding="utf-8") as fh:
            words = json.load(fh)
    except FileNotFoundError as exc:
        raise ModelError(f"{origin}: {Path(exc.filename).name} is missing; re-import the vectors") from None
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ModelError(f"{origin}: stored files are corrupted ({exc}); re-import the vectors") from None
    if (matrix.dtype != np.float32 or matrix.ndim != 2 or not isinstance(words, list)
            or len(words) != matrix.shape[0] or norms.shape != (matrix.shape[0],)
            or not all(isinstance(w, str) for w in words[:1000])):
        raise ModelError(f"{origin}: vectors.npy, norms.npy and vocab.json do not agree; re-import the vectors")
    vecs = Vectors(words, matrix, norms=np.asarray(norms), subwords=_open_subwords(info, origin, matrix.shape[1]))
    return vecs.head(limit)


def _open_subwords(info, origin: str, dim: int):
    """The stored n-gram matrix of fastText vectors (None for other vectors)."""
    from .subwords import HASH_NAME, Subwords

    meta = info.config.get("subwords")
    if not meta:
        return None
    if meta.get("hash") != HASH_NAME:
        raise ModelError(f"{origin}: n-grams hashed with {meta.get('hash')!r}, which this seqtool does not know")
    try:
        ngrams = np.load(info.file(NGRAMS_FILE), mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise ModelError(f"{origin}: {NGRAMS_FILE} is missing; train the vectors again") from None
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(f"{origin}: {NGRAMS_FILE} is corrupted ({exc}); train the vectors again") from None
    if (ngrams.dtype != np.float32 or ngrams.ndim != 2 or ngrams.shape != (meta.get("bucket"), dim)
            or not 1 <= meta.get("min_n", 0) <= meta.get("max_n", 0)):
        raise ModelError(f"{origin}: {NGRAMS_FILE} and config.json do not agree; train the vectors again")
    return Subwords(ngrams, min_n=meta["min_n"], max_n=meta["max_n"])
