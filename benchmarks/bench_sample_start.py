"""Benchmark: the time from launching `seqtool sample` to its first token (issue 17).

A random 50k-word 2x200 LSTM (tied, adaptive softmax with the default cutoffs, and the
same with a full softmax) is stored in a temporary SEQTOOL_HOME; then, in alternating
rounds, each contender is launched as a new process and timed to the first byte on its
stdout:

    seqtool   python -m seqtool sample --model M --length 50 --seed 1   (the numpy engine)
    torch     the same model loaded the way pytorch/examples' generate.py does (import
              torch, build the RNNLM, load its weights, one step, draw a word, print it)
    floor     python -c "import numpy; print()": what any numpy tool pays before its work
    against   (--against DIR) another checkout's `seqtool sample`, e.g. the commit before a change

and `seqtool sample --length N` is timed to its end (wall and CPU seconds: tokens/s of the
whole process, start-up included). Best and median of --rounds; ratios to the torch peer.

Bytecode: a pip install compiles seqtool's modules; a checkout run with
PYTHONDONTWRITEBYTECODE=1 compiles them again at every start (~0.3-0.5 s more before this
change). The script byte-compiles the checkout first (like pip); --cold runs a copy of the
package that has no __pycache__ and may write none, to measure that case.

    OMP_NUM_THREADS=1 python benchmarks/bench_sample_start.py
    OMP_NUM_THREADS=1 python benchmarks/bench_sample_start.py --rounds 9 --cold
    git archive HEAD~3 | tar -x -C /tmp/before
    OMP_NUM_THREADS=1 python benchmarks/bench_sample_start.py --against /tmp/before --no-torch
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZE = 200

TORCH_PEER = """
import sys, torch, numpy as np
torch.set_num_threads(1)
from seqtool.core.store import ModelStore
from seqtool.lm.store import load_torch_lm, stored_from_info
stored = stored_from_info(ModelStore().open(sys.argv[1], ("lm",)))
model = load_torch_lm(stored)
with torch.inference_mode():
    out, _ = model(torch.tensor([[1]]), model.init_hidden(1, "cpu"))
    p = torch.softmax(out[0, 0].double(), -1).numpy()  # adaptive: log-probs; softmax is exp then
word = stored.vocab.itos[int(np.random.default_rng(1).choice(p.size, p=p / p.sum()))]
sys.stdout.write(word); sys.stdout.flush()
"""


def build_models(home: str, vocab_size: int) -> None:
    import torch

    from seqtool.core.store import ModelStore
    from seqtool.core.vocab import Vocab
    from seqtool.lm.model import LMConfig, RNNLM
    from seqtool.lm.store import write_lm

    vocab = Vocab.build({f"w{i}": vocab_size - i for i in range(vocab_size - 2)})
    for kind in ("adaptive", "full"):
        torch.manual_seed(0)
        model = RNNLM(LMConfig(vocab_size=vocab_size, emb=SIZE, hidden=SIZE, layers=2, tie=True, softmax=kind))
        with ModelStore(home).writer(f"m-{kind}", "lm") as draft:
            write_lm(draft, model.export_tensors(), model.config.to_dict(), vocab, "word", training={}, metrics={})


def first_byte_seconds(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, cwd=tempfile.gettempdir())
    first = proc.stdout.read(1)
    elapsed = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    if not first or proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed (exit {proc.returncode})")
    return elapsed


def whole_process(argv: list[str], env: dict) -> tuple[float, float]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vocab", type=int, default=50_000)
    parser.add_argument("--length", type=int, default=3000, help="tokens of the whole-process run")
    parser.add_argument("--cold", action="store_true", help="seqtool without compiled bytecode (see above)")
    parser.add_argument("--no-torch", action="store_true", help="leave the torch peer out")
    parser.add_argument("--against", metavar="CHECKOUT", help="also time this checkout's seqtool (e.g. a copy of "
                        "an older commit: `git archive REV | tar -x -C DIR`), as 'against'")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    home = tempfile.mkdtemp(prefix="bench-sample-start-")
    build_models(home, args.vocab)
    code_root = str(REPO)
    if args.cold:
        code_root = tempfile.mkdtemp(prefix="bench-sample-cold-")
        shutil.copytree(REPO / "seqtool", Path(code_root) / "seqtool",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "seqtool")], check=True,
                       stdout=subprocess.DEVNULL)
    env = dict(os.environ, SEQTOOL_HOME=home, PYTHONPATH=code_root, OMP_NUM_THREADS="1")
    env.pop("SEQTOOL_THREADS", None)
    if args.cold:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    py = sys.executable

    def sample(m):
        return [py, "-m", "seqtool", "sample", "--model", m, "--length", "50", "--seed", "1"]

    # name -> (argv for a model, environment)
    contenders = {"floor": (lambda m: [py, "-c", "import numpy, sys; sys.stdout.write('x'); sys.stdout.flush()"],
                            env),
                  "seqtool": (sample, env)}
    if args.against:
        if not args.cold:
            subprocess.run([py, "-m", "compileall", "-q", str(Path(args.against) / "seqtool")], check=True,
                           stdout=subprocess.DEVNULL)
        contenders["against"] = (sample, dict(env, PYTHONPATH=str(Path(args.against).resolve())))
    if not args.no_torch:
        contenders["torch"] = (lambda m: [py, "-c", TORCH_PEER, m], env)
    print(f"first token, seconds from launch ({'cold: no bytecode' if args.cold else 'bytecode compiled'}; "
          f"{args.rounds} rounds; load {os.getloadavg()[0]:.2f})")
    print("model\tcontender\tbest_s\tmedian_s\tratio_to_torch\trounds")
    for model in ("m-adaptive", "m-full"):
        times = {name: [] for name in contenders}
        for _ in range(args.rounds):  # alternate, so a change of load hits every contender alike
            for name, (argv, child_env) in contenders.items():
                times[name].append(first_byte_seconds(argv(model), child_env))
        base = statistics.median(times["torch"]) if "torch" in times else None
        for name, got in times.items():
            ratio = f"{statistics.median(got) / base:.2f}" if base else "-"
            shown = " ".join(f"{t:.2f}" for t in got)
            print(f"{model}\t{name}\t{min(got):.2f}\t{statistics.median(got):.2f}\t{ratio}\t{shown}", flush=True)
    print(f"\nwhole process: `seqtool sample --length 1` (start-up: launch, load, one token, exit; CPU seconds "
          f"are less swayed by the machine's load than wall time), then --length {args.length}")
    print("model\tcontender\tstartup_cpu_s\twall_s\tcpu_s\ttokens_per_s\ttokens_per_cpu_s")
    for model in ("m-adaptive", "m-full"):
        for name in ("seqtool", "against"):
            if name in contenders:
                child_env = contenders[name][1]
                start_cpu = min(whole_process(sample(model)[:-4] + ["--length", "1", "--seed", "1"], child_env)[1]
                                for _ in range(3))
                argv = sample(model)[:-4] + ["--length", str(args.length), "--seed", "1"]
                wall, cpu = whole_process(argv, child_env)
                print(f"{model}\t{name}\t{start_cpu:.2f}\t{wall:.2f}\t{cpu:.2f}\t{args.length / wall:,.0f}\t"
                      f"{args.length / cpu:,.0f}", flush=True)
    shutil.rmtree(home, ignore_errors=True)
    if args.cold:
        shutil.rmtree(code_root, ignore_errors=True)


if __name__ == "__main__":
    main()
