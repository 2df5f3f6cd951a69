"""Benchmark: seqtool train-lm vs a plain PyTorch training loop, and seqtool sample.

All trainers run in this one process on the same data (the train split, batchified
into 20 columns, bptt 35) and the same model (2-layer LSTM, 200 units, tied,
dropout 0.2, SGD lr 20, clip 0.25): the plain loop is pytorch/examples
word_language_model's inner loop (full softmax). seqtool runs that recipe
(--preset ptb-small) twice: with --softmax full (parity) and --softmax adaptive.
Rounds alternate (plain, seqtool full, seqtool adaptive, plain, ...) so a machine
whose load changes affects all alike; the best round of each is compared.
After each run the model is scored on the validation split (exact perplexity,
state carried, 10 columns, bptt 35), so with enough --steps the rounds also
compare perplexity after the same number of training tokens.

--ppl-tokens N adds one more comparison, plain vs seqtool adaptive only: each
trains from scratch on the first N training tokens (one pass, N / 700 steps),
then both are scored on the validation split.

Then, unless --sample-length 0, `seqtool sample` is timed on the model seqtool
just trained (adaptive): time from launch to the first token on stdout, tokens/s.

Corpora (--corpus):
  ptb  /work/shared/data/ptb (see its SOURCE.md): 10k words.
  bbc  the 2,225 articles of /work/shared/data/bbc_news_summary/News Articles,
       made at benchmark time into a temporary folder (never committed): title
       line dropped, one paragraph per line, read with errors='replace' (sport/199.txt
       holds one Latin-1 byte), split by article with a fixed seed (--split-seed)
       into train/valid/test 90/5/5. Tokens are train-lm's word level (whitespace,
       case and punctuation kept, as a user's own text would be): a large vocabulary.

    python benchmarks/bench_lm.py                 # PTB, 150 steps per round, 2 rounds
    python benchmarks/bench_lm.py --steps 400 --rounds 3 --threads 2
    python benchmarks/bench_lm.py --corpus bbc --steps 30 --rounds 1 --ppl-tokens 140000 --sample-length 0

--budget T: the same-wall-time comparison of issue 17 instead: each trainer of --presets
(plain = the pytorch/examples main loop with its lr/4 on a plateau; defaults = `seqtool
train-lm` with no options; or preset names) trains for T, one after another, and is scored
on valid and test (best model). The 60-minute runs of issue 17 (4 hours in all; a quiet
machine, nothing else running):

    OMP_NUM_THREADS=2 python benchmarks/bench_lm.py --corpus ptb --budget 60m --presets plain,cpu-hour --threads 2
    OMP_NUM_THREADS=2 python benchmarks/bench_lm.py --corpus bbc --budget 60m --presets plain,cpu-hour --threads 2

Prints one TSV table on stdout; progress on stderr.
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
BBC = REPO.parent / "shared" / "data" / "bbc_news_summary" / "News Articles"
STEP_TOKENS = 35 * 20  # tokens per training step (bptt x batch)


def make_bbc(folder: Path, seed: int) -> dict[str, Path]:
    """The BBC articles as train/valid/test text files in `folder`, split by article
    (90/5/5, shuffled with `seed`): the title line dropped, one paragraph per line."""
    import random

    articles = sorted(BBC.glob("*/*.txt"), key=lambda p: (p.parent.name, int(p.stem)))
    if len(articles) != 2225:
        raise SystemExit(f"{BBC}: expected 2,225 articles, found {len(articles)}")
    random.Random(seed).shuffle(articles)
    n_valid = n_test = round(0.05 * len(articles))
    parts = {"valid": articles[:n_valid], "test": articles[n_valid:n_valid + n_test],
             "train": articles[n_valid + n_test:]}
    paths = {}
    for split, files in parts.items():
        paths[split] = folder / f"bbc.{split}.txt"
        with open(paths[split], "w", encoding="utf-8") as out:
            for path in files:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]  # no title
                out.writelines(line.strip() + "\n" for line in lines if line.strip())
    return paths


def corpus_paths(name: str, folder: Path, seed: int) -> dict[str, Path]:
    if name == "bbc":
        return make_bbc(folder, seed)
    return {split: PTB / f"ptb.{split}.txt" for split in ("train", "valid", "test")}


def plain_loop(train_ids, vocab_size: int, steps: int, seed: int, valid_ids=None):
    """pytorch/examples word_language_model, train(): returns (tokens/s, tokens per CPU second,
    validation perplexity or None)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = _plain_model(vocab_size)
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
        hidden, count = _plain_step(model, criterion, data, i, hidden, vocab_size, 20.0)
        tokens += count
    rate, cpu_rate = tokens / (time.perf_counter() - t0), tokens / (time.process_time() - cpu0)
    return rate, cpu_rate, None if valid_ids is None else plain_perplexity(model, valid_ids, vocab_size)


def _plain_step(model, criterion, data, i: int, hidden, vocab_size: int, lr: float):
    """One batch of pytorch/examples' train(): bptt 35 from row i, SGD with clip 0.25.
    Returns the new hidden state and the number of target tokens."""
    import torch

    seq_len = min(35, len(data) - 1 - i)
    x, y = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].reshape(-1)
    model.zero_grad()
    hidden = tuple(h.detach() for h in hidden)
    output, hidden = model(x, hidden)
    loss = criterion(torch.log_softmax(output.view(-1, vocab_size), -1), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-lr)
    loss.item()  # the example reads the loss every batch for its log
    return hidden, y.numel()


def plain_budget(train_ids, valid_ids, test_ids, vocab_size: int, seconds: float, seed: int) -> dict:
    """pytorch/examples word_language_model's main loop for a wall-clock budget: epochs of
    train() (SGD lr 20, clip 0.25), evaluate() on valid after each, the best model kept,
    lr / 4 when valid does not improve; when the time is up mid-epoch the partial epoch is
    scored too. Returns tokens/s, epochs, best valid and its test perplexity."""
    import copy

    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = _plain_model(vocab_size)
    criterion = nn.NLLLoss()
    n = train_ids.numel() // 20
    data = train_ids[: n * 20].view(20, -1).t().contiguous()  # (T, 20)
    lr, best, best_state, epochs, tokens = 20.0, float("inf"), None, 0.0, 0
    t0 = time.perf_counter()
    starts = list(range(0, data.size(0) - 1, 35))
    while time.perf_counter() - t0 < seconds:
        model.train()
        hidden = (torch.zeros(2, 20, 200), torch.zeros(2, 20, 200))
        done = 0
        for i in starts:
            if time.perf_counter() - t0 >= seconds:
                break
            hidden, count = _plain_step(model, criterion, data, i, hidden, vocab_size, lr)
            tokens += count
            done += 1
        epochs += done / len(starts)
        valid = plain_perplexity(model, valid_ids, vocab_size)
        print(f"plain: epoch {epochs:.2f} valid ppl {valid:.2f} lr {lr:g} ({time.perf_counter() - t0:.0f} s)",
              file=sys.stderr, flush=True)
        if valid < best:
            best, best_state = valid, copy.deepcopy(model.state_dict())
        else:
            lr /= 4.0
    train_s = time.perf_counter() - t0
    model.load_state_dict(best_state)
    return {"tokens_per_s": tokens / train_s, "epochs": epochs, "valid_ppl": best,
            "test_ppl": plain_perplexity(model, test_ids, vocab_size)}


def _plain_model(vocab_size: int):
    """pytorch/examples RNNModel('LSTM', V, 200, 200, 2, dropout=0.2, tie_weights=True)."""
    from torch import nn

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

    return Plain()


def seqtool_budget(paths: dict, preset: str | None, seconds: float, seed: int, threads: int) -> dict:
    """`seqtool train-lm --preset P --max-time T` (preset None: the plain defaults) on the
    same splits, --test scored under the best model."""
    from seqtool.lm.api import train_lm
    from seqtool.lm.options import resolve_options

    given = {"corpus": [str(paths["train"])], "valid": str(paths["valid"]), "test": str(paths["test"]),
             "seed": seed, "device": "cpu", "name": f"budget-{preset or 'defaults'}", "max_time": seconds,
             "threads": str(threads), "epochs": 1000}
    result = train_lm(resolve_options(given, preset))
    return {"tokens_per_s": result.train_tokens_per_s, "epochs": result.epochs,
            "valid_ppl": result.best_valid_ppl, "test_ppl": result.test_ppl}


def budget_main(args, paths: dict, train, valid, vocab) -> None:
    """--budget: each trainer for the same wall time on the same splits, one after another."""
    import torch

    from seqtool.core.options import parse_duration
    from seqtool.lm.data import encode_files
    from seqtool.lm.options import PRESETS

    seconds = parse_duration(args.budget)
    vocab_size = len(vocab)
    corpus = torch.from_numpy(encode_files([str(paths["test"])], vocab, "word"))
    load, rows = [os.getloadavg()[0]], {}
    for name in args.presets.split(","):
        print(f"{name}: {seconds:.0f} s ...", file=sys.stderr, flush=True)
        if name == "plain":
            rows[name] = plain_budget(train, valid, corpus, vocab_size, seconds, args.seed)
        elif name == "defaults" or name in PRESETS:
            rows[name] = seqtool_budget(paths, None if name == "defaults" else name, seconds, args.seed,
                                        args.threads)
        else:
            raise SystemExit(f"--presets: unknown {name!r} (plain, defaults, {', '.join(PRESETS)})")
        load.append(os.getloadavg()[0])
        print(f"{name}: {rows[name]}", file=sys.stderr, flush=True)
    print("trainer\tbudget_s\tepochs\ttokens_per_s\tvalid_ppl\ttest_ppl\ttest_ratio_vs_plain")
    peer = rows.get("plain", {}).get("test_ppl")
    for name, r in rows.items():
        ratio = f"{r['test_ppl'] / peer:.3f}" if peer and r["test_ppl"] else ""
        print(f"{name}\t{seconds:.0f}\t{r['epochs']:.2f}\t{r['tokens_per_s']:,.0f}\t{r['valid_ppl']:.2f}\t"
              f"{r['test_ppl']:.2f}\t{ratio}")
    print(f"# {args.corpus}, V={vocab_size:,}, threads {args.threads}, load average (1 min) at start/after each: "
          + " ".join(f"{x:.2f}" for x in load) + f" (cores {os.cpu_count()})")


def plain_perplexity(model, ids, vocab_size: int) -> float:
    """pytorch/examples evaluate(): exp(mean NLL) over 10 columns, bptt 35, state carried."""
    import math

    import torch
    from torch.nn import functional as F

    n = ids.numel() // 10
    data = ids[: n * 10].view(10, -1).t().contiguous()  # (T, 10)
    hidden = (torch.zeros(2, 10, 200), torch.zeros(2, 10, 200))
    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for i in range(0, data.size(0) - 1, 35):
            seq_len = min(35, len(data) - 1 - i)
            x, y = data[i:i + seq_len], data[i + 1:i + 1 + seq_len].reshape(-1)
            output, hidden = model(x, hidden)
            total += F.cross_entropy(output.view(-1, vocab_size), y, reduction="sum").item()
            count += y.numel()
    return math.exp(total / count)


def seqtool_round(paths: dict, steps: int, seed: int, name: str, softmax: str, threads: int,
                  score: bool = True) -> tuple[float, float, float, float | None]:
    """Our trainer on the same data and model (--preset ptb-small: SGD lr 20, clip 0.25)
    with this --softmax, stopped after `steps` steps (checkpoint and model written as on
    Ctrl-C). Returns (loop tokens/s, loop tokens per CPU second, whole-call wall seconds,
    validation perplexity of the stored model or None)."""
    from seqtool.lm.api import evaluate_file, train_lm
    from seqtool.lm.options import resolve_options

    opts = resolve_options({"corpus": [str(paths["train"])], "valid": str(paths["valid"]), "seed": seed,
                            "device": "cpu", "name": name, "max_steps": steps, "softmax": softmax,
                            "threads": str(threads)}, "ptb-small")
    t0 = time.perf_counter()
    result = train_lm(opts)
    wall = time.perf_counter() - t0
    valid = evaluate_file(name, [str(paths["valid"])], bptt=35, batch_size=10).perplexity if score else None
    return result.train_tokens_per_s, result.loop_tokens / result.loop_cpu_s, wall, valid


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
    parser.add_argument("--corpus", choices=("ptb", "bbc"), default="ptb")
    parser.add_argument("--split-seed", type=int, default=17, help="the BBC train/valid/test split by article")
    parser.add_argument("--steps", type=int, default=150, help="training steps per round (35x20 tokens each)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, pinned for every trainer")
    parser.add_argument("--ppl-tokens", type=int, default=0,
                        help="also train plain and seqtool adaptive on the first N training tokens, then "
                             "compare validation perplexity (0: skip)")
    parser.add_argument("--sample-length", type=int, default=3000, help="0: do not time `seqtool sample`")
    parser.add_argument("--budget", help="instead of the step rounds: train each of --presets for this wall "
                                         "time (60m, 8m) and report epochs, tokens/s, valid and test perplexity")
    parser.add_argument("--presets", default="plain,cpu-hour",
                        help="with --budget: plain (the pytorch/examples loop), defaults, or preset names")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-lm-")
    os.environ["SEQTOOL_HOME"] = home
    import torch

    torch.set_num_threads(args.threads)
    from seqtool.core.io import expand_inputs
    from seqtool.lm.data import build_corpus, encode_files

    paths = corpus_paths(args.corpus, Path(home), args.split_seed)
    corpus = build_corpus(expand_inputs([str(paths["train"])]), "word")
    train = torch.from_numpy(corpus.train)
    valid = torch.from_numpy(encode_files([str(paths["valid"])], corpus.vocab, "word"))
    vocab_size = len(corpus.vocab)
    print(f"{args.corpus}: vocabulary {vocab_size:,} (train {train.numel():,} tokens incl. <eos>, valid "
          f"{valid.numel():,}, valid <unk> {float((valid == 0).float().mean()):.2%})", file=sys.stderr, flush=True)
    if args.budget:
        return budget_main(args, paths, train, valid, corpus.vocab)
    load = [os.getloadavg()[0]]
    # warm-up: the first torch.optim use imports torch._dynamo (seconds); not a per-token cost
    seqtool_round(paths, 2, 0, "warmup", "adaptive", args.threads, score=False)
    plain_loop(train, vocab_size, 2, 0)
    runs = {"plain": [], "full": [], "adaptive": []}  # (tok/s, tok/CPU-s, valid ppl)
    walls = []
    for r in range(args.rounds):
        runs["plain"].append(plain_loop(train, vocab_size, args.steps, 1, valid))
        for softmax in ("full", "adaptive"):
            rate, cpu_rate, wall, ppl = seqtool_round(paths, args.steps, 1, f"bench-{softmax}", softmax,
                                                      args.threads)
            runs[softmax].append((rate, cpu_rate, ppl))
            walls.append(wall)
        load.append(os.getloadavg()[0])
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1][0]:,.0f} tok/s ({v[-1][1]:,.0f}/CPU-s, valid ppl "
                                              f"{v[-1][2]:.1f})" for k, v in runs.items()), file=sys.stderr,
              flush=True)
    best = {k: max(v[0] for v in rs) for k, rs in runs.items()}
    best_cpu = {k: max(v[1] for v in rs) for k, rs in runs.items()}
    desc = f"{args.corpus}, V={vocab_size:,}, LSTM 2x200 tied, bptt 35, batch 20, {args.steps} steps"
    rows = []
    for k in ("full", "adaptive"):
        rows.append((f"train tokens/s wall, seqtool --softmax {k} vs plain ({desc}, best of {args.rounds})",
                     best["plain"], best[k]))
        rows.append((f"train tokens per CPU-second, seqtool --softmax {k} vs plain (best of {args.rounds})",
                     best_cpu["plain"], best_cpu[k]))
    last = {k: rs[-1][2] for k, rs in runs.items()}
    for k in ("full", "adaptive"):
        rows.append((f"valid perplexity after {args.steps * STEP_TOKENS:,} tokens, seqtool --softmax {k} vs "
                     f"plain (last round)", last["plain"], last[k]))
    if args.ppl_tokens:
        steps = max(1, args.ppl_tokens // STEP_TOKENS)
        plain_rate, _, plain_ppl = plain_loop(train, vocab_size, steps, 2, valid)
        rate, _, _, ppl = seqtool_round(paths, steps, 2, "bench-ppl", "adaptive", args.threads)
        load.append(os.getloadavg()[0])
        rows.append((f"train tokens/s wall over {steps * STEP_TOKENS:,} tokens, seqtool adaptive vs plain",
                     plain_rate, rate))
        rows.append((f"valid perplexity after {steps * STEP_TOKENS:,} tokens (one pass), seqtool adaptive vs "
                     f"plain (target ratio <= 1.03)", plain_ppl, ppl))
    print("figure\tpeer\tseqtool\tratio")
    for label, peer, ours in rows:
        print(f"{label}\t{peer:,.2f}\t{ours:,.2f}\t{ours / peer:.3f}")
    if args.sample_length:
        sample_rows(home, args.sample_length)
    print(f"# torch threads {torch.get_num_threads()}, load average (1 min) at start/after each round: "
          + " ".join(f"{x:.2f}" for x in load) + f" (cores {os.cpu_count()})")


def sample_rows(home: str, length: int) -> None:
    """`seqtool sample` on the adaptive model just trained: latency and speed rows."""
    name = "bench-adaptive"
    runs = [sample_timing(name, 1, home) for _ in range(3)]
    latency = statistics.median(r[0] for r in runs)
    startup_cpu = statistics.median(r[2] for r in runs)
    long_runs = [sample_timing(name, length, home) for _ in range(3)]
    speed = statistics.median(r[1] for r in long_runs)
    cpu_speed = (length - 1) / max(statistics.median(r[2] for r in long_runs) - startup_cpu, 1e-9)
    config = json.loads((Path(home) / "models" / name / "config.json").read_text())
    print(f"sample first-token latency, wall s (median of 3, vocab {config['config']['vocab_size']})\t"
          f"1.5 (target)\t{latency:.3f}\t{1.5 / latency:.2f}")
    print(f"sample start-up CPU s (launch, load, 1 token, exit)\t1.5 (target)\t{startup_cpu:.3f}\t"
          f"{1.5 / startup_cpu:.2f}")
    print(f"sample tokens/s wall (median of 3, {length} tokens)\t2000 (target)\t{speed:,.0f}\t{speed / 2000:.2f}")
    print(f"sample tokens per CPU-second\t2000 (target)\t{cpu_speed:,.0f}\t{cpu_speed / 2000:.2f}")


if __name__ == "__main__":
    main()
