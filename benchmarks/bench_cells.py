"""Benchmark: training speed of the lstm-peephole and cifg LSTMs against the fused nn.LSTM.

1. The LM training step (forward + backward + clip + SGD) of seqtool's RNNLM,
   2x200, tied, dropout 0.2, bptt 35, batch 20, on PTB train windows, for
   lstm (torch's fused kernel), lstm-peephole and cifg (seqtool.layers.cells).
   Rounds alternate the cells so a change in machine load hits them alike; the
   best round of each is kept. Target: each new cell within 2x of lstm's time.
2. With --impls, the recurrent stack alone (forward + backward, same sizes) for
   each way of running the step loop: "manual" (the hand-written backward, what
   the LM uses), "script" (torch.jit.script), "loop" (plain autograd); with
   --compile also torch.compile (its compile time, paid in every new process, is
   printed beside it).
3. With --ppl-steps N, each cell trains N steps from the same seed and its PTB
   test perplexity is printed (the same budget for all).

    python benchmarks/bench_cells.py                       # ~1 minute of CPU
    python benchmarks/bench_cells.py --impls --compile     # + ~1 minute of compiling
    python benchmarks/bench_cells.py --steps 0 --ppl-steps 1000

Times are CPU seconds of this process (time.process_time): on a machine shared
with other jobs they vary less than wall time. 1 thread (torch.set_num_threads(1))
unless --threads. Data: /work/shared/data/ptb
(see its SOURCE.md), or random ids of a 10k vocabulary with --random. One TSV
table on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PTB = REPO.parent / "shared" / "data" / "ptb"
CELLS = ("lstm", "lstm-peephole", "cifg")
T, B, H, L = 35, 20, 200, 2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ptb_ids(vocab: dict | None = None, split: str = "train"):
    """PTB as one id sequence, an <eos> after each line (pytorch/examples' reading)."""
    import torch

    words = (PTB / f"ptb.{split}.txt").read_text(encoding="ascii").replace("\n", " <eos> ").split()
    if vocab is None:
        vocab = {w: i for i, w in enumerate(sorted(set(words)))}
    return torch.tensor([vocab[w] for w in words]), vocab


def batchify(ids, batch: int):
    n = ids.numel() // batch
    return ids[: n * batch].view(batch, n).t().contiguous()  # (N, batch)


def make_model(cell: str, vocab_size: int, seed: int):
    import torch

    from seqtool.lm.model import LMConfig, RNNLM

    torch.manual_seed(seed)
    return RNNLM(LMConfig(vocab_size=vocab_size, cell=cell, emb=H, hidden=H, layers=L, dropout=0.2, tie=True))


def train_steps(model, data, start: int, steps: int, hidden=None):
    """SGD lr 20, clip 0.25 (the ptb-small recipe); returns (CPU seconds, tokens, next start, hidden)."""
    import torch
    from torch.nn import functional as F

    from seqtool.lm.model import detach_hidden

    model.train()
    V = model.config.vocab_size
    hidden = hidden if hidden is not None else model.init_hidden(data.size(1))
    params = list(model.parameters())
    tokens = 0
    t0 = time.process_time()
    for _ in range(steps):
        if start + T + 1 > data.size(0):
            start, hidden = 0, model.init_hidden(data.size(1))
        x, y = data[start:start + T], data[start + 1:start + 1 + T]
        hidden = detach_hidden(hidden)
        logits, hidden = model(x, hidden)
        loss = F.cross_entropy(logits.view(-1, V), y.reshape(-1))
        model.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.25, foreach=True)
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-20.0)
        loss.item()
        tokens += y.numel()
        start += T
    return time.process_time() - t0, tokens, start, hidden


def perplexity(model, data) -> float:
    import torch
    from torch.nn import functional as F

    model.eval()
    hidden, total, count = model.init_hidden(data.size(1)), 0.0, 0
    with torch.inference_mode():
        for i in range(0, data.size(0) - 1, T):
            x, y = data[i:i + T], data[i + 1:i + 1 + T]
            x = x[: y.size(0)]
            logits, hidden = model(x, hidden)
            total += F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return math.exp(total / count)


def stack_times(impls: list[str], reps: int, rounds: int = 3) -> list[tuple[str, str, float, float]]:
    """(cell, impl, first call ms (wall), steady ms per forward+backward (CPU)) of the 2x200 stack
    alone; the configurations take turns, block by block, and each keeps its best block."""
    import torch

    from seqtool.layers.cells import LSTMVariant

    x = torch.randn(T, B, H)
    hidden = (torch.zeros(L, B, H), torch.zeros(L, B, H))
    runs = []
    for cell in CELLS:
        for impl in (["fused"] if cell == "lstm" else impls):
            torch.manual_seed(0)
            rnn = (torch.nn.LSTM(H, H, L, dropout=0.2) if cell == "lstm"
                   else LSTMVariant(cell, H, H, L, dropout=0.2, impl=impl))

            def once(rnn=rnn):
                out, (h, c) = rnn(x, hidden)
                out.sum().backward()

            t0 = time.perf_counter()  # wall time: torch.compile compiles in worker processes too
            once()
            first = time.perf_counter() - t0
            once()
            runs.append([cell, impl, first * 1e3, math.inf, once])
            log(f"stack {cell} {impl}: first call {first * 1e3:.0f} ms")
    for _ in range(rounds):
        for run in runs:
            t0 = time.process_time()
            for _ in range(reps):
                run[4]()
            run[3] = min(run[3], (time.process_time() - t0) / reps * 1e3)
    for cell, impl, _, ms, _ in runs:
        log(f"stack {cell} {impl}: {ms:.1f} ms per step")
    return [tuple(run[:4]) for run in runs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=10, help="training steps per cell per round (0: skip)")
    ap.add_argument("--rounds", type=int, default=8, help="rounds: the cells take turns, each keeps its best")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--random", action="store_true", help="random ids of a 10k vocabulary instead of PTB")
    ap.add_argument("--impls", action="store_true", help="also time the stack alone for each step-loop impl")
    ap.add_argument("--compile", action="store_true", help="with --impls: torch.compile too (slow to compile)")
    ap.add_argument("--reps", type=int, default=10, help="--impls: steps per timing block")
    ap.add_argument("--ppl-steps", type=int, default=0, help="train each cell N steps, print PTB test perplexity")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ppl-cells", default=",".join(CELLS),
                    help="--ppl-steps: the cells to train, comma-separated (lstm's result is deterministic "
                         "per seed and thread count, so a long comparison can be run one cell at a time)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.random:
        g = torch.Generator().manual_seed(args.seed)
        train, vocab_size, test = torch.randint(0, 10_000, (200_000,), generator=g), 10_000, None
    else:
        train, vocab = ptb_ids()
        test, _ = ptb_ids(vocab, "test")
        vocab_size = len(vocab)
    data = batchify(train, B)
    log(f"{'random' if args.random else 'PTB'}: {train.numel():,} train tokens, vocabulary {vocab_size:,}, "
        f"{args.threads} thread(s)")
    print("section\tcell\timpl\tvalue\tunit\tratio_to_lstm")

    if args.steps:
        models = {cell: make_model(cell, vocab_size, args.seed) for cell in CELLS}
        state = {cell: (0, None) for cell in CELLS}
        best = {cell: 0.0 for cell in CELLS}
        for cell in CELLS:  # warm-up (first-call allocations)
            train_steps(models[cell], data, 0, 2)
        for r in range(args.rounds):
            for cell in CELLS:
                start, hidden = state[cell]
                secs, tokens, start, hidden = train_steps(models[cell], data, start, args.steps, hidden)
                state[cell] = (start, hidden)
                best[cell] = max(best[cell], tokens / secs)
                log(f"round {r + 1} {cell}: {tokens / secs:,.0f} tokens per CPU second")
        for cell in CELLS:
            # ratio of times per token: how many times slower than the fused LSTM
            print(f"train_step\t{cell}\t{'fused' if cell == 'lstm' else 'manual'}\t{best[cell]:.0f}\ttokens/cpu_s\t"
                  f"{best['lstm'] / best[cell]:.2f}")

    if args.impls:
        impls = ["manual", "script", "loop"] + (["compile"] if args.compile else [])
        rows = stack_times(impls, args.reps)
        fused = rows[0][3]
        for cell, impl, first, ms in rows:
            print(f"stack_fwd_bwd\t{cell}\t{impl}\t{ms:.1f}\tms/step\t{ms / fused:.2f}")
            if impl == "compile":
                print(f"stack_first_call_wall\t{cell}\t{impl}\t{first / 1e3:.1f}\ts\t")

    if args.ppl_steps:
        if test is None:
            raise SystemExit("--ppl-steps needs PTB (not --random)")
        test_data = batchify(test, 10)
        ppl = {}
        cells = [c for c in args.ppl_cells.split(",") if c]
        if not set(cells) <= set(CELLS):
            raise SystemExit(f"--ppl-cells: choose from {', '.join(CELLS)}")
        for cell in cells:
            model = make_model(cell, vocab_size, args.seed)
            secs, *_ = train_steps(model, data, 0, args.ppl_steps)
            ppl[cell] = perplexity(model, test_data)
            log(f"{cell}: {args.ppl_steps} steps in {secs:.0f} s, test perplexity {ppl[cell]:.1f}")
        for cell in cells:
            ratio = f"{ppl[cell] / ppl['lstm']:.2f}" if "lstm" in ppl else ""
            print(f"test_ppl_after_{args.ppl_steps}_steps\t{cell}\t\t{ppl[cell]:.1f}\tppl\t{ratio}")


if __name__ == "__main__":
    main()
