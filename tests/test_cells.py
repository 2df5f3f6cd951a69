"""The peephole and CIFG LSTM cells (seqtool.layers.cells): known answers computed by
hand, equality with nn.LSTM / a hand-rolled LSTM, the hand-written backward against
autograd, the numpy engine against torch, training and the model store."""

import numpy as np
import pytest
import torch
from torch import nn

from seqtool.core.store import ModelStore
from seqtool.core.tensors import load_tensors
from seqtool.core.vocab import Vocab
from seqtool.layers.cells import CIFGScan, LSTMVariant, PeepholeScan, cifg_scan, make_rnn, peephole_scan
from seqtool.lm.model import LMConfig, RNNLM, hidden_from_list, hidden_to_list
from seqtool.lm.numpy_engine import NumpyLM, cifg_step, log_softmax, peephole_step
from seqtool.lm.store import load_torch_lm, open_lm, write_lm

torch.set_num_threads(1)

IMPLS = ["manual", "script", "loop"]


def _set(module: nn.Module, **values) -> None:
    with torch.no_grad():
        for name, value in values.items():
            getattr(module, name).copy_(torch.tensor(value, dtype=torch.float32))


def _one_step(rnn, x, h0, c0):
    out, (h, c) = rnn(torch.tensor([[x]]), (torch.tensor([[h0]]), torch.tensor([[c0]])))  # T = B = L = 1
    assert torch.equal(out[0], h[0])
    return h[0, 0].tolist(), c[0, 0].tolist()


# ------------------------------------------------------------ known answers (H = 2, I = 1)
# Peephole step with x = 1, h0 = (1, 0), c0 = (1, -1):
#   a_i = U_i x + p_i c0 = (0.5, -0.5) + (0.5, 0.5)(1, -1)         = (1, -1)   i = (s(1), s(-1))
#   a_f = U_f x + b_f + p_f c0 = (1, 0) + (0, 1) + (-1, 1)(1, -1)   = (0, 0)    f = (0.5, 0.5)
#   a_g = U_g x + W_g h0 = (1, 2) + (0, -1)                         = (1, 1)    g = (tanh 1, tanh 1)
#   c1  = f c0 + i g = (0.5 + s(1) tanh 1, -0.5 + s(-1) tanh 1)     = (1.0567699, -0.2951758)
#   a_o = U_o x + W_o h0 + p_o c1 = (0, 1) + (-1, 0) + (1, 0) c1    = (0.0567699, 1)
#   h1  = s(a_o) tanh(c1)                                           = (0.4033422, -0.2097346)
PEEPHOLE = dict(
    weight_ih_l0=[[0.5], [-0.5], [1.0], [0.0], [1.0], [2.0], [0.0], [1.0]],  # rows: i i f f g g o o
    weight_hh_l0=[[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [-1, 0], [-1, 0], [0, 0]],
    bias_ih_l0=[0, 0, 0, 1, 0, 0, 0, 0], bias_hh_l0=[0] * 8,
    peephole_i_l0=[0.5, 0.5], peephole_f_l0=[-1.0, 1.0], peephole_o_l0=[1.0, 0.0])
PEEPHOLE_C1, PEEPHOLE_H1 = [1.0567699, -0.2951758], [0.4033422, -0.2097346]

# CIFG step with x = 2, h0 = (1, 0), c0 = (1, -1):
#   a_i = U_i x + W_i h0 = (0, 0) + (1, 0)                          = (1, 0)    i = (s(1), 0.5)
#   a_g = U_g x = (0.5, -0.5) 2                                     = (1, -1)   g = (tanh 1, -tanh 1)
#   c1  = (1 - i) c0 + i g = (s(-1) + s(1) tanh 1, -0.5 - 0.5 tanh 1) = (0.8257114, -0.8807971)
#   a_o = b_o = (0, -1)                                             o = (0.5, s(-1))
#   h1  = o tanh(c1)                                                = (0.3390832, -0.1900927)
CIFG = dict(
    weight_ih_l0=[[0.0], [0.0], [0.5], [-0.5], [0.0], [0.0]],  # rows: i i g g o o
    weight_hh_l0=[[1, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
    bias_ih_l0=[0, 0, 0, 0, 0, -1], bias_hh_l0=[0] * 6)
CIFG_C1, CIFG_H1 = [0.8257114, -0.8807971], [0.3390832, -0.1900927]


@pytest.mark.parametrize("impl", IMPLS)
def test_peephole_step_known_answer(impl):
    rnn = LSTMVariant("lstm-peephole", 1, 2, impl=impl)
    _set(rnn, **PEEPHOLE)
    h, c = _one_step(rnn, [1.0], [1.0, 0.0], [1.0, -1.0])
    assert c == pytest.approx(PEEPHOLE_C1, abs=1e-6)
    assert h == pytest.approx(PEEPHOLE_H1, abs=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_cifg_step_known_answer(impl):
    rnn = LSTMVariant("cifg", 1, 2, impl=impl)
    _set(rnn, **CIFG)
    h, c = _one_step(rnn, [2.0], [1.0, 0.0], [1.0, -1.0])
    assert c == pytest.approx(CIFG_C1, abs=1e-6)
    assert h == pytest.approx(CIFG_H1, abs=1e-6)


def test_numpy_steps_known_answers():
    w = {k: np.array(v, dtype=np.float64) for k, v in PEEPHOLE.items()}
    h, c = peephole_step(np.array([[1.0]]), np.array([[1.0, 0.0]]), np.array([[1.0, -1.0]]),
                         w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"],
                         w["peephole_i_l0"], w["peephole_f_l0"], w["peephole_o_l0"])
    np.testing.assert_allclose(c[0], PEEPHOLE_C1, atol=1e-7)
    np.testing.assert_allclose(h[0], PEEPHOLE_H1, atol=1e-7)
    w = {k: np.array(v, dtype=np.float64) for k, v in CIFG.items()}
    h, c = cifg_step(np.array([[2.0]]), np.array([[1.0, 0.0]]), np.array([[1.0, -1.0]]),
                     w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
    np.testing.assert_allclose(c[0], CIFG_C1, atol=1e-7)
    np.testing.assert_allclose(h[0], CIFG_H1, atol=1e-7)


# ------------------------------------------------------------ against reference LSTMs
@pytest.mark.parametrize("impl,bidirectional", [("manual", False), ("script", False), ("loop", False),
                                                ("manual", True)])
def test_peephole_with_zero_peepholes_is_nn_lstm(impl, bidirectional):
    torch.manual_seed(0)
    D = 2 if bidirectional else 1
    ref = nn.LSTM(5, 4, 2, bidirectional=bidirectional, batch_first=bidirectional)
    rnn = LSTMVariant("lstm-peephole", 5, 4, 2, bidirectional=bidirectional, batch_first=bidirectional, impl=impl)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            p.copy_(getattr(ref, name) if name.startswith(("weight", "bias")) else torch.zeros_like(p))
    assert {n for n, _ in ref.named_parameters()} < {n for n, _ in rnn.named_parameters()}
    x = torch.randn(3, 6, 5) if bidirectional else torch.randn(6, 3, 5)  # (B, T, I) batch-first or (T, B, I)
    hidden = (torch.randn(2 * D, 3, 4), torch.randn(2 * D, 3, 4))
    out, (h, c) = rnn(x, hidden)
    out_ref, (h_ref, c_ref) = ref(x, hidden)
    for got, want in ((out, out_ref), (h, h_ref), (c, c_ref)):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    # the same gradients too (the peepholes' own are not zero: c feeds them)
    (out.sum() + c.sum()).backward()
    (out_ref.sum() + c_ref.sum()).backward()
    for name in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l0"):
        torch.testing.assert_close(getattr(rnn, name).grad, getattr(ref, name).grad, rtol=1e-4, atol=1e-6)
    assert rnn.peephole_f_l0.grad.abs().sum() > 0


def _lstm_with_f_tied(x, h, c, w_ih, w_hh, b):
    """A standard LSTM step (blocks i, f, g, o) whose forget gate is replaced by 1 - i."""
    i, _, g, o = (x @ w_ih.T + h @ w_hh.T + b).chunk(4, 1)
    i, g, o = torch.sigmoid(i), torch.tanh(g), torch.sigmoid(o)
    f = 1 - i
    c = f * c + i * g
    return o * torch.tanh(c), c


@pytest.mark.parametrize("impl", IMPLS)
def test_cifg_is_an_lstm_with_f_tied_to_one_minus_i(impl):
    torch.manual_seed(1)
    T, B, I, H = 5, 3, 4, 6
    rnn = LSTMVariant("cifg", I, H, impl=impl)
    w_i, w_g, w_o = rnn.weight_ih_l0.detach().chunk(3)
    u_i, u_g, u_o = rnn.weight_hh_l0.detach().chunk(3)
    b_i, b_g, b_o = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().chunk(3)
    # an LSTM layout with a forget block that must not matter (random values)
    w_ih = torch.cat([w_i, torch.randn(H, I), w_g, w_o])
    w_hh = torch.cat([u_i, torch.randn(H, H), u_g, u_o])
    b = torch.cat([b_i, torch.randn(H), b_g, b_o])
    x, h, c = torch.randn(T, B, I), torch.randn(B, H), torch.randn(B, H)
    out, (hT, cT) = rnn(x, (h[None], c[None]))
    for t in range(T):
        h, c = _lstm_with_f_tied(x[t], h, c, w_ih, w_hh, b)
        torch.testing.assert_close(out[t], h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cT[0], c, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------- the hand-written backward
def test_manual_backward_passes_gradcheck():
    torch.manual_seed(2)
    T, B, H = 4, 3, 2
    for fn, gates, extra in ((PeepholeScan.apply, 4, 3), (CIFGScan.apply, 3, 0)):
        args = [torch.randn(T, B, gates * H), torch.randn(B, H), torch.randn(B, H), torch.randn(gates * H, H)]
        args += [torch.randn(H) for _ in range(extra)]
        args = [a.double().requires_grad_() for a in args]
        assert torch.autograd.gradcheck(fn, args)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_implementations_agree_in_training_with_dropout(cell):
    grads = {}
    for impl in IMPLS:
        torch.manual_seed(3)
        rnn = LSTMVariant(cell, 5, 7, 3, dropout=0.3, impl=impl).train()
        x = torch.randn(9, 4, 5, requires_grad=True)
        out, (h, c) = rnn(x)  # hidden None: zeros, as in nn.LSTM
        (out.pow(2).sum() + h.sum() - c.sum()).backward()
        grads[impl] = [out.detach(), x.grad] + [p.grad for p in rnn.parameters()]
    for impl in ("script", "loop"):
        for got, want in zip(grads[impl], grads["manual"]):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_plain_scans_are_the_step_equations():
    torch.manual_seed(4)
    gx, h, c, w = torch.randn(3, 2, 8), torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(8, 2)
    out, hT, cT = peephole_scan(gx, h, c, w, torch.zeros(2), torch.zeros(2), torch.zeros(2))
    i, f, g, o = torch.sigmoid(gx[0]).chunk(4, 1)
    c1 = i * torch.tanh(gx[0, :, 4:6])
    torch.testing.assert_close(out[0], o * torch.tanh(c1))
    out, _, _ = cifg_scan(gx[..., :6], h, c, w[:6])
    i, g, o = gx[0, :, :6].chunk(3, 1)
    torch.testing.assert_close(out[0], torch.sigmoid(o) * torch.tanh(torch.sigmoid(i) * torch.tanh(g)))


def test_make_rnn_keeps_torchs_fused_modules():
    assert isinstance(make_rnn("lstm", 3, 4, 2, 0.1), nn.LSTM)
    assert isinstance(make_rnn("gru", 3, 4, 1, 0.1), nn.GRU)
    assert make_rnn("rnn-relu", 3, 4, 1, 0.0).nonlinearity == "relu"
    cifg = make_rnn("cifg", 3, 4, 1, 0.5)
    assert isinstance(cifg, LSTMVariant) and cifg.dropout == 0.0  # no layer after the last: no dropout
    assert cifg.weight_ih_l0.shape == (12, 3)


# ------------------------------------------------------------ in the language model
def _lm(cell, tie=True, seed=5):
    torch.manual_seed(seed)
    return RNNLM(LMConfig(vocab_size=13, cell=cell, emb=8, hidden=8, layers=2, dropout=0.2, tie=tie))


@pytest.mark.parametrize("cell,tie", [("lstm-peephole", True), ("cifg", False)])
def test_numpy_engine_gives_the_torch_models_log_probs(cell, tie):
    model = _lm(cell, tie).eval()
    with torch.no_grad():  # peepholes large enough to matter
        for name, p in model.rnn.named_parameters():
            if name.startswith("peephole"):
                p.uniform_(-1, 1)
    tokens = [1, 4, 9, 12, 2, 0, 5, 5]
    with torch.no_grad():
        logits, _ = model(torch.tensor(tokens).view(-1, 1), model.init_hidden(1))
    expected = torch.log_softmax(logits[:, 0].double(), -1).numpy()
    engine = NumpyLM(model.config.to_dict(), {k: v.numpy() for k, v in model.export_tensors().items()})
    got = np.stack([log_softmax(engine.step(t)) for t in tokens])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_lm_with_the_cell_trains_and_its_state_is_h_and_c(cell):
    torch.manual_seed(5)
    model = RNNLM(LMConfig(vocab_size=13, cell=cell, emb=16, hidden=16, layers=1, dropout=0.0, tie=False))
    hidden = model.init_hidden(4)
    assert isinstance(hidden, tuple) and len(hidden) == 2 and hidden[0].shape == (1, 4, 16)
    assert hidden_from_list(hidden_to_list(hidden), cell) == hidden
    data = torch.tensor([[(t + b) % 6 + 1 for b in range(4)] for t in range(41)])  # (T, B) a cycle of 6 words
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for step in range(40):
        x, y = data[:-1], data[1:]
        logits, _ = model(x, model.init_hidden(4))
        loss = nn.functional.cross_entropy(logits.view(-1, 13), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # ln 13 = 2.56 at the start; ln 6 = 1.79 knows the 6 words but not their order; the order is learnable
    assert losses[0] > 2.4 and losses[-1] < 0.5


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_training_is_repeatable_bit_for_bit(cell):
    def run():
        model = _lm(cell, seed=6)
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        x = torch.randint(0, 13, (12, 3), generator=torch.Generator().manual_seed(0))
        for _ in range(3):
            logits, _ = model(x, model.init_hidden(3))
            loss = nn.functional.cross_entropy(logits[:-1].reshape(-1, 13), x[1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model.export_tensors()

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


def _store(cell, name):
    model = _lm(cell, tie=False).eval()
    vocab = Vocab.build({w: 20 - i for i, w in enumerate("abcdefghijk")})
    assert len(vocab) == model.config.vocab_size
    with ModelStore().writer(name, "lm") as draft:
        write_lm(draft, model.export_tensors(), model.config.to_dict(), vocab, "word", training={}, metrics={})
    return model


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_store_round_trip_keeps_names_and_numbers(cell):
    model = _store(cell, "m")
    stored = open_lm("m")
    assert stored.model_config["cell"] == cell
    tensors = load_tensors(stored.weights_path, origin="m")
    names = {"rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1"}
    if cell == "lstm-peephole":
        names |= {"rnn.peephole_i_l1", "rnn.peephole_f_l1", "rnn.peephole_o_l1"}
        assert tensors["rnn.peephole_o_l1"].shape == (8,)
    assert names <= set(tensors)
    assert tensors["rnn.weight_hh_l0"].shape == ({"lstm-peephole": 4, "cifg": 3}[cell] * 8, 8)
    loaded = RNNLM(LMConfig.from_dict(stored.model_config))
    loaded.import_tensors(tensors, origin="m")
    loaded.eval()
    x = torch.tensor([[1], [5], [7]])
    with torch.no_grad():
        assert torch.equal(loaded(x, loaded.init_hidden(1))[0], model(x, model.init_hidden(1))[0])


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_store_checks_and_loads_the_new_cells(cell):
    model = _store(cell, "m")
    loaded = load_torch_lm(open_lm("m"))
    x = torch.tensor([[1], [5], [7]])
    with torch.no_grad():
        assert torch.equal(loaded(x, loaded.init_hidden(1))[0], model(x, model.init_hidden(1))[0])


def test_config_accepts_the_new_cells_and_names_them_in_the_error():
    assert LMConfig(vocab_size=5, cell="cifg", emb=4, hidden=4).cell == "cifg"
    from seqtool.core.errors import UsageError

    with pytest.raises(UsageError, match="lstm-peephole, cifg"):
        LMConfig(vocab_size=5, cell="peephole")


# ------------------------------------------------------------------ in the classifier
def _classifier(cell, layers, pooling="max", bidirectional=True):
    from seqtool.classify.model import ClassifierConfig, RNNClassifier

    torch.manual_seed(7)
    cfg = ClassifierConfig(vocab_size=30, num_classes=3, num_ngrams=0, cell=cell, layers=layers, hidden=5, emb=4,
                           pooling=pooling, dropout=0.0, bidirectional=bidirectional)
    return RNNClassifier(cfg)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
@pytest.mark.parametrize("pooling", ["max", "last"])
def test_classifier_batch_gives_each_sequence_its_logits_alone(cell, pooling):
    from seqtool.classify.features import Encoded, collate

    model = _classifier(cell, 2, pooling).eval()
    enc = Encoded([[5, 6, 7, 8, 9, 10, 11], [3], [12, 13, 4]], [[], [], []])
    tokens, lengths, _, _ = collate(enc, range(3), model.cfg.pad_id)
    batched = model(tokens, lengths)
    for i in range(3):
        t, l, _, _ = collate(enc, [i], model.cfg.pad_id)
        torch.testing.assert_close(model(t, l)[0], batched[i], rtol=1e-5, atol=1e-6)
    # asking for the packed path gives the padded one (no packed kernel for these cells)
    torch.testing.assert_close(model(tokens, lengths, packed=True), batched)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_classifier_padded_path_is_the_bidirectional_stack(cell):
    """On sequences without padding the per-direction padded path is LSTMVariant.forward."""
    model = _classifier(cell, 2, "last").eval()
    tokens = torch.randint(3, 30, (2, 6))
    emb = model.embedding(tokens)
    out, _ = model.rnn(emb)  # (B, T, 2H)
    torch.testing.assert_close(model._run_padded(emb, torch.tensor([6, 6])), out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_classifier_predict_one_layer(cell):
    from seqtool.classify.features import Encoded, collate
    from seqtool.classify.infer import predict_logits

    model = _classifier(cell, 1).eval()
    enc = Encoded([[5, 6, 7], [3, 4]], [[], []])
    tokens, lengths, _, _ = collate(enc, range(2), model.cfg.pad_id)
    torch.testing.assert_close(predict_logits(model, enc), model(tokens, lengths), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm-peephole", "cifg"])
def test_weight_drop_reaches_the_new_cells(cell):
    """DropConnect on W_hh works on layers.cells' stacks as on torch's fused ones: the raw
    matrix gets gradients, train mode drops, eval mode uses the raw matrix unchanged."""
    from seqtool.lm.model import LMConfig, RNNLM

    torch.manual_seed(0)
    model = RNNLM(LMConfig(vocab_size=30, cell=cell, emb=6, hidden=6, layers=2, weight_drop=0.5))
    x = torch.randint(0, 30, (4, 2))
    loss, _ = model(x, model.init_hidden(2), targets=x)
    loss.backward()
    raw = dict(model.rnn.named_parameters())["weight_hh_l0_raw"]
    assert raw.grad is not None and raw.grad.abs().sum() > 0
    assert (model.rnn.weight_hh_l0 == 0).float().mean() > 0.2  # about half dropped in train mode
    model.eval()
    model(x, model.init_hidden(2))
    assert torch.equal(model.rnn.weight_hh_l0, raw.detach())
    assert "rnn.weight_hh_l0" in model.export_tensors()
