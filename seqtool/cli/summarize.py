"""seqtool summarize: extractive TextRank summaries."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from .options import EncodingOpt, ErrorsOpt, JsonOpt, check_errors_mode, examples

COMMAND = dict(
    help="Summarize documents: the best sentences by TextRank (default), LexRank, LSA or Lead-k, "
    "in document order.\n\n"
    "Sentences are split offline with Punkt inside each paragraph (never across a blank line); "
    "each sentence is a node, the similarity of two sentences weighs the edge between them, and "
    "PageRank ranks the nodes. Ties go to the earlier sentence; a document whose sentences share "
    "no word at all gets its first sentences. Exact repeats appear once.\n\n"
    "The default similarity is overlap, the paper's own formula: on the BBC News Summary benchmark "
    "(2,225 articles) it scored best on ROUGE-1, -2 and -L, tfidf a close second and bm25 last "
    "(see docs/summarize.md); it needs no statistics beyond the two sentences. "
    "--similarity embedding uses word vectors (--embeddings).\n\n"
    "--method picks the scorer, each with sumy's equivalent: textrank (TextRankSummarizer), lexrank "
    "(LexRankSummarizer; --continuous for continuous LexRank), lsa (LsaSummarizer) and lead (the first "
    "sentences). HTML pages (.html/.htm, or text starting <html) are reduced to their text (--format); "
    "--language picks the sentence splitter, stop words and stemmer.",
    epilog=examples("cat article.txt | seqtool summarize - -n 3", "seqtool summarize page.html -n 3",
                    "seqtool summarize article.txt --method lexrank --continuous -n 2",
                    "seqtool summarize artikel.txt --language de --method lsa",
                    "seqtool summarize inbox/ --out-dir summaries/ --incremental --jobs 2",
                    "seqtool summarize --jsonl docs.jsonl > summaries.jsonl"),
)

SimilarityOpt = Annotated[Optional[str], typer.Option(
    "--similarity", help="Edge weight: overlap (default: the paper's formula, best on the benchmark), "
    "tfidf (cosine), bm25 (Barrios et al.) or embedding (cosine of averaged word vectors, needs --embeddings).")]


def summarize(
    inputs: Annotated[Optional[List[str]], typer.Argument(help="Files, directories, globs or '-' (stdin).")] = None,
    sentences: Annotated[Optional[int], typer.Option("-n", "--sentences", help="Sentences per summary (default 3).")] = None,
    ratio: Annotated[Optional[float], typer.Option("--ratio", help="Summary size as a share of the sentences, e.g. 0.2.")] = None,
    words: Annotated[Optional[int], typer.Option("--words", help="Word budget: best sentences while they fit (at least one).")] = None,
    similarity: SimilarityOpt = None,
    embeddings: Annotated[Optional[str], typer.Option("--embeddings", help="Word vectors for --similarity embedding (a name from `seqtool embed` or a vectors file).")] = None,
    damping: Annotated[float, typer.Option("--damping", help="PageRank damping factor.")] = 0.85,
    split: Annotated[str, typer.Option("--split", help="auto: Punkt per paragraph, un-wrapped lines stand alone; punkt: Punkt per paragraph; lines: one sentence per non-empty line.")] = "auto",
    keywords: Annotated[int, typer.Option("--keywords", help="Also list this many TextRank keywords.")] = 0,
    stopwords: Annotated[Optional[str], typer.Option("--stopwords", help="Stop-word file (one word a line), or 'none'. Default: the shipped list of --language (English only so far; other languages: none).")] = None,
    method: Annotated[str, typer.Option("--method", help="textrank (default; sumy TextRankSummarizer), lexrank (Erkan & Radev; sumy LexRankSummarizer), lsa (Steinberger & Jezek; sumy LsaSummarizer) or lead (the first sentences).")] = "textrank",
    lexrank_threshold: Annotated[Optional[float], typer.Option("--lexrank-threshold", help="LexRank: an edge where the idf-modified cosine exceeds this (default 0.1, the paper's; sumy LexRankSummarizer.threshold).")] = None,
    continuous: Annotated[bool, typer.Option("--continuous", help="LexRank: weigh edges by the cosine instead of a threshold (continuous LexRank; sumy's LexRankSummarizer continuous form).")] = False,
    lsa_dimensions: Annotated[Optional[str], typer.Option("--lsa-dimensions", help="LSA: half (default: singular values at least half the largest, the paper's), all (what sumy LsaSummarizer keeps) or a count.")] = None,
    language: Annotated[str, typer.Option("--language", help="Sentence splitter, stop words and stemmer of this language, a name or ISO code: english, de, fr... (sumy's Tokenizer(language) and Stemmer(language)).")] = "english",
    input_format: Annotated[str, typer.Option("--format", help="auto (HTML for .html/.htm files and text starting <!doctype html or <html), text or html (sumy's HtmlParser vs PlaintextParser).")] = "auto",
    as_json: JsonOpt = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help='Inputs are JSON lines {"id", "text"}; writes {"id", "summary", "scores", "indices", "sentences"} lines.')] = False,
    out_dir: Annotated[Optional[str], typer.Option("--out-dir", help="Batch mode: one summary file per input at the same relative path (with --json: NAME.json). Ends with one summary line on stderr.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for --out-dir and --jsonl (0: one per CPU).")] = 1,
    incremental: Annotated[bool, typer.Option("--incremental", help="With --out-dir: skip inputs whose content is unchanged since the last run.")] = False,
    shard: Annotated[Optional[str], typer.Option("--shard", help="Only the K-th of N stable slices (K/N, 1-based): split a collection across machines.")] = None,
    eval_refs: Annotated[Optional[str], typer.Option("--eval", help="ROUGE-1/2/L F1 against reference files with the same relative names in this folder.")] = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
) -> None:
    from ..core import console
    from ..core.errors import UsageError
    from ..summarize import SummaryOptions

    check_errors_mode(errors)
    if not inputs:
        raise UsageError("give at least one input (a file, directory, glob or '-')")
    if similarity is None:
        similarity = "embedding" if embeddings else "overlap"
    modes = [name for name, on in (("--out-dir", out_dir), ("--jsonl", jsonl), ("--eval", eval_refs)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined")
    if incremental and not out_dir:
        raise UsageError("--incremental needs --out-dir")
    if shard and not (out_dir or jsonl):
        raise UsageError("--shard works with --out-dir or --jsonl")
    if jobs < 0:
        raise UsageError(f"--jobs must be >= 0 (got {jobs})")
    _check_method_options(method, lexrank_threshold, continuous, lsa_dimensions)
    options = SummaryOptions(sentences=sentences, ratio=ratio, words=words, similarity=similarity,
                             damping=damping, split=split, keywords=keywords, stopwords=stopwords,
                             method=method,
                             lexrank_threshold=None if continuous else (0.1 if lexrank_threshold is None
                                                                        else lexrank_threshold),
                             lsa_dimensions=_lsa_dimensions(lsa_dimensions or "half"), language=language,
                             format=input_format)
    if stopwords is not None:
        from ..summarize import load_stopwords

        load_stopwords(stopwords, options.language)  # a missing file fails now, not once per input
    vectors = _load_vectors(similarity, embeddings)
    from ..summarize.parallel import resolve_jobs

    jobs = resolve_jobs(jobs)
    from ..summarize import api

    if out_dir:
        from ..summarize.batch import check_result

        result = api.folder(inputs, out_dir, options, jobs=jobs, incremental=incremental, shard=shard,
                            as_json=as_json, encoding=encoding, errors=errors, vectors=vectors)
        console.note(result.summary_line())  # also when stderr is a log file (cron)
        check_result(result)
        return
    from ..core.io import expand_inputs

    sources = expand_inputs(inputs)
    if jsonl:
        _run_jsonl(sources, options, jobs, shard, encoding, errors, vectors)
        return
    if eval_refs:
        _run_eval(inputs, eval_refs, options, as_json, encoding, errors, vectors)
        return
    _run_plain(sources, options, as_json, encoding, errors, vectors)


def _check_method_options(method: str, threshold: Optional[float], continuous: bool,
                          lsa_dimensions: Optional[str]) -> None:
    """An option of another method than --method would be silently ignored: refuse it."""
    from ..core.errors import UsageError

    if continuous and threshold is not None:
        raise UsageError("--continuous and --lexrank-threshold cannot be combined (continuous LexRank has no threshold)")
    lexrank = [name for name, on in (("--continuous", continuous), ("--lexrank-threshold", threshold is not None))
               if on]
    if lexrank and method != "lexrank":
        raise UsageError(f"{lexrank[0]} is a LexRank option: add --method lexrank")
    if lsa_dimensions is not None and method != "lsa":
        raise UsageError("--lsa-dimensions is an LSA option: add --method lsa")


def _lsa_dimensions(spec: str):
    """--lsa-dimensions: "half", "all" or a count (SummaryOptions says what is wrong with anything else)."""
    spec = spec.strip().lower()
    return int(spec) if spec.isdigit() else spec


def _load_vectors(similarity: str, spec: Optional[str]):
    from ..core.errors import UsageError

    if similarity != "embedding":
        if spec:
            raise UsageError("--embeddings is only used with --similarity embedding")
        return None
    if not spec:
        raise UsageError("--similarity embedding needs --embeddings VECTORS")
    try:
        from ..vectors import load_vectors
    except ImportError:
        raise UsageError("--similarity embedding needs seqtool.vectors, which this build lacks") from None
    return load_vectors(spec)


def _run_plain(sources, options, as_json, encoding, errors, vectors) -> None:
    from ..core import console
    from ..summarize import api

    many = len(sources) > 1
    for number, doc in enumerate(api.documents(sources, options, encoding=encoding, errors=errors,
                                               vectors=vectors)):
        summary = doc.summary
        if not summary.sentences:
            console.warn(f"{doc.name}: no sentences; the summary is empty")
        if as_json:
            console.emit_json(doc.to_json())
            continue
        if many:
            if number:
                console.emit("")
            console.emit(f"==> {doc.name} <==")
        for sentence in summary.sentences:
            console.emit(sentence)
        if summary.keywords:
            console.emit("keywords: " + ", ".join(summary.keywords))


def _run_jsonl(sources, options, jobs, shard, encoding, errors, vectors) -> None:
    from ..core import console
    from ..summarize import api
    from ..summarize.jsonl import JsonlResult, check_failures

    result = JsonlResult()
    for item in api.records(sources, options, jobs=jobs, shard=shard, encoding=encoding, errors=errors,
                            vectors=vectors):
        result.records += 1
        if item.error is not None:
            result.failed.append(item.error)
            console.error_line(item.error)
        else:
            console.emit_json(item.record)
    check_failures(result)


def _run_eval(inputs, references, options, as_json, encoding, errors, vectors) -> None:
    from ..core import console
    from ..core.errors import InputError
    from ..summarize import api
    from ..summarize.evaluate import METRICS, EvalResult

    result = EvalResult()
    if not as_json:
        console.emit("document\t" + "\t".join(METRICS))
    for row in api.evaluation(inputs, references, options, encoding=encoding, errors=errors, vectors=vectors):
        name, scores, error = row.document, row.scores, row.error
        if error is not None:
            result.failed.append(error)
            console.error_line(error)
            continue
        result.rows.append((name, scores))
        if as_json:
            console.emit_json({"document": name, **{m: round(scores[m], 6) for m in METRICS}})
        else:
            console.emit(name + "\t" + "\t".join(f"{scores[m]:.4f}" for m in METRICS))
    mean = result.mean()
    if as_json:
        console.emit_json({"mean": {m: round(mean[m], 6) for m in METRICS}, "documents": len(result.rows)})
    else:
        console.emit("MEAN\t" + "\t".join(f"{mean[m]:.4f}" for m in METRICS))
    if result.failed:
        raise InputError(f"{len(result.failed)} document(s) could not be evaluated (reported above)")
