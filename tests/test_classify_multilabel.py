"""classify's fastText habits: multi-label data and one-vs-all training, P@K / R@K as
`fasttext test` counts them, predict-prob's --k/--threshold, --max-time and --threads."""

from __future__ import annotations

import json
import random
import re

import pytest
import torch

from seqtool.classify.api import evaluate_model, train_model
from seqtool.classify.data import Dataset, ReadOptions, read_dataset
from seqtool.classify.options import TrainOptions
from seqtool.classify.topk import at_k, select
from seqtool.core.errors import InputError, UsageError
from seqtool.core.store import ModelStore

torch.set_num_threads(1)

TOPIC_WORDS = {"sports": ["goal", "match", "team"], "politics": ["vote", "law", "party"],
               "tech": ["code", "chip", "app"]}
FILLER = ["the", "a", "today", "news", "big", "new", "report", "story"]
TINY = dict(arch="rnn", hidden=8, emb=8, batch_size=8, lr=0.03, device="cpu", seed=1)


def topics(n: int, seed: int = 0) -> list[tuple[list[str], str]]:
    """(labels, text): each topic present exactly when one of its words is."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        labels = sorted(rng.sample(sorted(TOPIC_WORDS), rng.choice([1, 1, 2, 3])))
        words = [rng.choice(TOPIC_WORDS[x]) for x in labels] + rng.sample(FILLER, 3)
        rng.shuffle(words)
        out.append((labels, " ".join(words)))
    return out


def write_fasttext(path, rows) -> None:
    path.write_text("".join(" ".join("__label__" + x for x in labels) + " " + text + "\n" for labels, text in rows))


# ----------------------------------------------------------------------------- reading
def test_every_format_reads_several_labels_and_single_label_data_stays_as_it_was(tmp_path):
    ft = tmp_path / "a.ft"
    ft.write_text("__label__x __label__y both here\n__label__y only y\n")
    tsv = tmp_path / "a.tsv"
    tsv.write_text("label\ttext\nx,y\tboth here\ny\tonly y\n")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"labels": ["x", "y"], "text": "both here"}\n{"labels": "y", "text": "only y"}\n')
    for path in (ft, tsv, jsonl):
        data = read_dataset(str(path))
        assert data.multi_label and data.label_sets == [("x", "y"), ("y",)], path
        assert data.labels == ["x", "y"] and data.classes() == ["x", "y"]
        assert data.subset([1]).label_sets == [("y",)]
    # --label-sep '' keeps a comma in a label; single-label data has no label sets at all
    data = read_dataset(str(tsv), ReadOptions(label_sep=None))
    assert not data.multi_label and data.labels == ["x,y", "y"] and data.gold() == [("x,y",), ("y",)]
    # a label repeated on one line counts once (fastText would count it twice in R@K's denominator)
    ft.write_text("__label__x __label__x twice\n")
    assert read_dataset(str(ft)).labels == ["x"] and not read_dataset(str(ft)).multi_label
    tsv.write_text("label\ttext\nx,\tempty second label\n")
    with pytest.raises(InputError, match="line 2: empty label"):
        read_dataset(str(tsv))


# ----------------------------------------------------------------------------- P@K, R@K
def test_precision_and_recall_at_k_count_as_fasttexts_meter_on_a_hand_example():
    gold = [("a",), ("a", "b"), ("c",), ("zz",)]  # "zz" is unknown to the model: the example is skipped
    predicted = [["a", "b"], ["b"], [], ["a"]]  # fewer than K where the threshold cut
    found = at_k(gold, predicted, ["a", "b", "c"], k=2, threshold=0.3)
    # predicted 2 + 1 + 0 = 3, gold 1 + 2 + 1 = 4, right: a (ex. 1), b (ex. 2) = 2
    assert (found.examples, found.predicted, found.gold, found.predicted_gold) == (3, 3, 4, 2)
    assert found.precision == pytest.approx(2 / 3) and found.recall == pytest.approx(2 / 4)  # not 2 / (K * N)
    by = {c["label"]: c for c in found.per_label}
    assert (by["b"]["precision"], by["b"]["recall"], by["b"]["support"], by["b"]["predicted"]) == (0.5, 1.0, 1, 2)
    assert by["c"]["f1"] == 0.0 and by["a"]["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert at_k([("a",)], [[]], ["a"], k=1, threshold=0.9).precision is None  # fastText: nan


def test_select_is_predict_probs_top_k_above_the_threshold():
    probs = [0.1, 0.5, 0.3, 0.5]
    assert select(probs, 2) == [(1, 0.5), (3, 0.5)]  # ties: the lower index first
    assert select(probs, -1, 0.3) == [(1, 0.5), (3, 0.5), (2, 0.3)]  # >= threshold
    assert select(probs, 1, 0.6) == []


fasttext = pytest.importorskip("fasttext")


def ft_predict(model, text: str, k: int, threshold: float) -> list[tuple[float, str]]:
    """fastText's predict-prob for one line, [(prob, label)]: the binding's own call. (Its list
    form, multilinePredict, repeats the first probability on every label under numpy 2, and the
    one-string form then fails on np.array(copy=False).)"""
    return model.f.predict(text + "\n", k, threshold, "strict")


@pytest.fixture(scope="module")
def ft_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft")
    train, test = root / "train.ft", root / "test.ft"
    write_fasttext(train, topics(300, seed=0))
    write_fasttext(test, topics(60, seed=1) + [(["unseen"], "a label the model never saw")])
    model = fasttext.train_supervised(str(train), loss="ova", epoch=10, lr=0.3, seed=1, thread=1, verbose=0)
    return train, test, model


@pytest.mark.parametrize("k,threshold", [(1, 0.0), (2, 0.0), (3, 0.0), (-1, 0.5), (5, 0.3), (2, 0.8),
                                         (1, 1.0)])
def test_at_k_equals_fasttexts_test_on_fasttexts_own_predictions(ft_files, k, threshold):
    _, test, model = ft_files
    data = read_dataset(str(test))
    predicted = [[x[len("__label__"):] for _, x in ft_predict(model, text, k, threshold)] for text in data.texts]
    known = [x[len("__label__"):] for x in model.labels]
    found = at_k(data.gold(), predicted, known, k=k, threshold=threshold)
    n, p, r = model.test(str(test), k=k, threshold=threshold)
    assert found.examples == n == 60  # the line with an unknown label is not counted
    if p != p:  # nothing predicted: fastText's nan, our None
        assert found.predicted == 0 and found.precision is None and found.recall == r == 0.0
        return
    assert found.precision == pytest.approx(p, abs=1e-12) and found.recall == pytest.approx(r, abs=1e-12)
    assert 0 < found.predicted_gold <= found.gold
    # Per label there is no peer to ask: fasttext-wheel's test_label here reports recall nan and
    # F1 above 1 (e.g. precision 0.56, recall nan, f1score 1.12); the hand example above checks ours.


@pytest.mark.parametrize("k,threshold", [(1, 0.0), (2, 0.2), (-1, 0.3), (3, 0.4)])
def test_select_gives_fasttexts_predict_on_its_probabilities(ft_files, k, threshold):
    _, test, model = ft_files
    compared = 0
    for text in read_dataset(str(test)).texts:
        everything = dict((label, p) for p, label in ft_predict(model, text, -1, 0.0))
        want = [label for _, label in ft_predict(model, text, k, threshold)]
        order = sorted(everything)  # one fixed label order, as a seqtool model has
        vector = [everything[x] for x in order]
        if len(set(vector)) < len(vector):
            continue  # a tie: fastText's heap orders those by label id
        compared += 1
        assert [order[j] for j, _ in select(vector, k, threshold)] == list(want)
    assert compared >= 30


# ----------------------------------------------------------------------------- one-vs-all training
@pytest.fixture
def tagger(tmp_path):
    train, test = tmp_path / "train.ft", tmp_path / "test.ft"
    write_fasttext(train, topics(240, seed=0))
    write_fasttext(test, topics(60, seed=1))
    summary = train_model(str(train), opts=TrainOptions(epochs=12, patience=12, refit=False, **TINY), name="tagger")
    return summary, train, test


def test_multi_label_data_trains_one_vs_all_and_stores_the_flag(tagger):
    summary, _, test = tagger
    info = ModelStore().open("tagger", ("classifier",))
    assert info.config["config"]["model"]["multi_label"] is True
    assert summary.valid_accuracy > 0.9  # micro-F1 at threshold 0.5 on the held-out split
    assert summary.valid_metric == "micro_f1" and summary.to_dict()["valid_metric"] == "micro_f1"
    report = evaluate_model(str(test), name="tagger")  # every label with sigmoid >= 0.5
    assert report.at_k.k == -1 and report.at_k.threshold == 0.5
    assert report.at_k.precision > 0.9 and report.at_k.recall > 0.9 and report.accuracy > 0.8
    assert {c["label"] for c in report.per_class} == set(TOPIC_WORDS) and report.macro_f1 > 0.85
    one = evaluate_model(str(test), name="tagger", k=1, threshold=0.0)  # fastText's test defaults
    assert one.at_k.predicted == 60 and one.at_k.gold == report.at_k.gold


def test_multi_label_predict_and_eval_through_the_cli(cli, tagger):
    result = cli("classify", "predict", "--model", "tagger", "--prob", "--k", "-1", "--threshold", "0.5",
                 input="the goal big vote news\ncode today a\n\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.split("\n")
    first = lines[0].split("\t")
    assert sorted(first[0::2]) == ["politics", "sports"] and all(float(p) >= 0.5 for p in first[1::2])
    assert lines[1].split("\t")[0] == "tech" and len(lines[1].split("\t")) == 2 and lines[2] == ""
    result = cli("classify", "predict", "--model", "tagger", "--json", "--threshold", "0.99999999",
                 input="the news\n")
    assert json.loads(result.stdout) == {"label": None, "prob": None, "top": []}  # nothing reaches P
    _, _, test = tagger
    text = cli("classify", "eval", test, "--model", "tagger").stdout
    head = "\n".join(f"{name}\t[01]\\.\\d{{4}}" for name in ("accuracy", "macro_f1", "micro_f1"))
    assert re.match(head + r"\nexamples\t60\nP@all\t[01]\.\d{4}\nR@all\t[01]\.\d{4}\n\n"
                    r"label\tprecision\trecall\tf1\tsupport\tpredicted\n", text), text
    assert len(text.strip().splitlines()) == 6 + 1 + 1 + 3  # figures, blank, header, a row per label: no confusion
    report = json.loads(cli("classify", "eval", test, "--model", "tagger", "--json", "--k", "2").stdout)
    assert report["multi_label"] is True and report["k"] == 2 and report["examples"] == 60
    assert report["predicted"] <= 120 and 0 < report["precision_at_k"] <= 1


def test_softmax_refuses_multi_label_data_and_a_softmax_model_refuses_it_in_eval(tmp_path, tagger):
    _, train, test = tagger
    with pytest.raises(UsageError, match="multi-label data .* needs --loss ova or auto"):
        train_model(str(train), opts=TrainOptions(epochs=1, loss="softmax", **TINY), name="soft")
    single = tmp_path / "single.tsv"
    single.write_text("".join(f"{labels[0]}\t{text}\n" for labels, text in topics(60)))
    train_model(str(single), opts=TrainOptions(epochs=1, **TINY), name="single")
    assert ModelStore().open("single", ("classifier",)).config["config"]["model"]["multi_label"] is False
    with pytest.raises(InputError, match="multi-label data, but model 'single' is a single-label"):
        evaluate_model(str(test), name="single")


def test_single_label_eval_adds_fastexts_p_and_r_at_k(cli, tmp_path):
    path = tmp_path / "single.tsv"
    path.write_text("".join(f"{labels[0]}\t{text}\n" for labels, text in topics(90)))
    train_model(str(path), opts=TrainOptions(epochs=6, patience=6, refit=False, **TINY), name="single")
    report = evaluate_model(str(path), name="single")
    # K = 1 with one gold label each: P@1 = R@1 = accuracy
    assert report.at_k.precision == pytest.approx(report.accuracy) == pytest.approx(report.at_k.recall)
    three = evaluate_model(str(path), name="single", k=3)  # every label predicted: R@3 = 1, P@3 = 1/3
    assert three.at_k.recall == 1.0 and three.at_k.precision == pytest.approx(1 / 3)
    text = cli("classify", "eval", path, "--model", "single", "--k", "2").stdout
    assert text.splitlines()[3].startswith("P@2\t") and text.splitlines()[4].startswith("R@2\t")


# ----------------------------------------------------------------------------- --max-time, --threads
def test_max_time_stops_the_run_keeps_the_best_model_and_skips_the_refit(cli, tmp_path):
    path = tmp_path / "single.tsv"
    path.write_text("".join(f"{labels[0]}\t{text}\n" for labels, text in topics(200)))
    result = cli("classify", "train", path, "--name", "quick", "--max-time", "1ms", "--epochs", "5",
                 "--hidden", "4", "--emb", "4", "--batch-size", "4", "--device", "cpu", "--json", "--arch", "rnn")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    done = rows[-1]
    assert done["status"] == "time-limit" and done["refit_epochs"] == 0 and done["epochs"] == 1
    assert "no refit" in result.stderr
    info = ModelStore().open("quick", ("classifier",))
    assert info.config["training"]["options"]["max_time"] == 0.001 and not info.config["training"]["finished"]
    # the checkpoint continues it
    result = cli("classify", "train", path, "--name", "quick", "--resume", "--device", "cpu", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] != "time-limit"
    with pytest.raises(UsageError, match="invalid duration"):
        TrainOptions(max_time="ten minutes")


def test_threads_sets_torchs_thread_count(cli, tmp_path):
    path = tmp_path / "single.tsv"
    path.write_text("".join(f"{labels[0]}\t{text}\n" for labels, text in topics(40)))
    before = torch.get_num_threads()
    try:
        result = cli("classify", "train", path, "--name", "th", "--threads", "2", "--epochs", "1",
                     "--hidden", "4", "--emb", "4", "--device", "cpu")
        assert result.exit_code == 0, result.stderr
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_ova_on_single_label_data_is_fasttexts_loss_ova(tmp_path):
    data = Dataset()
    for labels, text in topics(60):
        data.add(text, labels[0], "x")
    from seqtool.classify.train import build

    *_, cfg, _, _ = build(data, TrainOptions(loss="ova", **TINY))
    assert cfg.multi_label
    *_, cfg, _, _ = build(data, TrainOptions(**TINY))
    assert not cfg.multi_label
