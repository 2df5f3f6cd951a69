"""classify architectures and their peers on the same splits, 5 seeds: TREC, SST-2, MR (10-fold CV).

    python benchmarks/bench_classify_arch.py --out arch.jsonl                     # the full grid (hours on 1 core)
    python benchmarks/bench_classify_arch.py --sets trec,sst2 --out a.jsonl       # one process per part:
    python benchmarks/bench_classify_arch.py --sets mr --configs rnn --seeds 0 --out b.jsonl   # ...run 2 at a time
    python benchmarks/bench_classify_arch.py --report a.jsonl b.jsonl              # the tables, from the rows
    python benchmarks/bench_classify_arch.py --speed --configs rnn,cnn             # predict sentences/s on MR

Configs (what a user types): `rnn`, `cnn`, `cnn-rnn`, `rnn+cnn` are `classify train --arch X` with every other
option at its default (so they are the candidates for the default architecture); `kim` is Kim 2014's
CNN-rand recipe, `--arch cnn --emb 300 --batch-size 50 --ngrams 0 --lr 1e-3` (dropout 0.5, widths
3,4,5 x 100, max-norm 3 are the defaults; Adam where Kim used Adadelta).

Protocol, as `classify train` / `classify cv` run it (seqtool.classify.train.fit itself, 1 torch thread):
- TREC: train_5500 -> TREC_10, 6 coarse classes; a stratified 10% of train held out (seed 0) for early
  stopping, then the refit on all of train for the best epoch count (api.refit_epochs), as `train` does.
- SST-2: the 6,920 training sentences -> test, dev for early stopping, no refit (as `train --valid`).
  Kim's SST-2 also trained on the treebank's phrases, which /work/shared/data/sst2 does not have.
- MR: 10 folds (seqtool's kfold, seed 0), per fold the seed-0 10% hold-out of the rest and the refit,
  as `classify cv` does. --no-refit keeps the early-stopped model instead (Kim's protocol).
The splits (folds, hold-outs) are the same for every seed and every tool; the seed changes the model's
initialisation and batches (seqtool), `seed=` of fastText, `random_state` of NBSVM's liblinear.

Peers (bench_classify's code): TF-IDF(1,2)+LR with C chosen on the hold-out (deterministic: one figure),
fastText (wordNgrams 2, epoch/lr chosen on the hold-out with seed 0, then trained with each seed), NBSVM
(uni+bi, C 1, beta 0.25) on the two-class sets. Each refits on all training data.

Every finished unit (set, config, seed, fold) is one JSON line in --out; a rerun with the same --out
skips the units already there, so the grid can be run in parts, stopped and continued.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classify import (DATA, FT_GRID, LR_GRID, _accuracy, fasttext_fit, nbsvm_fit, read_label_first,  # noqa: E402
                            read_mr, tfidf_lr_fit)

KIM_CNN_RAND = {"trec": 91.2, "sst2": 82.7, "mr": 76.1}
CONFIGS = {"rnn": {"arch": "rnn"}, "cnn": {"arch": "cnn"}, "cnn-rnn": {"arch": "cnn-rnn"}, "linear": {"arch": "linear"},
           "rnn+cnn": {"arch": "rnn+cnn"}, "rnn+cnn+linear": {"arch": "rnn+cnn+linear"},
           "kim": {"arch": "cnn", "emb": 300, "batch_size": 50, "ngrams": 0, "lr": 1e-3, "dropout": 0.5}}
PEERS = ("tfidf_lr", "fasttext", "nbsvm")
FOLDS = 10


# ----------------------------------------------------------------------------- splits
def splits(name: str):
    """[(fold, train, valid, test, refit_data)] as seqtool Datasets; fold 0 for a fixed split."""
    from seqtool.classify.api import hold_out
    from seqtool.classify.data import Dataset
    from seqtool.classify.options import TrainOptions
    from seqtool.classify.split import kfold

    if name == "sst2":
        parts = [Dataset(*read_label_first(DATA / "sst2" / f"stsa.binary.{p}", "utf-8"), f"sst2 {p}")
                 for p in ("train", "dev", "test")]
        return [(0, parts[0], parts[1], parts[2], None)]
    if name == "trec":
        full = Dataset(*read_label_first(DATA / "trec" / "train_5500.label", "latin-1", coarse=True), "trec train")
        test = Dataset(*read_label_first(DATA / "trec" / "TREC_10.label", "latin-1", coarse=True), "trec test")
        return [(0, *hold_out(full, TrainOptions()), test, full)]
    data = Dataset(*read_mr(), "mr")  # the order (pos, then neg) bench_classify's `classify cv` reads
    out = []
    for k, test_idx in enumerate(kfold(data.labels, FOLDS, 0)):
        held = set(test_idx)
        rest = data.subset([i for i in range(len(data)) if i not in held])
        out.append((k + 1, *hold_out(rest, TrainOptions()), data.subset(test_idx), rest))
    return out


# ----------------------------------------------------------------------------- units of work
def run_seqtool(config: str, seed: int, train, valid, test, refit_data) -> dict:
    from seqtool.classify.api import predict_labels, refit_epochs
    from seqtool.classify.holdout import early_stop_summary, refit_options
    from seqtool.classify.options import TrainOptions
    from seqtool.classify.train import fit

    opts = TrainOptions(**CONFIGS[config], seed=seed, device="cpu")
    started, cpu = time.perf_counter(), time.process_time()
    early = fit(train, valid, opts)
    trained, epochs = early, 0
    if refit_data is not None:
        epochs = refit_epochs(early)
        trained = fit(refit_data, None, refit_options(opts, early_stop_summary(early)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"test_accuracy": round(_accuracy(predict_labels(trained, test.texts), test.labels), 5),
            "valid_accuracy": round(early.best_valid_accuracy, 5), "best_epoch": early.best_epoch,
            "epochs": len(early.history), "refit_epochs": epochs, "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu, 1),
            "seconds_per_epoch": round(statistics.mean(r["seconds"] for r in early.history), 2)}


def run_peers(seeds: list[int], train, valid, test, refit_data, tmp: Path) -> list[dict]:
    """One row per (peer, seed): configuration chosen on the hold-out, then trained on all of train."""
    sub = (train.texts, train.labels)
    dev = (valid.texts, valid.labels)
    full = (refit_data.texts, refit_data.labels) if refit_data is not None else sub
    test_ = (test.texts, test.labels)
    c = max(LR_GRID, key=lambda c: _accuracy(tfidf_lr_fit(sub, c)(dev[0]), dev[1]))
    ft = max(FT_GRID, key=lambda g: _accuracy(fasttext_fit(sub, *g, tmp)(dev[0]), dev[1]))
    lr = _accuracy(tfidf_lr_fit(full, c)(test_[0]), test_[1])
    rows = []
    for seed in seeds:
        rows.append({"config": "tfidf_lr", "seed": seed, "test_accuracy": round(lr, 5), "choice": {"C": c}})
        rows.append({"config": "fasttext", "seed": seed, "choice": {"epoch": ft[0], "lr": ft[1]},
                     "test_accuracy": round(_accuracy(fasttext_fit(full, *ft, tmp, seed)(test_[0]), test_[1]), 5)})
        if len(set(full[1])) == 2:
            rows.append({"config": "nbsvm", "seed": seed,
                         "test_accuracy": round(_accuracy(nbsvm_fit(full, seed=seed)(test_[0]), test_[1]), 5)})
    return rows


def done_units(path: str | None) -> set:
    if not path or not Path(path).exists():
        return set()
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return {(r["set"], r["config"], r["seed"], r["fold"]) for r in rows}


def grid(args) -> None:
    import torch

    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    configs = args.configs.split(",")
    folds = {int(f) for f in args.folds.split(",")} if args.folds else None
    done = done_units(args.out)
    peer_seeds = [int(s) for s in args.peer_seeds.split(",")]
    sets = {name: [p for p in splits(name) if folds is None or p[0] in folds or p[0] == 0]
            for name in args.sets.split(",")}
    with tempfile.TemporaryDirectory(prefix="bench-arch-") as tmp:
        for name, parts in sets.items():
            for fold, *data in parts if args.peers else ():
                if (name, "fasttext", peer_seeds[-1], fold) not in done:
                    for row in run_peers(peer_seeds, *data, Path(tmp)):
                        emit({"set": name, "fold": fold, **row}, args.out)
    for seed in seeds:  # seed 0 of every set and config first: the other seeds only refine the means
        for name, parts in sets.items():
            for config in configs:
                for fold, *data in parts:
                    if (name, config, seed, fold) in done:
                        continue
                    row = run_seqtool(config, seed, *data[:3], data[3] if args.refit else None)
                    emit({"set": name, "config": config, "seed": seed, "fold": fold, **row,
                          "refit": args.refit, "load": round(os.getloadavg()[0], 2)}, args.out)


def emit(row: dict, out: str | None) -> None:
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


# ----------------------------------------------------------------------------- report
def report(paths: list[str]) -> None:
    """Per set and config: the mean over folds for each seed, then mean ± sd over the seeds."""
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()]
    cells: dict = {}
    for r in rows:
        cells.setdefault((r["set"], r["config"]), {}).setdefault(r["seed"], {})[r["fold"]] = r
    print(f"{'set':5} {'config':9} {'mean':>6} {'sd':>5} seeds folds  {'per-seed means':32} cpu s  epochs (w: wall s)")
    for (name, config), by_seed in sorted(cells.items()):
        full = {s: f for s, f in by_seed.items() if len(f) == (FOLDS if name == "mr" else 1)}
        partial = {s: f for s, f in by_seed.items() if s not in full}
        for label, group in (("", full), (" (partial)", partial)):
            if not group:
                continue
            means = [100 * statistics.mean(r["test_accuracy"] for r in f.values()) for f in group.values()]
            units = [r for f in group.values() for r in f.values()]
            sd = statistics.stdev(means) if len(means) > 1 else 0.0
            # CPU seconds of the 1-thread process (about a free core's wall time); wall where not recorded
            cpu = [r["train_cpu_seconds"] for r in units if "train_cpu_seconds" in r]
            wall = [r["train_seconds"] for r in units if "train_seconds" in r]
            secs = f"{statistics.mean(cpu):.0f}" if cpu else f"{statistics.mean(wall):.0f}w" if wall else "-"
            epochs = statistics.mean(r["epochs"] + r["refit_epochs"] for r in units) if "epochs" in units[0] else 0
            print(f"{name:5} {config + label:9} {statistics.mean(means):6.2f} {sd:5.2f} {len(means):5} "
                  f"{statistics.mean(len(f) for f in group.values()):5.1f}  "
                  f"{' '.join(f'{m:.2f}' for m in means):32} {secs:>6} {epochs:6.1f}")
    print("Kim 2014 CNN-rand: " + ", ".join(f"{k} {v}" for k, v in KIM_CNN_RAND.items()))


# ----------------------------------------------------------------------------- predict speed
def speed(args) -> None:
    """`classify predict` on 20,000 MR sentences: whole process (imports and model load included) and
    in-process (predict_texts: featurization + logits + softmax), 1 thread, a model trained 1 epoch on
    MR fold 1 (the speed depends on the model's shape and vocabulary, not on how long it trained)."""
    import torch

    torch.set_num_threads(1)
    from seqtool.classify import predict as predict_mod, store
    from seqtool.classify.options import TrainOptions
    from seqtool.classify.train import fit
    from seqtool.core.store import ModelStore

    fold, train, valid, test, rest = splits("mr")[0]
    n = 20000
    texts = [test.texts[i % len(test)] for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="bench-arch-speed-") as tmp:
        os.environ["SEQTOOL_HOME"] = home = str(Path(tmp) / "home")
        big, one = Path(tmp) / "big.txt", Path(tmp) / "one.txt"
        big.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        one.write_text(texts[0] + "\n", encoding="utf-8")
        for config in args.configs.split(","):
            trained = fit(rest, None, TrainOptions(**CONFIGS[config], epochs=1, device="cpu"))
            name = config.replace("+", "-and-")  # a store name has no "+"
            store.save(ModelStore(), name, trained.model, trained.featurizer, trained.labels, training={},
                       metrics={}, force=True)
            clf = store.load(name)
            predict_mod.predict_texts(clf, texts[:2000])  # warm-up
            started, cpu = time.perf_counter(), time.process_time()
            predict_mod.predict_texts(clf, texts)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            env = dict(os.environ, SEQTOOL_HOME=home, SEQTOOL_PROGRESS="0", SEQTOOL_THREADS="1")
            runs = {}
            for label, path in (("one", one), ("big", big)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "seqtool", "classify", "predict", "--model", name, str(path)],
                               env=env, check=True, stdout=subprocess.DEVNULL)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                runs[label] = (time.perf_counter() - started,
                               after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            (one_wall, one_cpu), (big_wall, big_cpu) = runs["one"], runs["big"]
            # wall: on this shared machine; cpu: the process's own CPU seconds (1 thread), what a free
            # core would take, about
            emit({"speed": config, "sentences": n, "in_process_per_s": round(n / wall),
                  "in_process_per_cpu_s": round(n / cpu), "process_per_s": round(n / big_wall),
                  "process_per_cpu_s": round(n / big_cpu), "startup_wall_s": round(one_wall, 2),
                  "startup_cpu_s": round(one_cpu, 2),
                  "process_minus_startup_per_cpu_s": round(n / max(big_cpu - one_cpu, 1e-9)),
                  "load": round(os.getloadavg()[0], 2)}, args.out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="trec,sst2,mr")
    ap.add_argument("--configs", default="rnn,cnn,cnn-rnn,kim", help=f"of {', '.join(CONFIGS)}")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--peer-seeds", default="0,1,2,3,4", help="the peers' seeds (they are quick)")
    ap.add_argument("--folds", help="MR: only these folds (e.g. 1,2,3); default all 10")
    ap.add_argument("--no-peers", dest="peers", action="store_false", help="seqtool only")
    ap.add_argument("--no-refit", dest="refit", action="store_false",
                    help="keep the early-stopped model (TREC, MR) instead of the refit `classify train` does")
    ap.add_argument("--out", help="append one JSON line per unit here (and skip the units already in it)")
    ap.add_argument("--report", nargs="*", metavar="JSONL", help="print the tables of these result files")
    ap.add_argument("--speed", action="store_true", help="measure classify predict sentences/s on MR")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (shared); torch threads 1",
          file=sys.stderr)
    if args.report:
        report(args.report)
    elif args.speed:
        speed(args)
    else:
        grid(args)


if __name__ == "__main__":
    main()
