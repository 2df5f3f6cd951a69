"""`--arch linear` (seqtool/classify/linear.py, linear_train.py) and the default ensemble
rnn+cnn+linear: TF-IDF values by hand, the solver at the optimum (and sklearn's, where it is
installed), the regularization path as epochs, resume, the store, the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqtool.classify.api import train_model
from seqtool.classify.ensemble import EnsembleClassifier
from seqtool.classify.features import collate
from seqtool.classify.linear import LinearClassifier
from seqtool.classify.linear_train import C_PATH, idf_weights, solve, tfidf_matrix
from seqtool.classify.logits import classifier_logits
from seqtool.classify.store import load
from seqtool.classify.train import Hooks, TrainOptions, fit
from seqtool.core.errors import UsageError

from .test_classify_model import separable

torch.set_num_threads(1)

TINY = dict(hidden=8, emb=8, maps=4, batch_size=8, lr=0.02, device="cpu", seed=3)


def test_tfidf_values_by_hand():
    # three texts over n-grams 0..2: df = (3, 1, 2), N = 3
    grams = [[0, 1], [0, 2], [0, 2], []]
    idf = idf_weights(grams[:3], 3)
    by_hand = [math.log(4 / 4) + 1, math.log(4 / 2) + 1, math.log(4 / 3) + 1]
    np.testing.assert_allclose(idf, by_hand)
    x = tfidf_matrix(grams, idf).toarray()
    norm = math.hypot(by_hand[0], by_hand[1])
    np.testing.assert_allclose(x[0], [by_hand[0] / norm, by_hand[1] / norm, 0.0])
    np.testing.assert_allclose(np.linalg.norm(x[:3], axis=1), 1.0)
    assert not x[3].any()  # a text with no known n-gram: x = 0, its logits are the bias


def _problem(k=3, n=60, f=12, seed=0):
    rng = np.random.default_rng(seed)
    grams = [sorted(set(rng.integers(0, f, size=4).tolist())) for _ in range(n)]
    y = np.array([min(g) % k for g in grams])  # learnable from the n-grams
    return tfidf_matrix(grams, idf_weights(grams, f)), y, grams


@pytest.mark.parametrize("k", [2, 3])
def test_the_solve_ends_at_the_optimum(k):
    x, y, _ = _problem(k)
    c = 4.0
    w, b, loss = solve(x, y, c, np.zeros((k, x.shape[1])), np.zeros(k), False, gtol=1e-10, ftol=1e-15)
    n = x.shape[0]
    z = x @ w.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    residual = (p - np.eye(k)[y]) / n
    # the gradient of mean CE + ||W||^2 / (2 c N) is zero there
    np.testing.assert_allclose(x.T @ residual + w.T / (c * n), 0.0, atol=1e-7)
    np.testing.assert_allclose(residual.sum(0), 0.0, atol=1e-7)
    assert abs(loss - float(-np.log(p[np.arange(n), y]).mean())) < 1e-9


def test_the_solve_is_sklearns_logistic_regression():
    linear_model = pytest.importorskip("sklearn.linear_model")
    x, y, _ = _problem(3)
    w, b, _ = solve(x, y, 4.0, np.zeros((3, x.shape[1])), np.zeros(3), False, gtol=1e-10, ftol=1e-15)
    theirs = linear_model.LogisticRegression(C=4.0, tol=1e-10, max_iter=10000).fit(x, y)
    z = x @ w.T + b
    np.testing.assert_allclose(np.exp(z) / np.exp(z).sum(1, keepdims=True), theirs.predict_proba(x), atol=1e-5)


def test_one_vs_all_solves_each_label_as_a_binary_regression():
    x, y, _ = _problem(2)
    multi = np.stack([y == 1, y == 0], 1).astype(float)  # two labels, the second the first's complement
    w, b, _ = solve(x, multi, 2.0, np.zeros((2, x.shape[1])), np.zeros(2), True, gtol=1e-10, ftol=1e-15)
    one, b1, _ = solve(x, multi[:, :1], 2.0, np.zeros((1, x.shape[1])), np.zeros(1), True, gtol=1e-10, ftol=1e-15)
    np.testing.assert_allclose(w[:1], one, atol=1e-6)  # the labels do not interact
    np.testing.assert_allclose(w[0], -w[1], atol=1e-6)  # and the complement gets the mirror image
    np.testing.assert_allclose(b1, b[:1], atol=1e-6)


def test_the_module_computes_the_solvers_logits():
    x, y, grams = _problem(3)
    w, b, _ = solve(x, y, 4.0, np.zeros((3, x.shape[1])), np.zeros(3), False)
    from seqtool.classify.cnn import ConvConfig

    model = LinearClassifier(ConvConfig(vocab_size=5, num_classes=3, num_ngrams=x.shape[1], arch="linear"))
    with torch.no_grad():
        model.table.weight.copy_(torch.from_numpy(w.T.copy()))
        model.bias.copy_(torch.from_numpy(b))
        model.idf.copy_(torch.from_numpy(idf_weights(grams, x.shape[1])))
    np.testing.assert_allclose(model.bag_logits(grams).numpy(), x @ w.T + b, atol=1e-5)


def test_epochs_walk_the_regularization_path_and_the_refit_ends_where_it_chose():
    train, valid = separable(40), separable(12, seed=2)
    early = fit(train, valid, TrainOptions(arch="linear", **TINY))
    assert [r["c"] for r in early.history] == list(C_PATH[:len(early.history)])
    assert isinstance(early.model, LinearClassifier) and early.best_valid_accuracy > 0.9
    k = early.best_epoch
    refit = fit(train, None, TrainOptions(arch="linear", epochs=k, patience=k + 1, **TINY))
    assert [r["c"] for r in refit.history] == list(C_PATH[:k]) and all(r["refit"] for r in refit.history)
    # the same data gives the early phase's model at that c
    again = fit(train, valid, TrainOptions(arch="linear", epochs=k, patience=k + 1, **TINY))
    torch.testing.assert_close(refit.model.table.weight, again.model.table.weight)


def test_linear_needs_the_ngram_features():
    with pytest.raises(UsageError, match="--ngrams"):
        fit(separable(24), separable(8, seed=2), TrainOptions(arch="linear", ngrams=0, **TINY))


def test_the_default_ensemble_has_three_members_each_as_alone():
    assert TrainOptions().arch == "rnn+cnn+linear"
    train, valid = separable(40), separable(12, seed=2)
    three = fit(train, valid, TrainOptions(epochs=3, patience=3, **TINY))
    assert isinstance(three.model, EnsembleClassifier) and three.config.arch == "rnn+cnn+linear"
    assert [r["member"] for r in three.history][-1] == "linear"
    alone = fit(train, valid, TrainOptions(arch="linear", epochs=3, patience=3, **TINY))
    assert all(torch.equal(a, b) for a, b in zip(three.model.members[2].state_dict().values(),
                                                  alone.model.state_dict().values()))
    enc = three.featurizer.encode(valid.texts)
    tokens, lengths, flat, offsets = collate(enc, list(range(len(valid))), three.featurizer.vocab.pad_id)
    with torch.no_grad():
        by_module = three.model(tokens, lengths, flat, offsets)
    torch.testing.assert_close(classifier_logits(three.model, enc), by_module, atol=1e-5, rtol=1e-5)


def test_a_stop_inside_the_linear_member_resumes_to_the_same_ensemble():
    from seqtool.core.errors import Interrupted

    from .test_classify_model import StopAfter

    train, valid = separable(32), separable(8, seed=2)
    opts = TrainOptions(epochs=3, patience=3, **TINY)
    whole = fit(train, valid, opts)
    saved = {}
    with pytest.raises(Interrupted):  # 4 batches an epoch: 12 for the rnn, 12 for the cnn, then one per c
        fit(train, valid, opts, hooks=Hooks(save_checkpoint=lambda st: saved.update(last=st), stop=StopAfter(26)))
    done = saved["last"]["ensemble"]["done"]
    assert saved["last"]["ensemble"]["member"] == 2 and [d is not None for d in done] == [True, True, False]
    resumed = fit(train, valid, opts, resume_state=saved["last"])
    for a, b in zip(resumed.model.state_dict().values(), whole.model.state_dict().values()):
        assert torch.equal(a, b)


def test_side_by_side_trains_the_later_members_in_turn_in_the_child():
    train, valid = separable(40), separable(12, seed=2)
    opts = TrainOptions(epochs=3, patience=3, **TINY)
    one = fit(train, valid, opts)
    torch.set_num_threads(2)
    try:
        two = fit(train, valid, opts)
    finally:
        torch.set_num_threads(1)
    for a, b in zip(one.model.state_dict().values(), two.model.state_dict().values()):
        assert torch.equal(a, b)
    assert [r["member"] for r in one.history] == [r["member"] for r in two.history]


def test_cli_trains_stores_and_predicts_the_default(cli, tmp_path):
    data = separable(48)
    path = tmp_path / "tiny.tsv"
    path.write_text("label\ttext\n" + "".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    result = cli("classify", "train", str(path), "--hidden", "8", "--emb", "8", "--maps", "4", "--epochs", "6",
                 "--lr", "0.02", "--batch-size", "8", "--device", "cpu", "--name", "d")
    assert result.exit_code == 0, result.stderr
    clf = load("d")
    assert clf.info["config"]["model"]["arch"] == "rnn+cnn+linear"
    assert isinstance(clf.model.members[2], LinearClassifier) and float(clf.model.members[2].idf.max()) > 1.0
    result = cli("classify", "predict", "-", "--model", "d", "--prob", input="a wonderful movie\nan awful movie\n")
    assert result.exit_code == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["pos", "neg"]
    lin = cli("classify", "train", str(path), "--arch", "linear", "--device", "cpu", "--name", "lin", "--json")
    assert lin.exit_code == 0, lin.stderr
    summary = train_model(str(path), opts=TrainOptions(arch="linear", **TINY), name="lin2")
    assert summary.published and load("lin2").info["config"]["model"]["arch"] == "linear"


def test_max_time_shares_of_the_three_members():
    from seqtool.classify.ensemble_fit import member_options

    opts = TrainOptions(max_time=63.0, **TINY)  # the default arch: shares 1, 1 and 0.1 of the budget
    assert [member_options(opts, i).max_time for i in range(3)] == pytest.approx([30.0, 60.0, 63.0])
    # side by side the child trains the cnn, then the linear model: they share its budget
    assert [member_options(opts, i, [1, 2]).max_time for i in (1, 2)] == pytest.approx([57.27, 63.0], abs=0.01)
    assert member_options(opts, 0, [0]).max_time == 63.0



@pytest.mark.parametrize("threads", [1, 2])
def test_resume_continues_a_member_its_time_share_stopped(monkeypatch, threads):
    """--max-time stops the members at their shares; a resume trains each on from its loop
    state, as `--resume` continues a single model: the rnn member ends as the `--arch rnn`
    model stopped at the same moment and resumed. On 2 threads the members train side by
    side, and the child's hand their loop states over too."""
    import time as real_time
    import types

    from seqtool.training import loop as loop_module

    train, valid = separable(32), separable(8, seed=2)
    clock = {"now": 0.0}

    def monotonic():  # each look at the clock is a second later
        clock["now"] += 1.0
        return clock["now"]

    def limited(opts, saved):
        clock["now"] = 0.0
        with monkeypatch.context() as m:
            m.setattr(loop_module, "time", types.SimpleNamespace(
                monotonic=monotonic, perf_counter=real_time.perf_counter, process_time=real_time.process_time))
            return fit(train, valid, opts, started=0.0, hooks=Hooks(save_checkpoint=lambda st: saved.update(last=st)))

    saved = {}
    torch.set_num_threads(threads)
    try:
        stopped_run = limited(TrainOptions(max_time=8.0, epochs=3, patience=3, **TINY), saved)
    finally:
        torch.set_num_threads(1)
    assert [m.status for m in stopped_run.members] == ["time-limit"] * 3 and not saved["last"]["finished"]
    assert saved["last"]["ensemble"]["member"] == 3 and all("state" in d for d in saved["last"]["ensemble"]["done"])
    resumed = fit(train, valid, TrainOptions(epochs=3, patience=3, **TINY), resume_state=saved["last"])
    for before, after in zip(stopped_run.members, resumed.members):
        assert after.status != "time-limit" and len(after.history) > len(before.history)
    if threads == 1:  # the rnn first, at its share of the budget: 8 / 2.1
        alone = {}
        limited(TrainOptions(arch="rnn", max_time=8.0 / 2.1, epochs=3, patience=3, **TINY), alone)
        rnn = fit(train, valid, TrainOptions(arch="rnn", epochs=3, patience=3, **TINY), resume_state=alone["last"])
        for a, b in zip(resumed.model.members[0].state_dict().values(),
                        rnn.model.state_dict().values()):
            assert torch.equal(a, b)
