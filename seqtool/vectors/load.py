"""The one loader of word vectors: a vector file (format detected from its content) or the
name of stored vectors."""

from __future__ import annotations

import os

from ..core.errors import InputError, SeqtoolError, UsageError
from ..core.store import ModelStore, validate_name
from .model import Vectors


def load_vectors(spec: str | Vectors, *, limit: int | None = None) -> Vectors:
    """Load vectors from the model store (kind "vectors") or from a file.

    `spec` is a path to a word2vec (binary or text), GloVe or fastText .vec file
    (format detected from the content, .gz accepted) when such a file exists,
    else the name of stored vectors. `limit` keeps the first N rows only.
    Raises InputError / ModelError with a one-line message.
    """
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    if isinstance(spec, Vectors):
        return spec.head(limit)
    if os.path.exists(spec) or os.sep in spec or (os.altsep and os.altsep in spec):
        from .formats import read_vectors

        return read_vectors(spec, limit=limit)
    from .store import open_stored

    store = ModelStore()
    try:
        known = store.exists(validate_name(spec))
    except SeqtoolError:
        known = False
    if not known:
        raise InputError(f"{spec}: no such vector file, and no stored vectors of that name "
                         f"(see: seqtool models list)")
    return open_stored(spec, limit=limit, store=store)
