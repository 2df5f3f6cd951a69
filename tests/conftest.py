"""Shared fixtures: every test gets its own SEQTOOL_HOME, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO / "corpora"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def seqtool_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("seqtool-home")
    monkeypatch.setenv("SEQTOOL_HOME", str(home))
    monkeypatch.delenv("SEQTOOL_PROGRESS", raising=False)
    # One fixed thread count: `--threads auto` follows the machine's load, and CPU results
    # for a seed are the same only for the same count (tests/test_threads.py tests the rule).
    monkeypatch.setenv("SEQTOOL_THREADS", "1")
    from seqtool.core import console

    console.configure(quiet=False, debug=False)
    return home


class Runner:
    """Drive the CLI in-process; stdout and stderr are kept apart."""

    def __init__(self):
        self._runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None):
        from seqtool.cli.app import app

        return self._runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def cli() -> Runner:
    return Runner()


@pytest.fixture
def shakespeare_small(tmp_path) -> Path:
    """The first 2,000 lines of the bundled Tiny Shakespeare."""
    src = CORPORA / "tinyshakespeare.txt"
    out = tmp_path / "shakespeare-small.txt"
    with open(src, encoding="utf-8") as fh:
        out.write_text("".join(line for _, line in zip(range(2000), fh)), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def fixture_models_home(tmp_path_factory):
    """A store holding one small model of each kind (see tests/modelfixtures.py)."""
    from .modelfixtures import build_fixture_home

    return build_fixture_home(tmp_path_factory.mktemp("fixture-home"))


@pytest.fixture
def home_with_models(seqtool_home, fixture_models_home):
    """This test's SEQTOOL_HOME, holding a copy of the fixture models."""
    import shutil

    shutil.copytree(fixture_models_home, seqtool_home, symlinks=True, dirs_exist_ok=True)
    return seqtool_home
