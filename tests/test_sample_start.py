"""`seqtool sample`'s start-up (issue 17): the CLI registers only the subcommand it runs, the
numpy path imports no torch, n-gram or summarize code, and the engine maps the weights file
instead of copying it -- with the same samples and help as before."""

import os
import subprocess
import sys

import numpy as np
import pytest

from seqtool.cli.app import invoked_subcommand
from seqtool.core.sampling import SamplingOptions
from seqtool.lm.generate import open_generator

from .test_sample_json import make_lm

WORDS = [f"w{i}" for i in range(60)]


def run_cli(*args, modules=()):
    """`python -m seqtool ARGS` in a child process: (stdout, stderr, which of `modules` it imported)."""
    code = ("import atexit, runpy, sys\n"
            f"mods = {list(modules)!r}\n"
            "atexit.register(lambda: print('LOADED', [m for m in mods if m in sys.modules], file=sys.stderr))\n"
            f"sys.argv = ['seqtool', *{list(args)!r}]\n"
            "runpy.run_module('seqtool', run_name='__main__', alter_sys=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    lines = proc.stderr.splitlines()
    loaded = eval(lines[-1].removeprefix("LOADED ")) if lines and lines[-1].startswith("LOADED") else None
    return proc.returncode, proc.stdout, "\n".join(lines[:-1]), loaded


@pytest.mark.parametrize("argv, command", [
    (["sample", "--model", "x"], "sample"),
    (["-q", "sample"], "sample"),
    (["sample", "-q", "--debug"], "sample"),
    (["--debug", "embed", "train", "c.txt"], "embed"),
    (["train-lm", "--help"], "train-lm"),
    ([], None),
    (["--help"], None),
    (["-h", "sample"], None),
    (["--version"], None),
    (["no-such-command"], None),
    (["--", "sample"], None),
])
def test_the_invoked_subcommand_is_read_from_argv(argv, command):
    assert invoked_subcommand(argv) == command


def test_sample_as_a_process_loads_only_its_own_code(cli):
    make_lm("ada", softmax="adaptive", vocab_words=WORDS, cutoffs=(10, 30), seed=4)
    args = ("sample", "--model", "ada", "--length", "40", "--seed", "3", "--temp", "0.8")
    heavy = ("torch", "gensim", "seqtool.ngram.api", "seqtool.ngram.model", "seqtool.summarize",
             "seqtool.cli.summarize", "seqtool.cli.classify", "seqtool.cli.embed", "seqtool.cli.ngram")
    code, out, err, loaded = run_cli(*args, modules=heavy)
    assert code == 0 and err == ""
    assert loaded == []
    assert out == cli(*args).stdout  # the in-process CLI (every subcommand registered) says the same
    assert len(out.split()) > 10


@pytest.mark.parametrize("args", [("sample", "--help"), ("--help",), ("ngram", "train", "--help"),
                                  ("summarize", "--help")])
def test_help_is_the_same_whichever_subcommands_are_registered(args):
    code, out, _, _ = run_cli(*args)
    # a library user's `app` (imported, not run as the CLI) has every subcommand registered
    every = subprocess.run([sys.executable, "-c", f"from seqtool.cli.app import app; app({list(args)!r})"],
                           capture_output=True, text=True)
    assert code == 0 and every.returncode == 0
    assert out == every.stdout and "Usage: seqtool" in out


def test_an_unknown_subcommand_is_the_same_usage_error_as_a_process(cli):
    code, out, err, _ = run_cli("sampel")
    assert code == 2 and out == ""
    assert err == cli("sampel").stderr.strip()


def _memmapped(array) -> bool:
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return False


def test_the_engine_reads_the_embedding_from_the_mapped_file_and_lays_out_clusters_on_use():
    make_lm("ada", softmax="adaptive", vocab_words=WORDS, cutoffs=(10, 30), seed=4)
    engine = open_generator("ada").stepper
    assert _memmapped(engine.embed)  # no copy of the (V, E) matrix at load
    assert engine.adaptive._tails == [None, None]  # no cluster laid out yet
    engine.reset()
    h = engine.advance(1)
    exact = engine.adaptive.log_probs(h)  # every cluster laid out now
    assert all(t is not None for t in engine.adaptive._tails)
    assert np.isclose(np.exp(exact).sum(), 1.0)
    # the layout is the stored matrices transposed, to the bit
    from seqtool.core.tensors import map_tensors
    stored = map_tensors(open_generator("ada").stored.weights_path)
    for k, (proj_t, out_t, bias) in enumerate(engine.adaptive._tails):
        assert np.array_equal(proj_t, stored[f"softmax.tails.{k}.proj.weight"].T)
        assert np.array_equal(out_t, stored[f"softmax.tails.{k}.out.weight"].T)
        assert np.array_equal(bias, stored[f"softmax.tails.{k}.out.bias"])


def test_lazily_laid_out_clusters_draw_what_eager_ones_do():
    make_lm("ada", softmax="adaptive", vocab_words=WORDS, cutoffs=(10, 30), seed=4)
    lazy, eager = open_generator("ada"), open_generator("ada")
    for k in range(2):
        eager.stepper.adaptive.tail(k)
    for options in (SamplingOptions(1.0), SamplingOptions(0.7), SamplingOptions(1.0, top_k=5)):
        runs = [list(g.tokens([], length=60, options=options, rng=np.random.default_rng(9))) for g in (lazy, eager)]
        assert runs[0] == runs[1]
