"""Temporal attention recalibration module (TARM): X' = X + F_M(X) * F_A(X).

A TARM sees a sequence (B, T, N) -- one coordinate axis of all joints per frame,
or the rows of a depth motion image -- and returns a recalibrated sequence of
the same shape, so it can sit in front of any CNN without changing that CNN.
F_M ("memory") gives each step context from the whole clip (a BiGRU, or
multi-head self-attention as the paper's future-work variant) projected back to
N; F_A is a sigmoid gate of the same shape choosing where that correction
applies. The sum is residual so the CNN always has the raw signal available.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["TARM", "FeatureTARM", "AxisTARMs", "SelfAttentionMemory", "MEMORIES", "GATES"]

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


class AxisTARMs(nn.Module):
    """One TARM per input channel on (B, C, T, N) -> (B, C, T, N).

    The paper gives X, Y and Z their own TARM (separate weights) because the
    axes carry different motion statistics (gravity, depth noise); shared=True
    uses one TARM for every channel, the ablation, and runs it as one batched
    call. Any C works, so body-plane projections or joint+bone+velocity
    channels need no special casing.
    """

    def __init__(self, num_joints: int, channels: int = 3, shared: bool = False, **tarm_kwargs) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError("channels must be >= 1")
        self.channels = channels
        self.shared = shared
        n_modules = 1 if shared else channels
        self.tarms = nn.ModuleList(TARM(num_joints, **tarm_kwargs) for _ in range(n_modules))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"AxisTARMs expects (B, {self.channels}, T, N), got {tuple(x.shape)}")
        b, c, t, n = x.shape
        if self.shared:
            return self.tarms[0](x.reshape(b * c, t, n)).reshape(b, c, t, n)
        return torch.stack([tarm(x[:, i]) for i, tarm in enumerate(self.tarms)], dim=1)
