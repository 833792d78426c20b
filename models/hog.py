"""HOGLinear: histograms of oriented gradients of a descriptor image, then one linear layer.

Why a classic: depth motion maps with HOG and a linear classifier are the long-standing depth baseline on
UTD-MHAD (Chen et al.), and they fail differently from a CNN (fixed, local shape statistics; nothing learnt
but the last layer), so they are a reference row and a candidate partner for score fusion. Written as a
torch module with no learnt weights before the head, it trains, exports to ONNX and runs live like every other
network here, instead of living beside them as a scikit-learn object.

Per channel: central-difference gradients, unsigned orientation in `bins` bins with a smooth vote shared
between neighbouring bins (a power of cos(2Δ), which ONNX can express; atan2 it cannot), summed over cell × cell
pixels, then each cell's histogram divided by the gradient
energy of its 2 × 2-cell neighbourhood (the usual block normalisation, in its overlapping form) and clipped at
0.2, as Dalal and Triggs do. Dropout and weight decay on the linear head play the part of the ridge penalty.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import ClassifierHead

__all__ = ["HOGLinear"]


class HOGLinear(ClassifierHead):
    def __init__(self, in_channels: int, num_classes: int, image_size=(112, 112), cell: int = 8, bins: int = 9,
                 dropout: float = 0.0) -> None:
        super().__init__()
        h, w = (int(s) for s in image_size)
        if cell < 2 or h < 2 * cell or w < 2 * cell or bins < 2:
            raise ValueError(f"HOG needs cell >= 2, an image of at least 2 x 2 cells and bins >= 2; got cell {cell}, "
                             f"image {image_size}, bins {bins}")
        self.in_channels, self.cell, self.bins = in_channels, int(cell), int(bins)
        centres = torch.arange(bins, dtype=torch.float32) * (math.pi / bins)
        self.register_buffer("directions", torch.stack([torch.cos(2 * centres), torch.sin(2 * centres)]),
                             persistent=False)
        # cos(2Δ)^p falls to about 1/8 one bin away from the centre, so neighbouring bins share a vote as in the
        # usual linear interpolation and further ones get almost nothing
        self.sharpness = max(2.0, math.log(0.125) / math.log(math.cos(2 * math.pi / bins)))
        self._add_head(in_channels * bins * (h // cell) * (w // cell), num_classes, dropout)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        k = self.cell
        x = x[:, :, : h // k * k, : w // k * k]
        gx = F.pad(x[:, :, :, 2:] - x[:, :, :, :-2], (1, 1, 0, 0))
        gy = F.pad(x[:, :, 2:, :] - x[:, :, :-2, :], (0, 0, 1, 1))
        mag2 = gx * gx + gy * gy
        mag = torch.sqrt(mag2)
        # Orientation without atan2 (ONNX has none): cos and sin of twice the angle, so that opposite gradients
        # (a rising and a falling edge) count as one orientation, then a smooth vote for each bin centre.
        dbl = torch.stack([(gx * gx - gy * gy), 2 * gx * gy], dim=2) / (mag2.unsqueeze(2) + 1e-12)
        similarity = torch.einsum("bckhw,kn->bcnhw", dbl, self.directions)  # cos(2·(angle − bin centre))
        votes = mag.unsqueeze(2) * torch.relu(similarity) ** self.sharpness  # (B, C, bins, H, W)
        cells = F.avg_pool2d(votes.flatten(1, 2), k) * (k * k)  # (B, C*bins, H/k, W/k)
        energy = (cells * cells).view(b, c, self.bins, *cells.shape[-2:]).sum(2)  # (B, C, H/k, W/k)
        block = F.avg_pool2d(F.pad(energy, (0, 1, 0, 1), mode="replicate"), 2, stride=1) * 4
        # eps: a flat region stays 0 instead of amplifying rounding noise (real cells carry energies of 1-100+)
        hist = cells.view(b, c, self.bins, *cells.shape[-2:]) / torch.sqrt(block.unsqueeze(2) + 1e-2)
        return torch.clamp(hist, max=0.2).flatten(1)
