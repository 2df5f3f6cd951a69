"""seqtool summarize vs sumy (TextRank, LexRank, LSA) and Lead-k on BBC News Summary.

Each of seqtool's methods (seqtool.summarize.methods: textrank, lexrank with
the paper's threshold 0.1 and continuous, lsa, lead) is scored beside sumy's
same method; sumy has no Lead-k, so seqtool's lead is timed beside the naive
`split_document(text)[:k]`.

Protocol (issue 6): drop each article's title line; k = number of sentences
in the reference summary; every system returns k sentences in document
order; ROUGE-1/2/L F1 (rouge-score, Porter stemming), averaged over articles.
Every system sees the same sentences: seqtool's offline Punkt splitter
(seqtool.summarize.sentences, identical output to seqtool.core.text's), given
to sumy through a tokenizer object (sumy's own wants NLTK data it cannot
download offline). sumy's words come from NLTK's Treebank-style word
tokenizer, as with its default tokenizer; its stemmer and stop words are
its usual English ones.

Speed: documents per second of each system on one core, from raw article
text to the chosen sentences: each system runs alone in a fresh process
(BLAS pinned to one thread; it pays its own garbage collection), CPU time,
best of --rounds runs taken in turns so a change in the machine's load hits
every system. Batch:
the wall time of `seqtool summarize DIR --out-dir OUT --jobs 2` on the whole
article folder, process start-up included.

--batch-vs-sumy (issue 22) also runs sumy as its users run it: its own
Tokenizer("english"), i.e. NLTK's PunktSentenceTokenizer code and
nltk.word_tokenize, on seqtool's offline Punkt parameters written out as
NLTK's punkt_tab model (a temporary NLTK data folder: the download is not
needed). Those give seqtool's sentences on all but 21 of the 10,534
paragraphs (see batch_vs_sumy); the seqtool-splitter configuration above is
its second pair of lines.

    python benchmarks/bench_summarize.py                 # everything, ~2-4 min
    python benchmarks/bench_summarize.py --limit 40      # 40 articles per category
    python benchmarks/bench_summarize.py --variants      # also every --similarity
    python benchmarks/bench_summarize.py --batch-vs-sumy --rounds 2   # issue 22, ~10 min
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "bbc_news_summary"
sys.path.insert(0, str(REPO))

from seqtool.core.text import split_sentences  # noqa: E402
from seqtool.summarize import SummaryOptions, split_document, summarize_text  # noqa: E402
from seqtool.summarize.evaluate import unglue  # noqa: E402  (references glue sentences: "$10.9bn.For")
from seqtool.summarize.sentences import split_paragraph  # noqa: E402

def read_article(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # News Articles/sport/199.txt is latin-1 (SOURCE.md)
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n")


def drop_title(text: str) -> str:
    return text.split("\n", 1)[1] if "\n" in text else ""


def load(limit: int | None) -> list[dict]:
    docs = []
    for category in sorted(p.name for p in (DATA / "News Articles").iterdir() if p.is_dir()):
        files = sorted((DATA / "News Articles" / category).glob("*.txt"))
        for path in files[:limit] if limit else files:
            ref = unglue(read_article(DATA / "Summaries" / category / path.name).strip())
            docs.append({"id": f"{category}/{path.name}", "text": drop_title(read_article(path)),
                         "reference": ref, "k": max(1, len(split_sentences(ref)))})
    return docs


# ---------------------------------------------------------------- systems
class OfflineSumyTokenizer:
    """What sumy needs from a tokenizer, without NLTK's downloadable Punkt data."""

    language = "english"

    def __init__(self):
        from nltk.tokenize.destructive import NLTKWordTokenizer
        from sumy.nlp.tokenizers import Tokenizer

        self._words = NLTKWordTokenizer().tokenize  # what nltk.word_tokenize does per sentence
        self._is_word = Tokenizer._is_word

    def to_sentences(self, paragraph: str):
        # seqtool's own splitter: the same sentences as split_sentences, at the same cost as ours.
        return tuple(split_paragraph(paragraph))

    def to_words(self, sentence: str):
        return tuple(w for w in self._words(sentence) if self._is_word(w))


class RegexSumyTokenizer(OfflineSumyTokenizer):
    """sumy with words from a regular expression (\\w+) instead of NLTK's Treebank tokenizer."""

    def __init__(self):
        import re

        super().__init__()
        self._findall = re.compile(r"\w+").findall

    def to_words(self, sentence: str):
        return tuple(self._findall(sentence))


def nltk_punkt_data(root: Path, language: str = "english") -> Path:
    """Write seqtool's offline Punkt parameters (the `punkt` package's model, itself
    converted from NLTK's punkt_tab) as NLTK's own punkt_tab directory under `root`,
    so that nltk.sent_tokenize and sumy's Tokenizer load them as they load a download."""
    import punkt
    from nltk.tabdata import TabEncoder

    params = punkt.load_model(language)
    if params.numeric_abbrev_types:  # punkt's extension; NLTK has no place for it
        raise SystemExit(f"{language}: the offline model has numeric abbreviations NLTK cannot hold")
    model = root / "tokenizers" / "punkt_tab" / language
    model.mkdir(parents=True, exist_ok=True)
    enc = TabEncoder()
    files = {"collocations.tab": enc.tups2tab(sorted(params.collocations)),
             "sent_starters.txt": enc.set2txt(sorted(params.sent_starters)),
             "abbrev_types.txt": enc.set2txt(sorted(params.abbrev_types)),
             "ortho_context.tab": enc.ivdict2tab(dict(sorted(params.ortho_context.items())))}
    for name, text in files.items():
        (model / name).write_text(text, encoding="utf-8")
    return root


def sumy_native_tokenizer(regex_words: bool = False):
    """sumy's own Tokenizer("english"), as its users run it: NLTK's Punkt code
    (nltk.tokenize.PunktTokenizer, with sumy's extra abbreviations e.g/al/i.e) on
    seqtool's offline Punkt parameters written as punkt_tab, and nltk.word_tokenize
    for words (which runs sent_tokenize again on every sentence); regex_words: \\w+
    words instead, sentences still NLTK's."""
    import re

    import nltk
    from sumy.nlp.tokenizers import Tokenizer

    import atexit

    root = nltk_punkt_data(Path(tempfile.mkdtemp(prefix="bench-punkt-tab-")))
    atexit.register(shutil.rmtree, root, True)
    nltk.data.path.insert(0, str(root))
    if not regex_words:
        return Tokenizer("english")
    findall = re.compile(r"\w+").findall

    class RegexWords(Tokenizer):
        def to_words(self, sentence: str):
            return tuple(findall(sentence))

    return RegexWords("english")


def sumy_system(name: str):
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    cls = {"sumy-lexrank": LexRankSummarizer, "sumy-lsa": LsaSummarizer}.get(name, TextRankSummarizer)
    summarizer = cls(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    if name.startswith("sumy-textrank-nltk"):
        tokenizer = sumy_native_tokenizer(regex_words=name.endswith("-regex"))
    else:
        tokenizer = RegexSumyTokenizer() if name.endswith("-regex") else OfflineSumyTokenizer()

    def run(text: str, k: int) -> list[str]:
        document = PlaintextParser(text, tokenizer).document
        return [str(s) for s in summarizer(document, k)]

    return run


def seqtool_system(similarity: str | None = None):
    def run(text: str, k: int) -> list[str]:
        options = SummaryOptions(sentences=k) if similarity is None else \
            SummaryOptions(sentences=k, similarity=similarity)
        return summarize_text(text, options).sentences

    return run


def lead_system(text: str, k: int) -> list[str]:
    return split_document(text)[:k]


def method_system(method: str, **params):
    """seqtool's --method `method`: summarize_text once SummaryOptions has `method`, else the same steps."""
    from seqtool.summarize.pipeline import document_terms, load_stopwords, select
    from seqtool.summarize.methods import sentence_scores
    from seqtool.summarize.textrank import rank_order

    if "method" in SummaryOptions.__dataclass_fields__:
        def run(text: str, k: int) -> list[str]:
            return summarize_text(text, SummaryOptions(sentences=k, method=method, **params)).sentences

        return run
    stop = load_stopwords(None)

    def run(text: str, k: int) -> list[str]:
        # summarize_sentences with the scorer chosen by method (stemmed terms, the default options)
        sentences = split_document(text)
        # Lead-k needs no terms: the number of sentences is all it reads.
        terms = [()] * len(sentences) if method == "lead" else document_terms(sentences, stop, True)
        scores = sentence_scores(method, terms, **params)
        return [sentences[i] for i in select(sentences, rank_order(scores), SummaryOptions(sentences=k))]

    return run


# (seqtool's system, its peer): the pairs compared on quality and speed
PAIRS = [("seqtool (default)", "sumy-textrank"), ("seqtool lexrank", "sumy-lexrank"),
         ("seqtool lexrank continuous", "sumy-lexrank"), ("seqtool lsa", "sumy-lsa"),
         ("seqtool lead", "lead-k")]


# ---------------------------------------------------------------- scoring
class Rouge:
    """rouge-score's F1 with its stemming tokenizer, caching the reference tokens."""

    def __init__(self):
        from rouge_score import rouge_scorer

        self._mod = rouge_scorer
        self._scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        self._tok = self._scorer._tokenizer
        self._cache: dict[str, list[str]] = {}

    def tokens(self, text: str) -> list[str]:
        if text not in self._cache:
            self._cache[text] = self._tok.tokenize(text)
        return self._cache[text]

    def __call__(self, reference: str, summary: str) -> tuple[float, float, float]:
        m = self._mod
        ref, hyp = self.tokens(reference), self._tok.tokenize(summary)
        r1 = m._score_ngrams(m._create_ngrams(ref, 1), m._create_ngrams(hyp, 1)).fmeasure
        r2 = m._score_ngrams(m._create_ngrams(ref, 2), m._create_ngrams(hyp, 2)).fmeasure
        rl = m._score_lcs(ref, hyp).fmeasure
        return r1, r2, rl


def evaluate(systems, docs, rouge) -> list[dict]:
    """ROUGE of every system (speed is measured apart, one process per system)."""
    results = []
    n = len(docs)
    for name, system in systems:
        outputs = [system(d["text"], d["k"]) for d in docs]
        scores = [rouge(d["reference"], " ".join(out)) for d, out in zip(docs, outputs)]
        short = sum(len(out) < d["k"] for d, out in zip(docs, outputs))
        results.append({"system": name, "rouge1": sum(s[0] for s in scores) / n,
                        "rouge2": sum(s[1] for s in scores) / n, "rougeL": sum(s[2] for s in scores) / n,
                        "short_summaries": short})
    return results


SYSTEMS = {
    "lead-k": lambda: lead_system,
    "seqtool (default)": lambda: seqtool_system(),
    "seqtool lexrank": lambda: method_system("lexrank"),
    "seqtool lexrank continuous": lambda: method_system("lexrank", lexrank_threshold=None),
    "seqtool lsa": lambda: method_system("lsa"),
    "seqtool lsa, 1 dimension": lambda: method_system("lsa", lsa_dimensions=1),
    "seqtool lead": lambda: method_system("lead"),
    "sumy-textrank": lambda: sumy_system("sumy-textrank"),
    "sumy-textrank-regex": lambda: sumy_system("sumy-textrank-regex"),
    "sumy-textrank-nltk": lambda: sumy_system("sumy-textrank-nltk"),
    "sumy-textrank-nltk-regex": lambda: sumy_system("sumy-textrank-nltk-regex"),
    "sumy-lexrank": lambda: sumy_system("sumy-lexrank"),
    "sumy-lsa": lambda: sumy_system("sumy-lsa"),
}


def speed_worker(name: str, limit: int | None) -> None:
    """In a fresh process: CPU seconds of one system over the articles (it pays its own GC)."""
    docs = load(limit)
    system = SYSTEMS[name]()
    system(docs[0]["text"], docs[0]["k"])  # imports and first-use caches out of the timing
    t0 = time.process_time()
    for d in docs:
        system(d["text"], d["k"])
    cpu = time.process_time() - t0
    print(json.dumps({"system": name, "cpu_seconds": cpu, "docs_per_s": len(docs) / cpu}))


def speed(names: list[str], limit: int | None, rounds: int = 2) -> dict:
    """docs/s per system, each run alone in its own process; rounds alternate to spread load changes."""
    cpu: dict[str, list] = {name: [] for name in names}
    n = len(load(limit))
    for _ in range(rounds):
        for name in names:
            out = subprocess.run([sys.executable, __file__, "--speed-worker", name]
                                 + (["--limit", str(limit)] if limit else []),
                                 capture_output=True, text=True, check=True)
            cpu[name].append(json.loads(out.stdout.splitlines()[-1])["cpu_seconds"])
    return {name: n / min(v) for name, v in cpu.items()}


def batch_run(jobs: int, parent: Path | None = None) -> dict:
    """One whole-process batch into a new folder, removed at once (parent None) or left in
    `parent` for the caller to remove after its last round: on ext4 without a journal (this
    machine's) the allocator skips inodes freed in the last 60-300 s, scanning past each of
    them: a batch run right after three earlier outputs were deleted spent 0.44 s in the kernel,
    against 0.16-0.19 s with them kept (docs/summarize.md, "Batch speed")."""
    out = Path(tempfile.mkdtemp(prefix="bench-summarize-", dir=parent))
    try:
        cmd = [sys.executable, "-m", "seqtool", "summarize", str(DATA / "News Articles"), "--out-dir", str(out),
               "--jobs", str(jobs), "--errors", "replace", "-n", "3"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        written = sum(1 for p in out.rglob("*.txt"))
        return {"command": " ".join(cmd[1:]).replace(str(out), "OUT"), "seconds": seconds,
                "exit_code": proc.returncode, "summaries_written": written, "stderr": proc.stderr[-500:]}
    finally:
        if parent is None:
            shutil.rmtree(out, ignore_errors=True)


def nltk_sentences_check() -> dict:
    """sumy's own Tokenizer (NLTK's Punkt code, seqtool's parameters) against seqtool's
    split_paragraph on every paragraph sumy's PlaintextParser cuts from the articles."""
    from sumy.parsers.plaintext import PlaintextParser

    native = sumy_native_tokenizer()

    class Paragraphs:  # records what the parser hands a tokenizer
        language = "english"

        def __init__(self):
            self.seen = []

        def to_sentences(self, paragraph):
            self.seen.append(paragraph)
            return ()

        def to_words(self, sentence):
            return ()

    record = Paragraphs()
    for d in load(None):
        PlaintextParser(d["text"], record).document  # noqa: B018  (parsing is the side effect)
    differ = [p for p in record.seen if list(native.to_sentences(p)) != split_paragraph(p)]
    for p in differ[:25]:
        print(f"differs: {' '.join(p.split())[:160]!r}", file=sys.stderr)
    print(f"{len(record.seen)} paragraphs: sumy's own Tokenizer gives seqtool's sentences on "
          f"{len(record.seen) - len(differ)}, differs on {len(differ)}", flush=True)
    return {"paragraphs": len(record.seen), "differ": len(differ)}


# --batch-vs-sumy's peers: (system, target ratio, label). The first two are sumy as its users
# run it (its own Tokenizer: NLTK's Punkt code and words); the last two give sumy seqtool's
# splitter instead (faster than NLTK's Punkt: sumy measured faster than it runs).
BATCH_PEERS = [("sumy-textrank-nltk", 10.0, "sumy TextRank, its own Tokenizer (NLTK Punkt + word_tokenize)"),
               ("sumy-textrank-nltk-regex", 4.0, "sumy TextRank, NLTK Punkt sentences, \\w+ words"),
               ("sumy-textrank", 10.0, "sumy TextRank given seqtool's splitter, NLTK Treebank words"),
               ("sumy-textrank-regex", 4.0, "sumy TextRank given seqtool's splitter, \\w+ words")]


def batch_vs_sumy(rounds: int) -> dict:
    """Issue 22: the whole-process batch (`--out-dir`, --jobs 1, process start and every write
    included) against sumy TextRank's in-process rate, with NLTK words and with \\w+ words.

    The peers (BATCH_PEERS): first sumy as its users run it, sumy's own Tokenizer("english")
    (nltk.tokenize.PunktTokenizer on seqtool's offline Punkt parameters written as NLTK's
    punkt_tab, sumy's extra abbreviations, nltk.word_tokenize), and the same sentences with
    \\w+ words; then, as before, sumy given seqtool's own splitter (a tokenizer object).
    On the 10,534 paragraphs sumy's parser cuts from the articles, NLTK's Punkt code on
    the same parameters gives seqtool's sentences on all but 21: 16 where NLTK splits a
    run of "!!", "??" or ". ." and leaves the last mark as a sentence of its own, 4
    where sumy's extra abbreviations (e.g., i.e.) join two, 1 where NLTK keeps a run of
    spaces inside a sentence.

    seqtool's rate is 2,225 / wall seconds and, beside it, 2,225 / the child's CPU seconds
    (user + sys: what the load of a shared machine does not inflate); sumy's is CPU time
    in its own process (speed_worker), the best of `rounds`, taken in turns with seqtool's."""
    import resource

    n = len(load(None))
    wall, cpu, peers = [], [], {name: [] for name, _, _ in BATCH_PEERS}
    outputs = Path(tempfile.mkdtemp(prefix="bench-summarize-rounds-"))  # removed after the last round
    try:
        for _ in range(rounds):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            b = batch_run(1, outputs)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if b["exit_code"] != 0 or b["summaries_written"] != n:
                raise SystemExit(f"batch failed: {b}")
            wall.append(b["seconds"])
            cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
            for name in peers:
                out = subprocess.run([sys.executable, __file__, "--speed-worker", name], capture_output=True,
                                     text=True, check=True)
                peers[name].append(json.loads(out.stdout.splitlines()[-1])["cpu_seconds"])
    finally:
        shutil.rmtree(outputs, ignore_errors=True)
    ours_wall, ours_cpu = n / min(wall), n / min(cpu)
    report = {"articles": n, "seqtool_batch_wall_s": min(wall), "seqtool_batch_cpu_s": min(cpu),
              "seqtool_docs_per_s_wall": ours_wall, "seqtool_docs_per_s_cpu": ours_cpu,
              "load": os.getloadavg()[0]}
    print(f"batch --jobs 1: {ours_wall:.0f} docs/s wall ({min(wall):.2f} s), {ours_cpu:.0f} docs/s CPU "
          f"({min(cpu):.2f} s)", flush=True)
    for name, target, label in BATCH_PEERS:
        rate = n / min(peers[name])
        report[name] = {"label": label, "docs_per_s": rate, "ratio_wall": ours_wall / rate,
                        "ratio_cpu": ours_cpu / rate, "target": target}
        print(f"  vs {label}: {rate:.0f} docs/s in-process: {ours_wall / rate:.1f}x wall, "
              f"{ours_cpu / rate:.1f}x CPU (target >= {target:g}x)", flush=True)
    print(f"load average {report['load']:.2f}", flush=True)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="articles per category (default: all 2,225)")
    ap.add_argument("--variants", action="store_true", help="also score every --similarity")
    ap.add_argument("--no-sumy", action="store_true")
    ap.add_argument("--no-batch", action="store_true")
    ap.add_argument("--no-methods", action="store_true", help="skip seqtool's lexrank/lsa/lead rows")
    ap.add_argument("--no-speed", action="store_true", help="ROUGE only (the speed runs take longest)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--rounds", type=int, default=2, help="speed runs per system (the best counts)")
    ap.add_argument("--speed-worker", help=argparse.SUPPRESS)
    ap.add_argument("--batch-vs-sumy", action="store_true",
                    help="only the whole-process batch (--jobs 1) against sumy TextRank: its own NLTK "
                         "tokenizer, then given seqtool's splitter (NLTK and regex words each)")
    ap.add_argument("--nltk-sentences", action="store_true",
                    help="only compare sumy's own (NLTK Punkt) sentences with seqtool's on the articles")
    args = ap.parse_args()
    if args.nltk_sentences:
        nltk_sentences_check()
        return
    if args.speed_worker:
        speed_worker(args.speed_worker, args.limit)
        return
    if args.batch_vs_sumy:
        report = batch_vs_sumy(args.rounds)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
        return

    docs = load(args.limit)
    print(f"BBC News Summary: {len(docs)} articles, mean k = {sum(d['k'] for d in docs) / len(docs):.2f}, "
          f"load {os.getloadavg()[0]:.2f} (the CPU is shared; timings are under that load)", flush=True)
    rouge = Rouge()
    systems = [("lead-k", lead_system), ("seqtool (default)", seqtool_system())]
    if args.variants:
        systems += [(f"seqtool --similarity {s}", seqtool_system(s)) for s in ("overlap", "bm25", "tfidf")]
        systems += [("seqtool lsa, 1 dimension", SYSTEMS["seqtool lsa, 1 dimension"]())]
    if not args.no_methods:
        systems += [(n, SYSTEMS[n]()) for n, _ in PAIRS if n != "seqtool (default)"]
    if not args.no_sumy:
        systems += [(n, sumy_system(n)) for n in ("sumy-textrank", "sumy-lexrank", "sumy-lsa")]
    results = evaluate(systems, docs, rouge)
    rates = {} if args.no_speed else speed([n for n in SYSTEMS if n in {name for name, _ in systems}],
                                           args.limit, args.rounds)
    print(f"{'system':28} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'docs/s':>9}", flush=True)
    for r in results:
        name = r["system"]
        r["docs_per_s"] = rates.get(name)
        rate = f"{rates[name]:9.1f}" if name in rates else f"{'':>9}"
        print(f"{name:28} {r['rouge1']:8.4f} {r['rouge2']:8.4f} {r['rougeL']:8.4f} {rate}", flush=True)
    by = {r["system"]: r for r in results}
    ours = by["seqtool (default)"]
    report: dict = {"articles": len(docs), "results": results}
    if "sumy-textrank" in by and rates:
        ratio = ours["docs_per_s"] / by["sumy-textrank"]["docs_per_s"]
        report["speed_ratio_vs_sumy_textrank"] = ratio
        print(f"speed: seqtool {ours['docs_per_s']:.0f} docs/s vs sumy TextRank "
              f"{by['sumy-textrank']['docs_per_s']:.0f} docs/s = {ratio:.1f}x (target >= 10x)")
    if "sumy-textrank" in by:
        beaten = {m: all(ours[m] > by[s][m] for s in ("sumy-textrank", "sumy-lexrank", "sumy-lsa"))
                  for m in ("rouge1", "rouge2", "rougeL")}
        report["beats_every_sumy_method"] = beaten
        print(f"quality: seqtool default beats every sumy method on "
              f"{', '.join(m for m, ok in beaten.items() if ok) or 'nothing'}")
    pairs = [(ours_name, peer) for ours_name, peer in PAIRS if ours_name in by and peer in by]
    if pairs:
        report["methods"] = []
        print(f"{'method (ours vs peer)':44} {'dR-1':>7} {'dR-2':>7} {'dR-L':>7} {'speed':>7}")
    for ours_name, peer in pairs:
        a, p = by[ours_name], by[peer]
        delta = {m: a[m] - p[m] for m in ("rouge1", "rouge2", "rougeL")}
        ratio = a["docs_per_s"] / p["docs_per_s"] if rates else float("nan")
        report["methods"].append({"ours": ours_name, "peer": peer, "delta": delta, "speed_ratio": ratio,
                                  "as_good": all(v >= 0 for v in delta.values())})
        print(f"{ours_name + ' vs ' + peer:44} {delta['rouge1']:+7.4f} {delta['rouge2']:+7.4f} "
              f"{delta['rougeL']:+7.4f} {ratio:6.1f}x")
    if not args.no_batch and args.limit is None:
        b = batch_run(args.jobs)
        report["batch"] = b
        print(f"batch: {b['summaries_written']} summaries in {b['seconds']:.1f} s with --jobs {args.jobs} "
              f"(exit {b['exit_code']}; target < 30 s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
