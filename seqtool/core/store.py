"""The model store: named models under SEQTOOL_HOME, written atomically.

Layout::

    $SEQTOOL_HOME/models/NAME -> .versions/NAME.STAMP   (relative symlink)
    $SEQTOOL_HOME/models/.versions/NAME.STAMP/config.json, model.safetensors, ...
    $SEQTOOL_HOME/checkpoints/NAME/...                   (training state)
    $SEQTOOL_HOME/defaults.json                          (last trained model per kind)
    $SEQTOOL_HOME/locks/NAME.lock

A model version is built in a temporary directory and published by atomically
replacing the NAME symlink, so a reader sees the old model or the new one,
never a mixture, and a crash at any point leaves the previous model loadable.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import ModelError, StoreError, UsageError
from .atomic import atomic_write, fsync_dir
from .locking import exclusive_lock
# The config format and the name rules have their own modules; store keeps their names (callers import them here).
from .modelconfig import (CONFIG_FILE, FORMAT_VERSION, KINDS, MAX_CONFIG_BYTES, MODEL_FORMAT,  # noqa: F401
                          ModelInfo, StoreEntry, read_config)
from .modelnames import NAME_PATTERN, name_from_inputs, validate_name  # noqa: F401
from .version import __version__

KEEP_VERSIONS = 2  # the current one and the one before it (a reader may still be on it)


def home() -> Path:
    env = os.environ.get("SEQTOOL_HOME")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data):  # the XDG spec: a relative path is invalid and ignored
        data = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data) / "seqtool"


def _ensure_dir(path: Path) -> Path:
    """mkdir -p, or one line naming the folder and why it cannot be made."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the model store folder ({exc.strerror}); "
                         f"set SEQTOOL_HOME to a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"{path}: the model store folder is not writable; set SEQTOOL_HOME to a writable folder")
    return path


def dir_size(path: Path) -> int:
    """Bytes of the regular files below `path` (links not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(folder, name))
                total += st.st_size
    return total


def _a(kind: str) -> str:
    """'an ngram', 'a vectors', 'an lm': the article as the kind's name is read aloud."""
    return ("an " if kind[0] in "aeioun" or kind == "lm" else "a ") + kind


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _version() -> str:
    return __version__


@dataclass
class ModelDraft:
    """A model being written: put files in `path`, fill `config`; committed on exit."""

    name: str
    kind: str
    path: Path
    config: dict = field(default_factory=dict)

    def write_json(self, relative: str, data: object) -> None:
        with open(self.path / relative, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=True)

    def write_text(self, relative: str, text: str) -> None:
        with open(self.path / relative, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


class ModelStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else home()
        self.models = self.root / "models"
        self.versions = self.models / ".versions"

    # ---------------------------------------------------------------- paths
    def checkpoint_dir(self, name: str, create: bool = True) -> Path:
        path = self.root / "checkpoints" / validate_name(name)
        if create:
            _ensure_dir(path)
        return path

    def checkpoint_dirs(self) -> list[Path]:
        """Every model name's checkpoint folder (a model may be gone: a first run interrupted)."""
        folder = self.root / "checkpoints"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and NAME_PATTERN.match(p.name))

    def exists(self, name: str) -> bool:
        return (self.models / validate_name(name)).exists()

    # ---------------------------------------------------------------- locks
    @contextlib.contextmanager
    def lock(self, name: str, what: str = "model") -> Iterator[None]:
        """Hold an exclusive lock on `name`; a second holder fails at once with a clear message."""
        locks = _ensure_dir(self.root / "locks")
        path = locks / f"{validate_name(name)}.lock"
        with exclusive_lock(path, lambda pid: f"{what} '{name}' is in use by another seqtool process "
                                              f"(pid {pid}); wait for it to finish or choose another --name"):
            yield

    # ---------------------------------------------------------------- write
    def check_replace(self, name: str, kind: str, *, force: bool = False) -> None:
        """Refuse to publish a `kind` model under a name that holds a model of another kind
        (unless `force`). Call it before any work; writer() calls it again before writing.
        A model of the same kind is replaced, and its previous version is kept."""
        validate_name(name)
        if force:
            return
        try:
            current = self.open(name, KINDS)
        except (ModelError, UsageError):
            return  # nothing there, or a broken entry: nothing a user could lose
        if current.kind != kind:
            raise UsageError(f"model '{name}' is {_a(current.kind)} model; refusing to replace it with "
                             f"{_a(kind)} model (choose another name, or force it with --force)")

    @contextlib.contextmanager
    def writer(self, name: str, kind: str, *, set_default: bool = True, force: bool = False) -> Iterator[ModelDraft]:
        """Build a new version of model `name` and publish it atomically on success.

        A name holding a model of another kind is refused unless `force`. The version
        replaced stays in .versions (KEEP_VERSIONS), so a reader on it is not cut off."""
        validate_name(name)
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        self.check_replace(name, kind, force=force)
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f"{name}.", suffix=".tmp", dir=self.versions))
        except OSError as exc:
            raise StoreError(f"{self.models}: cannot write the model store ({exc.strerror})") from None
        draft = ModelDraft(name, kind, tmp)
        try:
            yield draft
            config = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
                      "name": name, "created": _now(), "seqtool_version": _version(), **draft.config}
            draft.write_json(CONFIG_FILE, config)
            for item in tmp.iterdir():
                with open(item, "rb") as fh:
                    os.fsync(fh.fileno())
            stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S") + f".{os.getpid()}.{os.urandom(3).hex()}"
            final = self.versions / f"{name}.{stamp}"
            os.rename(tmp, final)
            link_tmp = self.models / f".{name}.{os.urandom(4).hex()}.link"
            os.symlink(os.path.join(".versions", final.name), link_tmp)
            os.replace(link_tmp, self.models / name)
            fsync_dir(self.versions)
            fsync_dir(self.models)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"model '{name}': saving failed ({exc.strerror or exc}); "
                             f"the previous version is untouched") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune_versions(name, keep=final.name)
        if set_default:
            self.set_default(kind, name)

    def _versions_of(self, name: str) -> list[Path]:
        if not self.versions.is_dir():
            return []
        pattern = re.compile(re.escape(name) + r"\.\d{8}T\d{6}\.\d+\.[0-9a-f]{6}$")
        return sorted((p for p in self.versions.iterdir() if pattern.match(p.name)),
                      key=lambda p: p.stat().st_mtime)

    def _prune_versions(self, name: str, keep: str) -> None:
        old = [p for p in self._versions_of(name) if p.name != keep]
        for path in old[: max(0, len(old) - (KEEP_VERSIONS - 1))]:
            shutil.rmtree(path, ignore_errors=True)
        # Drafts left by a process that was killed mid-save.
        for path in self.versions.glob(f"{name}.*.tmp"):
            try:
                if _dt.datetime.now().timestamp() - path.stat().st_mtime > 24 * 3600:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass

    # ---------------------------------------------------------------- defaults
    @property
    def defaults_file(self) -> Path:
        return self.root / "defaults.json"

    def _defaults(self, *, strict: bool = False) -> dict:
        """defaults.json as a dict; {} when missing. Corrupt: {} or, if `strict`, a ModelError."""
        path = self.defaults_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            if strict:
                why = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
                raise ModelError(f"{path}: cannot read the default models ({why})") from None
            return {}
        if not isinstance(data, dict):
            if strict:
                raise ModelError(f"{path}: cannot read the default models (not a JSON object)")
            return {}
        return data

    def defaults_problem(self) -> str:
        """'' when defaults.json is missing or readable, else the one-line problem."""
        try:
            self._defaults(strict=True)
        except ModelError as exc:
            return exc.message
        return ""

    @contextlib.contextmanager
    def _defaults_update(self) -> Iterator[dict]:
        """Read, change and rewrite defaults.json under a lock: two processes setting the
        defaults of different kinds at once both keep their entry."""
        locks = _ensure_dir(self.root / "locks")
        with exclusive_lock(locks / ".defaults.lock", lambda pid: f"{self.defaults_file} is being updated "
                                                                 f"by another seqtool process (pid {pid})",
                            wait=30.0):
            data = self._defaults()  # a corrupt file is rewritten from what is known now
            yield data
            with atomic_write(self.defaults_file) as fh:
                json.dump(data, fh, indent=1)

    def set_default(self, kind: str, name: str) -> None:
        with self._defaults_update() as data:
            data[kind] = {"name": name, "time": _dt.datetime.now(_dt.timezone.utc).timestamp()}

    def default_of_kind(self) -> dict[str, str]:
        """kind -> name of its default model (only defaults whose model still exists)."""
        return {kind: name for kind in KINDS if (name := self.default_name([kind])) is not None}

    def default_name(self, kinds: Iterable[str]) -> str | None:
        """The most recently trained model among `kinds` that still exists."""
        data = self._defaults()
        found = [(v.get("time", 0), v.get("name")) for k, v in data.items()
                 if k in kinds and isinstance(v, dict)]
        for _, name in sorted(found, reverse=True):
            if isinstance(name, str) and NAME_PATTERN.match(name) and (self.models / name).exists():
                return name
        return None

    # ---------------------------------------------------------------- read
    def open(self, name: str | None, kinds: Iterable[str], *, hint: str = "") -> ModelInfo:
        """Find model `name` (or the default among `kinds`) and validate its config."""
        kinds = tuple(kinds)
        if name is None:
            name = self.default_name(kinds)
            if name is None and self.defaults_problem():
                names = [i.name for i in self.list() if i.kind in kinds]
                raise ModelError(f"{self.defaults_problem()}; "
                                 + (f"models of this kind: {', '.join(names)} (give one by name, or "
                                    f"`seqtool models default NAME`)" if names else "no model of this kind either"))
            if name is None:
                raise ModelError(f"no {' or '.join(kinds)} model found in {self.models}" + (f"; {hint}" if hint else ""))
        validate_name(name)
        link = self.models / name
        if not link.exists():
            raise ModelError(f"model '{name}' not found in {self.models} (see: seqtool models list)")
        real = link.resolve()
        root = self.models.resolve()
        if os.path.commonpath([real, root]) != str(root) or not real.is_dir():
            raise ModelError(f"model '{name}': {link} points outside the model store; refusing to load it")
        config = read_config(real / CONFIG_FILE, origin=f"model '{name}'")
        if config["kind"] not in kinds:
            raise ModelError(f"model '{name}' is {_a(config['kind'])} model; this command needs "
                             f"{' or '.join(_a(k) for k in kinds)} model")
        return ModelInfo(name, real, config)

    def entries(self) -> list[StoreEntry]:
        """Everything under models/, broken entries (a dangling link, one pointing outside
        the store, a bad config) included, each with its problem."""
        out: list[StoreEntry] = []
        if not self.models.is_dir():
            return out
        for entry in sorted(self.models.iterdir()):
            if entry.name.startswith("."):
                continue
            if not NAME_PATTERN.match(entry.name):
                out.append(StoreEntry(entry.name, None, "not a valid model name"))
                continue
            if entry.is_symlink() and not entry.exists():
                out.append(StoreEntry(entry.name, None, f"dangling link to {os.readlink(entry)}"))
                continue
            try:
                out.append(StoreEntry(entry.name, self.open(entry.name, KINDS)))
            except (ModelError, UsageError) as exc:
                problem = exc.message.removeprefix(f"model '{entry.name}': ")
                out.append(StoreEntry(entry.name, None, problem))
        return out

    def list(self) -> list[ModelInfo]:
        """The loadable models (see entries() for broken ones too)."""
        return [e.info for e in self.entries() if e.info is not None]

    def remove(self, name: str) -> None:
        """Remove a model (or a broken entry: only the link itself, never what it points to),
        its versions and its checkpoints."""
        validate_name(name)
        link = self.models / name
        if not link.exists() and not link.is_symlink():
            raise ModelError(f"model '{name}' not found in {self.models}")
        with self.lock(name):
            link.unlink() if link.is_symlink() else shutil.rmtree(link)
            for path in self._versions_of(name):
                shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(self.root / "checkpoints" / name, ignore_errors=True)
        if self._defaults():
            with self._defaults_update() as data:
                for kind in [k for k, v in data.items() if isinstance(v, dict) and v.get("name") == name]:
                    del data[kind]


