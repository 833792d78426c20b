"""Model inputs and motion energies of several fully tracked windows of one length at once.

At every inference the live pipeline normalises each person's window (`skeleton_norm.normalise`), builds its
channels (`features.make_features`) and measures its motion (`events.motion_energy`). Those are a few dozen
numpy calls per window on small arrays, so their cost is numpy's per-call overhead, paid again for every person.
When the windows have the same number of samples (everyone has been in view for the whole window, the usual
case) they can go through as one (B, T, 20, 3) array, and each call then serves all of them.

The arithmetic is exactly that of those functions, element for element and in the same order (the same ufuncs
in the same dtypes, the sums along the same axes, the rotation as the same BLAS product per window), so the
numbers are the same to the bit; `tests/test_pipeline_batched.py` holds them to it. Only windows whose every
joint is usable qualify (`BodyWindow.all_usable`): nothing to repair, so the per-window functions would do
exactly the steps below. Anything else — a window with gaps, a recipe or feature this module does not know, a
torso or facing that is not finite — is left to the per-window functions (`skeleton_inputs` returns None).
"""
from __future__ import annotations

import math

import numpy as np

from kinact.core.layouts import CANONICAL
from kinact.core.skeleton_norm import (
    _XYZ, HIP, HIP_L, HIP_R, SHOULDER_CENTRE, SHOULDER_L, SHOULDER_R, NormRecipe, _resample_plan,
)
from kinact.core.training.features import FEATURES, features_batch

J = CANONICAL.num_joints
# The recipe fields and features the code below reproduces; a recipe that grows a field is refused, not guessed.
_RECIPE_FIELDS = {"centre", "scale", "face_camera", "frames"}
_KNOWN = set(NormRecipe.__dataclass_fields__) == _RECIPE_FIELDS


def supported(recipe: NormRecipe, features) -> bool:
    """Whether `skeleton_inputs` reproduces `make_features(normalise(…, recipe), features)` for this recipe."""
    return (_KNOWN and recipe.centre in ("first_frame", "per_frame", "none") and set(features) <= set(FEATURES)
            and len(features) > 0)


def motion_energies(joints: np.ndarray) -> list[float]:
    """`events.motion_energy` of each of B windows (B, T, 20, 3), T >= 2, every joint usable."""
    T = joints.shape[1]
    x = joints.astype(np.float64)
    mean = np.add.reduce(x, axis=1)  # over time, sample by sample, as `joints.sum(0)` of one window
    mean /= T
    x -= mean[:, None]
    np.square(x, out=x)
    var = np.add.reduce(x, axis=1)
    var /= T
    # the second largest joint spread of each window: the square root of the second largest sum of variances
    # (the same number, as the square root keeps the order and rounds the same in numpy and math)
    return [math.sqrt(sorted(row)[-2]) for row in np.add.reduce(var, axis=-1).tolist()]


def skeleton_inputs(joints: np.ndarray, recipe: NormRecipe, features) -> np.ndarray | None:
    """(B, C, recipe.frames, 20) float32: `make_features(normalise(w, recipe), features)` of each of B float32
    windows (B, T, 20, 3), T >= 2, every joint usable; None when one of them needs the per-window functions."""
    B, T = joints.shape[:2]
    if joints.dtype != np.float32 or joints.shape[2:] != (J, 3):
        return None
    flat = joints.reshape(B, T, 3 * J)  # one row per sample: the same subtractions, in rows of 60
    if recipe.centre == "first_frame":
        x = flat - flat[:, 0, 3 * HIP : 3 * HIP + 3].take(_XYZ, axis=1)[:, None]
    elif recipe.centre == "per_frame":
        x = flat - flat[:, :, 3 * HIP : 3 * HIP + 3].take(_XYZ, axis=2)
    else:
        x = flat.copy()
    x4 = x.reshape(B, T, J, 3)
    if recipe.scale:
        lengths = _torso_lengths(x4)
        if lengths is None:
            return None
        x /= np.float32(lengths[0]) if B == 1 else np.array(lengths, np.float32).reshape(B, 1, 1)
    if recipe.face_camera:
        rows = _facing_rotations(x4)
        if rows is None:
            return None
        if B == 1:  # the very product `rotate_about_vertical` makes
            x = (x.reshape(-1, 3) @ np.array(rows[0], np.float32).reshape(3, 3).T).reshape(1, T, 3 * J)
        else:  # one BLAS product per window, as above
            rot = np.array(rows, np.float32).reshape(B, 3, 3)
            x = np.matmul(x.reshape(B, T * J, 3), rot.transpose(0, 2, 1)).reshape(B, T, 3 * J)
    frames = int(recipe.frames)
    if T != frames:  # `resample`: the same weights, the same products
        lo, hi, one_minus, w = _resample_plan(T, frames)
        y = x.take(lo, axis=1)
        y *= one_minus
        later = x.take(hi, axis=1)
        later *= w
        y += later
        x = y
    return features_batch(x.reshape(B, frames, J, 3), features)


def _torso_lengths(x: np.ndarray) -> list[float] | None:
    """What `scale_by_torso` divides each window by, or None when a torso length is not finite."""
    T = x.shape[1]
    v = x[:, :, SHOULDER_CENTRE] - x[:, :, HIP]
    v *= v
    lengths = []
    for total in np.add.reduce(np.sqrt(np.add.reduce(v, axis=-1)), axis=1).tolist():
        if not math.isfinite(total):
            return None
        # `torso_length`: the float32 sum divided in double, back to float32; `scale_by_torso` guards tiny ones
        length = float(np.float32(total / T))
        lengths.append(length if length > 1e-6 else 1.0)
    return lengths


def _facing_rotations(x: np.ndarray) -> list[tuple] | None:
    """The rotation of `face_camera` for each window, its 3 × 3 matrix as 9 numbers, or None when a facing
    direction has a NaN."""
    T = x.shape[1]
    across = x[:, :, SHOULDER_R] - x[:, :, SHOULDER_L]
    across += x[:, :, HIP_R] - x[:, :, HIP_L]
    rows = []
    for tx, ty, tz in np.add.reduce(across, axis=1).tolist():  # over time, in order, as `facing_angle`'s sum
        if tx != tx or ty != ty or tz != tz:  # a NaN
            return None
        # `facing_angle`: the float32 sums divided in double and stored as float32, the angle in float32
        angle = float(np.arctan2(np.float32(tz / T), np.float32(tx / T)))
        c, s = np.cos(angle), np.sin(angle)
        rows.append((c, 0.0, s, 0.0, 1.0, 0.0, -s, 0.0, c))  # `rotate_about_vertical`'s matrix
    return rows
