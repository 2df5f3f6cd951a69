"""The recurrent cells written out in numpy, and a numpy inference engine.

These are torch's equations (gate order and biases as in nn.RNN/nn.GRU/nn.LSTM),
and those of seqtool.layers.cells for lstm-peephole and cifg; the tests check
them against nn.GRUCell/nn.LSTMCell and the torch cells. `seqtool sample` runs
models with this engine on the CPU: generating one token at a time is
latency-bound, and not importing torch (2+ s) puts the first token on screen
in a fraction of a second.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: no overflow warnings for large |x|
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity: str = "tanh"):
    """h' = f(W_ih x + b_ih + W_hh h + b_hh). x (B, I), h (B, H) -> (B, H)"""
    pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """r = s(W_ir x + b_ir + W_hr h + b_hr)
    z = s(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h                      x (B, I), h (B, H) -> (B, H)"""
    gi = x @ w_ih.T + b_ih  # (B, 3H): r, z, n
    gh = h @ w_hh.T + b_hh
    H = h.shape[-1]
    r = _sigmoid(gi[:, :H] + gh[:, :H])
    z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1.0 - z) * n + z * h


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """i, f, g, o = s(.), s(.), tanh(.), s(.) of W_ih x + b_ih + W_hh h + b_hh
    c' = f * c + i * g;  h' = o * tanh(c')          -> (h', c'), each (B, H)"""
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (B, 4H)
    H = h.shape[-1]
    i = _sigmoid(gates[:, :H])
    f = _sigmoid(gates[:, H:2 * H])
    g = np.tanh(gates[:, 2 * H:3 * H])
    o = _sigmoid(gates[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def peephole_step(x, h, c, w_ih, w_hh, b_ih, b_hh, p_i, p_f, p_o):
    """a = W_ih x + b_ih + W_hh h + b_hh, blocks i, f, g, o (B, 4H); then peephole_update."""
    return peephole_update(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c, p_i, p_f, p_o)


def peephole_update(a, c, p_i, p_f, p_o):
    """i = s(a_i + p_i * c);  f = s(a_f + p_f * c);  c' = f * c + i * tanh(a_g)
    o = s(a_o + p_o * c');  h' = o * tanh(c')        -> (h', c'), each (B, H)"""
    H = c.shape[-1]
    i = _sigmoid(a[:, :H] + p_i * c)
    f = _sigmoid(a[:, H:2 * H] + p_f * c)
    c2 = f * c + i * np.tanh(a[:, 2 * H:3 * H])
    o = _sigmoid(a[:, 3 * H:] + p_o * c2)
    return o * np.tanh(c2), c2


def cifg_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """a = W_ih x + b_ih + W_hh h + b_hh, blocks i, g, o (B, 3H); then cifg_update."""
    return cifg_update(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c)


def cifg_update(a, c):
    """i = s(a_i);  c' = (1 - i) * c + i * tanh(a_g);  h' = s(a_o) * tanh(c')   -> (h', c')"""
    H = c.shape[-1]
    i = _sigmoid(a[:, :H])
    c2 = (1.0 - i) * c + i * np.tanh(a[:, H:2 * H])
    return _sigmoid(a[:, 2 * H:]) * np.tanh(c2), c2


class NumpyLM:
    """Single-sequence inference for a stored RNNLM: step(token) -> log-probs."""

    def __init__(self, config: dict, tensors: dict):
        self.cell = config["cell"]
        self.layers = int(config["layers"])
        self.hidden_size = int(config["hidden"])
        f32 = np.float32
        self.embed = np.ascontiguousarray(tensors["embed.weight"], dtype=f32)  # (V, E)
        dec = tensors["embed.weight"] if config.get("tie") else tensors["decoder.weight"]
        # x @ W.T with W.T stored contiguously is ~2x faster than W @ x for a (V, H)
        # matrix: the softmax layer is most of the cost of a step.
        self.dec_wt = np.ascontiguousarray(np.asarray(dec, dtype=f32).T)  # (H, V)
        self.dec_b = np.asarray(tensors["decoder.bias"], dtype=f32)
        self.weights = []
        self.peepholes = []  # (p_i, p_f, p_o) of each layer, lstm-peephole only
        for k in range(self.layers):
            if self.cell == "lstm-peephole":
                self.peepholes.append(tuple(np.asarray(tensors[f"rnn.peephole_{g}_l{k}"], dtype=f32)[None, :]
                                            for g in "ifo"))
            w_ih_t = np.asarray(tensors[f"rnn.weight_ih_l{k}"], dtype=f32).T  # (I, G)
            w_hh_t = np.asarray(tensors[f"rnn.weight_hh_l{k}"], dtype=f32).T  # (H, G)
            b_ih = np.asarray(tensors[f"rnn.bias_ih_l{k}"], dtype=f32)
            b_hh = np.asarray(tensors[f"rnn.bias_hh_l{k}"], dtype=f32)
            if self.cell == "gru":  # the n gate needs W_hn h apart from W_in x
                self.weights.append((np.ascontiguousarray(w_ih_t), np.ascontiguousarray(w_hh_t), b_ih, b_hh))
            else:  # one matmul of [x, h] with [W_ih; W_hh]
                self.weights.append((np.ascontiguousarray(np.vstack([w_ih_t, w_hh_t])), None, b_ih + b_hh, None))
        self.reset()

    def reset(self) -> None:
        H = self.hidden_size
        self.h = [np.zeros((1, H), np.float32) for _ in range(self.layers)]
        self.c = [np.zeros((1, H), np.float32) for _ in range(self.layers)]

    def step(self, token: int) -> np.ndarray:
        """Feed one token id; return the logits of the next token. (V,) float32"""
        x = self.embed[token][None, :]  # (1, E)
        H = self.hidden_size
        for k, (w_a, w_b, b_a, b_b) in enumerate(self.weights):
            if self.cell == "gru":
                gi = x @ w_a + b_a  # (1, 3H)
                gh = self.h[k] @ w_b + b_b
                r = _sigmoid(gi[:, :H] + gh[:, :H])
                z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                self.h[k] = (1.0 - z) * n + z * self.h[k]
            else:
                pre = np.concatenate((x, self.h[k]), axis=1) @ w_a + b_a  # (1, G)
                if self.cell == "lstm":
                    sig = _sigmoid(pre)  # one pass for i, f, o (the g part is unused)
                    i, f, o = sig[:, :H], sig[:, H:2 * H], sig[:, 3 * H:]
                    g = np.tanh(pre[:, 2 * H:3 * H])
                    self.c[k] = f * self.c[k] + i * g
                    self.h[k] = o * np.tanh(self.c[k])
                elif self.cell == "lstm-peephole":
                    self.h[k], self.c[k] = peephole_update(pre, self.c[k], *self.peepholes[k])
                elif self.cell == "cifg":
                    self.h[k], self.c[k] = cifg_update(pre, self.c[k])
                else:
                    self.h[k] = np.tanh(pre) if self.cell == "rnn" else np.maximum(pre, 0.0)
            x = self.h[k]
        # The (V, H) softmax matrix is read once per token: the cost of sampling.
        return x[0] @ self.dec_wt + self.dec_b  # (V,)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max()
    return z - np.log(np.exp(z).sum())
