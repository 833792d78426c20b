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
(about 2.3 ms each on a CPU for T=64, whatever the hidden size). Those grouped
layers (GroupedLinear, GroupedBiGRU with its loop/blockdiag/split/onnx
implementations, ...) live in models/grouped.py and are re-exported here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from .grouped import (
    GRU_IMPLS, GroupedBiGRU, GroupedDepthwiseConv1d, GroupedLayerNorm, GroupedLinear, GroupedSelfAttention,
    run_bigrus,
)

__all__ = [
    "TARM", "FeatureTARM", "AxisTARMs", "SelfAttentionMemory", "GroupedTARM", "GroupedBiGRU", "GroupedLinear",
    "GroupedLayerNorm", "GroupedSelfAttention", "GroupedDepthwiseConv1d", "run_bigrus", "stack_tarm_states",
    "MEMORIES", "GATES", "GRU_IMPLS",
]

MEMORIES = ("bigru", "attention")
GATES = ("linear", "gru")


def _check_options(memory: str, gate: str) -> None:
    """The option checks TARM and GroupedTARM share, so both reject the same spellings with the same words."""
    if memory not in MEMORIES:
        raise ValueError(f"memory must be one of {MEMORIES}, got {memory!r}")
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, got {gate!r}")


class _Layers(NamedTuple):
    """The layer constructors a TARM is built from: plain ones for TARM, per-channel grouped ones for GroupedTARM."""

    layer_norm: Callable[..., nn.Module]
    bigru: Callable[..., nn.Module]
    attention: Callable[..., nn.Module]
    linear: Callable[..., nn.Module]


def _build_branches(
    m: nn.Module, layers: _Layers, num_features: int, hidden: int, memory: str, heads: int, dropout: float,
    gate: str, norm: bool, init_scale: float,
) -> None:
    """Give `m` TARM's norm, memory (F_M), drop, project and gate (F_A), then the residual initialisation.

    TARM and GroupedTARM build the same branches from different layers; one builder keeps them the same
    module for module, in the same order (which fixes both the state-dict keys and the random init).
    The residual starts small but not zero (see TARM's docstring); project.weight may be (out, in) or grouped
    (G, out, in), the std depends only on project.in_features.
    """
    m.norm = layers.layer_norm(num_features) if norm else nn.Identity()
    if memory == "bigru":
        m.memory = layers.bigru(num_features, hidden)
    else:
        m.memory = layers.attention(num_features, 2 * hidden, heads, dropout)
    m.drop = nn.Dropout(dropout)
    m.project = layers.linear(2 * hidden, num_features)
    if gate == "linear":
        m.gate = layers.linear(num_features, num_features)
    else:
        m.gate = nn.Sequential(layers.bigru(num_features, hidden), layers.linear(2 * hidden, num_features))
    nn.init.normal_(m.project.weight, std=init_scale / math.sqrt(m.project.in_features))
    nn.init.zeros_(m.project.bias)
    nn.init.zeros_((m.gate if gate == "linear" else m.gate[-1]).bias)


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
        _check_options(memory, gate)
        if num_features < 1 or hidden < 1:
            raise ValueError("num_features and hidden must be >= 1")
        self.num_features = num_features
        layers = _Layers(nn.LayerNorm, _BiGRU, SelfAttentionMemory, nn.Linear)
        _build_branches(self, layers, num_features, hidden, memory, heads, dropout, gate, norm, init_scale)

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
# GroupedTARM is C TARMs built from the grouped layers of models/grouped.py, where slice [c] of every parameter
# is channel c's stand-alone parameter: its state dict is TARM's with "gru." and "_l0[_reverse]" folded into the
# leading (channel, direction) dimensions (`stack_tarm_states` converts C TARM state dicts), and C TARMs are one
# grouped TARM with the same weights.


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
        _check_options(memory, gate)
        if num_features < 1 or hidden < 1 or groups < 1:
            raise ValueError("num_features, groups and hidden must be >= 1")
        self.num_features, self.groups = num_features, groups
        # Each parameter slice [c] is channel c's stand-alone TARM parameter (weight[c] an (out, in) matrix).
        grouped = (GroupedLayerNorm, GroupedBiGRU, GroupedSelfAttention, GroupedLinear)
        layers = _Layers(*(partial(layer, groups) for layer in grouped))
        _build_branches(self, layers, num_features, hidden, memory, heads, dropout, gate, norm, init_scale)

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
