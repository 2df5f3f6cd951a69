"""Benchmark: the softmax layer of a recurrent LM -- full vs seqtool's adaptive vs torch's.

Training: tokens/s of a training step (forward, backward, clip 0.25, SGD) of a 2x200
LSTM, bptt 35, batch 20, for each vocabulary size, softmax and thread count, all in
this one process. The softmaxes:

    full      RNNLM(softmax="full"), tied (pytorch/examples' model)
    adaptive  RNNLM(softmax="adaptive"), tied head words, default cutoffs
    torch     the same embedding + LSTM under nn.AdaptiveLogSoftmaxWithLoss (same
              cutoffs, div_value 4; untied: torch's layer cannot tie)

Tokens are drawn from a Zipf(1) law over the vocabulary (fixed seed), so the share
of targets falling in each cluster is that of running text with this vocabulary
size. Each model gets --seconds of timed steps (after two warm-up steps), split
into --rounds turns taken in alternation with the other models; the best turn
counts, and ratios are to the full softmax at the same vocabulary and threads.

Sampling (--sample): the numpy engine (what `seqtool sample` runs) on a random
50k-word 2x200 LSTM, full vs adaptive: tokens/s at temperature 1 (adaptive: head
first, then the drawn cluster) and 0.8 (every word's probability), and the time
from launching `seqtool sample` to its first token.

    python benchmarks/bench_lm_softmax.py                      # training, 10k and 33k, 1 and 2 threads
    python benchmarks/bench_lm_softmax.py --vocab 10000 --threads 1 --seconds 5
    python benchmarks/bench_lm_softmax.py --sample             # the sampler only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BPTT, BATCH, SIZE = 35, 20, 200


def zipf_tokens(vocab_size: int, n: int, seed: int = 0):
    import numpy as np

    ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
    p = 1.0 / ranks
    return np.random.default_rng(seed).choice(vocab_size, size=n, p=p / p.sum())


def make_model(kind: str, vocab_size: int):
    """(module, step function (x, y, hidden) -> (loss, hidden))."""
    import torch
    from torch import nn

    from seqtool.layers import default_cutoffs
    from seqtool.lm.model import LMConfig, RNNLM

    torch.manual_seed(0)
    if kind in ("full", "adaptive"):
        model = RNNLM(LMConfig(vocab_size=vocab_size, emb=SIZE, hidden=SIZE, layers=2, dropout=0.2, tie=True,
                               softmax=kind))
        return model, model.loss

    class TorchAdaptive(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnnlm = RNNLM(LMConfig(vocab_size=vocab_size, emb=SIZE, hidden=SIZE, layers=2, dropout=0.2,
                                        tie=False, softmax="adaptive"))
            del self.rnnlm.softmax
            self.softmax = nn.AdaptiveLogSoftmaxWithLoss(SIZE, vocab_size, list(default_cutoffs(vocab_size)),
                                                         div_value=4.0, head_bias=True)

        def init_hidden(self, batch_size):
            return self.rnnlm.init_hidden(batch_size)

        def step(self, x, y, hidden):
            out, _, hidden = self.rnnlm.features(x, hidden)
            return self.softmax(out.reshape(-1, SIZE), y.reshape(-1)).loss, hidden

    model = TorchAdaptive()
    return model, model.step


def train_rates(kind: str, vocab_size: int, tokens, seconds: float, rounds: int) -> list[float]:
    """Training tokens/s of `rounds` timed stretches of `seconds` each (after two warm-up steps)."""
    import torch

    model, step = make_model(kind, vocab_size)
    model.train()
    data = torch.as_tensor(tokens[: (len(tokens) // BATCH) * BATCH]).view(BATCH, -1).t().contiguous()  # (T, B)
    params = list(model.parameters())
    hidden = model.init_hidden(BATCH)
    start, rates = 0, []

    def train_step():
        nonlocal start, hidden
        if start + BPTT + 1 > data.size(0):
            start = 0
        x, y = data[start:start + BPTT], data[start + 1:start + 1 + BPTT]
        start += BPTT
        hidden = tuple(h.detach() for h in hidden)
        loss, hidden = step(x, y, hidden)
        model.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.25)
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-20.0)
        loss.item()
        return y.numel()

    train_step(), train_step()
    for _ in range(rounds):
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            done += train_step()
        rates.append(done / (time.perf_counter() - t0))
    return rates


def bench_training(args) -> None:
    """Models of one vocabulary and thread count take turns (round 1 of each, then
    round 2, ...) so a change in machine load hits them alike; the best round counts."""
    import torch

    from seqtool.layers import default_cutoffs

    print("vocab\tthreads\tsoftmax\ttokens_per_s\tratio_to_full\thead_share\trounds")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for vocab_size in args.vocab:
            tokens = zipf_tokens(vocab_size, 200_000)
            head_share = float((tokens < default_cutoffs(vocab_size)[0]).mean())
            rates = {kind: [] for kind in args.softmax}
            for _ in range(args.rounds):
                for kind in args.softmax:
                    rates[kind] += train_rates(kind, vocab_size, tokens, args.seconds / args.rounds, 1)
            base = max(rates["full"]) if "full" in rates else None
            for kind, got in rates.items():
                rate = max(got)
                ratio = f"{rate / base:.2f}" if base else "-"
                shown = "/".join(f"{r:.0f}" for r in got)
                print(f"{vocab_size}\t{threads}\t{kind}\t{rate:,.0f}\t{ratio}\t{head_share:.2f}\t{shown}", flush=True)


def bench_sampling(args) -> None:
    """numpy-engine tokens/s and `seqtool sample` first-token time, 50k words, full vs adaptive."""
    import numpy as np
    import torch

    from seqtool.core.sampling import SamplingOptions
    from seqtool.core.store import ModelStore
    from seqtool.core.vocab import Vocab
    from seqtool.lm.generate import open_generator
    from seqtool.lm.model import LMConfig, RNNLM
    from seqtool.lm.store import write_lm

    torch.set_num_threads(1)
    vocab_size = args.sample_vocab
    home = tempfile.mkdtemp(prefix="bench-softmax-")
    os.environ["SEQTOOL_HOME"] = home
    vocab = Vocab.build({f"w{i}": vocab_size - i for i in range(vocab_size - 2)})
    # tokens per CPU second: what an idle core would give, on a loaded machine
    print("softmax\tvocab\ttemp\ttokens_per_s\ttokens_per_cpu_s\tfirst_token_s\tprocess_tokens_per_s\t"
          "process_tokens_per_cpu_s\tload")
    for kind in ("full", "adaptive"):
        torch.manual_seed(0)
        model = RNNLM(LMConfig(vocab_size=vocab_size, emb=SIZE, hidden=SIZE, layers=2, tie=True, softmax=kind))
        with ModelStore().writer(f"m-{kind}", "lm") as draft:
            write_lm(draft, model.export_tensors(), model.config.to_dict(), vocab, "word", training={}, metrics={})
        gen = open_generator(f"m-{kind}")
        for temp in (1.0, 0.8):
            n = args.sample_length
            t0, cpu0 = time.perf_counter(), time.process_time()
            for _ in gen.tokens([], length=n, options=SamplingOptions(temp), rng=np.random.default_rng(1)):
                pass
            rate, cpu_rate = n / (time.perf_counter() - t0), n / (time.process_time() - cpu0)
            first = first_token_seconds(f"m-{kind}", home, temp)
            wall, cpu = whole_process(f"m-{kind}", home, temp, n)
            print(f"{kind}\t{vocab_size}\t{temp}\t{rate:,.0f}\t{cpu_rate:,.0f}\t{first:.2f}\t{n / wall:,.0f}\t"
                  f"{n / cpu:,.0f}\t{os.getloadavg()[0]:.2f}", flush=True)


def whole_process(name: str, home: str, temp: float, length: int) -> tuple[float, float]:
    """`seqtool sample --length N` as a user runs it (what `time` reports): wall and CPU seconds
    of the whole process, start-up and model load included."""
    import resource

    env = dict(os.environ, SEQTOOL_HOME=home, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seqtool", "sample", "--model", name, "--length", str(length),
                    "--seed", "1", "--temp", str(temp)], stdout=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def first_token_seconds(name: str, home: str, temp: float) -> float:
    env = dict(os.environ, SEQTOOL_HOME=home, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "sample", "--model", name, "--length", "50",
                             "--seed", "1", "--temp", str(temp)], stdout=subprocess.PIPE, env=env)
    first = proc.stdout.read(1)
    elapsed = time.perf_counter() - t0
    proc.stdout.read()
    proc.wait()
    assert first and proc.returncode == 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=int, nargs="+", default=[10_000, 33_278])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--softmax", nargs="+", default=["full", "adaptive", "torch"],
                        choices=["full", "adaptive", "torch"])
    parser.add_argument("--seconds", type=float, default=12.0, help="timed seconds per model and setting")
    parser.add_argument("--rounds", type=int, default=2, help="turns the --seconds are split into")
    parser.add_argument("--sample", action="store_true", help="benchmark the numpy sampler instead")
    parser.add_argument("--sample-vocab", type=int, default=50_000)
    parser.add_argument("--sample-length", type=int, default=3000)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.sample:
        bench_sampling(args)
    else:
        bench_training(args)


if __name__ == "__main__":
    main()
