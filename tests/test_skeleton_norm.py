"""Normalisation must make the same motion look the same wherever and however big the person is."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kinact.core.layouts import CANONICAL
from kinact.core.pipeline.fakes import pose
from kinact.core.skeleton_norm import (
    HIP, SHOULDER_CENTRE, NormRecipe, facing_angle, fill_untracked, normalise, resample, rotate_about_vertical,
    torso_length,
)


def standing_body(T=30, seed=0):
    """A rough canonical skeleton facing the camera, 2.5 m away, with a waving right hand."""
    rng = np.random.default_rng(seed)
    x = pose()[None].repeat(T, 0)
    hand = CANONICAL.index("hand_right")
    x[:, hand, 0] += 0.2 * np.sin(np.linspace(0, 4 * np.pi, T))
    return x + rng.normal(scale=0.002, size=x.shape).astype(np.float32)


def test_normalise_is_invariant_to_position_size_and_facing():
    x = standing_body()
    recipe = NormRecipe(frames=32)
    ref = normalise(x, recipe)
    moved = rotate_about_vertical(x - x[:1, HIP:HIP + 1], 0.6) * 1.3 + np.array([0.8, 0.1, 1.0], np.float32)
    np.testing.assert_allclose(normalise(moved, recipe), ref, atol=1e-4)
    assert abs(torso_length(ref) - 1.0) < 0.05
    assert abs(facing_angle(ref)) < 1e-4
    np.testing.assert_allclose(ref[0, HIP], 0.0, atol=1e-6)


def test_fill_untracked_interpolates_nan_zero_and_low_confidence_joints():
    x = standing_body(T=10)
    truth = x.copy()
    x[3, 5] = np.nan
    x[4] = 0.0  # a lost-body frame
    conf = np.ones(x.shape[:2], np.float32)
    conf[6, 7] = 0.0
    x[6, 7] = [9, 9, 9]
    y = fill_untracked(x, conf)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[4], (y[3] + y[5]) / 2, atol=1e-5)
    np.testing.assert_allclose(y[3, 5], truth[3, 5], atol=0.01)
    np.testing.assert_allclose(y[6, 7], (x[5, 7] + x[7, 7]) / 2, atol=1e-5)


def test_joint_never_seen_falls_back_to_hip_and_all_nan_gives_zeros():
    x = standing_body(T=5)
    x[:, 11] = np.nan
    y = fill_untracked(x)
    np.testing.assert_allclose(y[:, 11], y[:, HIP])
    assert np.array_equal(fill_untracked(np.full((4, 20, 3), np.nan)), np.zeros((4, 20, 3), np.float32))


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 200), frames=st.integers(2, 128))
def test_resample_keeps_endpoints_and_length(T, frames):
    x = np.cumsum(np.ones((T, 20, 3), np.float32), axis=0)
    y = resample(x, frames)
    assert y.shape == (frames, 20, 3)
    np.testing.assert_allclose(y[0], x[0])
    np.testing.assert_allclose(y[-1], x[-1], rtol=1e-5)
    assert (np.diff(y[:, 0, 0]) >= -1e-5).all()


def test_recipe_round_trips_through_a_dict():
    r = NormRecipe(centre="per_frame", scale=False, face_camera=False, frames=48)
    assert NormRecipe.from_dict(r.to_dict()) == r
    with pytest.raises(ValueError):
        normalise(standing_body(), NormRecipe(centre="sideways"))
