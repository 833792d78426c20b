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


def features_batch(x: np.ndarray, features) -> np.ndarray:
    """`make_features` of B float32 (T, N, 3) windows at once: (B, T, N, 3) → (B, 3·len(features), T, N).

    The live pipeline builds these for every person at every inference (one call for everyone in view,
    pipeline/batched.py): channel-first joints once (straight into the output when it has a joint group), then
    bones and velocities as whole-row float32 differences of them written in place, so one window or a batch
    of them gives the same numbers to the bit. Features must already be known names.
    """
    B, T, N = x.shape[:3]
    out = np.empty((B, 3 * len(features), T, N), np.float32)
    at = list(features).index("joint") if "joint" in features else None
    xt = out[:, 3 * at : 3 * at + 3] if at is not None else np.empty((B, 3, T, N), np.float32)
    np.copyto(xt, x.transpose(0, 3, 1, 2))
    for k, name in enumerate(features):
        dst = out[:, 3 * k : 3 * k + 3]
        if name == "joint":
            if k != at:
                dst[...] = xt
        elif name == "bone":
            np.subtract(xt, xt.take(_PARENTS, axis=3), out=dst)
        else:
            np.subtract(xt[:, :, 1:], xt[:, :, :-1], out=dst[:, :, :-1])
            dst[:, :, -1:] = 0
    return out


def make_features(x: np.ndarray, features=("joint",)) -> np.ndarray:
    """(T, N, 3) normalised canonical joints → (3·len(features), T, N) float32, channel-first like an image."""
    unknown = set(features) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown input features {sorted(unknown)}; known: {FEATURES}")
    x = np.asarray(x)
    if x.dtype == np.float32 and x.ndim == 3 and x.shape[2] == 3:
        return features_batch(x[None], features)[0]
    out = np.empty((3 * len(features), x.shape[0], x.shape[1]), np.float32)
    for k, name in enumerate(features):  # other dtypes: differences in x's own precision, then one cast
        dst = out[3 * k : 3 * k + 3].transpose(1, 2, 0)  # (T, N, 3) view of this group
        if name == "joint":
            dst[...] = x
        elif name == "bone":
            dst[...] = x - x[:, _PARENTS]
        else:
            dst[:-1] = x[1:] - x[:-1]
            dst[-1:] = 0
    return out


def num_channels(features) -> int:
    return 3 * len(features)
