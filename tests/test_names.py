"""Every name the code uses is defined: an undefined name is a NameError waiting for the one
path that reaches it (a benchmark branch lost a helper this way). pyflakes reads the source
without running it; unused imports are not checked here (the packages re-export on purpose)."""

import ast
from pathlib import Path

import pytest

pyflakes = pytest.importorskip("pyflakes.checker")
from pyflakes import messages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _undefined(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    checker = pyflakes.Checker(ast.parse(source, filename=str(path)), filename=str(path))
    return [f"{path.relative_to(ROOT)}:{m.lineno}: {m.message % m.message_args}" for m in checker.messages
            if isinstance(m, (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport))]


@pytest.mark.parametrize("folder", ["seqtool", "benchmarks", "tests"])
def test_no_undefined_names(folder):
    found = [line for path in sorted((ROOT / folder).rglob("*.py")) for line in _undefined(path)]
    assert not found, "\n".join(found)
