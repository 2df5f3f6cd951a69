"""Word vectors: one in-memory type and one loader, shared by every command.

    from seqtool.vectors import Vectors, load_vectors
    vecs = load_vectors("glove100")          # a stored model of kind "vectors"
    vecs = load_vectors("glove.6B.100d.txt") # or any supported file (format auto-detected)
    row = vecs.get("king")                   # (d,) float32 or None

Importing this package costs nothing: the names below load their module (numpy) on
first use, so the CLI reads TrainConfig's defaults for --help without numpy. Formats,
the store layout, queries and training live in submodules imported on first use.
"""

from __future__ import annotations

from ..core.lazy import lazy_exports

_EXPORTS = {  # name -> (module, its name there)
    "Vectors": (".model", "Vectors"),
    "load_vectors": (".load", "load_vectors"),
    "TrainConfig": (".options", "TrainConfig"),
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
