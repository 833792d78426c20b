"""The faster normalisation, features, motion energy and tracker helpers must give what the plain versions gave.

Training and live inference share these functions, so a speed-up may not move a number: every function is
compared here with a frozen copy of its earlier, straightforward implementation (below, `_old_*`) on random
windows and on real-looking ones, with NaNs, infinities, all-zero placeholder joints, low confidence, joints
never seen and the hip never seen.
"""
import numpy as np
import pytest

from kinact.core import skeleton_norm as sn
from kinact.core.bench.scene import synthetic_motion
from kinact.core.pipeline import tracker as tk
from kinact.core.pipeline.events import motion_energy
from kinact.core.pipeline.fakes import pose
from kinact.core.training import features as feat

HIP, SC, SL, SR, HL, HR = sn.HIP, sn.SHOULDER_CENTRE, sn.SHOULDER_L, sn.SHOULDER_R, sn.HIP_L, sn.HIP_R


# ------------------------------------------------------------------------------- the earlier implementations

def _old_valid_mask(joints, confidence=None, min_conf=0.0):
    ok = np.isfinite(joints).all(-1) & (np.abs(joints).sum(-1) > 0)
    if confidence is not None:
        ok &= np.asarray(confidence) > min_conf
    return ok


def _old_fill_untracked(joints, confidence=None, min_conf=0.0):
    joints = np.array(joints, dtype=np.float32, copy=True)
    ok = _old_valid_mask(joints, confidence, min_conf)
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
        anchor = joints[:, HIP:HIP + 1] if hip_ok else np.zeros((joints.shape[0], 1, 3), np.float32)
        joints = np.where(lost[..., None], anchor, joints)
    return joints.astype(np.float32)


def _old_centre(joints, mode="first_frame"):
    if mode == "none":
        return joints
    if mode == "first_frame":
        return joints - joints[:1, HIP:HIP + 1]
    return joints - joints[:, HIP:HIP + 1]


def _old_torso_length(joints):
    d = np.linalg.norm(joints[:, SC] - joints[:, HIP], axis=-1)
    d = d[np.isfinite(d)]
    return float(np.mean(d)) if d.size else 1.0


def _old_scale_by_torso(joints):
    length = _old_torso_length(joints)
    return joints / np.float32(length if length > 1e-6 else 1.0)


def _old_facing_angle(joints):
    across = (joints[:, SR] - joints[:, SL]) + (joints[:, HR] - joints[:, HL])
    v = np.nanmean(across, axis=0)
    return float(np.arctan2(v[2], v[0]))


def _old_rotate_about_vertical(joints, angle):
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=np.float32)
    return joints @ rot.T


def _old_face_camera(joints):
    return _old_rotate_about_vertical(joints, _old_facing_angle(joints)).astype(np.float32)


def _old_resample(joints, frames):
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


def _old_normalise_frames(joints, recipe, confidence=None):
    x = _old_fill_untracked(joints, confidence)
    x = _old_centre(x, recipe.centre)
    if recipe.scale:
        x = _old_scale_by_torso(x)
    if recipe.face_camera:
        x = _old_face_camera(x)
    return x


def _old_make_features(x, features=("joint",)):
    out = []
    for name in features:
        if name == "joint":
            f = x
        elif name == "bone":
            f = x - x[:, feat._PARENTS]
        else:
            f = np.zeros_like(x)
            f[:-1] = x[1:] - x[:-1]
        out.append(np.transpose(f, (2, 0, 1)))
    return np.ascontiguousarray(np.concatenate(out, axis=0), dtype=np.float32)


def _old_usable(joints, confidence, min_confidence):
    return np.isfinite(joints).all(-1) & (np.abs(joints).sum(-1) > 0) & (np.asarray(confidence) > min_confidence)


def _old_motion_energy(joints, confidence=None, min_confidence=0.5):
    joints = np.asarray(joints, np.float64)
    if joints.shape[0] < 2:
        return 0.0
    conf = np.ones(joints.shape[:2]) if confidence is None else np.asarray(confidence)
    ok = _old_usable(joints, conf, min_confidence if confidence is not None else -1.0)
    n = ok.sum(0)
    keep = n >= 2
    if not keep.any():
        return 0.0
    x = np.where(ok[..., None], joints, 0.0)
    mean = x.sum(0) / np.maximum(n, 1)[:, None]
    var = (np.where(ok[..., None], joints - mean, 0.0) ** 2).sum(0) / np.maximum(n, 1)[:, None]
    spread = np.sort(np.sqrt(var.sum(-1))[keep])
    return float(spread[-2] if len(spread) > 1 else spread[-1])


def _old_bone_lengths(joints, ok):
    a, b = tk._BONES[:, 0], tk._BONES[:, 1]
    out = np.linalg.norm(joints[a] - joints[b], axis=-1).astype(np.float64)
    out[~(ok[a] & ok[b])] = np.nan
    return out


# ------------------------------------------------------------------------------------------------- inputs

def _damage(x, conf, rng, kind):
    """Untracked joints of the kinds sensors and datasets produce."""
    T = x.shape[0]
    if kind == "nan":
        for _ in range(int(rng.integers(1, 30))):
            x[rng.integers(T), rng.integers(20)] = np.nan
    elif kind == "zero_frames":  # the Kinect's lost-body frames
        x[rng.integers(T, size=max(1, T // 5))] = 0.0
    elif kind == "inf":
        x[rng.integers(T), rng.integers(20), rng.integers(3)] = rng.choice([np.inf, -np.inf])
    elif kind == "low_conf":
        conf[rng.uniform(size=conf.shape) < 0.2] = 0.0
    elif kind == "never_seen":
        x[:, rng.integers(20)] = np.nan
    elif kind == "hip_never_seen":
        x[:, HIP] = np.nan
        x[:, rng.integers(20)] = 0.0
    elif kind == "all_nan":
        x[:] = np.nan
    elif kind == "zero_coordinate":  # one coordinate exactly 0 is a tracked joint, not the placeholder
        x[:, rng.integers(20), rng.integers(3)] = 0.0
    return x, conf


KINDS = ["clean", "nan", "zero_frames", "inf", "low_conf", "never_seen", "hip_never_seen", "all_nan",
         "zero_coordinate"]


def _windows(seed):
    """(joints, confidence) pairs: random, a waving person and a standing one, each with every kind of damage."""
    rng = np.random.default_rng(seed)
    wave = synthetic_motion(seconds=3.0, seed=seed)
    stand = pose(0.3, 2.2)[None].repeat(50, 0) + rng.normal(scale=0.003, size=(50, 20, 3)).astype(np.float32)
    bases = [rng.normal(size=(int(rng.integers(2, 120)), 20, 3)).astype(np.float32) * np.float32(rng.uniform(0.1, 3)),
             wave[: int(rng.integers(2, len(wave)))], stand, wave[:1]]
    out = []
    for base in bases:
        for kind in KINDS:
            x = base.copy()
            conf = rng.uniform(0.3, 1.0, x.shape[:2]).astype(np.float32)
            out.append(_damage(x, conf, rng, kind))
    return out


def _close(new, old):
    new, old = np.asarray(new), np.asarray(old)
    assert new.shape == old.shape and new.dtype == old.dtype
    assert np.allclose(new, old, rtol=1e-5, atol=1e-6, equal_nan=True)


# -------------------------------------------------------------------------------------------------- tests

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(6))
def test_normalisation_steps_match_the_plain_implementation(seed):
    for x, conf in _windows(seed):
        for c in (conf, None):
            for min_conf in (0.0, 0.5):
                _close(sn.valid_mask(x, c, min_conf), _old_valid_mask(x, c, min_conf))
                _close(sn.fill_untracked(x, c, min_conf), _old_fill_untracked(x, c, min_conf))
        _close(sn.valid_mask(x[:1], conf[:1]), _old_valid_mask(x[:1], conf[:1]))  # one frame, as the tracker
        filled = sn.fill_untracked(x, conf)
        for mode in ("first_frame", "per_frame", "none"):
            _close(sn.centre(filled, mode), _old_centre(filled, mode))
        centred = sn.centre(filled)
        for arr in (centred, x, x.astype(np.float64)):  # also raw windows, NaNs and all
            assert np.allclose(sn.torso_length(arr), _old_torso_length(arr), rtol=1e-6, equal_nan=True)
            assert np.allclose(sn.facing_angle(arr), _old_facing_angle(arr), atol=1e-6, equal_nan=True)
        _close(sn.scale_by_torso(centred), _old_scale_by_torso(centred))
        _close(sn.face_camera(centred), _old_face_camera(centred))
        for frames in (64, 16, len(x), 1 if len(x) > 1 else 2):
            _close(sn.resample(centred, frames), _old_resample(centred, frames))
            _close(sn.resample(centred.astype(np.float64), frames), _old_resample(centred.astype(np.float64), frames))
        for recipe in (sn.NormRecipe(), sn.NormRecipe(centre="per_frame", scale=False, face_camera=False, frames=48),
                       sn.NormRecipe(centre="none", frames=len(x))):
            old = _old_normalise_frames(x, recipe, conf)
            _close(sn.normalise_frames(x, recipe, conf), old)
            _close(sn.normalise(x, recipe, conf), _old_resample(old, recipe.frames))


@pytest.mark.parametrize("seed", range(4))
def test_rotation_matches_for_any_shape_and_dtype(seed):
    rng = np.random.default_rng(seed)
    for shape in [(int(rng.integers(1, 150)), 20, 3), (20, 3), (3,), (4, 7, 20, 3)]:
        x = rng.normal(size=shape) * rng.uniform(0.1, 5)
        angle = rng.uniform(-4, 4)
        for arr in (x.astype(np.float32), x, x[..., ::-1]):  # float32, float64, not contiguous
            _close(sn.rotate_about_vertical(arr, angle), _old_rotate_about_vertical(arr, angle))


@pytest.mark.parametrize("seed", range(4))
def test_features_match_the_plain_implementation(seed):
    rng = np.random.default_rng(seed)
    for x, conf in _windows(seed)[::3]:
        n = sn.normalise(x, sn.NormRecipe(frames=int(rng.integers(2, 80))), conf)
        for feats in (("joint",), ("joint", "bone", "velocity"), ("velocity", "bone"), ["bone", "joint"]):
            for arr in (n, n.astype(np.float64), n[:1], np.asfortranarray(n)):
                new, old = feat.make_features(arr, feats), _old_make_features(arr, feats)
                _close(new, old)
                assert new.flags.c_contiguous
    with pytest.raises(ValueError):
        feat.make_features(np.zeros((4, 20, 3), np.float32), ("joint", "acceleration"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(6))
def test_motion_energy_matches_the_plain_implementation(seed):
    for x, conf in _windows(seed):
        for c in (conf, None):
            for min_conf in (0.5, 0.0):
                assert np.isclose(motion_energy(x, c, min_conf), _old_motion_energy(x, c, min_conf),
                                  rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(3))
def test_tracker_helpers_match_the_plain_implementation(seed):
    for x, conf in _windows(seed):
        for j, c in zip(x[:5], conf[:5]):  # one body of one frame at a time, as the tracker sees them
            ok = tk.usable(j, c, 0.5)
            _close(ok, _old_usable(j, c, 0.5))
            _close(tk.bone_lengths(j, ok), _old_bone_lengths(j, ok))
    v = np.array([0.3, -1.2, 2.5])
    assert tk._length(v) == float(np.linalg.norm(v))
    assert tk._finite(v) and not tk._finite(np.array([0.0, np.nan, 1.0])) and not tk._finite(np.array([np.inf, 0, 0]))
