"""ngram train beyond memory: a 5-gram MKN on a large synthetic corpus, seqtool --memory vs lmplz -S.

    LMPLZ=/tmp/lmplz_build/kenlm-0.3.0/build/bin/lmplz \\
      python benchmarks/bench_ngram_scale.py --tokens 10M --memory 300M
    python benchmarks/bench_ngram_scale.py --tokens 100M --memory 4G       # the issue's size

The corpus is made here, seeded, never committed: sentences sampled from a 3-gram model of
ptb.train (its counts by seqtool's counter; Witten-Bell interpolation down to the unigram;
many streams at once with numpy, so 100 M tokens take a minute or two), plus a test set of
--test-tokens from another seed. In one run, each as its own process, with one thread:

  seqtool ngram train -n 5 --memory M --temp-dir T    (the external path: sorted runs)
  seqtool ngram train -n 5                            (in memory, unless --skip-in-memory)
  lmplz -o 5 -S M -T T                                (KenLM, built from its sources)

and prints wall time, peak RSS (os.wait4's ru_maxrss) and the test perplexity of each, the
ratios to lmplz, and the load average. The ARPA of lmplz is scored with the kenlm module when
installed (else with seqtool, which reads ARPA). Work files go under --work (default: a temp
folder, removed at the end unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PTB = Path(os.environ.get("PTB_DIR", REPO.parent / "shared" / "data" / "ptb"))
LMPLZ_CANDIDATES = [os.environ.get("LMPLZ", ""), shutil.which("lmplz") or "",
                    "/tmp/lmplz_build/kenlm-0.3.0/build/bin/lmplz"]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "SEQTOOL_THREADS": "1"}


def count_arg(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgG]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (e.g. 10M)")
    return int(float(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m.group(2).lower()])


# ----------------------------------------------------------------- the corpus
class TrigramSampler:
    """Sample text from the 3-gram counts of a corpus, many streams at once.

    p(w | u v) = (1 - l3) c(uvw)/c(uv.) + l3 p(w | v), l3 = n(uv.)/(c(uv.) + n(uv.)) (Witten-Bell),
    and the same from the bigram down to the unigram: each draw picks its level first."""

    def __init__(self, lines):
        sys.path.insert(0, str(REPO))
        from seqtool.core.text import Tokenizer
        from seqtool.ngram.counts import split_keys
        from seqtool.ngram.train import count_corpus

        # lmplz refuses <unk> in its input: PTB's <unk> becomes an ordinary word
        c = count_corpus((line.replace("<unk>", "UNK") for line in lines), 3, Tokenizer("word"))
        self.words = np.array(c.words, dtype=object)
        self.uni_cum = np.cumsum(c.unigram)  # <s> and <unk> have count 0: never drawn
        self.p2, self.w2 = split_keys(c.keys[2])  # prefix = word id of v
        self.cum2 = np.cumsum(c.counts[2])
        self.keys2 = c.keys[2]
        self.p3, self.w3 = split_keys(c.keys[3])  # prefix = row of (u, v) in keys[2]
        self.cum3 = np.cumsum(c.counts[3])

    @staticmethod
    def _level(prefixes, cum, ctx, u, v, words):
        """For contexts ctx (-1: none): (the drawn word or -1 when backing off)."""
        lo = np.searchsorted(prefixes, ctx, "left")
        hi = np.searchsorted(prefixes, ctx, "right")
        n = hi - lo
        base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0)
        total = np.where(n > 0, cum[np.maximum(hi - 1, 0)] - base, 0)
        stay = (ctx >= 0) & (n > 0) & (u * (total + n) < total)
        out = np.full(ctx.size, -1, np.int64)
        if stay.any():
            target = base[stay] + v[stay] * total[stay]
            out[stay] = words[np.minimum(np.searchsorted(cum, target, "right"), cum.size - 1)]
        return out

    def sample(self, tokens: int, seed: int, streams: int = 50_000) -> list[np.ndarray]:
        """Sentences of word ids (no <s>/</s>), about `tokens` words and sentence ends in all."""
        from seqtool.ngram.counts import BOS_ID, EOS_ID, SHIFT

        rng = np.random.default_rng(seed)
        streams = max(1, min(streams, tokens // 20))
        steps = -(-tokens // streams)
        v1 = np.full(streams, BOS_ID, np.int64)   # last word
        row2 = np.full(streams, -1, np.int64)     # row of (u, v) in keys[2], -1 at a sentence start
        out = np.empty((steps, streams), np.int64)
        for step in range(steps):
            u = rng.random((3, streams))
            v = rng.random((3, streams))
            w = self._level(self.p3, self.cum3, row2, u[0], v[0], self.w3)
            back = w < 0
            w[back] = self._level(self.p2, self.cum2, v1[back], u[1][back], v[1][back], self.w2)
            back = w < 0
            w[back] = np.searchsorted(self.uni_cum, v[2][back] * self.uni_cum[-1], "right")
            key = (v1 << SHIFT) | w
            idx = np.minimum(np.searchsorted(self.keys2, key), self.keys2.size - 1)
            row2 = np.where(self.keys2[idx] == key, idx, -1)
            end = w == EOS_ID
            v1 = np.where(end, BOS_ID, w)
            row2[end] = -1
            out[step] = w
        flat = out.T.reshape(-1)  # stream after stream
        cuts = np.flatnonzero(flat == EOS_ID)
        return [s for s in np.split(flat, cuts + 1)[:-1] if s.size > 1]  # drop EOS-only and the unfinished tail

    def write(self, path: Path, tokens: int, seed: int) -> int:
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for sent in self.sample(tokens, seed):
                f.write(" ".join(self.words[sent[:-1]]) + "\n")
                n += sent.size
        return n


def make_corpus(work: Path, tokens: int, test_tokens: int, seed: int) -> tuple[Path, Path, dict]:
    train, test = work / "train.txt", work / "test.txt"
    stamp = work / "corpus.json"
    want = {"tokens": tokens, "test_tokens": test_tokens, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()).get("want") == want:
        return train, test, json.loads(stamp.read_text())
    start = time.perf_counter()
    sampler = TrigramSampler((PTB / "ptb.train.txt").read_text().splitlines())
    made = sampler.write(train, tokens, seed)
    made_test = sampler.write(test, test_tokens, seed + 1)
    info = {"want": want, "train_tokens": made, "test_tokens": made_test,
            "train_bytes": train.stat().st_size, "seconds": round(time.perf_counter() - start, 1)}
    stamp.write_text(json.dumps(info))
    return train, test, info


def make_corpus_apart(work: Path, tokens: int, test_tokens: int, seed: int) -> tuple[Path, Path, dict]:
    """make_corpus in a process of its own. Sampling 100 M tokens takes GBs; done here, that peak
    would be every later child's ru_maxrss too: Linux starts a child (vfork + exec) with its
    parent's high-water mark of resident memory, so the builds' peaks would read as the sampler's."""
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(target=make_corpus, args=(work, tokens, test_tokens, seed))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"sampling the corpus failed (exit status {proc.exitcode})")
    return make_corpus(work, tokens, test_tokens, seed)  # made now: read from its stamp


# ----------------------------------------------------------------- runs
def run(cmd: list[str], *, stdin=None, stdout=None, env=None) -> dict:
    """Wall time, CPU time (user + system, every thread: the fair figure on a busy machine) and
    peak RSS of one child process (ru_maxrss of that child alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **ONE_THREAD, **(env or {})})
    out = proc.stdout.read() if stdout is None else b""
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed (status {status}):\n{err.decode(errors='replace')[-2000:]}")
    return {"seconds": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024,
            "stdout": out.decode(), "stderr": err.decode()}


def seqtool(*args: str, home: Path) -> dict:
    return run([sys.executable, "-m", "seqtool", *args],
               env={"SEQTOOL_HOME": str(home), "PYTHONPATH": str(REPO), "SEQTOOL_VERBOSE": "1"})


def seqtool_ppl(model: str, test: Path, home: Path) -> float:
    return json.loads(seqtool("ngram", "score", model, str(test), "--json", home=home)["stdout"])["perplexity"]


def kenlm_ppl(arpa: Path, test: Path, home: Path) -> tuple[float, str]:
    try:
        import kenlm
    except ImportError:
        return seqtool_ppl(str(arpa), test, home), "seqtool ngram score"
    m = kenlm.Model(str(arpa))
    total = tokens = 0
    for line in test.read_text().splitlines():
        total += m.score(line)
        tokens += len(line.split()) + 1
    return 10 ** (-total / tokens), "kenlm module"


def mb(x: float) -> str:
    return f"{x / 2**20:,.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=count_arg, default=count_arg("10M"), help="training tokens (e.g. 10M, 100M)")
    ap.add_argument("--test-tokens", type=count_arg, default=count_arg("200k"))
    ap.add_argument("--memory", default="300M", help="the budget, given to seqtool --memory and lmplz -S")
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, help="work folder (default: a new temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (the corpus is reused)")
    ap.add_argument("--skip-in-memory", action="store_true", help="skip seqtool's in-memory build")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from seqtool.ngram.options import parse_memory

    budget = parse_memory(args.memory)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ngram-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    temp, home = work / "sort", work / "home"
    temp.mkdir(exist_ok=True)
    try:
        print(f"load average {os.getloadavg()[0]:.2f} (CPUs {os.cpu_count()}); threads 1; budget {args.memory} = "
              f"{mb(budget)}", flush=True)
        train, test, info = make_corpus_apart(work, args.tokens, args.test_tokens, args.seed)
        print(f"corpus: {info['train_tokens']:,} tokens ({info['train_bytes'] / 2**20:,.0f} MB), test "
              f"{info['test_tokens']:,} tokens; sampled in {info['seconds']} s", flush=True)
        n = str(args.order)
        rows = []

        ext = seqtool("ngram", "train", str(train), "-n", n, "--memory", args.memory, "--temp-dir", str(temp),
                      "--name", "ext", "--json", home=home)
        summary = json.loads(ext["stdout"])
        assert "sorted runs" in ext["stderr"], "the budget did not force the external path"
        ext_ppl = seqtool_ppl("ext", test, home)
        leftover = list(temp.iterdir())
        print(f"seqtool --memory {args.memory}: {ext['seconds']:.1f} s ({ext['cpu']:.1f} CPU-s), peak RSS {mb(ext['rss'])}, n-grams "
              f"{summary['ngrams']}, test ppl {ext_ppl:.4f}; temp files left: {len(leftover)}", flush=True)
        rows.append(("seqtool --memory", ext))

        if not args.skip_in_memory:
            mem = seqtool("ngram", "train", str(train), "-n", n, "--name", "mem", "--json", home=home)
            mem_ppl = seqtool_ppl("mem", test, home)
            print(f"seqtool in memory: {mem['seconds']:.1f} s, peak RSS {mb(mem['rss'])}, test ppl {mem_ppl:.4f} "
                  f"(external/in-memory: time {ext['seconds'] / mem['seconds']:.2f}x, "
                  f"ppl equal: {mem_ppl == ext_ppl})", flush=True)
            rows.append(("seqtool in memory", mem))

        lmplz = next((b for b in LMPLZ_CANDIDATES if b and os.access(b, os.X_OK)), None)
        if lmplz is None:
            print("no lmplz binary ($LMPLZ): build it from the kenlm sources to compare", flush=True)
        else:
            arpa = work / "lmplz.arpa"
            with open(train, "rb") as src, open(arpa, "wb") as dst:
                # --discount_fallback: a sampled corpus this large has no unigram of adjusted count 1,
                # where lmplz stops; seqtool then uses the same fallback (0.5, 1, 1.5) and says so.
                lm = run([lmplz, "-o", n, "-S", args.memory, "-T", str(temp), "--discount_fallback"],
                         stdin=src, stdout=dst)
            lm_ppl, how = kenlm_ppl(arpa, test, home)
            print(f"lmplz -S {args.memory}: {lm['seconds']:.1f} s ({lm['cpu']:.1f} CPU-s), peak RSS {mb(lm['rss'])}, test ppl "
                  f"{lm_ppl:.4f} ({how})", flush=True)
            rel = abs(ext_ppl - lm_ppl) / lm_ppl
            print(f"ratio seqtool --memory / lmplz: time {ext['seconds'] / lm['seconds']:.2f}x (CPU time {ext['cpu'] / lm['cpu']:.2f}x), peak RSS "
                  f"{ext['rss'] / lm['rss']:.2f}x; perplexity differs by {rel * 100:.4f}% "
                  f"({'within' if rel <= 1e-4 else 'NOT within'} 0.01%)", flush=True)
            rows.append(("lmplz -S", lm))
        print(f"budget + 10% = {mb(budget * 1.1)}: " + "; ".join(
            f"{name} {mb(r['rss'])} ({'within' if r['rss'] <= budget * 1.1 else 'over'})" for name, r in rows))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
