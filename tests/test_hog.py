"""HOGLinear (models/hog.py): the classic gradient-histogram depth baseline as a network."""
from __future__ import annotations

import math

import pytest
import torch

from kinact.models.hog import HOGLinear
from kinact.models.registry import build_model


def _stripes(angle_deg: float, size: int = 32) -> torch.Tensor:
    """A (1, 1, size, size) image of parallel stripes whose gradient points along `angle_deg`."""
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    a = math.radians(angle_deg)
    return (0.5 + 0.5 * torch.sin((xx * math.cos(a) + yy * math.sin(a)) * 0.8))[None, None]


def test_orientation_lands_in_the_right_bin():
    hog = HOGLinear(1, 2, image_size=(32, 32), cell=8, bins=9)
    for angle, expected in ((0.0, 0), (90.0, 4.5), (40.0, 2)):
        hist = hog.features(_stripes(angle)).view(9, 4, 4)[:, 1:3, 1:3].sum((1, 2))  # inner cells (no border)
        top = hist.argmax().item()
        if expected == 4.5:  # 90° lies between bins 4 (80°) and 5 (100°): both should carry it
            assert set(hist.topk(2).indices.tolist()) == {4, 5}
        else:
            assert top == expected, (angle, hist)


def test_features_are_block_normalised_and_clipped():
    hog = HOGLinear(3, 5, image_size=(32, 32))
    x = torch.rand(2, 3, 32, 32)
    f = hog.features(x)
    assert f.shape == (2, 3 * 9 * 4 * 4) and f.min() >= 0 and f.max() <= 0.2 + 1e-6
    # contrast does not matter after block normalisation (up to the clip)
    assert torch.allclose(hog.features(x * 3.0), f, atol=1e-4)
    assert not torch.allclose(hog.features(torch.rand(2, 3, 32, 32)), f)


def test_a_blank_image_gives_zero_features_and_the_only_weights_are_the_head():
    hog = HOGLinear(3, 5, image_size=(32, 32))
    assert torch.count_nonzero(hog.features(torch.zeros(1, 3, 32, 32))) == 0
    assert {n for n, _ in hog.named_parameters()} == {"fc.weight", "fc.bias"}


def test_registry_builds_it_as_a_depth_arch_and_refuses_tiny_images():
    net = build_model({"name": "depth", "in_channels": 3, "num_classes": 4, "arch": "hog", "image_size": [40, 48]})
    assert net(torch.rand(2, 3, 40, 48)).shape == (2, 4)
    coarse = build_model({"name": "depth", "in_channels": 3, "num_classes": 4, "arch": "hog", "image_size": [40, 48],
                          "hog_cell": 16, "hog_bins": 6})
    assert coarse.cnn.fc.in_features == 3 * 6 * 2 * 3
    with pytest.raises(ValueError, match="2 x 2 cells"):
        HOGLinear(3, 4, image_size=(12, 12), cell=8)
