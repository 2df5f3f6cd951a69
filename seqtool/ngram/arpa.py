"""ARPA files in and out (plain or .gz), compatible with KenLM and SRILM.

KenLM reserves the words <unk> (also spelled <UNK>), <s> and </s>. The corpus
token <unk> is the unknown word itself (counts.corpus_word_ids), written as
<unk>; an ordinary word spelled like a reserved one is written with an
underscore before the '>': `<UNK_>`, `<s_>`, `</s_>` (a word already spelled
`<s_>` gets two, and so on; reading removes one, so `<unk_>` from an older
seqtool reads back as an ordinary word `<unk>`). Char-level models write
whitespace characters as `<U+0020>`-style names and say `level=char` in a
comment before `\\data\\`, which KenLM skips.
Log10 probabilities of zero are written as -99 and read back as zero.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import os
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from ..core.errors import ModelError
from ..core.text import Tokenizer
from .counts import BOS_ID, EOS_ID, SHIFT, SPECIALS, UNK_ID, split_keys
from .model import NgramModel

_RESERVED = re.compile(r"^(</?s|<unk|<UNK)(_*)>$")
_ESCAPED = re.compile(r"^(</?s|<unk|<UNK)_(_*)>$")
_CHAR = re.compile(r"^<U\+([0-9A-F]{4,6})>$")
_ARPA_SPECIAL = {"<unk>": UNK_ID, "<UNK>": UNK_ID, "<s>": BOS_ID, "</s>": EOS_ID}
LOG_ZERO = -99.0


def arpa_word(token: str, level: str = "word") -> str:
    """How an ordinary token is spelled in an ARPA file written by seqtool."""
    if level == "char" and (token.isspace() or not token):
        return f"<U+{ord(token):04X}>"
    m = _RESERVED.match(token)
    return f"{m.group(1)}{m.group(2)}_>" if m else token


def _token_of(word: str, level: str) -> str:
    if level == "char":
        m = _CHAR.match(word)
        if m:
            return chr(int(m.group(1), 16))
    m = _ESCAPED.match(word)
    return f"{m.group(1)}{m.group(2)}>" if m else word


def _fmt_all(values: np.ndarray) -> list[str]:
    """log10 values as ARPA text: 9 digits (a float32 reads back bit-exact), -99 for zero.
    Each distinct value is formatted once (backoffs and probabilities repeat a lot)."""
    v = values.astype(np.float64)
    v = np.where(np.isfinite(v) & (v > LOG_ZERO), v, LOG_ZERO) + 0.0  # + 0.0 turns -0 into 0
    uniq, inv = np.unique(v, return_inverse=True)
    text = list(map("{:.9g}".format, uniq.tolist()))
    return [text[i] for i in inv.reshape(-1).tolist()]


def write_arpa(model: NgramModel, path: str | Path) -> None:
    """Write `model` as ARPA text; `.gz` paths are gzip-compressed. Atomic."""
    from ..core.atomic import atomic_write

    path = Path(path)
    with atomic_write(path, "wb") as raw:
        write_arpa_stream(model, raw, gz=path.suffix == ".gz")


ARPA_CHUNK = 1 << 16  # n-grams formatted per write: memory stays flat whatever the model's size
RELEASE_ROWS = 1 << 22  # n-grams written between two releases of a mapped model's pages


def release_pages(arrays) -> None:
    """Drop from this process the pages of memory-mapped `arrays` (a model built beyond memory,
    or opened from the store) that it has touched: they stay in the page cache and come back
    when read, but no longer count as its resident memory, so a pass over a mapped model keeps
    to the --memory it was built within. Arrays in memory are left alone."""
    import mmap

    done = set()
    for a in arrays:
        while a is not None and not isinstance(a, mmap.mmap):
            a = getattr(a, "_mmap", None) or getattr(a, "base", None)
        if a is not None and id(a) not in done and not a.closed:
            done.add(id(a))
            a.madvise(mmap.MADV_DONTNEED)


def _gram_words(model: NgramModel, k: int, rows: np.ndarray) -> list[np.ndarray]:
    """Word ids w1..wk of the k-grams at `rows`, following the prefix rows down the trie."""
    words = []
    for j in range(k, 1, -1):
        prefix, word = split_keys(model.keys[j][rows])
        words.append(word)
        rows = prefix
    words.append(rows)
    return words[::-1]


def write_arpa_stream(model: NgramModel, raw, *, gz: bool = False) -> None:
    """Write `model` as ARPA text to a binary stream (gzip-compressed with `gz`), streamed:
    ARPA_CHUNK n-grams at a time, each one's words found from the trie (no list of all strings)."""
    level = model.level
    names = np.array([*SPECIALS] + [arpa_word(w, level) for w in model.words[len(SPECIALS):]], dtype=object)
    fh = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=4, mtime=0) if gz else raw
    out = io.TextIOWrapper(fh, encoding="utf-8", newline="\n", write_through=False)
    out.write(f"# seqtool ngram level={level} smoothing={model.smoothing} order={model.order}\n\n")
    out.write("\\data\\\n")
    # <s> is a unigram with log10 p = -99 (it is never predicted) and a backoff, like KenLM's.
    sizes = model.sizes()
    for k, size in enumerate(sizes, start=1):
        out.write(f"ngram {k}={size}\n")
    tables = [x for x in model.logp + model.bow + model.keys if x is not None]
    for k in range(1, model.order + 1):
        out.write(f"\n\\{k}-grams:\n")
        for lo in range(0, sizes[k - 1], ARPA_CHUNK):
            if lo % RELEASE_ROWS == 0:
                release_pages(tables)
            rows = np.arange(lo, min(lo + ARPA_CHUNK, sizes[k - 1]), dtype=np.int64)
            cols = [names[ids].tolist() for ids in _gram_words(model, k, rows)]
            strings = cols[0] if k == 1 else list(map(" ".join, zip(*cols)))
            lp = _fmt_all(model.logp[k][rows])
            if k < model.order:
                bw = _fmt_all(model.bow[k][rows])
                out.write("".join([f"{a}\t{s}\t{b}\n" for a, s, b in zip(lp, strings, bw)]))
            else:
                out.write("".join([f"{a}\t{s}\n" for a, s in zip(lp, strings)]))
    out.write("\n\\end\\\n")
    out.flush()
    out.detach()
    if fh is not raw:
        fh.close()


def read_arpa(path: str | Path, *, level: str | None = None) -> NgramModel:
    """Load an ARPA file (from seqtool, KenLM, SRILM, ...) as an NgramModel.
    Opened through core/binary's opener, so a .gz file gets its gzip-bomb guard."""
    from ..core import binary
    from ..core.binary import open_binary
    from ..core.sources import Source

    origin = str(path)
    try:
        size = os.stat(path).st_size
        with open_binary(Source(origin if origin != "-" else "./-")) as fh:
            # open_binary yields the file itself, or a guarded gzip reader whose text may be
            # up to MAX_GZIP_RATIO times the file's size.
            max_bytes = size if isinstance(fh, io.BufferedIOBase) else size * binary.MAX_GZIP_RATIO
            return _parse(_text_lines(fh, origin), origin, level, max_bytes)
    except (OSError, EOFError) as exc:
        raise ModelError(f"{origin}: unreadable ARPA file ({exc.strerror or exc})") from None


def _text_lines(fh, origin: str) -> Iterator[str]:
    """The lines of a binary reader as UTF-8 text (line ends kept), each at most
    MAX_LINE_BYTES long, so a file that is not ARPA text cannot fill the memory."""
    from ..core import readers

    limit = readers.MAX_LINE_BYTES
    offset = 0
    for raw in iter(functools.partial(fh.readline, limit + 1), b""):
        if len(raw) > limit:
            raise ModelError(f"{origin}: a line longer than {limit >> 20} MiB at byte {offset}; not an ARPA file")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"{origin}: not UTF-8 text ({exc.reason} at byte {offset + exc.start})") from None
        offset += len(raw)


def _parse(fh, origin: str, level: str | None, max_bytes: int) -> NgramModel:
    header_level = header_smoothing = None
    lineno = 0
    for line in fh:
        lineno += 1
        s = line.strip()
        if s == "\\data\\":
            break
        m = re.search(r"\blevel=(word|char)\b", s)
        if m and s.startswith("#"):
            header_level = m.group(1)
            found = re.search(r"\bsmoothing=(\S+)", s)
            header_smoothing = found.group(1) if found else None
    else:
        raise ModelError(f"{origin}: not an ARPA file (no \\data\\ line)")
    level = level or header_level or "word"
    sizes: list[int] = []
    for line in fh:
        lineno += 1
        s = line.strip()
        if not s:
            if sizes:
                break
            continue
        m = re.match(r"^ngram\s+(\d+)\s*=\s*(\d+)$", s)
        if not m or int(m.group(1)) != len(sizes) + 1:
            raise ModelError(f"{origin}: line {lineno}: expected 'ngram {len(sizes) + 1}=COUNT', got {s[:60]!r}")
        sizes.append(int(m.group(2)))
    order = len(sizes)
    if order == 0:
        raise ModelError(f"{origin}: ARPA file declares no n-grams")
    # The shortest n-gram line is "p<TAB>w1 ... wk\n": 2k + 2 bytes.
    claimed = sum(n * (2 * k + 2) for k, n in enumerate(sizes, start=1))
    if claimed > max_bytes:
        raise ModelError(f"{origin}: header declares {sum(sizes):,} n-grams, more than a file of this size "
                         f"can hold; the file is truncated or corrupted")
    words: list[str] = list(SPECIALS)
    spelling = _Spelling(words, level)
    logp: list = [None]
    bow: list = [None]
    keys: list = [None, None]
    for k in range(1, order + 1):
        s = ""
        for line in fh:
            lineno += 1
            s = line.strip()
            if s:
                break
        if s != f"\\{k}-grams:":
            raise ModelError(f"{origin}: line {lineno}: expected '\\{k}-grams:', got {s[:60]!r}")
        probs, bows, cols = _read_section(fh, k, sizes[k - 1], spelling, origin, lineno)
        lineno += sizes[k - 1] + 1
        if k == 1:
            logp.append(probs)
            bow.append(bows)
            continue
        row = cols[:, 0]
        for j in range(2, k):
            row = _find(keys[j], row, cols[:, j - 1])
            if (row < 0).any():
                bad = [words[i] for i in cols[int(np.flatnonzero(row < 0)[0])]]
                raise ModelError(f"{origin}: {k}-gram {' '.join(bad)!r} has no {j}-gram context "
                                 f"{' '.join(bad[:j])!r} (seqtool needs every context listed)")
        key = (row << SHIFT) | cols[:, -1]
        perm = np.argsort(key)
        key = key[perm]
        if key.size > 1 and np.any(key[1:] == key[:-1]):
            raise ModelError(f"{origin}: the \\{k}-grams: section lists an n-gram twice")
        keys.append(key)
        logp.append(probs[perm])
        bow.append(bows[perm])
    for line in fh:
        if line.strip():
            if line.strip() != "\\end\\":
                raise ModelError(f"{origin}: expected \\end\\ after the {order}-grams")
            break
    info = {"smoothing": "arpa", "source": origin}
    if header_smoothing:
        info["header_smoothing"] = header_smoothing
    tokenizer = Tokenizer(level=level)
    return NgramModel(words, logp, bow[:order] + [None], keys, tokenizer=tokenizer, info=info)


class _Spelling(dict):
    """ARPA word -> id; filled from the unigram section."""

    def __init__(self, words: list[str], level: str):
        super().__init__(_ARPA_SPECIAL)
        self.words = words
        self.level = level
        self.tokens: set[str] = set()

    def add(self, word: str, origin: str) -> int:
        if word in self:
            if word in _ARPA_SPECIAL:
                return self[word]
            raise ModelError(f"{origin}: unigram {word!r} is listed twice")
        tok = _token_of(word, self.level)
        if tok in self.tokens:
            raise ModelError(f"{origin}: unigrams {word!r} and another spelling both mean {tok!r}")
        self.tokens.add(tok)
        self[word] = len(self.words)
        self.words.append(tok)
        return self[word]


CHUNK_LINES = 1 << 19


def _read_section(fh, k: int, size: int, spelling: _Spelling, origin: str, lineno: int):
    """(log10 probs, log10 backoffs, word-id columns (N, k)) of one \\k-grams: section."""
    probs = np.zeros(size, np.float64)
    bows = np.zeros(size, np.float64)
    cols = np.zeros((size, k), np.int64)
    lines = itertools.takewhile(str.strip, fh)  # the section ends at a blank line
    n = 0
    while True:
        chunk = list(itertools.islice(lines, CHUNK_LINES))
        if not chunk:
            break
        if n + len(chunk) > size:
            raise ModelError(f"{origin}: the \\{k}-grams: section has more entries than the header's {size}")
        fields = "".join(chunk).split()
        m = len(chunk)
        if len(fields) == m * (k + 2):
            stride, has_bow = k + 2, True
        elif len(fields) == m * (k + 1):
            stride, has_bow = k + 1, False
        else:  # mixed lines with and without backoff: parse one by one
            stride, has_bow = None, None
        try:
            if stride is None:
                rows = [ln.split() for ln in chunk]
                for i, parts in enumerate(rows):
                    if len(parts) not in (k + 1, k + 2):
                        raise ModelError(f"{origin}: line {lineno + n + i + 1}: malformed {k}-gram entry "
                                         f"{chunk[i].strip()[:60]!r}")
                p = np.array([r[0] for r in rows], dtype=np.float64)
                b = np.array([r[k + 1] if len(r) == k + 2 else 0.0 for r in rows], dtype=np.float64)
                grams = [w for r in rows for w in r[1:k + 1]]
            else:
                p = np.array(fields[0::stride], dtype=np.float64)
                b = np.array(fields[k + 1::stride], dtype=np.float64) if has_bow else np.zeros(m)
                grams = [w for j in range(k) for w in fields[1 + j::stride]]
        except ValueError as exc:
            raise ModelError(f"{origin}: a bad number in the \\{k}-grams: section ({exc})") from None
        if k == 1:
            ids = np.array([spelling.add(w, origin) for w in grams], dtype=np.int64)
            c = ids.reshape(1, m).T
        else:
            get = spelling.get
            c = np.array([get(w, -1) for w in grams], dtype=np.int64)
            c = c.reshape(m, k) if stride is None else c.reshape(k, m).T
            if (c < 0).any():
                i = int(np.flatnonzero((c < 0).any(axis=1))[0])
                raise ModelError(f"{origin}: {k}-gram {chunk[i].split()[1:k + 1]!r} uses a word missing "
                                 f"from the unigrams")
        probs[n:n + m], bows[n:n + m], cols[n:n + m] = p, b, c
        n += m
    if n != size:
        raise ModelError(f"{origin}: the \\{k}-grams: section has {n} entries but the header says {size}")
    probs[probs <= LOG_ZERO] = -np.inf
    bows[bows <= LOG_ZERO] = -np.inf
    if k == 1:  # order 1 is indexed by word id
        V = len(spelling.words)
        p1 = np.full(V, -np.inf)
        b1 = np.zeros(V)
        p1[UNK_ID] = -100.0  # as KenLM does when an ARPA file lacks <unk>
        p1[cols[:, 0]] = probs
        b1[cols[:, 0]] = bows
        return p1, b1, cols
    return probs, bows, cols


def _find(keys: np.ndarray, row: np.ndarray, word: np.ndarray) -> np.ndarray:
    q = (row << SHIFT) | word
    out = np.full(q.size, -1, np.int64)
    if keys.size == 0:
        return out
    idx = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    hit = (keys[idx] == q) & (row >= 0)
    out[hit] = idx[hit]
    return out


__all__ = ["read_arpa", "write_arpa", "write_arpa_stream", "arpa_word"]
