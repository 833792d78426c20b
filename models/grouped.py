"""Grouped per-channel layers: G independent copies of a layer, computed as one.

GroupedTARM (models/tarm.py) runs one TARM per input channel; these are its
building blocks. Every parameter has a leading channel (group) dimension, and
slice [c] is exactly the matching parameter of channel c's stand-alone module:
GroupedLinear.weight[c] is an nn.Linear weight, and GroupedBiGRU.weight_ih[c, d]
is nn.GRU's weight_ih_l0 (d=0) or weight_ih_l0_reverse (d=1). So C stand-alone
modules are one grouped module with the same weights (`stack_tarm_states` in
models/tarm.py converts C TARM state dicts).

Why grouped rather than C separate modules: C separate `nn.GRU` calls cost C
times the GRU's per-step overhead (about 2.3 ms each on a CPU for T=64, whatever
the hidden size), while grouped matmuls and a single recurrence loop for all C
bidirectional GRUs cost little more than one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GroupedLinear", "GroupedLayerNorm", "GroupedDepthwiseConv1d", "GroupedSelfAttention", "GroupedBiGRU",
    "run_bigrus", "GRU_IMPLS",
]

GRU_IMPLS = ("auto", "loop", "blockdiag", "split", "onnx")


class GroupedLinear(nn.Module):
    """G independent nn.Linear(in, out) on (B, G, T, in) -> (B, G, T, out); weight (G, out, in), bias (G, out)."""

    def __init__(self, groups: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.groups, self.in_features, self.out_features = groups, in_features, out_features
        self.weight = nn.Parameter(torch.empty(groups, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(groups, out_features))
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default initialisation
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.weight.transpose(1, 2)) + self.bias.unsqueeze(1)


class GroupedLayerNorm(nn.Module):
    """G independent nn.LayerNorm(features) on (B, G, T, features)."""

    def __init__(self, groups: int, features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps, self.features = eps, features
        self.weight = nn.Parameter(torch.ones(groups, features))
        self.bias = nn.Parameter(torch.zeros(groups, features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x, (self.features,), None, None, self.eps)
        return y * self.weight.unsqueeze(1) + self.bias.unsqueeze(1)


class GroupedDepthwiseConv1d(nn.Module):
    """G independent nn.Conv1d(dim, dim, k, padding=k//2, groups=dim) over T on (B, G, T, dim)."""

    def __init__(self, groups: int, dim: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.groups, self.dim, self.kernel_size = groups, dim, kernel_size
        self.weight = nn.Parameter(torch.empty(groups, dim, 1, kernel_size))
        self.bias = nn.Parameter(torch.empty(groups, dim))
        bound = 1.0 / math.sqrt(kernel_size)  # nn.Conv1d's default for a depthwise kernel
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, g, t, d = x.shape
        gd, k = self.groups * self.dim, self.kernel_size  # plain ints: ONNX export needs a static kernel shape
        y = F.conv1d(
            x.transpose(2, 3).reshape(b, gd, t), self.weight.reshape(gd, 1, k), self.bias.reshape(gd),
            padding=k // 2, groups=gd,
        )
        return y.reshape(b, g, d, t).transpose(2, 3)


class GroupedSelfAttention(nn.Module):
    """G independent SelfAttentionMemory on (B, G, T, N) -> (B, G, T, dim), same maths and parameter layout."""

    def __init__(self, groups: int, num_features: int, dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by heads={heads}")
        self.heads = heads
        self.inp = GroupedLinear(groups, num_features, dim)
        self.pos = GroupedDepthwiseConv1d(groups, dim, 3)
        self.qkv = GroupedLinear(groups, dim, 3 * dim)
        self.out = GroupedLinear(groups, dim, dim)
        self.norm = GroupedLayerNorm(groups, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, g, t, _ = x.shape
        h = self.inp(x)
        h = h + self.pos(h)
        q, k, v = self.qkv(h).reshape(b, g, t, 3, self.heads, -1).permute(3, 0, 1, 4, 2, 5)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        ctx = (self.drop(att) @ v).transpose(2, 3).reshape(b, g, t, -1)
        return self.norm(h + self.out(ctx))


class GroupedBiGRU(nn.Module):
    """G independent one-layer bidirectional GRUs on (B, G, T, N) -> (B, G, T, 2 * hidden).

    weight_ih (G, 2, 3H, N), weight_hh (G, 2, 3H, H), bias_ih and bias_hh (G, 2, 3H): [g, 0] is nn.GRU's
    *_l0 and [g, 1] its *_l0_reverse, gates in PyTorch's r|z|n order. The output's last dimension is
    [forward, backward] like nn.GRU's. `impl` picks how it is computed (the results agree to rounding):

    * "loop": one Python loop over T for all G groups and both directions at once (a batched matmul per
      step). T steps of ~8 small ops instead of G x 2T steps of nn.GRU: the fast choice on a CPU.
    * "blockdiag": one fused GRU call whose weights are the block-diagonal assembly of the G GRUs (the
      off-block zeros get no gradient). One cuDNN call on a GPU; on a CPU its C-times-larger recurrent
      matmul makes it slower than "loop" for C > 2.
    * "split": G separate GRU calls (batch-first), as nn.GRU would run them.
    * "onnx": what ONNX export emits: exactly one ONNX GRU node per group (both directions, no initial
      state) on the time-major input, and one Concat of their outputs. onnxruntime's GRU kernel is the
      fastest recurrence it has (an unrolled or Scan loop pays its per-node overhead at each of the T
      steps, a block-diagonal GRU G times the FLOPs); the shape glue that the exporter's own GRU
      translation wraps around each node (initial-state zeros built from the batch size, two transposes,
      a reshape, a stack: about 7% of the shipped model's onnxruntime time at batch 1) is left out.
      Outside export it runs the same computation through torch's GRU, so it is tested like the others.
      T and batch stay dynamic.
    * "auto": "onnx" while exporting to ONNX, "split" while only tracing, "blockdiag" on CUDA, otherwise
      "loop".
    """

    impl: str = "auto"

    def __init__(self, groups: int, input_size: int, hidden: int) -> None:
        super().__init__()
        if min(groups, input_size, hidden) < 1:
            raise ValueError("groups, input_size and hidden must be >= 1")
        self.groups, self.input_size, self.hidden = groups, input_size, hidden
        self.weight_ih = nn.Parameter(torch.empty(groups, 2, 3 * hidden, input_size))
        self.weight_hh = nn.Parameter(torch.empty(groups, 2, 3 * hidden, hidden))
        self.bias_ih = nn.Parameter(torch.empty(groups, 2, 3 * hidden))
        self.bias_hh = nn.Parameter(torch.empty(groups, 2, 3 * hidden))
        bound = 1.0 / math.sqrt(hidden)  # nn.GRU's default initialisation
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_bigrus([self], x)[0]


def _gru_impl(impl: str, x: torch.Tensor) -> str:
    if impl not in GRU_IMPLS:
        raise ValueError(f"GRU impl must be one of {GRU_IMPLS}, got {impl!r}")
    if impl != "auto":
        return impl
    if torch.onnx.is_in_onnx_export():
        return "onnx"
    if torch.jit.is_tracing():
        return "split"
    return "blockdiag" if x.is_cuda else "loop"


def run_bigrus(grus: Sequence[GroupedBiGRU], x: torch.Tensor, impl: str | None = None) -> list[torch.Tensor]:
    """Run several GroupedBiGRUs of equal shape on the same input (B, G, T, N); one (B, G, T, 2H) each.

    Sharing the call lets a TARM with a GRU gate run its memory and gate recurrences in one loop.
    impl=None takes the first GRU's `impl`.
    """
    first = grus[0]
    if any((g.groups, g.input_size, g.hidden) != (first.groups, first.input_size, first.hidden) for g in grus):
        raise ValueError("run_bigrus needs GRUs of one shape")
    if x.dim() != 4 or x.shape[1] != first.groups or x.shape[3] != first.input_size:
        raise ValueError(f"GroupedBiGRU expects (B, {first.groups}, T, {first.input_size}), got {tuple(x.shape)}")
    impl = _gru_impl(first.impl if impl is None else impl, x)
    if impl == "loop":
        return _bigru_loop(grus, x)
    if impl == "blockdiag":
        return [_bigru_blockdiag(g, x) for g in grus]
    if impl == "onnx":
        return [_bigru_onnx(g, x) for g in grus]
    return [_bigru_split(g, x) for g in grus]


def _bigru_loop(grus: Sequence[GroupedBiGRU], x: torch.Tensor) -> list[torch.Tensor]:
    b, g, t, n = x.shape
    hid = grus[0].hidden
    k = len(grus)
    w_ih = torch.cat([m.weight_ih for m in grus]) if k > 1 else grus[0].weight_ih  # (kG, 2, 3H, N)
    w_hh = torch.cat([m.weight_hh for m in grus]) if k > 1 else grus[0].weight_hh
    b_ih = torch.cat([m.bias_ih for m in grus]) if k > 1 else grus[0].bias_ih
    b_hh = torch.cat([m.bias_hh for m in grus]) if k > 1 else grus[0].bias_hh
    kg = k * g
    # Input projections of every step at once: (kG, B*T, N) @ (kG, N, 2*3H).
    xs = x.transpose(0, 1).reshape(g, b * t, n)
    if k > 1:
        xs = xs.repeat(k, 1, 1)
    gi = torch.baddbmm(b_ih.reshape(kg, 1, 6 * hid), xs, w_ih.reshape(kg, 6 * hid, n).transpose(1, 2))
    gi = gi.reshape(kg, b, t, 2, 3 * hid).permute(2, 3, 0, 1, 4)  # (T, direction, kG, B, 3H)
    # Both directions advance together: at step s the forward GRUs read frame s, the backward ones T-1-s.
    gi = torch.stack([gi[:, 0], gi[:, 1].flip(0)], dim=1).reshape(t, 2 * kg, b, 3 * hid)
    gi_rz = gi[..., : 2 * hid].unbind(0)
    gi_n = gi[..., 2 * hid :].unbind(0)
    # (2kG, H, 3H), group d*kG + i; contiguous once here, or every step's matmul would copy it.
    w_hh = w_hh.transpose(0, 1).reshape(2 * kg, 3 * hid, hid).transpose(1, 2).contiguous()
    b_hh = b_hh.transpose(0, 1).reshape(2 * kg, 1, 3 * hid)
    h = gi.new_zeros(2 * kg, b, hid)  # gi's dtype, which autocast may have lowered
    outs = []
    for s in range(t):
        gh = torch.baddbmm(b_hh, h, w_hh)
        gh_rz, gh_n = gh.split((2 * hid, hid), dim=-1)
        r, z = torch.sigmoid(gi_rz[s] + gh_rz).chunk(2, dim=-1)
        n_gate = torch.tanh(torch.addcmul(gi_n[s], r, gh_n))
        h = torch.lerp(n_gate, h, z)  # (1 - z) * n + z * h, as nn.GRU
        outs.append(h)
    out = torch.stack(outs).reshape(t, 2, kg, b, hid)
    y = torch.cat([out[:, 0], out[:, 1].flip(0)], dim=-1).permute(2, 1, 0, 3)  # (B, kG, T, 2H)
    return list(y.split(g, dim=1)) if k > 1 else [y]


def _gru_call(x: torch.Tensor, hidden: int, params: list[torch.Tensor], training: bool) -> torch.Tensor:
    """torch's fused bidirectional one-layer GRU on (B, T, F) with explicit weights -> (B, T, 2 * hidden)."""
    h0 = torch.zeros(2, x.shape[0], hidden, dtype=x.dtype, device=x.device)
    if x.is_cuda:
        with warnings.catch_warnings():
            # cuDNN copies weights that are not one flat buffer (ours are computed) and says so every call.
            warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
            return torch._VF.gru(x, h0, params, True, 1, 0.0, training, True, True)[0]
    return torch._VF.gru(x, h0, params, True, 1, 0.0, training, True, True)[0]


def _bigru_split(gru: GroupedBiGRU, x: torch.Tensor) -> torch.Tensor:
    outs = []
    for c in range(gru.groups):
        params = [p[c, d] for d in (0, 1) for p in (gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh)]
        outs.append(_gru_call(x[:, c], gru.hidden, params, gru.training))
    return torch.stack(outs, dim=1)


def _bigru_blockdiag(gru: GroupedBiGRU, x: torch.Tensor) -> torch.Tensor:
    b, t = x.shape[0], x.shape[2]
    g, n, hid = gru.groups, gru.input_size, gru.hidden  # plain ints, so ONNX export sees static weight shapes
    eye = torch.eye(g, dtype=x.dtype, device=x.device)

    def block(w: torch.Tensor, f: int) -> torch.Tensor:  # (G, 3H, F) -> (3*G*H, G*F), gate-major rows like nn.GRU
        return torch.einsum("cqhf,cd->qchdf", w.reshape(g, 3, hid, f), eye).reshape(3 * g * hid, g * f)

    def bias(v: torch.Tensor) -> torch.Tensor:  # (G, 3H) -> (3*G*H,)
        return v.reshape(g, 3, hid).transpose(0, 1).reshape(3 * g * hid)

    params = []
    for d in (0, 1):
        params += [block(gru.weight_ih[:, d], n), block(gru.weight_hh[:, d], hid), bias(gru.bias_ih[:, d]),
                   bias(gru.bias_hh[:, d])]
    y = _gru_call(x.permute(0, 2, 1, 3).reshape(b, t, g * n), g * hid, params, gru.training)
    return y.reshape(b, t, 2, g, hid).permute(0, 3, 1, 2, 4).reshape(b, g, t, 2 * hid)


def _zrn(w: torch.Tensor, hid: int, dim: int) -> torch.Tensor:
    """torch's r|z|n gate blocks along `dim` -> ONNX's z|r|h order (the same permutation undoes itself)."""
    # narrow, not split: the exporter constant-folds slices of parameters but leaves a multi-output Split in
    return torch.cat([w.narrow(dim, hid, hid), w.narrow(dim, 0, hid), w.narrow(dim, 2 * hid, hid)], dim=dim)


class _OnnxBiGRU(torch.autograd.Function):
    """One ONNX GRU node (bidirectional, linear_before_reset, no initial state): x (T, B, N) -> Y (T, 2, B, H).

    w (2, 3H, N), r (2, 3H, H), bias (2, 6H) are in ONNX's layout and z|r|h gate order. Only used while
    exporting: `forward` gives the tracer the right values, `symbolic` is what lands in the file.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, r: torch.Tensor, bias: torch.Tensor, hid: int) -> torch.Tensor:
        params = []
        for d in (0, 1):
            params += [_zrn(w[d], hid, 0), _zrn(r[d], hid, 0), _zrn(bias[d, : 3 * hid], hid, 0),
                       _zrn(bias[d, 3 * hid :], hid, 0)]
        h0 = x.new_zeros(2, x.shape[1], hid)
        y = torch._VF.gru(x, h0, params, True, 1, 0.0, False, True, False)[0]  # (T, B, 2H)
        return y.reshape(x.shape[0], x.shape[1], 2, hid).transpose(1, 2)

    @staticmethod
    def symbolic(g, x, w, r, bias, hid: int):
        return g.op("GRU", x, w, r, bias, hidden_size_i=hid, direction_s="bidirectional", linear_before_reset_i=1)


def _bigru_onnx(gru: GroupedBiGRU, x: torch.Tensor) -> torch.Tensor:
    b, g, t, _ = x.shape
    hid = gru.hidden
    xt = x.permute(1, 2, 0, 3)  # (G, T, B, N): each group's slice is already the time-major GRU input
    exporting = torch.onnx.is_in_onnx_export()
    ys = []
    for c in range(g):
        if exporting:
            w = _zrn(gru.weight_ih[c], hid, 1)  # computed from parameters: constant-folded into initializers
            r = _zrn(gru.weight_hh[c], hid, 1)
            bias = torch.cat([_zrn(gru.bias_ih[c], hid, 1), _zrn(gru.bias_hh[c], hid, 1)], dim=1)
            ys.append(_OnnxBiGRU.apply(xt[c], w, r, bias, hid))
        else:
            params = [p[c, d] for d in (0, 1) for p in (gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh)]
            h0 = x.new_zeros(2, b, hid)
            y = torch._VF.gru(xt[c], h0, params, True, 1, 0.0, gru.training, True, False)[0]
            ys.append(y.reshape(t, b, 2, hid).transpose(1, 2))
    y = torch.cat(ys, dim=1)  # (T, G*2, B, H), group-major like the parameters
    return y.reshape(t, g, 2, b, hid).permute(3, 1, 0, 2, 4).reshape(b, g, t, 2 * hid)
