"""Training `--arch rnn+cnn`: the rnn member exactly as `--arch rnn` trains it, then the cnn
member exactly as `--arch cnn` does (same seed, data and options; each its own early stopping
and its own refit epoch count), then the two as one EnsembleClassifier (classify/ensemble.py).

So an ensemble is the average of the two models a user would get from the two commands, and
tests can check it bit for bit. The lifecycle stays the shared loop's, member by member:

- the checkpoint is the current member's loop state plus {"ensemble": {"member": i, "done":
  [finished members' weights and summaries]}}, so Ctrl-C or SIGKILL in either member resumes
  where it stopped;
- the model is offered for publishing only once every member exists (the last member's
  offers carry the finished ones), never a member alone;
- with --max-time the rnn member stops at half the budget, so the cnn member gets its share;
- the refit trains each member for its own best epoch count (TrainOptions.member_epochs).
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import Callable

from ..training.report import notice
from ..training.runtime import Distributed
from .build import build
from .cnn import ConvConfig
from .data import Dataset
from .ensemble import EnsembleClassifier
from .validation import accuracy
from .options import TrainOptions
from .trained import Hooks, Trained

MEMBERS = ("rnn", "cnn")


def member_options(opts: TrainOptions, i: int) -> TrainOptions:
    """Member i's recipe: the ensemble's with its own arch (and, in a refit, its own epochs)."""
    member = replace(opts, arch=MEMBERS[i], member_epochs=None)
    if opts.member_epochs:
        epochs = int(opts.member_epochs[i])
        member = replace(member, epochs=epochs, patience=epochs + 1)
    if opts.max_time is not None and i < len(MEMBERS) - 1:
        member = replace(member, max_time=opts.max_time * (i + 1) / len(MEMBERS))
    return member


def fit_ensemble(train: Dataset, valid: Dataset | None, opts: TrainOptions, fit: Callable, *, hooks: Hooks,
                 resume_state: dict | None, dist: Distributed, device: str, report, started: float | None) -> Trained:
    """`fit` (classify.train.fit) trains each member; the other arguments are fit's own."""
    started = time.monotonic() if started is None else started
    position = (resume_state or {}).get("ensemble") or {"member": 0, "done": []}
    done = [_restore(train, member_options(opts, i), d, device) for i, d in enumerate(position["done"])]
    for i in range(len(done), len(MEMBERS)):
        finished = [_summary(t) for t in done]

        def checkpoint(state: dict, i=i, finished=finished) -> None:
            hooks.save_checkpoint({**state, "ensemble": {"member": i, "done": finished}})

        publish = None
        if hooks.publish is not None and i == len(MEMBERS) - 1:
            publish = partial(_publish_ensemble, hooks.publish, list(done), valid, device)
        member_hooks = Hooks(hooks.on_epoch, checkpoint if hooks.save_checkpoint is not None else None,
                             hooks.stop, publish, hooks.resume_hint)
        # a checkpoint written inside member i's loop resumes it; any other starts it afresh
        state = resume_state if position["member"] == i and resume_state and "task" in resume_state else None
        if report is not None and dist.is_main:
            notice(f"rnn+cnn: member {i + 1} of {len(MEMBERS)}, --arch {MEMBERS[i]}"
                   + (" (refit)" if valid is None else ""))
        done.append(fit(train, valid, member_options(opts, i), hooks=member_hooks, resume_state=state, dist=dist,
                        device=device, report=report, started=started, member=MEMBERS[i]))
        if i + 1 < len(MEMBERS) and hooks.save_checkpoint is not None and dist.is_main:
            # between members: a crash here resumes with the next member, not by retraining this one
            hooks.save_checkpoint({"ensemble": {"member": i + 1, "done": [_summary(t) for t in done]}})
    return assemble(done, valid, device)


def assemble(members: list[Trained], valid: Dataset | None, device: str) -> Trained:
    """The ensemble's Trained from its members' (rnn first): weights, featurizer and labels are
    theirs; the validation accuracy is the ensemble's own; the history is both, marked by member."""
    rnn, cnn = members
    cfg = replace(cnn.config, arch="rnn+cnn")
    assert isinstance(cfg, ConvConfig) and rnn.labels == cnn.labels
    model = EnsembleClassifier(cfg, members=[rnn.model, cnn.model]).eval()
    score = max(rnn.best_valid_accuracy, cnn.best_valid_accuracy)
    if valid is not None:
        index = {label: i for i, label in enumerate(rnn.labels)}
        if cfg.multi_label:
            targets = [{index[x] for x in labels if x in index} for labels in valid.gold()]
        else:
            targets = [index.get(label, -1) for label in valid.labels]
        score = accuracy(model, rnn.featurizer.encode(valid.texts), targets, device)
    history = [r for m in members for r in m.history]  # each record names its member
    status = "time-limit" if "time-limit" in (rnn.status, cnn.status) else cnn.status
    return Trained(model, rnn.featurizer, rnn.labels, cfg, history, max(rnn.best_epoch, cnn.best_epoch), score,
                   rnn.embedding_coverage, status, members=list(members))


def _publish_ensemble(publish: Callable, finished: list[Trained], valid: Dataset | None, device: str,
                      trained: Trained, offer) -> bool:
    """The last member's offer, as the whole ensemble's."""
    return publish(assemble(finished + [trained], valid, device), offer)


def _summary(trained: Trained) -> dict:
    return {"weights": trained.model.state_dict(), "history": trained.history, "best_epoch": trained.best_epoch,
            "best_valid_accuracy": trained.best_valid_accuracy, "status": trained.status,
            "embedding_coverage": trained.embedding_coverage}


def _restore(train: Dataset, opts: TrainOptions, summary: dict, device: str) -> Trained:
    """A finished member from the checkpoint: built as fit builds it, then given its weights."""
    feat, labels, cfg, model, _ = build(train, opts)
    model.load_state_dict(summary["weights"])
    return Trained(model.to(device).eval(), feat, labels, cfg, list(summary["history"]), summary["best_epoch"],
                   summary["best_valid_accuracy"], summary["embedding_coverage"], summary["status"])
