"""seqtool classify through the CLI: output formats, streaming, errors."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys

import pytest
import torch

from seqtool.classify.api import train_model
from seqtool.classify.train import TrainOptions
from seqtool.core.store import ModelStore

from .test_classify_model import separable

torch.set_num_threads(1)

TINY = dict(arch="rnn", hidden=12, emb=12, batch_size=8, lr=0.02, device="cpu", seed=3)


@pytest.fixture
def tiny_tsv(tmp_path):
    data = separable(48)
    path = tmp_path / "tiny.tsv"
    path.write_text("label\ttext\n" + "".join(f"{lab}\t{text}\n" for lab, text in zip(data.labels, data.texts)))
    return path


@pytest.fixture
def trained(tiny_tsv):
    # The best held-out epoch (no refit): with 4 held-out examples the refit's epoch count is
    # chance, and these tests need a model known to label their phrases right.
    train_model(str(tiny_tsv), opts=TrainOptions(epochs=8, patience=8, refit=False, **TINY), name="tiny")
    return "tiny"


def test_train_cli_json_lines_and_store_entry(cli, tiny_tsv):
    result = cli("classify", "train", tiny_tsv, "--epochs", "2", "--hidden", "8", "--emb", "8", "--device", "cpu",
                 "--name", "t", "--json")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    done = rows[-1]
    assert done["event"] == "done" and done["model"] == "t" and done["classes"] == 2
    # The default rnn+cnn+linear: two early-stopping epochs of each member, then each member's
    # refit on all 48 examples for its own best epoch count (the done line gives the longest).
    members = ("rnn", "cnn", "linear")
    early = [(r["event"], r["member"]) for r in rows[:-1] if not r.get("refit")]
    assert early == [("epoch", m) for m in members for _ in range(2)]
    refits = [r["member"] for r in rows[:-1] if r.get("refit")]
    assert refits == [m for m in members for _ in range(refits.count(m))] and set(refits) == set(members)
    assert max(map(refits.count, members)) == done["refit_epochs"] >= done["best_epoch"] >= 1
    info = ModelStore().open("t", ("classifier",))
    assert info.config["training"]["data"]["examples"] + info.config["training"]["valid"]["examples"] == 48
    assert {p.name for p in info.path.iterdir()} >= {"model.safetensors", "vocab.json", "ngrams.json",
                                                     "labels.json", "config.json"}
    # The flags reach the recipe; every other option keeps its default.
    assert info.config["training"]["options"] == TrainOptions(epochs=2, hidden=8, emb=8, device="cpu").to_dict()


def test_train_and_cv_take_the_same_recipe_options():
    import inspect

    from seqtool.cli import classify as commands

    recipe = set(inspect.signature(commands._recipe).parameters)
    assert {"word_dropout", "refit", "seed", "epochs"} <= recipe
    for command in (commands.train, commands.cv):
        params = inspect.signature(command).parameters
        assert recipe - {"force"} <= set(params) and "opts" not in params
    # --force is about storing a model, which cv does not do.
    assert "force" in inspect.signature(commands.train).parameters
    assert "force" not in inspect.signature(commands.cv).parameters


def test_predict_keeps_order_and_formats(cli, trained):
    lines = ["the movie was great", "awful plot", "", "nice actors", "horrible and bad"]
    result = cli("classify", "predict", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == ["pos", "neg", "", "pos", "neg"]
    result = cli("classify", "predict", "--prob", "--top-k", "2", input="great\nawful\n")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ["pos", "neg"] and all(len(r) == 4 for r in rows)
    for r in rows:
        assert re.fullmatch(r"\d\.\d{4}", r[1]) and float(r[1]) >= float(r[3])
        assert float(r[1]) + float(r[3]) == pytest.approx(1.0, abs=2e-4)
    result = cli("classify", "predict", "--json", "--model", "tiny", input="great\n\n")
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["label"] == "pos" and 0.5 < first["prob"] <= 1 and second == {"label": None, "prob": None}


def test_predict_answers_each_line_before_the_stream_ends(trained, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-m", "seqtool", "classify", "predict", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        answers = []
        for line in (b"great film\n", b"awful film\n"):
            proc.stdin.write(line)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no answer while the input stream is still open"
            answers.append(proc.stdout.readline().strip())
        assert answers == [b"pos", b"neg"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_eval_json_matches_predictions(cli, trained, tmp_path):
    path = tmp_path / "test.jsonl"
    rows = [{"text": "great", "label": "pos"}, {"text": "awful", "label": "neg"}, {"text": "nice", "label": "neg"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("classify", "eval", path, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["labels"] == ["neg", "pos"] and report["total"] == 3
    assert report["confusion"] == [[1, 1], [0, 1]] and report["accuracy"] == pytest.approx(2 / 3)
    text = cli("classify", "eval", path).stdout
    assert text.startswith("accuracy\t0.6667\nmacro_f1\t0.6667") and "gold \\ predicted\t" in text  # TSV when piped (issue 18 item 8)


def test_cv_prints_each_fold_then_mean_and_std(cli, tiny_tsv):
    result = cli("classify", "cv", tiny_tsv, "--folds", "3", "--epochs", "1", "--hidden", "4", "--emb", "4",
                 "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines[:3]] == [["fold", "1"], ["fold", "2"], ["fold", "3"]]
    assert re.fullmatch(r"mean\taccuracy\t[01]\.\d{4}\tstd\t\d\.\d{4}\tmacro_f1\t[01]\.\d{4}\tstd\t\d\.\d{4}", lines[3])


@pytest.mark.parametrize("content,args,code,message", [
    ("label\ttext\npos\tgood\npos\tfine\n", (), 1, "only one class ('pos')"),
    ("label\ttext\npos\tgood\nneg\tbad\n", ("--label-col", "cls"), 1, "label column 'cls' does not exist"),
    ("label\ttext\npos\tgood\nneg\tbad\n", ("--format", "xml"), 2, "unknown format 'xml'"),
    ("__label__pos good\njust text\n", ("--format", "fasttext"), 1, "line 2: no label"),
    ("label\ttext\npos\tgood\nneg\t \n", (), 1, "line 3: empty text"),
])
def test_train_errors_are_one_line(cli, tmp_path, content, args, code, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    result = cli("classify", "train", path, "--device", "cpu", *args)
    assert result.exit_code == code
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_model_of_another_kind_and_no_model(cli):
    result = cli("classify", "predict", input="x\n")
    assert result.exit_code == 1 and "no classifier model found" in result.stderr
    with ModelStore().writer("ng", "ngram") as draft:
        draft.config["config"] = {}
    result = cli("classify", "predict", "--model", "ng", input="x\n")
    assert result.exit_code == 1 and "model 'ng' is an ngram model" in result.stderr


def test_resume_without_checkpoint_is_a_usage_error(cli, tiny_tsv):
    result = cli("classify", "train", tiny_tsv, "--resume", "--name", "none", "--device", "cpu")
    assert result.exit_code == 2 and "no checkpoint to resume" in result.stderr


def test_the_python_api_that_docs_show(tiny_tsv, tmp_path):
    from seqtool.classify import (ReadOptions, TrainOptions, cross_validate, evaluate_model, load_classifier,
                                  predict_texts, train_model)

    summary = train_model(str(tiny_tsv), opts=TrainOptions(epochs=8, patience=8, refit=False, **TINY), name="api")
    assert summary["model"] == "api" and summary["classes"] == 2 and 1 <= summary["best_epoch"] <= 8
    clf = load_classifier()  # the model just trained is the default
    assert clf.name == "api" and clf.labels == ["neg", "pos"]
    preds = predict_texts(clf, ["the movie was great", "", "awful plot"], top_k=2)
    assert [p.label for p in preds] == ["pos", None, "neg"]
    assert [label for label, _ in preds[0].top] == ["pos", "neg"] and preds[0].prob == preds[0].top[0][1] > 0.5
    test = tmp_path / "test.tsv"
    test.write_text("label\ttext\npos\tgreat\nneg\tawful\nneg\tnice\n")
    report = evaluate_model(str(test), name="api")
    assert report.confusion == [[1, 1], [0, 1]] and report.accuracy == pytest.approx(2 / 3)
    cv = cross_validate(str(tiny_tsv), folds=3, max_folds=1, read=ReadOptions(format="tsv"),
                        opts=TrainOptions(epochs=1, hidden=4, emb=4, device="cpu"))
    assert cv["folds_run"] == 1 and cv["per_fold"][0]["test_examples"] == 16


def test_importing_the_classify_package_does_not_import_torch():
    code = ("import sys, seqtool.classify as c; c.TrainOptions(); c.ReadOptions()\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_without_name_derives_it_from_the_data_and_says_so(cli, tiny_tsv):
    # issue 18 item 7: not always 'classifier'
    result = cli("classify", "train", tiny_tsv, "--epochs", "1", "--hidden", "4", "--emb", "4", "--device", "cpu",
                 "--no-refit")
    assert result.exit_code == 0, result.stderr
    assert "model name: 'tiny-classifier'" in result.stderr
    assert result.stdout.startswith("tiny-classifier\tvalid_accuracy\t")
    assert ModelStore().open("tiny-classifier", ("classifier",)).name == "tiny-classifier"
    assert not ModelStore().exists("classifier")


def test_json_figures_have_one_rounding(cli, tiny_tsv):
    # issue 18 item 20: the epoch line and the done line round alike
    result = cli("classify", "train", tiny_tsv, "--epochs", "2", "--hidden", "4", "--emb", "4", "--device", "cpu",
                 "--name", "r", "--json", "--valid-split", "0.3", "--arch", "rnn")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    floats = [v for row in rows for v in row.values() if isinstance(v, float)]
    assert floats and all(v == float(f"{v:.5g}") for v in floats)
    done = rows[-1]
    assert done["valid_accuracy"] == max(r["valid_accuracy"] for r in rows[:-1] if not r.get("refit"))
    assert done["valid_metric"] == "accuracy"  # single-label data


def test_an_interrupted_run_keeps_the_finished_classifier(tiny_tsv):
    # issue 19 item 1, for classify: a fresh run of the same name stopped mid-epoch publishes nothing
    from .test_classify_model import StopAfter

    first = train_model(str(tiny_tsv), opts=TrainOptions(epochs=2, patience=2, refit=False, **TINY), name="keep")
    assert first.published and first["epochs"] == 2
    before = ModelStore().open("keep", ("classifier",)).config
    with pytest.raises(Exception, match="interrupted"):
        train_model(str(tiny_tsv), opts=TrainOptions(epochs=5, patience=5, refit=False, **{**TINY, "seed": 9}),
                    name="keep", stop=StopAfter(7))  # past epoch 1's end: its better model is not published either
    after = ModelStore().open("keep", ("classifier",)).config
    assert after["created"] == before["created"] and after["training"]["options"]["seed"] == 3
    assert after["training"]["finished"] is True


def test_resume_takes_the_recipe_from_the_checkpoint(cli, tiny_tsv):
    from .test_classify_model import StopAfter

    opts = TrainOptions(epochs=3, patience=3, refit=False, **TINY)
    with pytest.raises(Exception, match="interrupted"):
        train_model(str(tiny_tsv), opts=opts, name="rec", stop=StopAfter(2))
    refused = cli("classify", "train", tiny_tsv, "--resume", "--name", "rec", "--lr", "1")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "--lr 1 (the run has 0.02)" in refused.stderr
    resumed = cli("classify", "train", tiny_tsv, "--resume", "--name", "rec", "--json")
    assert resumed.exit_code == 0, resumed.stderr
    info = ModelStore().open("rec", ("classifier",)).config
    # hidden 12, lr 0.02, ... although no flag said so; the device is this call's
    assert info["training"]["options"] == {**opts.to_dict(), "device": "auto"}
    assert json.loads(resumed.stdout.splitlines()[-1])["epochs"] == 3


def test_resuming_a_finished_refit_says_why_it_cannot_be_extended(cli, tiny_tsv):
    args = ["--epochs", "1", "--hidden", "4", "--emb", "4", "--device", "cpu", "--name", "rf"]
    assert cli("classify", "train", tiny_tsv, *args).exit_code == 0
    again = cli("classify", "train", tiny_tsv, *args[2:], "--epochs", "2", "--resume")
    assert again.exit_code == 2 and again.stderr.count("\n") == 1
    assert "a refit cannot be extended" in again.stderr and "larger --epochs" not in again.stderr
