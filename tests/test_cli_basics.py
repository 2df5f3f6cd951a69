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


def test_plain_coercion_gives_typers_values_and_defers_the_rest():
    """cli/coercion.py answers plain str/int/float/bool/list values itself (no Pydantic);
    each answer must be what Typer's own coercion gives, and unusual spellings go to Typer."""
    from typing import List, Optional

    import typer._coercion as tc
    from typer.models import ArgumentInfo, OptionInfo

    from seqtool.cli.coercion import _NO, _convert, _plain_type, plain_runtime_param

    cases = {str: ["abc", "", "a\udcffb", "-", " x "], int: ["0", "7", "-3", "007", 5],
             float: ["0.85", "1", "-2.5", "10.000", 0.5], bool: [True, False]}
    for kind, values in cases.items():
        for annotation in (kind, Optional[kind]):
            typer_param = tc.build_runtime_param(tc.resolve_type_descriptor(annotation, OptionInfo()))
            for value in values:
                assert _plain_type(annotation) == ("one", kind)
                ours = _convert(kind, value)
                assert ours is not _NO, (annotation, value)
                theirs = typer_param._coerce_value(value, param=None, ctx=None)
                assert ours == theirs and type(ours) is type(theirs), (annotation, value, ours, theirs)
    for value in ("1_000", " 5", "+5", "5.0", "1e3", "x"):  # Typer's to decide (or to refuse)
        assert _convert(int, value) is _NO
    assert _convert(float, "1e3") is _NO and _convert(float, "inf") is _NO
    for annotation in (List[str], Optional[List[str]]):
        assert _plain_type(annotation) == ("list", str)
        descriptor = tc.resolve_type_descriptor(annotation, ArgumentInfo())
        ours = plain_runtime_param(tc.build_runtime_param)(descriptor)._coerce_value(("a", "b c"), None, None)
        theirs = tc.build_runtime_param(descriptor)._coerce_value(("a", "b c"), param=None, ctx=None)
        assert ours == theirs == ["a", "b c"]
    # A value it does not take is coerced by Typer, errors included.
    descriptor = tc.resolve_type_descriptor(int, OptionInfo())
    assert plain_runtime_param(tc.build_runtime_param)(descriptor)._coerce_value("1_000", None, None) == 1000
    ranged = tc.resolve_type_descriptor(int, OptionInfo(min=1))
    assert type(plain_runtime_param(tc.build_runtime_param)(ranged)).__name__ != "PlainRuntimeParam"


def test_a_cli_run_imports_only_its_own_command_and_no_pydantic(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("Rivers carry water to the sea. The sea is salty. Water from rivers is fresh.\n")
    code = ("import runpy, sys\nsys.argv = ['seqtool', 'summarize', sys.argv[1], '-n', '1']\n"
            "try:\n    runpy.run_module('seqtool', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in ('pydantic', 'seqtool.cli.classify', 'seqtool.cli.lm', 'scipy') if m in sys.modules]\n"
            "print('LOADED', loaded, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, str(doc)], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stderr, out.stderr
    assert out.stdout.strip() in {"Rivers carry water to the sea.", "Water from rivers is fresh."}
