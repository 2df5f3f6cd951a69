"""LSTM variants the fused torch kernels do not cover: the peephole LSTM and CIFG.

Peephole LSTM (Gers & Schmidhuber 2000), diagonal peepholes p_i, p_f, p_o:

    i_t = s(W_i h_{t-1} + U_i x_t + p_i * c_{t-1} + b_i)
    f_t = s(W_f h_{t-1} + U_f x_t + p_f * c_{t-1} + b_f)
    c_t = f_t * c_{t-1} + i_t * tanh(W_g h_{t-1} + U_g x_t + b_g)
    o_t = s(W_o h_{t-1} + U_o x_t + p_o * c_t + b_o)        # the NEW cell
    h_t = o_t * tanh(c_t)

CIFG, coupled input and forget gate (Greff et al. 2017): the standard LSTM with
f_t = 1 - i_t, so there are no forget-gate weights (3 gate blocks, not 4):

    i_t = s(W_i h_{t-1} + U_i x_t + b_i)
    c_t = (1 - i_t) * c_{t-1} + i_t * tanh(W_g h_{t-1} + U_g x_t + b_g)
    o_t = s(W_o h_{t-1} + U_o x_t + b_o)
    h_t = o_t * tanh(c_t)

Parameters of layer k (names as nn.LSTM's, so weights copy across and stored
models keep stable tensor names; U = weight_ih, W = weight_hh, b = bias_ih + bias_hh):

    weight_ih_l{k}  (G*H, I)   gate blocks stacked by rows: i, f, g, o (peephole, G=4)
    weight_hh_l{k}  (G*H, H)                                 i, g, o    (cifg,     G=3)
    bias_ih_l{k}, bias_hh_l{k}  (G*H,)
    peephole_i_l{k}, peephole_f_l{k}, peephole_o_l{k}  (H,)  peephole LSTM only

and, bidirectional, the same again with the suffix _reverse (I = 2H above layer 0).

Speed: the input projections U x_t + b of all time steps are one matmul per
layer; only h_{t-1} -> gates runs step by step, with a hand-written backward
(PeepholeScan, CIFGScan). Measured with benchmarks/bench_cells.py --impls --compile
(2x200, bptt 35, batch 20, forward+backward of the stack, 1 thread, CPU time on a
shared 2-core machine), as multiples of the fused nn.LSTM's time:

    hand-written backward   peephole 1.26, cifg 0.94  (0.8-1.5 over runs)
    torch.compile           peephole 1.6, cifg 1.2, after a compile of ~36 s cold
                            (1-5 s from inductor's disk cache) in every process and
                            again for each new input shape (last window, eval batch)
    torch.jit.script        peephole 2.3, cifg 1.6  (no CPU fuser: it only saves dispatch)
    plain loop + autograd   peephole 2.5, cifg 1.8

so the hand-written backward is the default (deterministic on CPU: the tests train
twice and compare bit for bit; it has no atomics or reductions in varying order).
In a whole LM training step (softmax included) they take 1.03x (peephole) and 1.06x
(cifg) lstm's time with the cells taking turns every 10 steps (0.9-1.4x in noisier runs).
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn
from torch.nn import functional as F

CELLS = ("lstm-peephole", "cifg")
GATES = {"lstm-peephole": 4, "cifg": 3}


# ----------------------------------------------------------------- one time step
def peephole_step(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor,
                  p_i: Tensor, p_f: Tensor, p_o: Tensor) -> tuple[Tensor, Tensor]:
    """gx = U x_t + b (B, 4H) precomputed; h, c (B, H) -> h_t, c_t."""
    gates = torch.addmm(gx, h, w_hh.t())  # (B, 4H)
    gi, gf, gg, go = gates.chunk(4, 1)
    i = torch.sigmoid(gi + p_i * c)
    f = torch.sigmoid(gf + p_f * c)
    c = f * c + i * torch.tanh(gg)
    o = torch.sigmoid(go + p_o * c)
    return o * torch.tanh(c), c


def cifg_step(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    """gx = U x_t + b (B, 3H) precomputed; h, c (B, H) -> h_t, c_t."""
    gates = torch.addmm(gx, h, w_hh.t())  # (B, 3H)
    gi, gg, go = gates.chunk(3, 1)
    i = torch.sigmoid(gi)
    c = (1.0 - i) * c + i * torch.tanh(gg)  # f = 1 - i
    o = torch.sigmoid(go)
    return o * torch.tanh(c), c


# ------------------------------------------------------------ a whole sequence
def peephole_scan(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor,
                  p_i: Tensor, p_f: Tensor, p_o: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """gx (T, B, 4H) -> outputs (T, B, H), h_T, c_T."""
    outs: list[Tensor] = []
    for t in range(gx.size(0)):
        h, c = peephole_step(gx[t], h, c, w_hh, p_i, p_f, p_o)
        outs.append(h)
    return torch.stack(outs), h, c


def cifg_scan(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """gx (T, B, 3H) -> outputs (T, B, H), h_T, c_T."""
    outs: list[Tensor] = []
    for t in range(gx.size(0)):
        h, c = cifg_step(gx[t], h, c, w_hh)
        outs.append(h)
    return torch.stack(outs), h, c


# ------------------------------------------- the same scans with a written-out backward
# Autograd through the loops above records ~15 small ops per step and replays them
# one by one. Here the forward keeps the gate activations in (T, B, G) buffers, and
# the backward is the chain rule written out: every factor that depends on the
# forward values only is computed for all steps at once, so a step of the backward
# is 5 small ops and one matmul, and the weight gradients are one matmul over all
# steps. The tests check these gradients against autograd through the plain scans.

def _steps(*tensors: Tensor, backwards: bool = False):
    """Step t's slices of time-first tensors, t = 0.. (or ..0): unbind makes all the views
    in one call, where indexing in the loop costs about as much as a small op each. The
    shortest tensor sets the count (h_0..h_T runs with T steps); backwards, give equal lengths."""
    views = [t.unbind(0) for t in tensors]
    return zip(*(reversed(v) if backwards else v for v in views))


class PeepholeScan(torch.autograd.Function):
    """peephole_scan(gx, h0, c0, w_hh, p_i, p_f, p_o) with a hand-written backward."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, gx, h0, c0, w_hh, p_i, p_f, p_o):
        T, B, G = gx.shape
        H = G // 4
        act = torch.empty_like(gx)  # (T, B, 4H): i, f, g, o after their nonlinearities
        hs, cs = gx.new_empty(T + 1, B, H), gx.new_empty(T + 1, B, H)  # h_0..h_T, c_0..c_T
        tanh_c = gx.new_empty(T, B, H)  # tanh(c_t), t = 1..T
        hs[0], cs[0] = h0, c0
        w_t, p_if = w_hh.t(), torch.stack([p_i, p_f])  # (H, 4H), (2, H)
        for gx_t, a, h, c, h_new, c_new, tanh_c_new in _steps(gx, act, hs, cs, hs[1:], cs[1:], tanh_c):
            torch.addmm(gx_t, h, w_t, out=a)
            a[:, :2 * H].view(B, 2, H).addcmul_(p_if, c.unsqueeze(1)).sigmoid_()  # i, f
            a[:, 2 * H:3 * H].tanh_()  # g
            i, f, g, o = a.split(H, 1)
            torch.addcmul(f * c, i, g, out=c_new)
            o.addcmul_(p_o, c_new).sigmoid_()
            torch.mul(o, torch.tanh(c_new, out=tanh_c_new), out=h_new)
        ctx.save_for_backward(act, hs, cs, tanh_c, w_hh, p_i, p_f, p_o)
        return hs[1:].clone(), hs[T].clone(), cs[T].clone()

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, d_out, d_hT, d_cT):
        act, hs, cs, tanh_c, w_hh, p_i, p_f, p_o = ctx.saved_tensors
        T, B, G = act.shape
        H = G // 4
        i, f, g, o = act.split(H, 2)  # (T, B, H) each
        c_prev = cs[:T]
        # The chain rule's factors, all steps at once (a_x: the pre-activation of gate x):
        do_dh = tanh_c * o * (1 - o)  # dL/da_o = dL/dh_t * do_dh            (h = o tanh c)
        dc_dh = o * (1 - tanh_c * tanh_c) + do_dh * p_o  # dL/dc_t += dL/dh_t * dc_dh (via tanh c, p_o c)
        difg_dc = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], 2)  # (T, B, 3, H)
        dcprev_dc = f + difg_dc[:, :, 0] * p_i + difg_dc[:, :, 1] * p_f  # dL/dc_{t-1} = dL/dc_t * this
        d_act = torch.empty_like(act)  # (T, B, 4H): dL/da of i, f, g, o
        dh, dc = d_hT.clone(), d_cT.clone()  # dL/dh_t, dL/dc_t from the later steps
        for da, d_out_t, dc_dh_t, difg_dc_t, do_dh_t, dcprev_dc_t in _steps(
                d_act, d_out, dc_dh, difg_dc, do_dh, dcprev_dc, backwards=True):
            dh += d_out_t
            dc.addcmul_(dh, dc_dh_t)
            torch.mul(dc.unsqueeze(1), difg_dc_t, out=da[:, :3 * H].view(B, 3, H))  # i, f, g
            torch.mul(dh, do_dh_t, out=da[:, 3 * H:])  # o
            dh = da @ w_hh  # -> dL/dh_{t-1}
            dc.mul_(dcprev_dc_t)  # -> dL/dc_{t-1}
        d_i, d_f, _, d_o = d_act.split(H, 2)
        d_w = d_act.view(T * B, G).t() @ hs[:T].reshape(T * B, H)  # sum_t da_t^T h_{t-1}
        d_pi, d_pf, d_po = ((d * c).sum((0, 1)) for d, c in ((d_i, c_prev), (d_f, c_prev), (d_o, cs[1:])))
        return d_act, dh, dc, d_w, d_pi, d_pf, d_po


class CIFGScan(torch.autograd.Function):
    """cifg_scan(gx, h0, c0, w_hh) with a hand-written backward."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, gx, h0, c0, w_hh):
        T, B, G = gx.shape
        H = G // 3
        act = torch.empty_like(gx)  # (T, B, 3H): i, g, o after their nonlinearities
        hs, cs = gx.new_empty(T + 1, B, H), gx.new_empty(T + 1, B, H)
        tanh_c = gx.new_empty(T, B, H)
        hs[0], cs[0] = h0, c0
        w_t = w_hh.t()
        for gx_t, a, h, c, h_new, c_new, tanh_c_new in _steps(gx, act, hs, cs, hs[1:], cs[1:], tanh_c):
            torch.addmm(gx_t, h, w_t, out=a)
            a[:, :H].sigmoid_()
            a[:, H:2 * H].tanh_()
            a[:, 2 * H:].sigmoid_()
            i, g, o = a.split(H, 1)
            torch.addcmul(c, i, g - c, out=c_new)  # (1 - i) c + i g
            torch.mul(o, torch.tanh(c_new, out=tanh_c_new), out=h_new)
        ctx.save_for_backward(act, hs, cs, tanh_c, w_hh)
        return hs[1:].clone(), hs[T].clone(), cs[T].clone()

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, d_out, d_hT, d_cT):
        act, hs, cs, tanh_c, w_hh = ctx.saved_tensors
        T, B, G = act.shape
        H = G // 3
        i, g, o = act.split(H, 2)
        do_dh = tanh_c * o * (1 - o)
        dc_dh = o * (1 - tanh_c * tanh_c)
        dig_dc = torch.stack([(g - cs[:T]) * i * (1 - i), i * (1 - g * g)], 2)  # (T, B, 2, H)
        dcprev_dc = 1 - i  # the forget gate
        d_act = torch.empty_like(act)
        dh, dc = d_hT.clone(), d_cT.clone()
        for da, d_out_t, dc_dh_t, dig_dc_t, do_dh_t, dcprev_dc_t in _steps(
                d_act, d_out, dc_dh, dig_dc, do_dh, dcprev_dc, backwards=True):
            dh += d_out_t
            dc.addcmul_(dh, dc_dh_t)
            torch.mul(dc.unsqueeze(1), dig_dc_t, out=da[:, :2 * H].view(B, 2, H))  # i, g
            torch.mul(dh, do_dh_t, out=da[:, 2 * H:])  # o
            dh = da @ w_hh
            dc.mul_(dcprev_dc_t)
        d_w = d_act.view(T * B, G).t() @ hs[:T].reshape(T * B, H)
        return d_act, dh, dc, d_w


SCANS = {"lstm-peephole": peephole_scan, "cifg": cifg_scan}
MANUAL = {"lstm-peephole": PeepholeScan.apply, "cifg": CIFGScan.apply}
IMPLS = ("manual", "script", "loop", "compile")
_BUILT: dict = {}


def scan_function(cell: str, impl: str = "manual"):
    """The step loop of `cell`: "manual" (hand-written backward, the default), "script"
    (torch.jit.script of the plain scan), "loop" (the plain scan, autograd) or "compile"
    (torch.compile of the plain scan: a compile per process and per input shape)."""
    if impl == "manual":
        return MANUAL[cell]
    if impl == "loop":
        return SCANS[cell]
    if (cell, impl) not in _BUILT:
        if impl == "script":
            with warnings.catch_warnings():  # deprecated in torch 2.13; kept here to be measured
                warnings.simplefilter("ignore", DeprecationWarning)
                _BUILT[cell, impl] = torch.jit.script(SCANS[cell])
        elif impl == "compile":
            _BUILT[cell, impl] = torch.compile(SCANS[cell], dynamic=False)
        else:
            raise ValueError(f"unknown scan implementation {impl!r} (choose {', '.join(IMPLS)})")
    return _BUILT[cell, impl]


# ------------------------------------------------------------------ the module
class LSTMVariant(nn.Module):
    """A stack of peephole or CIFG LSTM layers with nn.LSTM's interface:

        out, (h_T, c_T) = rnn(x, (h_0, c_0))    x (T, B, I); h_0, c_0 (L*D, B, H); out (T, B, D*H)

    (batch_first: x and out are (B, T, .)). D = 2 when bidirectional: the second
    direction of each layer (parameters *_reverse, as in nn.LSTM) reads the sequence
    from its end. Dropout (in training) applies to the outputs of every layer but the
    last, as in nn.LSTM. `impl` picks the step loop (see scan_function); all give the
    same numbers. No PackedSequence: run_layer is there for callers that handle
    variable lengths themselves (the classifier's padded path).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False, batch_first: bool = False,
                 impl: str = "manual"):
        super().__init__()
        if cell not in GATES:
            raise ValueError(f"unknown cell {cell!r} (choose {', '.join(CELLS)})")
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.num_layers, self.dropout, self.impl = num_layers, dropout, impl
        self.bidirectional, self.batch_first = bidirectional, batch_first
        self.suffixes = ("", "_reverse") if bidirectional else ("",)
        G, H = GATES[cell] * hidden_size, hidden_size
        for k in range(num_layers):
            inputs = input_size if k == 0 else H * len(self.suffixes)
            for sfx in self.suffixes:
                self.register_parameter(f"weight_ih_l{k}{sfx}", nn.Parameter(torch.empty(G, inputs)))
                self.register_parameter(f"weight_hh_l{k}{sfx}", nn.Parameter(torch.empty(G, H)))
                self.register_parameter(f"bias_ih_l{k}{sfx}", nn.Parameter(torch.empty(G)))
                self.register_parameter(f"bias_hh_l{k}{sfx}", nn.Parameter(torch.empty(G)))
                if cell == "lstm-peephole":
                    for gate in "ifo":
                        self.register_parameter(f"peephole_{gate}_l{k}{sfx}", nn.Parameter(torch.empty(H)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.LSTM's initialisation, peepholes included: U(-1/sqrt(H), 1/sqrt(H)).
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def run_layer(self, x: Tensor, k: int, suffix: str = "", h0: Tensor | None = None,
                  c0: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """Layer k, direction `suffix` ("" or "_reverse"), left to right over time-first
        x (T, B, I) from h0, c0 (B, H) (default zeros) -> out (T, B, H), h_T, c_T."""
        T, B, _ = x.shape
        if h0 is None:
            h0 = c0 = x.new_zeros(B, self.hidden_size)
        w_ih, b_ih, b_hh = (getattr(self, f"{n}_l{k}{suffix}") for n in ("weight_ih", "bias_ih", "bias_hh"))
        # U x_t + b for every t at once: (T*B, I) @ (I, G) -> (T, B, G)
        gx = torch.addmm(b_ih + b_hh, x.reshape(T * B, -1), w_ih.t()).view(T, B, -1)
        # then the recurrence, with weight_hh (and the peepholes p_i, p_f, p_o)
        names = ["weight_hh"] + ([f"peephole_{g}" for g in "ifo"] if self.cell == "lstm-peephole" else [])
        weights = [getattr(self, f"{n}_l{k}{suffix}") for n in names]
        return scan_function(self.cell, self.impl)(gx, h0, c0, *weights)

    def forward(self, x: Tensor, hidden: tuple[Tensor, Tensor] | None = None):
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I)
        D = len(self.suffixes)
        if hidden is None:
            zeros = x.new_zeros(self.num_layers * D, x.size(1), self.hidden_size)
            hidden = (zeros, zeros)
        h0, c0 = hidden  # (L*D, B, H) each, layer by layer, forward direction first
        hs, cs = [], []
        for k in range(self.num_layers):
            if k:
                x = F.dropout(x, self.dropout, self.training)
            outs = []
            for d, suffix in enumerate(self.suffixes):
                j = k * D + d
                if suffix:  # the reverse direction: a left-to-right scan of the flipped sequence
                    out, h, c = self.run_layer(x.flip(0), k, suffix, h0[j], c0[j])
                    out = out.flip(0)
                else:
                    out, h, c = self.run_layer(x, k, suffix, h0[j], c0[j])
                outs.append(out)  # (T, B, H)
                hs.append(h)
                cs.append(c)
            x = torch.cat(outs, 2) if D > 1 else outs[0]  # (T, B, D*H)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, (torch.stack(hs), torch.stack(cs))

    def extra_repr(self) -> str:
        return (f"{self.cell}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, bidirectional={self.bidirectional}, batch_first={self.batch_first}")


def make_rnn(cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.Module:
    """The time-first recurrent stack of `cell`: torch's fused module where there is one."""
    inter = dropout if num_layers > 1 else 0.0
    if cell in GATES:
        return LSTMVariant(cell, input_size, hidden_size, num_layers, dropout=inter)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, num_layers, dropout=inter)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, num_layers, dropout=inter)
    return nn.RNN(input_size, hidden_size, num_layers, dropout=inter,
                  nonlinearity="relu" if cell == "rnn-relu" else "tanh")
