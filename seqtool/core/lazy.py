"""Packages whose names load on first use: `import seqtool.classify` (or ngram, vectors)
costs nothing, so the CLI reads an options dataclass for --help without numpy or torch."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module __getattr__ for `package`: exports maps a name to (submodule, its name there)."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = exports[name]
        return getattr(importlib.import_module(module, package), attr)

    return __getattr__
