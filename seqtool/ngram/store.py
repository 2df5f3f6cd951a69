"""N-gram models in the model store: safetensors tables + a JSON vocabulary,
and load_ngram(), which also accepts ARPA files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..core.errors import ModelError, UsageError
from ..core.text import Tokenizer
from .counts import SPECIALS
from .model import NgramModel

VOCAB_FILE = "vocab.json"
TENSORS_FILE = "model.safetensors"
VOCAB_FORMAT = "seqtool-ngram-vocab"
# Building a hash table takes up to ~200 bytes per key of temporaries (lookup.build_rows): past this
# many keys in an order, saving skips it (scoring builds it on first use, as for ARPA files),
# so a model trained within `ngram train --memory` is not pushed past its budget here.
STORED_HASH_MAX_KEYS = 1 << 22


def hash_build_bytes(n: int) -> int:
    """About the peak of lookup.build_rows for n keys, the keys read in included (measured
    with tracemalloc: ~31 bytes a key and ~44 a bucket, 2n to 4n buckets; rounded up)."""
    from .lookup import hash_bits

    return 40 * n + 48 * (1 << hash_bits(n))


def model_tensors(model: NgramModel) -> dict:
    """logp.k (N_k,) float32, bow.k (N_k,) float32 for k < n, keys.k (N_k,) int64 for k >= 2,
    and hash.k (H_k,) int32 for k >= 2: the lookup's hash table (lookup.py), so that a
    memory-mapped model scores at once; a model without them builds them on first use."""
    out = {}
    for k in range(1, model.order + 1):
        out[f"logp.{k}"] = model.logp[k]
        if k < model.order:
            out[f"bow.{k}"] = model.bow[k]
        if k >= 2:
            out[f"keys.{k}"] = model.keys[k]
            if 0 < model.keys[k].size <= STORED_HASH_MAX_KEYS:
                out[f"hash.{k}"] = model.hash_rows(k)
    return out


def save_model(model: NgramModel, directory: str | os.PathLike, info=None) -> None:
    """model.safetensors and vocab.json in `directory`. A model built on disk (train.py's
    _build_on_disk: `tensor_files`) is copied from its files, never held whole in memory
    (info: told which hash tables are left out to keep to the build's --memory)."""
    from ..core.tensors import save_tensors

    directory = Path(directory)
    if model.tensor_files:
        _save_from_files(model, directory / TENSORS_FILE, info)
    else:
        save_tensors(model_tensors(model), directory / TENSORS_FILE, framework="np")
    with open(directory / VOCAB_FILE, "w", encoding="utf-8") as fh:
        json.dump({"format": VOCAB_FORMAT, "version": 1, "tokens": model.words}, fh, ensure_ascii=True)


def publish(model: NgramModel, name: str, *, training: dict, store, force: bool = False, info=None) -> None:
    """Store `model` as n-gram model `name` (a new version, made the default n-gram model;
    `force` replaces a model of another kind). The caller holds the store lock on `name`."""
    with store.writer(name, "ngram", force=force) as draft:
        save_model(model, draft.path, info)
        draft.config.update(model.config())
        draft.config["training"] = training


# safetensors writes its tensors by dtype (this rank, highest first), then by name; its header
# is JSON without spaces, padded with spaces to a multiple of 8 bytes.
_DTYPE_RANK = {"I64": 3, "F32": 2, "I32": 1}
_ITEMSIZE = {"I64": 8, "F32": 4, "I32": 4}
_DTYPE_NAME = {np.dtype(np.int64): "I64", np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}
COPY_BYTES = 1 << 20  # the copy buffer of a save from files
HASH_BUILD_SHARE = 0.75  # of the budget, for a hash table's build (the rest: the interpreter, the vocabulary)


def _save_from_files(model: NgramModel, path: Path, info=None) -> None:
    """model_tensors(model) as safetensors.numpy.save writes them, byte for byte, with each
    tensor copied from its file (hash tables built one at a time, when they fit the budget)."""
    from ..core.atomic import atomic_write
    from .lookup import build_rows, hash_bits

    files = dict(model.tensor_files)
    dtypes = {name: "I64" if name.startswith("keys.") else "F32" for name in files}
    sizes = {name: os.path.getsize(f) // _ITEMSIZE[dtypes[name]] for name, f in files.items()}
    for k in range(2, model.order + 1):
        n = model.keys[k].size
        if not 0 < n <= STORED_HASH_MAX_KEYS:
            continue
        need = hash_build_bytes(n)
        if need > model.build_memory * HASH_BUILD_SHARE:
            if info is not None:
                info(f"order {k}'s hash table ({n:,} keys) is not stored: building it needs about "
                     f"{need / 2**20:,.0f} MiB, more than --memory allows (scoring builds it on first use)")
            continue
        rows = build_rows(np.fromfile(files[f"keys.{k}"], np.int64), hash_bits(n))
        name = f"hash.{k}"
        files[name] = files[f"keys.{k}"].with_name(name)
        rows.tofile(files[name])
        dtypes[name], sizes[name] = _DTYPE_NAME[rows.dtype], rows.size
        del rows
    names = sorted(files, key=lambda name: (-_DTYPE_RANK[dtypes[name]], name))
    header, offset = {}, 0
    for name in names:
        end = offset + sizes[name] * _ITEMSIZE[dtypes[name]]
        header[name] = {"dtype": dtypes[name], "shape": [sizes[name]], "data_offsets": [offset, end]}
        offset = end
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with atomic_write(path, "wb") as out:
        out.write(len(text).to_bytes(8, "little"))
        out.write(text)
        for name in names:  # read through the page cache: nothing of it stays in this process
            with open(files[name], "rb") as src:
                shutil.copyfileobj(src, out, COPY_BYTES)


def load_model_dir(directory: str | os.PathLike, config: dict, origin: str) -> NgramModel:
    """Load and validate a stored model (its config.json already read by the store)."""
    from ..core.tensors import map_tensors

    directory = Path(directory)
    try:
        vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        if not isinstance(vocab, dict) or vocab.get("format") != VOCAB_FORMAT \
                or not isinstance(vocab.get("tokens"), list):
            raise ValueError("not an n-gram vocabulary")
        words = vocab["tokens"]
        ordinary = words[len(SPECIALS):]
        if not all(isinstance(w, str) for w in words) or len(set(ordinary)) != len(ordinary):
            raise ValueError("bad tokens")
        order = int(config["config"]["order"])
        tokenizer = Tokenizer.from_dict(config.get("tokenizer") or {})
    except FileNotFoundError:
        raise ModelError(f"{origin}: {VOCAB_FILE} is missing") from None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{origin}: malformed n-gram model files ({exc})") from None
    # Memory-mapped: opening a big model reads only what scoring touches, shared between processes.
    t = map_tensors(directory / TENSORS_FILE, origin=origin)
    try:
        logp = [None] + [t[f"logp.{k}"] for k in range(1, order + 1)]
        bow = [None] + [t[f"bow.{k}"] for k in range(1, order)] + [None]
        keys = [None, None] + [t[f"keys.{k}"] for k in range(2, order + 1)]
    except KeyError as exc:
        raise ModelError(f"{origin}: model.safetensors lacks tensor {exc}") from None
    if any(x.dtype != np.float32 for x in logp[1:] + bow[1:order]) or any(x.dtype != np.int64 for x in keys[2:]):
        raise ModelError(f"{origin}: model.safetensors has unexpected tensor types")
    hashes = {k: t[f"hash.{k}"] for k in range(2, order + 1) if f"hash.{k}" in t}
    info = {k: v for k, v in config["config"].items() if k != "order"}
    try:
        return NgramModel(words, logp, bow, keys, tokenizer=tokenizer, info=info, hashes=hashes)
    except ModelError as exc:
        raise ModelError(f"{origin}: {exc.message}") from None


def _looks_like_arpa(spec: str) -> bool:
    low = spec.lower()
    return low.endswith((".arpa", ".arpa.gz", ".lm", ".lm.gz", ".gz")) or "/" in spec or "\\" in spec


def _in_store(store, name: str) -> bool:
    try:
        return store.exists(name)
    except UsageError:  # not a valid model name, so it can only be a file
        return False


def load_ngram(spec: str | None = None, *, store=None, level: str | None = None) -> NgramModel:
    """A model from the store (name, or None for the last trained n-gram model)
    or from an ARPA file (.arpa or .arpa.gz, or any existing file that is not a
    model name)."""
    from ..core.store import ModelStore

    store = store or ModelStore()
    if level is not None and level not in ("word", "char"):
        raise UsageError(f"--level must be word or char (got {level!r})")
    if spec is not None:
        in_store = _in_store(store, spec)
        if os.path.isfile(spec) and (not in_store or _looks_like_arpa(spec)):
            from .arpa import read_arpa

            return read_arpa(spec, level=level)
        if not in_store and _looks_like_arpa(spec):
            raise ModelError(f"{spec}: no such ARPA file")
    info = store.open(spec, kinds=("ngram",), hint="train one with: seqtool ngram train CORPUS -n 3")
    model = load_model_dir(info.path, info.config, origin=f"model '{info.name}'")
    if level is not None and level != model.level:
        raise UsageError(f"--level {level}: model '{info.name}' is {model.level}-level "
                         f"(--level is for ARPA files without a seqtool header)")
    return model
