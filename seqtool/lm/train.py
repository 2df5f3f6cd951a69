"""Train a recurrent language model with truncated BPTT.

The corpus is cut into `batch_size` columns; each step reads the next `bptt`
rows, carrying the hidden state across steps (detached) and through the whole
epoch. The lifecycle (validation, lr annealing on a plateau, early stopping,
the best model kept, checkpoints, exact resume, Ctrl-C, --max-time) is the
shared seqtool.training.loop; this module is the LM's Task for it: its data,
its step, its evaluation (mean cross-entropy, reported as perplexity).

The store is reached only through a RunStore (seqtool.lm.api gives one), so
this module writes nothing itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

import torch

from ..core.device import resolve_device
from ..core.errors import UsageError
from ..core.digest import HashedSource
from ..core.sources import expand_inputs
from ..core.vocab import Vocab
from ..layers import auto_softmax
from ..training.loop import EpochEnd, Loop, LoopConfig, LoopState, Publication
from ..training.report import TrainingReport, notice
from ..training.runtime import Distributed, StopFlag, device_for_rank, distributed_session, seed_everything
from .data import batchify, bptt_starts, build_corpus, encode_files, encode_sources, get_window, shard
from .model import LMConfig, RNNLM, detach_hidden, hidden_from_list, hidden_to_list
from .options import TrainOptions


@dataclass
class TrainResult:
    name: str
    status: str  # "finished", "early-stopped", "time-limit", "stopped" (max_steps)
    epochs: float
    best_valid_ppl: float | None
    test_ppl: float | None
    records: list = field(default_factory=list)
    final_state: dict | None = None  # the last weights (CPU), for tests and benchmarks
    train_tokens_per_s: float | None = None
    is_main: bool = True  # False on the other ranks of a torchrun job (they print nothing)
    loop_cpu_s: float = 0.0  # process CPU seconds spent in training batches in this call
    loop_tokens: int = 0  # tokens trained on in this call (this rank)
    published: bool = False  # whether this run's model is the one now stored under `name`


@dataclass
class LMPublication:
    """One model version for the store: what write_lm takes, and how far its run got."""

    tensors: dict
    model_config: dict
    vocab: Vocab
    level: str
    training: dict
    metrics: dict
    metrics_text: str
    finished: bool
    epochs: float


class RunStore(Protocol):
    """What training needs of the model store (seqtool.lm.api.StoreRun is the real one)."""

    def lock(self): ...
    def load_checkpoint(self) -> dict | None: ...
    def has_checkpoint(self) -> bool: ...
    def save_checkpoint(self, state: dict) -> None: ...
    def publish(self, model: LMPublication) -> bool: ...


def evaluate(model, data, bptt: int, amp_dtype=None) -> float:
    """Mean cross-entropy (nats/token) over batchified `data` (T, B), state carried."""
    model.eval()
    core = getattr(model, "module", model)
    hidden = core.init_hidden(data.size(1), data.device)
    total, count = 0.0, 0
    ctx = (torch.autocast("cuda", dtype=amp_dtype) if amp_dtype is not None else contextlib.nullcontext())
    with torch.inference_mode(), ctx:
        for start in bptt_starts(data.size(0), bptt):
            x, y = get_window(data, start, bptt)
            loss, hidden = core.loss(x, y, hidden)  # the exact normalized NLL, also when adaptive
            total += loss.float().item() * y.numel()
            count += y.numel()
    return total / max(count, 1)


def ppl(loss: float) -> float:
    return math.exp(min(loss, 700.0))


def train(opts: TrainOptions, run: RunStore, *, stop: StopFlag | None = None) -> TrainResult:
    """Train (or, with opts.resume, continue) the language model opts.name; opts is complete
    (seqtool.lm.api.train_lm fills the name and, on resume, the stored recipe)."""
    started = time.monotonic()
    device = resolve_device(opts.device)
    with distributed_session(device) as dist:
        device = device_for_rank(device, dist)
        flag = stop or StopFlag()
        with (run.lock() if dist.is_main else contextlib.nullcontext()), flag.installed():
            return _Run(opts, run, device, dist, flag, started).train()


class LMTask:
    """The language model's part of the training loop (seqtool.training.loop.Task)."""

    def __init__(self, opts: TrainOptions, config: LMConfig, train_data, valid_data, device: str,
                 dist: Distributed, amp_dtype, embeddings=None):
        self.opts, self.config, self.device, self.dist, self.amp_dtype = opts, config, device, dist, amp_dtype
        self.train_data, self.valid_data = train_data, valid_data  # (T, B) each
        self.starts = bptt_starts(train_data.size(0), opts.bptt)
        model = RNNLM(config)
        self.coverage = self.filled = None  # the share of words given a vector; how (a Coverage)
        if embeddings is not None:
            from ..vectors.embedding import fill_embedding

            vocab, vectors = embeddings
            self.filled = fill_embedding(model.embed.weight, vocab, vectors)
            self.coverage = self.filled.share
        if opts.freeze:
            model.embed.weight.requires_grad_(False)
        self.model = model.to(device)
        self.net = self.model
        if dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [dist.local_rank] if device.startswith("cuda") else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # foreach: one fused op per update instead of a Python loop over parameters (also on CPU)
        optimizer = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[opts.optimizer]
        self.optimizer = optimizer(self.params, lr=opts.lr_value, foreach=True)
        self.scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
        self.hidden = None
        self.epoch, self.started = 0, time.monotonic()  # --schedule linear reads them

    def budget_used(self, batch: int) -> float:
        """How much of the run's budget is spent before `batch`, in [0, 1]: the larger of the
        epochs done / --epochs and (with --max-time) this call's time / --max-time. The epoch
        share alone is deterministic; the time share makes the decay end when the time does."""
        used = (self.epoch + batch / max(len(self.starts), 1)) / self.opts.epochs
        if self.opts.max_time:
            used = max(used, (time.monotonic() - self.started) / self.opts.max_time)
        return min(max(used, 0.0), 1.0)

    # -------------------------------------------------------------- Task
    def start_epoch(self, epoch: int, first_batch: int) -> int:
        self.epoch = epoch
        if first_batch == 0 or self.hidden is None:
            self.hidden = self.model.init_hidden(self.train_data.size(1), self.device)
        self.model.train()
        return len(self.starts)

    def train_step(self, batch: int):
        x, y = get_window(self.train_data, self.starts[batch], self.opts.bptt)  # (L, B) each
        hidden = detach_hidden(self.hidden)  # truncated BPTT: the values go on, the graph stops
        clip, optimizer = self.opts.clip_value, self.optimizer
        if self.opts.schedule == "linear":
            lr = self.opts.lr_value * (1.0 - self.budget_used(batch))
            for group in optimizer.param_groups:
                group["lr"] = lr
        # targets through forward (not .loss) so a DDP wrapper sees the call
        if self.amp_dtype is not None:
            with torch.autocast("cuda", dtype=self.amp_dtype):
                loss, self.hidden = self.net(x, hidden, targets=y)
        else:
            loss, self.hidden = self.net(x, hidden, targets=y)
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip:
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(self.params, clip, foreach=True)
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(self.params, clip, foreach=True)
            optimizer.step()
        return loss.detach(), y.numel()

    def evaluate(self) -> float:
        return evaluate(self.model, self.valid_data, self.opts.bptt, self.amp_dtype)

    def optimizers(self) -> list:
        return [self.optimizer]

    def snapshot(self) -> dict:
        return {k: v.clone() for k, v in self.model.export_tensors().items()}

    def build_model(self) -> RNNLM:
        return RNNLM(self.config)

    def load_snapshot(self, model: RNNLM, weights: dict) -> None:
        model.import_tensors(weights)

    def state_dict(self) -> dict:
        return {"model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                "hidden": [h.detach().cpu() for h in hidden_to_list(self.hidden)] if self.hidden is not None else None}

    def load_state_dict(self, state: dict, loop: LoopState) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        # Mid-epoch, the state carried between windows; each rank's differs, so DDP starts it afresh.
        if state.get("hidden") is not None and not self.dist.enabled and loop.batch > 0:
            self.hidden = hidden_from_list([h.to(self.device) for h in state["hidden"]], self.config.cell)

    def record(self, end: EpochEnd) -> dict:
        return {"epoch": end.epoch, "epoch_float": round(end.epoch - 1 + end.fraction, 4), "step": end.step,
                "train_loss": end.train_loss, "train_ppl": ppl(end.train_loss), "valid_loss": end.score,
                "valid_ppl": ppl(end.score), "lr": end.lr, "tokens_per_s": end.items / max(end.seconds, 1e-9),
                "elapsed_s": round(end.elapsed, 1), "best": end.improved}


def _same_corpus(now: list, stored: list) -> bool:
    """The corpus read now is the checkpoint's: the same inputs, with the same sha256 (a
    checkpoint from before stdin was hashed has None there: nothing to compare)."""
    stored = [list(d) for d in stored]
    return len(now) == len(stored) and all(
        name == old_name and (old_sha is None or sha == old_sha) for (name, sha), (old_name, old_sha) in zip(now, stored))


class _Run:
    """One invocation: data, model and loop set up from the options (or the checkpoint)."""

    def __init__(self, opts: TrainOptions, run: RunStore, device: str, dist: Distributed, flag: StopFlag,
                 started: float):
        self.opts, self.run, self.device, self.dist, self.flag, self.started = opts, run, device, dist, flag, started
        self.main = dist.is_main
        self.amp_dtype = None
        if device.startswith("cuda") and opts.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            torch.backends.cudnn.benchmark = True
        self.test_ppl = None

    def train(self) -> TrainResult:
        opts = self.opts
        ckpt = None
        if opts.resume:
            ckpt = self.run.load_checkpoint()
            if ckpt is None:
                raise UsageError(f"--resume: no checkpoint for model '{opts.name}'")
        elif self.main and self.run.has_checkpoint():
            notice(f"starting a new run of '{opts.name}'; its previous checkpoint will be replaced "
                   f"(--resume continues it instead)")
        if opts.seed is None:
            opts.seed = int.from_bytes(os.urandom(4), "little")
        seed_everything(opts.seed)
        self._load_data(ckpt)
        self.task = self._build_task(ckpt)
        state = LoopState.from_dict(ckpt) if ckpt is not None else None
        if ckpt is not None:
            self.task.load_state_dict(ckpt["task"], state)
        self.report = TrainingReport(json_lines=opts.as_json, plot=opts.plot, enabled=self.main)
        self.task.started = self.started  # the loop's --max-time clock, set-up included
        anneal = opts.anneal_value if opts.schedule == "plateau" else None
        config = LoopConfig(epochs=opts.epochs, patience=opts.patience, anneal=anneal,
                            max_time=opts.max_time, max_steps=opts.max_steps)
        self.loop = Loop(self.task, config, state=state, rng=ckpt["rng"] if ckpt else None, report=self.report,
                         stop=self.flag, dist=self.dist, started=self.started, checkpoint=self._checkpoint,
                         publish=self._publish,
                         resume_hint=f"continue with seqtool train-lm --resume --name {opts.name} "
                                     f"{' '.join(opts.corpus)}", what=f"model '{opts.name}'")
        status = self.loop.run()
        return self._result(status)

    def _load_data(self, ckpt) -> None:
        opts = self.opts
        if not opts.corpus:
            raise UsageError("train-lm needs at least one CORPUS file")
        # Each input is hashed while it is read (once: FIFOs and '-' work); a regular file's
        # sha256 is the one sha256_of gives, so older checkpoints still match on --resume.
        sources = [HashedSource(s.path) for s in expand_inputs(opts.corpus)]
        kw = dict(encoding=opts.encoding, errors=opts.errors)
        if ckpt is not None:
            self.vocab = Vocab.from_dict(ckpt["vocab"])
            ids = encode_sources(sources, self.vocab, opts.level, **kw)
            self.digests = [(s.name, s.digest.hexdigest()) for s in sources]
            if not _same_corpus(self.digests, ckpt["corpus_digests"]):
                raise UsageError("--resume: the corpus files differ from the ones this checkpoint was trained on")
            n_train = int(ckpt["n_train_tokens"])
            train, valid = ids[:n_train], (ids[n_train:] if ckpt["held_out"] else None)
            self.held_out = bool(ckpt["held_out"])
        else:
            corpus = build_corpus(sources, opts.level, max_vocab=opts.max_vocab, min_freq=opts.min_freq,
                                  hold_out=0.0 if opts.valid else opts.hold_out, **kw)
            self.vocab, train, valid, self.held_out = corpus.vocab, corpus.train, corpus.valid, corpus.held_out
            self.digests = [(s.name, s.digest.hexdigest()) for s in sources]
            if self.held_out and self.main:
                notice(f"no --valid file: holding out the last {opts.hold_out:.0%} of the corpus "
                       f"({valid.size:,} tokens) for validation")
        self.n_train_tokens = int(train.size)
        if opts.valid:
            valid = encode_files([opts.valid], self.vocab, opts.level, **kw)
        world = self.dist.world_size
        mine = shard(train, self.dist.rank, world) if world > 1 else train
        corpus_name = ", ".join(opts.corpus[:3]) + (", ..." if len(opts.corpus) > 3 else "")
        self.train_data = batchify(mine, opts.batch_size, corpus_name).to(self.device)  # (T, B)
        self.valid_data = batchify(valid, min(opts.eval_batch_size, max(1, valid.size // 4)),
                                   opts.valid or f"{corpus_name} (held-out tail)").to(self.device)

    def _build_task(self, ckpt) -> LMTask:
        opts = self.opts
        embeddings = None
        if opts.embeddings and ckpt is None:
            from ..vectors import load_vectors
            from ..vectors.embedding import vectors_dim

            vectors = load_vectors(opts.embeddings)
            embeddings = (self.vocab, vectors)
            if opts.emb is None:
                opts.emb = vectors_dim(vectors)
        # The resolved values are stored with the options, so a resume builds the same model.
        opts.emb = opts.emb if opts.emb is not None else 200
        if opts.tie is None:
            opts.tie = opts.emb == opts.hidden and not opts.freeze
        if opts.softmax == "auto":
            opts.softmax = auto_softmax(len(self.vocab))
        self.config = LMConfig(vocab_size=len(self.vocab), cell=opts.cell, emb=opts.emb, hidden=opts.hidden,
                               layers=opts.layers, dropout=opts.dropout, tie=opts.tie, softmax=opts.softmax,
                               cutoffs=opts.cutoffs_tuple, dropout_in=opts.dropout_in,
                               dropout_hidden=opts.dropout_hidden, dropout_out=opts.dropout_out,
                               dropout_emb=opts.dropout_emb, weight_drop=opts.weight_drop, alpha=opts.alpha,
                               beta=opts.beta)
        task = LMTask(opts, self.config, self.train_data, self.valid_data, self.device, self.dist, self.amp_dtype,
                      embeddings)
        if task.filled is not None and self.main:
            notice(f"--embeddings: {task.filled.describe(opts.embeddings)}" + (" (frozen)" if opts.freeze else ""))
        return task

    # -------------------------------------------------------------- store, through the RunStore
    def _checkpoint(self, state: dict) -> None:
        self.run.save_checkpoint({
            **state, "options": self.opts.to_dict(), "vocab": self.vocab.to_dict(),
            "corpus_digests": self.digests, "n_train_tokens": self.n_train_tokens, "held_out": self.held_out})

    def _publish(self, offer: Publication) -> bool:
        opts, s = self.opts, offer.state
        if offer.status in ("finished", "early-stopped", "time-limit") and opts.test:
            test = encode_files([opts.test], self.vocab, opts.level, encoding=opts.encoding, errors=opts.errors)
            data = batchify(test, min(opts.eval_batch_size, max(1, test.size // 4)), opts.test).to(self.device)
            self.test_ppl = round(ppl(evaluate(self.loop.best_model(), data, opts.bptt, self.amp_dtype)), 3)
        last = s.records[-1] if s.records else {}
        metrics = {"valid_ppl": None if s.best_score is None else ppl(s.best_score), "test_ppl": self.test_ppl,
                   "epochs": last.get("epoch_float", 0), "train_ppl": last.get("train_ppl")}
        training = {"corpus": [{"path": n, "sha256": d} for n, d in self.digests], "valid": opts.valid,
                    "held_out": self.held_out, "train_tokens": self.n_train_tokens, "seed": opts.seed,
                    "options": {k: v for k, v in opts.to_dict().items() if k not in ("as_json", "max_steps")},
                    "embedding_coverage": self.task.coverage, "elapsed_s": round(self.loop.elapsed(), 1),
                    "world_size": self.dist.world_size, "device": self.device,
                    "amp": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else None,
                    "status": offer.status, "finished": offer.finished, "validated": offer.validated}
        return self.run.publish(LMPublication(offer.weights, self.config.to_dict(), self.vocab, opts.level,
                                              training, metrics, self.report.metrics_text(), offer.finished,
                                              metrics["epochs"]))

    def _result(self, status: str) -> TrainResult:
        s, loop = self.loop.state, self.loop
        final = {k: v.detach().cpu().clone() for k, v in self.task.model.state_dict().items()}
        rates = [r["tokens_per_s"] for r in s.records if r.get("tokens_per_s")]
        if s.batch and s.epoch_seconds:  # stopped mid-epoch: the rate of the epoch so far
            rates.append(s.loss_count * self.dist.world_size / s.epoch_seconds)
        return TrainResult(self.opts.name, status, s.records[-1]["epoch_float"] if s.records else 0.0,
                           None if s.best_score is None else ppl(s.best_score), self.test_ppl,
                           list(s.records), final, rates[-1] if rates else None, self.main,
                           loop.cpu_seconds, loop.items, loop.published)
