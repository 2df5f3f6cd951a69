"""Benchmark `seqtool embed` against gensim.

Part "load" (synthetic 400,000 x 100 GloVe text file, made once under benchmarks/.work/):
  gensim KeyedVectors.load_word2vec_format(no_header=True)  vs  seqtool's first import
  (parse + write the store), then the reload from the store, a neighbours query, and the
  peak memory of each step. Every step runs in a fresh subprocess so that timings and
  peak RSS (ru_maxrss) are not polluted by the previous one.

Part "quality" (PTB train, ../shared/data/ptb/ptb.train.txt, read-only):
  gensim Word2Vec(LineSentence) and seqtool's word2vec with the same parameters (must be
  identical), seqtool's GloVe at the same dimension; WordSim-353 Spearman and Google
  analogy accuracy of each (seqtool's evaluator, cross-checked with gensim's for word2vec).

    python benchmarks/bench_embed.py                 # both parts
    python benchmarks/bench_embed.py --part load --rows 400000 --dim 100
    python benchmarks/bench_embed.py --part quality --glove-epochs 25 --glove-window 10

Part "reference" (needs a C compiler): GloVe's optimiser as the paper and its reference
release run it (per-entry AdaGrad, benchmarks/glove_reference.c, compiled here) on the same
co-occurrence counts as seqtool's GloVe, beside seqtool's word2vec and GloVe, per seed: does
the reference algorithm do better on PTB than seqtool's mini-batch version?

    python benchmarks/bench_embed.py --part reference --seeds 1

Part "fasttext" (PTB train): seqtool's `embed train --algo fasttext` and gensim's FastText with
the same options (must be identical, n-gram matrix included); then, for words missing from the
vocabulary, seqtool's numpy n-gram vectors against gensim's `wv[word]` (largest difference, time
per word), their nearest neighbours against `wv.most_similar` (same top 10?), the load time of
each stored model in a fresh process, and `embed neighbors NAME -` answering a stream of queries
in one process against gensim answering the same queries after its load.

    OMP_NUM_THREADS=1 python benchmarks/bench_embed.py --part fasttext --bucket 500000 --ft-epochs 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
PTB = HERE.parent.parent / "shared" / "data" / "ptb" / "ptb.train.txt"


# ---------------------------------------------------------------- synthetic file
def make_glove_file(path: Path, rows: int, dim: int, seed: int = 0) -> None:
    """GloVe-like text: 'word v1 ... vd', values with 6 decimals, written block by block."""
    import numpy as np

    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    digits = np.frombuffer(b"0123456789", dtype=np.uint8)
    with open(tmp, "wb") as fh:
        for start in range(0, rows, 20000):
            n = min(20000, rows - start)
            values = np.clip(rng.normal(0, 0.4, (n, dim)), -0.999999, 0.999999)
            micro = np.abs(np.rint(values * 1e6)).astype(np.int64)  # (n, dim)
            # Each number as " -0.dddddd" (10 bytes) or " 0.dddddd" (the '-' dropped below).
            cells = np.empty((n, dim, 10), dtype=np.uint8)
            cells[:, :, 0] = ord(" ")
            cells[:, :, 1] = ord("-")
            cells[:, :, 2] = ord("0")
            cells[:, :, 3] = ord(".")
            for k in range(6):
                cells[:, :, 9 - k] = digits[(micro // 10 ** k) % 10]
            keep = np.ones((n, dim, 10), dtype=bool)
            keep[:, :, 1] = values < 0
            flat = cells[keep]
            ends = np.cumsum(keep.reshape(n, -1).sum(axis=1))
            starts = np.r_[0, ends[:-1]]
            raw = flat.tobytes()
            fh.write(b"".join(f"w{start + i}x".encode() + raw[s:e] + b"\n"
                              for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist()))))
    os.replace(tmp, path)


# ---------------------------------------------------------------- child steps
CHILD = r"""
import json, resource, sys, time
step, path, home = sys.argv[1], sys.argv[2], sys.argv[3]
import os
os.environ["SEQTOOL_HOME"] = home
import numpy as np
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}

def timed(key, fn, repeat=1):
    # wall and CPU time (all threads of the process): on a shared machine the
    # CPU time shows the work done, the wall time includes waiting for a core.
    w, c = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        result = fn()
    out[key] = (time.perf_counter() - w) / repeat
    out[key + "_cpu"] = (time.process_time() - c) / repeat
    return result

WORDS = ("w1x", "w2x", "w3x", "w4x", "w5x")
if step == "gensim":
    import logging
    logging.disable(logging.WARNING)
    from gensim.models import KeyedVectors
    kv = timed("seconds", lambda: KeyedVectors.load_word2vec_format(path, no_header=True))
    out["shape"] = list(kv.vectors.shape)
    timed("first_query", lambda: kv.most_similar("w100x", topn=10))
    it = iter(WORDS * 4)
    timed("query", lambda: kv.most_similar(next(it), topn=10), repeat=20)
elif step == "import":
    from seqtool.vectors.api import import_vectors
    result = timed("seconds", lambda: import_vectors(path, "bench"))
    vecs, fmt = result.vectors, result.format
    out["shape"] = list(vecs.matrix.shape)
    out["format"] = fmt
elif step == "reload":
    from seqtool.vectors import load_vectors
    from seqtool.vectors.queries import neighbors
    vecs = timed("seconds", lambda: load_vectors("bench"))
    timed("first_query", lambda: neighbors(vecs, "w100x", top_n=10))
    timed("index_seconds", lambda: vecs.index)  # built once a process looks up more than a few words
    it = iter(WORDS * 4)
    timed("query", lambda: neighbors(vecs, next(it), top_n=10), repeat=20)
    vocab = sys.getsizeof(vecs.words) + sum(sys.getsizeof(w) for w in vecs.words) + vecs.index.nbytes
    out["vocab_bytes"] = vocab
    out["matrix_bytes"] = vecs.matrix.nbytes
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["peak_rss_mib"] = peak / 1024
out["rss_over_baseline_mib"] = (peak - base) / 1024
print(json.dumps(out))
"""


def run_child(step: str, path: Path, home: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    res = subprocess.run([sys.executable, "-c", CHILD, step, str(path), home], capture_output=True, text=True,
                         env=env)
    if res.returncode != 0:
        raise SystemExit(f"{step} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def part_load(rows: int, dim: int) -> None:
    WORK.mkdir(exist_ok=True)
    path = WORK / f"glove_{rows}x{dim}.txt"
    if not path.exists():
        t = time.perf_counter()
        make_glove_file(path, rows, dim)
        print(f"made {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s")
    print(f"file: {path} ({path.stat().st_size / 2**20:.0f} MiB), {rows} x {dim}")
    with tempfile.TemporaryDirectory(dir=WORK) as home:
        gensim = run_child("gensim", path, home)
        first = run_child("import", path, home)
        reload = run_child("reload", path, home)
        cli = measure_cli(home)
    matrix_mib = rows * dim * 4 / 2**20

    def both(d: dict, key: str, scale: float = 1.0, fmt: str = ".2f") -> str:
        return f"{d[key] * scale:{fmt}} ({d[key + '_cpu'] * scale:{fmt}} CPU)"

    print()
    print("Wall time, with the CPU time of the process in brackets (the machine is shared).")
    print()
    print("| figure | gensim | seqtool | ratio (wall / CPU) |")
    print("|---|---|---|---|")
    print(f"| load {rows:,} x {dim} GloVe text (s) | {both(gensim, 'seconds')} | {both(first, 'seconds')} first "
          f"import, store written | {gensim['seconds'] / first['seconds']:.1f}x / "
          f"{gensim['seconds_cpu'] / first['seconds_cpu']:.1f}x faster |")
    print(f"| reload (s) | {both(gensim, 'seconds')} (no store: parse again) | {both(reload, 'seconds', fmt='.3f')} "
          f"| {gensim['seconds'] / reload['seconds']:.0f}x / {gensim['seconds_cpu'] / reload['seconds_cpu']:.0f}x |")
    print(f"| word index built on demand (s) | (part of the load) | {both(reload, 'index_seconds', fmt='.3f')} | |")
    print(f"| neighbours query, first after load (ms) | {both(gensim, 'first_query', 1e3, '.1f')} | "
          f"{both(reload, 'first_query', 1e3, '.1f')} | |")
    print(f"| neighbours query, warm, mean of 20 (ms) | {both(gensim, 'query', 1e3, '.1f')} | "
          f"{both(reload, 'query', 1e3, '.1f')} | {gensim['query'] / reload['query']:.1f}x / "
          f"{gensim['query_cpu'] / reload['query_cpu']:.1f}x |")
    print(f"| peak RSS over interpreter baseline (MiB) | {gensim['rss_over_baseline_mib']:.0f} | "
          f"{first['rss_over_baseline_mib']:.0f} import / {reload['rss_over_baseline_mib']:.0f} reload+queries | |")
    print(f"| float32 matrix + vocab incl. index (MiB) | | {matrix_mib:.0f} + {reload['vocab_bytes'] / 2**20:.0f} "
          f"= {matrix_mib + reload['vocab_bytes'] / 2**20:.0f} | |")
    print(f"| `seqtool embed neighbors bench w1x` end to end, best of 3 (s) | | {cli:.2f} | |")


def measure_cli(home: str) -> float:
    env = dict(os.environ, SEQTOOL_HOME=home, PYTHONPATH=str(HERE.parent))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "seqtool", "embed", "neighbors", "bench", "w1x", "--top", "5"],
                       env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


# ---------------------------------------------------------------- quality
def part_quality(dim: int, glove_epochs: int, glove_window: int, seeds: list[int], x_max: float) -> None:
    import statistics

    import numpy as np

    os.environ.setdefault("SEQTOOL_HOME", tempfile.mkdtemp(prefix="bench-embed-", dir=WORK))
    sys.path.insert(0, str(HERE.parent))
    import logging

    logging.disable(logging.WARNING)
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    from seqtool.vectors import Vectors
    from seqtool.vectors.evaluate import default_file, evaluate_analogies, evaluate_pairs
    from seqtool.vectors.api import train
    from seqtool.vectors.train import TrainConfig

    def evaluate(label: str, vecs: Vectors, seconds: float) -> dict:
        a, p = evaluate_analogies(vecs), evaluate_pairs(vecs)
        print(f"{label}: {seconds:.1f} s, WordSim-353 Spearman {p.spearman:.4f} ({p.pairs} pairs), "
              f"analogy accuracy {a.total.accuracy:.4f} ({a.total.correct}/{a.total.attempted}, "
              f"coverage {a.total.coverage:.3f})", flush=True)
        return {"seconds": seconds, "spearman": p.spearman, "analogy": a.total.accuracy,
                "attempted": a.total.attempted, "questions": a.total.questions}

    w2v_rows, glove_rows = [], []
    for seed in seeds:
        if seed == seeds[0]:
            t = time.perf_counter()
            ref = Word2Vec(LineSentence(str(PTB)), vector_size=dim, window=5, min_count=5, workers=1, seed=seed,
                           epochs=5)
            ref_vecs = Vectors(list(ref.wv.index_to_key), ref.wv.vectors)
            evaluate(f"gensim word2vec CBOW, seed {seed}", ref_vecs, time.perf_counter() - t)
            score, _ = ref.wv.evaluate_word_analogies(default_file("questions-words.txt"))
            _, spearman, _ = ref.wv.evaluate_word_pairs(default_file("wordsim353.tsv"))
            print(f"  gensim's own evaluators on it: analogy {score:.4f}, Spearman {spearman[0]:.4f}")
        config = TrainConfig(algo="word2vec", dim=dim, window=5, min_count=5, workers=1, seed=seed, epochs=5)
        t = time.perf_counter()
        w2v = train([str(PTB)], config, name="ptb-w2v").vectors
        w2v_rows.append(evaluate(f"seqtool word2vec CBOW, seed {seed}", w2v, time.perf_counter() - t))
        if seed == seeds[0]:
            same = w2v.words == ref_vecs.words and np.array_equal(w2v.matrix, ref_vecs.matrix)
            print(f"  identical to gensim's vectors: {same}")
        gconf = TrainConfig(algo="glove", dim=dim, window=glove_window, min_count=5, workers=1, seed=seed,
                            epochs=glove_epochs, x_max=x_max)
        t = time.perf_counter()
        trained = train([str(PTB)], gconf, name="ptb-glove")
        glv, metrics = trained.vectors, trained.metrics
        glove_rows.append(evaluate(f"seqtool GloVe window {glove_window}, {glove_epochs} epochs, x_max {x_max:g}, "
                                   f"seed {seed}", glv, time.perf_counter() - t))
        print(f"  co-occurrence: {metrics['cooccurrence_nonzeros']} non-zeros in "
              f"{metrics['cooccurrence_seconds']:.1f} s; loss {metrics['loss_per_epoch'][0]:.0f} -> "
              f"{metrics['loss_per_epoch'][-1]:.0f}", flush=True)

    def stat(rows: list[dict], key: str, fmt: str = ".4f") -> str:
        values = [r[key] for r in rows]
        if len(values) == 1:
            return f"{values[0]:{fmt}}"
        return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}"

    def ratio(key: str) -> str:
        return f"{statistics.mean(r[key] for r in glove_rows) / statistics.mean(r[key] for r in w2v_rows):.0%}"

    print()
    print(f"PTB train, dim {dim}, min-count 5, workers 1; mean ± sd over seeds {seeds}")
    print()
    print("| figure | seqtool word2vec CBOW (gensim code path) | seqtool GloVe | GloVe / word2vec |")
    print("|---|---|---|---|")
    print(f"| WordSim-353 Spearman | {stat(w2v_rows, 'spearman')} | {stat(glove_rows, 'spearman')} | "
          f"{ratio('spearman')} |")
    print(f"| Google analogy accuracy (3CosAdd; {w2v_rows[0]['attempted']} of {w2v_rows[0]['questions']} "
          f"questions covered) | {stat(w2v_rows, 'analogy')} | {stat(glove_rows, 'analogy')} | {ratio('analogy')} |")
    print(f"| training time (s) | {stat(w2v_rows, 'seconds', '.1f')} | {stat(glove_rows, 'seconds', '.1f')} | "
          f"{statistics.mean(r['seconds'] for r in glove_rows) / statistics.mean(r['seconds'] for r in w2v_rows):.1f}x |")


def part_reference(dim: int, epochs: int, window: int, seeds: list[int], x_max: float) -> None:
    import shutil

    import numpy as np

    os.environ.setdefault("SEQTOOL_HOME", tempfile.mkdtemp(prefix="bench-embed-", dir=WORK))
    sys.path.insert(0, str(HERE.parent))
    import logging

    logging.disable(logging.WARNING)
    from seqtool.core.io import Source
    from seqtool.vectors import Vectors
    from seqtool.vectors.evaluate import evaluate_analogies, evaluate_pairs
    from seqtool.vectors.api import train
    from seqtool.vectors.train import Corpus, TrainConfig, glove_cooccurrences

    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("part reference needs a C compiler (cc or gcc)")
    binary = WORK / "glove_reference"
    subprocess.run([compiler, "-O3", "-o", str(binary), str(HERE / "glove_reference.c"), "-lm"], check=True)
    words, _, cooc = glove_cooccurrences(Corpus([Source(str(PTB))]), 5, window)
    print(f"PTB train: {len(words)} words, {len(cooc.values)} co-occurrence non-zeros (window {window})")

    def figures(vecs: Vectors) -> tuple[float, float]:
        return evaluate_pairs(vecs).spearman, evaluate_analogies(vecs).total.accuracy

    rows = []
    for seed in seeds:
        base = dict(dim=dim, min_count=5, workers=1, seed=seed)
        t = time.perf_counter()
        w2v = train([str(PTB)], TrainConfig(algo="word2vec", window=5, epochs=5, **base), name="ref-w2v").vectors
        row = {"word2vec CBOW": (*figures(w2v), time.perf_counter() - t)}
        t = time.perf_counter()
        glv = train([str(PTB)], TrainConfig(algo="glove", window=window, epochs=epochs, x_max=x_max, **base),
                    name="ref-glove").vectors
        row["seqtool GloVe (mini-batch)"] = (*figures(glv), time.perf_counter() - t)
        with tempfile.TemporaryDirectory(dir=WORK) as tmp:
            perm = np.random.default_rng(seed).permutation(len(cooc.values))
            cooc.rows[perm].astype(np.int32).tofile(f"{tmp}/rows.i32")
            cooc.cols[perm].astype(np.int32).tofile(f"{tmp}/cols.i32")
            cooc.values[perm].astype(np.float64).tofile(f"{tmp}/vals.f64")
            t = time.perf_counter()
            subprocess.run([str(binary), tmp, str(len(cooc.values)), str(len(words)), str(dim), str(epochs), "0.05",
                            str(x_max), str(seed)], check=True, stderr=subprocess.DEVNULL)
            seconds = time.perf_counter() - t
            matrix = np.fromfile(f"{tmp}/vectors.f32", dtype=np.float32).reshape(len(words), dim)
        row["reference GloVe (per-entry)"] = (*figures(Vectors(words, matrix)), seconds)
        for label, (spearman, analogy, seconds) in row.items():
            print(f"seed {seed}  {label:28} Spearman {spearman:.4f}  analogy {analogy:.4f}  {seconds:6.1f} s", flush=True)
        rows.append(row)
    print()
    print(f"| PTB, dim {dim}, GloVe window {window}, {epochs} epochs, x_max {x_max:g}; mean over seeds {seeds} "
          f"| WordSim-353 Spearman | analogy accuracy | analogy / word2vec's | training time (s) |")
    print("|---|---|---|---|---|")
    cbow = sum(r["word2vec CBOW"][1] for r in rows) / len(rows)
    for label in rows[0]:
        s, a, t = (sum(r[label][k] for r in rows) / len(rows) for k in range(3))
        print(f"| {label} | {s:.4f} | {a:.4f} | {a / cbow:.0%} | {t:.1f} |")


def _oov_words(vocab: set, count: int) -> list[str]:
    """Words missing from the vocabulary, made from vocabulary words (an inflection, a typo)."""
    out, suffixes = [], ("s", "ing", "ed", "ly", "x", "er")
    for i, word in enumerate(sorted(vocab)):
        cand = word + suffixes[i % len(suffixes)] if i % 2 else word[:-1] + "q" + word[-1:]
        if cand not in vocab and len(out) < count:
            out.append(cand)
    return out


def _fresh(code: str, env: dict) -> float:
    """Wall seconds of `code` in a fresh interpreter (it prints them itself)."""
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return float(result.stdout.strip().splitlines()[-1])


def part_fasttext(dim: int, epochs: int, bucket: int, queries: int) -> None:
    import numpy as np
    from gensim.models import FastText
    from gensim.models.word2vec import LineSentence

    from seqtool.core.store import ModelStore
    from seqtool.vectors import load_vectors, queries as q
    from seqtool.vectors.api import train
    from seqtool.vectors.options import TrainConfig

    home = tempfile.mkdtemp(prefix="bench-ft-", dir=WORK)
    os.environ["SEQTOOL_HOME"] = home
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1"}
    base = dict(dim=dim, epochs=epochs, workers=1, seed=1, min_count=5, bucket=bucket)
    t0 = time.perf_counter()
    ours = train([str(PTB)], TrainConfig(algo="fasttext", **base), name="ft", store=ModelStore()).vectors
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = FastText(LineSentence(str(PTB)), vector_size=dim, epochs=epochs, workers=1, seed=1, min_count=5,
                   bucket=bucket).wv
    t_ref = time.perf_counter() - t0
    same = np.array_equal(ours.matrix, ref.vectors) and np.array_equal(ours.subwords.ngrams, ref.vectors_ngrams)
    vecs = load_vectors("ft")
    oov = _oov_words(set(ref.key_to_index), queries)
    t0 = time.perf_counter()
    mine = [vecs.subwords.vector(w) for w in oov]
    t_vec_ours = (time.perf_counter() - t0) / len(oov)
    t0 = time.perf_counter()
    theirs = [ref[w] for w in oov]
    t_vec_ref = (time.perf_counter() - t0) / len(oov)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(mine, theirs))
    ask = oov[:200]
    t0 = time.perf_counter()
    near_ours = [[m.word for m in q.neighbors(vecs, w, top_n=10)] for w in ask]
    t_nn_ours = (time.perf_counter() - t0) / len(ask)
    t0 = time.perf_counter()
    near_ref = [[w2 for w2, _ in ref.most_similar(w, topn=10)] for w in ask]
    t_nn_ref = (time.perf_counter() - t0) / len(ask)
    agree = sum(a == b for a, b in zip(near_ours, near_ref))
    kv_path = Path(home) / "gensim-ft.kv"
    ref.save(str(kv_path))
    load_ref = _fresh(f"import time; t=time.perf_counter(); from gensim.models.fasttext import FastTextKeyedVectors as K; "
                      f"kv=K.load({str(kv_path)!r}, mmap='r'); kv[{oov[0]!r}]; print(time.perf_counter()-t)", env)
    load_ours = _fresh(f"import time; t=time.perf_counter(); from seqtool.vectors import load_vectors; "
                       f"v=load_vectors('ft'); v.subwords.vector({oov[0]!r}); print(time.perf_counter()-t)", env)
    stream = "\n".join(ask) + "\n"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "seqtool", "embed", "neighbors", "ft", "-", "--top", "10"],
                         input=stream, capture_output=True, text=True, env=env, check=True).stdout
    t_stream = time.perf_counter() - t0
    code = (f"import sys, time; t=time.perf_counter(); from gensim.models.fasttext import FastTextKeyedVectors as K; "
            f"kv=K.load({str(kv_path)!r}, mmap='r'); "
            f"[print(w, a, s, sep='\\t') for w in sys.stdin.read().split() for a, s in kv.most_similar(w, topn=10)]; "
            f"print(time.perf_counter()-t, file=sys.stderr)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], input=stream, capture_output=True, text=True, env=env, check=True)
    t_stream_ref = time.perf_counter() - t0
    print(f"\n## fastText subwords: PTB train, dim {dim}, {epochs} epochs, bucket {bucket:,}, 1 worker, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, load average {os.getloadavg()[0]:.1f}\n")
    print("| figure | gensim | seqtool | ratio (gensim / seqtool) |")
    print("|---|---|---|---|")
    print(f"| training (s) | {t_ref:.1f} | {t_ours:.1f} (incl. storing {bucket:,} x {dim} n-grams) | {t_ref / t_ours:.2f} |")
    print(f"| word and n-gram matrices identical | | {same} | |")
    print(f"| unknown-word vector, mean of {len(oov)} (us) | {t_vec_ref * 1e6:.1f} | {t_vec_ours * 1e6:.1f} | "
          f"{t_vec_ref / t_vec_ours:.2f} |")
    print(f"| largest difference from gensim's wv[word] | | {diff:.2e} | |")
    print(f"| neighbours of an unknown word, mean of {len(ask)} (ms) | {t_nn_ref * 1e3:.2f} | {t_nn_ours * 1e3:.2f} | "
          f"{t_nn_ref / t_nn_ours:.2f} |")
    print(f"| same top 10 as wv.most_similar | | {agree} of {len(ask)} | |")
    print(f"| fresh process: load + one unknown word (s) | {load_ref:.2f} (FastTextKeyedVectors.load, mmap) | "
          f"{load_ours:.2f} (load_vectors) | {load_ref / load_ours:.2f} |")
    print(f"| {len(ask)} queries on stdin, process start to end (s) | {t_stream_ref:.2f} (python: load + most_similar loop) | "
          f"{t_stream:.2f} (`embed neighbors ft -`, {out.count(chr(10))} lines) | {t_stream_ref / t_stream:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("load", "quality", "reference", "fasttext", "all"), default="all")
    ap.add_argument("--bucket", type=int, default=500_000, help="fastText part: n-gram buckets")
    ap.add_argument("--ft-epochs", type=int, default=2, help="fastText part: epochs")
    ap.add_argument("--oov", type=int, default=2000, help="fastText part: unknown words to build vectors for")
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--glove-epochs", type=int, default=25)
    ap.add_argument("--glove-window", type=int, default=10)
    ap.add_argument("--glove-x-max", type=float, default=100.0)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated training seeds (quality part)")
    args = ap.parse_args()
    print(f"# bench_embed {time.strftime('%Y-%m-%d %H:%M:%S')}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (shared machine: timings are under load)")
    if args.part in ("load", "all"):
        part_load(args.rows, args.dim)
    if args.part in ("quality", "all"):
        WORK.mkdir(exist_ok=True)
        part_quality(args.dim, args.glove_epochs, args.glove_window, [int(x) for x in args.seeds.split(",")],
                     args.glove_x_max)
    if args.part == "fasttext":
        WORK.mkdir(exist_ok=True)
        part_fasttext(args.dim, args.ft_epochs, args.bucket, args.oov)
    if args.part == "reference":
        WORK.mkdir(exist_ok=True)
        part_reference(args.dim, args.glove_epochs, args.glove_window, [int(x) for x in args.seeds.split(",")],
                       args.glove_x_max)


if __name__ == "__main__":
    main()
