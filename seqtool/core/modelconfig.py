"""A stored model's config.json: its format, and what reading one tells (ModelInfo, StoreEntry)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

MODEL_FORMAT = "seqtool-model"
FORMAT_VERSION = 1
KINDS = ("lm", "ngram", "vectors", "classifier")
CONFIG_FILE = "config.json"
MAX_CONFIG_BYTES = 64 * 1024 * 1024


@dataclass
class ModelInfo:
    """A stored model: where its files are and what its config.json says."""

    name: str
    path: Path
    config: dict

    @property
    def kind(self) -> str:
        return self.config["kind"]

    def file(self, relative: str) -> Path:
        return self.path / relative


@dataclass
class StoreEntry:
    """What `models/NAME` holds: a loadable model (`info`), or why it is broken."""

    name: str
    info: ModelInfo | None
    problem: str = ""

    @property
    def broken(self) -> bool:
        return self.info is None


def read_config(path: Path, origin: str) -> dict:
    """Read and validate a model's config.json (size, JSON, format, version, kind)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ModelError(f"{origin}: config.json is {size >> 20} MiB; refusing to read it")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{origin}: config.json is missing (not a seqtool model?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{origin}: config.json is corrupted (not valid JSON)") from None
    except OSError as exc:
        raise ModelError(f"{origin}: cannot read config.json ({exc.strerror})") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ModelError(f"{origin}: config.json is not a seqtool model config")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(f"{origin}: model format version {version!r} is not supported "
                         f"(this seqtool reads version {FORMAT_VERSION}; upgrade seqtool or retrain)")
    if data.get("kind") not in KINDS:
        raise ModelError(f"{origin}: unknown model kind {data.get('kind')!r}")
    return data
