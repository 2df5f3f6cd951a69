"""Benchmark: the --threads rule (seqtool/core/threads.py) on an idle and on a busy machine.

Two workloads, each timed in a fresh subprocess with torch.set_num_threads(N):
- lm: 2x200 LSTM LM, 10k vocabulary, bptt 35, batch 20, full softmax, SGD (train-lm's step);
- clf: a small bidirectional GRU classifier step, 64 sentences of ~20 tokens (classify's step);
with N = 1, N = 2 and N = what `--threads auto` chooses at that moment. "busy" runs the same
timings while another process spins on one core (the situation of a cron job beside a build).
Prints a TSV table of steps/s and the ratio of each to the best fixed choice.

    python benchmarks/bench_threads.py               # ~2 minutes on 2 cores
    python benchmarks/bench_threads.py --seconds 8
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

WORKLOAD = r'''
import json, sys, time
import torch
from torch import nn
work, threads, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from seqtool.core.threads import apply_threads
count = apply_threads(threads)
torch.manual_seed(0)
if work == "lm":
    V, H = 10_000, 200
    emb, rnn, dec = nn.Embedding(V, H), nn.LSTM(H, H, 2, dropout=0.2), nn.Linear(H, V)
    dec.weight = emb.weight
    params = list(emb.parameters()) + list(rnn.parameters()) + [dec.bias]
    opt = torch.optim.SGD(params, lr=20)
    x = torch.randint(0, V, (35, 20)); y = torch.randint(0, V, (35 * 20,))
    def step():
        out, _ = rnn(emb(x))
        loss = nn.functional.cross_entropy(dec(out).view(-1, V), y)
        opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(params, 0.25); opt.step()
else:
    V, E, H = 20_000, 128, 128
    emb, rnn, out = nn.Embedding(V, E), nn.GRU(E, H, batch_first=True, bidirectional=True), nn.Linear(2 * H, 6)
    params = list(emb.parameters()) + list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=3e-3)
    x = torch.randint(0, V, (64, 20)); y = torch.randint(0, 6, (64,))
    def step():
        h, _ = rnn(emb(x))
        loss = nn.functional.cross_entropy(out(h.max(dim=1).values), y)
        opt.zero_grad(); loss.backward(); opt.step()
step()
n, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    step(); n += 1
print(json.dumps({"threads": count, "steps_per_s": n / (time.perf_counter() - start)}))
'''


def spin(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def measure(work: str, threads: str, seconds: float) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKLOAD, work, threads, str(seconds), str(REPO)],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="timing per measurement")
    args = ap.parse_args()
    print("condition\tworkload\tthreads\tchosen\tsteps/s\tratio to best fixed")
    for condition in ("idle", "busy"):
        spinner = None
        if condition == "busy":
            spinner = multiprocessing.Process(target=spin, args=(time.time() + 3600,), daemon=True)
            spinner.start()
            time.sleep(1.0)
        try:
            for work in ("lm", "clf"):
                rows = {label: measure(work, label, args.seconds) for label in ("1", "2", "auto")}
                best = max(rows["1"]["steps_per_s"], rows["2"]["steps_per_s"])
                for label, row in rows.items():
                    print(f"{condition}\t{work}\t{label}\t{row['threads']}\t{row['steps_per_s']:.2f}\t"
                          f"{row['steps_per_s'] / best:.2f}", flush=True)
        finally:
            if spinner is not None:
                spinner.terminate()
                spinner.join()


if __name__ == "__main__":
    main()
