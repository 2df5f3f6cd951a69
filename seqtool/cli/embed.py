"""seqtool embed: train, import, query and evaluate word vectors."""

from __future__ import annotations

import sys
from typing import Annotated, List, Optional

import typer

from ..vectors.options import TrainConfig
from . import embed_query
from .embed_query import CaseOpt, LimitOpt, VectorsArg
from .options import EncodingOpt, ErrorsOpt, Given, JsonOpt, NameOpt, check_errors_mode, examples, with_options

app = typer.Typer(
    help="Word vectors: train (word2vec, fastText, GloVe), import/export, query and evaluate.\n\n"
    "VECTORS is the name of stored vectors (seqtool models list) or a vector file: word2vec binary "
    "or text, GloVe text, fastText .vec (optionally .gz) or a fastText .bin model, detected from the content.",
    epilog=examples("seqtool embed train corpus.txt --algo glove --name g100", "seqtool embed neighbors g100 king queen --top 5", "seqtool embed import glove.6B.100d.txt --name glove100", "seqtool embed analogy glove100 man king woman", "seqtool embed evaluate glove100"),
    no_args_is_help=True,
)

ForceOpt = Annotated[bool, typer.Option("--force", help="Replace a model of another kind stored under --name "
                                        "(vectors of the same name are always replaced, the previous version kept).")]


@app.command(epilog=examples("seqtool embed train corpus.txt --dim 100 --name w2v --seed 1 --workers 1", "seqtool embed train corpus.txt --algo glove --window 10 --name g100", "seqtool embed train corpus.txt --algo fasttext --sg --bucket 200000 --name ft", "seqtool embed train corpus.txt --sg --negative 10 --sample 1e-4 --alpha 0.05", "seqtool embed train reviews.jsonl --algo doc2vec --dbow --dim 100 --name docs"))
@with_options(TrainConfig)
def train(
    corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'.")],
    name: NameOpt = None,
    force: ForceOpt = False,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    as_json: JsonOpt = False,
    given: Given = None,
) -> None:
    """Train word vectors on a corpus (one sentence per line, whitespace-tokenised) and store them.

    The options and their defaults are gensim's (Word2Vec, FastText): a model trained here equals
    gensim's trained on the same corpus with the same options, --seed and --workers 1."""
    from ..core.console import emit, emit_json, is_quiet, warn
    from ..vectors import api

    config = TrainConfig(**given.values)
    ignored = config.ignored(given.explicit)
    if ignored:
        warn(f"--algo {config.algo} does not use {', '.join(ignored)}; ignored")
    result = api.train(corpus, config, name=name, encoding=encoding, errors=check_errors_mode(errors), force=force)
    vecs, metrics = result.vectors, result.metrics
    documents = config.algo == "doc2vec"  # the rows are documents, counted in the metrics
    if result.default_name and not is_quiet():
        what = "document vectors" if documents else "vectors"
        print(f"seqtool: stored the {what} as '{result.name}' (no --name given)", file=sys.stderr)
    if documents:
        record = {"name": result.name, "algo": config.algo, "dm": config.dm, **metrics}
        size = f"documents={metrics['documents']}"
    else:
        record = {"name": result.name, "algo": config.algo, "words": len(vecs), "dim": vecs.dim, **metrics}
        size = f"words={len(vecs)}"
    if as_json:
        emit_json(record)
    else:
        emit(f"{result.name}\t{config.algo}\t{size}\tdim={vecs.dim}\tseconds={metrics['train_seconds']}")


@app.command("import", epilog=examples("seqtool embed import glove.6B.100d.txt --name glove100", "seqtool embed import GoogleNews-vectors-negative300.bin.gz --name gnews"))
def import_(
    file: Annotated[str, typer.Argument(help="word2vec (binary/text), GloVe, fastText .vec, or a fastText .bin model (its n-grams kept).")],
    name: Annotated[str, typer.Option("--name", help="Name in the model store.")],
    limit: LimitOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Store a vector file in the model store for fast (memory-mapped) loading."""
    from ..core.console import emit, emit_json
    from ..vectors import api

    result = api.import_vectors(file, name, limit=limit, force=force)
    vecs = result.vectors
    if as_json:
        emit_json({"name": name, "format": result.format, "words": len(vecs), "dim": vecs.dim,
                   "seconds": result.seconds})
    else:
        emit(f"{name}\t{result.format}\twords={len(vecs)}\tdim={vecs.dim}\tseconds={result.seconds:.2f}")


@app.command(epilog=examples("seqtool embed export glove100 --format word2vec --binary > v.bin", "seqtool embed export w2v --limit 10000 -o top10k.txt"))
def export(
    vectors: VectorsArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="word2vec (with a header) or glove (without).")]
    = "word2vec",
    binary: Annotated[bool, typer.Option("--binary", help="word2vec binary instead of text.")] = False,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Output file (default: stdout).")]
    = None,
    limit: LimitOpt = None,
) -> None:
    """Write vectors as a word2vec or GloVe file."""
    from ..vectors import api

    api.export(vectors, output=output, fmt=fmt, binary=binary, limit=limit)


# The queries (one concern: answering them, from the command line or a stream) live in embed_query.
app.command(epilog=embed_query.NEIGHBORS_EXAMPLES)(embed_query.neighbors)
app.command(epilog=embed_query.ANALOGY_EXAMPLES)(embed_query.analogy)
app.command(epilog=embed_query.SIMILARITY_EXAMPLES)(embed_query.similarity)
app.command("doesnt-match", epilog=embed_query.DOESNT_MATCH_EXAMPLES)(embed_query.doesnt_match)


@app.command(epilog=examples("seqtool embed evaluate glove100", "seqtool embed evaluate w2v --limit 30000 --json"))
def evaluate(
    vectors: VectorsArg,
    analogies: Annotated[Optional[str], typer.Option("--analogies", help="Analogy questions (': section' "
                                                     "lines, then 'a b c d'); default: gensim's "
                                                     "questions-words.txt.")] = None,
    pairs: Annotated[Optional[str], typer.Option("--pairs", help="Word pairs 'a TAB b TAB score'; default: "
                                                 "gensim's wordsim353.tsv.")] = None,
    only: Annotated[Optional[str], typer.Option("--only", help="analogies or pairs (default: both).")] = None,
    restrict: Annotated[int, typer.Option("--restrict", help="Use only the first N words, as gensim does.")]
    = 300000,
    case_sensitive: Annotated[bool, typer.Option("--case-sensitive", help="Match words exactly (default: "
                                                 "upper-case everything, like gensim).")] = False,
    method: Annotated[str, typer.Option("--method", help="Analogy method: add (3CosAdd, gensim's) or mul.")]
    = "add",
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Analogy accuracy per section and overall (with coverage), and Spearman on word pairs (with the
    OOV ratio): the numbers gensim's evaluate_word_analogies / evaluate_word_pairs give."""
    import os

    from ..core.console import emit, emit_json
    from ..vectors import api

    result = api.evaluate(vectors, analogies=analogies, pairs=pairs, only=only, restrict=restrict,
                          case_sensitive=case_sensitive, method=method, limit=limit)
    out: dict = {}
    if result.analogies is not None:
        res = result.analogies
        out["analogies"] = {"file": res.file, "method": res.method, "oov_ratio": res.oov_ratio,
                            "sections": [s.as_dict() for s in res.sections], "total": res.total.as_dict()}
        if not as_json:
            for s in res.sections + [res.total]:
                label = "total" if s is res.total else s.name
                emit(f"analogies\t{label}\taccuracy={s.accuracy:.4f}\tcorrect={s.correct}\t"
                     f"attempted={s.attempted}\tquestions={s.questions}\tcoverage={s.coverage:.4f}")
    if result.pairs is not None:
        pr = result.pairs
        out["pairs"] = {"file": pr.file, "spearman": pr.spearman, "spearman_p": pr.spearman_p,
                        "pearson": pr.pearson, "pearson_p": pr.pearson_p, "pairs": pr.pairs, "oov": pr.oov,
                        "oov_ratio": pr.oov_ratio}
        if not as_json:
            emit(f"pairs\t{os.path.basename(pr.file)}\tspearman={pr.spearman:.4f}\tpearson={pr.pearson:.4f}\t"
                 f"pairs={pr.pairs}\toov={pr.oov}\toov_ratio={pr.oov_ratio:.2f}%")
    if as_json:
        emit_json(out)


@app.command(epilog=examples("seqtool embed plot glove100 king queen paris -o map.png", "seqtool embed plot w2v money bank river --neighbors 8 -o bank.svg"))
def plot(
    vectors: VectorsArg,
    words: Annotated[List[str], typer.Argument(help="Words to place on the map.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Image file (.png, .svg or .pdf).")],
    neighbours: Annotated[int, typer.Option("--neighbors", help="Nearest neighbours drawn per word.")] = 5,
    case_insensitive: CaseOpt = False,
    limit: LimitOpt = None,
) -> None:
    """A 2-D PCA map of the words and their nearest neighbours (needs matplotlib: seqtool[plot])."""
    from ..core.console import emit
    from ..vectors import api

    result = api.plot(vectors, words, output, neighbours=neighbours, case_insensitive=case_insensitive, limit=limit)
    emit(f"{result.output}\twords={len(result.points)}")


@app.command(epilog=examples("seqtool embed info glove100", "seqtool embed info vectors.txt.gz --json"))
def info(vectors: VectorsArg, as_json: JsonOpt = False) -> None:
    """Size, dimension and the first words of some vectors (fastText: the n-gram buckets too)."""
    from ..core.console import emit, emit_json
    from ..vectors import api

    result = api.info(vectors)
    if as_json:
        emit_json({"words": result.words, "dim": result.dim, "first": result.first,
                   **({"subwords": result.subwords} if result.subwords else {})})
    else:
        sub = result.subwords
        extra = f"\tngrams={sub['min_n']}-{sub['max_n']}\tbuckets={sub['bucket']}" if sub else ""
        emit(f"words={result.words}\tdim={result.dim}{extra}\tfirst={' '.join(result.first)}")


@app.command(epilog=examples("seqtool embed infer docs new.txt", "cat new.txt | seqtool embed infer docs - --json"))
def infer(
    model: Annotated[str, typer.Argument(help="Stored doc2vec vectors (seqtool embed train --algo doc2vec).")],
    inputs: Annotated[Optional[List[str]], typer.Argument(help="Documents: files, folders or '-' (see --layout).")] = None,
    layout: Annotated[str, typer.Option("--layout", help="auto, lines, files or jsonl (as for embed train).")] = "auto",
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    as_json: JsonOpt = False,
) -> None:
    """A vector for each new document (gensim's infer_vector, made repeatable): TSV `id v1 v2 ...`
    or JSON lines {"id", "vector"}."""
    from ..core.console import emit, emit_json
    from ..vectors import api

    for doc_id, vector in api.infer_documents(model, inputs or ["-"], layout=layout, encoding=encoding,
                                              errors=check_errors_mode(errors)):
        if as_json:
            emit_json({"id": doc_id, "vector": [round(float(x), 6) for x in vector]})
        else:
            emit(doc_id + "\t" + "\t".join(f"{x:.6g}" for x in vector))
