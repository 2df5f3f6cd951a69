"""Corpus -> token ids -> (T, B) columns -> truncated-BPTT windows.

Word level: whitespace tokens plus one <EOS> per line. Char level: every code
point, newlines included. Token ids are built in one streaming pass (provisional
ids in first-seen order), then remapped to the frequency-ordered Vocab, so a
corpus of millions of tokens never exists as a list of Python strings.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..core.errors import InputError, UsageError
from ..core.readers import iter_lines
from ..core.sources import Source, expand_inputs
from ..core.vocab import EOS, EOS_ID, UNK_ID, Vocab

LEVELS = ("word", "char")


def line_tokens(line: str, level: str) -> list[str]:
    """Tokens of one line: words + <EOS>, or the characters (the line keeps its newline)."""
    if level == "char":
        return list(line)
    return line.split() + [EOS]


def iter_corpus_tokens(sources: Sequence[Source], level: str, *, encoding: str = "utf-8",
                       errors: str = "strict") -> Iterator[list[str]]:
    """The tokens of every line of every source, one list per line."""
    if level not in LEVELS:
        raise UsageError(f"unknown --level {level!r} (choose word or char)")
    for line in iter_lines(sources, encoding=encoding, errors=errors, keep_newlines=(level == "char")):
        yield line_tokens(line, level)


@dataclass
class Corpus:
    """A training corpus encoded with its own vocabulary."""

    vocab: Vocab
    train: np.ndarray  # (N,) int64
    valid: np.ndarray | None  # (M,) int64: the held-out tail when no --valid file was given
    held_out: bool = False


def build_corpus(sources: Sequence[Source], level: str, *, max_vocab: int | None = None, min_freq: int = 1,
                 hold_out: float = 0.0, encoding: str = "utf-8", errors: str = "strict") -> Corpus:
    """Read and encode the training sources; with hold_out > 0 the last share of the
    tokens becomes the validation set and is excluded from the vocabulary counts."""
    provisional: dict[str, int] = {}
    ids = array("q")
    for tokens in iter_corpus_tokens(sources, level, encoding=encoding, errors=errors):
        setdefault = provisional.setdefault
        ids.extend(setdefault(t, len(provisional)) for t in tokens)
    raw = np.frombuffer(ids, dtype=np.int64) if len(ids) else np.zeros(0, dtype=np.int64)
    names = ", ".join(s.name for s in sources[:3]) + (" ..." if len(sources) > 3 else "")
    if raw.size < 4:
        raise InputError(f"{names}: the corpus has only {raw.size} tokens; a language model needs more text")
    split = raw.size
    if hold_out > 0:
        split = int(round(raw.size * (1.0 - hold_out)))
        split = min(max(split, 2), raw.size - 2)
    counts = np.bincount(raw[:split], minlength=len(provisional))
    words = list(provisional)
    vocab = Vocab.build({w: int(c) for w, c in zip(words, counts) if c > 0}, min_freq=min_freq, max_size=max_vocab)
    lookup = np.array([vocab.id(w) for w in words], dtype=np.int64)
    encoded = lookup[raw]
    valid = encoded[split:] if split < raw.size else None
    return Corpus(vocab, encoded[:split], valid, held_out=valid is not None)


def encode_sources(sources: Sequence[Source], vocab: Vocab, level: str, *, encoding: str = "utf-8",
                   errors: str = "strict") -> np.ndarray:
    """Encode text with an existing vocabulary (unknown tokens -> <UNK>). (N,) int64"""
    ids = array("q")
    get = vocab.stoi.get
    for tokens in iter_corpus_tokens(sources, level, encoding=encoding, errors=errors):
        ids.extend(get(t, UNK_ID) for t in tokens)
    return np.frombuffer(ids, dtype=np.int64).copy() if len(ids) else np.zeros(0, dtype=np.int64)


def encode_files(specs: Iterable[str], vocab: Vocab, level: str, **kwargs) -> np.ndarray:
    return encode_sources(expand_inputs(specs), vocab, level, **kwargs)


def unigram_perplexity(train: np.ndarray, test: np.ndarray, vocab_size: int) -> float:
    """Perplexity of add-one unigram frequencies: the bar any language model must clear."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(np.exp(-logp[test].mean()))


# ----------------------------------------------------------------- batching
def batchify(ids, batch_size: int, origin: str = "the text"):
    """Cut a token stream into `batch_size` contiguous columns, dropping the remainder.

    Column b holds tokens [b*T, (b+1)*T), so the hidden state carried from one
    window to the next always continues the same text. (N,) -> (T, B)
    """
    import torch

    ids = torch.as_tensor(ids, dtype=torch.long)
    steps = ids.numel() // batch_size
    if steps < 2:
        raise InputError(f"{origin}: {ids.numel()} tokens, too few for {batch_size} columns "
                         f"(is it empty? else lower --batch-size or give more text)")
    return ids[: steps * batch_size].view(batch_size, steps).t().contiguous()


def bptt_starts(steps: int, bptt: int) -> list[int]:
    """Start rows of the truncated-BPTT windows over a (T, B) batchified tensor."""
    return list(range(0, steps - 1, bptt))


def get_window(data, start: int, bptt: int):
    """Inputs and next-token targets of the window starting at `start`: (L, B), (L, B)."""
    length = min(bptt, data.size(0) - 1 - start)
    return data[start:start + length], data[start + 1:start + 1 + length]


def shard(ids: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Equal contiguous shares of the stream per rank (DDP needs the same number of steps)."""
    size = ids.size // world_size
    return ids[rank * size:(rank + 1) * size]


def eos_share(ids: np.ndarray) -> float:
    return float((ids == EOS_ID).mean()) if ids.size else 0.0
