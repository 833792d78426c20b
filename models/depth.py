"""DepthNet: a CNN on a depth motion descriptor image (B, C, H, W) -> logits.

C = 1 for a single depth motion image (DMI), 3 for DMM front/side/top
resized to one common size and stacked. Architectures are the paper's
Table 2 rows plus a compact one for real time:

* "resnet18", "resnet50": plain ResNets from scratch.
* "alexnet": the modified AlexNet of alexnet.py.
* "tarm_resnet18": a TARM per channel over the image rows (rows play the role
  of time, the W columns are the features of a step), then ResNet-18 -- the
  paper's best depth model. This fixes W to image_size[1].
* "small": a plain 8-conv BN/ReLU CNN (~1.2 M parameters) for 3 x 112 x 112
  DMMs; depth motion images are smooth and low in detail, so a ResNet-18's
  11 M parameters mostly add latency and overfitting.
* "hog": histograms of oriented gradients and one linear layer (hog.py), the
  classic DMM baseline as a network.
"""

from __future__ import annotations

import torch
from torch import nn

from .alexnet import AlexNet
from .hog import HOGLinear
from .resnet import BACKBONES, ClassifierHead, kaiming_init, scaled
from .tarm import AxisTARMs

__all__ = ["DepthNet", "SmallCNN", "DEPTH_ARCHS"]

DEPTH_ARCHS = ("resnet18", "resnet50", "alexnet", "tarm_resnet18", "small", "hog")


class SmallCNN(ClassifierHead):
    """Four stages of (3x3/2 conv, 3x3 conv), widths 32-64-128-256, global average pool."""

    def __init__(self, in_channels: int, num_classes: int, width: float = 1.0, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_channels
        for c in (32, 64, 128, 256):
            c = scaled(c, width)
            for stride, cin in ((2, prev), (1, c)):
                layers += [nn.Conv2d(cin, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            prev = c
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self._add_head(prev, num_classes, dropout)
        kaiming_init(self, nn.Conv2d)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class DepthNet(nn.Module):
    """Descriptor image (B, in_channels, H, W) -> logits (B, num_classes).

    image_size is the nominal (H, W) written into `input_spec`; only
    "tarm_resnet18" requires it (W is the TARM feature size), the others
    accept any size large enough for their strides.
    dropout=None means 0.5 for "alexnet" (its classic FC dropout) and 0 otherwise. hog_cell and hog_bins
    (pixels per cell side, orientation bins) are read by "hog" only.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        arch: str = "resnet18",
        image_size: tuple[int, int] = (224, 224),
        width: float = 1.0,
        stem: str = "imagenet",
        hidden: int = 64,
        memory: str = "bigru",
        heads: int = 4,
        gate: str = "linear",
        tarm_dropout: float = 0.0,
        dropout: float | None = None,
        hog_cell: int = 8,
        hog_bins: int = 9,
    ) -> None:
        super().__init__()
        if arch not in DEPTH_ARCHS:
            raise ValueError(f"arch must be one of {DEPTH_ARCHS}, got {arch!r}")
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be (H, W) with positive sizes, got {image_size!r}")
        self.in_channels, self.num_classes, self.image_size, self.arch = in_channels, num_classes, image_size, arch
        if dropout is None:
            dropout = 0.5 if arch == "alexnet" else 0.0
        self.tarm: nn.Module = nn.Identity()
        if arch == "tarm_resnet18":
            self.tarm = AxisTARMs(
                image_size[1], in_channels, hidden=hidden, memory=memory, heads=heads, gate=gate, dropout=tarm_dropout
            )
        if arch in ("resnet18", "resnet50", "tarm_resnet18"):
            backbone = "resnet50" if arch == "resnet50" else "resnet18"
            self.cnn = BACKBONES[backbone](
                in_channels=in_channels, num_classes=num_classes, width=width, stem=stem, dropout=dropout
            )
        elif arch == "alexnet":
            self.cnn = AlexNet(in_channels, num_classes, width=width, dropout=dropout)
        elif arch == "hog":
            self.cnn = HOGLinear(in_channels, num_classes, image_size, cell=hog_cell, bins=hog_bins, dropout=dropout)
        else:
            self.cnn = SmallCNN(in_channels, num_classes, width=width, dropout=dropout)
        self.num_features = self.cnn.num_features

    @property
    def input_spec(self) -> dict[str, tuple]:
        return {"depth": ("batch", self.in_channels, *self.image_size)}

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"DepthNet expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if self.arch == "tarm_resnet18" and x.shape[3] != self.image_size[1]:
            raise ValueError(f"tarm_resnet18 needs W={self.image_size[1]} (the TARM feature size), got {x.shape[3]}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.cnn.features(self.tarm(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.cnn(self.tarm(x))
