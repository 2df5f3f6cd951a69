"""SIGKILL (or SIGTERM) a seqtool command at random moments and check that nothing was lost.

`make test` runs a few trials per command; `make torture` runs
SEQTOOL_KILL_TRIALS (200) of them.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

KILL_TRIALS = int(os.environ.get("SEQTOOL_KILL_TRIALS", "3"))
ORPHAN_TIMEOUT = 120  # seconds a signalled run (and every process it started) may take to end


@dataclass
class KillReport:
    trials: int = 0
    killed: int = 0
    finished: int = 0
    delays: list = field(default_factory=list)
    codes: list = field(default_factory=list)   # exit codes of the signalled runs


def run_seqtool(args, env, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqtool", *map(str, args)], env=env,
                          capture_output=True, text=True, **kwargs)


def kill_trials(args, env, *, trials: int, max_delay: float, check, seed: int = 0,
                min_delay: float = 0.0, sig: int = signal.SIGKILL, finished: str | None = None) -> KillReport:
    """Start `seqtool ARGS`, send `sig` (SIGKILL) after a random delay, then call check().

    A SIGTERM'd run must clean up like a Ctrl-C'd one and exit 130 with one stderr line.
    `finished`: a phrase of the command's closing report on stderr (see below)."""
    rng = random.Random(seed)
    report = KillReport()
    for _ in range(trials):
        delay = rng.uniform(min_delay, max_delay)
        # Its own session: a worker that outlived it can be found and killed (below).
        proc = subprocess.Popen([sys.executable, "-m", "seqtool", *map(str, args)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        time.sleep(delay)
        signalled = proc.poll() is None
        if signalled:
            proc.send_signal(sig)
            report.killed += 1
        else:
            report.finished += 1
        try:
            err = proc.communicate(timeout=ORPHAN_TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            # stderr stays open while any process of the run lives: a worker outlived the kill.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            moment = f"{signal.Signals(sig).name} at {delay:.2f} s" if signalled else "its own exit"
            raise AssertionError(f"seqtool {' '.join(map(str, args[:2]))}: a process of the run was still "
                                 f"alive {ORPHAN_TIMEOUT} s after {moment}")
        if signalled and sig == signal.SIGTERM:
            report.codes.append(proc.returncode)
            # -SIGTERM only where no Python handler runs: the interpreter starting (seqtool not
            # imported yet: nothing read or written, nothing said) or ending (the command done, its
            # closing report printed; CPython restores the default action while it finalizes).
            # In between, the Ctrl-C path: 130 and one line.
            assert proc.returncode in (0, 130, -signal.SIGTERM), err
            assert "Traceback" not in err, err
            if proc.returncode == 130:
                assert len(err.strip().splitlines()) == 1, err
            if proc.returncode == -signal.SIGTERM:
                ending = finished is not None and err.strip() and finished in err.strip().splitlines()[-1]
                assert (err == "" and delay < 1.0) or ending, err
        report.trials += 1
        report.delays.append(round(delay, 3))
        check()
    log = os.environ.get("SEQTOOL_KILL_REPORT")
    if log:  # `make torture` collects the figures for the README
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{' '.join(a for a in map(str, args[:2]) if '/' not in a)}\t{signal.Signals(sig).name}"
                     f"\ttrials={report.trials}\tkilled={report.killed}\tfinished={report.finished}\n")
    return report


def assert_no_leftovers(*folders: Path) -> None:
    """No store draft (.versions/NAME.*.tmp) and no atomic_write temp file anywhere below."""
    for folder in folders:
        for path in Path(folder).rglob("*"):
            assert not path.name.endswith(".tmp"), f"left behind: {path}"


def assert_store_intact(home: Path) -> list[str]:
    """Every published model loads its config and passes the safetensors checks;
    no draft is published. Returns the model names."""
    from seqtool.core.store import KINDS, ModelStore
    from seqtool.core.tensors import check_safetensors

    store = ModelStore(home)
    names = []
    models = home / "models"
    if not models.is_dir():
        return names
    for entry in sorted(models.iterdir()):
        if entry.name.startswith("."):
            continue
        assert entry.is_symlink(), f"{entry} is not a published version link"
        info = store.open(entry.name, KINDS)
        for tensor_file in info.path.glob("*.safetensors"):
            check_safetensors(tensor_file)
        names.append(entry.name)
    return names
