"""AWD-LSTM regularizers: locked and embedding dropout, weight drop on fused RNNs, AR/TAR,
and today's model reproduced exactly when they are off."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from seqtool.layers.regularize import LockedDropout, activation_penalty, apply_weight_drop, embedding_dropout
from seqtool.lm.model import LMConfig, RNNLM
from seqtool.lm.numpy_engine import NumpyLM, log_softmax

torch.set_num_threads(1)


def test_locked_dropout_keeps_one_mask_over_time():
    torch.manual_seed(0)
    drop = LockedDropout(0.5)
    out = drop(torch.ones(20, 4, 50))  # (T, B, H)
    assert torch.equal(out, out[:1].expand_as(out))  # the same mask at every step
    assert set(out.unique().tolist()) == {0.0, 2.0}  # kept units scaled by 1 / (1 - p)
    assert 0.35 < (out[0] == 0).float().mean() < 0.65
    assert not torch.equal(out[:, 0], out[:, 1])  # one mask per sequence
    drop.eval()
    x = torch.randn(3, 2, 5)
    assert drop(x) is x


def test_embedding_dropout_zeroes_whole_words():
    torch.manual_seed(0)
    embed = nn.Embedding(10, 6)
    tokens = torch.tensor([[1, 2, 3, 1], [2, 3, 1, 4], [4, 1, 2, 3]])  # (T, B): words repeated
    for seed in range(20):
        torch.manual_seed(seed)
        out = embedding_dropout(embed, tokens, 0.5, training=True)  # (T, B, E)
        for word in (1, 2, 3, 4):
            rows = out[tokens == word]
            dropped = (rows == 0).all(dim=1)
            assert dropped.all() or not dropped.any()  # every occurrence alike
            if not dropped.any():
                assert torch.allclose(rows, embed.weight[word].expand_as(rows) * 2.0)
    assert torch.equal(embedding_dropout(embed, tokens, 0.5, training=False), embed(tokens))


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_weight_drop_masks_hh_in_train_mode_only_and_trains_the_raw_weight(cls):
    torch.manual_seed(0)
    rnn = cls(6, 8, 2)
    before = {n: p.detach().clone() for n, p in rnn.named_parameters()}
    apply_weight_drop(rnn, 0.5)
    names = sorted(n for n, _ in rnn.named_parameters())
    assert "weight_hh_l0_raw" in names and "weight_hh_l1_raw" in names and "weight_hh_l0" not in names
    x = torch.randn(5, 3, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on any call
        rnn.train()
        out, _ = rnn(x)
        dropped = rnn.weight_hh_l0
        raw = rnn.weight_hh_l0_raw
        assert torch.equal(raw, before["weight_hh_l0"])
        kept = dropped != 0
        assert 0.35 < kept.float().mean() < 0.65
        assert torch.allclose(dropped[kept], raw[kept] * 2.0)
        assert torch.equal(rnn.weight_ih_l0, before["weight_ih_l0"])  # input weights untouched
        out.sum().backward()
        assert raw.grad is not None and raw.grad.abs().sum() > 0
        assert (raw.grad[~kept] == 0).all()  # DropConnect: a dropped weight gets no gradient
        rnn(x)
        assert not torch.equal(rnn.weight_hh_l0, dropped)  # a fresh mask per call
        rnn.eval()
        out_eval, _ = rnn(x)
    assert torch.equal(rnn.weight_hh_l0, raw)
    plain = cls(6, 8, 2)
    plain.load_state_dict(before)
    assert torch.allclose(out_eval, plain(x)[0], atol=1e-6)


def test_activation_penalty_known_answer():
    dropped = torch.tensor([[[1.0, 2.0]], [[3.0, 0.0]]])  # (T=2, B=1, H=2)
    raw = torch.tensor([[[1.0, 1.0]], [[2.0, 3.0]]])
    # AR: mean(1, 4, 9, 0) = 3.5; TAR: mean((2-1)^2, (3-1)^2) = 2.5
    assert activation_penalty(dropped, raw, 2.0, 0.0).item() == pytest.approx(7.0)
    assert activation_penalty(dropped, raw, 0.0, 1.0).item() == pytest.approx(2.5)
    assert activation_penalty(dropped, raw, 2.0, 1.0).item() == pytest.approx(9.5)


class TodaysRNNLM(nn.Module):
    """RNNLM as it was before the regularization options (the forward pass and init order)."""

    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c.vocab_size, c.emb)
        self.drop = nn.Dropout(c.dropout)
        self.rnn = nn.LSTM(c.emb, c.hidden, c.layers, dropout=c.dropout if c.layers > 1 else 0.0)
        self.decoder = nn.Linear(c.hidden, c.vocab_size)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        self.decoder.weight = self.embed.weight

    def forward(self, tokens, hidden):
        out, hidden = self.rnn(self.drop(self.embed(tokens)), hidden)
        return self.decoder(self.drop(out)), hidden


def test_defaults_reproduce_todays_model_bit_for_bit():
    config = LMConfig(vocab_size=40, emb=16, hidden=16, layers=2, dropout=0.3, tie=True)
    torch.manual_seed(5)
    old = TodaysRNNLM(config)
    torch.manual_seed(5)
    new = RNNLM(config)
    assert list(old.state_dict()) == list(new.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.state_dict().values()))
    x = torch.randint(0, 40, (7, 3))
    h = new.init_hidden(3)
    for mode in ("train", "eval"):
        old.train(mode == "train"), new.train(mode == "train")
        torch.manual_seed(9)
        a, _ = old(x, h)
        torch.manual_seed(9)
        b, _ = new(x, h)
        assert torch.equal(a, b)
        torch.manual_seed(9)
        loss, _ = new.loss(x, x, h)  # the one-line trainer switch: the same number
        assert torch.equal(loss, nn.functional.cross_entropy(a.view(-1, 40), x.view(-1)))


AWD = dict(dropout_in=0.4, dropout_hidden=0.25, dropout_out=0.4, dropout_emb=0.1, weight_drop=0.5)


def test_regularized_model_stores_under_todays_names_and_reloads():
    torch.manual_seed(0)
    model = RNNLM(LMConfig(vocab_size=40, emb=16, hidden=16, layers=3, tie=True, **AWD))
    x = torch.randint(0, 40, (6, 2))
    model.train()
    model.loss(x, x, model.init_hidden(2))[0].backward()
    model.eval()
    tensors = model.export_tensors()
    plain = RNNLM(LMConfig(vocab_size=40, emb=16, hidden=16, layers=3, tie=True))
    assert sorted(tensors) == sorted(plain.export_tensors())  # rnn.weight_hh_l2, not rnns.2.weight_hh_l0_raw
    assert torch.equal(tensors["rnn.weight_hh_l1"], model.rnns[1].weight_hh_l0_raw)
    with torch.no_grad():
        want, _ = model.log_probs(x, model.init_hidden(2))
        for other in (plain, RNNLM(model.config)):  # the fused stack and a fresh regularized model
            other.import_tensors(tensors)
            other.eval()
            got, _ = other.log_probs(x, other.init_hidden(2))
            assert torch.allclose(got, want, atol=1e-6)
    engine = NumpyLM(model.config.to_dict(), {k: v.numpy() for k, v in tensors.items()})
    engine.step(int(x[0, 0]))  # the numpy sampler reads the stored names as they are
    assert np.allclose(log_softmax(engine.step(int(x[1, 0]))), want[1, 0].numpy(), atol=1e-5)


def test_regularization_is_active_in_training_and_off_in_eval():
    torch.manual_seed(0)
    model = RNNLM(LMConfig(vocab_size=40, emb=16, hidden=16, layers=2, dropout=0.0, alpha=2.0, beta=1.0, **AWD))
    x = torch.randint(0, 40, (6, 2))
    h = model.init_hidden(2)
    model.eval()
    a, _ = model.loss(x, x, h)
    b, _ = model.loss(x, x, h)
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(1)
    c, _ = model.loss(x, x, h)
    torch.manual_seed(2)
    d, _ = model.loss(x, x, h)
    assert not torch.equal(c, d)
    # with the same random stream, the loss is the NLL plus alpha * AR + beta * TAR
    torch.manual_seed(1)
    out, raw, _ = model.features(x, h)
    nll = nn.functional.cross_entropy(model.decoder(out).view(-1, 40), x.view(-1))
    assert torch.allclose(c, nll + activation_penalty(out, raw, 2.0, 1.0), atol=1e-6)


def test_checkpoint_state_resumes_bit_identically_with_weight_drop_and_adaptive():
    """The trainer checkpoints state_dict() and the RNG; a model rebuilt from them
    continues exactly as the original would (the masks come from the same stream)."""
    config = LMConfig(vocab_size=40, emb=16, hidden=16, layers=2, tie=True, softmax="adaptive", cutoffs=(8, 20),
                      **AWD)
    x = torch.randint(0, 40, (6, 3))
    torch.manual_seed(0)
    first = RNNLM(config).train()
    opt = torch.optim.SGD(first.parameters(), lr=1.0)
    h = first.init_hidden(3)
    for _ in range(2):
        loss, h = first.loss(x, x, tuple(t.detach() for t in h))
        opt.zero_grad(), loss.backward(), opt.step()
    state = {k: v.clone() for k, v in first.state_dict().items()}
    assert "rnns.0.weight_hh_l0_raw" in state
    rng = torch.get_rng_state()
    h = tuple(t.detach() for t in h)
    going_on, _ = first.loss(x, x, h)
    again = RNNLM(config).train()
    again.load_state_dict(state)
    torch.set_rng_state(rng)
    resumed, _ = again.loss(x, x, h)
    assert torch.equal(going_on, resumed)
