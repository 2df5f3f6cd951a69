"""Word vectors: one in-memory type and one loader, shared by every command.

    from seqtool.vectors import Vectors, load_vectors
    vecs = load_vectors("glove100")          # a stored model of kind "vectors"
    vecs = load_vectors("glove.6B.100d.txt") # or any supported file (format auto-detected)
    row = vecs.get("king")                   # (d,) float32 or None

Importing it costs numpy only: formats, the store layout, queries and training
live in submodules that are imported on first use.
"""

from .api import load_vectors
from .model import Vectors

__all__ = ["Vectors", "load_vectors"]
