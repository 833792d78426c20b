"""SkeletonNet: TARM(s) -> STCM on a skeleton window (B, C, T, N) -> logits (B, num_classes).

Paper-faithful configuration: in_channels=3, tarm="per_axis", memory="bigru",
stcm="image", backbone="resnet18", resize=(50, 50) (stem "imagenet" as in a
stock ResNet-18, or "small" to keep more resolution). The real-time
configuration swaps the image STCM for the 1-D TemporalResNet.

Options that do not apply to the chosen stcm (resize/backbone/stem for
"temporal", channels/blocks/strides for "image") are ignored, so one config
schema covers both.
"""

from __future__ import annotations

import torch
from torch import nn

from .stcm import ImageSTCM, TemporalResNet
from .tarm import AxisTARMs, FeatureTARM

__all__ = ["SkeletonNet", "JointFeatureTARM", "TARM_KINDS", "STCM_KINDS"]

TARM_KINDS = ("per_axis", "shared", "feature", "none")
STCM_KINDS = ("image", "temporal")


class JointFeatureTARM(nn.Module):
    """(B, C, T, N) -> one FeatureTARM over (B, T, C*N) -> (B, C, T, N)."""

    def __init__(self, num_joints: int, channels: int, **tarm_kwargs) -> None:
        super().__init__()
        self.tarm = FeatureTARM(channels * num_joints, **tarm_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, n = x.shape
        seq = x.permute(0, 2, 1, 3).reshape(b, t, c * n)
        return self.tarm(seq).reshape(b, t, c, n).permute(0, 2, 1, 3)


def build_tarm(
    kind: str,
    num_joints: int,
    channels: int,
    hidden: int | None = None,
    memory: str = "bigru",
    heads: int = 4,
    gate: str = "linear",
    dropout: float = 0.0,
) -> nn.Module:
    """The TARM stage for a (B, C, T, N) input; hidden=None picks 64 per axis, 128 for one feature TARM."""
    if kind not in TARM_KINDS:
        raise ValueError(f"tarm must be one of {TARM_KINDS}, got {kind!r}")
    if kind == "none":
        return nn.Identity()
    kw = dict(memory=memory, heads=heads, gate=gate, dropout=dropout)
    if kind == "feature":
        return JointFeatureTARM(num_joints, channels, hidden=hidden or 128, **kw)
    return AxisTARMs(num_joints, channels, shared=(kind == "shared"), hidden=hidden or 64, **kw)


class SkeletonNet(nn.Module):
    """TARM(s) then an STCM. Input (B, in_channels, T, num_joints) float32.

    num_frames is only the nominal window written into `input_spec` (for
    export and dummy inputs); both STCMs accept any T.
    With tarm="per_axis" every input channel gets its own TARM, so 9-channel
    joint+bone+velocity input means 9 TARMs.
    """

    def __init__(
        self,
        num_joints: int,
        num_classes: int,
        in_channels: int = 3,
        num_frames: int = 64,
        tarm: str = "per_axis",
        memory: str = "bigru",
        hidden: int | None = None,
        heads: int = 4,
        gate: str = "linear",
        tarm_dropout: float = 0.0,
        stcm: str = "image",
        backbone: str = "resnet18",
        resize: tuple[int, int] | None = (50, 50),
        stem: str = "imagenet",
        width: float = 1.0,
        channels: tuple[int, ...] = (64, 128, 256),
        blocks: tuple[int, ...] = (2, 2, 2),
        strides: tuple[int, ...] = (1, 2, 2),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if stcm not in STCM_KINDS:
            raise ValueError(f"stcm must be one of {STCM_KINDS}, got {stcm!r}")
        if min(num_joints, num_classes, in_channels, num_frames) < 1:
            raise ValueError("num_joints, num_classes, in_channels and num_frames must be >= 1")
        self.num_joints, self.num_classes = num_joints, num_classes
        self.in_channels, self.num_frames = in_channels, num_frames
        self.tarm = build_tarm(tarm, num_joints, in_channels, hidden, memory, heads, gate, tarm_dropout)
        if stcm == "image":
            self.stcm = ImageSTCM(in_channels, num_classes, resize, backbone, width, stem, dropout)
        else:
            self.stcm = TemporalResNet(
                in_channels, num_joints, num_classes, width, tuple(channels), tuple(blocks), tuple(strides),
                dropout=dropout,
            )
        self.num_features = self.stcm.num_features

    @property
    def input_spec(self) -> dict[str, tuple]:
        return {"skeleton": ("batch", self.in_channels, self.num_frames, self.num_joints)}

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[3] != self.num_joints:
            raise ValueError(
                f"SkeletonNet expects (B, {self.in_channels}, T, {self.num_joints}), got {tuple(x.shape)}"
            )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.stcm.features(self.tarm(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.stcm(self.tarm(x))
