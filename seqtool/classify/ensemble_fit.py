"""Training an ensemble (`--arch rnn+cnn+linear`, `--arch rnn+cnn`): each member exactly as its
own `--arch` trains it (same seed, data and options; each its own early stopping and its own
refit epoch count), one after the other, then all as one EnsembleClassifier
(classify/ensemble.py).

So an ensemble is the average of the models a user would get from the members' commands, and
tests can check it bit for bit. The lifecycle stays the shared loop's, member by member:

- the checkpoint is the current member's loop state plus {"ensemble": {"member": i, "done":
  [finished members' weights and summaries]}}, so Ctrl-C or SIGKILL in any member resumes
  where it stopped;
- the model is offered for publishing only once every member exists (the last member's
  offers carry the finished ones), never a member alone;
- with --max-time each member stops at its share of the budget (the rnn and the cnn even
  shares, the linear model, a few solves, a small one), so the later ones get theirs; such a
  member's summary keeps its loop state, and a resume trains it on from there;
- the refit trains each member for its own best epoch count (TrainOptions.member_epochs).

Side by side: with 2 or more torch threads on a CPU (one process, not torchrun), a member
barely gains from a second thread (MR: the rnn's fold takes as long on 2 as on 1), so the
members after the rnn train in a forked child while the rnn trains here, each process on half
the threads: on 2 threads the same models as `--threads 1` gives, in about the rnn's time.
The child keeps no checkpoint (on a resume its members, the shorter ones, train again: the
same seed gives the same models), is killed with the run (PR_SET_PDEATHSIG) and hands its
members back as safetensors files plus JSON in a temp folder named by the run's pid (a
SIGKILLed run's folder is removed by the next side-by-side run); their epoch lines are
reported once it is done.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable

from ..core.errors import ModelError
from ..core.tensors import load_tensors, save_tensors
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.loop import Publication
from ..training.report import notice
from ..training.runtime import Distributed
from .build import build
from .cnn import ConvConfig
from .data import Dataset
from .ensemble import EnsembleClassifier, member_names
from .validation import accuracy, validation_targets
from .options import TrainOptions
from .trained import Hooks, Trained

TIME_SHARE = {"rnn": 1.0, "cnn": 1.0, "linear": 0.1}  # of --max-time, among members trained in turn


def member_options(opts: TrainOptions, i: int, group: list[int] | None = None) -> TrainOptions:
    """Member i's recipe: the ensemble's with its own arch (and, in a refit, its own epochs).
    `group`: the members one process trains in turn (default: all); with --max-time each of
    them stops at the end of its share, counted from the run's start."""
    names = member_names(opts.arch)
    member = replace(opts, arch=names[i], member_epochs=None)
    if opts.member_epochs:
        epochs = int(opts.member_epochs[i])
        member = replace(member, epochs=epochs, patience=epochs + 1)
    group = list(range(len(names))) if group is None else group
    if opts.max_time is not None and i != group[-1]:
        shares = [TIME_SHARE[names[j]] for j in group]
        member = replace(member, max_time=opts.max_time * sum(shares[:group.index(i) + 1]) / sum(shares))
    return member


def fit_ensemble(train: Dataset, valid: Dataset | None, opts: TrainOptions, fit: Callable, *, hooks: Hooks,
                 resume_state: dict | None, dist: Distributed, device: str, report, started: float | None) -> Trained:
    """`fit` (classify.train.fit) trains each member; the other arguments are fit's own.

    A resume restores the finished members, continues the one whose loop the checkpoint
    holds, and also continues each member that stopped at its --max-time share (its summary
    keeps its loop state), as `--resume` continues a single model."""
    started = time.monotonic() if started is None else started
    names = member_names(opts.arch)
    position = (resume_state or {}).get("ensemble") or {"member": 0, "done": []}
    if not any(position["done"]) and side_by_side_possible(dist, device):
        return _fit_side_by_side(train, valid, opts, fit, hooks=hooks, resume_state=resume_state, dist=dist,
                                 device=device, report=report, started=started)
    # one summary per member, None for those not trained yet (older checkpoints list a prefix)
    summaries = list(position["done"]) + [None] * (len(names) - len(position["done"]))
    members: list[Trained] = []
    last_fitted = None
    for i, summary in enumerate(summaries):
        if summary is not None and not _continues(summary):
            members.append(_restore(train, member_options(opts, i), summary, device))
            continue
        if summary is not None:  # stopped at its time share: its loop goes on
            state = summary["state"]
        else:  # a checkpoint written inside member i's loop resumes it; any other starts it afresh
            state = resume_state if position["member"] == i and resume_state and "task" in resume_state else None
        summaries[i] = None  # while its loop runs, its checkpoints are the member's position
        publish = None
        if hooks.publish is not None and i == len(names) - 1:
            publish = partial(_publish_ensemble, hooks.publish, list(members), valid, device)
        latest: dict = {}
        member_hooks = _member_hooks(hooks, i, list(summaries), publish, latest)
        if report is not None and dist.is_main:
            notice(f"{opts.arch}: member {i + 1} of {len(names)}, --arch {names[i]}"
                   + (" (refit)" if valid is None else "") + (" (continued)" if summary is not None else ""))
        members.append(fit(train, valid, member_options(opts, i), hooks=member_hooks, resume_state=state,
                           dist=dist, device=device, report=report, started=started, member=names[i]))
        summaries[i] = _summary(members[i], latest.get("state"))
        last_fitted = i
        if hooks.save_checkpoint is not None and dist.is_main:
            # after each member: a crash here resumes with the next, not by retraining this one
            hooks.save_checkpoint({"ensemble": {"member": i + 1, "done": list(summaries)},
                                   "finished": _all_finished(summaries)})
    trained = assemble(members, valid, device)
    if last_fitted != len(names) - 1 and dist.is_main:  # the last member's loop did not run: nothing offered it
        _offer(hooks, trained, valid)
    return trained


def _continues(summary: dict) -> bool:
    """A finished member that a resume trains on: stopped by --max-time, its loop state kept."""
    return summary.get("status") == "time-limit" and summary.get("state") is not None


def _all_finished(summaries: list) -> bool:
    """Every member trained, none left for a resume to continue."""
    return all(x is not None and not _continues(x) for x in summaries)


def _member_hooks(hooks: Hooks, i: int, finished: list, publish: Callable | None, latest: dict) -> Hooks:
    """Member i's hooks: its checkpoints carry the ensemble's position (the other members'
    summaries, None for member i and those not trained) and are kept in `latest["state"]`;
    `publish` offers the whole ensemble, or None: the member is never offered alone."""
    if hooks.save_checkpoint is None:
        return replace(hooks, publish=publish)

    def save(state: dict) -> None:
        latest["state"] = state
        hooks.save_checkpoint({**state, "ensemble": {"member": i, "done": finished}})

    return replace(hooks, save_checkpoint=save, publish=publish)


def side_by_side_possible(dist: Distributed, device: str) -> bool:
    import torch

    return (hasattr(os, "fork") and not dist.enabled and str(device) == "cpu"
            and torch.get_num_threads() >= 2)


def _fit_side_by_side(train: Dataset, valid: Dataset | None, opts: TrainOptions, fit: Callable, *, hooks: Hooks,
                      resume_state: dict | None, dist: Distributed, device: str, report,
                      started: float) -> Trained:
    """The members after the first in a forked child, the first (the rnn) here, half the
    threads each (module docstring)."""
    import torch

    names = member_names(opts.arch)
    later = list(range(1, len(names)))  # the child's members, in turn
    threads = torch.get_num_threads()
    half = max(1, threads // 2)
    folder = _hand_over_folder()
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        _train_in_child(folder, parent, half, later, train, valid, opts, fit, dist, device, started)  # no return
    try:
        torch.set_num_threads(half)
        latest: dict = {}
        member_hooks = _member_hooks(hooks, 0, [None] * len(names), None, latest)
        state = resume_state if resume_state and "task" in resume_state else None
        if report is not None:
            notice(f"{opts.arch}: the members side by side, {half} thread(s) each: --arch {names[0]} here, "
                   f"--arch {', '.join(names[i] for i in later)} in a child" + (" (refit)" if valid is None else ""))
        first = fit(train, valid, member_options(opts, 0, [0]), hooks=member_hooks, resume_state=state,
                    dist=dist, device=device, report=report, started=started, member=names[0])
        _, status = os.waitpid(child, 0)
        child = None
        if status != 0:
            raise ModelError(f"{opts.arch}: the process training the other members failed (wait status {status}); "
                             f"its error is above; --threads 1 trains the members one after the other")
        read = [_read_member(folder, i, train, member_options(opts, i, later), device) for i in later]
        rest = [member for member, _ in read]
    finally:
        if child is not None:  # Ctrl-C, SIGTERM or an error here: the child's work is lost with the run
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
        torch.set_num_threads(threads)
        shutil.rmtree(folder, ignore_errors=True)
    if report is not None:
        for i, member in zip(later, rest):
            for record in member.history:
                report.epoch_end(record, member_options(opts, i, later).epochs,
                                 mark="*best" if record.get("best") else "")
    members = [first, *rest]
    trained = assemble(members, valid, device)
    if hooks.save_checkpoint is not None:  # every member: a resume only assembles them
        # a member --max-time stopped keeps its loop state: a resume trains it on
        summaries = [_summary(first, latest.get("state"))] + [_summary(m, state) for m, state in read]
        hooks.save_checkpoint({"ensemble": {"member": len(names), "done": summaries},
                               "finished": _all_finished(summaries)})
    _offer(hooks, trained, valid)
    return trained


FOLDER_PREFIX = "seqtool-ensemble-"  # + the parent's pid + "-" + mkdtemp's letters


def _hand_over_folder() -> Path:
    """The temp folder the child hands its members over in, named by this process's pid.
    First the ones a SIGKILLed run left are removed: those whose pid runs no process."""
    from ..core.locking import pid_alive

    for old in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = old.name[len(FOLDER_PREFIX):].split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and not pid_alive(int(pid)) and old.stat().st_uid == os.getuid():
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))


def _offer(hooks: Hooks, trained: Trained, valid: Dataset | None) -> None:
    """Offer an ensemble no member loop offered (side by side, or every member from the checkpoint)."""
    if hooks.publish is not None:
        hooks.publish(trained, Publication(trained.status, trained.status != "time-limit", None, None,
                                           valid is not None))


def _train_in_child(folder: Path, parent: int, threads: int, members: list[int], train: Dataset,
                    valid: Dataset | None, opts: TrainOptions, fit: Callable, dist: Distributed, device: str,
                    started: float) -> None:
    """The forked child: train `members` in turn on `threads` threads, write each to `folder`, exit."""
    code = 1
    try:
        import torch

        from ..core.locking import die_with_parent, release_inherited_locks

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        die_with_parent(parent)
        release_inherited_locks()
        torch.set_num_threads(threads)
        names = member_names(opts.arch)
        for i in members:
            latest: dict = {}
            keep = Hooks(save_checkpoint=partial(latest.__setitem__, "state"))  # the last loop state, in memory
            trained = fit(train, valid, member_options(opts, i, members), dist=dist, device=device,
                          started=started, member=names[i], hooks=keep)
            save_tensors({k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()},
                         folder / f"member{i}.safetensors")
            if trained.status == "time-limit" and "state" in latest:  # for a resume to train it on
                (folder / f"member{i}-loop").mkdir()
                save_checkpoint(folder / f"member{i}-loop", latest["state"])
            summary = {k: v for k, v in _summary(trained).items() if k != "weights"}
            (folder / f"member{i}.json").write_text(json.dumps(summary), encoding="utf-8")
        code = 0
    except BaseException as exc:  # noqa: BLE001 - reported in one line; the parent says what failed
        with contextlib.suppress(Exception):
            sys.stderr.write(f"seqtool: {opts.arch}: a member failed: {type(exc).__name__}: {exc}\n")
    finally:
        os._exit(code)  # no atexit handlers, no flush of the parent's buffered output


def _read_member(folder: Path, i: int, train: Dataset, opts: TrainOptions, device: str) -> tuple[Trained, dict | None]:
    """Member i as the child wrote it, and its loop state if --max-time stopped it."""
    summary = json.loads((folder / f"member{i}.json").read_text(encoding="utf-8"))
    summary["weights"] = load_tensors(folder / f"member{i}.safetensors", origin=f"the {opts.arch} member")
    loop = folder / f"member{i}-loop"
    return _restore(train, opts, summary, device), load_checkpoint(loop) if loop.is_dir() else None


def assemble(members: list[Trained], valid: Dataset | None, device: str) -> Trained:
    """The ensemble's Trained from its members' (in the arch's order): weights, featurizer and
    labels are theirs; the validation accuracy is the ensemble's own; the history is all of
    theirs, marked by member."""
    names = [getattr(m.config, "arch", "rnn") for m in members]
    conv = next(m.config for m in members if isinstance(m.config, ConvConfig))
    cfg = replace(conv, arch="+".join(names), doc_dim=members[0].config.doc_dim)
    assert all(m.labels == members[0].labels for m in members)
    model = EnsembleClassifier(cfg, members=[m.model for m in members]).eval()
    first = members[0]
    score = max(m.best_valid_accuracy for m in members)
    if valid is not None:
        score = accuracy(model, first.featurizer.encode(valid.texts),
                         validation_targets(valid, first.labels, cfg.multi_label), device)
    history = [r for m in members for r in m.history]  # each record names its member
    status = "time-limit" if any(m.status == "time-limit" for m in members) else members[-1].status
    return Trained(model, first.featurizer, first.labels, cfg, history, max(m.best_epoch for m in members), score,
                   first.embedding_coverage, status, members=list(members))


def _publish_ensemble(publish: Callable, finished: list[Trained], valid: Dataset | None, device: str,
                      trained: Trained, offer) -> bool:
    """The last member's offer, as the whole ensemble's."""
    return publish(assemble(finished + [trained], valid, device), offer)


def _summary(trained: Trained, loop_state: dict | None = None) -> dict:
    """A finished member in a checkpoint; with the loop state of a member --max-time stopped."""
    summary = {"weights": trained.model.state_dict(), "history": trained.history, "best_epoch": trained.best_epoch,
               "best_valid_accuracy": trained.best_valid_accuracy, "status": trained.status,
               "embedding_coverage": trained.embedding_coverage}
    if trained.status == "time-limit" and loop_state is not None:
        summary["state"] = {k: v for k, v in loop_state.items() if k != "ensemble"}
    return summary


def _restore(train: Dataset, opts: TrainOptions, summary: dict, device: str) -> Trained:
    """A finished member from the checkpoint: built as fit builds it, then given its weights."""
    feat, labels, cfg, model, _ = build(train, opts)
    model.load_state_dict(summary["weights"])
    return Trained(model.to(device).eval(), feat, labels, cfg, list(summary["history"]), summary["best_epoch"],
                   summary["best_valid_accuracy"], summary["embedding_coverage"], summary["status"])
