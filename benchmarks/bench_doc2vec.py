"""doc2vec document vectors + logistic regression beside TF-IDF + logistic regression (issue 21).

    python benchmarks/bench_doc2vec.py                        # SST-2, seeds 1,2,3 (about 5 CPU-minutes)
    python benchmarks/bench_doc2vec.py --seeds 1,2,3,4,5 --variants pv-dm,pv-dbow
    python benchmarks/bench_doc2vec.py --variants "pv-dbow+words,pv-dbow+words simple_preprocess,pv-dbow+words trained rows"
    python benchmarks/bench_doc2vec.py --sets mr --max-folds 2   # MR 10-fold CV, first folds only

Protocol. SST-2: Kim 2014's split; doc2vec is trained (unsupervised) on the training sentences
only, every sentence's features (train, dev and test) are inferred with seqtool.vectors.doc2vec
.features, standardised with the training mean and sd; the LR's C is chosen on dev from C_GRID,
the test accuracy is that model's. MR: 10 folds (seqtool.classify.split.kfold, seed 0), C chosen
on a stratified 10% of each training part, as benchmarks/bench_classify.py does for its peers.

Peer: TF-IDF + LR, the recipe of bench_classify.py's peer (sklearn's TfidfVectorizer(ngram_range=
(1, 2), sublinear_tf=True) and LogisticRegression(C)), written here in scipy because
scikit-learn is not in the project's venv: same token pattern, smoothed idf, sublinear tf, L2
rows, and sklearn's lbfgs objective C * sum(log-loss) + |w|^2 / 2 (bias unpenalised).

Check: gensim's own Doc2Vec on the same tokens with the same seed and workers=1 must give the
same document vectors as seqtool's training, bit for bit (printed per variant and seed).
Threads pinned to one (gensim workers=1, OMP/BLAS 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from seqtool.vectors.doc2vec import Doc2VecConfig, Document, features, tagged, train_model  # noqa: E402

C_GRID = [0.25, 1.0, 4.0, 16.0, 64.0]
# name -> Doc2VecConfig overrides (gensim's defaults otherwise: 100 dims, window 5, 10 epochs, min_count 5,
# sample 1e-3). On 7k short sentences the defaults under-train; "+words" is PV-DBOW with skip-gram
# word training (dbow_words), 40 epochs, min_count 2, no down-sampling: the best of a few dev-set tries.
TUNED = {"dm": False, "dbow_words": True, "epochs": 40, "min_count": 2, "sample": 0}
VARIANTS = {
    "pv-dm": {},
    "pv-dbow": {"dm": False},
    "pv-dbow+words": TUNED,
    # the two questions seqtool.vectors.doc2vec answers by these measurements:
    "pv-dbow+words simple_preprocess": {**TUNED, "tokenizer": "gensim"},  # vs seqtool's whitespace tokens
    "pv-dbow+words trained rows": TUNED,  # training sentences' features: their trained rows, not inferred
}
DEFAULT_VARIANTS = "pv-dm,pv-dbow,pv-dbow+words"


# ----------------------------------------------------------------------------- data
def read_label_first(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            label, text = line.split(None, 1)
            texts.append(text.strip())
            labels.append(label)
    return texts, labels


def read_mr() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label in ("pos", "neg"):
        raw = (DATA / "mr" / f"rt-polarity.{label}").read_bytes().decode("cp1252")
        for line in raw.split("\n"):  # as bench_classify.py: 0x85 is a character here, not a break
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return texts, labels


# ----------------------------------------------------------------------------- TF-IDF + LR
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # sklearn's default token_pattern (lower-cased first)


class Tfidf:
    """tf-idf of word unigrams and bigrams: (1 + ln tf) * (ln((1 + n) / (1 + df)) + 1), rows L2-normalised."""

    def fit(self, texts: list[str]) -> "Tfidf":
        df: Counter = Counter()
        for text in texts:
            df.update(set(self._terms(text)))
        self.index = {t: i for i, t in enumerate(sorted(df))}
        n = len(texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[t])) + 1 for t in sorted(df)])  # (F,)
        return self

    @staticmethod
    def _terms(text: str) -> list[str]:
        words = TOKEN.findall(text.lower())
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def transform(self, texts: list[str]):
        from scipy import sparse

        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            tf = Counter(t for t in self._terms(text) if t in self.index)
            for term, count in tf.items():
                rows.append(r)
                cols.append(self.index[term])
                vals.append((1 + np.log(count)) * self.idf[self.index[term]])
        x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.index)))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
        return sparse.diags(1 / np.where(norms > 0, norms, 1)) @ x  # (N, F)


def logistic_loss(theta: np.ndarray, x, target: np.ndarray, c: float) -> tuple[float, np.ndarray]:
    """C * sum_i -log p(y_i | x_i) + |W|^2 / 2 and its gradient; theta = (W (F, K') flat, b (K',)).
    K' = 1 (two classes: p = s(x w + b), target (N, 1)) or K (softmax, one-hot target (N, K))."""
    f, outputs = x.shape[1], target.shape[1]
    w, b = theta[:f * outputs].reshape(f, outputs), theta[f * outputs:]
    z = x @ w + b  # (N, K')
    if outputs == 1:
        p = 1 / (1 + np.exp(-z))
        nll = np.sum(np.logaddexp(0, z) - target * z)
    else:
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p, nll = np.exp(logp), -np.sum(target * logp)
    r = c * (p - target)  # (N, K'): d loss / d z
    grad_w = np.asarray(x.T @ r) + w  # (F, K')
    return c * nll + 0.5 * np.sum(w * w), np.concatenate([grad_w.ravel(), r.sum(axis=0)])


def fit_logistic(x, y: np.ndarray, c: float, k: int):
    """Minimise logistic_loss by L-BFGS with sklearn's lbfgs settings; returns a predict function.
    x: (N, F) dense or sparse, y: (N,) class indices in [0, k)."""
    from scipy.optimize import minimize

    f = x.shape[1]
    onehot = (y[:, None] == np.arange(k)[None, :]).astype(np.float64)  # (N, k)
    target = onehot[:, 1:] if k == 2 else onehot  # two classes: one logit, as sklearn
    outputs = target.shape[1]
    res = minimize(logistic_loss, np.zeros(f * outputs + outputs), args=(x, target, c), jac=True,
                   method="L-BFGS-B",
                   options={"maxiter": 3000, "maxls": 50, "gtol": 1e-4, "ftol": 64 * np.finfo(float).eps})
    w, b = res.x[:f * outputs].reshape(f, outputs), res.x[f * outputs:]

    def predict(xs) -> np.ndarray:
        z = xs @ w + b
        return (z[:, 0] > 0).astype(int) if k == 2 else np.argmax(z, axis=1)
    return predict


def choose_and_test(fit_x, fit_y, dev_x, dev_y, test_x, test_y, k: int) -> tuple[float, float]:
    """C with the best dev accuracy (the smaller on ties), then that model's test accuracy."""
    scored = [(np.mean(fit_logistic(fit_x, fit_y, c, k)(dev_x) == dev_y), c) for c in C_GRID]
    best = max(scored, key=lambda s: (s[0], -s[1]))[1]
    return float(np.mean(fit_logistic(fit_x, fit_y, best, k)(test_x) == test_y)), best


def tfidf_lr(train, dev, test, k) -> dict:
    start = time.perf_counter()
    vec = Tfidf().fit(train[0])
    acc, c = choose_and_test(vec.transform(train[0]), train[1], vec.transform(dev[0]), dev[1],
                             vec.transform(test[0]), test[1], k)
    return {"accuracy": acc, "C": c, "seconds": round(time.perf_counter() - start, 1)}


# ----------------------------------------------------------------------------- doc2vec + LR
def doc2vec_lr(train, dev, test, k, variant: str, seed: int, fit_texts=None) -> dict:
    """doc2vec trained on the training texts, then LR on standardised features. `fit_texts`:
    the part of train the LR is fitted on when dev is carved out of train (MR)."""
    start = time.perf_counter()
    config = Doc2VecConfig(workers=1, seed=seed, **VARIANTS[variant])
    docs = [Document(str(i), t, "train") for i, t in enumerate(train[0])]
    model = train_model(docs, config)
    trained = time.perf_counter() - start
    same_as_gensim = gensim_equal(docs, config, model)
    if variant.endswith("trained rows"):
        x_train = np.asarray(model.gensim.dv.vectors, dtype=np.float64)
    else:
        x_train = features(model, train[0]).astype(np.float64)  # (N, d)
    x_dev, x_test = (features(model, part[0]).astype(np.float64) for part in (dev, test))
    mean, sd = x_train.mean(axis=0), x_train.std(axis=0) + 1e-8
    acc, c = choose_and_test((x_train - mean) / sd, train[1], (x_dev - mean) / sd, dev[1],
                             (x_test - mean) / sd, test[1], k)
    return {"accuracy": acc, "C": c, "same_as_gensim": same_as_gensim, "train_seconds": round(trained, 1),
            "seconds": round(time.perf_counter() - start, 1), "vocab": len(model.gensim.wv)}


def gensim_equal(docs, config, model) -> bool:
    """gensim's own Doc2Vec on the same tokens, seed and workers=1: identical document vectors?"""
    from gensim.models import Doc2Vec

    theirs = Doc2Vec(tagged(docs, config), **config.gensim_params())
    return bool(np.array_equal(theirs.dv.vectors, model.gensim.dv.vectors))


# ----------------------------------------------------------------------------- sets
def encode(part, classes):
    return part[0], np.array([classes.index(label) for label in part[1]])


def run_sst2(variants, seeds, peer: bool = True) -> dict:
    train, dev, test = (read_label_first(DATA / "sst2" / f"stsa.binary.{p}") for p in ("train", "dev", "test"))
    classes = sorted(set(train[1]))
    train, dev, test = (encode(p, classes) for p in (train, dev, test))
    out = {"set": "sst2", "tfidf_lr": tfidf_lr(train, dev, test, len(classes)) if peer else None, "doc2vec": {}}
    print(f"[sst2] tfidf+lr {out['tfidf_lr']}", flush=True)
    for variant in variants:
        runs = []
        for seed in seeds:
            runs.append(doc2vec_lr(train, dev, test, len(classes), variant, seed))
            print(f"[sst2] {variant} seed {seed}: {runs[-1]}", flush=True)
        out["doc2vec"][variant] = runs
    return out


def run_mr(variants, seeds, folds: int, max_folds: int, peer: bool = True) -> dict:
    from seqtool.classify.split import holdout, kfold

    texts, labels = read_mr()
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    parts = kfold(labels, folds, 0)[:max_folds]
    out = {"set": "mr", "folds": len(parts), "tfidf_lr": [], "doc2vec": {v: [] for v in variants}}
    for k, test_rows in enumerate(parts):
        held = set(test_rows)
        train_rows = [i for i in range(len(texts)) if i not in held]
        fit, dev = holdout([labels[i] for i in train_rows], 0.1, 0)
        pick = lambda rows: ([texts[i] for i in rows], y[rows])  # noqa: E731
        fit_part, dev_part = pick([train_rows[i] for i in fit]), pick([train_rows[i] for i in dev])
        test_part = pick(test_rows)
        if peer:
            out["tfidf_lr"].append(tfidf_lr(fit_part, dev_part, test_part, 2))
            print(f"[mr] fold {k + 1} tfidf+lr {out['tfidf_lr'][-1]}", flush=True)
        for variant in variants:
            for seed in seeds:
                out["doc2vec"][variant].append(doc2vec_lr(fit_part, dev_part, test_part, 2, variant, seed))
                print(f"[mr] fold {k + 1} {variant} seed {seed}: {out['doc2vec'][variant][-1]}", flush=True)
    return out


def _mean_sd(values) -> str:
    values = [100 * v for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.2f} ± {sd:4.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="sst2", help="comma-separated: sst2, mr")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--max-folds", type=int, default=None, help="MR: run only the first N folds")
    ap.add_argument("--out", help="also write the results as JSON here")
    ap.add_argument("--no-peer", action="store_true", help="skip TF-IDF + LR (deterministic: measure it once)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    load = os.getloadavg()[0]
    results = []
    if "sst2" in args.sets.split(","):
        results.append(run_sst2(variants, seeds, not args.no_peer))
    if "mr" in args.sets.split(","):
        results.append(run_mr(variants, seeds, args.folds, args.max_folds or args.folds, not args.no_peer))
    print(f"\nload average at start: {load:.2f} on {os.cpu_count()} CPUs (shared machine; timings are noisy)")
    for r in results:
        peer = r["tfidf_lr"] if isinstance(r["tfidf_lr"], list) else [r["tfidf_lr"]] if r["tfidf_lr"] else []
        peer_acc = statistics.mean(p["accuracy"] for p in peer) if peer else float("nan")
        where = f"{r['set']} ({r['folds']} folds)" if "folds" in r else r["set"]
        print(f"{where}: accuracy % (mean ± sd over seeds{' and folds' if 'folds' in r else ''}), "
              f"ratio to TF-IDF+LR, gensim's Doc2Vec identical")
        if peer:
            print(f"  {'tfidf+lr':34} {100 * peer_acc:6.2f}          1.000")
        for variant, runs in r["doc2vec"].items():
            acc = [x["accuracy"] for x in runs]
            same = all(x["same_as_gensim"] for x in runs)
            print(f"  {variant:34} {_mean_sd(acc)}  {statistics.mean(acc) / peer_acc:.3f}  "
                  f"{'yes' if same else 'NO'}  ({statistics.mean(x['seconds'] for x in runs):.1f} s per run)")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
