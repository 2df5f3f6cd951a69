"""Training: seeded batches, early stopping on validation accuracy, the best
weights kept, exact resume from a checkpoint, Ctrl-C and DDP (torchrun).

`fit` is the library core (it writes nothing itself; checkpoints and models go
through its hooks); `seqtool.classify.api.train_model` wraps it with the model store.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..core import console
from ..core.errors import Interrupted
from ..core.text import Tokenizer
from ..core.vocab import UNK_ID
from ..training.report import Field, TrainingReport
from .data import Dataset, check_trainable
from .features import Encoded, Featurizer, collate
from .infer import predict_logits
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


def build(train: Dataset, opts: TrainOptions) -> tuple[Featurizer, list[str], ClassifierConfig, RNNClassifier, float | None]:
    check_trainable(train)
    tokenizer = Tokenizer.from_dict(opts.tokenizer)
    feat = Featurizer.build(train.texts, tokenizer, ngram_order=opts.ngrams, max_len=opts.max_len,
                            min_freq=opts.min_freq)
    labels = train.classes()
    vectors = None
    emb = opts.emb
    if opts.embeddings:
        from ..vectors import load_vectors

        from ..vectors.embedding import vectors_dim

        vectors = load_vectors(opts.embeddings)
        emb = vectors_dim(vectors)
    cfg = ClassifierConfig(vocab_size=len(feat.vocab), num_classes=len(labels), num_ngrams=feat.num_ngrams,
                           pad_id=feat.vocab.pad_id, cell=opts.cell, bidirectional=opts.bidirectional,
                           layers=opts.layers, hidden=opts.hidden, emb=emb, dropout=opts.dropout,
                           pooling=opts.pooling, nb_scale=opts.nb_scale and feat.num_ngrams > 0)
    torch.manual_seed(opts.seed)
    model = RNNClassifier(cfg)
    coverage = None
    if vectors is not None:
        from ..vectors.embedding import init_embedding

        with torch.no_grad():
            coverage = init_embedding(model.embedding.weight, feat.vocab, vectors)
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


def accuracy(model: RNNClassifier, enc: Encoded, targets: list[int], device: str) -> float:
    if not targets:
        return 0.0
    pred = predict_logits(model, enc, device).argmax(dim=1)
    return float((pred == torch.tensor(targets)).float().mean())


@dataclass
class Hooks:
    """What the caller wants to hear about (all optional)."""

    on_epoch: Callable[[dict, "Trained"], None] | None = None  # after each epoch; Trained holds the best so far
    save_checkpoint: Callable[[dict], None] | None = None
    stop: object | None = None  # anything with a .requested attribute (StopFlag)


def fit(train: Dataset, valid: Dataset | None, opts: TrainOptions, *, hooks: Hooks | None = None,
        resume_state: dict | None = None, dist=None, device: str = "cpu", report=None) -> Trained:
    """Train on `train`, early-stop on `valid` accuracy; returns the best epoch's model.
    With `valid` None it trains exactly `opts.epochs` epochs and returns the last (a refit).

    `report` is a seqtool.training.report.TrainingReport (progress bars, one summary
    line or JSON line per epoch); None trains silently."""
    hooks = hooks or Hooks()
    rank, world = (dist.rank, dist.world_size) if dist is not None and dist.enabled else (0, 1)
    feat, labels, cfg, model, coverage = build(train, opts)
    model.to(device)
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(valid.labels) - set(labels)) if valid is not None else []
    if unknown:
        console.warn(f"{valid.origin}: validation labels not in the training data: {', '.join(unknown[:5])}")
    enc_train = feat.encode(train.texts)
    y_train = torch.tensor([index[label] for label in train.labels])
    enc_valid = feat.encode(valid.texts) if valid is not None else None
    if cfg.nb_scale:
        model.ngram_scale.copy_(nb_feature_scale(enc_train, y_train, cfg.num_ngrams, cfg.num_classes))
    y_valid = [index.get(label, -1) for label in valid.labels] if valid is not None else []
    optimizer = Optimizers(model, opts, sparse=world == 1 or not device.startswith("cuda"))
    train_lengths = [len(t) for t in enc_train.tokens]
    unk_prob = unk_probabilities(enc_train.tokens, cfg.vocab_size, opts.word_dropout, cfg.pad_id)
    # Clipping is for the recurrent weights; the sparse tables are left alone.
    dense_params = [p for p in model.parameters() if p.requires_grad and p is not model.embedding.weight
                    and (model.ngram is None or p is not model.ngram.weight)]
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[torch.device(device).index] if device.startswith("cuda") else None)
    loss_fn = nn.CrossEntropyLoss()

    from ..training.runtime import rng_state, seed_everything, set_rng_state

    epoch, start_batch, best_acc, best_epoch, bad_epochs = 0, 0, -1.0, 0, 0
    history: list[dict] = []
    best_state = copy.deepcopy(model.state_dict())
    seed_everything(opts.seed)
    if resume_state is not None:
        model.load_state_dict(resume_state["model"])
        optimizer.load_state_dict(resume_state["optimizer"])
        best_state = resume_state["best_model"]
        epoch, start_batch = int(resume_state["epoch"]), int(resume_state["batch"])
        best_acc, best_epoch = float(resume_state["best_acc"]), int(resume_state["best_epoch"])
        bad_epochs = int(resume_state["bad_epochs"])
        history = list(resume_state["history"])
        set_rng_state(resume_state["rng"])

    def result() -> Trained:
        # Building a module draws its initial weights from the global RNG; fork it so that
        # asking for the best model (a hook does, each epoch) leaves training's random stream alone.
        with torch.random.fork_rng(devices=[]):
            best = RNNClassifier(cfg)
        best.load_state_dict(best_state)
        return Trained(best.eval(), feat, labels, cfg, history, best_epoch, max(best_acc, 0.0), coverage)

    def checkpoint(next_epoch: int, next_batch: int, loss_sum: float = 0.0, loss_count: int = 0) -> None:
        if hooks.save_checkpoint is not None and rank == 0:
            hooks.save_checkpoint({
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "best_model": best_state,
                "epoch": next_epoch, "batch": next_batch, "best_acc": best_acc, "best_epoch": best_epoch,
                "bad_epochs": bad_epochs, "history": history, "rng": rng_state(),
                "options": opts.fingerprint(), "loss_sum": loss_sum, "loss_count": loss_count,
            })

    def stop_requested() -> bool:
        flag = bool(hooks.stop is not None and getattr(hooks.stop, "requested", False))
        if world > 1:
            import torch.distributed as tdist

            t = torch.tensor([1.0 if flag else 0.0])
            tdist.all_reduce(t)
            flag = bool(t.item() > 0)
        return flag

    report = report or TrainingReport(enabled=False)
    report.restore(history)
    per_epoch = len(batches_for_epoch(train_lengths, opts.batch_size, opts.seed, 0, rank, world))
    with report.run(epochs=opts.epochs, batches_per_epoch=per_epoch) as live:
        while epoch < opts.epochs and bad_epochs < opts.patience:
            batches = batches_for_epoch(train_lengths, opts.batch_size, opts.seed, epoch, rank, world)
            live.start_epoch(epoch + 1, first_batch=start_batch)
            net.train()
            started, total_loss, seen = time.perf_counter(), 0.0, 0
            if start_batch and resume_state is not None:  # the interrupted epoch's loss so far
                total_loss, seen = float(resume_state["loss_sum"]), int(resume_state["loss_count"])
            for b in range(start_batch, len(batches)):
                idx = batches[b]
                tokens, lengths, flat, offsets = collate(enc_train, idx, cfg.pad_id)
                if unk_prob is not None:
                    # Rare words become <UNK> at random, so <UNK> (every unseen word at test
                    # time) gets a trained embedding rather than its random start.
                    tokens = tokens.masked_fill(torch.rand(tokens.shape) < unk_prob[tokens], UNK_ID)
                logits = net(tokens.to(device), lengths, flat.to(device), offsets.to(device))
                loss = loss_fn(logits, y_train[idx].to(device))
                optimizer.zero_grad()
                loss.backward()
                if opts.clip > 0:
                    nn.utils.clip_grad_norm_(dense_params, opts.clip)
                optimizer.step()
                total_loss += float(loss.detach()) * len(idx)
                seen += len(idx)
                live.step(b + 1, items=len(idx), mean_loss=lambda: total_loss / seen)
                if stop_requested():
                    checkpoint(epoch, b + 1, total_loss, seen)
                    raise Interrupted("interrupted: checkpoint saved; continue with --resume")
            start_batch = 0
            acc = accuracy(model, enc_valid, y_valid, device) if enc_valid is not None else None
            improved = acc is None or acc > best_acc  # without validation, the last epoch is kept
            if improved:
                best_acc, best_epoch, bad_epochs = acc if acc is not None else -1.0, epoch + 1, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad_epochs += 1
            record = {"epoch": epoch + 1, "train_loss": round(total_loss / max(seen, 1), 5),
                      "valid_accuracy": None if acc is None else round(acc, 5), "best": improved,
                      "seconds": round(time.perf_counter() - started, 2)}
            if acc is None:
                record["refit"] = True
            history.append(record)
            if rank == 0:
                report.epoch_end(record, opts.epochs, mark="refit" if acc is None else "best" if improved else "")
            epoch += 1
            checkpoint(epoch, 0)
            if hooks.on_epoch is not None and rank == 0:
                hooks.on_epoch(record, result())
    return result()
