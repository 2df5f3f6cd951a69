"""The one training lifecycle of seqtool: epochs of batches, validation, early stopping,
lr annealing on a plateau, the best model kept, checkpoints, exact resume, stop requests.

A model kind supplies a Task (its batches, one optimisation step, its evaluation, how to
build and serialise its model); the Loop does everything else, the same way for all:

    loop = Loop(task, LoopConfig(epochs=20, patience=3, anneal=4.0), state=LoopState.from_dict(ckpt))
    status = loop.run()        # "finished", "early-stopped", "time-limit" or "stopped"

Per epoch:  train batches (stop checks after each) -> evaluate -> keep the best / count a bad
epoch (and divide the lr by `anneal`) -> record -> publish (when improved) -> checkpoint.
A stop request (Ctrl-C, SIGTERM) or `max_steps` checkpoints mid-epoch; --max-time ends with
a partial-epoch evaluation. Everything a resume needs is LoopState plus the task's
state_dict and the random states, so a resumed run trains bit-for-bit what an uninterrupted
one would (on CPU). Under torchrun every rank votes on stopping at each batch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Callable, Protocol

import torch

from ..core.errors import Interrupted, UsageError
from .report import TrainingReport, format_duration
from .runtime import Distributed, rng_state, set_rng_state


class Task(Protocol):
    """What a model kind gives the loop (see seqtool.lm.train and seqtool.classify.train)."""

    device: str
    model: torch.nn.Module  # the module being trained (its weights are the "current" ones)

    def start_epoch(self, epoch: int, first_batch: int) -> int:
        """Prepare epoch `epoch` (0-based) from batch `first_batch`; return its number of batches."""

    def train_step(self, batch: int) -> tuple[torch.Tensor, int]:
        """One optimisation step on batch `batch`: (its mean loss, detached; the items it held)."""

    def evaluate(self) -> float | None:
        """The validation figure (None: no validation; the last epoch is then the best)."""

    def optimizers(self) -> list:
        """The torch optimizers (annealing divides their learning rates)."""

    def snapshot(self) -> dict:
        """A copy of the current weights, in the form load_snapshot takes."""

    def build_model(self) -> torch.nn.Module:
        """A fresh module of the task's architecture (its weights are overwritten)."""

    def load_snapshot(self, model: torch.nn.Module, weights: dict) -> None: ...

    def state_dict(self) -> dict:
        """Everything of the task a checkpoint needs besides LoopState (model, optimizer, ...)."""

    def load_state_dict(self, state: dict, loop: "LoopState") -> None: ...

    def record(self, end: "EpochEnd") -> dict:
        """The record (metrics.jsonl line, --json epoch line) of an epoch end."""


@dataclass
class LoopConfig:
    epochs: int
    patience: int
    higher_is_better: bool = False  # accuracy: True; a validation loss: False
    anneal: float | None = None  # divide the lr by this after an epoch without improvement
    max_time: float | None = None  # seconds after `started` (the run's start, set-up included)
    max_steps: int | None = None  # stop (checkpointed, as on Ctrl-C) after this many steps of this call


@dataclass
class LoopState:
    """Where a run is; with the task's state_dict and the RNG states, this is the checkpoint."""

    epoch: int = 0  # epochs completed; the one in progress is epoch + 1
    batch: int = 0  # batches done of the epoch in progress
    step: int = 0  # optimisation steps since the run began
    best_score: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0  # epochs in a row without improvement
    best: dict | None = None  # the best model's weights (Task.snapshot())
    loss_sum: float = 0.0  # training loss * items over the epoch in progress
    loss_count: int = 0
    epoch_seconds: float = 0.0  # training time of the epoch in progress
    elapsed: float = 0.0  # seconds of all invocations, up to the last checkpoint
    records: list = field(default_factory=list)
    finished: bool = False

    @property
    def position(self) -> dict:
        """As messages say it: epoch N (1-based), batch B of it, step S."""
        return {"epoch": self.epoch + 1, "batch": self.batch, "step": self.step}

    def to_dict(self) -> dict:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "position": self.position}

    @classmethod
    def from_dict(cls, data: dict) -> "LoopState":
        names = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in names})
        state.records = list(state.records)
        return state


@dataclass
class EpochEnd:
    """What the loop knows at an epoch's end, for the task's record."""

    epoch: int  # 1-based
    fraction: float  # of the epoch trained (1.0 but for a --max-time end)
    step: int
    train_loss: float
    score: float | None
    improved: bool
    lr: float | None  # before annealing
    items: int  # trained on in this epoch (all ranks)
    seconds: float  # training time of this epoch
    elapsed: float


@dataclass
class Publication:
    """What a run offers the store: the best validated weights (or, before any validation,
    the current ones), how far the run got, and whether it ended as asked."""

    status: str  # "epoch" (an improved epoch end), "finished", "early-stopped", "time-limit", "stopped", "interrupted"
    finished: bool
    state: LoopState
    weights: dict
    validated: bool


def _never(_: object) -> bool:
    return False


class Loop:
    def __init__(self, task: Task, config: LoopConfig, *, state: LoopState | None = None,
                 rng: dict | None = None, report: TrainingReport | None = None, stop: object | None = None,
                 dist: Distributed | None = None, started: float | None = None,
                 checkpoint: Callable[[dict], None] | None = None,
                 publish: Callable[[Publication], bool] | None = None,
                 on_epoch: Callable[[dict], None] | None = None, resume_hint: str = "continue with --resume",
                 what: str = "the run"):
        self.task, self.config = task, config
        self.state = state or LoopState()
        self.report = report or TrainingReport(enabled=False)
        self.stop, self.dist = stop, dist or Distributed()
        if not self.dist.is_main:  # one report per job: rank 0's
            self.report.enabled = False
        self.report.restore(self.state.records)
        self.state.records = self.report.records  # one list: what is reported is what is checkpointed
        self.started = time.monotonic() if started is None else started
        self.elapsed_before = self.state.elapsed
        self.save, self.publish, self.on_epoch = checkpoint, publish or _never, on_epoch
        self.resume_hint, self.what = resume_hint, what  # for messages: how to resume, what is trained
        self.published = False  # by this invocation
        self.checkpointed = False
        self.run_steps, self.items, self.cpu_seconds = 0, 0, 0.0  # this invocation, this rank
        self.batches = 0
        if rng is not None and not self.dist.enabled:  # ranks' streams differ; rank 0's is the one saved
            set_rng_state(rng)

    # ------------------------------------------------------------------ the lifecycle
    def run(self) -> str:
        s, cfg = self.state, self.config
        if s.finished and s.epoch >= cfg.epochs:
            raise UsageError(f"--resume: {self.what} already finished {s.epoch} epochs "
                             f"(give a larger --epochs to continue)")
        s.finished = False
        status = None
        with self.report.run(epochs=cfg.epochs, batches_per_epoch=self.task.start_epoch(s.epoch, s.batch)) as live:
            while status is None:
                if s.bad_epochs >= cfg.patience:
                    status = "early-stopped"
                elif s.epoch >= cfg.epochs:
                    status = "finished"
                else:
                    reason = self._train_epoch(live)
                    if reason in ("interrupt", "steps"):
                        return self._stop(reason)
                    self._end_epoch(partial=reason == "time" and s.batch < self.batches)
                    if reason == "time":
                        status = "time-limit"
        finished = status != "time-limit"
        if finished != s.finished or not self.checkpointed:  # else the last epoch's checkpoint says it all
            s.finished = finished
            self._checkpoint()
        self._offer(status)
        return status

    def _train_epoch(self, live) -> str | None:
        s, task = self.state, self.task
        self.batches = task.start_epoch(s.epoch, s.batch)
        if s.batch == 0:
            s.loss_sum, s.loss_count, s.epoch_seconds = 0.0, 0, 0.0
        live.start_epoch(s.epoch + 1, first_batch=s.batch)
        running = torch.zeros((), dtype=torch.float64, device=task.device)  # summed on the device: no sync per step
        count0, t0, cpu0 = s.loss_count, time.perf_counter(), time.process_time()
        self._epoch_t0, self._epoch_b0 = t0, s.batch
        reason = None
        for b in range(s.batch, self.batches):
            loss, items = task.train_step(b)
            running += loss.to(torch.float64) * items
            s.loss_count += items
            s.batch, s.step = b + 1, s.step + 1
            self.run_steps += 1
            live.step(s.batch, items=items * self.dist.world_size,
                      mean_loss=lambda: (s.loss_sum + running.item()) / max(s.loss_count, 1), extra=self._eta)
            reason = self._should_stop()
            if reason:
                break
        s.loss_sum += running.item()
        s.epoch_seconds += time.perf_counter() - t0
        self.cpu_seconds += time.process_time() - cpu0
        self.items += s.loss_count - count0
        return reason

    def _end_epoch(self, partial: bool) -> None:
        """Validate, keep the best, count a plateau (anneal), record, publish, checkpoint."""
        s, cfg = self.state, self.config
        score = self.task.evaluate()
        improved = score is None or (not math.isnan(score) and (
            s.best_score is None or (score > s.best_score if cfg.higher_is_better else score < s.best_score)))
        lr = self._lr()
        annealed = False
        if improved:
            s.best_score, s.best_epoch, s.bad_epochs = score, s.epoch + 1, 0
            s.best = self.task.snapshot()
        elif not partial:
            s.bad_epochs += 1
            if cfg.anneal:
                for optimizer in self.task.optimizers():
                    for group in optimizer.param_groups:
                        group["lr"] = group["lr"] / cfg.anneal
                annealed = True
        end = EpochEnd(epoch=s.epoch + 1, fraction=s.batch / max(self.batches, 1), step=s.step,
                       train_loss=s.loss_sum / max(s.loss_count, 1), score=score, improved=improved, lr=lr,
                       items=s.loss_count * self.dist.world_size, seconds=s.epoch_seconds, elapsed=self.elapsed())
        record = self.task.record(end)
        mark = ("refit" if score is None else "*best" if improved
                else f"lr -> {self._lr():.3g}" if annealed else "") + (" (partial epoch)" if partial else "")
        self.report.epoch_end(record, None if partial else cfg.epochs, mark=mark.strip())  # quiet off rank 0
        self.report.write_plot()
        if not partial:
            s.epoch, s.batch = s.epoch + 1, 0
            s.finished = s.bad_epochs >= cfg.patience or s.epoch >= cfg.epochs  # the run's last epoch
        if improved and not s.finished:  # the last epoch's model is offered once, by run()
            self._offer("epoch")
        self._checkpoint()
        if self.on_epoch is not None and self.dist.is_main:
            self.on_epoch(record)

    def _stop(self, reason: str) -> str:
        """Ctrl-C, SIGTERM or max_steps: save where we are; publish only if this run has not."""
        if not self.published:
            self._offer("interrupted" if reason == "interrupt" else "stopped")
        self._checkpoint()
        if reason == "interrupt":
            s = self.state
            raise Interrupted(f"interrupted at epoch {s.epoch + 1}, batch {s.batch}/{self.batches}; "
                              f"checkpoint saved: {self.resume_hint}")
        return "stopped"

    # ------------------------------------------------------------------ parts
    def best_model(self, weights: dict | None = None) -> torch.nn.Module:
        """A module holding the best weights. Building a module draws its initial weights from
        the global RNG: fork it, so that asking for the best model (each epoch, or for a test
        figure) leaves training's random stream, and so the checkpoint, as it was."""
        with torch.random.fork_rng(devices=[]):
            model = self.task.build_model()
        self.task.load_snapshot(model, weights if weights is not None else self.state.best)
        return model.to(self.task.device).eval()

    def _offer(self, status: str) -> None:
        if not self.dist.is_main:
            return
        s = self.state
        validated = s.best is not None
        weights = s.best if validated else self.task.snapshot()
        if self.publish(Publication(status, s.finished, s, weights, validated)):
            self.published = True

    def _checkpoint(self) -> None:
        if self.save is None or not self.dist.is_main:
            return
        self.state.elapsed = self.elapsed()
        self.checkpointed = True
        self.save({**self.state.to_dict(), "rng": rng_state(), "task": self.task.state_dict()})

    def _should_stop(self) -> str | None:
        cfg = self.config
        reason = 0
        if self.stop is not None and getattr(self.stop, "requested", False):
            reason = 3
        elif cfg.max_steps is not None and self.run_steps >= cfg.max_steps:
            reason = 2
        elif cfg.max_time is not None and time.monotonic() >= self.started + cfg.max_time:
            reason = 1
        if self.dist.enabled:  # every rank must stop at the same step: the strongest reason wins
            import torch.distributed as tdist

            vote = torch.tensor([reason], dtype=torch.int32, device=self.task.device)
            tdist.all_reduce(vote, op=tdist.ReduceOp.MAX)
            reason = int(vote.item())
        return {0: None, 1: "time", 2: "steps", 3: "interrupt"}[reason]

    def _lr(self) -> float | None:
        optimizers = self.task.optimizers()
        return optimizers[0].param_groups[0]["lr"] if optimizers else None

    def elapsed(self) -> float:
        return self.elapsed_before + (time.monotonic() - self.started)

    def _eta(self) -> str:
        s, cfg = self.state, self.config
        done = s.batch - self._epoch_b0
        if done <= 0:
            return ""
        per_batch = (time.perf_counter() - self._epoch_t0) / done
        left = ((cfg.epochs - s.epoch - 1) * self.batches + self.batches - s.batch) * per_batch
        if cfg.max_time is not None:
            left = min(left, self.started + cfg.max_time - time.monotonic())
        return f"run ETA {format_duration(max(left, 0))}"
