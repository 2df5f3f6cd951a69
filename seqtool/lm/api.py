"""The library entry points behind `seqtool train-lm`: every store write of the LM is here.

    result = train_lm(resolve_options({"corpus": ["corpus.txt"], "name": "mylm"}))
    result.status, result.best_valid_ppl

train_lm fills the name, takes the whole recipe from the checkpoint on --resume, and gives
the trainer (seqtool.lm.train) a StoreRun: the lock, the checkpoint and the publication
policy of seqtool.training.publish (an unfinished run never replaces a finished model).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..core.device import resolve_device
from ..core.store import ModelStore
from ..core.threads import apply_threads
from ..training.publish import CHECKPOINT_FILE, may_replace, no_checkpoint
from ..training.report import notice
from .options import TrainOptions, default_model_name, resume_options
from .store import KIND, write_lm


class StoreRun:
    """The model store as one training run of model `name` sees it (seqtool.lm.train.RunStore)."""

    def __init__(self, store: ModelStore, name: str, *, publish_partial: bool = False, force: bool = False):
        self.store, self.name, self.publish_partial, self.force = store, name, publish_partial, force
        self._told = False

    def lock(self):
        return self.store.lock(self.name)

    def load_checkpoint(self) -> dict | None:
        from ..training.checkpoint import load_checkpoint

        return load_checkpoint(self.store.checkpoint_dir(self.name, create=False), map_location="cpu")

    def has_checkpoint(self) -> bool:
        return (self.store.checkpoint_dir(self.name, create=False) / CHECKPOINT_FILE).exists()

    def save_checkpoint(self, state: dict) -> None:
        from ..training.checkpoint import save_checkpoint

        save_checkpoint(self.store.checkpoint_dir(self.name), state)

    def publish(self, model) -> bool:
        allowed, why = may_replace(self.store, self.name, finished=model.finished, epochs=model.epochs,
                                   publish_partial=self.publish_partial)
        if not allowed:
            if not self._told:  # once per run, not at every epoch
                notice(why)
                self._told = True
            return False
        with self.store.writer(self.name, KIND, force=self.force) as draft:
            write_lm(draft, model.tensors, model.model_config, model.vocab, model.level, training=model.training,
                     metrics=model.metrics, metrics_text=model.metrics_text)
        return True


def check_outputs(opts: TrainOptions) -> None:
    """Before any work: the inputs exist, and --plot can be written in the format its suffix names
    without replacing an input."""
    from ..core.outputs import check_output_path
    from ..core.sources import expand_inputs
    from ..core.plotting import plot_suffixes

    inputs = expand_inputs(opts.corpus) + expand_inputs([p for p in (opts.valid, opts.test) if p])
    if opts.plot:
        check_output_path(opts.plot, inputs=inputs, option="--plot", suffixes=plot_suffixes())


def train_lm(opts: TrainOptions, *, stop=None, explicit: set[str] | None = None):
    """Train (or, with opts.resume, continue) a language model; returns a seqtool.lm.train.TrainResult.

    `explicit`: the option names the user gave (the CLI knows); on resume, a recipe option
    given with another value than the stored one is refused. Without it, an option that
    differs from its default counts as given."""
    from .train import train

    opts.validate()
    store = ModelStore()
    if opts.resume:
        name = opts.name or default_model_name(opts.corpus)
        saved = StoreRun(store, name).load_checkpoint()
        if saved is None:
            raise no_checkpoint(store, name)
        opts = resume_options(TrainOptions.from_dict(saved["options"]), opts, explicit)
        opts.name = name
    else:
        opts.name = opts.name or default_model_name(opts.corpus)
    store.check_replace(opts.name, KIND, force=opts.force)
    check_outputs(opts)
    apply_threads(opts.threads)
    return train(opts, StoreRun(store, opts.name, publish_partial=opts.publish_partial, force=opts.force),
                 stop=stop)


@dataclass
class Perplexity:
    model: str
    files: list
    tokens: int
    loss: float
    perplexity: float
    unk_share: float

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def evaluate_file(model_name: str | None, files: list[str], *, device: str = "cpu", bptt: int = 35,
                  batch_size: int = 10, encoding: str = "utf-8", errors: str = "strict") -> Perplexity:
    """Perplexity of a stored model on text files (the same tokenization as training)."""
    from .data import batchify, encode_files
    from .store import load_torch_lm, open_lm
    from .train import evaluate, ppl

    stored = open_lm(model_name)
    device = resolve_device(device)
    model = load_torch_lm(stored, device)
    ids = encode_files(files, stored.vocab, stored.level, encoding=encoding, errors=errors)
    data = batchify(ids, min(batch_size, max(1, ids.size // 4)), ", ".join(files)).to(device)
    loss = evaluate(model, data, bptt)
    tokens = int(data.size(0) - 1) * data.size(1)
    return Perplexity(stored.name, list(files), tokens, round(loss, 5), round(ppl(loss), 3),
                      round(float(np.mean(ids == 0)), 5))

