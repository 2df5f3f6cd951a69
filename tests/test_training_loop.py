"""seqtool.training.loop alone, on a tiny fake task: early stopping, annealing, the best
model, exact resume, stop requests, --max-time, and what is offered to the store."""

from __future__ import annotations

import copy
import time

import pytest
import torch

from seqtool.core.errors import Interrupted, UsageError
from seqtool.training.loop import Loop, LoopConfig, LoopState

torch.set_num_threads(1)


class FakeTask:
    """A 2 -> 1 linear model fitted to y = x1 + 1 on random batches drawn from the global RNG
    (so a resume is exact only if the loop restores the random stream). With `scores`, the
    validation figure of epoch k is scores[k]; without, the loss on fixed data."""

    device = "cpu"

    def __init__(self, scores=None, batches=4):
        torch.manual_seed(0)
        self.model = torch.nn.Linear(2, 1)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)
        self.scores, self.n, self.epoch = scores, batches, 0
        self.valid_x = torch.linspace(-1, 1, 10).view(5, 2)

    def start_epoch(self, epoch, first_batch):
        self.epoch = epoch
        return self.n

    def train_step(self, batch):
        x = torch.randn(3, 2)  # (B, 2)
        loss = ((self.model(x).squeeze(1) - x[:, 0] - 1) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.detach(), 3

    def evaluate(self):
        if self.scores is not None:
            return self.scores[self.epoch]
        with torch.no_grad():
            x = self.valid_x
            return float(((self.model(x).squeeze(1) - x[:, 0] - 1) ** 2).mean())

    def optimizers(self):
        return [self.optimizer]

    def snapshot(self):
        return copy.deepcopy(self.model.state_dict())

    def build_model(self):
        return torch.nn.Linear(2, 1)

    def load_snapshot(self, model, weights):
        model.load_state_dict(weights)

    def state_dict(self):
        return {"model": copy.deepcopy(self.model.state_dict()), "optimizer": copy.deepcopy(self.optimizer.state_dict())}

    def load_state_dict(self, state, loop):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])

    def record(self, end):
        return {"epoch": end.epoch, "fraction": end.fraction, "train_loss": end.train_loss, "score": end.score,
                "lr": end.lr, "best": end.improved}


class Flag:
    def __init__(self, after: int):
        self.after = after

    @property
    def requested(self) -> bool:
        self.after -= 1
        return self.after < 0


def test_early_stopping_after_patience_bad_epochs_keeps_the_best_epoch():
    task = FakeTask(scores=[3.0, 2.0, 2.5, 2.6, 0.5, 0.1])
    snapshots = []
    loop = Loop(task, LoopConfig(epochs=6, patience=2), on_epoch=lambda r: snapshots.append(task.snapshot()))
    assert loop.run() == "early-stopped"
    s = loop.state
    # epoch 2 is the best; 3 and 4 are the two bad epochs; 5 (which would be better) never runs
    assert [r["best"] for r in s.records] == [True, True, False, False]
    assert (s.epoch, s.best_epoch, s.best_score, s.bad_epochs, s.finished) == (4, 2, 2.0, 2, True)
    for key, value in snapshots[1].items():
        assert torch.equal(s.best[key], value)
    rng = torch.get_rng_state()
    best = loop.best_model()
    assert torch.equal(torch.get_rng_state(), rng)  # building the best model leaves the stream alone
    assert torch.equal(best.weight, snapshots[1]["weight"])


def test_annealing_divides_the_lr_after_each_bad_epoch_and_higher_can_be_better():
    task = FakeTask(scores=[0.5, 0.4, 0.45, 0.6, 0.3])
    loop = Loop(task, LoopConfig(epochs=5, patience=9, anneal=4.0))
    loop.run()
    # the record shows the lr the epoch trained with: 0.05, 0.05, 0.05 (bad: /4), 0.0125 (bad: /4), 0.003125
    assert [r["lr"] for r in loop.state.records] == [0.05, 0.05, 0.05, 0.0125, 0.003125]
    assert loop.state.best_epoch == 5
    accuracy = Loop(FakeTask(scores=[0.5, 0.4, 0.45, 0.6, 0.3]), LoopConfig(epochs=5, patience=9,
                                                                              higher_is_better=True))
    accuracy.run()
    assert [r["best"] for r in accuracy.state.records] == [True, False, False, True, False]
    assert accuracy.state.best_score == 0.6 and accuracy.task.optimizer.param_groups[0]["lr"] == 0.05


def test_a_resumed_run_equals_the_uninterrupted_one():
    saved = []
    straight = Loop(FakeTask(), LoopConfig(epochs=3, patience=9))
    straight.run()
    cut = Loop(FakeTask(), LoopConfig(epochs=3, patience=9, max_steps=6), checkpoint=saved.append)
    assert cut.run() == "stopped"
    ckpt = saved[-1]
    assert ckpt["position"] == {"epoch": 2, "batch": 2, "step": 6} and ckpt["epoch"] == 1
    for _ in range(2):  # resumed twice: once mid-epoch (6 more steps), once to the end
        task = FakeTask()
        state = LoopState.from_dict(ckpt)
        task.load_state_dict(ckpt["task"], state)
        torch.manual_seed(123)  # whatever the process did before, the checkpoint's stream is restored
        loop = Loop(task, LoopConfig(epochs=3, patience=9, max_steps=6 if not _ else None), state=state,
                    rng=ckpt["rng"], checkpoint=saved.append)
        loop.run()
        ckpt = saved[-1]
    assert loop.state.step == straight.state.step == 12
    assert torch.equal(task.model.weight, straight.task.model.weight)
    assert loop.state.records == straight.state.records


def test_a_stop_request_checkpoints_mid_epoch_and_offers_the_current_weights_once():
    saved, offers = [], []
    loop = Loop(FakeTask(), LoopConfig(epochs=3, patience=9), stop=Flag(after=5), checkpoint=saved.append,
                publish=lambda offer: offers.append(offer) or True, resume_hint="continue with --resume --name x")
    with pytest.raises(Interrupted) as info:
        loop.run()
    assert info.value.message == ("interrupted at epoch 2, batch 2/4; checkpoint saved: "
                                  "continue with --resume --name x")
    assert saved[-1]["position"] == {"epoch": 2, "batch": 2, "step": 6}
    # epoch 1 improved (offered as "epoch"); the stop offers nothing more: this run already published
    assert [(o.status, o.validated, o.finished) for o in offers] == [("epoch", True, False)]
    fresh = []
    with pytest.raises(Interrupted):
        Loop(FakeTask(), LoopConfig(epochs=3, patience=9), stop=Flag(after=0),
             publish=lambda offer: fresh.append(offer) or True).run()
    assert [(o.status, o.validated) for o in fresh] == [("interrupted", False)]


def test_max_time_ends_with_a_partial_epoch_that_is_not_a_bad_one():
    saved, offers = [], []
    loop = Loop(FakeTask(scores=[1.0]), LoopConfig(epochs=3, patience=1, anneal=2.0, max_time=5.0),
                started=time.monotonic() - 10, checkpoint=saved.append, publish=lambda o: offers.append(o) or True)
    assert loop.run() == "time-limit"
    s = loop.state
    assert (s.epoch, s.batch, s.bad_epochs, s.finished) == (0, 1, 0, False)
    assert s.records == [{"epoch": 1, "fraction": 0.25, "train_loss": s.records[0]["train_loss"], "score": 1.0,
                          "lr": 0.05, "best": True}]
    assert [o.status for o in offers] == ["epoch", "time-limit"] and not saved[-1]["finished"]


def test_a_finished_run_is_refused_unless_extended():
    saved = []
    Loop(FakeTask(), LoopConfig(epochs=1, patience=9), checkpoint=saved.append).run()
    assert saved[-1]["finished"] and len(saved) == 1  # the last epoch's checkpoint says it is finished
    state = LoopState.from_dict(saved[-1])
    with pytest.raises(UsageError, match="already finished 1 epochs"):
        Loop(FakeTask(), LoopConfig(epochs=1, patience=9), state=state).run()
    longer = Loop(FakeTask(), LoopConfig(epochs=2, patience=9), state=LoopState.from_dict(saved[-1]))
    assert longer.run() == "finished" and longer.state.epoch == 2 and len(longer.state.records) == 2
