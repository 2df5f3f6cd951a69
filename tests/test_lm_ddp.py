"""torchrun: two CPU processes with DistributedDataParallel (gloo); only rank 0 writes."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from .test_lm_train import tiny_corpus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(tmp_path, seqtool_home):
    corpus = tiny_corpus(tmp_path / "tiny.txt", lines=200)
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQTOOL_HOME=str(seqtool_home))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
           "-m", "seqtool", "train-lm", str(corpus), "--layers", "1", "--hidden", "8", "--emb", "8",
           "--bptt", "8", "--batch-size", "4", "--epochs", "2", "--seed", "1", "--device", "cpu",
           "--name", "ddp", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    # The ranks' own messages come first, torchrun's summary of the failure last.
    assert proc.returncode == 0, proc.stderr[:3000] + "\n...\n" + proc.stderr[-1000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    # one report, from rank 0 only
    assert [line["event"] for line in lines] == ["epoch", "epoch", "done"]
    assert proc.stderr.count("holding out the last 5%") == 1
    config = json.loads((seqtool_home / "models" / "ddp" / "config.json").read_text())
    assert config["training"]["world_size"] == 2
    versions = [p for p in (seqtool_home / "models" / ".versions").iterdir() if not p.name.endswith(".tmp")]
    assert len(versions) <= 2
