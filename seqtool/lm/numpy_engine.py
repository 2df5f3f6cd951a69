"""The recurrent cells written out in numpy, and a numpy inference engine.

These are torch's equations (gate order and biases as in nn.RNN/nn.GRU/nn.LSTM),
and those of seqtool.layers.cells for lstm-peephole and cifg; the tests check
them against nn.GRUCell/nn.LSTMCell and the torch cells. `seqtool sample` runs
models with this engine on the CPU: generating one token at a time is
latency-bound, and not importing torch (2+ s) puts the first token on screen
in a fraction of a second.
"""

from __future__ import annotations

import math

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
        self.adaptive = None
        if config.get("softmax", "full") == "adaptive":
            self.adaptive = NumpyAdaptiveSoftmax(config, tensors)
        else:
            dec = tensors["embed.weight"] if config.get("tie") else tensors["decoder.weight"]
            # x @ W.T with W.T stored contiguously is ~3x faster than W @ x for a (V, H)
            # matrix (50k x 200: 2.8 vs 8.4 ms), and the softmax layer is most of a step's
            # cost: the one transposed copy at load (~30 ms there) is paid back in ~6 tokens.
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
        """Feed one token id; return the logits of the next token (V,): float32 logits
        of the full softmax, or the adaptive softmax's exact log-probabilities."""
        top = self.advance(token)
        if self.adaptive is not None:
            return self.adaptive.log_probs(top)
        # The (V, H) softmax matrix is read once per token: the cost of sampling.
        return top @ self.dec_wt + self.dec_b  # (V,)

    def draw(self, rng: np.random.Generator) -> int:
        """A token drawn exactly from the adaptive distribution after the last advance()."""
        return self.adaptive.sample(self.h[-1][0], rng)

    def draw_scored(self, rng: np.random.Generator) -> tuple[int, float]:
        """draw(), and the drawn token's exact log-probability."""
        return self.adaptive.sample(self.h[-1][0], rng, scored=True)

    def draw_tempered(self, temperature: float, rng: np.random.Generator) -> tuple[int, float]:
        """A token drawn from p(w)^(1/T) / Z after the last advance(), and its log p(w)."""
        return self.adaptive.sample_tempered(self.h[-1][0], temperature, rng)

    def advance(self, token: int) -> np.ndarray:
        """Feed one token id; return the last layer's new state (H,)."""
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
        return x[0]


class NumpyAdaptiveSoftmax:
    """The adaptive softmax (seqtool.layers.adaptive) for one hidden state h (H,).

        p(w) = head(h)[w]                          w < c_0
        p(w) = head(h)[c_0 + k] * tail_k(h)[w - c_k]   w in cluster k

    `sample` draws from the head, then -- only when a cluster entry is drawn -- from
    that cluster: the same distribution as `log_probs`, at the head's cost for most
    tokens. `log_probs` gives every word's exact log-probability (top-k, top-p,
    temperature and greedy decoding use it).
    """

    def __init__(self, config: dict, tensors: dict):
        from ..layers import check_cutoffs

        f32 = np.float32
        V = int(config["vocab_size"])
        self.cutoffs = check_cutoffs(config["cutoffs"], V)
        self.bounds = list(self.cutoffs) + [V]
        self.c0 = self.cutoffs[0]
        words = tensors["embed.weight"][: self.c0] if config.get("tie") else tensors["softmax.word_weight"]
        clusters = tensors["softmax.cluster_weight"]
        # h @ W.T with W.T laid out contiguously is ~3x faster than W @ h: the head is
        # transposed once, in place in one buffer (no stacked copy first)
        self.head_wt = np.empty((words.shape[1], self.c0 + clusters.shape[0]), f32)  # (H, c_0 + n)
        self.head_wt[:, : self.c0] = words.T
        self.head_wt[:, self.c0:] = clusters.T
        self.head_b = np.asarray(tensors["softmax.head_bias"], dtype=f32)
        # Each cluster's matrices (P_k (d_k, H), W_k (size_k, d_k), b_k) stay as stored (mapped
        # from the file) until the first draw from that cluster lays them out transposed:
        # the start pays for none of them, and a run for those it uses.
        self._stored_tails = [tuple(tensors[f"softmax.tails.{k}.{w}"] for w in ("proj.weight", "out.weight",
                                                                              "out.bias"))
                              for k in range(len(self.cutoffs))]
        self._tails: list = [None] * len(self.cutoffs)

    def head_scores(self, h: np.ndarray) -> np.ndarray:
        return h @ self.head_wt + self.head_b  # (c_0 + n,) float32

    def tail(self, k: int) -> tuple:
        """Cluster k's P_k.T (H, d_k), W_k.T (d_k, size_k) and b_k (size_k,)."""
        got = self._tails[k]
        if got is None:
            f32 = np.float32
            proj, out, bias = self._stored_tails[k]
            got = self._tails[k] = (np.ascontiguousarray(np.asarray(proj, dtype=f32).T),
                                    np.ascontiguousarray(np.asarray(out, dtype=f32).T),
                                    np.asarray(bias, dtype=f32))
        return got

    def tail_scores(self, h: np.ndarray, k: int) -> np.ndarray:
        proj_t, out_t, out_b = self.tail(k)
        return (h @ proj_t) @ out_t + out_b  # (size_k,) float32

    def log_probs(self, h: np.ndarray) -> np.ndarray:
        """Exact log p(w) for every word: h (H,) -> (V,) float64."""
        head = log_softmax(self.head_scores(h))
        parts = [head[: self.c0]]
        for k in range(len(self._tails)):
            parts.append(head[self.c0 + k] + log_softmax(self.tail_scores(h, k)))
        return np.concatenate(parts)

    def sample(self, h: np.ndarray, rng: np.random.Generator, scored: bool = False):
        """One token id drawn from p(w | h): the head's softmax, then the drawn cluster's.
        scored: (id, log p(id | h)) from the same two softmaxes (one more sum each)."""
        weights = _unnormalized(self.head_scores(h))
        index = _draw(weights, rng)
        logp = math.log(weights[index] / weights.sum()) if scored else 0.0
        if index < self.c0:
            return (index, logp) if scored else index
        k = index - self.c0
        weights = _unnormalized(self.tail_scores(h, k))
        inner = _draw(weights, rng)
        if scored:
            return self.bounds[k] + inner, logp + math.log(weights[inner] / weights.sum())
        return self.bounds[k] + inner


    def tempered_parts(self, h: np.ndarray, temperature: float) -> tuple[list, list]:
        """Each part of the vocabulary (head words, then each cluster) as (its float32 scores
        minus their max, log p of its best word) and its weights in p(w)^(1/T): the weights
        of all parts over their total are the tempered distribution. For a cluster word,
        p(w)^(1/T) = (p_head(k) / Z_k)^(1/T) exp((s_w - m_k) / T): one float32 exp per word,
        no V-long concatenation, float64 pass or running sum."""
        head = log_softmax(self.head_scores(h))  # (c_0 + n,) float64, small
        shifted, best = [head[: self.c0]], [float(head[: self.c0].max())]
        for k in range(len(self._tails)):
            z = self.tail_scores(h, k)
            z -= z.max()  # (size_k,) float32, max 0
            shifted.append(z)
            best.append(float(head[self.c0 + k]) - math.log(float(np.exp(z).sum(dtype=np.float64))))
        top, scale = max(best), 1.0 / temperature
        weights = [np.exp((shifted[0] - top) * scale)]
        for k in range(len(self._tails)):
            z = shifted[k + 1] * np.float32(scale)
            z += np.float32((best[k + 1] - top) * scale)
            weights.append(np.exp(z, out=z))
        return [(z, b) for z, b in zip(shifted, best)], weights

    def sample_tempered(self, h: np.ndarray, temperature: float, rng: np.random.Generator) -> tuple[int, float]:
        """(id, log p(id | h)) with id drawn from p(w | h)^(1/T): the part by its total weight,
        then the word inside it."""
        parts, weights = self.tempered_parts(h, temperature)
        part = _draw(np.array([w.sum(dtype=np.float64) for w in weights]), rng)
        inner = _draw(weights[part], rng)
        shifted, best = parts[part]
        # log p: the head's log-softmax as is; a cluster word is its part's best log p plus its shift
        logp = float(shifted[inner]) if part == 0 else best + float(shifted[inner])
        return (self.bounds[part - 1] if part else 0) + inner, logp


def _unnormalized(scores: np.ndarray) -> np.ndarray:
    """exp(scores - max) in float64: the softmax up to its normalizer."""
    z = scores.astype(np.float64)
    z -= z.max()
    return np.exp(z, out=z)


_BLOCK = 256


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """Index i drawn with probability weights[i] / sum(weights), by the inverse CDF.

    np.cumsum is sequential (~8 ns a word): over a 40k-word cluster it would cost
    more than the rest of the step. So the running sum goes over block totals
    (vectorized sums), then inside the one block the draw falls in."""
    n = weights.size
    target = rng.random()
    if n <= 2 * _BLOCK:
        cdf = np.cumsum(weights)
        return int(min(np.searchsorted(cdf, target * cdf[-1], side="right"), n - 1))
    full = n - n % _BLOCK
    totals = weights[:full].reshape(-1, _BLOCK).sum(axis=1)  # (n // B,)
    if full < n:
        totals = np.append(totals, weights[full:].sum())
    block_cdf = np.cumsum(totals)
    target *= block_cdf[-1]
    b = int(min(np.searchsorted(block_cdf, target, side="right"), block_cdf.size - 1))
    start = b * _BLOCK
    cdf = np.cumsum(weights[start: start + _BLOCK])
    rest = target - (block_cdf[b - 1] if b else 0.0)
    return start + int(min(np.searchsorted(cdf, rest, side="right"), cdf.size - 1))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max()
    return z - np.log(np.exp(z).sum())
