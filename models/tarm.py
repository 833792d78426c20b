"""Temporal attention recalibration module (TARM): X' = X + F_M(X) * F_A(X).

A TARM sees a sequence (B, T, N) -- one coordinate axis of all joints per frame,
or the rows of a depth motion image -- and returns a recalibrated sequence of
the same shape, so it can sit in front of any CNN without changing that CNN.
F_M ("memory") gives each step context from the whole clip (a BiGRU, or
multi-head self-attention as the paper's future-work variant) projected back to
N; F_A is a sigmoid gate of the same shape choosing where that correction
applies. The sum is residual so the CNN always has the raw signal available.

One TARM per input channel (the paper's per-axis TARMs) is `GroupedTARM`: the C
TARMs keep separate weights but run as one computation -- grouped matmuls for
the linear maps and a single recurrence loop for all C bidirectional GRUs --
because C separate `nn.GRU` calls cost C times the GRU's per-step overhead
(about 2.3 ms each on a CPU for T=64, whatever the hidden size).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "TARM", "FeatureTARM", "AxisTARMs", "SelfAttentionMemory", "GroupedTARM", "GroupedBiGRU", "GroupedLinear",
    "GroupedLayerNorm", "GroupedSelfAttention", "GroupedDepthwiseConv1d", "run_bigrus", "stack_tarm_states",
    "MEMORIES", "GATES", "GRU_IMPLS",
]

MEMORIES = ("bigru", "attention")
GATES = ("linear", "gru")


class SelfAttentionMemory(nn.Module):
    """Multi-head self-attention over time, a drop-in for the BiGRU memory.

    Written with plain matmul/softmax rather than nn.MultiheadAttention because
    the latter's fused fast path does not export through the legacy ONNX
    exporter. Attention is order-blind, so a depthwise temporal convolution adds
    relative position; unlike a learned position table it works for any T.
    """

    def __init__(self, num_features: int, dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by heads={heads}")
        self.heads = heads
        self.inp = nn.Linear(num_features, dim)
        self.pos = nn.Conv1d(dim, dim, 3, padding=1, groups=dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        h = self.inp(x)
        h = h + self.pos(h.transpose(1, 2)).transpose(1, 2)
        q, k, v = self.qkv(h).reshape(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        ctx = (self.drop(att) @ v).transpose(1, 2).reshape(b, t, -1)
        return self.norm(h + self.out(ctx))


class _BiGRU(nn.Module):
    def __init__(self, num_features: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(num_features, hidden, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class TARM(nn.Module):
    """One TARM on (B, T, N) -> (B, T, N).

    memory: "bigru" (paper) or "attention" (multi-head self-attention, width
    2*hidden so both memories hand the projection the same size). gate: the F_A
    branch, "linear" (per-frame linear + sigmoid, cheap) or "gru" (a BiGRU +
    linear + sigmoid, so the gate also sees temporal context).
    norm: LayerNorm the input of both branches (not the residual path); useful
    when features mix scales (positions, bones, velocities).

    Initialisation -- why the residual branch starts small but not zero: the
    output of a TARM is directly the image the CNN sees, so a full-size random
    recalibration would scramble the joint coordinates at step 0 and the CNN
    would first have to learn to undo it. Starting near identity lets the CNN
    learn from the raw skeleton while the TARM grows a correction. It must not
    be exactly zero: F_M * F_A is a product, and zero projection weights would
    give the GRU zero gradient (and a zero gate would do the same to F_M), so
    the memory projection starts at `init_scale` times its usual scale and the
    gate bias at 0 (sigmoid = 0.5, the most sensitive point).
    """

    def __init__(
        self,
        num_features: int,
        hidden: int = 64,
        memory: str = "bigru",
        heads: int = 4,
        dropout: float = 0.0,
        gate: str = "linear",
        norm: bool = False,
        init_scale: float = 0.1,
    ) -> None:
        super().__init__()
        if memory not in MEMORIES:
            raise ValueError(f"memory must be one of {MEMORIES}, got {memory!r}")
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        if num_features < 1 or hidden < 1:
            raise ValueError("num_features and hidden must be >= 1")
        self.num_features = num_features
        self.norm = nn.LayerNorm(num_features) if norm else nn.Identity()
        if memory == "bigru":
            self.memory = _BiGRU(num_features, hidden)
        else:
            self.memory = SelfAttentionMemory(num_features, 2 * hidden, heads, dropout)
        self.drop = nn.Dropout(dropout)
        self.project = nn.Linear(2 * hidden, num_features)
        if gate == "linear":
            self.gate = nn.Linear(num_features, num_features)
        else:
            self.gate = nn.Sequential(_BiGRU(num_features, hidden), nn.Linear(2 * hidden, num_features))
        self._init_residual(init_scale)

    def _init_residual(self, init_scale: float) -> None:
        nn.init.normal_(self.project.weight, std=init_scale / math.sqrt(self.project.in_features))
        nn.init.zeros_(self.project.bias)
        last = self.gate if isinstance(self.gate, nn.Linear) else self.gate[-1]
        nn.init.zeros_(last.bias)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F_M(X) * F_A(X): the recalibration added to X (exposed for tests and inspection)."""
        h = self.norm(x)
        return self.project(self.drop(self.memory(h))) * torch.sigmoid(self.gate(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.num_features:
            raise ValueError(f"TARM expects (B, T, {self.num_features}), got {tuple(x.shape)}")
        return x + self.residual(x)


class FeatureTARM(TARM):
    """One TARM over richer per-step features (B, T, F), e.g. F = joints x channels.

    The alternative to one TARM per axis: a single memory sees all axes (and
    bone/velocity channels) of all joints at once, so it can model cross-axis
    motion; defaults differ from TARM because F is larger and mixes scales
    (hence norm=True and a wider memory).
    """

    def __init__(self, num_features: int, hidden: int = 128, norm: bool = True, **kwargs) -> None:
        super().__init__(num_features, hidden=hidden, norm=norm, **kwargs)


# --- one TARM per channel, computed together -------------------------------------------------------------------
#
# Every parameter of a grouped module has a leading channel (group) dimension, and slice [c] is exactly the
# matching parameter of channel c's stand-alone module: GroupedLinear.weight[c] is an nn.Linear weight, and
# GroupedBiGRU.weight_ih[c, d] is nn.GRU's weight_ih_l0 (d=0) or weight_ih_l0_reverse (d=1). So
# GroupedTARM's state dict is TARM's with "gru." and "_l0[_reverse]" folded into the leading dimensions
# (`stack_tarm_states` converts C TARM state dicts), and C TARMs are one grouped TARM with the same weights.

GRU_IMPLS = ("auto", "loop", "blockdiag", "split")


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
    * "split": G separate GRU calls; this is what ONNX export emits (one ONNX GRU op per group, which
      onnxruntime runs faster than one block-diagonal GRU op, and T stays dynamic).
    * "auto": "split" while tracing/exporting, "blockdiag" on CUDA, otherwise "loop".
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
    if torch.onnx.is_in_onnx_export() or torch.jit.is_tracing():
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


class GroupedTARM(nn.Module):
    """G independent TARMs, one per channel of (B, G, T, N) -> (B, G, T, N); same options as TARM.

    Mathematically C separate TARMs (no weight is shared, no channel sees another), computed as one:
    with the default BiGRU memory on a CPU at batch 1, 9 channels cost about twice what a single
    nn.GRU-based TARM does instead of nine times (T=64, N=20, hidden 64: ~5 ms instead of ~22 ms).
    """

    def __init__(
        self,
        num_features: int,
        groups: int,
        hidden: int = 64,
        memory: str = "bigru",
        heads: int = 4,
        dropout: float = 0.0,
        gate: str = "linear",
        norm: bool = False,
        init_scale: float = 0.1,
    ) -> None:
        super().__init__()
        if memory not in MEMORIES:
            raise ValueError(f"memory must be one of {MEMORIES}, got {memory!r}")
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        if num_features < 1 or hidden < 1 or groups < 1:
            raise ValueError("num_features, groups and hidden must be >= 1")
        self.num_features, self.groups = num_features, groups
        self.norm = GroupedLayerNorm(groups, num_features) if norm else nn.Identity()
        if memory == "bigru":
            self.memory = GroupedBiGRU(groups, num_features, hidden)
        else:
            self.memory = GroupedSelfAttention(groups, num_features, 2 * hidden, heads, dropout)
        self.drop = nn.Dropout(dropout)
        self.project = GroupedLinear(groups, 2 * hidden, num_features)
        if gate == "linear":
            self.gate = GroupedLinear(groups, num_features, num_features)
        else:
            self.gate = nn.Sequential(
                GroupedBiGRU(groups, num_features, hidden), GroupedLinear(groups, 2 * hidden, num_features)
            )
        # As TARM._init_residual, per channel: each weight[c] is a (out, in) matrix.
        nn.init.normal_(self.project.weight, std=init_scale / math.sqrt(self.project.in_features))
        nn.init.zeros_(self.project.bias)
        nn.init.zeros_((self.gate if isinstance(self.gate, GroupedLinear) else self.gate[-1]).bias)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F_M(X) * F_A(X) for every channel: the recalibration added to X."""
        h = self.norm(x)
        if isinstance(self.memory, GroupedBiGRU) and isinstance(self.gate, nn.Sequential):
            mem, gate_seq = run_bigrus([self.memory, self.gate[0]], h)  # both recurrences in one loop
            gate = self.gate[1](gate_seq)
        else:
            mem, gate = self.memory(h), self.gate(h)
        return self.project(self.drop(mem)) * torch.sigmoid(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.groups or x.shape[3] != self.num_features:
            raise ValueError(f"GroupedTARM expects (B, {self.groups}, T, {self.num_features}), got {tuple(x.shape)}")
        return x + self.residual(x)

    def set_gru_impl(self, impl: str) -> "GroupedTARM":
        """Force one GRU implementation (see GroupedBiGRU) for every recurrence in this module."""
        if impl not in GRU_IMPLS:
            raise ValueError(f"GRU impl must be one of {GRU_IMPLS}, got {impl!r}")
        for m in self.modules():
            if isinstance(m, GroupedBiGRU):
                m.impl = impl
        return self


_GRU_KEY = re.compile(r"^(?P<pre>.*)gru\.(?P<kind>weight|bias)_(?P<io>ih|hh)_l0$")


def stack_tarm_states(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """State dicts of C TARMs (same options) -> the state dict of one GroupedTARM with C groups."""
    if not states:
        raise ValueError("stack_tarm_states needs at least one state dict")
    keys = list(states[0])
    if any(set(s) != set(keys) for s in states):
        raise ValueError("the TARM state dicts have different keys (different options?)")
    out: dict[str, torch.Tensor] = {}
    for key in keys:
        if key.endswith("_l0_reverse"):
            continue
        m = _GRU_KEY.match(key)
        if m:
            rev = key + "_reverse"
            out[f"{m['pre']}{m['kind']}_{m['io']}"] = torch.stack([torch.stack([s[key], s[rev]]) for s in states])
        else:
            out[key] = torch.stack([s[key] for s in states])
    return out


class AxisTARMs(nn.Module):
    """One TARM per input channel on (B, C, T, N) -> (B, C, T, N).

    The paper gives X, Y and Z their own TARM (separate weights) because the
    axes carry different motion statistics (gravity, depth noise); they are
    computed together as one GroupedTARM (`self.tarms`, parameters with a
    leading channel dimension). shared=True uses one TARM for every channel,
    the ablation, and runs it as one batched call (`self.tarms[0]`). Any C
    works, so body-plane projections or joint+bone+velocity channels need no
    special casing. State dicts saved with the older layout of C separate
    TARMs ("tarms.0.memory.gru.weight_ih_l0", ...) are converted on load.
    """

    def __init__(self, num_joints: int, channels: int = 3, shared: bool = False, **tarm_kwargs) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError("channels must be >= 1")
        self.channels = channels
        self.shared = shared
        if shared:
            self.tarms = nn.ModuleList([TARM(num_joints, **tarm_kwargs)])
        else:
            self.tarms = GroupedTARM(num_joints, channels, **tarm_kwargs)
            self.register_load_state_dict_pre_hook(_upgrade_per_channel_tarms)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"AxisTARMs expects (B, {self.channels}, T, N), got {tuple(x.shape)}")
        b, c, t, n = x.shape
        if self.shared:
            return self.tarms[0](x.reshape(b * c, t, n)).reshape(b, c, t, n)
        return self.tarms(x)


def _upgrade_per_channel_tarms(module: AxisTARMs, state_dict: dict, prefix: str, *args) -> None:
    """Load-time conversion of the old per-channel keys "tarms.{c}.*" into the grouped layout."""
    old = [f"{prefix}tarms.{c}." for c in range(module.channels)]
    if not any(k.startswith(old[0]) for k in state_dict):
        return
    per_channel = [{k[len(p):]: v for k, v in state_dict.items() if k.startswith(p)} for p in old]
    try:
        stacked = stack_tarm_states(per_channel)
    except (ValueError, RuntimeError):
        return  # leave the keys alone: load_state_dict reports them as unexpected
    for p in old:
        for k in [k for k in state_dict if k.startswith(p)]:
            del state_dict[k]
    for k, v in stacked.items():
        state_dict[f"{prefix}tarms.{k}"] = v
