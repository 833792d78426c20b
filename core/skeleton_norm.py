"""Skeleton normalisation: the steps that make one person's sequence comparable with another's.

Offline training and live inference must normalise identically, so the steps live here, are driven by a plain
`NormRecipe` that is saved inside every checkpoint, and work on canonical joints (see `layouts.to_canonical`).
Order matters: untracked joints are repaired first (a NaN would poison every later mean), then the sequence is
centred, scaled by torso length (people differ in size, sensors in distance), optionally turned so the shoulders
face the camera (people stand at an angle), and finally resampled to the model's T frames.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from kinact.core.layouts import CANONICAL

HIP = CANONICAL.index("hip_center")
SHOULDER_CENTRE = CANONICAL.index("shoulder_center")
SHOULDER_L = CANONICAL.index("shoulder_left")
SHOULDER_R = CANONICAL.index("shoulder_right")
HIP_L = CANONICAL.index("hip_left")
HIP_R = CANONICAL.index("hip_right")
_XYZ = np.tile(np.arange(3), CANONICAL.num_joints)  # x y z x y z …: a point's coordinates repeated once per joint


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
    joints = np.asarray(joints)
    conf_ok = None if confidence is None else np.asarray(confidence) > min_conf
    if _nothing_missing(joints):  # the usual case: only the confidence decides
        if conf_ok is None:
            return np.ones(joints.shape[:-1], bool)
        if conf_ok.shape == joints.shape[:-1]:
            return conf_ok
    ok = _finite_nonzero(joints)
    if conf_ok is not None:
        ok &= conf_ok
    return ok


def _nothing_missing(joints: np.ndarray) -> bool:
    """No coordinate anywhere is NaN, inf or exactly 0 (so no joint is the all-zero placeholder either).

    count_nonzero rather than .all(): the same answer at a fraction of the per-call cost, and live inference
    checks every window (and every body of every frame) this way.
    """
    n = joints.size
    return np.count_nonzero(np.isfinite(joints)) == n and np.count_nonzero(joints) == n


def _finite_nonzero(joints: np.ndarray) -> np.ndarray:
    """(…, J) all coordinates finite and not all zero.

    The largest |coordinate| says both at once (NaN and inf survive `maximum`, and it is 0 only for the all-zero
    placeholder), and two elementwise maxima over x, y, z cost far less than reductions over a 3-long axis,
    which numpy walks one tiny row at a time.
    """
    if joints.shape[-1] != 3:
        return np.isfinite(joints).all(-1) & (np.abs(joints).sum(-1) > 0)
    a = np.abs(joints)
    m = np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])
    return (m > 0) & (m < np.inf)


def fill_untracked(joints: np.ndarray, confidence: np.ndarray | None = None, min_conf: float = 0.0) -> np.ndarray:
    """Replace unusable joints by linear interpolation over time, per joint.

    A joint never seen in the whole sequence falls back to the hip centre (or zeros), so output is always finite.
    All-zero frames (the Kinect's "lost the body" frames) are handled by the same rule: every joint is invalid there.
    Only joints with a gap are visited: a window is usually fully tracked, and the live pipeline repairs one
    window per person per inference.
    """
    joints = np.array(joints, dtype=np.float32, copy=True)
    ok = valid_mask(joints, confidence, min_conf)
    if np.count_nonzero(ok) == ok.size:
        return joints
    seen = ok.any(0)
    t = np.arange(joints.shape[0])
    for j in np.flatnonzero(~ok.all(0)):
        if not seen[j]:
            continue  # never seen: filled from the hip below
        good = ok[:, j]
        bad = ~good
        tb, tg = t[bad], t[good]
        for c in range(3):
            joints[bad, j, c] = np.interp(tb, tg, joints[good, j, c])
    never = np.flatnonzero(~seen)
    if never.size:
        hip_ok = joints.shape[1] > HIP and bool(seen[HIP])
        joints[:, never] = joints[:, HIP : HIP + 1] if hip_ok else np.float32(0.0)
    return joints


def centre(joints: np.ndarray, mode: str = "first_frame") -> np.ndarray:
    """Subtract the hip centre: of the first frame (keeps translation as signal) or of every frame."""
    if mode == "none":
        return joints
    if mode == "first_frame":
        if joints.ndim == 3 and joints.shape[0] and joints.shape[1:] == (CANONICAL.num_joints, 3) \
                and joints.flags.c_contiguous:
            # each frame as one row minus the hip repeated per joint: the same subtractions as broadcasting the
            # (1, 1, 3) hip, but in rows of 60 rather than 3 (numpy's per-row cost dominates rows that short)
            flat = joints.reshape(joints.shape[0], -1)
            return (flat - flat[0, 3 * HIP : 3 * HIP + 3].take(_XYZ)).reshape(joints.shape)
        return joints - joints[:1, HIP : HIP + 1]
    if mode == "per_frame":
        return joints - joints[:, HIP : HIP + 1]
    raise ValueError(f"unknown centring mode {mode!r}")


def row_norms(v: np.ndarray) -> np.ndarray:
    """np.linalg.norm(v, axis=-1): for floats its very sum of squares and square root, without its per-call
    overhead (the live pipeline takes several of these per frame)."""
    v = np.asarray(v)
    if v.dtype.kind != "f":
        return np.linalg.norm(v, axis=-1)
    return np.sqrt(np.add.reduce(v * v, axis=-1))


def torso_length(joints: np.ndarray) -> float:
    """Mean hip-centre to shoulder-centre distance; a body-size unit that survives arm and leg motion."""
    v = joints[:, SHOULDER_CENTRE] - joints[:, HIP]
    if v.dtype.kind == "f":  # row_norms inline, squaring in place: this runs for every window of every person
        v *= v
        d = np.sqrt(np.add.reduce(v, axis=-1))
    else:
        d = row_norms(v)
    total = np.add.reduce(d)
    if d.size and math.isfinite(total):  # the usual case: np.mean's sum and division, without the filtering copy
        # np.mean divides in double (float32 / intp promotes to float64) and casts back: the same, on Python floats
        return float(total.dtype.type(float(total) / d.size))
    d = d[np.isfinite(d)]
    return float(np.mean(d)) if d.size else 1.0


def scale_by_torso(joints: np.ndarray) -> np.ndarray:
    length = torso_length(joints)
    return joints / np.float32(length if length > 1e-6 else 1.0)


def facing_angle(joints: np.ndarray) -> float:
    """Angle (radians) about the vertical axis of the mean shoulder+hip left→right line, 0 when facing the camera."""
    across = joints[:, SHOULDER_R] - joints[:, SHOULDER_L]
    across += joints[:, HIP_R] - joints[:, HIP_L]
    total = np.add.reduce(across, axis=0)
    if any(map(math.isnan, total.tolist())):  # some NaN (or inf - inf): let nanmean sort it out
        v = np.nanmean(across, axis=0)
    else:  # no NaN anywhere, so nanmean would divide this very sum by the (integer) row count, as here
        v = np.divide(total, np.intp(across.shape[0]), out=total, casting="unsafe")
    return float(np.arctan2(v[2], v[0]))


def rotate_about_vertical(joints: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by `angle` about the y axis (x toward z): used to undo `facing_angle` and for augmentation."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array((c, 0.0, s, 0.0, 1.0, 0.0, -s, 0.0, c), dtype=np.float32).reshape(3, 3)
    joints = np.asarray(joints)
    # one (N, 3) @ (3, 3) product rather than one tiny product per frame: same sums, half the time
    return (joints.reshape(-1, 3) @ rot.T).reshape(joints.shape)


def face_camera(joints: np.ndarray) -> np.ndarray:
    return rotate_about_vertical(joints, facing_angle(joints)).astype(np.float32, copy=False)


@lru_cache(maxsize=256)
def _resample_plan(T: int, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, 1 - w, w) of `resample`, weights as (frames, 1): the same few frame counts come back window after
    window in the live pipeline, so they are worked out once."""
    pos = np.linspace(0.0, T - 1, frames)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, T - 1)
    w = (pos - lo).astype(np.float32).reshape(-1, 1)
    plan = (lo, hi, 1 - w, w)
    for a in plan:
        a.flags.writeable = False
    return plan


def resample(joints: np.ndarray, frames: int) -> np.ndarray:
    """Linear interpolation along time to exactly `frames` frames (the model's fixed T)."""
    T = joints.shape[0]
    if T == frames:
        return joints.astype(np.float32)
    if T == 1:
        return np.repeat(joints, frames, axis=0).astype(np.float32)
    lo, hi, one_minus, w = _resample_plan(int(T), int(frames))
    flat = joints.reshape(T, -1)  # frames × everything else: one long row per frame, the same products
    out = flat.take(lo, 0)
    if out.dtype in (np.float32, np.float64):  # in place: the products and sum of the line below, fewer copies
        out *= one_minus
        later = flat.take(hi, 0)
        later *= w
        out += later
    else:
        out = out * one_minus + flat.take(hi, 0) * w
    return out.reshape(frames, *joints.shape[1:]).astype(np.float32, copy=False)


def normalise(joints: np.ndarray, recipe: NormRecipe, confidence: np.ndarray | None = None) -> np.ndarray:
    """Canonical (T, 20, 3) metres → (recipe.frames, 20, 3) model-ready joints, always finite.

    The live pipeline does the same for fully tracked windows in batches (`pipeline.batched`, to the bit)."""
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
