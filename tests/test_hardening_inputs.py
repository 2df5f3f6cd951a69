"""The bad-input matrix: every subcommand that reads input, against every kind
of bad input. Each must end with exit 1 or 2 and ONE stderr line naming the
input (or, where noted, succeed), never a traceback, never a partial model."""

from __future__ import annotations

import gzip

import pytest
import torch

from seqtool.core import binary, readers
from seqtool.core.store import ModelStore

torch.set_num_threads(1)

from . import modelfixtures
from .modelfixtures import LABELLED, TEXT_LINES, VECTORS
PROSE = ["The cat sat on the mat. The dog ate a bone in the yard.",
         "A bird sang on the roof. The cat watched the bird all day.",
         "Later the dog slept. The mat was warm in the sun."]

TINY_LM = [*modelfixtures.TINY_LM, "--name", "fresh"]
TINY_CLF = [*modelfixtures.TINY_CLF, "--name", "fresh"]

# name -> (argv with INPUT placeholder, good content lines, commands that may succeed on empty input)
COMMANDS = {
    "ngram train": (["ngram", "train", "INPUT", "-n", "2", "--name", "fresh"], TEXT_LINES),
    "ngram score": (["ngram", "score", "ngram-fixture", "INPUT"], TEXT_LINES),
    "train-lm": (["train-lm", "INPUT", *TINY_LM], TEXT_LINES * 3),
    "train-lm --eval": (["train-lm", "--eval", "INPUT", "--model", "lm-fixture", "--device", "cpu"], TEXT_LINES),
    "embed train": (["embed", "train", "INPUT", "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                     "--name", "fresh"], TEXT_LINES),
    "embed import": (["embed", "import", "INPUT", "--name", "fresh"], VECTORS),
    "summarize": (["summarize", "INPUT", "-n", "1"], PROSE),
    "classify train": (["classify", "train", "INPUT", "--format", "tsv", *TINY_CLF], LABELLED * 2),
    "classify predict": (["classify", "predict", "INPUT", "--model", "clf-fixture", "--device", "cpu"], TEXT_LINES),
}
# Empty input is an empty answer, not an error, for these (a pipeline that got nothing).
EMPTY_OK = {"summarize", "classify predict", "ngram score"}
# Blank lines are <EOS> tokens to a word-level LM: a perplexity can be computed.
BLANK_OK = EMPTY_OK | {"train-lm --eval"}


def make_input(kind: str, tmp_path, good_lines):
    """Return (path string, stdin text or None) for one kind of bad input."""
    p = tmp_path / "input.txt"
    if kind == "missing":
        return str(tmp_path / "no-such-file.txt"), None
    if kind == "directory":
        (tmp_path / "empty-dir").mkdir()
        return str(tmp_path / "empty-dir"), None
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "whitespace":
        p.write_bytes(b"  \n\t\n   \r\n\n")
    elif kind == "binary":
        p.write_bytes(bytes(range(256)) * 8)
    elif kind == "invalid-utf8":
        p.write_bytes(("\n".join(good_lines) + "\n").encode() + b"caf\xe9 \xff\xfe\n")
    elif kind == "giant-line":
        p.write_bytes(b"word " * (4 * 1024 * 1024 // 5 + 10))  # over the 1 MiB limit set below
    elif kind == "truncated-gz":
        p = tmp_path / "input.txt.gz"
        p.write_bytes(gzip.compress(("\n".join(good_lines * 50) + "\n").encode())[:-40])
    elif kind == "gzip-bomb":
        p = tmp_path / "bomb.txt.gz"
        p.write_bytes(gzip.compress(b"a b c d e f\n" * (600 * 1024)))
    elif kind == "stdin-closed":
        return "-", ""
    else:
        raise AssertionError(kind)
    return str(p), None


BAD_KINDS = ["missing", "directory", "empty", "whitespace", "binary", "invalid-utf8", "giant-line",
             "truncated-gz", "gzip-bomb", "stdin-closed"]


def assert_one_line_error(result, name: str) -> None:
    assert result.exit_code in (1, 2), (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("seqtool: error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    if name != "-":
        assert name in errors[0] or name.rsplit("/", 1)[-1] in errors[0], errors[0]
    else:
        assert "stdin" in errors[0] or "empty" in errors[0] or "no " in errors[0], errors[0]


def assert_no_partial_model(home) -> None:
    store = ModelStore(home)
    assert not store.exists("fresh")
    assert not list(store.versions.glob("*.tmp")) if store.versions.exists() else True


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input(cli, home_with_models, tmp_path, monkeypatch, command, kind):
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1024 * 1024)
    monkeypatch.setattr(binary, "GZIP_RATIO_FLOOR", 1024 * 1024)
    argv, good = COMMANDS[command]
    path, stdin = make_input(kind, tmp_path, good)
    result = cli(*[path if a == "INPUT" else a for a in argv], input=stdin)
    if (kind in ("empty", "stdin-closed") and command in EMPTY_OK) or (kind == "whitespace" and command in BLANK_OK):
        assert result.exit_code == 0, result.stderr
        assert "Traceback" not in result.stderr
    else:
        assert_one_line_error(result, path)
    assert_no_partial_model(home_with_models)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_mixed_line_endings_work(cli, home_with_models, tmp_path, command):
    argv, good = COMMANDS[command]
    p = tmp_path / "mixed.txt"
    p.write_bytes(b"".join(line.encode() + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(good)))
    result = cli(*[str(p) if a == "INPUT" else a for a in argv])
    assert result.exit_code == 0, result.stderr
    assert "\r" not in result.stdout
