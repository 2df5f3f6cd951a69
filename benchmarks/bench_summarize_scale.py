"""summarize on long inputs (issue 22): 50,000 sentences of random text and 50,000 near-identical
ones, each summarized by one whole `seqtool summarize` process (start-up, reading, splitting,
terms, graph and ranking included); target at most 10 s each.

The inputs are made here, seeded, in a temporary folder (never committed):

* random: sentences of 8-20 words drawn from a Zipf(1.1) law over 20,000 made-up words,
  so a few words are in a large share of the sentences, as in real text;
* near-identical: one template sentence ("The committee approved the budget for district
  N after a long debate about W and V.") with the district number and two of 3,000 topic
  words varied: few sentences are exact repeats, most differ from the rest by a word or two.

Every method is run on each (textrank overlap, the default; textrank tfidf and bm25; lexrank;
lsa), and, as the check of quality, the default on a 6,000-sentence prefix is compared with
the exact all-pairs graph (neighbors past the size turned off): how many of the chosen
sentences agree, and the Spearman correlation of the scores.

    python benchmarks/bench_summarize_scale.py              # ~1-2 min
    python benchmarks/bench_summarize_scale.py --sentences 20000 --methods textrank
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gi", "bu", "fe", "ha", "jo"]
METHODS = {"textrank": [], "textrank-tfidf": ["--similarity", "tfidf"], "textrank-bm25": ["--similarity", "bm25"],
           "lexrank": ["--method", "lexrank"], "lsa": ["--method", "lsa"]}


def words(count: int, rng: np.random.Generator) -> list[str]:
    out, seen = [], set()
    while len(out) < count:
        w = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def random_text(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = np.array(words(20_000, rng))
    p = 1.0 / np.arange(1, len(vocab) + 1) ** 1.1
    p /= p.sum()
    lengths = rng.integers(8, 21, size=n)
    draws = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    out, pos = [], 0
    for length in lengths:
        ws = vocab[draws[pos:pos + length]]
        pos += length
        out.append(ws[0].capitalize() + " " + " ".join(ws[1:]) + ".")
    return out


def near_identical(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    topics = words(3_000, rng)
    a, b = rng.integers(0, len(topics), size=n), rng.integers(0, len(topics), size=n)
    return [f"The committee approved the budget for district {rng.integers(1, 500)} after a long debate "
            f"about {topics[i]} and {topics[j]}." for i, j in zip(a, b)]


def write_doc(sentences: list[str], path: Path, per_paragraph: int = 10) -> None:
    paragraphs = [" ".join(sentences[i:i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)]
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


def run(path: Path, extra: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + sys of the child: what a shared machine's load
    inflates least), exit code, and stdout (or the end of stderr on failure)."""
    import resource

    cmd = [sys.executable, "-m", "seqtool", "summarize", str(path), "-n", "5", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout if proc.returncode == 0 else proc.stderr[-300:]


def quality(sentences: list[str]) -> dict:
    """The default on these sentences with and without the long-input path (forced on and off)."""
    from scipy.stats import spearmanr

    from seqtool.summarize import SummaryOptions, neighbors, pipeline

    options = SummaryOptions(sentences=10)
    saved = neighbors.SCALE_MIN_SENTENCES, neighbors.EXACT_MAX_NODES
    try:
        neighbors.SCALE_MIN_SENTENCES, neighbors.EXACT_MAX_NODES = 10 ** 9, 10 ** 9
        exact = pipeline.summarize_sentences(sentences, options)
        t_exact = time.perf_counter()
        exact_scores = _scores(sentences)
        t_exact = time.perf_counter() - t_exact
        neighbors.SCALE_MIN_SENTENCES, neighbors.EXACT_MAX_NODES = 0, 0
        fast = pipeline.summarize_sentences(sentences, options)
        t_fast = time.perf_counter()
        fast_scores = _scores(sentences)
        t_fast = time.perf_counter() - t_fast
    finally:
        neighbors.SCALE_MIN_SENTENCES, neighbors.EXACT_MAX_NODES = saved
    same = len(set(exact.indices) & set(fast.indices))
    return {"agree": same, "of": len(exact.indices), "spearman": float(spearmanr(exact_scores, fast_scores)[0]),
            "exact_s": t_exact, "fast_s": t_fast}


def _scores(sentences):
    """The default method's score of every sentence, as summarize_sentences computes it."""
    from seqtool.summarize import methods, neighbors, pipeline

    terms = pipeline.document_terms(sentences, pipeline.load_stopwords(None))
    if len(sentences) > neighbors.SCALE_MIN_SENTENCES:
        first, inverse, copies = neighbors.merge_duplicates(terms)
        return methods.sentence_scores("textrank", [terms[i] for i in first], copies=copies)[inverse]
    return methods.sentence_scores("textrank", terms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=50_000)
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--quality", type=int, default=6_000, help="sentences of the exact comparison (0: skip)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores: wall times are under that load)", flush=True)
    kinds = {"random": random_text(args.sentences), "near-identical": near_identical(args.sentences)}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for kind, sentences in kinds.items():
            path = Path(tmp) / f"{kind}.txt"
            write_doc(sentences, path)
            for method in args.methods:
                seconds, cpu, code, out = run(path, METHODS[method])
                verdict = "ok" if code == 0 and seconds <= 10.0 else "OVER" if code == 0 else f"exit {code}"
                print(f"{kind:15} {args.sentences:>7} sentences  {method:15} {seconds:6.2f} s wall "
                      f"{cpu:6.2f} s CPU  (target <= 10 s wall: {verdict}; load {os.getloadavg()[0]:.1f})",
                      flush=True)
                if code != 0:
                    print(out, flush=True)
    if args.quality:
        for kind, sentences in kinds.items():
            q = quality(sentences[:args.quality])
            print(f"quality, {kind}, first {args.quality} sentences, default method: {q['agree']} of {q['of']} "
                  f"chosen sentences as the exact all-pairs graph's; Spearman of the scores {q['spearman']:.3f}; "
                  f"scoring {q['fast_s']:.2f} s vs exact {q['exact_s']:.2f} s", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
