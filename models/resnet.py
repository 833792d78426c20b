"""ResNet-18/34/50 written from scratch (torchvision is not a dependency).

Why our own: the STCM must take any number of input channels (3 skeleton axes,
4 for the end-to-end fusion, 9 for joint+bone+velocity, 1 for a depth motion
image) and tiny images (50x50, or a native T x N = 64 x 20 skeleton image), so
the stem and the channel widths have to be configurable; the ImageNet layout is
kept as the default so the paper-faithful configuration is a plain ResNet-18.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "scaled", "check_backbone",
           "ClassifierHead", "kaiming_init"]

STEMS = ("imagenet", "small")


def scaled(channels: int, width: float) -> int:
    """Channel count under a width multiplier; never below 4 so tiny test nets still have BN statistics."""
    return max(4, int(round(channels * width)))


class ClassifierHead(nn.Module):
    """Pooled features -> dropout -> linear: the head every CNN here ends in (ResNet, SmallCNN, TemporalResNet).

    A subclass builds its body, calls `_add_head` and defines `features()`; keeping the split identical is what
    lets the two-stream fusion take `features()` and `num_features` from any of them.
    """

    def _add_head(self, num_features: int, num_classes: int, dropout: float) -> None:
        self.num_features = num_features
        self.num_classes = num_classes
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


def kaiming_init(module: nn.Module, conv: type[nn.Module]) -> None:
    """He-normal (fan_out, ReLU) weights for every `conv` layer in `module`: the CNNs here are trained from scratch."""
    for m in module.modules():
        if isinstance(m, conv):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_planes, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_planes = planes * self.expansion
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        # Stride on the 3x3 (the "ResNet v1.5" placement) keeps more information than striding the 1x1.
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_planes, out_planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3


def _shortcut(in_planes: int, out_planes: int, stride: int) -> nn.Module:
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes))


class ResNet(ClassifierHead):
    """ResNet on (B, C, H, W) returning logits (B, num_classes).

    stem="imagenet": 7x7/2 conv + 3x3/2 max-pool, the standard layout (a 50x50
    input ends at 2x2 before pooling, which is cheap: this is the paper's setting).
    stem="small": one 3x3/1 conv, no pool, so a 64x20 skeleton image or a 50x50
    rescaled one is not reduced to a single pixel before layer4 (about 16x the
    compute of the ImageNet stem on the same input).

    zero_init_residual: the last BN of each block starts at gamma=0 so every block
    starts as identity; deep nets trained from scratch on small action datasets
    converge faster and more reliably this way (Goyal et al. 2017).
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, ...] | list[int],
        in_channels: int = 3,
        num_classes: int = 1000,
        width: float = 1.0,
        stem: str = "imagenet",
        zero_init_residual: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
        if in_channels < 1 or num_classes < 1:
            raise ValueError("in_channels and num_classes must be >= 1")
        base = scaled(64, width)
        if stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, base, 7, 2, 3, bias=False),
                nn.BatchNorm2d(base),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, base, 3, 1, 1, bias=False), nn.BatchNorm2d(base), nn.ReLU(inplace=True)
            )
        stages = []
        in_planes = base
        for i, n_blocks in enumerate(layers):
            planes = base * 2**i
            blocks = []
            for j in range(n_blocks):
                blocks.append(block(in_planes, planes, 2 if (i > 0 and j == 0) else 1))
                in_planes = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self._add_head(in_planes, num_classes, dropout)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_bn.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled embedding (B, num_features): what the two-stream fusion concatenates."""
        return torch.flatten(self.pool(self.layers(self.stem(x))), 1)


def resnet18(**kwargs) -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    return ResNet(BasicBlock, (3, 4, 6, 3), **kwargs)


def resnet50(**kwargs) -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), **kwargs)


BACKBONES = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50}


def check_backbone(name: str) -> None:
    """Reject an unknown backbone name before anything is built (every model taking `backbone=` uses this)."""
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
