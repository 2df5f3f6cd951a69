"""seqtool summarize: extractive TextRank summaries."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from ..summarize.options import SummaryOptions
from .options import EncodingOpt, ErrorsOpt, Given, JsonOpt, check_errors_mode, examples, with_options

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

@with_options(SummaryOptions)
def summarize(
    inputs: Annotated[Optional[List[str]], typer.Argument(help="Files, directories, globs or '-' (stdin).")] = None,
    embeddings: Annotated[Optional[str], typer.Option("--embeddings", help="Word vectors for --similarity embedding (a name from `seqtool embed` or a vectors file).")] = None,
    continuous: Annotated[bool, typer.Option("--continuous", help="LexRank: weigh edges by the cosine instead of a threshold (continuous LexRank; sumy's LexRankSummarizer continuous form).")] = False,
    as_json: JsonOpt = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help='Inputs are JSON lines {"id", "text"}; writes {"id", "summary", "scores", "indices", "sentences"} lines.')] = False,
    out_dir: Annotated[Optional[str], typer.Option("--out-dir", help="Batch mode: one summary file per input at the same relative path (with --json: NAME.json). Ends with one summary line on stderr.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for --out-dir and --jsonl (0: one per CPU).")] = 1,
    incremental: Annotated[bool, typer.Option("--incremental", help="With --out-dir: skip inputs whose content is unchanged since the last run.")] = False,
    shard: Annotated[Optional[str], typer.Option("--shard", help="Only the K-th of N stable slices (K/N, 1-based): split a collection across machines.")] = None,
    eval_refs: Annotated[Optional[str], typer.Option("--eval", help="ROUGE-1/2/L F1 against reference files with the same relative names in this folder.")] = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    given: Given = None,
) -> None:
    """The summary options (-n, --similarity, --method, ...) are SummaryOptions' fields (with_options)."""
    from ..core import console
    from ..core.errors import UsageError

    check_errors_mode(errors)
    if not inputs:
        raise UsageError("give at least one input (a file, directory, glob or '-')")
    values, explicit = dict(given.values), given.explicit
    if "similarity" not in explicit and embeddings:
        values["similarity"] = "embedding"
    similarity = values["similarity"]
    modes = [name for name, on in (("--out-dir", out_dir), ("--jsonl", jsonl), ("--eval", eval_refs)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined")
    if incremental and not out_dir:
        raise UsageError("--incremental needs --out-dir")
    if shard and not (out_dir or jsonl):
        raise UsageError("--shard works with --out-dir or --jsonl")
    if jobs < 0:
        raise UsageError(f"--jobs must be >= 0 (got {jobs})")
    _check_method_options(values["method"], "lexrank_threshold" in explicit, continuous,
                          "lsa_dimensions" in explicit)
    if continuous:
        values["lexrank_threshold"] = None
    values["lsa_dimensions"] = _lsa_dimensions(str(values["lsa_dimensions"]))
    options = SummaryOptions(**values)
    if options.stopwords is not None:
        from ..summarize import load_stopwords

        load_stopwords(options.stopwords, options.language)  # a missing file fails now, not once per input
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
    from ..core.sources import expand_inputs

    sources = expand_inputs(inputs)
    if jsonl:
        _run_jsonl(sources, options, jobs, shard, encoding, errors, vectors)
        return
    if eval_refs:
        _run_eval(inputs, eval_refs, options, as_json, encoding, errors, vectors)
        return
    _run_plain(sources, options, as_json, encoding, errors, vectors)


def _check_method_options(method: str, threshold_given: bool, continuous: bool, lsa_given: bool) -> None:
    """An option of another method than --method would be silently ignored: refuse it."""
    from ..core.errors import UsageError

    if continuous and threshold_given:
        raise UsageError("--continuous and --lexrank-threshold cannot be combined (continuous LexRank has no threshold)")
    lexrank = [name for name, on in (("--continuous", continuous), ("--lexrank-threshold", threshold_given)) if on]
    if lexrank and method != "lexrank":
        raise UsageError(f"{lexrank[0]} is a LexRank option: add --method lexrank")
    if lsa_given and method != "lsa":
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
