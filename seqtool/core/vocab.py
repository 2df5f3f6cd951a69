"""A vocabulary: tokens <-> ids with fixed special ids.

<UNK> is always id 0 and <EOS> id 1; <PAD> and <BOS> follow when a model asks
for them. Ordinary tokens come after the specials, ordered by count
(descending) then by the token itself, so the same counts always give the
same ids.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Iterable, Mapping, Sequence

from .errors import ModelError

UNK, EOS, PAD, BOS = "<UNK>", "<EOS>", "<PAD>", "<BOS>"
UNK_ID, EOS_ID = 0, 1
DEFAULT_SPECIALS = (UNK, EOS)
VOCAB_FORMAT = "seqtool-vocab"
VOCAB_VERSION = 1


class Vocab:
    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None,
                 specials: Sequence[str] = DEFAULT_SPECIALS):
        specials = tuple(specials)
        if specials[:2] != DEFAULT_SPECIALS:
            raise ValueError("specials must start with <UNK>, <EOS>")
        if tuple(tokens[: len(specials)]) != specials:
            raise ValueError("tokens must start with the specials")
        self.specials = specials
        self.itos: list[str] = list(tokens)
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("duplicate tokens in vocabulary")
        self.counts: list[int] = list(counts) if counts is not None else [0] * len(self.itos)

    @classmethod
    def build(cls, counts: Mapping[str, int] | Iterable[str], *, min_freq: int = 1,
              max_size: int | None = None, specials: Sequence[str] = DEFAULT_SPECIALS) -> "Vocab":
        """Build from a Counter (or an iterable of tokens).

        max_size counts ordinary tokens only; specials are always present.
        """
        if not isinstance(counts, Mapping):
            counts = Counter(counts)
        specials = tuple(specials)
        items = [(tok, c) for tok, c in counts.items() if c >= min_freq and tok not in specials]
        items.sort(key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            items = items[:max_size]
        tokens = list(specials) + [t for t, _ in items]
        freq = [counts.get(s, 0) for s in specials] + [c for _, c in items]
        return cls(tokens, freq, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos and self.specials == other.specials

    def id(self, token: str) -> int:
        return self.stoi.get(token, UNK_ID)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        get = self.stoi.get
        return [get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        itos = self.itos
        return [itos[i] for i in ids]

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    @property
    def bos_id(self) -> int:
        return self.stoi[BOS]

    def to_dict(self) -> dict:
        return {"format": VOCAB_FORMAT, "version": VOCAB_VERSION, "specials": list(self.specials),
                "tokens": self.itos, "counts": self.counts}

    @classmethod
    def from_dict(cls, data: dict, *, origin: str = "vocabulary") -> "Vocab":
        try:
            if data.get("format") != VOCAB_FORMAT:
                raise ModelError(f"{origin}: not a seqtool vocabulary")
            if data.get("version") != VOCAB_VERSION:
                raise ModelError(f"{origin}: vocabulary format version {data.get('version')!r} is not supported "
                                 f"(this seqtool reads version {VOCAB_VERSION})")
            tokens, counts = data["tokens"], data.get("counts")
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise ModelError(f"{origin}: vocabulary tokens must be a list of strings")
            return cls(tokens, counts, data["specials"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{origin}: malformed vocabulary ({exc})") from None

    def dumps(self) -> str:
        # ensure_ascii keeps lone surrogates and any other code point lossless.
        return json.dumps(self.to_dict(), ensure_ascii=True)

    @classmethod
    def loads(cls, text: str, *, origin: str = "vocabulary") -> "Vocab":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{origin}: vocabulary is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise ModelError(f"{origin}: not a seqtool vocabulary")
        return cls.from_dict(data, origin=origin)
