"""train-lm --schedule linear, the cpu-hour preset, and the options field as_json (issue 16)."""

import json
import types

import pytest
import torch

from seqtool.lm import train as lm_train
from seqtool.lm.api import train_lm
from seqtool.lm.options import PRESETS, TrainOptions, preset_help, resolve_options

from .test_lm_train import tiny_corpus

torch.set_num_threads(1)


def small(corpus, **kw):
    base = dict(corpus=[str(corpus)], cell="lstm", layers=1, emb=16, hidden=16, dropout=0.1, bptt=10,
                batch_size=8, epochs=2, seed=3, device="cpu", name="sched", optimizer="sgd", lr=4.0)
    base.update(kw)
    return resolve_options(base)


def test_linear_schedule_decays_the_lr_to_zero_over_the_epochs(tmp_path):
    corpus = tiny_corpus(tmp_path / "c.txt")
    result = train_lm(small(corpus, schedule="linear", epochs=3))
    batches = result.records[0]["step"]  # steps per epoch
    assert batches > 3 and [r["step"] for r in result.records] == [batches, 2 * batches, 3 * batches]
    for r in result.records:
        # the lr of the epoch's last step: 4 * (1 - (steps before it) / (3 epochs of steps))
        assert r["lr"] == pytest.approx(4.0 * (1 - (r["step"] - 1) / (3 * batches)), rel=2e-4)
    assert result.records[-1]["lr"] < 4.0 / batches


def test_plateau_schedule_keeps_the_lr_through_improving_epochs(tmp_path):
    corpus = tiny_corpus(tmp_path / "c.txt")
    result = train_lm(small(corpus, epochs=2))
    assert all(r["best"] for r in result.records)
    assert [r["lr"] for r in result.records] == [4.0, 4.0]  # the default schedule is unchanged


def test_budget_used_is_the_larger_of_epochs_and_time(monkeypatch):
    task = types.SimpleNamespace(epoch=1, starts=list(range(10)), started=100.0,
                                 opts=types.SimpleNamespace(epochs=4, max_time=None))
    used = lm_train.LMTask.budget_used
    assert used(task, 5) == pytest.approx(1.5 / 4)
    task.opts.max_time = 60.0
    monkeypatch.setattr(lm_train.time, "monotonic", lambda: 130.0)  # half of --max-time gone
    assert used(task, 5) == pytest.approx(0.5)
    monkeypatch.setattr(lm_train.time, "monotonic", lambda: 110.0)
    assert used(task, 5) == pytest.approx(1.5 / 4)
    monkeypatch.setattr(lm_train.time, "monotonic", lambda: 1000.0)
    assert used(task, 5) == 1.0


def test_cpu_hour_preset_is_an_hour_of_a_linear_schedule_and_every_value_gives_way():
    opts = resolve_options({"corpus": ["c.txt"]}, "cpu-hour")
    assert (opts.schedule, opts.max_time, opts.softmax, opts.optimizer) == ("linear", 3600.0, "auto", "sgd")
    assert (opts.emb, opts.hidden, opts.tie) == (400, 400, True)
    # the regularization that reached PTB test 82.41 in an hour (docs/train-lm.md)
    assert (opts.dropout_in, opts.dropout_hidden, opts.dropout_out, opts.dropout_emb, opts.weight_drop) == \
        (0.4, 0.25, 0.4, 0.1, 0.35)
    mine = resolve_options({"corpus": ["c.txt"], "max_time": 300.0, "hidden": 256, "emb": 256}, "cpu-hour")
    assert (mine.max_time, mine.hidden, mine.dropout_in) == (300.0, 256, PRESETS["cpu-hour"]["dropout_in"])
    text = preset_help()
    assert "cpu-hour:" in text and "--max-time 60m" in text and "--schedule linear" in text
    assert "--dropout-in 0.4 --dropout-hidden 0.25 --dropout-out 0.4 --dropout-emb 0.1 --weight-drop 0.35" in text
    assert "_" not in text.replace("ptb-small", "")


def test_cli_help_shows_schedule_and_the_cpu_hour_preset(cli):
    out = cli("train-lm", "--help").stdout
    assert "--schedule" in out and "cpu-hour" in out and "--json" in out and "--as-json" not in out


def test_the_json_field_is_as_json_and_old_checkpoints_still_read():
    assert "as_json" in {f for f in TrainOptions.__dataclass_fields__} and "json" not in TrainOptions.__dataclass_fields__
    old = TrainOptions(corpus=["c.txt"]).to_dict()
    old["json"] = old.pop("as_json") or True
    assert TrainOptions.from_dict(old).as_json is True


def test_cli_json_flag_still_writes_json_lines(cli, tmp_path):
    corpus = tiny_corpus(tmp_path / "c.txt")
    result = cli("train-lm", corpus, "--layers", "1", "--hidden", "8", "--emb", "8", "--epochs", "1", "--bptt", "10",
                 "--batch-size", "8", "--seed", "1", "--device", "cpu", "--json", "--schedule", "linear")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["event"] == "epoch" and lines[-1]["event"] == "done"
    stored = json.loads(cli("models", "show", "c", "--json").stdout)
    assert "as_json" not in json.dumps(stored.get("training", {}).get("options", {}))
