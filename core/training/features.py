"""Model input channels built from normalised canonical joints: joint positions, bones and velocities.

Positions alone make a network learn differences between joints and frames itself; giving it bone vectors
(joint minus its parent) and velocities (frame-to-frame differences) up front is the cheapest accuracy there is
for small skeleton models. The same function runs in training and live, so the channel order is fixed here.
"""
from __future__ import annotations

import numpy as np

from kinact.core.layouts import CANONICAL

FEATURES = ("joint", "bone", "velocity")


def parents(layout=CANONICAL, root: str = "hip_center") -> np.ndarray:
    """Parent index of every joint in the bone tree (the root is its own parent, so its bone is zero)."""
    root_i = layout.index(root)
    par = np.full(layout.num_joints, -1)
    par[root_i] = root_i
    frontier = [root_i]
    while frontier:
        j = frontier.pop()
        for a, b in layout.bones:
            for u, v in ((a, b), (b, a)):
                if u == j and par[v] < 0:
                    par[v] = j
                    frontier.append(v)
    return par


_PARENTS = parents()


def make_features(x: np.ndarray, features=("joint",)) -> np.ndarray:
    """(T, N, 3) normalised canonical joints → (3·len(features), T, N) float32, channel-first like an image."""
    unknown = set(features) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown input features {sorted(unknown)}; known: {FEATURES}")
    out = []
    for name in features:
        if name == "joint":
            f = x
        elif name == "bone":
            f = x - x[:, _PARENTS]
        else:
            f = np.zeros_like(x)
            f[:-1] = x[1:] - x[:-1]
        out.append(np.transpose(f, (2, 0, 1)))
    return np.ascontiguousarray(np.concatenate(out, axis=0), dtype=np.float32)


def num_channels(features) -> int:
    return 3 * len(features)
