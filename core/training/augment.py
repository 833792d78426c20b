"""Augmentation that respects skeleton geometry, applied to normalised canonical joints before resampling.

Every transform is something a real recording could have produced: the person turned a little, the sensor
was tilted, the person is taller or moves faster, the tracker jittered. Mirroring swaps left and right joints
and is off by default, because many action sets (UTD-MHAD's "right hand wave") are defined by the side.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from kinact.core.layouts import CANONICAL
from kinact.core.skeleton_norm import resample, rotate_about_vertical


@dataclass(frozen=True)
class AugmentRecipe:
    rotate_deg: float = 0.0  # uniform ± about the vertical axis
    tilt_deg: float = 0.0  # uniform ± about the two horizontal axes
    scale: float = 0.0  # per-axis factor in 1 ± scale
    crop: float = 1.0  # keep a random contiguous fraction in [crop, 1] of the frames
    speed: float = 0.0  # resample the length by 1 ± speed before the model's T
    mirror: float = 0.0  # probability of a left/right mirror (x → −x and joint swap)
    noise: float = 0.0  # Gaussian joint noise, in normalised (torso) units
    # Probability that a training clip becomes a live-like window ending part-way into the action, and the
    # least fraction of the action such a window shows (training/partial.py); applied by the dataset, which
    # knows the live window's length, before the transforms here. 0 (the default) leaves training as it was.
    partial: float = 0.0
    partial_min: float = 0.4

    def __post_init__(self):
        if not 0.0 <= self.partial <= 1.0 or not 0.0 < self.partial_min <= 1.0:
            raise ValueError(f"augment.partial must be in [0, 1] and augment.partial_min in (0, 1], got "
                             f"{self.partial} and {self.partial_min}")

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.partial:  # off: written as before the option existed, so older runs keep their fingerprint
            d.pop("partial"), d.pop("partial_min")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentRecipe":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown augmentation keys {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        return cls(**d)

    @property
    def active(self) -> bool:
        return self != AugmentRecipe()


_MIRROR = CANONICAL.mirror_permutation()


def _tilt(x: np.ndarray, ax: float, az: float) -> np.ndarray:
    cx, sx, cz, sz = np.cos(ax), np.sin(ax), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], np.float32)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], np.float32)
    return x @ (rz @ rx).T


def augment(x: np.ndarray, recipe: AugmentRecipe, rng: np.random.Generator) -> np.ndarray:
    """(T, 20, 3) → (T', 20, 3) randomly transformed; T' differs from T when cropping or changing speed."""
    T = x.shape[0]
    if recipe.crop < 1.0 and T > 4:
        keep = max(4, int(round(T * rng.uniform(recipe.crop, 1.0))))
        start = int(rng.integers(0, T - keep + 1))
        x = x[start : start + keep]
    if recipe.speed > 0:
        x = resample(x, max(4, int(round(x.shape[0] * rng.uniform(1 - recipe.speed, 1 + recipe.speed)))))
    if recipe.mirror > 0 and rng.random() < recipe.mirror:
        x = x[:, _MIRROR] * np.array([-1, 1, 1], np.float32)
    if recipe.rotate_deg > 0:
        x = rotate_about_vertical(x, np.deg2rad(rng.uniform(-recipe.rotate_deg, recipe.rotate_deg)))
    if recipe.tilt_deg > 0:
        a = np.deg2rad(rng.uniform(-recipe.tilt_deg, recipe.tilt_deg, size=2))
        x = _tilt(x, a[0], a[1])
    if recipe.scale > 0:
        x = x * rng.uniform(1 - recipe.scale, 1 + recipe.scale, size=3).astype(np.float32)
    if recipe.noise > 0:
        x = x + rng.normal(scale=recipe.noise, size=x.shape).astype(np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)
