"""Benchmark: seqtool train-lm vs a plain PyTorch training loop, and seqtool sample.

Both trainers run in this one process on the same data (PTB train, batchified
into 20 columns, bptt 35) and the same model (2-layer LSTM, 200 units, tied,
dropout 0.2, SGD lr 20, clip 0.25): the plain loop is pytorch/examples
word_language_model's inner loop. Rounds alternate (plain, seqtool, plain, ...)
so a machine whose load changes affects both alike; the best round of each is
compared. Then `seqtool sample` is timed on the model seqtool just trained:
time from launching the command to the first token on stdout, and tokens/s.

    python benchmarks/bench_lm.py                 # 150 steps per round, 2 rounds
    python benchmarks/bench_lm.py --steps 400 --rounds 3 --threads 2

Data: /work/shared/data/ptb (see its SOURCE.md). Prints one TSV table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTB = REPO.parent / "shared" / "data" / "ptb"


def plain_loop(train_ids, vocab_size: int, steps: int, seed: int) -> tuple[float, float]:
    """pytorch/examples word_language_model, train(): returns (tokens/s, tokens per CPU second)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.2)
            self.encoder = nn.Embedding(vocab_size, 200)
            self.rnn = nn.LSTM(200, 200, 2, dropout=0.2)
            self.decoder = nn.Linear(200, vocab_size)
            self.decoder.weight = self.encoder.weight
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
            return self.decoder(self.drop(out)), hidden

    model = Plain()
    criterion = nn.NLLLoss()
    n = train_ids.numel() // 20
    data = train_ids[: n * 20].view(20, -1).t().contiguous()  # (T, 20)
    hidden = (torch.zeros(2, 20, 200), torch.zeros(2, 20, 200))
    model.train()
    t0, cpu0 = time.perf_counter(), time.process_time()
    tokens = 0
    for step, i in enumerate(range(0, data.size(0) - 1, 35)):
        if step == steps:
            break
        seq_len = min(35, len(data) - 1 - i)
        x, y = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].reshape(-1)
        model.zero_grad()
        hidden = tuple(h.detach() for h in hidden)
        output, hidden = model(x, hidden)
        loss = criterion(torch.log_softmax(output.view(-1, vocab_size), -1), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-20.0)
        tokens += y.numel()
        loss.item()  # the example reads the loss every batch for its log
    return tokens / (time.perf_counter() - t0), tokens / (time.process_time() - cpu0)


def seqtool_round(steps: int, seed: int, name: str) -> tuple[float, float, float]:
    """Our trainer on the same data and model, stopped after `steps` steps (checkpoint
    and model written as on Ctrl-C). Returns (loop tokens/s, loop tokens per CPU second,
    whole-call wall seconds)."""
    from seqtool.lm.options import resolve_options
    from seqtool.lm.api import train_lm

    opts = resolve_options({"corpus": [str(PTB / "ptb.train.txt")], "valid": str(PTB / "ptb.valid.txt"),
                            "seed": seed, "device": "cpu", "name": name, "max_steps": steps}, "ptb-small")
    t0 = time.perf_counter()
    result = train_lm(opts)
    return result.train_tokens_per_s, result.loop_tokens / result.loop_cpu_s, time.perf_counter() - t0


def sample_timing(name: str, length: int, home: str) -> tuple[float, float, float]:
    """`seqtool sample` in a fresh process: (wall seconds from launch to the first token,
    tokens/s after it, CPU seconds of the whole process)."""
    import resource

    env = dict(os.environ, SEQTOOL_HOME=home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "sample", "--model", name, "--length", str(length),
                             "--seed", "1", "--temp", "0.8"], stdout=subprocess.PIPE, env=env)
    first = proc.stdout.read(1)
    t_first = time.perf_counter()
    proc.stdout.read()
    t_end = time.perf_counter()
    proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert first and proc.returncode == 0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return t_first - t0, (length - 1) / max(t_end - t_first, 1e-9), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="training steps per round (35x20 tokens each)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--sample-length", type=int, default=3000)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-lm-")
    os.environ["SEQTOOL_HOME"] = home
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from seqtool.core.io import expand_inputs
    from seqtool.lm.data import build_corpus

    corpus = build_corpus(expand_inputs([str(PTB / "ptb.train.txt")]), "word")
    train = torch.from_numpy(corpus.train)
    vocab_size = len(corpus.vocab)
    plain_rates, ours_rates, plain_cpu, ours_cpu, ours_walls = [], [], [], [], []
    # warm-up: the first torch.optim use imports torch._dynamo (seconds); not a per-token cost
    seqtool_round(2, 0, "warmup")
    plain_loop(train, vocab_size, 2, 0)
    for r in range(args.rounds):
        rate, cpu_rate = plain_loop(train, vocab_size, args.steps, seed=1)
        plain_rates.append(rate)
        plain_cpu.append(cpu_rate)
        rate, cpu_rate, wall = seqtool_round(args.steps, 1, "bench")
        ours_rates.append(rate)
        ours_cpu.append(cpu_rate)
        ours_walls.append(wall)
        print(f"round {r + 1}: plain {plain_rates[-1]:,.0f} tok/s ({plain_cpu[-1]:,.0f}/CPU-s)  seqtool "
              f"{rate:,.0f} tok/s ({cpu_rate:,.0f}/CPU-s; call {wall:.1f}s incl. corpus read, checkpoint, "
              f"model save)", file=sys.stderr, flush=True)
    plain, ours = max(plain_rates), max(ours_rates)
    runs = [sample_timing("bench", length, home) for length in (1, 1, 1)]
    latency = statistics.median(r[0] for r in runs)
    startup_cpu = statistics.median(r[2] for r in runs)
    long_runs = [sample_timing("bench", args.sample_length, home) for _ in range(3)]
    speed = statistics.median(r[1] for r in long_runs)
    cpu_speed = (args.sample_length - 1) / max(statistics.median(r[2] for r in long_runs) - startup_cpu, 1e-9)
    config = json.loads((Path(home) / "models" / "bench" / "config.json").read_text())
    print("figure\tpeer\tseqtool\tratio")
    print(f"train tokens/s wall (LSTM 2x200, bptt 35, batch 20, {args.steps} steps, best of {args.rounds})\t"
          f"{plain:,.0f}\t{ours:,.0f}\t{ours / plain:.3f}")
    print(f"train tokens per CPU-second (best of {args.rounds})\t{max(plain_cpu):,.0f}\t{max(ours_cpu):,.0f}\t"
          f"{max(ours_cpu) / max(plain_cpu):.3f}")
    print(f"sample first-token latency, wall s (median of 3, vocab {config['config']['vocab_size']})\t"
          f"1.5 (target)\t{latency:.3f}\t{1.5 / latency:.2f}")
    print(f"sample start-up CPU s (launch, load, 1 token, exit)\t1.5 (target)\t{startup_cpu:.3f}\t"
          f"{1.5 / startup_cpu:.2f}")
    print(f"sample tokens/s wall (median of 3, {args.sample_length} tokens)\t2000 (target)\t{speed:,.0f}\t"
          f"{speed / 2000:.2f}")
    print(f"sample tokens per CPU-second\t2000 (target)\t{cpu_speed:,.0f}\t{cpu_speed / 2000:.2f}")
    print(f"# torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f} "
          f"(cores {os.cpu_count()})")

if __name__ == "__main__":
    main()
