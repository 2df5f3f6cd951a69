import subprocess
import sys

import pytest

from seqtool import __version__

SUBCOMMANDS = ["ngram", "train-lm", "sample", "embed", "summarize", "classify", "models"]


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"seqtool {__version__}"


def test_root_help_lists_every_subcommand(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help_has_examples(cli, name):
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout
    assert "seqtool" in result.stdout


def test_unknown_command_is_a_usage_error_on_one_line(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqtool: error: No such command")


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from seqtool.cli.app import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'gensim', 'nltk', 'networkx', 'scipy') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stderr


def test_invalid_model_name_is_refused(cli):
    result = cli("models", "show", "../../etc")
    assert result.exit_code == 2
    assert "invalid model name" in result.stderr
    assert "Traceback" not in result.stderr
