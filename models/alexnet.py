"""A modified AlexNet for depth motion images (one of the paper's Table 2 baselines).

Modifications from Krizhevsky et al. (2012), and why:
* conv1 is 5x5 stride 2 instead of 11x11 stride 4: motion images are small
  (112-224 px) and mostly thin edges; a stride-4 first layer throws most away.
* BatchNorm after every conv (instead of local response normalisation): the
  nets are trained from scratch on a few thousand clips, BN makes that stable.
* Global average pooling instead of the 6x6 feature map: accepts any input
  size, and an adaptive pool to a non-1 size does not export to ONNX for sizes
  that do not divide evenly.
* FC layers 512-512 instead of 4096-4096 (about 0.4 M instead of 54 M
  parameters): the originals would overfit a small action dataset at once.
"""

from __future__ import annotations

import torch
from torch import nn

from .resnet import scaled

__all__ = ["AlexNet"]


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class AlexNet(nn.Module):
    """(B, C, H, W) -> logits; `features()` is the 512-d (times width) penultimate layer."""

    def __init__(
        self, in_channels: int = 3, num_classes: int = 1000, width: float = 1.0, fc: int = 512, dropout: float = 0.5
    ) -> None:
        super().__init__()
        c1, c2, c3, c4 = (scaled(c, width) for c in (64, 192, 384, 256))
        self.conv = nn.Sequential(
            *_conv(in_channels, c1, 5, 2),
            nn.MaxPool2d(3, 2, 1),
            *_conv(c1, c2, 5),
            nn.MaxPool2d(3, 2, 1),
            *_conv(c2, c3, 3),
            *_conv(c3, c4, 3),
            *_conv(c4, c4, 3),
            nn.MaxPool2d(3, 2, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        hid = scaled(fc, width)
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c4, hid), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hid, hid), nn.ReLU(inplace=True),
        )
        self.num_features = hid
        self.num_classes = num_classes
        self.fc = nn.Linear(hid, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))
