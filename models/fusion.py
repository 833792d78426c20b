"""Skeleton + depth fusion: end-to-end (paper Fig. 2), two-stream, and late score fusion.

Inputs are always (skeleton (B, C, T, N), depth (B, Cd, H, W)) in that order,
matching the order of `input_spec`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .resnet import BACKBONES, check_backbone
from .stcm import resize_bilinear
from .tarm import AxisTARMs

__all__ = ["EndToEndFusion", "TwoStreamFusion", "score_fusion", "FUSION_MODES"]

FUSION_MODES = ("average", "product", "max")


class EndToEndFusion(nn.Module):
    """Paper Fig. 2: per-axis skeleton TARMs and a depth TARM feeding one STCM.

    The skeleton TARM outputs (C x T x N) are rescaled to size x size; the depth
    descriptor is rescaled to size x size first and then gets its own TARM
    over rows (rows as time, one TARM per depth channel); the C + Cd channel
    image goes through one ResNet. Rescaling the depth image before its TARM
    keeps the TARM's feature size (= size) small and independent of the sensor
    resolution. One CNN sees both modalities from the first layer, so it can
    learn cross-modal filters -- the point of the end-to-end design, and the
    reason it is cheaper than two full streams.
    """

    def __init__(
        self,
        num_joints: int,
        num_classes: int,
        skeleton_channels: int = 3,
        depth_channels: int = 1,
        num_frames: int = 64,
        depth_size: tuple[int, int] = (224, 224),
        size: int = 50,
        hidden: int = 64,
        memory: str = "bigru",
        heads: int = 4,
        gate: str = "linear",
        tarm_dropout: float = 0.0,
        backbone: str = "resnet18",
        width: float = 1.0,
        stem: str = "imagenet",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_backbone(backbone)
        if size < 1:
            raise ValueError("size must be >= 1")
        self.num_joints, self.num_classes, self.size = num_joints, num_classes, int(size)
        self.skeleton_channels, self.depth_channels = skeleton_channels, depth_channels
        self.num_frames, self.depth_size = num_frames, tuple(int(s) for s in depth_size)
        kw = dict(hidden=hidden, memory=memory, heads=heads, gate=gate, dropout=tarm_dropout)
        self.skeleton_tarm = AxisTARMs(num_joints, skeleton_channels, **kw)
        self.depth_tarm = AxisTARMs(self.size, depth_channels, **kw)
        self.cnn = BACKBONES[backbone](
            in_channels=skeleton_channels + depth_channels, num_classes=num_classes, width=width, stem=stem,
            dropout=dropout,
        )
        self.num_features = self.cnn.num_features

    @property
    def input_spec(self) -> dict[str, tuple]:
        return {
            "skeleton": ("batch", self.skeleton_channels, self.num_frames, self.num_joints),
            "depth": ("batch", self.depth_channels, *self.depth_size),
        }

    def _image(self, skeleton: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        s = (self.size, self.size)
        sk = resize_bilinear(self.skeleton_tarm(skeleton), s)
        dp = self.depth_tarm(resize_bilinear(depth, s))
        return torch.cat([sk, dp], dim=1)

    def features(self, skeleton: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.cnn.features(self._image(skeleton, depth))

    def forward(self, skeleton: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.cnn(self._image(skeleton, depth))


class TwoStreamFusion(nn.Module):
    """Separate skeleton and depth networks; their pooled features are concatenated into one linear head.

    Each stream keeps its own best architecture and input resolution (unlike
    the end-to-end model, which forces one image size); the sub-networks'
    own classifiers stay unused here, so a stream pretrained alone can be
    dropped in and fine-tuned jointly. Sub-networks need `features()`,
    `num_features` and an `input_spec` with one entry each.
    """

    def __init__(
        self, skeleton_net: nn.Module, depth_net: nn.Module, num_classes: int | None = None, dropout: float = 0.0
    ) -> None:
        super().__init__()
        for name, net in (("skeleton_net", skeleton_net), ("depth_net", depth_net)):
            if not hasattr(net, "features") or not hasattr(net, "num_features"):
                raise ValueError(f"{name} must provide features() and num_features")
        self.skeleton_net, self.depth_net = skeleton_net, depth_net
        self.num_classes = num_classes or skeleton_net.num_classes
        self.num_features = skeleton_net.num_features + depth_net.num_features
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.num_features, self.num_classes)

    @property
    def input_spec(self) -> dict[str, tuple]:
        (sk,) = self.skeleton_net.input_spec.values()
        (dp,) = self.depth_net.input_spec.values()
        return {"skeleton": sk, "depth": dp}

    def features(self, skeleton: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.skeleton_net.features(skeleton), self.depth_net.features(depth)], dim=1)

    def forward(self, skeleton: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(skeleton, depth)))


def score_fusion(
    probs: Sequence[torch.Tensor], mode: str = "average", weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Late fusion of softmax probabilities from separately trained models, each (B, K) -> (B, K).

    "average": (weighted) arithmetic mean; "product": (weighted) geometric
    mean, computed in log space so many small probabilities do not underflow;
    "max": element-wise max. Product and max are renormalised to sum to 1 so
    every mode returns a distribution (the argmax is unchanged by that).
    For "max", weights scale each model's probabilities before the max.
    """
    if mode not in FUSION_MODES:
        raise ValueError(f"mode must be one of {FUSION_MODES}, got {mode!r}")
    if len(probs) == 0:
        raise ValueError("score_fusion needs at least one probability tensor")
    shapes = {tuple(p.shape) for p in probs}
    if len(shapes) != 1:
        raise ValueError(f"all probability tensors must have one shape, got {sorted(shapes)}")
    stack = torch.stack(list(probs))
    if weights is None:
        w = torch.full((len(probs),), 1.0 / len(probs), dtype=stack.dtype, device=stack.device)
    else:
        if len(weights) != len(probs) or any(x < 0 for x in weights) or sum(weights) <= 0:
            raise ValueError("weights must be one non-negative number per model, not all zero")
        w = torch.tensor(weights, dtype=stack.dtype, device=stack.device)
        w = w / w.sum()
    w = w.view(-1, *([1] * (stack.dim() - 1)))
    tiny = torch.finfo(stack.dtype).tiny
    if mode == "average":
        return (w * stack).sum(0)
    if mode == "product":
        return torch.softmax((w * stack.clamp_min(tiny).log()).sum(0), dim=-1)
    fused = (w * stack).amax(0)
    return fused / fused.sum(-1, keepdim=True).clamp_min(tiny)
