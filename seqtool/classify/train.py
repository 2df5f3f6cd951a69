"""Training a classifier: seeded batches, the step, validation accuracy. The lifecycle
(early stopping, the best weights kept, checkpoints, exact resume, Ctrl-C, DDP) is the
shared seqtool.training.loop; ClassifierTask is the classifier's part of it.

`fit` is the library core (it writes nothing itself; checkpoints and models go
through its hooks); `seqtool.classify.api.train_model` wraps it with the model store.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..core import console
from ..core.text import Tokenizer
from ..core.vocab import UNK_ID
from ..training.loop import EpochEnd, Loop, LoopConfig, LoopState, Publication
from ..training.report import Field, TrainingReport
from ..training.runtime import Distributed, seed_everything
from .data import Dataset, check_trainable
from .features import Encoded, Featurizer, collate
from .cnn import ConvConfig, build_classifier
from .docfeatures import DocFeatures, standardise
from .logits import classifier_logits
from .multilabel import decision_f1, multi_hot, multi_label
from .model import ClassifierConfig, RNNClassifier
from .options import TrainOptions

CLASSIFIER_FIELDS = (Field("train_loss", "train loss", "{:.4f}"), Field("valid_accuracy", "valid acc", "{:.4f}"),
                     Field("seconds", "time", "{:.1f}s"))
CLASSIFIER_CURVES = (("valid_accuracy", "validation accuracy"),)


def make_report(json_lines: bool = False, enabled: bool = True) -> TrainingReport:
    return TrainingReport(json_lines=json_lines, fields=CLASSIFIER_FIELDS, curves=CLASSIFIER_CURVES,
                          ylabel="accuracy", unit="ex", enabled=enabled)


@dataclass
class Trained:
    model: RNNClassifier
    featurizer: Featurizer
    labels: list[str]
    config: ClassifierConfig
    history: list[dict]
    best_epoch: int
    best_valid_accuracy: float
    embedding_coverage: float | None = None
    status: str = "finished"  # the loop's: finished, early-stopped, time-limit, stopped


def build(train: Dataset, opts: TrainOptions) -> tuple[Featurizer, list[str], ClassifierConfig, RNNClassifier, float | None]:
    check_trainable(train)
    tokenizer = Tokenizer.from_dict(opts.tokenizer)
    doc = DocFeatures.open(opts.doc2vec_model) if opts.doc2vec_model else None
    feat = Featurizer.build(train.texts, tokenizer, ngram_order=opts.ngrams, max_len=opts.max_len,
                            min_freq=opts.min_freq, doc=doc)
    labels = train.classes()
    vectors = None
    emb = opts.emb
    if opts.embeddings:
        from ..vectors import load_vectors

        from ..vectors.embedding import vectors_dim

        vectors = load_vectors(opts.embeddings)
        emb = vectors_dim(vectors)
    common = dict(vocab_size=len(feat.vocab), num_classes=len(labels), num_ngrams=feat.num_ngrams,
                  pad_id=feat.vocab.pad_id, cell=opts.cell, bidirectional=opts.bidirectional, layers=opts.layers,
                  hidden=opts.hidden, emb=emb, dropout=opts.dropout, pooling=opts.pooling,
                  nb_scale=opts.nb_scale and feat.num_ngrams > 0, multi_label=multi_label(train, opts),
                  doc_dim=doc.dim if doc is not None else 0)
    if opts.arch == "rnn":
        cfg = ClassifierConfig(**common)
    else:
        cfg = ConvConfig(**common, arch=opts.arch, widths=opts.width_tuple, maps=opts.maps, max_norm=opts.max_norm,
                         pool=opts.pool)
    torch.manual_seed(opts.seed)
    model = build_classifier(cfg)
    coverage = None
    if vectors is not None:
        from ..vectors.embedding import fill_embedding

        with torch.no_grad():
            coverage = fill_embedding(model.embedding.weight, feat.vocab, vectors)  # a Coverage
            model.embedding.weight[cfg.pad_id].zero_()
        if opts.freeze:
            model.embedding.weight.requires_grad_(False)
    return feat, labels, cfg, model, coverage


def nb_feature_scale(enc: Encoded, targets: torch.Tensor, num_ngrams: int, num_classes: int,
                     alpha: float = 1.0) -> torch.Tensor:
    """How class-specific each n-gram is: the naive-Bayes log-count ratio |r| of NBSVM
    (Wang & Manning 2012), generalised to k classes as 2 * mean_c |log p(f|c) - mean log p(f|.)|.

    Used as the n-gram's feature value, so informative n-grams move fast under
    Adam and early stopping while frequent neutral ones ("the", "a film") stay quiet.
    """
    counts = torch.full((num_ngrams, num_classes), alpha)  # (F, C), binary counts + smoothing
    for grams, y in zip(enc.ngrams, targets.tolist()):
        if grams:
            counts[grams, y] += 1.0
    logp = (counts / counts.sum(0, keepdim=True)).log()
    centred = logp - logp.mean(1, keepdim=True)
    return 2.0 * centred.abs().mean(1)  # (F,)


def unk_probabilities(token_lists: list[list[int]], vocab_size: int, alpha: float, pad_id: int) -> torch.Tensor | None:
    """Per word id, the chance that training replaces it by <UNK>: alpha / (alpha + count)
    (Kiperwasser & Goldberg 2016), so rare words, which resemble the unseen words of
    new text, are dropped most. None when alpha is 0."""
    if alpha <= 0:
        return None
    flat = torch.tensor([i for ids in token_lists for i in ids], dtype=torch.int64)
    counts = torch.bincount(flat, minlength=vocab_size).float()  # (V,)
    prob = alpha / (alpha + counts)
    prob[pad_id] = 0.0
    return prob


class Optimizers:
    """Adam for the dense weights and SparseAdam for the embedding tables: a batch
    touches a few hundred of the ~100k rows, and dense Adam would update them all."""

    def __init__(self, model: RNNClassifier, opts: TrainOptions, sparse: bool):
        emb = [model.embedding.weight] if model.embedding.weight.requires_grad else []
        bag = [model.ngram.weight] if model.ngram is not None else []
        ids = {id(p) for p in emb + bag}
        dense = [p for p in model.parameters() if id(p) not in ids and p.requires_grad]
        model.embedding.sparse = sparse
        if model.ngram is not None:
            model.ngram.sparse = sparse
        # The linear n-gram path is plain logistic regression: each weight sees few
        # updates (one per example containing its n-gram), so it gets a larger step.
        tables = [g for g in ({"params": emb, "lr": opts.lr}, {"params": bag, "lr": opts.ngram_lr or opts.lr})
                  if g["params"]]
        if sparse:
            self.parts = [torch.optim.Adam(dense, lr=opts.lr, weight_decay=opts.weight_decay),
                          torch.optim.SparseAdam(tables, lr=opts.lr)]
        else:
            self.parts = [torch.optim.Adam([{"params": dense, "weight_decay": opts.weight_decay}] + tables,
                                           lr=opts.lr)]

    def zero_grad(self) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=True)

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def state_dict(self) -> dict:
        return {"parts": [part.state_dict() for part in self.parts]}

    def load_state_dict(self, state: dict) -> None:
        for part, sd in zip(self.parts, state["parts"], strict=True):
            part.load_state_dict(sd)


def batches_for_epoch(lengths: list[int], batch_size: int, seed: int, epoch: int, rank: int = 0,
                      world: int = 1) -> list[list[int]]:
    """The batches one rank trains on in `epoch`: a function of (seed, epoch) only, so resume needs no state.

    Examples are shuffled, then sorted by length within windows of 50 batches, so a
    batch holds similar lengths (fewer RNN time steps) while batches stay random.
    """
    n = len(lengths)
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    window = batch_size * 50
    order = [i for w in range(0, n, window) for i in sorted(order[w:w + window], key=lengths.__getitem__)]
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    shuffle = torch.randperm(len(batches), generator=g).tolist()
    batches = [batches[i] for i in shuffle]
    if world > 1:
        usable = len(batches) - len(batches) % world or len(batches)
        batches = batches[:usable][rank::world]
        if not batches:  # fewer batches than ranks: every rank repeats the first
            batches = [order[:batch_size]]
    return batches


def accuracy(model: RNNClassifier, enc: Encoded, targets: list, device: str) -> float:
    """The validation figure early stopping watches: accuracy; for multi-label targets (a set of
    label ids per example) the micro-F1 of the one-vs-all decisions (classify.multilabel)."""
    if not targets:
        return 0.0
    logits = classifier_logits(model, enc, device)
    if isinstance(targets[0], (set, frozenset)):
        return decision_f1(logits, targets)
    pred = logits.argmax(dim=1)
    return float((pred == torch.tensor(targets)).float().mean())


class ClassifierTask:
    """The classifier's part of the training loop (seqtool.training.loop.Task)."""

    def __init__(self, train: Dataset, valid: Dataset | None, opts: TrainOptions, device: str, dist: Distributed):
        self.opts, self.device, self.dist = opts, device, dist
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
        self.y_valid = [index.get(label, -1) for label in valid.labels] if valid is not None else []
        self.multi = cfg.multi_label
        if self.multi:  # one-vs-all: multi-hot targets; validation: micro-F1 over each example's label set
            self.y_multi = multi_hot(train.gold(), index)  # (N, C)
            if valid is not None:
                self.y_valid = [{index[x] for x in labels if x in index} for labels in valid.gold()]
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
        record = {"epoch": end.epoch, "train_loss": end.train_loss, "valid_accuracy": end.score,
                  "best": end.improved, "seconds": round(end.seconds, 2)}
        if end.score is None:
            record["refit"] = True
        return record


@dataclass
class Hooks:
    """What the caller wants to hear about (all optional)."""

    on_epoch: Callable[[dict, "Trained"], None] | None = None  # after each epoch; Trained holds the best so far
    save_checkpoint: Callable[[dict], None] | None = None
    stop: object | None = None  # anything with a .requested attribute (StopFlag)
    # offered the best model at improved epoch ends, at the end and on a stop; returns whether it was stored
    publish: Callable[["Trained", Publication], bool] | None = None
    resume_hint: str = "continue with --resume"


def fit(train: Dataset, valid: Dataset | None, opts: TrainOptions, *, hooks: Hooks | None = None,
        resume_state: dict | None = None, dist=None, device: str = "cpu", report=None,
        started: float | None = None) -> Trained:
    """Train on `train`, early-stop on `valid` accuracy; returns the best epoch's model.
    With `valid` None it trains exactly `opts.epochs` epochs and returns the last (a refit).
    opts.max_time counts from `started` (time.monotonic(); default: now).

    `resume_state` is a checkpoint saved through hooks.save_checkpoint. `report` is a
    seqtool.training.report.TrainingReport (progress bars, one summary line or JSON line
    per epoch); None trains silently."""
    hooks = hooks or Hooks()
    dist = dist if dist is not None else Distributed()
    task = ClassifierTask(train, valid, opts, device, dist)
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

    publish = None
    if hooks.publish is not None:
        def publish(offer: Publication) -> bool:
            return hooks.publish(trained(offer.weights), offer)

    on_epoch = None
    if hooks.on_epoch is not None:
        def on_epoch(record: dict) -> None:
            hooks.on_epoch(record, trained())

    status = "running"
    loop = Loop(task, LoopConfig(epochs=opts.epochs, patience=opts.patience, higher_is_better=True,
                                 max_time=opts.max_time), state=state,
                rng=resume_state["rng"] if resume_state is not None else None, report=report, stop=hooks.stop,
                dist=dist, checkpoint=hooks.save_checkpoint, publish=publish, on_epoch=on_epoch,
                resume_hint=hooks.resume_hint, started=started)
    status = loop.run()
    return trained()
