"""Train a recurrent language model with truncated BPTT.

The corpus is cut into `batch_size` columns; each step reads the next `bptt`
rows, carrying the hidden state across steps (detached) and through the whole
epoch. After each epoch: validation, lr annealing on a plateau, early stopping,
and an atomic publish of the best weights plus a checkpoint of everything
needed to continue bit-for-bit (weights, optimizer, RNG states, hidden state,
position). Ctrl-C, --max-time and max_steps stop at a batch boundary and save.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..core.device import resolve_device
from ..core.errors import Interrupted, UsageError
from ..core.io import expand_inputs, sha256_of
from ..core.store import ModelStore
from ..core.vocab import Vocab
from ..training.checkpoint import load_checkpoint, save_checkpoint
from .data import batchify, bptt_starts, build_corpus, encode_files, encode_sources, get_window, shard
from .store import KIND, write_lm
from .model import LMConfig, RNNLM, detach_hidden, hidden_from_list, hidden_to_list
from .options import TrainOptions, default_model_name
from ..training.report import TrainingReport, format_duration, notice
from ..training.runtime import (Distributed, StopFlag, device_for_rank, distributed_session, rng_state, seed_everything,
                      set_rng_state)


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


def train_lm(opts: TrainOptions, *, stop: StopFlag | None = None) -> TrainResult:
    """Train (or, with opts.resume, continue) a language model; see seqtool train-lm --help."""
    opts.validate()
    name = opts.name or default_model_name(opts.corpus)
    opts.name = name
    device = resolve_device(opts.device)
    store = ModelStore()
    with distributed_session(device) as dist_info:
        device = device_for_rank(device, dist_info)
        lock = store.lock(name) if dist_info.is_main else contextlib.nullcontext()
        flag = stop or StopFlag()
        with lock, flag.installed():
            return _Trainer(opts, store, device, dist_info, flag).run()


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
            logits, hidden = core(x, hidden)
            total += F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1),
                                     reduction="sum").item()
            count += y.numel()
    return total / max(count, 1)


def _ppl(loss: float) -> float:
    return math.exp(min(loss, 700.0))


class _Trainer:
    def __init__(self, opts: TrainOptions, store: ModelStore, device: str, dist_info: Distributed,
                 flag: StopFlag):
        self.opts, self.store, self.device, self.dist, self.flag = opts, store, device, dist_info, flag
        self.main = dist_info.is_main
        self.ckpt_dir = store.checkpoint_dir(opts.name) if self.main else None
        self.amp_dtype = None
        if device.startswith("cuda") and opts.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            torch.backends.cudnn.benchmark = True

    # ------------------------------------------------------------------ set-up
    def _setup(self) -> None:
        opts = self.opts
        ckpt = None
        if opts.resume:
            ckpt = load_checkpoint(self.store.checkpoint_dir(opts.name), map_location="cpu")
            if ckpt is None:
                raise UsageError(f"--resume: no checkpoint for model '{opts.name}' in "
                                 f"{self.store.checkpoint_dir(opts.name, create=False)}")
            self.opts = opts = _merge_resumed(TrainOptions.from_dict(ckpt["options"]), opts)
        elif self.main and (self.ckpt_dir / "checkpoint.pt").exists():
            notice(f"starting a new run of '{opts.name}'; its previous checkpoint will be replaced "
                   f"(--resume continues it instead)")
        self.ckpt = ckpt
        self.seed = opts.seed if opts.seed is not None else int.from_bytes(os.urandom(4), "little")
        opts.seed = self.seed
        seed_everything(self.seed)
        self._load_data(ckpt)
        self._build_model(ckpt)

    def _load_data(self, ckpt) -> None:
        opts = self.opts
        if not opts.corpus:
            raise UsageError("train-lm needs at least one CORPUS file")
        sources = expand_inputs(opts.corpus)
        self.digests = [(s.name, None if s.is_stdin else sha256_of(s.path)) for s in sources]
        kw = dict(encoding=opts.encoding, errors=opts.errors)
        if ckpt is not None:
            if [list(d) for d in self.digests] != [list(d) for d in ckpt["corpus_digests"]]:
                raise UsageError("--resume: the corpus files differ from the ones this checkpoint was trained on")
            self.vocab = Vocab.from_dict(ckpt["vocab"])
            ids = encode_sources(sources, self.vocab, opts.level, **kw)
            n_train = int(ckpt["n_train_tokens"])
            train, valid = ids[:n_train], (ids[n_train:] if ckpt["held_out"] else None)
            self.held_out = bool(ckpt["held_out"])
        else:
            corpus = build_corpus(sources, opts.level, max_vocab=opts.max_vocab, min_freq=opts.min_freq,
                                  hold_out=0.0 if opts.valid else opts.hold_out, **kw)
            self.vocab, train, valid, self.held_out = corpus.vocab, corpus.train, corpus.valid, corpus.held_out
            if self.held_out and self.main:
                notice(f"no --valid file: holding out the last {opts.hold_out:.0%} of the corpus "
                       f"({valid.size:,} tokens) for validation")
        self.n_train_tokens = int(train.size)
        if opts.valid:
            valid = encode_files([opts.valid], self.vocab, opts.level, **kw)
        self.valid_ids = valid
        world = self.dist.world_size
        mine = shard(train, self.dist.rank, world) if world > 1 else train
        corpus_name = ", ".join(opts.corpus[:3]) + (", ..." if len(opts.corpus) > 3 else "")
        self.train_data = batchify(mine, opts.batch_size, corpus_name).to(self.device)  # (T, B)
        self.valid_data = batchify(valid, min(opts.eval_batch_size, max(1, valid.size // 4)),
                                   opts.valid or f"{corpus_name} (held-out tail)").to(self.device)
        self.starts = bptt_starts(self.train_data.size(0), opts.bptt)

    def _build_model(self, ckpt) -> None:
        opts = self.opts
        vectors = None
        if opts.embeddings and ckpt is None:
            from ..vectors import load_vectors
            from ..vectors.embedding import vectors_dim

            vectors = load_vectors(opts.embeddings)
            if opts.emb is None:
                opts.emb = vectors_dim(vectors)
        emb = opts.emb if opts.emb is not None else 200
        opts.emb = emb
        tie = opts.tie if opts.tie is not None else (emb == opts.hidden and not opts.freeze)
        opts.tie = tie
        self.config = LMConfig(vocab_size=len(self.vocab), cell=opts.cell, emb=emb, hidden=opts.hidden,
                               layers=opts.layers, dropout=opts.dropout, tie=tie)
        model = RNNLM(self.config)
        self.coverage = None
        if vectors is not None:
            from ..vectors.embedding import init_embedding

            self.coverage = init_embedding(model.embed.weight, self.vocab, vectors)
            if self.main:
                notice(f"--embeddings: {self.coverage:.1%} of the {len(self.vocab) - 2:,} vocabulary words "
                       f"found in {opts.embeddings}" + (" (frozen)" if opts.freeze else ""))
        if opts.freeze:
            model.embed.weight.requires_grad_(False)
        self.model = model.to(self.device)
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.dist.local_rank] if self.device.startswith("cuda") else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        else:
            self.net = self.model
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.params = params
        # foreach: one fused op per update instead of a Python loop over parameters (also on CPU)
        if opts.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(params, lr=opts.lr_value, foreach=True)
        elif opts.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=opts.lr_value, foreach=True)
        else:
            self.optimizer = torch.optim.AdamW(params, lr=opts.lr_value, foreach=True)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None

    # ------------------------------------------------------------------ state
    def _init_state(self) -> None:
        ckpt = self.ckpt
        self.epoch, self.batch, self.step = 1, 0, 0
        self.best_val, self.bad_epochs, self.best_state = math.inf, 0, None
        self.loss_sum, self.tokens, self.epoch_time = 0.0, 0, 0.0
        self.records: list = []
        self.elapsed_before = 0.0
        self.hidden = None
        self.finished = False
        if ckpt is None:
            return
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scaler is not None and ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        pos = ckpt["position"]
        self.epoch, self.batch, self.step = pos["epoch"], pos["batch"], pos["step"]
        self.best_val, self.bad_epochs = ckpt["plateau"]["best_val"], ckpt["plateau"]["bad_epochs"]
        self.best_state = ckpt.get("best_state")
        self.loss_sum, self.tokens = ckpt["accum"]["loss_sum"], ckpt["accum"]["tokens"]
        self.epoch_time = ckpt["accum"].get("time", 0.0)
        self.records = list(ckpt["records"])
        self.elapsed_before = ckpt.get("elapsed", 0.0)
        self.finished = bool(ckpt.get("finished"))
        if ckpt.get("hidden") is not None and not self.dist.enabled and self.batch > 0:
            self.hidden = hidden_from_list([h.to(self.device) for h in ckpt["hidden"]], self.config.cell)
        if not self.dist.enabled:
            set_rng_state(ckpt["rng"])

    def _checkpoint(self) -> None:
        if not self.main:
            return
        state = {
            "options": self.opts.to_dict(), "vocab": self.vocab.to_dict(), "corpus_digests": self.digests,
            "n_train_tokens": self.n_train_tokens, "held_out": self.held_out,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "position": {"epoch": self.epoch, "batch": self.batch, "step": self.step},
            "plateau": {"best_val": self.best_val, "bad_epochs": self.bad_epochs},
            "best_state": self.best_state,
            "accum": {"loss_sum": self.loss_sum, "tokens": self.tokens, "time": self.epoch_time},
            "hidden": ([h.detach().cpu() for h in hidden_to_list(self.hidden)] if self.hidden is not None
                       else None),
            "rng": rng_state(), "records": self.records, "elapsed": self._elapsed(),
            "finished": self.finished,
        }
        save_checkpoint(self.ckpt_dir, state)

    def _elapsed(self) -> float:
        return self.elapsed_before + (time.monotonic() - self.t_start)

    # ------------------------------------------------------------------ publish
    def _publish(self, tensors: dict, *, test_ppl: float | None = None) -> None:
        if not self.main:
            return
        opts = self.opts
        valid = None if math.isinf(self.best_val) else _ppl(self.best_val)
        metrics = {"valid_ppl": valid, "test_ppl": test_ppl,
                   "epochs": self.records[-1]["epoch_float"] if self.records else 0,
                   "train_ppl": self.records[-1].get("train_ppl") if self.records else None}
        training = {"corpus": [{"path": n, "sha256": d} for n, d in self.digests], "valid": opts.valid,
                    "held_out": self.held_out, "train_tokens": self.n_train_tokens, "seed": self.seed,
                    "options": {k: v for k, v in opts.to_dict().items() if k not in ("json", "max_steps")},
                    "embedding_coverage": self.coverage, "elapsed_s": round(self._elapsed(), 1),
                    "world_size": self.dist.world_size, "device": self.device,
                    "amp": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else None}
        with self.store.writer(opts.name, KIND) as draft:
            write_lm(draft, tensors, self.config.to_dict(), self.vocab, opts.level, training=training,
                     metrics=metrics, metrics_text=self.report.metrics_text())
        self.report.write_plot()

    # ------------------------------------------------------------------ loop
    def run(self) -> TrainResult:
        self.t_start = time.monotonic()
        self.run_steps = 0
        self.loop_cpu, self.loop_tokens = 0.0, 0
        self._setup()
        self._init_state()
        opts = self.opts
        self.report = TrainingReport(json_lines=opts.json, plot=opts.plot, enabled=self.main)
        self.report.restore(self.records)
        self.records = self.report.records
        if self.finished and self.epoch > opts.epochs:
            raise UsageError(f"--resume: model '{opts.name}' already finished {opts.epochs} epochs "
                             f"(give a larger --epochs to continue)")
        status = "finished"
        with self.report.run(epochs=opts.epochs, batches_per_epoch=len(self.starts)) as live:
            while self.epoch <= opts.epochs:
                reason = self._train_epoch(live)
                if reason in ("interrupt", "steps"):
                    return self._stop(reason)
                improved = self._end_epoch(partial=reason == "time" and self.batch < len(self.starts))
                if reason == "time":
                    status = "time-limit"
                    break
                if not improved and self.bad_epochs >= opts.patience:
                    status = "early-stopped"
                    break
            else:
                status = "finished"
        return self._finish(status)

    def _train_epoch(self, live) -> str | None:
        opts, model, net, optimizer = self.opts, self.model, self.net, self.optimizer
        data, starts, bptt = self.train_data, self.starts, opts.bptt
        vocab_size = self.config.vocab_size
        clip = opts.clip_value
        if self.batch == 0 or self.hidden is None:
            self.hidden = model.init_hidden(data.size(1), self.device)
            if self.batch == 0:
                self.loss_sum, self.tokens, self.epoch_time = 0.0, 0, 0.0
        live.start_epoch(self.epoch, self.batch)
        model.train()
        hidden = self.hidden
        loss_acc = torch.zeros((), dtype=torch.float64, device=self.device)
        steps_here = 0
        amp = self.amp_dtype
        t0, cpu0, tokens0 = time.perf_counter(), time.process_time(), self.tokens
        self._epoch_t0, self._epoch_b0 = t0, self.batch
        deadline = None if opts.max_time is None else self.t_start + opts.max_time
        reason = None
        for bi in range(self.batch, len(starts)):
            x, y = get_window(data, starts[bi], bptt)
            hidden = detach_hidden(hidden)
            if amp is not None:
                with torch.autocast("cuda", dtype=amp):
                    logits, hidden = net(x, hidden)
                    loss = F.cross_entropy(logits.float().view(-1, vocab_size), y.reshape(-1))
            else:
                logits, hidden = net(x, hidden)
                loss = F.cross_entropy(logits.view(-1, vocab_size), y.reshape(-1))
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
            n = y.numel()
            loss_acc += loss.detach() * n
            self.tokens += n
            steps_here += 1
            self.step += 1
            self.run_steps += 1
            self.batch = bi + 1
            live.step(self.batch, items=n * self.dist.world_size,
                      mean_loss=lambda: (self.loss_sum + loss_acc.item()) / max(self.tokens, 1),
                      extra=lambda: self._eta_text())
            reason = self._should_stop(deadline, self.run_steps)
            if reason:
                break
        self.hidden = hidden
        self.loss_sum += loss_acc.item()
        self.epoch_time += time.perf_counter() - t0
        self.loop_cpu += time.process_time() - cpu0
        self.loop_tokens += self.tokens - tokens0
        return reason

    def _eta_text(self) -> str:
        opts = self.opts
        per_batch = self.epoch_time_estimate()
        if per_batch is None:
            return ""
        left = ((opts.epochs - self.epoch) * len(self.starts) + len(self.starts) - self.batch) * per_batch
        if opts.max_time is not None:
            left = min(left, self.t_start + opts.max_time - time.monotonic())
        return f"run ETA {format_duration(max(left, 0))}"

    def epoch_time_estimate(self) -> float | None:
        """Seconds per batch, measured over this epoch's batches so far."""
        done = self.batch - self._epoch_b0
        return (time.perf_counter() - self._epoch_t0) / done if done > 0 else None

    def _should_stop(self, deadline, run_steps) -> str | None:
        reason = 0
        if self.flag.requested:
            reason = 3
        elif self.opts.max_steps is not None and run_steps >= self.opts.max_steps:
            reason = 2
        elif deadline is not None and time.monotonic() >= deadline:
            reason = 1
        if self.dist.enabled:  # every rank must stop at the same step
            import torch.distributed as dist

            t = torch.tensor([reason], dtype=torch.int32, device=self.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            reason = int(t.item())
        return {0: None, 1: "time", 2: "steps", 3: "interrupt"}[reason]

    def _end_epoch(self, partial: bool) -> bool:
        opts = self.opts
        val_loss = evaluate(self.model, self.valid_data, opts.bptt, self.amp_dtype)
        improved = val_loss < self.best_val
        lr = self.optimizer.param_groups[0]["lr"]
        if improved:
            self.best_val, self.bad_epochs = val_loss, 0
            self.best_state = {k: v.clone() for k, v in self.model.export_tensors().items()}
        elif not partial:
            self.bad_epochs += 1
            for group in self.optimizer.param_groups:
                group["lr"] = group["lr"] / opts.anneal_value
        train_loss = self.loss_sum / max(self.tokens, 1)
        frac = self.batch / len(self.starts)
        record = {"epoch": self.epoch, "epoch_float": round(self.epoch - 1 + frac, 4), "step": self.step,
                  "train_loss": round(train_loss, 5), "train_ppl": round(_ppl(train_loss), 3),
                  "valid_loss": round(val_loss, 5), "valid_ppl": round(_ppl(val_loss), 3), "lr": lr,
                  "tokens_per_s": round(self.tokens * self.dist.world_size / max(self.epoch_time, 1e-9), 1),
                  "elapsed_s": round(self._elapsed(), 1), "best": improved}
        mark = "*best" if improved else f"lr -> {self.optimizer.param_groups[0]['lr']:.3g}" if not partial else ""
        self.report.epoch_end(record, None if partial else opts.epochs, mark=mark + (" (partial epoch)" if partial else ""))
        if not partial:
            self.epoch, self.batch, self.hidden = self.epoch + 1, 0, None
        self._publish(self.best_state)
        self._checkpoint()
        return improved

    def _stop(self, reason: str) -> TrainResult:
        """Ctrl-C or max_steps: save where we are; publish current weights if nothing was published yet."""
        if self.best_state is None and self.main:
            self._publish({k: v.clone() for k, v in self.model.export_tensors().items()})
        self._checkpoint()
        if reason == "interrupt":
            raise Interrupted(f"interrupted at epoch {self.epoch}, batch {self.batch}/{len(self.starts)}; "
                              f"checkpoint saved: continue with seqtool train-lm --resume --name {self.opts.name} "
                              f"{' '.join(self.opts.corpus)}")
        return self._result("stopped")

    def _finish(self, status: str) -> TrainResult:
        self.finished = status != "time-limit"
        test_ppl = None
        if self.opts.test and self.main:
            with torch.random.fork_rng(devices=[]):  # leave the checkpointed random stream as training left it
                best = RNNLM(self.config).to(self.device)
            best.import_tensors({k: v for k, v in self.best_state.items()})
            test = encode_files([self.opts.test], self.vocab, self.opts.level, encoding=self.opts.encoding,
                                errors=self.opts.errors)
            data = batchify(test, min(self.opts.eval_batch_size, max(1, test.size // 4)), self.opts.test).to(self.device)
            test_ppl = round(_ppl(evaluate(best, data, self.opts.bptt, self.amp_dtype)), 3)
        if test_ppl is not None or self.finished:
            self._publish(self.best_state, test_ppl=test_ppl)
        self._checkpoint()
        return self._result(status, test_ppl)

    def _result(self, status: str, test_ppl: float | None = None) -> TrainResult:
        final = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        rates = [r["tokens_per_s"] for r in self.records if r.get("tokens_per_s")]
        if self.batch and self.epoch_time:  # stopped mid-epoch: the rate of the epoch so far
            rates.append(round(self.tokens * self.dist.world_size / self.epoch_time, 1))
        return TrainResult(self.opts.name, status, self.records[-1]["epoch_float"] if self.records else 0.0,
                           None if math.isinf(self.best_val) else _ppl(self.best_val), test_ppl,
                           list(self.records), final, rates[-1] if rates else None, self.main,
                           self.loop_cpu, self.loop_tokens)


def _merge_resumed(saved: TrainOptions, given: TrainOptions) -> TrainOptions:
    """A resumed run keeps its recipe; only run-control options may change."""
    for key in ("epochs", "max_time", "device", "json", "plot", "max_steps", "test", "patience"):
        setattr(saved, key, getattr(given, key))
    if given.corpus:
        saved.corpus = list(given.corpus)
    saved.resume = True
    return saved


def evaluate_file(model_name: str | None, files: list[str], *, device: str = "cpu", bptt: int = 35,
                  batch_size: int = 10, encoding: str = "utf-8", errors: str = "strict") -> dict:
    """Perplexity of a stored model on text files (the same tokenization as training)."""
    from .store import load_torch_lm, open_lm

    stored = open_lm(model_name)
    device = resolve_device(device)
    model = load_torch_lm(stored, device)
    ids = encode_files(files, stored.vocab, stored.level, encoding=encoding, errors=errors)
    data = batchify(ids, min(batch_size, max(1, ids.size // 4)), ", ".join(files)).to(device)
    loss = evaluate(model, data, bptt)
    tokens = int(data.size(0) - 1) * data.size(1)
    return {"model": stored.name, "files": list(files), "tokens": tokens, "loss": round(loss, 5),
            "perplexity": round(_ppl(loss), 3), "unk_share": round(float(np.mean(ids == 0)), 5)}
