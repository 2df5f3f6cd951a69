"""seqtool sample --json, -o FILE, --threads, and --model CHECKPOINT (issue 20, "sample")."""

import json
import math

import numpy as np
import pytest
import torch

from seqtool.core.store import ModelStore
from seqtool.core.vocab import EOS, Vocab
from seqtool.lm.model import LMConfig, RNNLM
from seqtool.lm.store import write_lm

torch.set_num_threads(1)

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def make_lm(name, *, softmax="full", seed=0, vocab_words=WORDS, cutoffs=None):
    torch.manual_seed(seed)
    vocab = Vocab.build({t: 1000 - i for i, t in enumerate(vocab_words)})
    config = LMConfig(vocab_size=len(vocab), cell="lstm", emb=8, hidden=8, layers=1, dropout=0.0, tie=False,
                      softmax=softmax, cutoffs=cutoffs)
    model = RNNLM(config).eval()
    with ModelStore().writer(name, "lm") as draft:
        write_lm(draft, model.export_tensors(), config.to_dict(), vocab, "word", training={}, metrics={})
    return model, vocab


def torch_logprob(model, vocab, prime_tokens, tokens):
    """log p(tokens | <EOS> prime) under the torch model: the answer computed another way."""
    ids = [vocab.stoi[EOS]] + vocab.encode(prime_tokens) + vocab.encode(tokens)
    x = torch.tensor(ids[:-1])[:, None]  # (T, 1)
    with torch.inference_mode():
        logits, _ = model(x, model.init_hidden(1, "cpu"))  # (T, 1, V) log-probs or logits
        logp = torch.log_softmax(logits[:, 0].double(), -1)
    n = len(tokens)
    return float(logp[-n:].gather(1, torch.tensor(ids[-n:])[:, None]).sum())


def records(result):
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_records_match_the_text_output_and_the_torch_log_probability(cli):
    model, vocab = make_lm("m")
    out = records(cli("sample", "--model", "m", "--json", "--num", "3", "--length", "12", "--seed", "5",
                      "--prime", "the cat"))
    assert [r["sample"] for r in out] == [0, 1, 2]
    assert all(set(r) == {"sample", "text", "tokens", "logprob", "model", "seed"} for r in out)
    assert all(r["model"] == "m" and r["seed"] == 5 and len(r["tokens"]) == 12 for r in out)
    for r in out:
        assert r["text"].startswith("the cat")
        assert r["logprob"] == pytest.approx(torch_logprob(model, vocab, ["the", "cat"], r["tokens"]), abs=1e-4)
        assert r["logprob"] < 0


def test_json_text_equals_the_plain_output_sample_by_sample(cli):
    make_lm("m", seed=3)
    args = ["sample", "--model", "m", "--num", "4", "--length", "9", "--seed", "11"]
    plain = cli(*args).stdout
    out = records(cli(*args, "--json"))
    assert plain == "\n".join(r["text"] + "\n" for r in out)


def test_json_log_probability_is_the_model_s_whatever_the_decoding_rule(cli):
    model, vocab = make_lm("m", seed=1)
    for extra in (["--temp", "0.5"], ["--top-k", "3"], ["--greedy"], ["--top-p", "0.8"]):
        (r,) = records(cli("sample", "--model", "m", "--json", "--length", "10", "--seed", "2", *extra))
        assert r["logprob"] == pytest.approx(torch_logprob(model, vocab, [], r["tokens"]), abs=1e-4), extra


def test_json_on_the_adaptive_two_stage_sampler_scores_exactly():
    # the numpy engine's head-then-cluster draw reports the same log-probability as torch
    from seqtool.lm.generate import open_generator, sample_records
    from seqtool.core.sampling import SamplingOptions

    words = [f"w{i}" for i in range(60)]
    model, vocab = make_lm("ada", softmax="adaptive", vocab_words=words, cutoffs=(10, 30), seed=4)
    gen = open_generator("ada")
    assert gen.stepper.adaptive is not None
    (r,) = sample_records(gen, prime=None, length=40, num=1, options=SamplingOptions(1.0),
                          rng=np.random.default_rng(0), seed=0)
    assert any(vocab.stoi[t] >= 10 for t in r.tokens)  # the tail clusters were drawn from
    assert r.logprob == pytest.approx(torch_logprob(model, vocab, [], r.tokens), abs=1e-4)


def test_json_without_seed_reports_the_seed_that_reproduces_it(cli):
    make_lm("m")
    (first,) = records(cli("sample", "--model", "m", "--json", "--length", "15"))
    assert isinstance(first["seed"], int)
    (again,) = records(cli("sample", "--model", "m", "--json", "--length", "15", "--seed", str(first["seed"])))
    assert again == first


def test_json_on_an_ngram_model_scores_sentences_as_the_model_does(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the cat\na dog ran\n" * 10, encoding="utf-8")
    assert cli("ngram", "train", corpus, "-n", "2", "--name", "bi").exit_code == 0
    out = records(cli("sample", "--model", "bi", "--json", "--until-eos", "--num", "3", "--seed", "4"))
    plain = cli("sample", "--model", "bi", "--until-eos", "--num", "3", "--seed", "4").stdout
    assert [r["text"] for r in out] == plain.splitlines()
    from seqtool.ngram import load_ngram

    lm = load_ngram("bi")
    for r in out:
        assert r["tokens"][-1] == "</s>" and r["tokens"][:-1] == r["text"].split()
        # a whole sentence from <s>: the model's own sentence score (KenLM's Model.score)
        assert r["logprob"] == pytest.approx(lm.sentence_log10(r["text"].split()) * math.log(10), abs=1e-5)


def test_output_file_is_written_whole_and_checked_before_any_work(cli, tmp_path):
    make_lm("m")
    target = tmp_path / "samples.jsonl"
    result = cli("sample", "--model", "m", "--json", "--num", "2", "--length", "5", "--seed", "1", "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text() == cli("sample", "--model", "m", "--json", "--num", "2", "--length", "5",
                                     "--seed", "1").stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".seqtool-tmp-")]
    # an error (here: no such model) leaves an existing file as it was
    target.write_text("keep me")
    bad = cli("sample", "--model", "nope", "-o", target)
    assert bad.exit_code == 1 and target.read_text() == "keep me"
    # an unwritable place is refused before the model is even opened
    missing = cli("sample", "--model", "nope", "-o", tmp_path / "no-such-dir" / "x.txt")
    assert missing.exit_code != 0 and "no-such-dir" in missing.stderr and "not found" not in missing.stderr
    folder = cli("sample", "--model", "m", "-o", tmp_path)
    assert folder.exit_code != 0 and folder.stderr.count("\n") == 1


def test_threads_sets_numpy_blas_threads(cli):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from seqtool.core.threads import apply_blas_threads

    make_lm("m")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    try:
        assert cli("sample", "--model", "m", "--length", "3", "--threads", "1").exit_code == 0
        assert {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"} <= {1}
        assert apply_blas_threads("2") == 2
    finally:
        if before:
            threadpoolctl.threadpool_limits(before[0], user_api="blas")
    assert cli("sample", "--model", "m", "--threads", "0").exit_code == 2


@pytest.fixture
def stopped_run(tmp_path, seqtool_home):
    """A train-lm run stopped after 3 steps: a checkpoint, and (first run) a partial model."""
    from seqtool.lm.api import train_lm
    from seqtool.lm.options import resolve_options

    corpus = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    corpus.write_text("\n".join(" ".join(rng.choice(WORDS, 8)) for _ in range(300)) + "\n", encoding="utf-8")
    opts = resolve_options({"corpus": [str(corpus)], "name": "run", "seed": 1, "max_steps": 3, "hidden": 16,
                            "emb": 16, "layers": 1, "bptt": 10, "batch_size": 4, "weight_drop": 0.3,
                            "device": "cpu"})
    result = train_lm(opts)
    assert result.status == "stopped"
    return seqtool_home / "checkpoints" / "run", result


def test_model_accepts_a_checkpoint_file_or_run_folder(cli, stopped_run):
    folder, result = stopped_run
    args = ["--json", "--length", "20", "--seed", "3", "--prime", "the"]
    by_file = records(cli("sample", "--model", folder / "checkpoint.pt", *args))
    by_dir = cli("sample", "--model", folder, *args)
    assert "sampling from the checkpoint" in by_dir.stderr and "epoch 1, batch 3" in by_dir.stderr
    assert records(by_dir) == by_file
    # the run's current weights (the last step's), scored by torch: the same numbers
    from seqtool.lm.store import open_checkpoint

    lm = open_checkpoint(folder / "checkpoint.pt")
    state = {k: v for k, v in result.final_state.items()}
    for key, value in lm.model.state_dict().items():
        torch.testing.assert_close(value, state[key])
    (r,) = by_file
    assert r["model"] == "run"
    assert r["logprob"] == pytest.approx(torch_logprob(lm.model, lm.vocab, ["the"], r["tokens"]), abs=1e-4)


def test_model_name_of_an_unpublished_run_falls_back_to_its_checkpoint(cli, stopped_run, seqtool_home):
    folder, _ = stopped_run
    (seqtool_home / "models" / "run").unlink()  # as if the stopped first run had not published
    by_name = cli("sample", "--model", "run", "--json", "--length", "10", "--seed", "2")
    assert "sampling from the checkpoint" in by_name.stderr
    assert records(by_name) == records(cli("sample", "--model", folder, "--json", "--length", "10", "--seed", "2"))


def test_model_path_that_is_not_a_checkpoint_is_one_clear_error(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "empty", tmp_path / "missing.pt"):
        result = cli("sample", "--model", bad)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1 and str(bad) in result.stderr
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    result = cli("sample", "--model", junk)
    assert result.exit_code == 1 and "junk.pt" in result.stderr and result.stderr.count("\n") == 1


def test_tempered_adaptive_sampling_by_parts_is_the_tempered_distribution():
    # --temp T on an adaptive model draws by parts (head words, then clusters): the same
    # distribution as p(w)^(1/T) over the whole vocabulary, at the cost of no V-long cumsum
    from seqtool.lm.generate import open_generator
    from seqtool.lm.numpy_engine import log_softmax

    words = [f"w{i}" for i in range(40)]
    make_lm("ada", softmax="adaptive", vocab_words=words, cutoffs=(6, 20), seed=2)
    engine = open_generator("ada").stepper
    engine.reset()
    h = engine.advance(3)
    full = engine.adaptive.log_probs(h)  # (V,) exact log p
    for temp in (0.5, 1.7):
        _, weights = engine.adaptive.tempered_parts(h, temp)
        parts = np.concatenate(weights).astype(np.float64)
        target = np.exp(log_softmax(full / temp))
        np.testing.assert_allclose(parts / parts.sum(), target, rtol=1e-5, atol=1e-9)
        rng = np.random.default_rng(1)
        draws = [engine.adaptive.sample_tempered(h, temp, rng) for _ in range(6000)]
        freq = np.bincount([d[0] for d in draws], minlength=full.size) / len(draws)
        assert np.abs(freq - target).max() < 0.02
        assert all(lp == pytest.approx(full[i], abs=1e-5) for i, lp in draws[:50])


def test_json_logprob_on_the_adaptive_model_at_another_temperature(cli):
    words = [f"w{i}" for i in range(60)]
    model, vocab = make_lm("ada", softmax="adaptive", vocab_words=words, cutoffs=(10, 30), seed=4)
    (r,) = records(cli("sample", "--model", "ada", "--json", "--length", "30", "--seed", "3", "--temp", "0.7"))
    assert r["logprob"] == pytest.approx(torch_logprob(model, vocab, [], r["tokens"]), abs=1e-4)
