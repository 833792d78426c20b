"""Skeleton normalisation: the steps that make one person's sequence comparable with another's.

Offline training and live inference must normalise identically, so the steps live here, are driven by a plain
`NormRecipe` that is saved inside every checkpoint, and work on canonical joints (see `layouts.to_canonical`).
Order matters: untracked joints are repaired first (a NaN would poison every later mean), then the sequence is
centred, scaled by torso length (people differ in size, sensors in distance), optionally turned so the shoulders
face the camera (people stand at an angle), and finally resampled to the model's T frames.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from kinact.core.layouts import CANONICAL

HIP = CANONICAL.index("hip_center")
SHOULDER_CENTRE = CANONICAL.index("shoulder_center")
SHOULDER_L = CANONICAL.index("shoulder_left")
SHOULDER_R = CANONICAL.index("shoulder_right")
HIP_L = CANONICAL.index("hip_left")
HIP_R = CANONICAL.index("hip_right")


@dataclass(frozen=True)
class NormRecipe:
    """How a window of canonical joints becomes model input; stored in checkpoints as a dict."""

    centre: str = "first_frame"  # "first_frame" (keeps global motion such as jogging), "per_frame" or "none"
    scale: bool = True  # divide by the mean torso length (hip centre to shoulder centre)
    face_camera: bool = True  # rotate about the vertical axis so the shoulder line is parallel to x
    frames: int = 64  # T after resampling

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "NormRecipe":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def valid_mask(joints: np.ndarray, confidence: np.ndarray | None = None, min_conf: float = 0.0) -> np.ndarray:
    """(T, J) True where a joint is usable: finite, not the SDKs' all-zero placeholder, confidence above min_conf."""
    ok = np.isfinite(joints).all(-1) & (np.abs(joints).sum(-1) > 0)
    if confidence is not None:
        ok &= np.asarray(confidence) > min_conf
    return ok


def fill_untracked(joints: np.ndarray, confidence: np.ndarray | None = None, min_conf: float = 0.0) -> np.ndarray:
    """Replace unusable joints by linear interpolation over time, per joint.

    A joint never seen in the whole sequence falls back to the hip centre (or zeros), so output is always finite.
    All-zero frames (the Kinect's "lost the body" frames) are handled by the same rule: every joint is invalid there.
    """
    joints = np.array(joints, dtype=np.float32, copy=True)
    ok = valid_mask(joints, confidence, min_conf)
    t = np.arange(joints.shape[0])
    for j in range(joints.shape[1]):
        good = ok[:, j]
        if good.all():
            continue
        if good.any():
            for c in range(3):
                joints[~good, j, c] = np.interp(t[~good], t[good], joints[good, j, c])
        else:
            joints[:, j] = np.nan
    lost = ~np.isfinite(joints).all(-1)
    if lost.any():
        hip_ok = joints.shape[1] > HIP and np.isfinite(joints[:, HIP]).all()
        anchor = joints[:, HIP : HIP + 1] if hip_ok else np.zeros((joints.shape[0], 1, 3), np.float32)
        joints = np.where(lost[..., None], anchor, joints)
    return joints.astype(np.float32)


def centre(joints: np.ndarray, mode: str = "first_frame") -> np.ndarray:
    """Subtract the hip centre: of the first frame (keeps translation as signal) or of every frame."""
    if mode == "none":
        return joints
    if mode == "first_frame":
        return joints - joints[:1, HIP : HIP + 1]
    if mode == "per_frame":
        return joints - joints[:, HIP : HIP + 1]
    raise ValueError(f"unknown centring mode {mode!r}")


def torso_length(joints: np.ndarray) -> float:
    """Mean hip-centre to shoulder-centre distance; a body-size unit that survives arm and leg motion."""
    d = np.linalg.norm(joints[:, SHOULDER_CENTRE] - joints[:, HIP], axis=-1)
    d = d[np.isfinite(d)]
    return float(np.mean(d)) if d.size else 1.0


def scale_by_torso(joints: np.ndarray) -> np.ndarray:
    length = torso_length(joints)
    return joints / np.float32(length if length > 1e-6 else 1.0)


def facing_angle(joints: np.ndarray) -> float:
    """Angle (radians) about the vertical axis of the mean shoulder+hip left→right line, 0 when facing the camera."""
    across = (joints[:, SHOULDER_R] - joints[:, SHOULDER_L]) + (joints[:, HIP_R] - joints[:, HIP_L])
    v = np.nanmean(across, axis=0)
    return float(np.arctan2(v[2], v[0]))


def rotate_about_vertical(joints: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by `angle` about the y axis (x toward z): used to undo `facing_angle` and for augmentation."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=np.float32)
    return joints @ rot.T


def face_camera(joints: np.ndarray) -> np.ndarray:
    return rotate_about_vertical(joints, facing_angle(joints)).astype(np.float32)


def resample(joints: np.ndarray, frames: int) -> np.ndarray:
    """Linear interpolation along time to exactly `frames` frames (the model's fixed T)."""
    T = joints.shape[0]
    if T == frames:
        return joints.astype(np.float32)
    if T == 1:
        return np.repeat(joints, frames, axis=0).astype(np.float32)
    pos = np.linspace(0.0, T - 1, frames)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, T - 1)
    w = (pos - lo).astype(np.float32).reshape(-1, *([1] * (joints.ndim - 1)))
    return (joints[lo] * (1 - w) + joints[hi] * w).astype(np.float32)


def normalise(joints: np.ndarray, recipe: NormRecipe, confidence: np.ndarray | None = None) -> np.ndarray:
    """Canonical (T, 20, 3) metres → (recipe.frames, 20, 3) model-ready joints, always finite."""
    return resample(normalise_frames(joints, recipe, confidence), recipe.frames)


def normalise_frames(joints: np.ndarray, recipe: NormRecipe, confidence: np.ndarray | None = None) -> np.ndarray:
    """`normalise` without the final resample: (T, 20, 3) stays T frames.

    For training, where augmentation (crop, speed) must see the real frames before the resample.
    """
    x = fill_untracked(joints, confidence)
    x = centre(x, recipe.centre)
    if recipe.scale:
        x = scale_by_torso(x)
    if recipe.face_camera:
        x = face_camera(x)
    return x
