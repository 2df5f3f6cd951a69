"""The options of `ngram train` (NgramConfig) and the sizes --memory takes. Light on
purpose (no numpy): the CLI reads the defaults from here at --help time."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional

from ..core.errors import UsageError
from ..core.options import RUN, option, validate_fields
from ..core.text import Tokenizer

SMOOTHINGS = ("mkn", "kn", "wb", "addk", "mle", "stupid-backoff")
DEFAULT_MEMORY = "80%"  # lmplz -S's default

_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([bkmgtp%]?)\s*(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 4 << 30


def parse_memory(text: str | int | None) -> int:
    """lmplz -S sizes in bytes: '4G', '300M', '512K', '80%' (of physical memory), '100b';
    a bare number is KiB, as lmplz and GNU sort read it."""
    if text is None:
        text = DEFAULT_MEMORY
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise UsageError(f"--memory takes a size such as 4G, 300M, 512K or 80% (got {text!r})")
    value, unit = float(match.group(1)), match.group(2).lower()
    if unit == "%":
        if not 0 < value <= 100:
            raise UsageError(f"--memory {text}: a share of memory must be above 0% and at most 100%")
        size = int(physical_memory() * value / 100)
    else:
        size = int(value * _UNITS.get(unit or "k"))
    if size < 1 << 20:
        raise UsageError(f"--memory {text} is too small: give at least 1M")
    return size


MAX_ORDER = 12


@dataclass
class NgramConfig:
    """The options of `ngram train`: each field's default, help and flag are declared once
    here; seqtool.cli.options.with_options derives the command's parameters from them."""

    order: int = option(3, "N-gram order.", short="-n")
    smoothing: str = option("mkn", "mkn (modified Kneser-Ney, as KenLM), kn, wb (Witten-Bell), addk, mle or "
                            "stupid-backoff.")
    k: float = option(0.01, "The k of add-k smoothing.")
    level: str = option("word", "word (split on whitespace) or char.")
    # KenLM --prune: drop order-i n-grams with count <= prune[i-1]
    prune: Optional[list] = option(None, "Per order, drop n-grams with count <= value, as KenLM: '0 0 1' drops "
                                   "singleton trigrams and up.", parse="ints")
    min_count: Optional[list] = option(None, "Per order, keep n-grams seen at least this often: '1 1 2' "
                                       "(= --prune '0 0 1').", parse="ints")
    vocab_size: Optional[int] = option(None, "Keep the most frequent words; the rest become <unk>.", minimum=1)
    min_freq: int = option(1, "Words seen fewer times become <unk>.", minimum=1)
    # replicate lmplz's count-of-counts quirk (see estimate.py)
    lmplz_compat: bool = option(False, "Replicate lmplz's count-of-counts quirk.", cli=False)
    memory: str = option(DEFAULT_MEMORY, "Memory budget of the counting, as lmplz -S: 4G, 300M, 512K or a share "
                         "of the machine's memory (80%); past it, sorted runs of counts go to --temp-dir.", role=RUN)
    temp_dir: Optional[str] = option(None, "Folder for the sorted runs of a corpus beyond --memory (removed "
                                     "after the build).", default_text="the system's temporary folder", role=RUN)

    def __post_init__(self) -> None:
        if not 1 <= self.order <= MAX_ORDER:
            raise UsageError(f"-n/--order must be between 1 and {MAX_ORDER} (got {self.order})")
        if self.smoothing not in SMOOTHINGS:
            raise UsageError(f"unknown smoothing {self.smoothing!r} (choose from {', '.join(SMOOTHINGS)})")
        validate_fields(self)
        self.prune = int_list(self.prune, "--prune")
        if self.min_count is not None:
            if self.prune is not None:
                raise UsageError("give --prune or --min-count, not both")
            # keeping count >= m is dropping count <= m - 1: the one form the estimate reads
            self.prune = [max(v - 1, 0) for v in int_list(self.min_count, "--min-count")]
            self.min_count = None
        parse_memory(self.memory)
        Tokenizer(level=self.level)

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)


def int_list(value, option_name: str) -> Optional[list[int]]:
    """'0 0 1', '0,0,1' or [0, 0, 1] -> [0, 0, 1]; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
        try:
            value = [int(p) for p in parts]
        except ValueError:
            raise UsageError(f"{option_name} takes whole numbers, one per order, e.g. '0 0 1' or '0,0,1' "
                             f"(got {value!r})") from None
    values = [int(v) for v in value]
    if not values:
        raise UsageError(f"{option_name} needs at least one value")
    return values


