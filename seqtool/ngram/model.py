"""NgramModel: a backoff n-gram model as sorted numpy tables.

Order 1 is indexed by word id; order k >= 2 holds sorted int64 trie keys
``row of the (k-1)-gram prefix << 32 | last word`` (see counts.py) with a
log10 probability per key and, below the top order, a log10 backoff weight.
Scoring (scoring.py) looks up every position of a batch at once, one vectorised
lookup per order (lookup.py: a hash table, saved with a stored model or built for
the first big batch; binary search for small batches without one). Per token it
gives KenLM's full_scores: log10 p, the length of the n-gram used, whether it is
an OOV. Text becomes ids in encoding.py; results are results.py's.
"""

from __future__ import annotations

import itertools
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..core.errors import ModelError
from ..core.text import Tokenizer
from . import scoring
from .counts import BOS_ID, EOS_ID, SHIFT, SPECIALS, UNK_ID, WORD_MASK
from .encoding import SCORE_BATCH_CHARS, LineEncoder, WordIndex, batches, sentence_ids, tokenize_lines
from .results import ScoreResult, WordScore


class NgramModel:
    # A model built beyond memory (train._build_on_disk) has its tables mapped from files:
    # tensor name -> the file of its bytes, which store.save_model copies, and the --memory
    # it was built within (which hash tables saving may build).
    tensor_files: dict | None = None
    build_memory: int | None = None

    def __init__(self, words: Sequence[str], logp: list, bow: list, keys: list, *,
                 tokenizer: Tokenizer | None = None, info: dict | None = None, check: bool = True,
                 hashes: dict | None = None):
        self.words = list(words)
        self.order = len(logp) - 1
        self.logp = [None] + [np.ascontiguousarray(x, dtype=np.float32) for x in logp[1:]]
        self.bow = [None] + [np.ascontiguousarray(x, dtype=np.float32) for x in bow[1:self.order]] + [None]
        self.keys = [None, None] + [np.ascontiguousarray(x, dtype=np.int64) for x in keys[2:self.order + 1]]
        self.tokenizer = tokenizer or Tokenizer()
        self.info = dict(info or {})
        self.index = WordIndex((w, i) for i, w in enumerate(self.words) if i >= len(SPECIALS))
        # The token <unk> is the unknown word (a plain entry: PTB text has ~5% of them, and
        # __missing__ is a Python call); in a model stored before that rule it is a word.
        self.index.setdefault("<unk>", UNK_ID)
        self._hash: dict = {}  # order -> HashIndex, built on first use or taken from `hashes`
        self._stored_hash = dict(hashes or {})  # order -> hash table rows saved with the model
        self._encoder = LineEncoder(self.index)
        if check:
            self._check()

    # ------------------------------------------------------------ basics
    @property
    def level(self) -> str:
        return self.tokenizer.level

    @property
    def smoothing(self) -> str:
        return self.info.get("smoothing", "unknown")

    @property
    def normalized(self) -> bool:
        """Whether scores are probabilities; stupid backoff's are not (also read from the
        header comment of an ARPA file seqtool wrote)."""
        return "stupid-backoff" not in (self.smoothing, self.info.get("header_smoothing"))

    def sizes(self) -> list[int]:
        return [len(self.words)] + [len(self.keys[k]) for k in range(2, self.order + 1)]

    def _check(self) -> None:
        V = len(self.words)
        if self.order < 1 or self.words[: len(SPECIALS)] != list(SPECIALS):
            raise ModelError("n-gram model: malformed vocabulary")
        prev = V
        for k in range(1, self.order + 1):
            size = V if k == 1 else self.keys[k].size
            if self.logp[k].shape != (size,) or (k < self.order and self.bow[k].shape != (size,)):
                raise ModelError(f"n-gram model: order {k} tables have inconsistent sizes")
            if k >= 2 and size:
                keys = self.keys[k]
                if np.any(keys[1:] <= keys[:-1]) or keys[0] < 0 or (keys[-1] >> SHIFT) >= prev \
                        or np.any((keys & WORD_MASK) >= V):
                    raise ModelError(f"n-gram model: order {k} keys are corrupted")
            prev = size

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return list(map(self.index.__getitem__, tokens))

    # ------------------------------------------------------------ scoring
    def _lookup(self, k: int, ctx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Rows of the k-grams (ctx row, word) in order k, -1 where absent (or ctx < 0)."""
        out = np.full(w.size, -1, np.int64)
        ok = np.flatnonzero(ctx >= 0)
        out[ok] = self.find(k, ctx[ok], w[ok])
        return out

    def find(self, k: int, ctx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Rows of the k-grams (ctx row >= 0, word) in order k, -1 where absent."""
        from .lookup import search_sorted

        keys = self.keys[k]
        if keys.size == 0 or ctx.size == 0:
            return np.full(w.size, -1, np.int64)
        q = (ctx << SHIFT) | w
        # Big batches: a hash table (built once) beats binary search several times over.
        index = self._hash_index(k, build=q.size >= keys.size // 2)
        return index.find(q) if index is not None else search_sorted(keys, q)

    def _hash_index(self, k: int, *, build: bool):
        """Order k's HashIndex: the one in use, else the one stored with the model, else
        (when `build`) a new one; None when there is none and `build` is false."""
        from .lookup import HashIndex

        index = self._hash.get(k)
        if index is None and k in self._stored_hash:
            index = HashIndex.stored(self.keys[k], self._stored_hash.pop(k))
        if index is None and build:
            index = HashIndex(self.keys[k])
        if index is not None:
            self._hash[k] = index
        return index

    def hash_rows(self, k: int) -> np.ndarray:
        """The hash table of order k (stored with the model so that opening it builds nothing)."""
        return self._hash_index(k, build=True).rows

    def token_logprobs(self, ids: np.ndarray) -> np.ndarray:
        """log10 p of every token of concatenated sentences `<s> w.. </s>` (0 at each <s>)."""
        return self.token_scores(ids)[0]

    def token_scores(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log10 p, length of the n-gram used) of every token of concatenated sentences
        `<s> w.. </s>`, KenLM's FullScoreReturn prob and ngram_length (0 and 1 at each <s>)."""
        return scoring.token_scores(self, ids)

    def score_sentences(self, sentences: Iterable[Sequence[str]], *, per_sentence: bool = False
                        ) -> Iterator[ScoreResult]:
        """Score tokenized sentences in batches; yields one ScoreResult per
        sentence when per_sentence, else one per batch."""
        for batch in batches(sentences):
            yield from self._score_batch(self._sentence_ids(batch), per_sentence)

    def _sentence_ids(self, sentences: Iterable[Sequence[str]]) -> np.ndarray:
        """Ids of `<s> tokens </s>` for every sentence, concatenated."""
        return sentence_ids(self.index, sentences)

    def _score_batch(self, buf, per_sentence: bool) -> Iterator[ScoreResult]:
        ids = np.asarray(buf, dtype=np.int64)
        return scoring.batch_totals(ids, self.token_logprobs(ids), per_sentence)

    def score(self, lines: Iterable[str]) -> ScoreResult:
        """Total score of text lines (one sentence each; blank lines skipped)."""
        result = ScoreResult()
        for part in self.score_lines(lines):
            result.add(part)
        return result

    def score_lines(self, lines: Iterable[str], *, per_sentence: bool = False) -> Iterator[ScoreResult]:
        """Tokenize and score text lines in large batches (blank lines are skipped);
        one ScoreResult per sentence when per_sentence, else one per batch."""
        it = iter(lines)
        more = True
        while more:
            batch: list[str] = []
            size = 0
            while size < SCORE_BATCH_CHARS:  # lines taken 4096 at a time: no Python step per line
                chunk = list(itertools.islice(it, 4096))
                if not chunk:
                    more = False
                    break
                batch += chunk
                size += sum(map(len, chunk)) + len(chunk)
            if batch and (ids := self.encode_lines(batch)).size:
                yield from self._score_batch(ids, per_sentence)

    def full_scores(self, sentence: str | Sequence[str]) -> list[tuple[float, int, bool]]:
        """What KenLM's Model.full_scores(sentence) yields: (log10 p, ngram_length, oov)
        for every token, then for </s>."""
        tokens = self.tokenizer(sentence) if isinstance(sentence, str) else list(sentence)
        part = next(self._score_words([tokens]))
        return [(w.log10_prob, w.ngram_length, w.oov) for w in part.words]

    def score_words(self, lines: Iterable[str]) -> Iterator[ScoreResult]:
        """One ScoreResult per non-blank line, its `words` a WordScore per token and </s>."""
        for batch in batches(self.tokenize_lines(lines)):
            yield from self._score_words(batch)

    def _score_words(self, batch: list[list[str]]) -> Iterator[ScoreResult]:
        ids = self._sentence_ids(batch)
        lp, match = self.token_scores(ids)
        return scoring.word_results(batch, ids, lp, match)

    def encode_lines(self, lines: list[str]) -> np.ndarray:
        """Ids of `<s> tokens </s>` for every non-blank line, concatenated."""
        return self._encoder.encode(lines, self.tokenizer)

    def tokenize_lines(self, lines: Iterable[str]) -> Iterator[list[str]]:
        return tokenize_lines(self.tokenizer, lines)

    def sentence_log10(self, tokens: Sequence[str]) -> float:
        """log10 p(<s> tokens </s>), the number KenLM's Model.score(..) gives."""
        return next(self.score_sentences([tokens])).log10_prob

    # ------------------------------------------------------------ next-word distribution
    def _context_row(self, ids: Sequence[int]) -> int:
        """Row of the n-gram `ids` in its order's table, -1 if absent."""
        row = int(ids[0])
        for k, w in enumerate(ids[1:], start=2):
            found = self._lookup(k, np.array([row]), np.array([w], dtype=np.int64))[0]
            if found < 0:
                return -1
            row = int(found)
        return row

    def next_log10(self, context: Sequence[int]) -> np.ndarray:
        """log10 p(w | context) for every word id (context: ids, <s> included if wanted)."""
        out = self.logp[1].astype(np.float64)
        hist = list(context)[-(self.order - 1):] if self.order > 1 else []
        for j in range(1, len(hist) + 1):
            row = self._context_row(hist[-j:])
            if row < 0:
                break
            out += self.bow[j][row]
            keys = self.keys[j + 1]
            lo = np.searchsorted(keys, np.int64(row) << SHIFT)
            hi = np.searchsorted(keys, np.int64(row + 1) << SHIFT)
            out[keys[lo:hi] & WORD_MASK] = self.logp[j + 1][lo:hi]
        return out

    def next_probs(self, context: Sequence[int], *, normalize: bool = True) -> np.ndarray:
        p = 10.0 ** self.next_log10(context)
        if normalize:  # only stupid backoff needs it; the others already sum to 1
            total = p.sum()
            if total > 0:
                p /= total
        return p

    def context_ids(self, tokens: Sequence[str], bos: bool = True) -> list[int]:
        return ([BOS_ID] if bos else []) + self.encode(tokens)

    def predict(self, context: str | Sequence[str], top: int = 10, *, bos: bool = True) -> list[tuple[str, float]]:
        """The `top` most likely next tokens after `context` (text or tokens)."""
        tokens = self.tokenizer(context) if isinstance(context, str) else list(context)
        p = self.next_probs(self.context_ids(tokens, bos))
        p[BOS_ID] = 0.0
        if self.index["<unk>"] != UNK_ID:  # an older model's corpus word <unk> stands for unknown words
            p[UNK_ID] = 0.0
        top = max(1, min(int(top), p.size))
        best = np.argpartition(-p, top - 1)[:top]
        best = best[np.lexsort((best, -p[best]))]
        return [(self.display(i), float(p[i])) for i in best if p[i] > 0]

    def display(self, i: int) -> str:
        return self.words[int(i)]

    def generate(self, prime: Sequence[str], *, max_len: int, options, rng: np.random.Generator) -> Iterator[str]:
        """Sample one token at a time after <s> + prime; stops at </s> (not yielded)
        or after max_len tokens. <unk> (an unknown word) is never sampled."""
        from ..core.sampling import choose

        ctx = self.context_ids(prime)
        keep = max(self.order - 1, 1)
        for _ in range(max_len):
            p = self.next_probs(ctx[-keep:] if self.order > 1 else [])
            p[BOS_ID] = 0.0
            p[UNK_ID] = 0.0
            total = p.sum()
            if not total > 0:
                return
            i = choose(p / total, options, rng)
            if i == EOS_ID:
                return
            ctx.append(i)
            yield self.words[i]

    # ------------------------------------------------------------ persistence
    def config(self) -> dict:
        """What goes into the store's config.json (config, tokenizer, metrics)."""
        return {"config": {"order": self.order, **self.info}, "tokenizer": self.tokenizer.to_dict(),
                "metrics": {"ngrams": self.sizes()}}


__all__ = ["NgramModel", "ScoreResult", "WordScore"]
