"""Validated safetensors I/O: a corrupted or hostile file is refused before
anything is allocated for it."""

from __future__ import annotations

import json
import os
import struct
from contextlib import contextmanager
from pathlib import Path

from .errors import ModelError

MAX_HEADER_BYTES = 100 * 1024 * 1024
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "U16": 2, "U32": 4, "U64": 8, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def check_safetensors(path: str | os.PathLike, origin: str | None = None) -> dict:
    """Validate the header of a safetensors file against the file's real size.

    Returns the header (tensor name -> {dtype, shape, data_offsets}).
    """
    path = Path(path)
    origin = origin or str(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ModelError(f"{origin}: model.safetensors is truncated (no header)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise ModelError(f"{origin}: model.safetensors header claims {n} bytes but the file has {size}; "
                                 f"the file is truncated or corrupted")
            raw = fh.read(n)
    except FileNotFoundError:
        raise ModelError(f"{origin}: model.safetensors is missing") from None
    except OSError as exc:
        raise ModelError(f"{origin}: cannot read model.safetensors ({exc.strerror})") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{origin}: model.safetensors header is corrupted") from None
    if not isinstance(header, dict):
        raise ModelError(f"{origin}: model.safetensors header is corrupted")
    data_size = size - 8 - n
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, end = spec["data_offsets"]
            count = 1
            for dim in spec["shape"]:
                if not isinstance(dim, int) or dim < 0:
                    raise ValueError
                count *= dim
            nbytes = count * _DTYPE_BYTES[spec["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{origin}: model.safetensors has a malformed entry for {name!r}") from None
        if not (0 <= begin <= end <= data_size) or end - begin != nbytes:
            raise ModelError(f"{origin}: tensor {name!r} claims {nbytes} bytes beyond the file's {data_size}; "
                             f"the file is truncated or corrupted")
    return header


def load_tensors(path: str | os.PathLike, framework: str = "pt", device: str = "cpu",
                 origin: str | None = None) -> dict:
    """Load all tensors after validating the header ('pt' for torch, 'np' for numpy)."""
    check_safetensors(path, origin)
    try:
        if framework == "np":
            from safetensors.numpy import load_file

            return load_file(str(path))
        from safetensors.torch import load_file

        return load_file(str(path), device=device)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelError(f"{origin or path}: model.safetensors could not be read ({exc})") from None


_NP_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
              "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}


def map_tensors(path: str | os.PathLike, origin: str | None = None) -> dict:
    """numpy arrays memory-mapped read-only from a safetensors file (header validated first):
    opening reads only the header, pages load when touched and processes share them."""
    import numpy as np

    header = check_safetensors(path, origin)
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
        data = np.memmap(path, dtype=np.uint8, mode="r") if os.path.getsize(path) > 8 + n else None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{origin or path}: model.safetensors could not be mapped ({exc})") from None
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] not in _NP_DTYPES:
            raise ModelError(f"{origin or path}: tensor {name!r} has a type numpy cannot map ({spec['dtype']})")
        dtype = np.dtype(_NP_DTYPES[spec["dtype"]])
        begin, end = spec["data_offsets"]
        if begin == end or data is None:
            out[name] = np.zeros(spec["shape"], dtype)
            continue
        raw = data[8 + n + begin: 8 + n + end]
        # safetensors aligns its tensors; an unaligned one (another writer) is copied instead
        arr = raw.view(dtype) if (8 + n + begin) % dtype.alignment == 0 else np.frombuffer(raw.tobytes(), dtype)
        # a plain ndarray view (its base the memmap): np.memmap's own indexing is slow Python
        out[name] = np.asarray(arr).reshape(spec["shape"])
    return out


def save_tensors(tensors: dict, path: str | os.PathLike, framework: str = "pt",
                 metadata: dict | None = None) -> None:
    """Write tensors (into a store draft directory, or atomically elsewhere)."""
    from .atomic import atomic_write

    if framework == "np":
        from safetensors.numpy import save
    else:
        from safetensors.torch import save
    data = save({k: (v.contiguous() if framework != "np" else v) for k, v in tensors.items()}, metadata=metadata)
    with atomic_write(path, "wb") as fh:
        fh.write(data)


@contextmanager
def _no_normal_init(torch):
    """Skip nn.init.normal_ (embeddings' initialiser): on meta tensors it runs through
    torch._refs, whose import pulls in torch._dynamo (~1.8 s of start-up); only shapes matter."""
    saved = torch.nn.init.normal_
    torch.nn.init.normal_ = lambda tensor, *args, **kwargs: tensor
    try:
        yield
    finally:
        torch.nn.init.normal_ = saved


def check_module_shapes(factory, header: dict, origin: str) -> None:
    """Build the module a config describes on torch's meta device (no memory) and
    compare its state_dict with the weights file's header, so a config that lies
    about sizes is refused before anything is allocated from it."""
    import torch

    try:
        with torch.device("meta"), _no_normal_init(torch):
            module = factory()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{origin}: config.json has invalid model settings ({exc})") from None
    found = {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}
    for name, tensor in module.state_dict().items():
        if found.get(name) != tuple(tensor.shape):
            raise ModelError(f"{origin}: config.json says {name} is {tuple(tensor.shape)} but model.safetensors "
                             f"has {found.get(name, 'no such tensor')}; the model is corrupted")
