"""Training: learning, saving, exact resume, Ctrl-C, devices, embeddings, reports, CLI."""

import json
import math
import random

import numpy as np
import pytest
import torch

from seqtool.core.device import resolve_device
from seqtool.core.errors import Interrupted, StoreError, UsageError
from seqtool.core.store import ModelStore
from seqtool.training.checkpoint import load_checkpoint
from seqtool.lm.data import unigram_perplexity
from seqtool.lm.store import load_torch_lm, open_lm
from seqtool.lm.options import resolve_options
from seqtool.lm.api import train_lm
from seqtool.training.runtime import StopFlag

torch.set_num_threads(1)

SUBJECTS = ["the cat", "a dog", "the old man", "my friend", "the bird"]
VERBS = ["sees", "likes", "eats", "finds"]
OBJECTS = ["the fish", "a ball", "the red apple", "some bread"]


def tiny_corpus(path, lines=260, seed=0):
    rng = random.Random(seed)
    text = "".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} .\n" for _ in range(lines))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    return tiny_corpus(tmp_path / "tiny.txt")


def small(corpus, **kw):
    base = dict(corpus=[str(corpus)], cell="lstm", layers=1, emb=16, hidden=16, dropout=0.1, bptt=10,
                batch_size=8, epochs=1, seed=3, device="cpu", name="tiny")
    base.update(kw)
    return resolve_options(base)


def test_one_epoch_beats_the_unigram_perplexity(tmp_path):
    corpus = tiny_corpus(tmp_path / "tiny.txt", lines=600)
    result = train_lm(small(corpus, optimizer="adam", lr=0.02, batch_size=4, bptt=8))
    stored = open_lm("tiny")
    from seqtool.lm.data import build_corpus
    from seqtool.core.io import expand_inputs

    data = build_corpus(expand_inputs([str(corpus)]), "word", hold_out=0.05)
    unigram = unigram_perplexity(data.train, data.valid, len(data.vocab))
    assert unigram > 10
    # the grammar leaves ~3-5 choices per position: an LM must get far below the unigram
    assert result.best_valid_ppl < 0.5 * unigram
    metrics = stored.info.config["metrics"]
    assert metrics["valid_ppl"] == pytest.approx(result.best_valid_ppl, rel=1e-3)
    lines = (stored.info.path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["epoch"] == 1


def test_save_load_gives_the_same_logits(corpus):
    result = train_lm(small(corpus, cell="gru", tie=False, emb=12, epochs=1))
    model = load_torch_lm(open_lm("tiny"))
    from seqtool.lm.model import LMConfig, RNNLM

    # the published weights are the best (here: the last) epoch's
    reference = RNNLM(LMConfig.from_dict(open_lm("tiny").model_config))
    reference.load_state_dict(result.final_state)
    reference.eval()
    x = torch.tensor([[1, 2, 3, 4, 5]]).t()
    with torch.no_grad():
        a, _ = model(x, model.init_hidden(1))
        b, _ = reference(x, reference.init_hidden(1))
    assert torch.equal(a, b)


def test_resume_gives_the_same_final_weights_as_an_uninterrupted_run(corpus):
    common = dict(optimizer="adam", lr=0.005, dropout=0.3, epochs=2, layers=2)
    full = train_lm(small(corpus, name="full", **common))
    # the same run, stopped twice mid-epoch (checkpointed as on Ctrl-C) and resumed
    first = train_lm(small(corpus, name="cut", max_steps=7, **common))
    assert first.status == "stopped"
    ckpt = load_checkpoint(ModelStore().checkpoint_dir("cut"))
    assert ckpt["position"] == {"epoch": 1, "batch": 7, "step": 7}
    second = train_lm(small(corpus, name="cut", resume=True, max_steps=20, **common))
    assert second.status == "stopped"
    last = train_lm(small(corpus, name="cut", resume=True, **common))
    assert last.status == "finished"
    assert full.final_state.keys() == last.final_state.keys()
    for key, value in full.final_state.items():
        assert torch.equal(value, last.final_state[key]), key
    assert [r["valid_ppl"] for r in full.records] == [r["valid_ppl"] for r in last.records]


def test_extending_a_finished_run_matches_the_longer_run_even_after_a_test_evaluation(corpus):
    # The --test evaluation at the end builds a model; that must not move the random
    # stream the checkpoint carries into the extension.
    common = dict(optimizer="adam", lr=0.005, dropout=0.3, test=str(corpus))
    full = train_lm(small(corpus, name="long", epochs=2, **common))
    train_lm(small(corpus, name="grown", epochs=1, **common))
    grown = train_lm(small(corpus, name="grown", epochs=2, resume=True, **common))
    for key, value in full.final_state.items():
        assert torch.equal(value, grown.final_state[key]), key


def test_stop_flag_saves_and_exits_130(corpus):
    flag = StopFlag()
    flag.requested = True  # as if Ctrl-C arrived during the first batch
    with pytest.raises(Interrupted) as info:
        train_lm(small(corpus, name="ctrlc"), stop=flag)
    assert info.value.exit_code == 130
    assert "--resume" in info.value.message and "\n" not in info.value.message
    ckpt = load_checkpoint(ModelStore().checkpoint_dir("ctrlc"))
    assert ckpt["position"]["step"] == 1
    assert open_lm("ctrlc").name == "ctrlc"  # something usable was published


def test_training_holds_the_name_lock(corpus):
    with ModelStore().lock("busy"):
        with pytest.raises(StoreError, match="in use"):
            train_lm(small(corpus, name="busy"))


def test_resume_without_checkpoint_is_a_clear_error(corpus):
    with pytest.raises(UsageError, match="no checkpoint"):
        train_lm(small(corpus, name="never", resume=True))


def test_device_selection_logic():
    assert resolve_device("auto", cuda_available=lambda: False, cuda_count=lambda: 0) == "cpu"
    assert resolve_device("auto", cuda_available=lambda: True, cuda_count=lambda: 1) == "cuda"
    assert resolve_device("cuda:1", cuda_available=lambda: True, cuda_count=lambda: 2) == "cuda:1"
    with pytest.raises(UsageError):
        resolve_device("cuda", cuda_available=lambda: False, cuda_count=lambda: 0)
    with pytest.raises(UsageError):
        resolve_device("tpu")


def test_training_places_everything_on_the_chosen_device(corpus, monkeypatch):
    seen = []
    from seqtool.lm import train as lmtrain

    original = lmtrain.evaluate

    def spy(model, data, bptt, amp_dtype=None):
        seen.append((data.device.type, next(model.parameters()).device.type, amp_dtype))
        return original(model, data, bptt, amp_dtype)

    monkeypatch.setattr(lmtrain, "evaluate", spy)
    monkeypatch.setattr(lmtrain, "resolve_device", lambda spec: "cpu")  # what "auto" gives without a GPU
    train_lm(small(corpus, device="auto"))
    assert seen == [("cpu", "cpu", None)]


def test_pretrained_embeddings_initialise_rows_and_report_coverage():
    from seqtool.core.vocab import Vocab
    from seqtool.vectors.embedding import init_embedding
    from seqtool.vectors import Vectors

    vocab = Vocab.build({"cat": 3, "Dog": 2, "zebra": 1})
    vectors = Vectors(["cat", "dog", "fish"], np.arange(9, dtype=np.float32).reshape(3, 3))
    weight = torch.zeros(len(vocab), 3)
    coverage = init_embedding(weight, vocab, vectors)
    assert coverage == pytest.approx(2 / 3)  # cat exactly, Dog via its lower-case form
    assert weight[vocab.id("cat")].tolist() == [0, 1, 2]
    assert weight[vocab.id("Dog")].tolist() == [3, 4, 5]
    assert weight[vocab.id("zebra")].tolist() == [0, 0, 0]
    with pytest.raises(UsageError, match="dimension 3"):
        init_embedding(torch.zeros(len(vocab), 4), vocab, vectors)


def test_cli_train_with_frozen_embeddings_and_plot(cli, corpus, tmp_path, monkeypatch):
    from seqtool import vectors as vectors_module
    from seqtool.vectors import Vectors

    monkeypatch.setattr(vectors_module, "load_vectors",
                        lambda spec, **kw: Vectors(["the", "cat", "dog"], np.ones((3, 6), np.float32)))
    plot = tmp_path / "curve.png"
    result = cli("train-lm", corpus, "--embeddings", "fake.vec", "--freeze", "--hidden", "8", "--layers", "1",
                 "--epochs", "1", "--bptt", "10", "--batch-size", "8", "--seed", "1", "--name", "emb",
                 "--device", "cpu", "--plot", plot, "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["epoch", "done"]
    assert "of the" in result.stderr and "vocabulary words found in fake.vec (frozen)" in result.stderr
    assert "holding out the last 5%" in result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = load_torch_lm(open_lm("emb"))
    assert model.config.emb == 6 and not model.config.tie
    assert torch.equal(model.embed.weight[open_lm("emb").vocab.id("cat")], torch.ones(6))  # frozen


def test_cli_eval_prints_perplexity_and_errors(cli, corpus, tmp_path):
    assert cli("train-lm", corpus, "--layers", "1", "--hidden", "8", "--emb", "8", "--epochs", "1",
               "--seed", "1", "--name", "ev", "--device", "cpu").exit_code == 0
    result = cli("train-lm", "--eval", corpus, "--model", "ev")
    assert result.exit_code == 0, result.stderr
    path, tokens, ppl = result.stdout.strip().split("\t")
    assert path == str(corpus) and int(tokens) > 1000 and 1 < float(ppl) < 30
    as_json = json.loads(cli("train-lm", "--eval", corpus, "--json").stdout)
    assert as_json["model"] == "ev" and math.isclose(as_json["perplexity"], float(ppl), abs_tol=0.01)
    missing = cli("train-lm", "--eval", corpus, "--model", "nope")
    assert missing.exit_code == 1 and "not found" in missing.stderr
    bad = cli("train-lm", corpus, "--cell", "transformer", "--name", "x")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "unknown --cell" in bad.stderr
    nofile = cli("train-lm", tmp_path / "absent.txt")
    assert nofile.exit_code == 1 and "no such file" in nofile.stderr


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, seqtool_home):
    import os
    import signal
    import subprocess
    import sys

    corpus = tiny_corpus(tmp_path / "tiny.txt", lines=3000)
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQTOOL_HOME=str(seqtool_home))
    args = [sys.executable, "-m", "seqtool", "train-lm", str(corpus), "--layers", "1", "--hidden", "16",
            "--emb", "16", "--bptt", "5", "--batch-size", "2", "--epochs", "50", "--seed", "1",
            "--device", "cpu", "--name", "sig"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    first = proc.stderr.readline()  # printed once the data is read, inside the training session
    assert "holding out" in first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqtool: error: interrupted at epoch 1, batch")
    assert "--resume --name sig" in lines[0]
    ckpt = load_checkpoint(seqtool_home / "checkpoints" / "sig")
    assert ckpt["position"]["epoch"] == 1 and ckpt["position"]["batch"] >= 1


def test_an_interrupted_new_run_never_replaces_a_finished_model(cli, corpus, seqtool_home):
    # issue 19 item 1: epochs 1 finished; a new run of the same name stopped at batch 1 (as on
    # SIGINT/SIGTERM) must leave that model, and its previous version, where they are.
    first = train_lm(small(corpus, name="lt", epochs=1))
    assert first.status == "finished" and first.published
    versions = sorted(p.name for p in (seqtool_home / "models" / ".versions").iterdir())
    flag = StopFlag()
    flag.requested = True
    with pytest.raises(Interrupted):
        train_lm(small(corpus, name="lt", seed=2, epochs=3), stop=flag)
    shown = json.loads(cli("models", "show", "lt", "--json").stdout)
    assert shown["metrics"]["epochs"] == 1
    assert shown["metrics"]["valid_ppl"] == pytest.approx(first.best_valid_ppl)
    assert shown["training"]["finished"] is True and shown["training"]["seed"] == 3
    assert sorted(p.name for p in (seqtool_home / "models" / ".versions").iterdir()) == versions
    # ... nor a run cut short by max_steps; an explicit --publish-partial may
    stopped = train_lm(small(corpus, name="lt", seed=2, epochs=3, max_steps=2))
    assert stopped.status == "stopped" and not stopped.published
    partial = train_lm(small(corpus, name="lt", seed=2, epochs=3, max_steps=2, publish_partial=True))
    assert partial.published and open_lm("lt").info.config["training"]["finished"] is False
    # and a finished run replaces it again
    assert train_lm(small(corpus, name="lt", seed=2, epochs=1)).published


def test_resume_keeps_the_whole_recipe_and_refuses_to_change_it(cli, corpus):
    # issue 18 item 2: the preset's 40 epochs survive --resume; a recipe flag is refused in one line
    args = ["--layers", "1", "--hidden", "8", "--emb", "8", "--bptt", "10", "--batch-size", "8", "--seed", "1",
            "--device", "cpu", "--name", "pr"]
    assert cli("train-lm", corpus, "--preset", "ptb-small", *args, "--max-steps", "2").exit_code == 0
    saved = load_checkpoint(ModelStore().checkpoint_dir("pr"))
    assert saved["options"]["epochs"] == 40 and saved["options"]["optimizer"] == "sgd"
    again = cli("train-lm", "--resume", "--name", "pr", "--max-steps", "1")
    assert again.exit_code == 0, again.stderr
    resumed = load_checkpoint(ModelStore().checkpoint_dir("pr"))
    assert resumed["options"]["epochs"] == 40 and resumed["options"]["layers"] == 1
    assert resumed["position"]["step"] == 3
    refused = cli("train-lm", "--resume", "--name", "pr", "--lr", "1", "--cell", "gru")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "--lr 1 (the run has 20)" in refused.stderr and "--cell gru (the run has lstm)" in refused.stderr
    same = cli("train-lm", corpus, "--resume", *args, "--max-steps", "1")  # the same values again: fine
    assert same.exit_code == 0, same.stderr
    longer = cli("train-lm", "--resume", "--name", "pr", "--epochs", "41", "--max-steps", "1")
    assert longer.exit_code == 0 and load_checkpoint(ModelStore().checkpoint_dir("pr"))["options"]["epochs"] == 41


def test_resume_of_an_unknown_name_lists_the_models_with_checkpoints(cli, corpus):
    # issue 18 item 13
    assert cli("train-lm", corpus, "--layers", "1", "--hidden", "8", "--emb", "8", "--device", "cpu",
               "--name", "has-one", "--max-steps", "1").exit_code == 0
    result = cli("train-lm", "--resume", "--name", "nosuch")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "no checkpoint to resume for model 'nosuch'" in result.stderr and "models with a checkpoint: has-one" in result.stderr
    assert "give --name" not in result.stderr


@pytest.mark.parametrize("plot,message", [("text.png", "is the input"), ("curve.txt", "unsupported file type"),
                                          ("nodir/curve.png", "does not exist")])
def test_plot_is_checked_before_any_work(cli, tmp_path, plot, message):
    # issue 19 items 4 and 12, issue 18 item 10: refused before training, the corpus untouched
    corpus = tiny_corpus(tmp_path / "text.png")  # a corpus that an unchecked --plot text.png would replace
    before = corpus.read_bytes()
    target = tmp_path / plot
    result = cli("train-lm", corpus, "--layers", "1", "--hidden", "8", "--emb", "8", "--device", "cpu",
                 "--name", "pl", "--plot", target)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert corpus.read_bytes() == before
    assert not (ModelStore().models / "pl").exists()  # nothing trained, nothing stored


def test_plot_format_follows_the_suffix_and_json_figures_are_rounded_once(cli, corpus, tmp_path):
    svg = tmp_path / "curve.svg"
    result = cli("train-lm", corpus, "--layers", "1", "--hidden", "8", "--emb", "8", "--epochs", "1", "--seed", "1",
                 "--device", "cpu", "--name", "sv", "--plot", svg, "--json")
    assert result.exit_code == 0, result.stderr
    assert b"<svg" in svg.read_bytes()[:400]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    floats = [v for line in lines for v in line.values() if isinstance(v, float)]
    assert floats and all(v == float(f"{v:.5g}") for v in floats)  # issue 18 item 20
