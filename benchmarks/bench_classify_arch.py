"""classify architectures on the same splits: Kim's CNN-rand (`cnn`), `cnn-rnn` and today's `rnn`.

    python benchmarks/bench_classify_arch.py                                # trec,sst2 x cnn,cnn-rnn,rnn, seed 0
    python benchmarks/bench_classify_arch.py --sets trec --archs cnn --seeds 0,1,2
    python benchmarks/bench_classify_arch.py --archs cnn --cnn-ngrams 2     # CNN with the linear n-gram path on
    python benchmarks/bench_classify_arch.py --predict                      # + sentences/s of prediction

Harness: seqtool.classify.train.fit itself (its batches, Adam/SparseAdam, gradient clipping, early
stopping, best-epoch weights) with TrainOptions(arch=...), exactly what `classify train --arch` runs
(the max-norm after each step, the CNN's CPU inference path). The data readers, tokenizer and
features are seqtool's. No refit by default (the model kept is the best epoch on the validation set, as in
Kim 2014); --refit retrains TREC on train + held-out for that many epochs, as `classify train` does.

Protocols (Kim 2014): TREC train_5500 -> TREC_10, 6 coarse classes, a stratified 10% of train
held out for early stopping (seqtool's holdout, seeded); SST-2 sentences train -> test, dev for early
stopping. MR (10-fold CV) is not run: too long on this shared machine for now.

Kim's reference (CNN-rand): TREC 91.2, SST-2 82.7. Kim's SST-2 model was trained on the phrases of
the treebank as well as the sentences (an order of magnitude more examples); the data here has the
6,920 training sentences only (see /work/shared/data/sst2/SOURCE.md).

Measured 2026-12-02 (2 shared cores, load 2-10; one run per set/arch/seed, test accuracy %, mean ± sd
over seeds 0,1,2; TREC --epochs 10 --patience 3, SST-2 --epochs 8 --patience 2):

    set    cnn (Kim, no n-grams)  cnn + n-grams (--cnn-ngrams 2)  cnn-rnn        rnn (defaults)   Kim
    TREC   89.67 ± 0.42           91.00 ± 1.20                    89.40 ± 0.53   90.07 ± 1.14     91.2
    TREC   90.40 ± 0.92 (--refit)
    SST-2  80.74 ± 1.14           82.46 ± 0.77                    81.99 ± 1.33   82.56 ± 1.16     82.7 (phrases too)

    Adam 3e-3 instead of 1e-3 for the CNN: TREC 89.40 ± 0.85 (seeds 0,1), SST-2 80.01 (seed 0): no gain.
    One run, TREC, 2 epochs, quiet machine: s/epoch cnn 5.5, rnn 3.5, cnn-rnn 5.6; predict_logits
    sentences/s: cnn module 5,100, cnn infer_cnn 24,100, rnn (infer.py) 15,900, cnn-rnn 4,300.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classify import DATA, read_label_first  # noqa: E402 (same readers and decoding as bench_classify)

KIM_CNN_RAND = {"trec": 91.2, "sst2": 82.7}
# The CNN recipe (Kim 2014: d = 300, mini-batches of 50, dropout 0.5, no n-grams); Adam at 1e-3
# where Kim used Adadelta. The RNN runs with seqtool's defaults (TrainOptions()).
CNN_OPTIONS = dict(emb=300, batch_size=50, dropout=0.5, ngrams=0, lr=1e-3)
CNN_RNN_OPTIONS = dict(ngrams=2)


def load_set(name: str):
    from seqtool.classify.data import Dataset

    def ds(pair, origin):
        return Dataset(list(pair[0]), list(pair[1]), origin)

    if name == "trec":
        from seqtool.classify.api import hold_out
        from seqtool.classify.options import TrainOptions

        full = ds(read_label_first(DATA / "trec" / "train_5500.label", "latin-1", coarse=True), "trec train")
        test = ds(read_label_first(DATA / "trec" / "TREC_10.label", "latin-1", coarse=True), "trec test")
        train, valid = hold_out(full, TrainOptions())  # seed 0: the same split for every arch and seed
        return train, valid, test
    path = DATA / "sst2"
    return tuple(ds(read_label_first(path / f"stsa.binary.{part}", "utf-8"), f"sst2 {part}")
                 for part in ("train", "dev", "test"))


def options_for(arch: str, seed: int, args):
    from seqtool.classify.options import TrainOptions

    extra = {"cnn": {**CNN_OPTIONS, "ngrams": args.cnn_ngrams, "lr": args.cnn_lr}, "cnn-rnn": CNN_RNN_OPTIONS, "rnn": {}}[arch]
    return TrainOptions(**extra, arch=arch, epochs=args.epochs, patience=args.patience, seed=seed, device="cpu")


def test_accuracy(trained, data) -> float:
    import torch

    from seqtool.classify.infer import predict_logits

    index = {label: i for i, label in enumerate(trained.labels)}
    logits = predict_logits(trained.model, trained.featurizer.encode(data.texts))
    gold = torch.tensor([index.get(label, -1) for label in data.labels])
    return float((logits.argmax(1) == gold).float().mean())


def predict_speed(trained, data, n: int = 5000) -> dict:
    """Sentences/s of infer.predict_logits (the path `classify predict` takes today: the module for
    the CNNs) and, for `cnn`, of infer_cnn.predict_logits; featurization excluded, same sentences."""
    from seqtool.classify import infer, infer_cnn

    enc = trained.featurizer.encode([data.texts[i % len(data)] for i in range(n)])
    paths = {"predict_per_s": infer.predict_logits}
    if infer_cnn.supported(trained.model, "cpu"):
        paths["predict_fast_path_per_s"] = infer_cnn.predict_logits
    out = {}
    for key, predict in paths.items():
        predict(trained.model, enc)  # warm-up
        started = time.perf_counter()
        predict(trained.model, enc)
        out[key] = round(n / (time.perf_counter() - started))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="trec,sst2")
    ap.add_argument("--archs", default="cnn,cnn-rnn,rnn")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--cnn-ngrams", type=int, default=0, help="the CNN's linear n-gram path (0: off, Kim's model)")
    ap.add_argument("--cnn-lr", type=float, default=CNN_OPTIONS["lr"], help="the CNN's Adam learning rate")
    ap.add_argument("--refit", action="store_true",
                    help="TREC: after early stopping, train afresh on train + held-out for the best epoch count")
    ap.add_argument("--predict", action="store_true", help="also measure predict_logits sentences/s")
    ap.add_argument("--out", help="append one JSON line per run here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from seqtool.classify.data import Dataset
    from seqtool.classify.train import fit

    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (shared); torch threads 1",
          file=sys.stderr)
    summary: dict = {}
    for name in args.sets.split(","):
        train, valid, test = load_set(name)
        for arch in args.archs.split(","):
            for seed in seeds:
                opts = options_for(arch, seed, args)
                started = time.perf_counter()
                trained = fit(train, valid, opts)
                early = trained
                if args.refit and name == "trec":  # what `classify train` does without --valid
                    both = Dataset(train.texts + valid.texts, train.labels + valid.labels, "trec train")
                    epochs = trained.best_epoch
                    trained = fit(both, None, replace(opts, epochs=epochs, patience=epochs + 1))
                wall = time.perf_counter() - started
                acc = test_accuracy(trained, test)
                per_epoch = statistics.mean(r["seconds"] for r in early.history)
                row = {"set": name, "arch": arch, "seed": seed, "test_accuracy": round(acc, 4),
                       "valid_accuracy": round(early.best_valid_accuracy, 4), "best_epoch": early.best_epoch,
                       "epochs": len(early.history), "refit": trained is not early,
                       "seconds_per_epoch": round(per_epoch, 2),
                       "wall_seconds": round(wall, 1),
                       "valid_curve": [r["valid_accuracy"] for r in early.history], "options": {k: v for k, v in opts.to_dict().items()
                                                                   if k in ("emb", "batch_size", "lr", "ngrams")}}
                if args.predict and seed == seeds[0]:
                    row.update(predict_speed(trained, test))
                print(json.dumps(row), flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(row) + "\n")
                summary.setdefault((name, arch), []).append(row)
    print(f"\n{'set':5} {'arch':8} {'test acc (mean ± sd)':>22} {'Kim':>5} {'s/epoch':>8}  seeds", file=sys.stderr)
    for (name, arch), rows in summary.items():
        accs = [100 * r["test_accuracy"] for r in rows]
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        kim = KIM_CNN_RAND[name] if arch == "cnn" else None
        print(f"{name:5} {arch:8} {statistics.mean(accs):15.2f} ± {sd:4.2f} {kim or '':>5} "
              f"{statistics.mean(r['seconds_per_epoch'] for r in rows):8.1f}  "
              f"{' '.join(f'{a:.1f}' for a in accs)}", file=sys.stderr)


if __name__ == "__main__":
    main()
