"""Benchmark: bf16 autocast on the CPU for train-lm's step (issue 17: "only if measured faster
at equal perplexity").

The same model (seqtool's RNNLM, 2x200 LSTM, tied, PTB's 10k words, --softmax adaptive and
full), the same data and seed, trained for --steps steps of bptt 35 x batch 20 with SGD lr 20
and clip 0.25 (ptb-small), once in float32 and once under torch.autocast("cpu",
dtype=torch.bfloat16); rounds alternate so a change of load hits both. Reported: training
tokens per CPU second and per wall second, and validation perplexity of the weights after
the same steps (scored in float32, as `--eval` would).

    OMP_NUM_THREADS=1 python benchmarks/bench_lm_bf16.py --steps 200 --rounds 2

Whether bf16 can pay depends on the CPU: without AVX512-BF16 / AMX instructions torch
converts to and from bf16 around float32 arithmetic. The script prints the CPU's flags.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PTB = REPO.parent / "shared" / "data" / "ptb"
MODES = ("fp32", "bf16", "bf16-no-onednn")


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    found = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(found) or "none of avx2/avx512f/avx512_bf16/amx_bf16"


def train(train_data, valid_data, vocab_size: int, softmax: str, steps: int, mode: str, seed: int):
    """mode: fp32, bf16 (autocast), bf16-no-onednn (autocast, torch's own LSTM kernels: on a CPU
    without bf16 instructions oneDNN has no bf16 LSTM and raises). None when the run fails."""
    import torch

    if mode == "bf16-no-onednn":
        with torch.backends.mkldnn.flags(enabled=False):
            return train(train_data, valid_data, vocab_size, softmax, steps, "bf16", seed)
    bf16 = mode == "bf16"

    from seqtool.lm.data import bptt_starts, get_window
    from seqtool.lm.model import LMConfig, RNNLM, detach_hidden
    from seqtool.lm.train import evaluate, ppl

    torch.manual_seed(seed)
    model = RNNLM(LMConfig(vocab_size=vocab_size, emb=200, hidden=200, layers=2, dropout=0.2, tie=True,
                           softmax=softmax))
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0, foreach=True)
    hidden = model.init_hidden(train_data.size(1), "cpu")
    model.train()
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    t0, c0, tokens = time.perf_counter(), time.process_time(), 0
    for step, start in enumerate(bptt_starts(train_data.size(0), 35)):
        if step == steps:
            break
        x, y = get_window(train_data, start, 35)
        try:
            with ctx():
                loss, hidden = model(x, detach_hidden(hidden), targets=y)
        except RuntimeError as exc:
            print(f"{mode}: {str(exc)[:120]}", file=sys.stderr, flush=True)
            return None
        optimizer.zero_grad(set_to_none=True)
        loss.float().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25, foreach=True)
        optimizer.step()
        tokens += y.numel()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return tokens / wall, tokens / cpu, ppl(evaluate(model, valid_data, 35))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--softmax", default="adaptive,full")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from seqtool.core.io import expand_inputs
    from seqtool.lm.data import batchify, build_corpus, encode_files

    corpus = build_corpus(expand_inputs([str(PTB / "ptb.train.txt")]), "word")
    train_data = batchify(corpus.train, 20, "ptb.train")
    valid = encode_files([str(PTB / "ptb.valid.txt")], corpus.vocab, "word")
    valid_data = batchify(valid[: 35 * 10 * 60], 10, "ptb.valid")  # 21k tokens: the same slice for all
    load = [os.getloadavg()[0]]
    rows = []
    for softmax in args.softmax.split(","):
        runs = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                got = train(train_data, valid_data, len(corpus.vocab), softmax, args.steps, mode, 1)
                runs[mode].append(got)
                load.append(os.getloadavg()[0])
                print(f"{softmax} {mode}: {got}", file=sys.stderr, flush=True)
        base = runs["fp32"]
        for mode in MODES[1:]:
            desc = f"{mode} vs fp32, {softmax} softmax, 2x200 LSTM, {args.steps} steps, best of {args.rounds}"
            if any(r is None for r in runs[mode]):
                rows.append((f"{desc}: the run fails (see stderr)", max(r[1] for r in base), float("nan")))
                continue
            rows.append((f"train tokens per CPU-second, {desc}", max(r[1] for r in base), max(r[1] for r in runs[mode])))
            rows.append((f"train tokens/s wall, {desc}", max(r[0] for r in base), max(r[0] for r in runs[mode])))
            rows.append((f"valid perplexity after {args.steps * 700:,} tokens, {desc}", base[-1][2], runs[mode][-1][2]))
    print("figure\tfloat32\tbf16\tratio")
    for label, peer, ours in rows:
        print(f"{label}\t{peer:,.2f}\t{ours:,.2f}\t{ours / peer:.3f}")
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, CPU flags: {cpu_flags()}; load average "
          "(1 min) at start/after each run: " + " ".join(f"{x:.2f}" for x in load) + f" (cores {os.cpu_count()})")


if __name__ == "__main__":
    main()
