"""Text to the id arrays scoring works on: sentences `<s> w.. </s>` concatenated, in
batches of bounded size."""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np

from ..core.text import Tokenizer
from .counts import BOS_ID, EOS_ID, UNK_ID

SCORE_BATCH_TOKENS = 1 << 20
SCORE_BATCH_CHARS = 1 << 23
MARK = -7  # the id the sentence separator reads as while encoding a batch


class WordIndex(dict):
    """Ordinary word -> id; an unknown word reads as <unk> (id 0) without being added."""

    def __missing__(self, token: str) -> int:
        return UNK_ID


def batches(sentences: Iterable[Sequence[str]]) -> Iterator[list[Sequence[str]]]:
    """Sentences in lists of about SCORE_BATCH_TOKENS ids (tokens plus <s> and </s>): one
    numpy pass per list, memory bounded."""
    batch: list[Sequence[str]] = []
    size = 0
    for tokens in sentences:
        batch.append(tokens)
        size += len(tokens) + 2
        if size >= SCORE_BATCH_TOKENS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def sentence_ids(index: dict, sentences: Iterable[Sequence[str]]) -> np.ndarray:
    """Ids of `<s> tokens </s>` for every sentence, concatenated."""
    buf: list[int] = []
    getitem = index.__getitem__
    for tokens in sentences:
        buf.append(BOS_ID)
        buf.extend(map(getitem, tokens))
        buf.append(EOS_ID)
    return np.array(buf, dtype=np.int64)


def tokenize_lines(tokenizer: Tokenizer, lines: Iterable[str]) -> Iterator[list[str]]:
    for line in lines:
        tokens = tokenizer(line)
        if tokens:
            yield tokens


class LineEncoder:
    """encode(lines, tokenizer): ids of `<s> tokens </s>` for every non-blank line, concatenated."""

    def __init__(self, index: dict):
        self.index = index
        # For batch encoding: NUL separates sentences (it never occurs in text read from files).
        self.batch_index = None if "\0" in index else WordIndex(index, **{"\0": MARK})
        self._keys = None  # wordkeys.WordKeys over batch_index, built for the first big batch

    def encode(self, lines: list[str], tok: Tokenizer) -> np.ndarray:
        if (tok.level == "word" and tok.method != "whitespace") or self.batch_index is None:
            return sentence_ids(self.index, tokenize_lines(tok, lines))
        # Whitespace words and chars: one join, one split and one map for the whole batch,
        # with NUL (never in input text) between sentences.
        if tok.level == "word":
            text = "\0 " + " \0 ".join(lines) + " \0"
            if tok.lower:
                text = text.lower()
            keys = self._word_keys(text)
            if keys is not None:
                ids = keys.encode(text)
            else:
                ids = self._map(text.split())
        else:
            text = "\0" + "\0".join(lines) + "\0"
            ids = self._map(list(text.lower() if tok.lower else text))
        return _sentences(ids)

    def _map(self, pieces: list[str]) -> np.ndarray:
        return np.fromiter(map(self.batch_index.__getitem__, pieces), dtype=np.int64, count=len(pieces))

    def _word_keys(self, text: str):
        """The numpy word lookup for ASCII text, built once a batch is as long as the vocabulary
        (building it costs about what a batch that size does); None: take str.split."""
        if not text.isascii():
            return None
        if self._keys is None and len(text) >= len(self.batch_index):
            from .wordkeys import WordKeys

            self._keys = WordKeys(self.batch_index, UNK_ID)
        return self._keys if self._keys is not None and self._keys.usable else None


def _sentences(ids: np.ndarray) -> np.ndarray:
    """The batch's ids with each MARK made `</s> <s>` (the first <s>, the last </s>)."""
    mark = ids == MARK
    # A blank line leaves two separators side by side: drop the first of each such pair.
    empty = np.flatnonzero(mark[:-1] & mark[1:])
    if empty.size:
        ids = np.delete(ids, empty)
        mark = np.delete(mark, empty)
    if ids.size <= 1:
        return np.zeros(0, np.int64)
    reps = np.where(mark, 2, 1)
    reps[0] = reps[-1] = 1
    out = np.repeat(ids, reps)
    at = np.cumsum(reps) - reps
    m = at[mark]
    out[m] = EOS_ID
    out[m[1:-1] + 1] = BOS_ID
    out[0] = BOS_ID
    return out
