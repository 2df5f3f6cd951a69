"""fastText's binary model files (`.bin`, as `fasttext skipgram` / `cbow` / `supervised` and
gensim's save_facebook_model write them), read without fastText or gensim: the word vectors
and the n-gram bucket matrix, so an imported model answers unknown words as fastText does.

Layout (fastText 0.9, FASTTEXT_VERSION 12; little-endian):

    int32 magic 793712314, int32 version
    args:  int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn,
           maxn, lrUpdateRate; float64 t
    dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size;
           size x (word bytes, NUL, int64 count, int8 type); pruneidx_size x (int32, int32)
    bool quantized; int64 rows, int64 cols; rows x cols float32   (the input matrix:
           nwords word rows, then bucket n-gram rows)
    ... the output matrix (not needed for vectors)

A word's vector is the mean of its own row and its n-gram rows (fastText's getWordVector;
the end-of-sentence token `</s>` has no n-grams); an unknown word's, the mean of its n-gram
rows (seqtool.vectors.subwords).
"""

from __future__ import annotations

import struct

import numpy as np

from ..core.errors import InputError
from .model import Vectors
from .subwords import Subwords, ngram_hashes

MAGIC = 793712314
MAGIC_BYTES = struct.pack("<i", MAGIC)
VERSIONS = (11, 12)
EOS = "</s>"
_ARGS = struct.Struct("<12id")  # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate t


class _Reader:
    def __init__(self, data, path: str):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise InputError(f"{self.path}: truncated fastText model (ends inside its header)")
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: str):
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size))


def read_fasttext_bin(path: str, *, limit: int | None = None) -> Vectors:
    """The word vectors (the first `limit` words) and n-gram buckets of a fastText .bin file."""
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")  # the matrix is read where it lies
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the fastText model ({exc})") from None
    r = _Reader(data, path)
    magic, version = r.unpack("ii")
    if magic != MAGIC:
        raise InputError(f"{path}: not a fastText model (a .bin.gz must be decompressed first)")
    if version not in VERSIONS:
        raise InputError(f"{path}: fastText model version {version} (seqtool reads versions 11 and 12)")
    dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, _model, bucket, minn, maxn, _lr_update, _t = \
        struct.unpack("<12id", r.take(_ARGS.size))
    size, nwords, _nlabels = r.unpack("iii")
    _ntokens, prune_size = r.unpack("qq")
    if not (0 <= nwords <= size and dim > 0 and bucket >= 0):
        raise InputError(f"{path}: malformed fastText model (dictionary of {size} entries, {nwords} words)")
    words = []
    for _ in range(size):
        end = _find_nul(data, r.pos, path)
        raw = bytes(data[r.pos:end])
        r.pos = end + 1
        _count, kind = r.unpack("qb")
        if kind == 0:
            words.append(raw.decode("utf-8", "replace"))
    if len(words) != nwords:
        raise InputError(f"{path}: malformed fastText model ({len(words)} words, the header says {nwords})")
    if prune_size > 0:
        raise InputError(f"{path}: a pruned (quantized) fastText model; its vectors cannot be recovered")
    r.take(0 if prune_size < 0 else 8 * prune_size)
    (quantized,) = r.unpack("?")
    if quantized:
        raise InputError(f"{path}: a quantized fastText model (.ftz); quantized vectors are not supported")
    rows, cols = r.unpack("qq")
    if cols != dim or rows != nwords + bucket or r.pos + rows * cols * 4 > len(data):
        raise InputError(f"{path}: malformed fastText model (input matrix {rows} x {cols}, expected "
                         f"{nwords + bucket} x {dim})")
    matrix = np.ndarray((rows, cols), dtype="<f4", buffer=data, offset=r.pos)  # (nwords + bucket, dim)
    words = words[:limit] if limit is not None else words
    minn = max(minn, 1)  # an n-gram has at least one character
    use_ngrams = bucket > 0 and maxn >= minn  # fastText's maxn 0: no subwords
    vectors = np.empty((len(words), dim), dtype=np.float32)  # (words, dim)
    for i, word in enumerate(words):
        ids = [i]
        if use_ngrams and word != EOS:
            ids += [nwords + h for h in ngram_hashes(word, minn, maxn, bucket)]
        vectors[i] = np.add.reduce(matrix[ids], axis=0, dtype=np.float32) / np.float32(len(ids))
    # The n-gram rows stay in the memory map; storing them streams them to ngrams.npy.
    subwords = Subwords(matrix[nwords:].view(np.ndarray).astype(np.float32, copy=False), min_n=minn, max_n=maxn) \
        if use_ngrams else None
    return Vectors(words, vectors, subwords=subwords)


def _find_nul(data, start: int, path: str) -> int:
    # Words are short: look in growing windows rather than scanning to the end of the file.
    window = 256
    while True:
        chunk = np.asarray(data[start:start + window])
        hit = np.flatnonzero(chunk == 0)
        if hit.size:
            return start + int(hit[0])
        if start + window >= len(data):
            raise InputError(f"{path}: truncated fastText model (a dictionary word without its end)")
        window *= 16
