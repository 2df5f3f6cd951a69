"""SIGKILL and SIGTERM at random moments of the long-running commands: the previous
model and checkpoint still load, no draft is published, --resume completes; a
SIGTERM'd run also leaves no draft or temp file and exits 130 with one line; a
killed parallel batch leaves no worker holding its lock.

`make test` runs SEQTOOL_KILL_TRIALS=3 per command; `make torture` runs 200."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .killharness import KILL_TRIALS, assert_no_leftovers, assert_store_intact, kill_trials, run_seqtool

pytestmark = pytest.mark.torture

LINES = [" ".join(f"w{(i * 7 + j) % 53}" for j in range(12)) for i in range(400)]


@pytest.fixture
def env(seqtool_home):
    return {**os.environ, "SEQTOOL_HOME": str(seqtool_home), "OMP_NUM_THREADS": "1"}


def test_kill_train_lm_then_resume(tmp_path, env, seqtool_home):
    from seqtool.core.store import ModelStore
    from seqtool.training.checkpoint import load_checkpoint

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(LINES) + "\n")
    base = ["train-lm", corpus, "--layers", "1", "--hidden", "16", "--emb", "16", "--bptt", "8",
            "--batch-size", "4", "--device", "cpu", "--seed", "1", "--name", "m"]
    first = run_seqtool([*base, "--epochs", "1"], env)
    assert first.returncode == 0, first.stderr
    store = ModelStore(seqtool_home)

    def check():
        assert "m" in assert_store_intact(seqtool_home)
        load_checkpoint(store.checkpoint_dir("m", create=False))

    # Each trial is a long fresh run of the same name (killed long before its 50 epochs);
    # the last one killed leaves the checkpoint that --resume must complete.
    long_run = [*base, "--epochs", "50", "--patience", "50"]
    report = kill_trials(long_run, env, trials=KILL_TRIALS, min_delay=0.5, max_delay=6.0, check=check, seed=1)
    assert report.trials == KILL_TRIALS
    done = run_seqtool([*long_run, "--resume", "--max-time", "2s"], env)
    assert done.returncode == 0, done.stderr
    check()


def test_kill_classify_train_then_resume(tmp_path, env, seqtool_home):
    from seqtool.core.store import ModelStore
    from seqtool.training.checkpoint import load_checkpoint

    data = tmp_path / "d.tsv"
    data.write_text("".join(f"{'a' if i % 2 else 'b'}\t{line} {'yes' if i % 2 else 'no'}\n"
                            for i, line in enumerate(LINES)))
    base = ["classify", "train", data, "--format", "tsv", "--hidden", "8", "--emb", "8", "--device", "cpu",
            "--seed", "1", "--name", "c", "--patience", "500"]
    assert run_seqtool([*base, "--epochs", "1"], env).returncode == 0
    checkpoints = ModelStore(seqtool_home).checkpoint_dir("c", create=False)

    def check():
        assert "c" in assert_store_intact(seqtool_home)
        load_checkpoint(checkpoints)

    # Fresh trainings under the same name, each killed long before its 500 epochs.
    kill_trials([*base, "--epochs", "500"], env, trials=KILL_TRIALS, min_delay=0.5, max_delay=6.0,
                check=check, seed=2)
    # On a busy machine every trial may die before its first checkpoint, leaving the finished
    # one-epoch run's: one more run is killed once it has written a checkpoint of its own.
    _kill_after_a_checkpoint([*base, "--epochs", "500"], env, checkpoints / "checkpoint.pt")
    check()
    # The last killed run resumes from its checkpoint (inside the default ensemble's rnn member,
    # which 500 epochs of patience keep training) and finishes one more epoch, then the other
    # members and the refit, whose checkpoint carries the early-stopping phase's records.
    reached = int(load_checkpoint(checkpoints)["epoch"])
    done = run_seqtool([*base, "--epochs", str(reached + 1), "--resume"], env)
    assert done.returncode == 0, done.stderr
    final = load_checkpoint(checkpoints)
    assert final["finished"] and all(final["ensemble"]["done"])
    early = final["early_stop"]["history"]
    assert max(r["epoch"] for r in early if r["member"] == "rnn") == reached + 1
    check()


def _kill_after_a_checkpoint(args, env, checkpoint: Path, timeout: float = 300) -> None:
    before = checkpoint.stat().st_mtime_ns
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while checkpoint.stat().st_mtime_ns == before and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert checkpoint.stat().st_mtime_ns != before, "no checkpoint written"


def timed_run(args, env) -> float:
    """Seconds an uninterrupted run takes: the kill delays are drawn within it."""
    start = time.monotonic()
    result = run_seqtool(args, env)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - start


def test_kill_embed_import(tmp_path, env, seqtool_home):
    import numpy as np

    vectors = tmp_path / "v.txt"
    rows, dim = 150_000, 50
    values = np.random.default_rng(0).normal(size=(rows, dim)).round(4)
    np.savetxt(vectors, values, fmt="%.4f", header=f"{rows} {dim}", comments="")
    with open(vectors, "rb") as src, open(tmp_path / "named.txt", "wb") as dst:
        dst.write(src.readline())
        dst.writelines(b"w%d %s" % (i, line) for i, line in enumerate(src))
    args = ["embed", "import", tmp_path / "named.txt", "--name", "v"]
    seconds = timed_run(args, env)

    def check():
        assert "v" in assert_store_intact(seqtool_home)

    kill_trials(args, env, trials=KILL_TRIALS, min_delay=0.1 * seconds, max_delay=0.95 * seconds,
                check=check, seed=3)

    def check_term():  # SIGTERM cleans up like Ctrl-C: the draft of the new version is gone
        check()
        assert_no_leftovers(seqtool_home / "models")

    # The SIGKILL trials may leave drafts (nothing can run on SIGKILL); the next save clears
    # old ones only after a day, so clear them here to see what SIGTERM leaves.
    for draft in (seqtool_home / "models" / ".versions").glob("*.tmp"):
        import shutil

        shutil.rmtree(draft)
    report = kill_trials(args, env, trials=KILL_TRIALS, min_delay=0.1 * seconds, max_delay=0.95 * seconds,
                         check=check_term, seed=5, sig=signal.SIGTERM)
    assert report.trials == KILL_TRIALS


def _inbox(tmp_path: Path, documents: int = 240) -> Path:
    """A folder of documents for the batch-summarize trials (20 paragraphs of 3 sentences each)."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(documents):
        (src / f"doc{i:03d}.txt").write_text(
            "\n\n".join(f"Paragraph {p} of document {i} talks about topic {p % 3}. It has a second sentence "
                         f"about topic {(p + i) % 5}. A third sentence closes it." for p in range(20)))
    return src


def test_kill_batch_summarize(tmp_path, env):
    src, out = _inbox(tmp_path), tmp_path / "out"
    # Without --incremental every trial rewrites all 240 summaries, so kills land mid-batch
    # and must leave each existing summary whole.
    args = ["summarize", src, "--out-dir", out, "-n", "2"]
    seconds = timed_run(args, env)
    expected = {f.name: f.read_text() for f in out.glob("doc*.txt")}
    assert len(expected) == 240

    def check():
        for f in out.rglob("*"):
            assert not f.name.endswith(".tmp") or f.name.startswith("."), f
        # Each summary is the old one or the rewritten one (both the same), never a part.
        assert {f.name: f.read_text() for f in out.glob("doc*.txt")} == expected

    kill_trials(args, env, trials=KILL_TRIALS, min_delay=0.1 * seconds, max_delay=0.95 * seconds,
                check=check, seed=4)

    def check_term():
        check()
        assert_no_leftovers(out)  # SIGKILL temps are cleared by the next run; SIGTERM leaves none
        assert (out / ".seqtool-summarize-state.json").exists()

    kill_trials(args, env, trials=KILL_TRIALS, min_delay=0.1 * seconds, max_delay=0.95 * seconds,
                check=check_term, seed=6, sig=signal.SIGTERM, finished=" summarized, ")
    done = run_seqtool([*args, "--incremental"], env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("doc*.txt")) == sorted(p.name for p in src.iterdir())


def test_kill_a_parallel_batch_parent_then_the_next_run_gets_the_lock(tmp_path, env):
    src, out = _inbox(tmp_path), tmp_path / "out"
    args = ["summarize", src, "--out-dir", out, "-n", "2", "--jobs", "2"]
    seconds = timed_run(args, env)

    def check():
        # No orphaned worker holds the lock: the next run starts at once (and finishes).
        again = run_seqtool(["summarize", src, "--out-dir", out, "-n", "2", "--incremental"], env, timeout=300)
        assert again.returncode == 0, again.stderr
        assert len(list(out.glob("doc*.txt"))) == 240

    for sig, seed in ((signal.SIGKILL, 7), (signal.SIGTERM, 8)):
        kill_trials(args, env, trials=KILL_TRIALS, min_delay=0.2 * seconds, max_delay=0.9 * seconds,
                    check=check, seed=seed, sig=sig, finished=" summarized, ")
