"""`--arch rnn+cnn` (seqtool/classify/ensemble.py, ensemble_fit.py): the averaged probabilities,
members that are the models their own arch trains, refit, resume, the store and the CLI (tiny
sizes, one thread)."""

from __future__ import annotations

import pytest
import torch

from seqtool.classify.api import train_model
from seqtool.classify.cnn import ConvConfig
from seqtool.classify.network import build_classifier
from seqtool.classify.ensemble import EnsembleClassifier, combine, member_configs
from seqtool.classify.features import collate
from seqtool.classify.logits import classifier_logits
from seqtool.classify.model import RNNClassifier
from seqtool.classify import store as saved
from seqtool.classify.store import load
from seqtool.classify.ensemble_fit import member_options
from seqtool.classify.holdout import refit_options
from seqtool.classify.train import Hooks, TrainOptions, fit
from seqtool.core.store import ModelStore

from .test_classify_model import NEG, POS, separable

torch.set_num_threads(1)

TINY = dict(arch="rnn+cnn", hidden=8, emb=8, maps=4, batch_size=8, lr=0.02, device="cpu", seed=3)


def test_the_ensemble_probability_is_the_mean_of_the_members():
    logits = torch.tensor([[[2.0, 0.0, -1.0]], [[0.0, 1.0, 0.0]]])  # (M=2, B=1, C=3)
    p = torch.softmax(combine(logits, multi_label=False), dim=-1)
    by_hand = (torch.softmax(logits[0], -1) + torch.softmax(logits[1], -1)) / 2
    torch.testing.assert_close(p, by_hand)
    # e^2 / (e^2 + 1 + e^-1) = 0.8438 and 1 / (2 + e) = 0.2119: class 0 gets their mean
    assert abs(float(p[0, 0]) - (0.84379 + 0.21194) / 2) < 1e-4
    # Already a log-probability: it needs no renormalising.
    torch.testing.assert_close(combine(logits, False).exp().sum(-1), torch.ones(1))


def test_one_vs_all_members_average_their_sigmoids_without_overflow():
    logits = torch.tensor([[[3.0, -200.0]], [[-1.0, 200.0]]])
    out = combine(logits, multi_label=True)
    assert torch.isfinite(out).all()
    by_hand = (torch.sigmoid(logits[0]) + torch.sigmoid(logits[1])) / 2
    torch.testing.assert_close(torch.sigmoid(out), by_hand)
    assert abs(float(torch.sigmoid(out[0, 1])) - 0.5) < 1e-6  # one certain no, one certain yes


def test_members_are_an_rnn_and_a_cnn_with_the_shared_settings():
    cfg = ConvConfig(vocab_size=20, num_classes=3, num_ngrams=7, arch="rnn+cnn", hidden=5, emb=6, maps=4,
                     cell="lstm", widths=(2, 3))
    model = build_classifier(cfg)
    assert isinstance(model, EnsembleClassifier)
    rnn, cnn = model.members
    assert isinstance(rnn, RNNClassifier) and type(rnn.rnn).__name__ == "LSTM" and rnn.cfg.hidden == 5
    assert cnn.cfg.arch == "cnn" and [c.kernel_size[0] for c in cnn.convs] == [2, 3]
    assert rnn.ngram.num_embeddings == cnn.ngram.num_embeddings == 7
    assert [c.emb for c in member_configs(cfg)] == [6, 6]


def test_the_fast_path_gives_the_modules_combined_logits():
    train = separable(24)
    result = fit(train, separable(8, seed=2), TrainOptions(epochs=2, patience=2, **TINY))
    model, feat = result.model.eval(), result.featurizer
    enc = feat.encode(train.texts)
    tokens, lengths, flat, offsets = collate(enc, list(range(len(train))), feat.vocab.pad_id)
    with torch.no_grad():
        by_module = model(tokens, lengths, flat, offsets)  # (B, C)
    torch.testing.assert_close(classifier_logits(model, enc), by_module, atol=1e-5, rtol=1e-5)


def test_each_member_is_the_model_its_own_arch_trains():
    """rnn+cnn = `--arch rnn` and `--arch cnn` with the same seed, bit for bit, averaged."""
    train, valid = separable(40), separable(12, seed=2)
    both = fit(train, valid, TrainOptions(epochs=4, patience=2, **TINY))
    assert [m.config.arch if hasattr(m.config, "arch") else "rnn" for m in both.members] == ["rnn", "cnn"]
    for arch, member, net in zip(("rnn", "cnn"), both.members, both.model.members):
        alone = fit(train, valid, TrainOptions(epochs=4, patience=2, **{**TINY, "arch": arch}))
        untimed = [[{k: v for k, v in r.items() if k not in ("seconds", "member")} for r in t.history]
                   for t in (member, alone)]
        assert member.best_epoch == alone.best_epoch and untimed[0] == untimed[1]
        mine, theirs = net.state_dict(), alone.model.state_dict()
        assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    # the history names each record's member; the score is the ensemble's own
    assert {r["member"] for r in both.history} == {"rnn", "cnn"}
    enc = both.featurizer.encode(valid.texts)
    predicted = classifier_logits(both.model, enc).argmax(1).tolist()
    assert abs(both.best_valid_accuracy - sum(both.labels[i] == y for i, y in zip(predicted, valid.labels)) / 12) < 1e-6


def test_the_refit_trains_each_member_for_its_own_epoch_count():
    opts = TrainOptions(epochs=3, patience=3, member_epochs=[2, 3], **TINY)
    assert [(m.epochs, m.patience, m.arch) for m in map(lambda i: member_options(opts, i), (0, 1))] == \
        [(2, 3, "rnn"), (3, 4, "cnn")]
    refit = fit(separable(24), None, opts)
    assert [len(m.history) for m in refit.members] == [2, 3]
    summary = {"refit_epochs": 3, "member_refit_epochs": [2, 3]}
    assert refit_options(TrainOptions(**TINY), summary).member_epochs == [2, 3]


def test_max_time_leaves_the_cnn_member_its_share():
    opts = TrainOptions(max_time=60.0, **TINY)
    assert member_options(opts, 0).max_time == 30.0 and member_options(opts, 1).max_time == 60.0


def test_max_time_keeps_a_whole_ensemble_and_skips_the_refit(tmp_path):
    summary = train_model(str(_tsv(tmp_path)), opts=TrainOptions(max_time=0.001, epochs=5, **TINY), name="quick")
    assert summary.status == "time-limit" and summary.refit_epochs == 0 and summary.published
    clf = load("quick")  # both members, each stopped at its share of the budget
    assert isinstance(clf.model, EnsembleClassifier) and not clf.info["training"]["finished"]
    assert [r["member"] for r in clf.info["training"]["history"]] == ["rnn", "cnn"]


def test_an_ensemble_interrupted_in_either_member_resumes_to_the_same_model(tmp_path):
    from seqtool.core.errors import Interrupted

    train, valid = separable(32), separable(8, seed=2)
    opts = TrainOptions(epochs=3, patience=3, **TINY)
    whole = fit(train, valid, opts)
    for stop_at in (2, 5):  # inside the rnn member's training, then inside the cnn member's
        saved_state = {"all": []}

        def keep(st):
            saved_state["last"] = st
            saved_state["all"].append(st)

        class StopAfter:
            steps = 0

            @property
            def requested(self):
                self.steps += 1
                return self.steps > stop_at * 4  # 4 batches an epoch

        hooks = Hooks(save_checkpoint=keep, stop=StopAfter())
        try:
            fit(train, valid, opts, hooks=hooks)
        except Interrupted:
            pass
        states = [saved_state["last"]]
        assert states[0]["ensemble"]["member"] == (0 if stop_at == 2 else 1)
        if stop_at == 5:  # also a crash right after the rnn member finished: the one checkpoint with no loop
            states.append(next(st for st in saved_state["all"] if "task" not in st))
            assert states[1]["ensemble"]["member"] == 1 and states[1]["ensemble"]["done"][1] is None
            assert states[1]["ensemble"]["done"][0]["status"] == "finished"
        for state in states:
            resumed = fit(train, valid, opts, resume_state=state)
            for a, b in zip(resumed.model.state_dict().values(), whole.model.state_dict().values()):
                assert torch.equal(a, b)


def test_a_stored_ensemble_gives_the_trained_ones_logits():
    result = fit(separable(48), separable(8, seed=2), TrainOptions(epochs=3, patience=3, **TINY))
    saved.save(ModelStore(), "both", result.model, result.featurizer, result.labels, training={}, metrics={})
    clf = load("both")
    assert isinstance(clf.model, EnsembleClassifier) and clf.info["config"]["model"]["arch"] == "rnn+cnn"
    texts = [f"the {w} movie" for w in POS + NEG]
    mine = classifier_logits(result.model, result.featurizer.encode(texts))
    assert torch.equal(classifier_logits(clf.model, clf.featurizer.encode(texts)), mine)


def test_cli_trains_and_predicts_with_rnn_plus_cnn(cli, tmp_path):
    path = _tsv(tmp_path)
    result = cli("classify", "train", path, "--arch", "rnn+cnn", "--hidden", "8", "--emb", "8", "--maps", "4",
                 "--epochs", "8", "--patience", "8", "--lr", "0.02", "--batch-size", "8", "--no-refit", "--device", "cpu",
                 "--name", "e")
    assert result.exit_code == 0, result.stderr
    stdin = "a wonderful movie\nan awful movie\n"
    result = cli("classify", "predict", "-", "--model", "e", "--prob", input=stdin)
    assert result.exit_code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ["pos", "neg"] and all(0.5 < float(r[1]) <= 1.0 for r in rows)
    help_text = cli("classify", "train", "--help").stdout
    assert "rnn+cnn" in help_text


def test_one_vs_all_ensembles_train(tmp_path):
    path = tmp_path / "tags.ft"
    lines = [f"__label__{'a' if i % 2 else 'b'} __label__c {t}" for i, t in enumerate(separable(32).texts)]
    path.write_text("\n".join(lines) + "\n")
    summary = train_model(str(path), opts=TrainOptions(epochs=2, patience=2, **TINY), name="tags")
    assert summary.valid_metric == "micro_f1"
    assert load("tags").model.cfg.multi_label


def _tsv(tmp_path):
    data = separable(48)
    path = tmp_path / "tiny.tsv"
    path.write_text("label\ttext\n" + "".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    return path


def test_train_model_resumes_an_ensemble_killed_in_any_member_or_phase(tmp_path):
    """Through the store's checkpoint file, as `classify train --resume` runs it: stopped inside
    the rnn member, inside the cnn member, and inside the refit, each run resumes to the weights
    and history of the run that was never stopped."""
    from seqtool.core.errors import Interrupted
    from seqtool.training.checkpoint import load_checkpoint

    from .test_classify_model import StopAfter

    path = _tsv(tmp_path)
    opts = TrainOptions(epochs=3, patience=3, valid_split=0.25, dropout=0.5, **TINY)
    straight = train_model(str(path), opts=opts, name="straight")
    assert straight.refit_epochs >= 1
    a = load("straight")
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    # 5 batches an epoch, 3 epochs a member, then 6 a refit epoch: rnn epoch 2, cnn epoch 1, the rnn's refit
    for n, (stop, member, refit) in enumerate(((6, 0, False), (17, 1, False), (33, 0, True))):
        with pytest.raises(Interrupted, match="--resume"):
            train_model(str(path), opts=opts, name=f"r{n}", stop=StopAfter(stop))
        state = load_checkpoint(ModelStore().checkpoint_dir(f"r{n}"))
        assert state["ensemble"]["member"] == member and ("early_stop" in state) == refit
        summary = train_model(str(path), opts=opts, name=f"r{n}", resume=True)
        assert summary.refit_epochs == straight.refit_epochs
        b = load(f"r{n}")
        for (key, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
            assert torch.equal(x, y), (stop, key)
        assert strip(a.info["training"]["history"]) == strip(b.info["training"]["history"])


def test_side_by_side_on_two_threads_trains_the_one_thread_models(tmp_path):
    """With 2 threads the cnn member trains in a forked child, one thread each: the ensemble
    equals the one-thread run bit for bit, epoch records included; Ctrl-C stops both, and the
    checkpoint resumes (here on one thread) to the same model."""
    from seqtool.core.errors import Interrupted
    from seqtool.classify.ensemble_fit import side_by_side_possible
    from seqtool.training.runtime import Distributed

    from .test_classify_model import StopAfter

    train, valid = separable(40), separable(12, seed=2)
    opts = TrainOptions(epochs=3, patience=3, **TINY)
    one = fit(train, valid, opts)
    torch.set_num_threads(2)
    try:
        assert side_by_side_possible(Distributed(), "cpu")
        two = fit(train, valid, opts)
        saved_state = {}
        with pytest.raises(Interrupted):
            fit(train, valid, opts, hooks=Hooks(save_checkpoint=lambda st: saved_state.update(last=st),
                                                stop=StopAfter(7)))
        assert torch.get_num_threads() == 2  # given back after the members' one thread each
    finally:
        torch.set_num_threads(1)
    for a, b in zip(one.model.state_dict().values(), two.model.state_dict().values()):
        assert torch.equal(a, b)
    untimed = [[{k: v for k, v in r.items() if k != "seconds"} for r in t.history] for t in (one, two)]
    assert untimed[0] == untimed[1] and abs(one.best_valid_accuracy - two.best_valid_accuracy) < 1e-9
    state = saved_state["last"]
    assert state["ensemble"] == {"member": 0, "done": [None, None]}
    resumed = fit(train, valid, opts, resume_state=state)
    for a, b in zip(one.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_a_killed_runs_hand_over_folder_is_removed_by_the_next(tmp_path, monkeypatch):
    import os
    import subprocess
    import tempfile

    from seqtool.classify.ensemble_fit import FOLDER_PREFIX, _hand_over_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that runs no process now
    stale = tmp_path / f"{FOLDER_PREFIX}{gone.pid}-abc"
    (stale / "sub").mkdir(parents=True)
    live = tmp_path / f"{FOLDER_PREFIX}{os.getppid()}-def"  # a running process's: kept
    live.mkdir()
    other = tmp_path / "seqtool-ensemble-notes"  # not a pid: kept
    other.mkdir()
    mine = _hand_over_folder()
    assert not stale.exists() and live.exists() and other.exists()
    assert mine.parent == tmp_path and mine.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
