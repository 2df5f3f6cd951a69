"""What `seqtool ngram` (and `seqtool sample` on an n-gram model) calls.

    result = train(["corpus.txt"], NgramConfig(order=3), name="tri")   # counted, estimated, stored
    total = score("tri", ["test.txt"]).total                          # a ScoreResult
    predict("tri", "students opened their", top=5).tokens             # [(token, prob), ...]
    for s in generate("tri", num=3, rng=np.random.default_rng(1)):     # Sentence(sample, text, tokens)
        print(s.text)

Every store write of an n-gram model goes through train() here and
ngram/store.py; the CLI parses, calls one of these, prints the result.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from ..core import console
from ..core.errors import UsageError
from ..core.digest import Digest
from ..core.outputs import check_output_path
from ..core.readers import iter_lines, iter_source_lines
from ..core.sources import expand_inputs
from ..core.sampling import SamplingOptions
from ..core.store import ModelStore, name_from_inputs, validate_name
from ..core.text import Tokenizer
from .arpa import write_arpa, write_arpa_stream
from .external import estimate_bytes
from .streamed import not_streamed
from .model import NgramModel, ScoreResult
from .store import load_ngram, publish
from .train import NgramConfig, build_model, count_corpus

# Tokens per generated sample (for `ngram generate`: per sentence), the one default of every
# generating command: `sample` uses it for neural models too.
DEFAULT_LENGTH = {"word": 100, "char": 500}
STDOUT = "-"


def default_length(level: str) -> int:
    return DEFAULT_LENGTH["char" if level == "char" else "word"]


def default_name(corpus: Iterable[str], order: int, level: str) -> str:
    return name_from_inputs(corpus, suffix=f"-{order}gram" + ("-char" if level == "char" else ""),
                            fallback="ngram")


def _load(model: NgramModel | str | None, level: str | None) -> NgramModel:
    """A loaded model as is; a store name, an ARPA path or None (the default model) loaded."""
    return load_ngram(model, level=level) if model is None or isinstance(model, str) else model


# ---------------------------------------------------------------- train
@dataclass
class TrainResult:
    name: str
    model: NgramModel
    config: NgramConfig
    tokens: int
    sentences: int
    seconds: float
    arpa: Optional[str] = None  # the ARPA file written, "-" for stdout

    def summary(self) -> dict:
        out = {"model": self.name, "order": self.model.order, "smoothing": self.config.smoothing,
               "level": self.config.level, "tokens": self.tokens, "sentences": self.sentences,
               "vocab": len(self.model.words), "ngrams": self.model.sizes(), "seconds": self.seconds}
        if self.arpa:
            out["arpa"] = self.arpa
        return out


def train(corpus: list[str], config: NgramConfig, *, name: str | None = None, arpa: str | None = None,
          encoding: str = "utf-8", errors: str = "strict", force: bool = False,
          store: ModelStore | None = None) -> TrainResult:
    """Count `corpus` (files, folders, globs, '-'), estimate, store as `name` (default: from the
    first input) and write `arpa` too ('-': ARPA text to stdout). Outputs, and a name holding a
    model of another kind (replaced only when `force`), are checked before any work."""
    start = time.perf_counter()
    name = validate_name(name or default_name(corpus, config.order, config.level))
    store = store or ModelStore()
    store.check_replace(name, "ngram", force=force)
    sources = expand_inputs(corpus)
    if arpa is not None and arpa != STDOUT:
        check_output_path(arpa, inputs=sources, option="--arpa")
    tokenizer = Tokenizer(level=config.level)
    # Each input is hashed as it is counted: read once, so FIFOs and '-' work (and get a sha256).
    digests = [Digest() for _ in sources]
    lines = (line for source, digest in zip(sources, digests)
             for line in iter_source_lines(source, encoding=encoding, errors=errors, digest=digest))
    with store.lock(name), console.progress() as bar:
        task = bar.add_task("counting", total=None, status="")

        def stage(description: str, total: int):
            """A bar per stage of a build beyond memory (sorting, merging, indexing order k)."""
            bar.update(task, visible=False)
            step = bar.add_task(description, total=total, status="")
            return lambda n: bar.advance(step, n)

        counts = count_corpus(lines, config.order, tokenizer, on_progress=lambda n: bar.advance(task, n),
                              memory=config.memory_bytes, temp_dir=config.temp_dir, stage=stage,
                              info=console.info, on_disk=True)
        # Beyond memory the counts stay on disk (DiskCounts, a folder) until the model is stored.
        on_disk = counts if counts.external else None
        try:
            if counts.tokens == 0:
                raise UsageError(f"{', '.join(s.name for s in sources)}: no tokens to train on (every line is blank)")
            console.info(f"counted {counts.tokens:,} tokens in {counts.sentences:,} sentences; estimating")
            streamed = counts.external and not_streamed(config) is None
            need = estimate_bytes(counts.sizes(), streamed=streamed)
            if need > config.memory_bytes:
                # The counting kept to the budget; the estimate holds (some of) the tables whole.
                console.warn(f"the estimate of {sum(counts.sizes()):,} n-grams needs about {need / 2**20:,.0f} MiB, "
                             f"more than --memory {config.memory}: " +
                             ("its arrays over one order are held whole" if streamed else "the model is built in memory"))
            model = build_model(counts, config, tokenizer, warn=console.warn, info=console.info, stage=stage)
            tokens, sentences = counts.tokens, counts.sentences
            del counts  # in memory, its counts and suffix rows (16 bytes an n-gram) are not needed to publish
            training = {"corpus": [{"path": s.name, "sha256": d.hexdigest()} for s, d in zip(sources, digests)],
                        "seconds": round(time.perf_counter() - start, 3)}
            publish(model, name, training=training, store=store, force=force, info=console.info)
        finally:
            if on_disk is not None:
                on_disk.close()
    if arpa == STDOUT:
        sys.stdout.flush()
        write_arpa_stream(model, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    elif arpa is not None:
        write_arpa(model, arpa)
    return TrainResult(name, model, config, tokens, sentences,
                       round(time.perf_counter() - start, 3), arpa)


# ---------------------------------------------------------------- score
@dataclass
class ScoreSummary:
    """The totals of a scoring run. `normalized` is False for stupid backoff, whose scores
    are not probabilities: then report `total.unnormalized_dict()` (no perplexity)."""

    model: NgramModel
    total: ScoreResult = field(default_factory=ScoreResult)

    @property
    def normalized(self) -> bool:
        return self.model.normalized

    def as_dict(self, part: ScoreResult | None = None) -> dict:
        part = part or self.total
        return part.to_dict() if self.normalized else part.unnormalized_dict()


def score(model: NgramModel | str | None, inputs: list[str], *, per_sentence: bool = False,
          per_word: bool = False, on_sentence: Callable[[int, ScoreResult], None] | None = None,
          level: str | None = None, encoding: str = "utf-8", errors: str = "strict") -> ScoreSummary:
    """Score every line of `inputs` (one sentence each); `on_sentence(i, result)` is called for
    each sentence (numbered from 1 across all inputs) when per_sentence or per_word; with
    per_word, `result.words` holds a WordScore (token, log10_prob, ngram_length, oov) per token
    and </s>, KenLM's full_scores."""
    lm = _load(model, level)
    result = ScoreSummary(lm)
    lines = iter_lines(expand_inputs(inputs), encoding=encoding, errors=errors)
    parts = lm.score_words(lines) if per_word else lm.score_lines(lines, per_sentence=per_sentence)
    for i, part in enumerate(parts, start=1):
        result.total.add(part)
        if (per_sentence or per_word) and on_sentence is not None:
            on_sentence(i, part)
    return result


# ---------------------------------------------------------------- predict
@dataclass
class Prediction:
    level: str
    tokens: list  # [(token, probability)], most likely first


def predict(model: NgramModel | str | None, context: str, *, top: int = 10, mid_sentence: bool = False,
            level: str | None = None) -> Prediction:
    if top < 1:
        raise UsageError(f"--top must be at least 1 (got {top})")
    lm = _load(model, level)
    return Prediction(lm.level, lm.predict(context, top, bos=not mid_sentence))


# ---------------------------------------------------------------- generate
@dataclass
class Sentence:
    sample: int  # which sample it belongs to, from 0
    text: str    # detokenised by the model's tokenizer; a sample's first sentence starts with the prime
    tokens: int  # tokens generated (the prime not counted)


def generate(model: NgramModel | str | None, *, num: int = 1, prime: str = "", length: int | None = None,
             one_sentence: bool = True, options: SamplingOptions | None = None,
             rng: np.random.Generator | None = None, level: str | None = None) -> Iterator[Sentence]:
    """`num` samples, streamed sentence by sentence. A sample continues `prime` for at most
    `length` tokens (default: default_length); with one_sentence it ends at the first </s>,
    else new sentences follow until `length` tokens are made (each sentence end counts one)."""
    if num < 1:
        raise UsageError(f"--num must be at least 1 (got {num})")
    if length is not None and length < 0:
        raise UsageError(f"the length must be >= 0 (got {length})")
    lm = _load(model, level)
    options = options or SamplingOptions()
    rng = rng if rng is not None else np.random.default_rng()
    length = default_length(lm.level) if length is None else length
    prime_tokens = lm.tokenizer(prime) if prime else []
    detokenize = lm.tokenizer.detokenize
    for index in range(num):
        made, context, first = 0, prime_tokens, True
        while first or made < length:
            tokens = list(lm.generate(context, max_len=length - made, options=options, rng=rng))
            made += len(tokens) + 1  # the sentence end
            yield Sentence(index, detokenize((prime_tokens if first else []) + tokens), len(tokens))
            if one_sentence or (not tokens and not context):  # a model that only ends sentences
                break
            context, first = [], False


__all__ = ["DEFAULT_LENGTH", "default_length", "default_name", "train", "TrainResult", "score",
           "ScoreSummary", "predict", "Prediction", "generate", "Sentence"]
