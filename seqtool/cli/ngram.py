"""seqtool ngram: train, score, predict and generate with n-gram language models."""

from __future__ import annotations

import json
import sys
from typing import Annotated, List, Optional

import typer

from ..core.errors import UsageError
from ..ngram.options import NgramConfig
from .options import (EncodingOpt, ErrorsOpt, Given, JsonOpt, NameOpt, SeedOpt, check_errors_mode, examples,
                      with_options)

ForceOpt = Annotated[bool, typer.Option("--force", help="Replace a model of another kind stored under --name "
                                        "(a model of the same kind is always replaced, its previous version kept).")]

app = typer.Typer(
    help="N-gram language models (modified Kneser-Ney by default), KenLM-compatible ARPA in and out.",
    epilog=examples("seqtool ngram train corpus.txt -n 3 --name tri", "seqtool ngram score tri test.txt --per-sentence", 'seqtool ngram predict tri "students opened their" --top 5', "seqtool ngram generate tri --num 3 --seed 1"),
    no_args_is_help=True,
)

ModelArg = Annotated[str, typer.Argument(help="Model name in the store, or an ARPA file (.arpa or .arpa.gz).")]
LevelOpt = Annotated[Optional[str], typer.Option("--level", help="For ARPA files without a seqtool header: word or char.")]


@app.command(epilog=examples("seqtool ngram train corpus.txt -n 3 --name tri", "seqtool ngram train ptb.train.txt -n 5 --arpa ptb5.arpa.gz", "cat corpus.txt | seqtool ngram train - --smoothing kn --name kn3", "seqtool ngram train big.txt.gz -n 5 --memory 4G --temp-dir /scratch"))
@with_options(NgramConfig)
def train(
    corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'; one sentence per line.")],
    given: Given = None,
    name: NameOpt = None,
    arpa: Annotated[Optional[str], typer.Option("--arpa", help="Also write the model as ARPA (.arpa or .arpa.gz; '-': to stdout, the summary then goes to stderr).")] = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Count n-grams and estimate a smoothed model (stored by name; --arpa writes ARPA too).

    A corpus whose counts pass --memory is counted in sorted runs on disk, as lmplz -S does."""
    from ..core import console
    from ..ngram import api

    check_errors_mode(errors)
    config = NgramConfig(**given.values)
    result = api.train(corpus, config, name=name, arpa=arpa, encoding=encoding, errors=errors, force=force)
    summary = result.summary()
    # With the ARPA text on stdout, the summary must not mix into it.
    write = (lambda line: sys.stderr.write(line + "\n")) if arpa == "-" else console.emit
    if as_json:
        write(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            write(f"{key}\t{' '.join(map(str, value)) if isinstance(value, list) else value}")


def _fmt(x: float) -> str:
    """4 decimals; inf as 'inf' (a zero probability); nan, the perplexity of no tokens, as 'n/a'."""
    if x != x:
        return "n/a"
    return f"{x:.4f}" if abs(x) != float("inf") else str(x)


def _no_nan(record: dict) -> dict:
    """JSON has no NaN: an undefined figure (no tokens scored) is null."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in record.items()}


@app.command(epilog=examples("seqtool ngram score tri test.txt --per-sentence", "seqtool ngram score ptb5.arpa.gz a.txt b.txt --json", "echo 'the company said' | seqtool ngram score ptb5 - --per-word"))
def score(
    model: ModelArg,
    files: Annotated[Optional[List[str]], typer.Argument(help="Text to score, one sentence per line: files, directories, globs or '-' (stdin, the default).", show_default=False)] = None,
    per_sentence: Annotated[bool, typer.Option("--per-sentence", help="One row per sentence, then the total.")] = False,
    per_word: Annotated[bool, typer.Option("--per-word", help="One row per token and </s>: log10 prob, n-gram length used, OOV (KenLM's full_scores); then the sentence's row.")] = False,
    level: LevelOpt = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    as_json: JsonOpt = False,
) -> None:
    """Log10 probability, perplexity (with and without OOVs, as KenLM's query) and OOV count.

    Stupid-backoff models are not normalized: they get log10_score (in-vocabulary tokens only) and no perplexity."""
    from ..core import console
    from ..ngram import api, load_ngram

    check_errors_mode(errors)
    lm = load_ngram(model, level=level)
    if not lm.normalized:
        console.warn("stupid-backoff scores are not probabilities: reporting log10_score (OOV words left "
                     "out) and no perplexity")

    show = repr if lm.level == "char" else str  # a space or tab token stays visible

    def row(i, part) -> None:
        if per_word:
            return word_rows(i, part)
        if as_json:
            if lm.normalized:
                console.emit_json({"sentence": i, "log10_prob": part.log10_prob, "tokens": part.tokens,
                                   "oov": part.oov, "perplexity": part.perplexity})
            else:
                console.emit_json({"sentence": i, "log10_score": part.log10_prob_excl_oov, "tokens": part.tokens,
                                   "oov": part.oov})
        elif lm.normalized:
            console.emit(f"{i}\t{_fmt(part.log10_prob)}\t{part.tokens}\t{part.oov}\t{_fmt(part.perplexity)}")
        else:
            console.emit(f"{i}\t{_fmt(part.log10_prob_excl_oov)}\t{part.tokens}\t{part.oov}")

    def word_rows(i, part) -> None:
        key = "log10_prob" if lm.normalized else "log10_score"
        value = part.log10_prob if lm.normalized else part.log10_prob_excl_oov
        if as_json:
            record = {"sentence": i, "words": [{"token": w.token, key: w.log10_prob, "ngram_length": w.ngram_length,
                                                "oov": w.oov} for w in part.words],
                      key: value, "tokens": part.tokens, "oov": part.oov}
            if lm.normalized:
                record["perplexity"] = part.perplexity
            console.emit_json(_no_nan(record))
            return
        for j, w in enumerate(part.words, start=1):
            console.emit(f"{i}\t{j}\t{show(w.token)}\t{_fmt(w.log10_prob)}\t{w.ngram_length}\t{int(w.oov)}")
        ppl = f"\t{_fmt(part.perplexity)}" if lm.normalized else ""
        console.emit(f"{i}\ttotal\t{_fmt(value)}\t{part.tokens}\t{part.oov}{ppl}")

    summary = api.score(lm, files or ["-"], per_sentence=per_sentence, per_word=per_word, on_sentence=row,
                        encoding=encoding, errors=errors)
    total = summary.total
    per_sentence = per_sentence or per_word
    if as_json:
        console.emit_json(_no_nan(summary.as_dict()))
    elif per_sentence and lm.normalized:
        console.emit(f"total\t{_fmt(total.log10_prob)}\t{total.tokens}\t{total.oov}\t{_fmt(total.perplexity)}"
                     f"\t{_fmt(total.perplexity_excl_oov)}")
    elif per_sentence:
        console.emit(f"total\t{_fmt(total.log10_prob_excl_oov)}\t{total.tokens}\t{total.oov}")
    else:
        for key, value in summary.as_dict().items():
            console.emit(f"{key}\t{_fmt(value) if isinstance(value, float) else value}")


@app.command(epilog=examples('seqtool ngram predict tri "students opened their" --top 5', 'seqtool ngram predict ptb5.arpa.gz "the company" --json'))
def predict(
    model: ModelArg,
    context: Annotated[str, typer.Argument(help="The start of a sentence.")] = "",
    top: Annotated[int, typer.Option("--top", help="How many next tokens to list.")] = 10,
    mid_sentence: Annotated[bool, typer.Option("--mid-sentence", help="The context does not start a sentence (no <s>).")] = False,
    level: LevelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The most likely next tokens after CONTEXT, with their probabilities."""
    from ..core import console
    from ..ngram import api

    result = api.predict(model, context, top=top, mid_sentence=mid_sentence, level=level)
    for word, p in result.tokens:
        if as_json:
            console.emit_json({"token": word, "prob": p})
        else:
            console.emit(f"{word!s}\t{p:.6f}" if result.level == "word" else f"{word!r}\t{p:.6f}")


@app.command(epilog=examples("seqtool ngram generate tri --num 3 --seed 1", 'seqtool ngram generate tri --prime "the company" --temp 0.8 --top-p 0.9'))
def generate(
    model: Annotated[Optional[str], typer.Argument(help="Model name or ARPA file (default: the last n-gram model trained).")] = None,
    temp: Annotated[float, typer.Option("--temp", help="Temperature; 0 = greedy.")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample among the smallest set with this much mass.")] = None,
    seed: SeedOpt = None,
    num: Annotated[int, typer.Option("--num", help="How many sentences.")] = 1,
    max_len: Annotated[Optional[int], typer.Option("--max-len", help="Most tokens per sentence [default: 100 words or 500 chars, as seqtool sample].", show_default=False)] = None,
    prime: Annotated[str, typer.Option("--prime", help="Start every sentence with this text.")] = "",
    level: LevelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sample sentences (one per line)."""
    import numpy as np

    from ..core import console
    from ..core.sampling import SamplingOptions
    from ..ngram import api

    # --num is checked by api.generate (the library's callers get the same error); --max-len here,
    # where the option's name is known (the api's `length` may be 0).
    if max_len is not None and max_len < 1:
        raise UsageError(f"--max-len must be at least 1 (got {max_len})")
    options = SamplingOptions(temperature=temp, top_k=top_k, top_p=top_p)
    for sentence in api.generate(model, num=num, prime=prime, length=max_len, one_sentence=True, options=options,
                                 rng=np.random.default_rng(seed), level=level):
        console.emit_json({"text": sentence.text}) if as_json else console.emit(sentence.text)
