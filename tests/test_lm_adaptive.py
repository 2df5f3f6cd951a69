"""The adaptive softmax: an exact distribution, its loss, tying, the numpy sampler, storage."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtool.core.errors import ModelError, UsageError
from seqtool.core.sampling import SamplingOptions
from seqtool.core.store import ModelStore
from seqtool.core.vocab import Vocab
from seqtool.layers import auto_softmax, default_cutoffs
from seqtool.layers.adaptive import AdaptiveSoftmax
from seqtool.lm.generate import open_generator
from seqtool.lm.model import LMConfig, RNNLM
from seqtool.lm.numpy_engine import NumpyLM
from seqtool.lm.store import check_weights, load_torch_lm, open_lm, write_lm

torch.set_num_threads(1)


def test_default_cutoffs_follow_the_documented_rule():
    assert default_cutoffs(10_000) == (2000,)
    assert default_cutoffs(33_278) == (2000, 10_000)
    assert default_cutoffs(19_999) == (2000,)
    assert default_cutoffs(100_000) == (2000, 10_000, 50_000)
    assert default_cutoffs(3_000) == (1500,)
    assert auto_softmax(1_000) == "full"
    assert auto_softmax(50_000) == "adaptive"


def test_known_answer_two_word_head_and_one_cluster():
    # V = 3, cutoffs (1,): head = [word 0, cluster 0]; cluster 0 = words 1 and 2, projected to 1 dim.
    layer = AdaptiveSoftmax(hidden=2, vocab_size=3, cutoffs=(1,))
    with torch.no_grad():
        layer.word_weight.copy_(torch.tensor([[1.0, 0.0]]))
        layer.cluster_weight.zero_()
        layer.tails[0].proj.weight.copy_(torch.tensor([[1.0, 0.0]]))
        layer.tails[0].out.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    h = torch.tensor([[1.0, 0.0]])
    e = math.e
    # head logits [1, 0]; tail logits [1, -1]
    expected = [e / (e + 1), 1 / (e + 1) * e / (e + 1 / e), 1 / (e + 1) * (1 / e) / (e + 1 / e)]
    assert layer.log_prob(h).exp()[0].tolist() == pytest.approx(expected, abs=1e-6)
    assert layer.loss(h, torch.tensor([2])).item() == pytest.approx(-math.log(expected[2]), abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(vocab=st.integers(3, 60), data=st.data())
def test_log_probs_sum_to_one_and_loss_is_their_mean_nll(vocab, data):
    cuts = sorted(data.draw(st.sets(st.integers(1, vocab - 1), min_size=1, max_size=3)))
    seed = data.draw(st.integers(0, 10_000))
    torch.manual_seed(seed)
    layer = AdaptiveSoftmax(hidden=16, vocab_size=vocab, cutoffs=cuts)
    hidden = torch.randn(7, 16) * 3
    logp = layer.log_prob(hidden)  # (7, V)
    assert logp.shape == (7, vocab)
    assert torch.allclose(logp.exp().sum(1), torch.ones(7, dtype=logp.dtype), atol=1e-5)
    target = torch.randint(0, vocab, (7,))
    expected = -logp.gather(1, target[:, None]).mean()
    assert torch.allclose(layer.loss(hidden, target), expected, atol=1e-5)


def test_loss_computes_only_the_clusters_its_targets_fall_in():
    layer = AdaptiveSoftmax(hidden=8, vocab_size=40, cutoffs=(10, 20))
    calls = [0, 0]
    for k, tail in enumerate(layer.tails):
        tail.proj.register_forward_hook(lambda *a, k=k: calls.__setitem__(k, calls[k] + 1))
    hidden = torch.randn(5, 8)
    layer.loss(hidden, torch.tensor([0, 3, 9, 9, 1]))  # all in the head
    assert calls == [0, 0]
    layer.loss(hidden, torch.tensor([0, 25, 9, 9, 1]))  # one in cluster 1
    assert calls == [0, 1]


def test_loss_gradient_matches_the_full_log_prob_gradient():
    torch.manual_seed(0)
    layer = AdaptiveSoftmax(hidden=8, vocab_size=30, cutoffs=(5, 15))
    hidden = torch.randn(6, 8, requires_grad=True)
    target = torch.tensor([0, 7, 20, 29, 4, 16])
    (g_loss,) = torch.autograd.grad(layer.loss(hidden, target), hidden)
    (g_full,) = torch.autograd.grad(F.nll_loss(layer.log_prob(hidden), target), hidden)
    assert torch.allclose(g_loss, g_full, atol=1e-6)


def _model(**kw):
    base = dict(vocab_size=30, emb=8, hidden=8, layers=2, dropout=0.0, softmax="adaptive", cutoffs=(6, 14))
    base.update(kw)
    torch.manual_seed(0)
    return RNNLM(LMConfig(**base))


def test_tied_head_rows_are_the_embedding_rows():
    model = _model(tie=True)
    assert model.softmax.word_weight is None
    names = [n for n, _ in model.named_parameters()]
    assert "softmax.word_weight" not in names and "softmax.word_weight" not in model.export_tensors()
    head = model.softmax.head_weight()
    assert torch.equal(head[:6], model.embed.weight[:6])
    # the same storage: editing the embedding moves the head, and head-word gradients reach it
    with torch.no_grad():
        model.embed.weight[3] += 1.0
    assert torch.equal(model.softmax.head_weight()[3], model.embed.weight[3])
    out = torch.randn(4, 8)
    model.softmax.loss(out, torch.tensor([3, 3, 3, 3])).backward()
    assert model.embed.weight.grad[3].abs().sum() > 0
    assert model.embed.weight.grad[10].abs().sum() == 0  # tail words are not tied


def test_model_loss_equals_cross_entropy_of_its_log_probs():
    for softmax in ("full", "adaptive"):
        model = _model(softmax=softmax, cutoffs=(6, 14) if softmax == "adaptive" else None).eval()
        x, y = torch.randint(0, 30, (5, 3)), torch.randint(0, 30, (5, 3))
        h = model.init_hidden(3)
        loss, _ = model.loss(x, y, h)
        logp, _ = model.log_probs(x, h)
        assert torch.allclose(logp.exp().sum(-1), torch.ones(5, 3), atol=1e-5)
        assert torch.allclose(loss, F.nll_loss(logp.view(-1, 30), y.view(-1)), atol=1e-6)
        scores, _ = model(x, h)  # what today's trainer feeds to F.cross_entropy
        assert torch.allclose(loss, F.cross_entropy(scores.view(-1, 30), y.view(-1)), atol=1e-6)


@pytest.mark.parametrize("cell,tie", [("lstm", True), ("gru", False), ("lstm", False)])
def test_numpy_engine_log_probs_equal_the_torch_models(cell, tie):
    model = _model(cell=cell, tie=tie).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4)  # sharper distributions than the init's near-uniform ones
    engine = NumpyLM(model.config.to_dict(), {k: v.numpy() for k, v in model.export_tensors().items()})
    tokens = [1, 5, 29, 7, 13, 0, 22]
    hidden = model.init_hidden(1)
    with torch.no_grad():
        for tok in tokens:  # random states: each token moves both along the same path
            logp, hidden = model.log_probs(torch.tensor([[tok]]), hidden)
            mine = engine.step(tok)
            assert np.allclose(np.exp(mine), logp[0, 0].exp().numpy(), atol=1e-5)
            assert np.exp(mine).sum() == pytest.approx(1.0, abs=1e-6)


def test_numpy_two_stage_sampler_draws_from_the_torch_distribution():
    model = _model(tie=False).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3)
    engine = NumpyLM(model.config.to_dict(), {k: v.numpy() for k, v in model.export_tensors().items()})
    engine.advance(4)
    with torch.no_grad():
        logp, _ = model.log_probs(torch.tensor([[4]]), model.init_hidden(1))
    p = logp[0, 0].exp().double().numpy()
    assert p[6:].sum() > 0.2  # the clusters carry real mass, so the second stage is exercised
    n = 40_000
    rng = np.random.default_rng(0)
    counts = np.bincount([engine.draw(rng) for _ in range(n)], minlength=30)
    # each frequency within 4.5 standard errors (a fixed seed: deterministic)
    assert np.all(np.abs(counts / n - p) <= 4.5 * np.sqrt(p * (1 - p) / n) + 1e-4)


def _store_model(name, model, vocab_size=30):
    vocab = Vocab.build({f"w{i}": 1000 - i for i in range(vocab_size - 2)})
    with ModelStore().writer(name, "lm") as draft:
        write_lm(draft, model.export_tensors(), model.config.to_dict(), vocab, "word", training={}, metrics={})


@pytest.mark.parametrize("kw", [dict(tie=True), dict(tie=False, weight_drop=0.5, dropout_hidden=0.3)])
def test_stored_adaptive_model_reloads_with_the_same_log_probs(kw):
    model = _model(**kw)
    model.train()
    x = torch.randint(0, 30, (6, 2))
    model.loss(x, x, model.init_hidden(2))[0].backward()  # a train-mode pass leaves dropped weights behind
    model.eval()
    _store_model("ad", model)
    stored = open_lm("ad")
    assert stored.model_config["cutoffs"] == [6, 14] and stored.model_config["softmax"] == "adaptive"
    loaded = load_torch_lm(stored)
    with torch.no_grad():
        a, _ = model.log_probs(x, model.init_hidden(2))
        b, _ = loaded.log_probs(x, loaded.init_hidden(2))
    assert torch.equal(a, b)


def test_store_refuses_adaptive_weights_that_disagree_with_the_cutoffs():
    model = _model(tie=False)
    _store_model("ad", model)
    stored = open_lm("ad")
    stored.model_config["cutoffs"] = [5, 14]
    with pytest.raises(ModelError, match="softmax.*corrupted"):
        check_weights(stored)
    stored.model_config["cutoffs"] = [14, 6]
    with pytest.raises(ModelError, match="cutoffs"):
        check_weights(stored)


def test_old_config_without_the_new_keys_loads_as_todays_model():
    old = dict(vocab_size=30, cell="lstm", emb=8, hidden=8, layers=2, dropout=0.2, tie=True)
    config = LMConfig.from_dict(old)
    assert config.softmax == "full" and config.cutoffs is None and config.weight_drop == 0.0
    assert LMConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ModelError, match="cutoffs"):
        LMConfig.from_dict({**old, "softmax": "adaptive", "cutoffs": [40]})
    with pytest.raises(UsageError, match="--cutoffs needs --softmax adaptive"):
        LMConfig(vocab_size=30, cutoffs=(5,))
    assert LMConfig(vocab_size=10_000, softmax="adaptive").cutoffs == (2000,)


def test_sample_from_a_stored_adaptive_model_is_seeded_and_uses_every_cluster():
    model = _model(tie=False)
    with torch.no_grad():
        model.softmax.cluster_weight.mul_(0)
        model.softmax.head_bias[6:].fill_(2.0)  # most mass on the clusters
    _store_model("ad", model)
    gen = open_generator("ad")
    assert gen.stepper.adaptive is not None
    run = lambda seed, **o: list(gen.tokens([], length=200, options=SamplingOptions(**o),  # noqa: E731
                                            rng=np.random.default_rng(seed)))
    first = run(3)
    assert first == run(3) and first != run(4)
    ids = {gen.vocab.stoi[t] for t in first}
    assert min(ids) < 6 and any(6 <= i < 14 for i in ids) and max(ids) >= 14
    assert len(run(3, temperature=0.7, top_k=5)) == 200  # the full-distribution path


def test_blocked_inverse_cdf_draws_exactly_on_long_vectors():
    from seqtool.lm.numpy_engine import _draw

    rng = np.random.default_rng(0)
    for hot in (0, 255, 256, 511, 1280, 1499):  # block edges and the short last block (1500 = 5 * 256 + 220)
        w = np.zeros(1500)
        w[hot] = 1.0
        assert {_draw(w, rng) for _ in range(50)} == {hot}
    w = np.random.default_rng(1).random(1500) ** 6
    p = w / w.sum()
    n = 60_000
    counts = np.bincount([_draw(w, rng) for _ in range(n)], minlength=1500)
    assert np.all(np.abs(counts / n - p) <= 4.5 * np.sqrt(p * (1 - p) / n) + 1e-4)
    blocks = counts.reshape(-1, 100).sum(1) / n  # coarser view: 15 bins of 100 words, much tighter
    assert np.allclose(blocks, p.reshape(-1, 100).sum(1), atol=0.006)
