"""Text generation from stored language models (neural "lm" or "ngram").

    gen = open_generator(None)                      # the last trained LM
    for piece in gen.sample(prime="the", length=50, options=SamplingOptions(0.8),
                            rng=np.random.default_rng(1)):
        sys.stdout.write(piece)                     # streamed as generated

Neural models run on the numpy engine (seqtool.lm.numpy_engine) unless a
torch device is asked for, so sampling starts without importing torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from ..core import console
from ..core.errors import ModelError, UsageError
from ..core.sampling import SamplingOptions, choose
from ..core.store import ModelStore
from ..core.vocab import EOS, EOS_ID, UNK
from .numpy_engine import log_softmax

KINDS = ("lm", "ngram")
NO_MODEL_HINT = "train one with: seqtool train-lm CORPUS (or seqtool ngram train CORPUS)"


class Stepper(Protocol):
    def reset(self) -> None: ...

    def step(self, token: int) -> np.ndarray: ...  # logits of the next token (V,)


class TorchStepper:
    """The same interface on a torch device (for --device cuda/auto)."""

    def __init__(self, stored, device: str, model=None):
        import torch

        from .store import load_torch_lm

        self.torch = torch
        self.device = device
        self.model = model.to(device) if model is not None else load_torch_lm(stored, device)
        self.reset()

    def reset(self) -> None:
        self.hidden = self.model.init_hidden(1, self.device)

    def step(self, token: int) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            x = torch.tensor([[token]], device=self.device)  # (1, 1)
            logits, self.hidden = self.model(x, self.hidden)
            return logits[0, 0].float().cpu().numpy()


def detokenizer(level: str):
    """A function token -> text piece that joins words with spaces and turns <EOS> into a newline."""
    if level == "char":
        return lambda tok: tok
    state = {"space": False}

    def piece(tok: str) -> str:
        if tok in (EOS, "</s>"):
            state["space"] = False
            return "\n"
        out = (" " if state["space"] else "") + tok
        state["space"] = True
        return out

    return piece


class NeuralGenerator:
    kind = "lm"

    def __init__(self, stored, device: str = "cpu"):
        """stored: a StoredLM, or a CheckpointLM (an unfinished run's current weights)."""
        self.stored = stored
        self.name = stored.name
        self.level = stored.level
        self.vocab = stored.vocab
        model = getattr(stored, "model", None)  # a checkpoint's RNNLM
        if device == "cpu":
            from .numpy_engine import NumpyLM

            if model is not None:
                tensors = {k: v.numpy() for k, v in model.export_tensors().items()}
            else:
                from ..core.tensors import map_tensors
                from .store import check_weights

                check_weights(stored)
                # mapped, not read: the embedding's rows load as tokens touch them, and the
                # engine copies only what it lays out anew (its transposed matrices)
                tensors = map_tensors(stored.weights_path, origin=f"model '{stored.name}'")
            try:
                self.stepper: Stepper = NumpyLM(stored.model_config, tensors)
            except KeyError as exc:
                raise ModelError(f"model '{stored.name}': weight {exc} is missing") from None
        else:
            self.stepper = TorchStepper(stored, device, model)
        # Generation starts as training text does: after a line end.
        start = EOS if self.level == "word" else "\n"
        self.start_id = self.vocab.stoi.get(start, EOS_ID)
        self.stop_id = self.vocab.stoi.get(EOS if self.level == "word" else "\n", -1)

    def prime_ids(self, prime: str | None) -> tuple[list[str], list[int]]:
        if not prime:
            return [], []
        tokens = self.stored.tokenizer(prime)
        ids = self.vocab.encode(tokens)
        unknown = [t for t, i in zip(tokens, ids) if i == 0 and t != UNK]
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            what = "all of the prime" if len(unknown) == len(tokens) else f"{len(unknown)} prime token(s)"
            console.warn(f"{what} not in the vocabulary of model '{self.name}' ({shown}); read as {UNK}")
        return tokens, ids

    def tokens(self, prime_ids: list[int], *, length: int, options: SamplingOptions,
               rng: np.random.Generator, until_eos: bool = False, scores: list | None = None) -> Iterator[str]:
        """Generated tokens (prime not included), one at a time. `scores`: a list that gets
        each token's log-probability under the model (natural log, temperature 1, before any
        top-k/top-p), whatever the decoding rule."""
        stepper = self.stepper
        # An adaptive softmax on the numpy engine samples head first, then the drawn
        # cluster only; any other decoding rule needs every word's probability (step).
        adaptive = getattr(stepper, "adaptive", None) is not None
        two_stage = adaptive and options == SamplingOptions(1.0)
        # any other temperature: the same distribution drawn by parts (head words, clusters)
        tempered = adaptive and not two_stage and options == SamplingOptions(options.temperature) \
            and not options.is_greedy
        feed = stepper.advance if two_stage or tempered else stepper.step
        stepper.reset()
        logits = feed(self.start_id)
        for token in prime_ids:
            logits = feed(token)
        itos = self.vocab.itos
        for _ in range(length):
            if tempered:
                nxt, logp = stepper.draw_tempered(options.temperature, rng)
                if scores is not None:
                    scores.append(logp)
            elif two_stage and scores is not None:
                nxt, logp = stepper.draw_scored(rng)
                scores.append(logp)
            elif two_stage:
                nxt = stepper.draw(rng)
            else:
                nxt = pick(logits, options, rng)
                if scores is not None:
                    scores.append(float(log_softmax(logits)[nxt]))
            yield itos[nxt]
            if until_eos and nxt == self.stop_id:
                return
            logits = feed(nxt)


def pick(logits: np.ndarray, options: SamplingOptions, rng: np.random.Generator) -> int:
    """Choose the next token from logits (V,) as SamplingOptions says.

    Plain temperature sampling (the common case) is done here in a few vector
    passes; top-k/top-p go through seqtool.core.sampling like every other model.
    """
    if options.is_greedy:
        return int(np.argmax(logits))
    z = np.asarray(logits, dtype=np.float64) * (1.0 / options.temperature)
    z -= z.max()
    p = np.exp(z, out=z)
    if options.top_k is not None or options.top_p is not None:
        # temperature already applied: the filter only truncates
        return choose(p / p.sum(), SamplingOptions(1.0, options.top_k, options.top_p), rng)
    cdf = np.cumsum(p, out=p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), cdf.size - 1))


def load_ngram(name: str):
    """seqtool.ngram.load_ngram, imported on the first n-gram model: sampling a neural one
    loads no n-gram code."""
    from ..ngram import load_ngram as load

    return load(name)


class NgramGenerator:
    """An n-gram model, sampled by the code `seqtool ngram generate` uses (ngram.api.generate):
    the model's tokenizer splits the prime and joins the output, sentence by sentence."""

    kind = "ngram"

    def __init__(self, name: str):
        self.model = load_ngram(name)
        self.name = name
        self.level = self.model.level

    def sample_text(self, *, prime: str | None, length: int, num: int, options: SamplingOptions,
                    rng: np.random.Generator, until_eos: bool = False) -> Iterator[str]:
        from ..ngram import api as ngram_api

        sample = None
        for sentence in ngram_api.generate(self.model, num=num, prime=prime or "", length=length,
                                           one_sentence=until_eos, options=options, rng=rng):
            if sample is not None and sentence.sample != sample and not until_eos:
                yield "\n"  # a blank line between samples
            sample = sentence.sample
            yield sentence.text + "\n"


    def records(self, *, prime: str | None, length: int, num: int, options: SamplingOptions,
                rng: np.random.Generator, until_eos: bool = False, seed: int | None = None):
        """The samples of sample_text as SampleRecords: the tokens of each sentence (and its
        </s> where the model ended it) scored with the model's next-word log10 probabilities."""
        from ..ngram import api as ngram_api
        from ..ngram.counts import EOS_ID

        lm = self.model
        keep = max(lm.order - 1, 1)
        prime_tokens = lm.tokenizer(prime) if prime else []
        texts, tokens, log10 = [], [], 0.0
        index = made = 0
        for sentence in ngram_api.generate(lm, num=num, prime=prime or "", length=length,
                                           one_sentence=until_eos, options=options, rng=rng):
            if sentence.sample != index:
                yield self._record(index, texts, tokens, log10, seed)
                texts, tokens, log10, index, made = [], [], 0.0, sentence.sample, 0
            first = not texts
            words = lm.tokenizer(sentence.text)[len(prime_tokens) if first else 0:]
            ids = lm.encode(words)
            if sentence.tokens < length - made:  # it ended at a sampled </s>, not at the cap
                words, ids = words + ["</s>"], ids + [EOS_ID]
            made += sentence.tokens + 1
            ctx = lm.context_ids(prime_tokens if first else [])
            for i in ids:
                log10 += float(lm.next_log10(ctx[-keep:] if lm.order > 1 else [])[i])
                ctx.append(i)
            texts.append(sentence.text)
            tokens.extend(words)
        if texts:
            yield self._record(index, texts, tokens, log10, seed)

    def _record(self, index: int, texts: list, tokens: list, log10: float, seed: int | None):
        return SampleRecord(index, "\n".join(texts), tokens, round(log10 * math.log(10.0), 6), self.name, seed)


def default_length(level: str) -> int:
    """Tokens per sample when --length is not given: the same for every model kind."""
    from ..ngram import api as ngram_api

    return ngram_api.default_length(level)


def open_generator(name: str | None, *, device: str = "cpu", store: ModelStore | None = None):
    """A generator for --model: a stored model's name (default: the last trained), or a
    train-lm checkpoint (its file, its run folder, or the name of a run that has not
    published a model yet), sampled with the run's current weights."""
    from .store import checkpoint_file, open_checkpoint, stored_from_info

    store = store or ModelStore()
    found = checkpoint_file(name) if name is not None and _looks_like_path(name) else None
    if found is None and name is not None and _looks_like_path(name):
        if name.endswith(".pt") or Path(name).expanduser().is_dir():
            raise ModelError(f"{name}: not a checkpoint file or a run folder holding checkpoint.pt")
        raise UsageError(f"invalid model name {name!r}: not a stored model's name, a checkpoint file (.pt) "
                         f"or a run folder")
    if found is None and name is not None and not (store.models / name).exists():
        run = store.checkpoint_dir(name, create=False)
        found = checkpoint_file(run) if run.is_dir() else None
    if found is not None:
        lm = open_checkpoint(found, None if _looks_like_path(name) else name)
        at = lm.position
        console.note(f"sampling from the checkpoint {found} (epoch {at.get('epoch')}, batch {at.get('batch')}: "
                     f"the run's current weights)")
        return NeuralGenerator(lm, device)
    info = store.open(name, KINDS, hint=NO_MODEL_HINT)
    if info.kind == "ngram":
        return NgramGenerator(info.name)
    return NeuralGenerator(stored_from_info(info), device)


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.endswith(".pt") or name.startswith("~") or name in (".", "..")


def sample_text(gen, *, prime: str | None, length: int, num: int = 1, options: SamplingOptions,
                rng: np.random.Generator, until_eos: bool = False) -> Iterator[str]:
    """Text pieces to write as they come: each sample is the prime (as given) and its
    continuation, ending with a newline; several samples are separated by a blank line
    (by a newline only with until_eos, one sample per line)."""
    if gen.kind == "ngram":
        yield from gen.sample_text(prime=prime, length=length, num=num, options=options, rng=rng,
                                   until_eos=until_eos)
        return
    prime_tokens, prime_ids = gen.prime_ids(prime)
    for index in range(num):
        if index and not until_eos:
            yield "\n"
        yield from _neural_sample(gen, prime, prime_tokens, prime_ids, length=length, options=options, rng=rng,
                                  until_eos=until_eos)


def _neural_sample(gen, prime, prime_tokens, prime_ids, *, length, options, rng, until_eos, tokens=None,
                   scores=None) -> Iterator[str]:
    """One sample's text pieces (prime, then the continuation, then a final newline);
    `tokens` and `scores` (lists) get the generated tokens and their log-probabilities."""
    piece = detokenizer(gen.level)
    last = ""
    if prime:
        text = prime if gen.level == "char" else " ".join(prime_tokens)
        for tok in prime_tokens:
            piece(tok)  # keep the spacing state
        yield text
        last = text
    for tok in gen.tokens(prime_ids, length=length, options=options, rng=rng, until_eos=until_eos,
                          scores=scores):
        if tokens is not None:
            tokens.append(tok)
        last = piece(tok)
        if last:
            yield last
    if not last.endswith("\n"):
        yield "\n"


@dataclass
class SampleRecord:
    """One sample as `sample --json` writes it."""

    sample: int  # from 0
    text: str  # the prime and the continuation, detokenized (no final newline)
    tokens: list  # the generated tokens, the prime not included (<eos> / </s> as the model has them)
    logprob: float  # natural log of the model's probability of `tokens` after the prime (temperature 1)
    model: str
    seed: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def sample_records(gen, *, prime: str | None, length: int, num: int = 1, options: SamplingOptions,
                   rng: np.random.Generator, until_eos: bool = False, seed: int | None = None
                   ) -> Iterator[SampleRecord]:
    """The samples sample_text writes (the same text for the same rng), one record each."""
    if gen.kind == "ngram":
        yield from gen.records(prime=prime, length=length, num=num, options=options, rng=rng,
                               until_eos=until_eos, seed=seed)
        return
    prime_tokens, prime_ids = gen.prime_ids(prime)
    for index in range(num):
        tokens, scores = [], []
        text = "".join(_neural_sample(gen, prime, prime_tokens, prime_ids, length=length, options=options,
                                      rng=rng, until_eos=until_eos, tokens=tokens, scores=scores))
        yield SampleRecord(index, text[:-1] if text.endswith("\n") else text, tokens,
                           round(float(sum(scores)), 6), gen.name, seed)
