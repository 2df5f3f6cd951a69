"""seqtool ngram: train, score, predict and generate with n-gram language models."""

from __future__ import annotations

import re
from typing import Annotated, List, Optional

import typer

from ..core.errors import UsageError
from .options import EncodingOpt, ErrorsOpt, JsonOpt, NameOpt, SeedOpt, check_errors_mode

app = typer.Typer(
    help="N-gram language models (modified Kneser-Ney by default), KenLM-compatible ARPA in and out.",
    epilog="Examples:\n\n  seqtool ngram train corpus.txt -n 3 --name tri\n\n"
    "  seqtool ngram score tri test.txt --per-sentence\n\n"
    "  seqtool ngram predict tri \"students opened their\" --top 5\n\n"
    "  seqtool ngram generate tri --num 3 --seed 1",
    no_args_is_help=True,
)

ModelArg = Annotated[str, typer.Argument(help="Model name in the store, or an ARPA file (.arpa or .arpa.gz).")]
LevelOpt = Annotated[Optional[str], typer.Option("--level", help="For ARPA files without a seqtool header: word or char.")]


def _int_list(text: Optional[str], option: str) -> Optional[list[int]]:
    if text is None:
        return None
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise UsageError(f"{option} takes whole numbers, one per order, e.g. '0 0 1' or '0,0,1' (got {text!r})") from None
    if not values:
        raise UsageError(f"{option} needs at least one value")
    return values


def _default_name(corpus: list[str], order: int, level: str) -> str:
    from ..core.store import name_from_inputs

    return name_from_inputs(corpus, suffix=f"-{order}gram" + ("-char" if level == "char" else ""), fallback="ngram")


@app.command()
def train(
    corpus: Annotated[List[str], typer.Argument(help="Files, directories, globs or '-'; one sentence per line.")],
    order: Annotated[int, typer.Option("--order", "-n", help="N-gram order.")] = 3,
    smoothing: Annotated[str, typer.Option("--smoothing", help="mkn (modified Kneser-Ney, as KenLM), kn, wb (Witten-Bell), addk, mle or stupid-backoff.")] = "mkn",
    k: Annotated[float, typer.Option("--k", help="The k of add-k smoothing.")] = 0.01,
    level: Annotated[str, typer.Option("--level", help="word (split on whitespace) or char.")] = "word",
    prune: Annotated[Optional[str], typer.Option("--prune", help="Per order, drop n-grams with count <= value, as KenLM: '0 0 1' drops singleton trigrams and up.")] = None,
    min_count: Annotated[Optional[str], typer.Option("--min-count", help="Per order, keep n-grams seen at least this often: '1 1 2' (= --prune '0 0 1').")] = None,
    vocab_size: Annotated[Optional[int], typer.Option("--vocab-size", help="Keep the most frequent words; the rest become <unk>.")] = None,
    min_freq: Annotated[int, typer.Option("--min-freq", help="Words seen fewer times become <unk>.")] = 1,
    name: NameOpt = None,
    arpa: Annotated[Optional[str], typer.Option("--arpa", help="Also write the model as ARPA (.arpa or .arpa.gz).")] = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    json_out: JsonOpt = False,
) -> None:
    """Count n-grams and estimate a smoothed model (stored by name; --arpa writes ARPA too)."""
    import time

    from ..core import console
    from ..core.io import expand_inputs, iter_lines, sha256_of
    from ..core.store import ModelStore, validate_name
    from ..ngram import NgramConfig, write_arpa
    from ..ngram.store import save_model
    from ..ngram.train import build_model, count_corpus
    from ..core.text import Tokenizer

    check_errors_mode(errors)
    if prune is not None and min_count is not None:
        raise UsageError("give --prune or --min-count, not both")
    thresholds = _int_list(prune, "--prune")
    if min_count is not None:
        thresholds = [max(v - 1, 0) for v in _int_list(min_count, "--min-count")]
    config = NgramConfig(order=order, smoothing=smoothing, k=k, level=level, prune=thresholds,
                         vocab_size=vocab_size, min_freq=min_freq)
    name = validate_name(name or _default_name(corpus, order, level))
    sources = expand_inputs(corpus)
    store = ModelStore()
    start = time.perf_counter()
    tokenizer = Tokenizer(level=level)
    with store.lock(name), console.progress() as bar:
        task = bar.add_task("counting", total=None, status="")
        lines = iter_lines(sources, encoding=encoding, errors=errors)
        counts = count_corpus(lines, order, tokenizer, on_progress=lambda n: bar.advance(task, n))
        if counts.tokens == 0:
            raise UsageError(f"{', '.join(s.name for s in sources)}: no tokens to train on (every line is blank)")
        console.info(f"counted {counts.tokens:,} tokens in {counts.sentences:,} sentences; estimating")
        model = build_model(counts, config, tokenizer, warn=console.warn)
        training = {"corpus": [{"path": s.name, **({} if s.is_stdin else {"sha256": sha256_of(s.path)})}
                               for s in sources],
                    "seconds": round(time.perf_counter() - start, 3)}
        with store.writer(name, "ngram") as draft:
            save_model(model, draft.path)
            draft.config.update(model.config())
            draft.config["training"] = training
    if arpa:
        write_arpa(model, arpa)
    summary = {"model": name, "order": model.order, "smoothing": config.smoothing, "level": level,
               "tokens": counts.tokens, "sentences": counts.sentences, "vocab": len(model.words),
               "ngrams": model.sizes(), "seconds": round(time.perf_counter() - start, 3)}
    if arpa:
        summary["arpa"] = arpa
    if json_out:
        console.emit_json(summary)
    else:
        for key, value in summary.items():
            console.emit(f"{key}\t{' '.join(map(str, value)) if isinstance(value, list) else value}")


def _fmt(x: float) -> str:
    return f"{x:.4f}" if x == x and abs(x) != float("inf") else str(x)


@app.command()
def score(
    model: ModelArg,
    file: Annotated[str, typer.Argument(help="Text to score, one sentence per line ('-' for stdin).")] = "-",
    per_sentence: Annotated[bool, typer.Option("--per-sentence", help="One row per sentence, then the total.")] = False,
    level: LevelOpt = None,
    encoding: EncodingOpt = "utf-8",
    errors: ErrorsOpt = "strict",
    json_out: JsonOpt = False,
) -> None:
    """Log10 probability, perplexity (with and without OOVs, as KenLM's query) and OOV count."""
    from ..core import console
    from ..core.io import expand_inputs, iter_lines
    from ..ngram import ScoreResult, load_ngram

    check_errors_mode(errors)
    lm = load_ngram(model, level=level)
    if lm.smoothing == "stupid-backoff":
        console.warn("stupid-backoff scores are not normalised probabilities; its perplexity is not comparable")
    lines = iter_lines(expand_inputs([file]), encoding=encoding, errors=errors)
    total = ScoreResult()
    for i, part in enumerate(lm.score_lines(lines, per_sentence=per_sentence), start=1):
        total.add(part)
        if per_sentence:
            if json_out:
                console.emit_json({"sentence": i, "log10_prob": part.log10_prob, "tokens": part.tokens,
                                   "oov": part.oov, "perplexity": part.perplexity})
            else:
                console.emit(f"{i}\t{_fmt(part.log10_prob)}\t{part.tokens}\t{part.oov}\t{_fmt(part.perplexity)}")
    if json_out:
        console.emit_json(total.to_dict())
    elif per_sentence:
        console.emit(f"total\t{_fmt(total.log10_prob)}\t{total.tokens}\t{total.oov}\t{_fmt(total.perplexity)}"
                     f"\t{_fmt(total.perplexity_excl_oov)}")
    else:
        for key, value in total.to_dict().items():
            console.emit(f"{key}\t{_fmt(value) if isinstance(value, float) else value}")


@app.command()
def predict(
    model: ModelArg,
    context: Annotated[str, typer.Argument(help="The start of a sentence.")] = "",
    top: Annotated[int, typer.Option("--top", help="How many next tokens to list.")] = 10,
    mid_sentence: Annotated[bool, typer.Option("--mid-sentence", help="The context does not start a sentence (no <s>).")] = False,
    level: LevelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The most likely next tokens after CONTEXT, with their probabilities."""
    from ..core import console
    from ..ngram import load_ngram

    if top < 1:
        raise UsageError(f"--top must be at least 1 (got {top})")
    lm = load_ngram(model, level=level)
    for word, p in lm.predict(context, top, bos=not mid_sentence):
        if json_out:
            console.emit_json({"token": word, "prob": p})
        else:
            console.emit(f"{word!s}\t{p:.6f}" if lm.level == "word" else f"{word!r}\t{p:.6f}")


@app.command()
def generate(
    model: Annotated[Optional[str], typer.Argument(help="Model name or ARPA file (default: the last n-gram model trained).")] = None,
    temp: Annotated[float, typer.Option("--temp", help="Temperature; 0 = greedy.")] = 1.0,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample among the smallest set with this much mass.")] = None,
    seed: SeedOpt = None,
    num: Annotated[int, typer.Option("--num", help="How many sentences.")] = 1,
    max_len: Annotated[Optional[int], typer.Option("--max-len", help="Most tokens per sentence (default 50 words or 300 chars).")] = None,
    prime: Annotated[str, typer.Option("--prime", help="Start every sentence with this text.")] = "",
    level: LevelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sample sentences (one per line)."""
    import numpy as np

    from ..core import console
    from ..core.sampling import SamplingOptions
    from ..ngram import load_ngram

    if num < 1:
        raise UsageError(f"--num must be at least 1 (got {num})")
    if max_len is not None and max_len < 1:
        raise UsageError(f"--max-len must be at least 1 (got {max_len})")
    options = SamplingOptions(temperature=temp, top_k=top_k, top_p=top_p)
    lm = load_ngram(model, level=level)
    limit = max_len or (300 if lm.level == "char" else 50)
    rng = np.random.default_rng(seed)
    prime_tokens = lm.tokenizer(prime) if prime else []
    for _ in range(num):
        tokens = prime_tokens + list(lm.generate(prime_tokens, max_len=limit, options=options, rng=rng))
        text = lm.tokenizer.detokenize(tokens)
        console.emit_json({"text": text}) if json_out else console.emit(text)
