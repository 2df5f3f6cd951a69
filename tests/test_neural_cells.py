"""The recurrent cells: the equations by hand (numpy) against torch's cells, and the
numpy inference engine against the torch model."""

import numpy as np
import pytest
import torch
from torch import nn

from seqtool.lm.model import LMConfig, RNNLM
from seqtool.lm.numpy_engine import NumpyLM, gru_step, log_softmax, lstm_step, rnn_step

torch.set_num_threads(1)


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_gru_step_matches_equations_and_grucell():
    torch.manual_seed(0)
    cell = nn.GRUCell(5, 4)
    x, h = torch.randn(3, 5), torch.randn(3, 4)
    expected = cell(x, h).detach().numpy()
    W_ih, W_hh, b_ih, b_hh = (_np(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    xn, hn = _np(x), _np(h)
    # the equations, gate by gate (rows r, z, n of the stacked weights)
    Wir, Wiz, Win = W_ih[:4], W_ih[4:8], W_ih[8:]
    Whr, Whz, Whn = W_hh[:4], W_hh[4:8], W_hh[8:]
    bir, biz, bin_ = b_ih[:4], b_ih[4:8], b_ih[8:]
    bhr, bhz, bhn = b_hh[:4], b_hh[4:8], b_hh[8:]
    r = _sig(xn @ Wir.T + bir + hn @ Whr.T + bhr)
    z = _sig(xn @ Wiz.T + biz + hn @ Whz.T + bhz)
    n = np.tanh(xn @ Win.T + bin_ + r * (hn @ Whn.T + bhn))
    by_hand = (1 - z) * n + z * hn
    np.testing.assert_allclose(by_hand, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gru_step(xn, hn, W_ih, W_hh, b_ih, b_hh), expected, rtol=1e-5, atol=1e-6)


def test_lstm_step_matches_equations_and_lstmcell():
    torch.manual_seed(1)
    cell = nn.LSTMCell(6, 3)
    x, h, c = torch.randn(2, 6), torch.randn(2, 3), torch.randn(2, 3)
    h_t, c_t = (t.detach().numpy() for t in cell(x, (h, c)))
    W_ih, W_hh, b_ih, b_hh = (_np(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    xn, hn, cn = _np(x), _np(h), _np(c)
    pre = xn @ W_ih.T + b_ih + hn @ W_hh.T + b_hh
    i, f, g, o = _sig(pre[:, :3]), _sig(pre[:, 3:6]), np.tanh(pre[:, 6:9]), _sig(pre[:, 9:])
    c_hand = f * cn + i * g
    h_hand = o * np.tanh(c_hand)
    np.testing.assert_allclose(c_hand, c_t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_hand, h_t, rtol=1e-5, atol=1e-6)
    h2, c2 = lstm_step(xn, hn, cn, W_ih, W_hh, b_ih, b_hh)
    np.testing.assert_allclose(h2, h_t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c2, c_t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_matches_rnncell(nonlinearity):
    torch.manual_seed(2)
    cell = nn.RNNCell(4, 5, nonlinearity=nonlinearity)
    x, h = torch.randn(3, 4), torch.randn(3, 5)
    expected = cell(x, h).detach().numpy()
    got = rnn_step(_np(x), _np(h), *(_np(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)),
                   nonlinearity=nonlinearity)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell,tie", [("lstm", True), ("gru", False), ("rnn", True), ("rnn-relu", False)])
def test_numpy_engine_gives_the_torch_models_log_probs(cell, tie):
    torch.manual_seed(3)
    config = LMConfig(vocab_size=17, cell=cell, emb=8, hidden=8, layers=2, dropout=0.3, tie=tie)
    model = RNNLM(config).eval()
    tokens = [1, 4, 9, 16, 2, 0, 5]
    with torch.no_grad():
        logits, _ = model(torch.tensor(tokens).view(-1, 1), model.init_hidden(1))
    expected = torch.log_softmax(logits[:, 0].double(), -1).numpy()
    engine = NumpyLM(config.to_dict(), {k: v.numpy() for k, v in model.export_tensors().items()})
    got = np.stack([log_softmax(engine.step(t)) for t in tokens])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    engine.reset()
    np.testing.assert_allclose(log_softmax(engine.step(tokens[0])), expected[0], rtol=1e-4, atol=1e-5)
