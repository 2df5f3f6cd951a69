"""P@K / R@K of seqtool and fastText on the same test sets, each model scored the way
`fasttext test` scores (issue 20, classify): seqtool through `classify eval --k K --threshold P
--json`, fastText through `model.test(path, k, threshold)`.

    python benchmarks/bench_classify_topk.py                  # TREC coarse + a synthetic multi-label set
    python benchmarks/bench_classify_topk.py --sets multi     # the multi-label set only (~1 minute)

TREC: train_5500 -> TREC_10, coarse labels (6), seqtool with no tuning flags (seed 0), fastText
at one fixed configuration (epoch 25, lr 0.5, wordNgrams 2, seed 0), K = 1, 2, 3, threshold 0.
Multi-label: synthetic topic tagging (each of 6 topics present with probability 0.3, marked by
one of its 4 words, plus 5 filler words and, in 20% of texts, a word of an absent topic as
noise), 2,000 training and 500 test texts, seqtool (one-vs-all, detected from the data) against
fastText -loss ova (epoch 25, lr 0.5, seed 0), at K = all with threshold 0.5 and at K = 1.
One thread each (fastText thread=1; seqtool --threads 1).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def read_trec(path: Path) -> list[tuple[list[str], str]]:
    rows = []
    for line in path.read_bytes().decode("latin-1").split("\n"):
        if line.strip():
            label, text = line.split(None, 1)
            rows.append(([label.split(":")[0]], " ".join(text.split())))
    return rows


def synthetic(n: int, seed: int) -> list[tuple[list[str], str]]:
    rng = random.Random(seed)
    topics = {f"t{i}": [f"w{i}{j}" for j in range(4)] for i in range(6)}
    filler = [f"f{i}" for i in range(40)]
    rows = []
    while len(rows) < n:
        labels = [t for t in sorted(topics) if rng.random() < 0.3]
        if not labels:
            continue
        words = [rng.choice(topics[t]) for t in labels] + rng.sample(filler, 5)
        absent = [t for t in topics if t not in labels]
        if absent and rng.random() < 0.2:
            words.append(rng.choice(topics[rng.choice(absent)]))
        rng.shuffle(words)
        rows.append((labels, " ".join(words)))
    return rows


def write(path: Path, rows) -> str:
    path.write_text("".join(" ".join("__label__" + x for x in labels) + " " + text + "\n" for labels, text in rows),
                    encoding="utf-8")
    return str(path)


def seqtool(*args: str, home: str) -> str:
    env = dict(os.environ, SEQTOOL_HOME=home, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "seqtool", *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout


def compare(name: str, train: str, test: str, settings: list[tuple[int, float]], ft_args: dict, home: str) -> None:
    import fasttext

    seqtool("classify", "train", train, "--name", name, "--seed", "0", "--threads", "1", "--device", "cpu",
            home=home)
    model = fasttext.train_supervised(train, thread=1, verbose=0, seed=0, **ft_args)
    print(f"\n{name}: seqtool (defaults) vs fastText ({', '.join(f'{k}={v}' for k, v in ft_args.items())})")
    print("K\tthreshold\tN\tseqtool P@K\tfastText P@K\tratio\tseqtool R@K\tfastText R@K\tratio")
    for k, threshold in settings:
        ours = json.loads(seqtool("classify", "eval", test, "--model", name, "--k", str(k), "--threshold",
                                  str(threshold), "--json", "--device", "cpu", "--threads", "1", home=home))
        n, p, r = model.test(test, k=k, threshold=threshold)
        assert ours["examples"] == n, (ours["examples"], n)
        print(f"{'all' if k == -1 else k}\t{threshold}\t{n}\t{ours['precision_at_k']:.4f}\t{p:.4f}\t"
              f"{ours['precision_at_k'] / p:.3f}\t{ours['recall_at_k']:.4f}\t{r:.4f}\t{ours['recall_at_k'] / r:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="trec,multi", help="comma-separated: trec, multi")
    sets = ap.parse_args().sets.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        home = str(Path(tmp) / "home")
        if "trec" in sets:
            train = write(Path(tmp) / "trec.train.ft", read_trec(DATA / "trec" / "train_5500.label"))
            test = write(Path(tmp) / "trec.test.ft", read_trec(DATA / "trec" / "TREC_10.label"))
            compare("trec", train, test, [(1, 0.0), (2, 0.0), (3, 0.0)],
                    {"epoch": 25, "lr": 0.5, "wordNgrams": 2}, home)
        if "multi" in sets:
            train = write(Path(tmp) / "multi.train.ft", synthetic(2000, seed=0))
            test = write(Path(tmp) / "multi.test.ft", synthetic(500, seed=1))
            compare("multi", train, test, [(-1, 0.5), (1, 0.0), (2, 0.0)],
                    {"epoch": 25, "lr": 0.5, "loss": "ova"}, home)


if __name__ == "__main__":
    main()
