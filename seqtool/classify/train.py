"""Training a classifier: the step (the model's building in classify/build.py, the batches and
optimizers in classify/steps.py, the validation accuracy in classify/validation.py, what fit returns
in classify/trained.py, an ensemble member by member in classify/ensemble_fit.py, the linear
model's solves in classify/linear_train.py). The lifecycle (early stopping, the best weights
kept, checkpoints, exact resume, Ctrl-C, DDP) is the shared seqtool.training.loop;
ClassifierTask is the classifier's part of it.

`fit` is the library core (it writes nothing itself; checkpoints and models go
through its hooks); `seqtool.classify.api.train_model` wraps it with the model store.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..core import console
from ..core.vocab import UNK_ID
from ..training.loop import EpochEnd, Loop, LoopConfig, LoopState, Publication
from ..training.report import Field, TrainingReport
from ..training.runtime import Distributed, seed_everything
from .build import build, nb_feature_scale
from .network import build_classifier
from .data import Dataset
from .docfeatures import standardise
from .features import collate
from .ensemble_fit import fit_ensemble
from .validation import accuracy, validation_targets
from .model import RNNClassifier
from .multilabel import multi_hot
from .options import TrainOptions
from .steps import Optimizers, batches_for_epoch, unk_probabilities
from .linear_train import LinearTask, linear_options
from .trained import Hooks, Trained, epoch_record

__all__ = ["Trained", "ClassifierTask", "Hooks", "fit", "make_report", "accuracy", "build", "nb_feature_scale",
           "Optimizers", "batches_for_epoch", "unk_probabilities", "TrainOptions"]

CLASSIFIER_FIELDS = (Field("train_loss", "train loss", "{:.4f}"), Field("valid_accuracy", "valid acc", "{:.4f}"),
                     Field("seconds", "time", "{:.1f}s"))
CLASSIFIER_CURVES = (("valid_accuracy", "validation accuracy"),)


def make_report(json_lines: bool = False, enabled: bool = True) -> TrainingReport:
    return TrainingReport(json_lines=json_lines, fields=CLASSIFIER_FIELDS, curves=CLASSIFIER_CURVES,
                          ylabel="accuracy", unit="ex", enabled=enabled)


class ClassifierTask:
    """The classifier's part of the training loop (seqtool.training.loop.Task)."""

    def __init__(self, train: Dataset, valid: Dataset | None, opts: TrainOptions, device: str, dist: Distributed,
                 member: str | None = None):
        self.opts, self.device, self.dist = opts, device, dist
        self.member = member  # an ensemble member: its records say which
        self.rank, self.world = (dist.rank, dist.world_size) if dist.enabled else (0, 1)
        feat, labels, cfg, model, coverage = build(train, opts)
        # the share of words given a pretrained vector (fastText: their n-grams' included)
        self.featurizer, self.labels, self.config = feat, labels, cfg
        self.coverage = coverage.share if coverage is not None else None
        if coverage is not None and self.rank == 0:
            from ..training.report import notice

            notice(f"--embeddings: {coverage.describe(opts.embeddings)}")
        self.model = model.to(device)
        index = {label: i for i, label in enumerate(labels)}
        unknown = sorted(set(valid.labels) - set(labels)) if valid is not None else []
        if unknown:
            console.warn(f"{valid.origin}: validation labels not in the training data: {', '.join(unknown[:5])}")
        self.enc_train = feat.encode(train.texts)
        self.y_train = torch.tensor([index[label] for label in train.labels])
        self.enc_valid = feat.encode(valid.texts) if valid is not None else None
        # multi-label: validation is the micro-F1 over each example's label set
        self.y_valid = validation_targets(valid, labels, cfg.multi_label)
        self.multi = cfg.multi_label
        if self.multi:  # one-vs-all: multi-hot targets
            self.y_multi = multi_hot(train.gold(), index)  # (N, C)
        if cfg.nb_scale:
            model.ngram_scale.copy_(nb_feature_scale(self.enc_train, self.y_train, cfg.num_ngrams, cfg.num_classes))
        if cfg.doc_dim:
            standardise(model, self.enc_train.docs)
        self.optimizer = Optimizers(model, opts, sparse=self.world == 1 or not device.startswith("cuda"))
        self.lengths = [len(t) for t in self.enc_train.tokens]
        self.unk_prob = unk_probabilities(self.enc_train.tokens, cfg.vocab_size, opts.word_dropout, cfg.pad_id)
        # Clipping is for the recurrent weights; the sparse tables are left alone.
        self.dense_params = [p for p in model.parameters() if p.requires_grad and p is not model.embedding.weight
                             and (model.ngram is None or p is not model.ngram.weight)]
        self.net: nn.Module = model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [torch.device(device).index] if device.startswith("cuda") else None
            self.net = DistributedDataParallel(model, device_ids=ids)
        self.loss_fn = nn.CrossEntropyLoss()
        self.batches: list[list[int]] = []

    def start_epoch(self, epoch: int, first_batch: int) -> int:
        self.batches = batches_for_epoch(self.lengths, self.opts.batch_size, self.opts.seed, epoch, self.rank, self.world)
        self.net.train()
        return len(self.batches)

    def train_step(self, batch: int):
        idx = self.batches[batch]
        tokens, lengths, flat, offsets = collate(self.enc_train, idx, self.config.pad_id)  # tokens (B, T)
        if self.unk_prob is not None:
            # Rare words become <UNK> at random, so <UNK> (every unseen word at test
            # time) gets a trained embedding rather than its random start.
            tokens = tokens.masked_fill(torch.rand(tokens.shape) < self.unk_prob[tokens], UNK_ID)
        d = self.device
        extra = {"docs": self.enc_train.docs[idx].to(d)} if self.enc_train.docs is not None else {}
        logits = self.net(tokens.to(d), lengths, flat.to(d), offsets.to(d), **extra)  # (B, C)
        if self.multi:  # fastText's ova loss: summed over the labels, averaged over the batch
            loss = nn.functional.binary_cross_entropy_with_logits(logits, self.y_multi[idx].to(d),
                                                                  reduction="sum") / len(idx)
        else:
            loss = self.loss_fn(logits, self.y_train[idx].to(d))
        self.optimizer.zero_grad()
        loss.backward()
        if self.opts.clip > 0:
            nn.utils.clip_grad_norm_(self.dense_params, self.opts.clip)
        self.optimizer.step()
        if hasattr(self.model, "apply_constraints"):  # cnn's max-norm; on the module, not a DDP wrapper
            self.model.apply_constraints()
        return loss.detach(), len(idx)

    def evaluate(self) -> float | None:
        if self.enc_valid is None:
            return None  # a refit: no validation, the last epoch is kept
        return accuracy(self.model, self.enc_valid, self.y_valid, self.device)

    def optimizers(self) -> list:
        return self.optimizer.parts

    def snapshot(self) -> dict:
        return copy.deepcopy(self.model.state_dict())

    def build_model(self) -> nn.Module:
        return build_classifier(self.config)

    def load_snapshot(self, model: RNNClassifier, weights: dict) -> None:
        model.load_state_dict(weights)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict, loop: LoopState) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])

    def record(self, end: EpochEnd) -> dict:
        return epoch_record(end, self.member)


def fit(train: Dataset, valid: Dataset | None, opts: TrainOptions, *, hooks: Hooks | None = None,
        resume_state: dict | None = None, dist=None, device: str = "cpu", report=None,
        started: float | None = None, member: str | None = None) -> Trained:
    """Train on `train`, early-stop on `valid` accuracy; returns the best epoch's model.
    With `valid` None it trains exactly `opts.epochs` epochs and returns the last (a refit).
    opts.max_time counts from `started` (time.monotonic(); default: now).

    `resume_state` is a checkpoint saved through hooks.save_checkpoint. `report` is a
    seqtool.training.report.TrainingReport (progress bars, one summary line or JSON line
    per epoch); None trains silently. `member` names an ensemble member in its epoch records."""
    hooks = hooks or Hooks()
    dist = dist if dist is not None else Distributed()
    if "+" in opts.arch:  # an ensemble: member by member, each through this function
        return fit_ensemble(train, valid, opts, fit, hooks=hooks, resume_state=resume_state, dist=dist,
                            device=device, report=report, started=started)
    if opts.arch == "linear":  # its epochs walk the regularization path (classify/linear_train.py)
        opts = linear_options(opts)
        task = LinearTask(train, valid, opts, device, dist, member)
    else:
        task = ClassifierTask(train, valid, opts, device, dist, member)
    seed_everything(opts.seed)  # after building: the batches' random stream starts at the seed
    state = None
    if resume_state is not None:
        state = LoopState.from_dict(resume_state)
        task.load_state_dict(resume_state["task"], state)

    def trained(weights: dict | None = None) -> Trained:
        s = loop.state
        model = loop.best_model(weights if weights is not None else s.best if s.best is not None else task.snapshot())
        return Trained(model, task.featurizer, task.labels, task.config, list(s.records), s.best_epoch,
                       max(s.best_score or 0.0, 0.0), task.coverage, status)

    def publish(offer: Publication) -> bool:
        return hooks.publish(trained(offer.weights), offer)

    def on_epoch(record: dict) -> None:
        hooks.on_epoch(record, trained())

    status = "running"
    loop = Loop(task, LoopConfig(epochs=opts.epochs, patience=opts.patience, higher_is_better=True,
                                 max_time=opts.max_time), state=state,
                rng=resume_state["rng"] if resume_state is not None else None, report=report, stop=hooks.stop,
                dist=dist, checkpoint=hooks.save_checkpoint,
                publish=publish if hooks.publish is not None else None,
                on_epoch=on_epoch if hooks.on_epoch is not None else None,
                resume_hint=hooks.resume_hint, started=started)
    status = loop.run()
    return trained()
