"""Every --help page: nothing of the help text lost to markup, and 2-4 real examples that parse.

Issue 18 items 3 and 14: rich markup once ate "[default: 5; GloVe: 25]" and "seqtool[plot]", and
most subcommands had no examples. The examples are parsed by the command they name (known
subcommands and options, valid values), so an example cannot drift from the CLI unnoticed."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.main import get_command

from seqtool.cli.app import GLOBAL_FLAGS, app

ROOT = get_command(app)


def walk(cmd, path):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from walk(sub, path + [name])


COMMANDS = list(walk(ROOT, ["seqtool"]))


def help_text(path, cmd) -> str:
    return cmd.get_help(cmd.context_class(cmd, info_name=" ".join(path)))


def examples(text: str) -> list[str]:
    if "Examples:" not in text:
        return []
    lines = [line.strip() for line in text.split("Examples:", 1)[1].splitlines()]
    return [line for line in lines if line.startswith("seqtool ") or " | seqtool " in line]


def command_line(example: str) -> list[str]:
    """The seqtool part of a shell line: `cat a | seqtool x - -n 3 > out` -> ['x', '-', '-n', '3']."""
    words = shlex.split(example)
    start = words.index("seqtool") + 1
    out = []
    for word in words[start:]:
        if word in ("|", "&&", ">", ">>", "2>>", "<") or word.startswith(("2>", ">")):
            break
        out.append(word)
    return [w for w in out if w not in GLOBAL_FLAGS]


def parse(args: list[str]) -> None:
    if "--help" in args or "-h" in args or "--version" in args:
        return  # these print and exit before any parsing of the rest
    cmd, path = ROOT, ["seqtool"]
    while args and args[0] in getattr(cmd, "commands", {}):
        cmd, path = cmd.commands[args[0]], path + [args[0]]
        args = args[1:]
    if getattr(cmd, "commands", None) is not None and not args:
        return  # a group named alone shows its help
    cmd.make_context(" ".join(path), list(args))


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_shows_every_help_text_whole(path, cmd):
    shown = re.sub(r"\s+", "", help_text(path, cmd))
    for param in cmd.params:
        if getattr(param, "help", None) and not getattr(param, "hidden", False):
            assert re.sub(r"\s+", "", param.help) in shown, f"{' '.join(path)} {param.name}: help text cut"
    if cmd.help:
        assert re.sub(r"\s+", "", cmd.help.split("\n\n")[0]) in shown


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_has_examples_that_parse(path, cmd):
    found = examples(help_text(path, cmd))
    assert 2 <= len(found) <= 6, f"{' '.join(path)}: {len(found)} examples in --help"
    for example in found:
        parse(command_line(example))


def test_readme_examples_parse():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    commands = [line for line in lines if re.match(r"^(cat .*\| )?seqtool ", line)]
    assert len(commands) > 20
    for line in commands:
        parse(command_line(line))


@pytest.mark.parametrize("args", [[], ["ngram"], ["embed"], ["classify"], ["models"], ["train-lm"]])
def test_no_arguments_shows_help_and_no_empty_error(cli, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stdout
    assert "error" not in result.stderr


def test_global_flags_after_the_subcommand(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\nb c d\n" * 20)
    loud = cli("ngram", "train", str(corpus), "-n", "2", "--name", "loud")
    quiet = cli("ngram", "train", str(corpus), "-n", "2", "--name", "hush", "-q")
    assert loud.exit_code == quiet.exit_code == 0
    assert loud.stderr and not quiet.stderr
    debug = cli("models", "show", "nosuch", "--debug")
    assert debug.exit_code != 0 and "No such option" not in debug.stderr


def test_shell_completion_scripts_and_model_names(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SEQTOOL_HOME": str(tmp_path)}
    (tmp_path / "c.txt").write_text("a b c\n" * 10)
    subprocess.run([sys.executable, "-m", "seqtool", "ngram", "train", str(tmp_path / "c.txt"), "--name", "tri3"],
                   env=env, check=True, capture_output=True)
    for shell in ("bash", "zsh", "fish"):
        for spelling in (f"{shell}_source", f"source_{shell}"):  # click's and Typer's
            out = subprocess.run([sys.executable, "-m", "seqtool"], env={**env, "_SEQTOOL_COMPLETE": spelling},
                                 capture_output=True, text=True)
            assert out.returncode == 0 and "_SEQTOOL_COMPLETE" in out.stdout, (spelling, out.stderr)
    words = subprocess.run([sys.executable, "-m", "seqtool"], capture_output=True, text=True,
                           env={**env, "_SEQTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "seqtool models show t",
                                "COMP_CWORD": "3"})
    assert words.stdout.split() == ["tri3"]


def test_every_json_flag_is_one_parameter_named_as_json():
    """Issue 16 item 7: the --json parameter was json_out, json or as_json; one name now, so a
    command's code (and a library caller reading its options) finds it under one name."""
    found = {" ".join(path): [p.name for p in cmd.params if "--json" in getattr(p, "opts", [])]
             for path, cmd in COMMANDS if not getattr(cmd, "commands", None)}
    with_json = {name: params for name, params in found.items() if params}
    assert len(with_json) >= 15  # train, query, eval and info commands of every package
    assert {name: params for name, params in with_json.items() if params != ["as_json"]} == {}
