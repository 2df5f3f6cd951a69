"""Text generation from stored language models (neural "lm" or "ngram").

    gen = open_generator(None)                      # the last trained LM
    for piece in gen.sample(prime="the", length=50, options=SamplingOptions(0.8),
                            rng=np.random.default_rng(1)):
        sys.stdout.write(piece)                     # streamed as generated

Neural models run on the numpy engine (seqtool.lm.numpy_engine) unless a
torch device is asked for, so sampling starts without importing torch.
"""

from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np

from ..core import console
from ..core.errors import ModelError
from ..core.sampling import SamplingOptions, choose
from ..core.store import ModelStore
from ..core.vocab import EOS, EOS_ID, UNK
from ..ngram import api as ngram_api
from ..ngram import load_ngram

KINDS = ("lm", "ngram")
NO_MODEL_HINT = "train one with: seqtool train-lm CORPUS (or seqtool ngram train CORPUS)"


class Stepper(Protocol):
    def reset(self) -> None: ...

    def step(self, token: int) -> np.ndarray: ...  # logits of the next token (V,)


class TorchStepper:
    """The same interface on a torch device (for --device cuda/auto)."""

    def __init__(self, stored, device: str):
        import torch

        from .store import load_torch_lm

        self.torch = torch
        self.device = device
        self.model = load_torch_lm(stored, device)
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
        self.stored = stored
        self.name = stored.name
        self.level = stored.level
        self.vocab = stored.vocab
        if device == "cpu":
            from ..core.tensors import load_tensors
            from .store import check_weights
            from .numpy_engine import NumpyLM

            check_weights(stored)
            tensors = load_tensors(stored.weights_path, framework="np", origin=f"model '{stored.name}'")
            try:
                self.stepper: Stepper = NumpyLM(stored.model_config, tensors)
            except KeyError as exc:
                raise ModelError(f"model '{stored.name}': weight {exc} is missing") from None
        else:
            self.stepper = TorchStepper(stored, device)
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
               rng: np.random.Generator, until_eos: bool = False) -> Iterator[str]:
        """Generated tokens (prime not included), one at a time."""
        stepper = self.stepper
        # An adaptive softmax on the numpy engine samples head first, then the drawn
        # cluster only; any other decoding rule needs every word's probability (step).
        two_stage = getattr(stepper, "adaptive", None) is not None and options == SamplingOptions(1.0)
        feed = stepper.advance if two_stage else stepper.step
        stepper.reset()
        logits = feed(self.start_id)
        for token in prime_ids:
            logits = feed(token)
        itos = self.vocab.itos
        for _ in range(length):
            nxt = stepper.draw(rng) if two_stage else pick(logits, options, rng)
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
        sample = None
        for sentence in ngram_api.generate(self.model, num=num, prime=prime or "", length=length,
                                           one_sentence=until_eos, options=options, rng=rng):
            if sample is not None and sentence.sample != sample and not until_eos:
                yield "\n"  # a blank line between samples
            sample = sentence.sample
            yield sentence.text + "\n"


def default_length(level: str) -> int:
    """Tokens per sample when --length is not given: the same for every model kind."""
    return ngram_api.default_length(level)


def open_generator(name: str | None, *, device: str = "cpu", store: ModelStore | None = None):
    store = store or ModelStore()
    info = store.open(name, KINDS, hint=NO_MODEL_HINT)
    if info.kind == "ngram":
        return NgramGenerator(info.name)
    from .store import stored_from_info

    return NeuralGenerator(stored_from_info(info), device)


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
        piece = detokenizer(gen.level)
        last = ""
        if prime:
            text = prime if gen.level == "char" else " ".join(prime_tokens)
            for tok in prime_tokens:
                piece(tok)  # keep the spacing state
            yield text
            last = text
        for tok in gen.tokens(prime_ids, length=length, options=options, rng=rng, until_eos=until_eos):
            last = piece(tok)
            if last:
                yield last
        if not last.endswith("\n"):
            yield "\n"
