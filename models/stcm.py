"""Spatio-temporal convolution modules (STCM): the CNN after the TARMs.

Input is always (B, C, T, N): C channels (axes, planes, bone/velocity...), T
frames, N joints. Two families:

* ImageSTCM -- the paper's: the (C, T, N) block is an image, optionally
  rescaled (50x50 bilinear in the paper) and fed to a 2-D ResNet.
* TemporalResNet -- ours for real time: joints x channels become the feature
  vector of each frame and only time is convolved (1-D). Joint order carries no
  spatial neighbourhood a 2-D kernel could exploit, so mixing all joints at
  every layer loses little and costs a fraction of a 2-D ResNet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import BACKBONES, ClassifierHead, check_backbone, kaiming_init, scaled

__all__ = ["ImageSTCM", "TemporalResNet", "BasicBlock1d", "resize_bilinear"]


def resize_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) rescaled to `size` as an image library would (bilinear, no corner alignment).

    The paper's STCM rescale; the end-to-end fusion uses it for both modalities so every image the ResNets here
    see was rescaled the same way.
    """
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ImageSTCM(nn.Module):
    """(B, C, T, N) -> logits via a 2-D ResNet on the T x N image.

    resize: (H, W) to rescale to (bilinear, no corner alignment, as an image
    library would), or None to use the native T x N grid (then prefer
    stem="small", since the ImageNet stem reduces 64x20 to 16x5 at once).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        resize: tuple[int, int] | None = (50, 50),
        backbone: str = "resnet18",
        width: float = 1.0,
        stem: str = "imagenet",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_backbone(backbone)
        if resize is not None:
            resize = tuple(int(s) for s in resize)
            if len(resize) != 2 or min(resize) < 1:
                raise ValueError(f"resize must be (H, W) with positive sizes or None, got {resize!r}")
        self.resize = resize
        self.cnn = BACKBONES[backbone](
            in_channels=in_channels, num_classes=num_classes, width=width, stem=stem, dropout=dropout
        )
        self.num_features = self.cnn.num_features

    def _image(self, x: torch.Tensor) -> torch.Tensor:
        if self.resize is None:
            return x
        return resize_bilinear(x, self.resize)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn.features(self._image(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(self._image(x))


class BasicBlock1d(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, kernel_size: int = 3) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(in_ch, out_ch, kernel_size, stride, pad, bias=False)
        self.bn1 = nn.BatchNorm1d(out_ch)
        self.conv2 = nn.Conv1d(out_ch, out_ch, kernel_size, 1, pad, bias=False)
        self.bn2 = nn.BatchNorm1d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        if stride == 1 and in_ch == out_ch:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(nn.Conv1d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm1d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class TemporalResNet(ClassifierHead):
    """1-D temporal ResNet: (B, C, T, N) -> (B, C*N, T) -> residual Conv1d stages -> mean over time -> linear.

    channels/blocks/strides give the stages (widths are multiplied by `width`).
    The defaults (64-128-256, two blocks each, strides 1-2-2) total about 1 M
    parameters for C=9, N=20 and a receptive field of ~40 frames, which covers
    most of a 64-frame window while staying around a millisecond on a CPU.
    input_norm: a BatchNorm over the C*N raw features, because coordinates,
    bones and velocities arrive in very different ranges and the stem would
    otherwise be dominated by the largest (as in ST-GCN's data_bn).
    Global average pooling over time makes it accept any T (>= 1).
    """

    def __init__(
        self,
        in_channels: int,
        num_joints: int,
        num_classes: int,
        width: float = 1.0,
        channels: tuple[int, ...] = (64, 128, 256),
        blocks: tuple[int, ...] = (2, 2, 2),
        strides: tuple[int, ...] = (1, 2, 2),
        kernel_size: int = 3,
        stem_kernel: int = 5,
        dropout: float = 0.0,
        input_norm: bool = True,
    ) -> None:
        super().__init__()
        if not (len(channels) == len(blocks) == len(strides)) or not channels:
            raise ValueError("channels, blocks and strides must be non-empty and of equal length")
        if kernel_size % 2 == 0 or stem_kernel % 2 == 0:
            raise ValueError("kernel sizes must be odd so 'same' padding keeps T aligned")
        self.in_channels = in_channels
        self.num_joints = num_joints
        feats = in_channels * num_joints
        widths = [scaled(c, width) for c in channels]
        self.input_norm = nn.BatchNorm1d(feats) if input_norm else nn.Identity()
        self.stem = nn.Sequential(
            nn.Conv1d(feats, widths[0], stem_kernel, 1, stem_kernel // 2, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.ReLU(inplace=True),
        )
        layers = []
        prev = widths[0]
        for w, n, s in zip(widths, blocks, strides):
            for j in range(n):
                layers.append(BasicBlock1d(prev, w, s if j == 0 else 1, kernel_size))
                prev = w
        self.layers = nn.Sequential(*layers)
        self._add_head(prev, num_classes, dropout)
        kaiming_init(self, nn.Conv1d)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[3] != self.num_joints:
            raise ValueError(
                f"TemporalResNet expects (B, {self.in_channels}, T, {self.num_joints}), got {tuple(x.shape)}"
            )
        b, c, t, n = x.shape
        seq = x.permute(0, 1, 3, 2).reshape(b, c * n, t)
        return self.layers(self.stem(self.input_norm(seq))).mean(dim=2)
