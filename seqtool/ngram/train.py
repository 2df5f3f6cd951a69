"""train_ngram: stream a corpus, count, smooth, and build an NgramModel."""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Iterable

import numpy as np

from ..core.errors import UsageError
from ..core.text import Tokenizer
from .counts import Counts, limit_vocab, split_keys
from .estimate import estimate
from .external import BudgetCounter, Stage
from .ondisk import DiskCounts
from .streamed import StreamedEstimate, not_streamed
from .model import NgramModel
from .options import MAX_ORDER, NgramConfig  # noqa: F401 - re-exported: NgramConfig was defined here


def count_corpus(lines: Iterable[str], order: int, tokenizer: Tokenizer,
                 on_progress: Callable[[int], None] | None = None, *, memory: int | str | None = None,
                 temp_dir: str | None = None, external: bool = False, stage: Stage | None = None,
                 info: Callable[[str], None] | None = None, chunk_tokens: int | None = None,
                 on_disk: bool = False) -> Counts | DiskCounts:
    """Count the n-grams of every non-blank line (a sentence, wrapped in <s> .. </s>) within
    `memory` bytes (default: 80% of the machine's; see external.py); the counts are the same
    whichever way they were made. With `on_disk`, a build beyond memory gives DiskCounts (its
    tables left in their files for build_model to stream; close it, or use `with`)."""
    with BudgetCounter(order, memory, temp_dir, external=external, stage=stage, info=info,
                       chunk_tokens=chunk_tokens) as counter:
        add = counter.add
        n = 0
        for line in lines:
            tokens = tokenizer(line)
            if tokens:
                add(tokens)
            n += 1
            if on_progress is not None and n % 20000 == 0:
                on_progress(20000)
        if on_progress is not None:
            on_progress(n % 20000)
        return counter.finish(on_disk=on_disk)


def build_model(counts: Counts | DiskCounts, config: NgramConfig, tokenizer: Tokenizer,
                warn: Callable[[str], None] | None = None, *, info: Callable[[str], None] | None = None,
                stage: Stage | None = None) -> NgramModel:
    """The model of `counts`. DiskCounts are estimated a block at a time (streamed.py) into a
    model whose tables are mapped from their files; what streamed.py does not stream (see
    not_streamed) reads the tables back and is estimated in memory, as Counts are."""
    if counts.external:
        why = not_streamed(config)
        if why is None:
            return _build_on_disk(counts, config, tokenizer, warn, stage)
        if info is not None:
            info(f"{why}: the estimate is not streamed, the n-gram tables are read back into memory")
        counts = counts.load()
    full = None
    if config.vocab_size is not None or config.min_freq > 1:
        full, counts = counts, limit_vocab(counts, min_freq=config.min_freq, max_size=config.vocab_size)
    est = estimate(counts, config.smoothing, k=config.k, prune=config.prune, lmplz_compat=config.lmplz_compat,
                   stats_from=full)
    for message in est.warnings:
        if warn is not None:
            warn(message)
    # The model keeps float32: each order's float64 estimate is dropped once converted, so
    # the two are never held whole at once.
    logp, bow, keys = [None, _single(est.logp, 1)], [None, _single(est.bow, 1) if counts.order > 1 else None], [None, None]
    newrow = None  # old row -> row after pruning, of the previous order
    for k in range(2, counts.order + 1):
        key = counts.keys[k]
        lp = _single(est.logp, k)
        bw = _single(est.bow, k) if k < counts.order else None
        if newrow is not None:
            prefix, word = split_keys(key)
            key = (newrow[prefix] << np.int64(32)) | word
        keep = est.keep[k]
        if keep is not None:
            key, lp = key[keep], lp[keep]
            bw = bw[keep] if bw is not None else None
            newrow = np.cumsum(keep) - 1
        else:
            newrow = None
        keys.append(key)
        logp.append(lp)
        bow.append(bw)
    return NgramModel(counts.words, logp, bow[: counts.order] + [None], keys, tokenizer=tokenizer,
                      info=_model_info(config, est.discounts, counts), check=False)


def _model_info(config: NgramConfig, discounts: dict, counts) -> dict:
    info = {"smoothing": config.smoothing, "level": config.level,
            "discounts": {str(k): v for k, v in discounts.items()},
            "train_tokens": counts.tokens, "train_sentences": counts.sentences}
    if config.smoothing == "addk":
        info["k"] = config.k
    if config.prune:
        info["prune"] = list(config.prune)
    if config.vocab_size is not None or config.min_freq > 1:
        info.update(vocab_size=config.vocab_size, min_freq=config.min_freq)
    return info


def _build_on_disk(counts: DiskCounts, config: NgramConfig, tokenizer: Tokenizer,
                   warn: Callable[[str], None] | None, stage: Stage | None) -> NgramModel:
    """The streamed estimate's model: its tables memory-mapped from the files in counts.root
    (pages are read when touched; store.save_model copies the files themselves)."""
    est = StreamedEstimate(counts, config.smoothing, stage).estimate()
    for message in est.warnings:
        if warn is not None:
            warn(message)
    sizes, n = counts.sizes(), counts.order

    def mapped(name: str, dtype, size: int) -> np.ndarray:
        return np.memmap(est.files[name], dtype=dtype, mode="r", shape=(size,)) if size else np.zeros(0, dtype)

    logp = [None] + [mapped(f"logp.{k}", np.float32, sizes[k - 1]) for k in range(1, n + 1)]
    bow = [None] + [mapped(f"bow.{k}", np.float32, sizes[k - 1]) for k in range(1, n)] + [None]
    keys = [None, None] + [mapped(f"keys.{k}", np.int64, sizes[k - 1]) for k in range(2, n + 1)]
    model = NgramModel(counts.words, logp, bow, keys, tokenizer=tokenizer,
                       info=_model_info(config, est.discounts, counts), check=False)
    model.tensor_files, model.build_memory = dict(est.files), counts.memory
    return model


def _single(arrays: list, k: int) -> np.ndarray:
    out = np.asarray(arrays[k], dtype=np.float32)
    arrays[k] = None
    return out


def train_ngram(lines: Iterable[str], config: NgramConfig | None = None, *,
                warn: Callable[[str], None] | None = None,
                on_progress: Callable[[int], None] | None = None, **overrides) -> NgramModel:
    """Train from an iterable of lines (one sentence each), e.g.
    ``train_ngram(open('train.txt'), order=3)`` or with an NgramConfig."""
    if config is None:
        config = NgramConfig(**overrides)
    elif overrides:
        config = NgramConfig(**{**asdict(config), **overrides})
    tokenizer = Tokenizer(level=config.level)
    # A build beyond memory leaves the model's tables mapped from files in the counts' folder:
    # the folder goes at the end, the mapped files live on until the model does.
    with count_corpus(lines, config.order, tokenizer, on_progress, memory=config.memory_bytes,
                      temp_dir=config.temp_dir, on_disk=True) as counts:
        if counts.tokens == 0:
            raise UsageError("the corpus has no tokens to train on (every line is blank)")
        return build_model(counts, config, tokenizer, warn)
