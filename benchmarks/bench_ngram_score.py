"""Benchmark `seqtool ngram score` against the kenlm module on the same PTB 5-gram, in one run.

    python benchmarks/bench_ngram_score.py            # train the PTB 5-gram, then measure
    python benchmarks/bench_ngram_score.py --reps 5

Figures (tokens = words + one </s> per sentence, as KenLM's query counts them):
- opening the stored model: memory-mapped tables (today's store.load_model_dir) vs reading
  them whole (safetensors load_file, the former path), best of --reps;
- in-process scoring, load excluded: NgramModel.score on the 10x-repeated PTB test set (first
  run, which builds the hash tables, and best warm run) vs the kenlm module's Model.score
  loop over the same lines;
- whole process: `python -m seqtool ngram score ptb5 test10.txt` wall time, interpreter start
  and model opening included, vs a python process that loads the ARPA into kenlm and scores.
Each is also measured in CPU time (process_time; user + sys of the child process), which a
loaded shared machine disturbs far less than wall time. Threads pinned to 1 (OMP_NUM_THREADS,
SEQTOOL_THREADS); the load average is printed.
Data: ../shared/data/ptb (see SOURCE.md); the 10x test set is made in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTB = Path(os.environ.get("PTB_DIR", REPO.parent / "shared" / "data" / "ptb"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "SEQTOOL_THREADS": "1", "PYTHONPATH": str(REPO)}


def best(fn, reps: int, clock=time.perf_counter) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        start = clock()
        out = fn()
        times.append(clock() - start)
    return min(times), out


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    os.environ.update(OMP_NUM_THREADS="1", SEQTOOL_THREADS="1")
    work = Path(tempfile.mkdtemp(prefix="bench-ngram-score-"))
    rows = []
    try:
        _main(args, work, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    print("\n| figure | seqtool | kenlm module | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _main(args, work: Path, rows: list) -> None:
    import kenlm

    home = work / "home"
    os.environ["SEQTOOL_HOME"] = ENV["SEQTOOL_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    from seqtool.core.io import expand_inputs, iter_lines
    from seqtool.core.store import ModelStore
    from seqtool.core.tensors import load_tensors
    from seqtool.ngram import NgramConfig, load_ngram, train_ngram, write_arpa
    from seqtool.ngram import store as ngram_store

    print(f"CPU count {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    model = train_ngram(iter_lines(expand_inputs([str(PTB / "ptb.train.txt")])), NgramConfig(order=5))
    store = ModelStore()
    with store.lock("ptb5"):
        ngram_store.publish(model, "ptb5", training={}, store=store)
    arpa = work / "ptb5.arpa"
    write_arpa(model, arpa)
    test10 = work / "test10.txt"
    test10.write_text((PTB / "ptb.test.txt").read_text() * 10)
    lines = test10.read_text().splitlines()

    # 1. opening the stored model
    info = store.open("ptb5", kinds=("ngram",))
    mapped_s, _ = best(lambda: load_ngram("ptb5"), args.reps * 3)
    import seqtool.core.tensors as tensors

    real_map = tensors.map_tensors
    tensors.map_tensors = lambda path, origin=None: load_tensors(path, framework="np", origin=origin)
    try:
        read_s, _ = best(lambda: ngram_store.load_model_dir(info.path, info.config, "ptb5"), args.reps * 3)
        tensors.map_tensors = lambda path, origin=None: {k: v for k, v in load_tensors(
            path, framework="np", origin=origin).items() if not k.startswith("hash.")}
        first_old, _ = best(lambda: ngram_store.load_model_dir(info.path, info.config, "ptb5").score(lines),
                            args.reps)
    finally:
        tensors.map_tensors = real_map
    first_new, _ = best(lambda: load_ngram("ptb5").score(lines), args.reps)
    print(f"open + score the 10x test set once: memory-mapped with stored hash tables {first_new:.2f} s; "
          f"read whole, tables built on first use (the former path) {first_old:.2f} s", flush=True)
    rows.append(["open + first scoring of the 10x test set (hash tables stored vs built)",
                 f"{first_new:.2f} s (former path: {first_old:.2f} s)", "-", f"{first_old / first_new:.2f}x faster"])
    size_mb = sum(f.stat().st_size for f in info.path.iterdir()) / 2**20
    start = time.perf_counter()
    km = kenlm.Model(str(arpa))
    kenlm_load = time.perf_counter() - start
    print(f"open the stored PTB 5-gram ({size_mb:.0f} MB): memory-mapped {mapped_s * 1e3:.1f} ms, read whole "
          f"{read_s * 1e3:.1f} ms; kenlm.Model(ARPA) {kenlm_load:.2f} s", flush=True)
    rows.append([f"open the stored PTB 5-gram ({size_mb:.0f} MB), best of {args.reps * 3}",
                 f"{mapped_s * 1e3:.1f} ms memory-mapped (read whole: {read_s * 1e3:.1f} ms)",
                 f"kenlm.Model(ARPA) {kenlm_load:.2f} s (no binary: build_binary is not in the module)",
                 f"{read_s / mapped_s:.1f}x faster than reading whole"])

    # 2. in-process scoring, load excluded
    lm = load_ngram("ptb5")
    start = time.perf_counter()
    r = lm.score(lines)
    cold = time.perf_counter() - start
    warm, r = best(lambda: lm.score(lines), args.reps)

    def kenlm_score():
        score, total = km.score, 0.0
        for line in lines:
            total += score(line, bos=True, eos=True)
        return total

    ksecs, ktotal = best(kenlm_score, args.reps)
    # CPU time as well: on a shared machine wall time mostly measures the other jobs.
    cpu, _ = best(lambda: lm.score(lines), args.reps, time.process_time)
    kcpu, _ = best(kenlm_score, args.reps, time.process_time)
    assert abs(ktotal - r.log10_prob) < 1e-4 * len(lines), (ktotal, r.log10_prob)
    ours, cold_rate, theirs = r.tokens / warm, r.tokens / cold, r.tokens / ksecs
    print(f"in-process scoring of {r.tokens:,} tokens: seqtool {ours / 1e6:.2f} M tok/s warm, "
          f"{cold_rate / 1e6:.2f} first run; kenlm {theirs / 1e6:.2f} M tok/s; totals {r.log10_prob:.1f} vs "
          f"{ktotal:.1f}; perplexity {r.perplexity:.4f}", flush=True)
    rows.append([f"in-process scoring, 10x PTB test ({r.tokens:,} tokens), load excluded, best of {args.reps}",
                 f"{ours / 1e6:.2f} M tokens/s (first run after opening: {cold_rate / 1e6:.2f})",
                 f"Model.score loop {theirs / 1e6:.2f} M tokens/s", f"{ours / theirs:.2f}x (first run {cold_rate / theirs:.2f}x)"])
    print(f"the same in CPU time: seqtool {r.tokens / cpu / 1e6:.2f} M tok/s, kenlm {r.tokens / kcpu / 1e6:.2f}", flush=True)
    rows.append(["the same, tokens per CPU second (process_time, best of 3)", f"{r.tokens / cpu / 1e6:.2f} M tokens/s",
                 f"{r.tokens / kcpu / 1e6:.2f} M tokens/s", f"{kcpu / cpu:.2f}x"])

    # 3. whole process
    cmd = [sys.executable, "-m", "seqtool", "ngram", "score", "ptb5", str(test10)]
    kcmd = [sys.executable, "-c", "import kenlm, sys\nm = kenlm.Model(sys.argv[1])\n"
            "print(sum(m.score(l) for l in open(sys.argv[2])))", str(arpa), str(test10)]

    def run(c):
        return lambda: subprocess.run(c, env=ENV, check=True, capture_output=True, cwd=REPO)

    whole, _ = best(run(cmd), args.reps)
    kwhole, _ = best(run(kcmd), args.reps)
    wcpu, _ = best(run(cmd), args.reps, children_cpu)
    kwcpu, _ = best(run(kcmd), args.reps, children_cpu)
    print(f"whole process: seqtool ngram score {whole:.2f} s = {r.tokens / whole / 1e6:.2f} M tok/s; "
          f"python + kenlm (ARPA load included) {kwhole:.2f} s = {r.tokens / kwhole / 1e6:.2f} M tok/s", flush=True)
    rows.append([f"whole process, 10x PTB test, best of {args.reps}",
                 f"{whole:.2f} s = {r.tokens / whole / 1e6:.2f} M tokens/s",
                 f"python + kenlm.Model(ARPA) + score: {kwhole:.2f} s = {r.tokens / kwhole / 1e6:.2f} M tokens/s",
                 f"{kwhole / whole:.2f}x"])
    print(f"whole process in CPU time (user + sys): seqtool {wcpu:.2f} s = {r.tokens / wcpu / 1e6:.2f} M tok/s; "
          f"kenlm {kwcpu:.2f} s", flush=True)
    rows.append(["the same, CPU time (user + sys of the process)", f"{wcpu:.2f} s = {r.tokens / wcpu / 1e6:.2f} M tokens/s",
                 f"{kwcpu:.2f} s = {r.tokens / kwcpu / 1e6:.2f} M tokens/s", f"{kwcpu / wcpu:.2f}x"])


if __name__ == "__main__":
    main()
