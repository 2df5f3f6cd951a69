"""The classifier network, training and resume (tiny sizes, one thread)."""

from __future__ import annotations

import random

import pytest
import torch

from seqtool.classify.api import train_model
from seqtool.classify.data import Dataset
from seqtool.classify.features import Encoded, collate
from seqtool.classify.model import ClassifierConfig, RNNClassifier
from seqtool.classify.store import load
from seqtool.classify.infer import predict_logits
from seqtool.classify.train import TrainOptions, batches_for_epoch, fit, unk_probabilities
from seqtool.core.errors import Interrupted
from seqtool.core.store import ModelStore

torch.set_num_threads(1)

POS = "good great excellent fine nice wonderful".split()
NEG = "bad awful terrible poor horrible nasty".split()
FILLER = "the movie was plot actors and it really quite".split()


def separable(n: int, seed: int = 1) -> Dataset:
    rng = random.Random(seed)
    data = Dataset(origin="tiny")
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = rng.sample(FILLER, rng.randint(1, 6)) + [rng.choice(POS if label == "pos" else NEG)]
        rng.shuffle(words)
        data.texts.append(" ".join(words))
        data.labels.append(label)
    return data


TINY = dict(arch="rnn", hidden=12, emb=12, batch_size=8, lr=0.02, device="cpu", seed=3)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
def test_a_batch_gives_the_same_logits_as_each_sequence_alone(cell, pooling):
    torch.manual_seed(0)
    cfg = ClassifierConfig(vocab_size=30, num_classes=3, num_ngrams=20, cell=cell, layers=2, hidden=5, emb=4,
                           pooling=pooling, dropout=0.3)
    model = RNNClassifier(cfg).eval()
    torch.nn.init.normal_(model.ngram.weight)
    seqs = [[5, 6, 7, 8, 9, 10, 11], [3], [12, 13, 4], [20, 21, 22, 23, 24]]
    grams = [[1, 2], [], [3], [4, 5, 6]]
    enc = Encoded(seqs, grams)
    tokens, lengths, flat, offsets = collate(enc, range(4), cfg.pad_id)
    assert tokens.shape == (4, 7)
    batched = model(tokens, lengths, flat, offsets)
    for i in range(4):
        t, l, f, o = collate(enc, [i], cfg.pad_id)
        assert t.shape == (1, len(seqs[i]))  # alone: no padding at all
        torch.testing.assert_close(model(t, l, f, o)[0], batched[i], rtol=1e-5, atol=1e-6)
    # the packed path (used on CUDA) agrees
    torch.testing.assert_close(model(tokens, lengths, flat, offsets, packed=True), batched, rtol=1e-5, atol=1e-6)
    # and the length-sorted inference path returns rows in input order
    torch.testing.assert_close(predict_logits(model, enc, batch_size=3), batched, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_padded_cpu_path_trains_like_the_packed_one(cell):
    """Same loss gradients for every weight, so training on CPU means what it means on CUDA."""
    torch.manual_seed(0)
    cfg = ClassifierConfig(vocab_size=30, num_classes=3, num_ngrams=0, cell=cell, layers=2, hidden=5, emb=4,
                           pooling="max", dropout=0.0)
    model = RNNClassifier(cfg).train()
    enc = Encoded([[5, 6, 7, 8, 9, 10, 11], [3], [12, 13, 4]], [[], [], []])
    tokens, lengths, flat, offsets = collate(enc, range(3), cfg.pad_id)
    grads = []
    for packed in (False, True):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(tokens, lengths, packed=packed), torch.tensor([0, 1, 2])).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and any("reverse" in n for n in grads[0])
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-5, atol=1e-6, msg=name)


def test_a_long_batch_trains_in_linear_time_on_cpu():
    """PyTorch's packed CPU RNN grows with the square of the length: 8x the steps cost it ~37x
    (64 x 50 -> 64 x 400 steps, hidden 32); the padded path must stay within 2x of linear."""
    import time

    model = RNNClassifier(ClassifierConfig(vocab_size=50, num_classes=2, hidden=32, emb=16)).train()

    def seconds(steps: int) -> float:
        tokens, lengths = torch.randint(3, 50, (64, steps)), torch.full((64,), steps)
        started = time.perf_counter()
        model(tokens, lengths).sum().backward()
        return time.perf_counter() - started

    seconds(50)  # warm-up
    short, long = min(seconds(50) for _ in range(3)), min(seconds(400) for _ in range(2))
    assert long < 16 * short, (short, long)


def test_batches_are_a_seeded_function_of_the_epoch():
    lengths = [random.Random(0).randint(1, 30) for _ in range(100)]
    a = batches_for_epoch(lengths, 8, seed=1, epoch=2)
    assert a == batches_for_epoch(lengths, 8, seed=1, epoch=2) != batches_for_epoch(lengths, 8, seed=1, epoch=3)
    assert sorted(i for b in a for i in b) == list(range(100))
    shards = [batches_for_epoch(lengths, 8, 1, 2, rank=r, world=2) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 6
    assert not {i for b in shards[0] for i in b} & {i for b in shards[1] for i in b}


def test_seeded_training_on_a_separable_set_reaches_full_accuracy():
    train, valid = separable(64), separable(24, seed=2)
    result = fit(train, valid, TrainOptions(epochs=12, patience=12, **TINY))
    assert result.best_valid_accuracy == 1.0
    logits = predict_logits(result.model, result.featurizer.encode(train.texts))
    predicted = [result.labels[i] for i in logits.argmax(1).tolist()]
    assert predicted == train.labels
    again = fit(train, valid, TrainOptions(epochs=2, patience=12, **TINY))
    first = fit(train, valid, TrainOptions(epochs=2, patience=12, **TINY))
    for a, b in zip(again.model.state_dict().values(), first.model.state_dict().values()):
        assert torch.equal(a, b)


def test_listening_to_training_does_not_change_what_it_trains():
    # The CLI passes hooks (publish the best model, checkpoint); the Python API may not.
    # Both must train the same model for the same seed.
    from seqtool.classify.train import Hooks

    train, valid = separable(64), separable(24, seed=2)
    seen = []
    hooks = Hooks(on_epoch=lambda record, trained: seen.append(trained.best_epoch),
                  save_checkpoint=lambda state: None)
    heard = fit(train, valid, TrainOptions(epochs=3, patience=9, **TINY), hooks=hooks)
    quiet = fit(train, valid, TrainOptions(epochs=3, patience=9, **TINY))
    assert len(seen) == 3
    for a, b in zip(heard.model.state_dict().values(), quiet.model.state_dict().values()):
        assert torch.equal(a, b)


def test_unk_probabilities_are_alpha_over_alpha_plus_count():
    # ids: 0 <UNK> (never seen), 2 padding; 3 once, 4 three times, 5 once
    prob = unk_probabilities([[3, 4, 4], [4, 5]], vocab_size=6, alpha=1.0, pad_id=2)
    assert prob.tolist() == [1.0, 1.0, 0.0, 0.5, 0.25, 0.5]
    assert unk_probabilities([[3]], vocab_size=4, alpha=0.0, pad_id=2) is None


def test_word_dropout_trains_the_unknown_word_embedding():
    from seqtool.core.vocab import UNK_ID

    train, valid = separable(64), separable(24, seed=2)
    untouched = fit(train, valid, TrainOptions(epochs=2, patience=9, word_dropout=0.0, **TINY))
    dropped = fit(train, valid, TrainOptions(epochs=2, patience=9, word_dropout=1.0, **TINY))
    torch.manual_seed(TINY["seed"])
    initial = RNNClassifier(untouched.config).embedding.weight[UNK_ID]
    # Without word dropout <UNK> never occurs in training, so its row keeps its random start.
    assert torch.equal(untouched.model.embedding.weight[UNK_ID], initial)
    assert not torch.allclose(dropped.model.embedding.weight[UNK_ID], initial)


class StopAfter:
    """A stand-in for StopFlag: asks to stop after `n` batches."""

    def __init__(self, n: int):
        self.n = n

    @property
    def requested(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_interrupted_and_resumed_training_gives_the_same_weights(tmp_path):
    path = tmp_path / "tiny.tsv"
    data = separable(40)
    path.write_text("".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    opts = TrainOptions(epochs=3, patience=3, valid_split=0.25, dropout=0.5, **TINY)
    train_model(str(path), opts=opts, name="straight")
    with pytest.raises(Interrupted, match="--resume"):
        train_model(str(path), opts=opts, name="resumed", stop=StopAfter(6))  # mid-epoch 2 (4 batches/epoch)
    summary = train_model(str(path), opts=opts, name="resumed", resume=True)
    assert summary["epochs"] == 3
    a, b = load("straight"), load("resumed")
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(x, y), name
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.info["training"]["history"]) == strip(b.info["training"]["history"])


def test_resuming_from_an_epoch_end_checkpoint_gives_the_same_weights():
    # A process killed between an epoch's checkpoint and the next batch resumes from the
    # epoch boundary; the per-epoch hook (which builds the best model) must not have moved
    # the random stream after that checkpoint was taken.
    import copy

    from seqtool.classify.train import Hooks

    train, valid = separable(64), separable(24, seed=2)
    opts = TrainOptions(epochs=3, patience=9, dropout=0.5, **TINY)
    states = []
    hooks = Hooks(on_epoch=lambda record, trained: None, save_checkpoint=lambda st: states.append(copy.deepcopy(st)))
    straight = fit(train, valid, opts, hooks=hooks)
    assert [s["epoch"] for s in states] == [1, 2, 3]
    resumed = fit(train, valid, opts, hooks=Hooks(on_epoch=lambda record, trained: None), resume_state=states[0])
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_a_finished_training_keeps_its_checkpoint_and_can_be_extended(tmp_path):
    path = tmp_path / "tiny.tsv"
    data = separable(40)
    path.write_text("".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    opts = TrainOptions(epochs=2, patience=5, valid_split=0.25, refit=False, **TINY)
    first = train_model(str(path), opts=opts, name="grow")
    assert (ModelStore().checkpoint_dir("grow", create=False) / "checkpoint.pt").exists()
    longer = train_model(str(path), opts=TrainOptions(**{**opts.to_dict(), "epochs": 4}), name="grow", resume=True)
    assert (first["epochs"], longer["epochs"]) == (2, 4)  # epochs 3 and 4 were added, not all four rerun


def _weights_equal(a, b) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


def test_refit_retrains_on_all_the_data_for_the_best_epoch_count(tmp_path):
    path = tmp_path / "tiny.tsv"
    data = separable(40)
    path.write_text("".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    opts = TrainOptions(epochs=3, patience=3, valid_split=0.25, **TINY)
    summary = train_model(str(path), opts=opts, name="refit")
    best = summary["refit_epochs"]
    assert best >= summary["best_epoch"] >= 1
    info = load("refit").info["training"]
    assert info["refit"] == {"epochs": best, "examples": 40}
    # The published model is a plain fit on all 40 examples, in the file's order, for `best` epochs.
    from dataclasses import replace

    from seqtool.classify.data import ReadOptions, read_dataset

    everything = read_dataset(str(path), ReadOptions())
    direct = fit(everything, None, replace(opts, epochs=best, patience=best + 1))
    _weights_equal(load("refit").model, direct.model)
    assert len(direct.history) == best and all(r["valid_accuracy"] is None for r in direct.history)


def test_a_cv_fold_scores_the_model_train_would_make_from_that_fold(tmp_path):
    # cv estimates what `classify train` produces: fold 1's figure must be that of a model
    # trained (split, early stopping, refit) on the other folds' examples in file order.
    from seqtool.classify.api import cross_validate, evaluate_model
    from seqtool.classify.split import kfold

    data = separable(60)
    rng = random.Random(5)
    labels = [lab if rng.random() > 0.3 else rng.choice(["pos", "neg"]) for lab in data.labels]  # noisy
    path = tmp_path / "all.tsv"
    path.write_text("".join(f"{lab}\t{text}\n" for lab, text in zip(labels, data.texts)))
    opts = TrainOptions(epochs=4, patience=2, valid_split=0.2, **TINY)
    row = cross_validate(str(path), folds=3, opts=opts, max_folds=1)["per_fold"][0]
    test = set(kfold(labels, 3, opts.seed)[0])
    rest, fold = tmp_path / "rest.tsv", tmp_path / "fold.tsv"
    for target, keep in ((rest, lambda i: i not in test), (fold, lambda i: i in test)):
        target.write_text("".join(f"{labels[i]}\t{data.texts[i]}\n" for i in range(60) if keep(i)))
    train_model(str(rest), opts=opts, name="fold1")
    report = evaluate_model(str(fold), name="fold1", device="cpu")
    assert 0.3 < row["accuracy"] < 1.0  # noisy enough that a different model would likely score differently
    assert (report.accuracy, report.macro_f1) == (row["accuracy"], row["macro_f1"])


def test_an_interrupted_refit_resumes_to_the_same_weights(tmp_path):
    path = tmp_path / "tiny.tsv"
    data = separable(40)
    path.write_text("".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    opts = TrainOptions(epochs=3, patience=3, valid_split=0.25, **TINY)
    train_model(str(path), opts=opts, name="straight")
    with pytest.raises(Interrupted, match="--resume"):
        # 3 early-stopping epochs of 4 batches, then 2 batches into the refit
        train_model(str(path), opts=opts, name="resumed", stop=StopAfter(14))
    state = torch.load(ModelStore().checkpoint_dir("resumed", create=False) / "checkpoint.pt", weights_only=True)
    assert "early_stop" in state
    train_model(str(path), opts=opts, name="resumed", resume=True)
    _weights_equal(load("straight").model, load("resumed").model)


def test_pretrained_embeddings_initialise_and_freeze(tmp_path):
    vec = tmp_path / "tiny.vec"
    words = POS + NEG
    vec.write_text(f"{len(words)} 4\n" + "".join(f"{w} {' '.join(str(0.1 * (i + j)) for j in range(4))}\n"
                                                  for i, w in enumerate(words)))
    train, valid = separable(32), separable(8, seed=2)
    opts = TrainOptions(epochs=2, patience=2, embeddings=str(vec), freeze=True, **TINY)
    result = fit(train, valid, opts)
    assert result.config.emb == 4  # taken from the vectors, not --emb
    assert 0 < result.embedding_coverage < 1
    vocab, weight = result.featurizer.vocab, result.model.embedding.weight
    for i, w in enumerate(words):
        if w in vocab:
            torch.testing.assert_close(weight[vocab.id(w)], torch.tensor([0.1 * (i + j) for j in range(4)]))


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("pooling", ["max", "mean", "last"])
def test_fast_cpu_inference_equals_the_module(cell, bidirectional, pooling):
    from seqtool.classify import infer

    torch.manual_seed(0)
    rng = random.Random(1)
    cfg = ClassifierConfig(vocab_size=50, num_classes=3, num_ngrams=30, cell=cell, bidirectional=bidirectional,
                           pooling=pooling, hidden=8, emb=6, nb_scale=True)
    model = RNNClassifier(cfg).eval()
    torch.nn.init.normal_(model.ngram.weight)
    model.ngram_scale.uniform_(0.5, 2.0)
    tokens = [[rng.randrange(3, 50) for _ in range(rng.randint(1, 12))] for _ in range(17)]
    grams = [sorted({rng.randrange(30) for _ in range(rng.randint(0, 4))}) for _ in tokens]
    with torch.no_grad():
        expected = model(*collate(Encoded(tokens, grams), range(17), cfg.pad_id))
    assert infer.supported(model, "cpu")
    torch.testing.assert_close(infer.batch_logits(model, tokens, grams), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(predict_logits(model, Encoded(tokens, grams)), expected, atol=1e-5, rtol=1e-5)
