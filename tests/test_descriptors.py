"""Depth motion descriptors on small synthetic depth sequences (a still torso and a moving arm)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinact.core.descriptors import _resize, dmi, dmm


def scene(t=30, h=120, w=160, arm="lateral", quant=0):
    """Background 0; a torso at 2500 mm that never moves; an arm block that moves sideways and/or towards the camera.

    arm: "lateral" (2 px a frame), "towards" (15 mm a frame), "both", or "first_half" (both, then it stops).
    """
    d = np.zeros((t, h, w), np.uint16)
    rng = np.random.default_rng(0)
    for i in range(t):
        d[i, 30:110, 60:90] = 2500
        if quant:  # quantisation flicker on the still torso: must not count as motion
            d[i, 30:110, 60:90] += (rng.random((80, 30)) < 0.3).astype(np.uint16) * quant
        k = min(i, t // 2) if arm == "first_half" else i
        c = 92 + 2 * k if arm != "towards" else 92
        z = 2450 - 15 * k if arm != "lateral" else 2450
        d[i, 40:50, c:c + 12] = z
    return d


def test_dmi_shape_and_where_motion_is():
    img = dmi(scene(quant=20), size=(60, 80))
    assert img.shape == (60, 80) and img.dtype == np.uint8
    assert img.max() == 255
    # crop = body bbox (rows 30..110, cols 60..~162 + margin); the torso occupies the left ~30% of it
    torso = img[15:45, 3:18]
    arm_path = img[8:14, 30:75]
    assert torso.mean() < 5 and arm_path.mean() > 60


def test_dmi_sees_motion_towards_the_camera():
    img = dmi(scene(arm="towards"), size=(50, 50))
    assert img.max() == 255


@pytest.mark.parametrize("fn", [dmi, lambda d, **k: dmm(d, **k)["front"]])
def test_all_zero_and_single_frame_give_zeros(fn):
    assert not fn(np.zeros((10, 40, 50), np.uint16)).any()
    assert not fn(scene()[:1]).any()
    still = np.repeat(scene()[:1], 8, axis=0)
    assert not fn(still).any()


@pytest.mark.parametrize("bad", [np.zeros((40, 50)), np.zeros((2, 3, 40, 50)), np.zeros((5, 1, 50)),
                                 np.array([["a"] * 3] * 3, dtype=object)[None]])
def test_wrong_shapes_raise_value_error(bad):
    with pytest.raises(ValueError, match="depth must be"):
        dmi(bad)
    with pytest.raises(ValueError, match="depth must be"):
        dmm(bad)


def test_negative_depth_rejected_and_nan_is_missing():
    with pytest.raises(ValueError, match="negative"):
        dmi(-np.ones((3, 10, 10)))
    d = scene().astype(np.float32)
    d[d == 0] = np.nan
    np.testing.assert_array_equal(dmi(d), dmi(scene()))


def test_dmm_views_sizes_and_range():
    maps = dmm(scene(arm="both"), size={"front": (40, 30), "side": (20, 24), "top": (24, 20)})
    assert set(maps) == {"front", "side", "top"}
    assert maps["front"].shape == (40, 30) and maps["side"].shape == (20, 24) and maps["top"].shape == (24, 20)
    for m in maps.values():
        assert m.dtype == np.float32 and 0 <= m.min() and m.max() == pytest.approx(1.0)


def test_dmm_motion_towards_camera_shows_in_side_and_top():
    maps = dmm(scene(arm="towards"), size=(32, 32))
    assert maps["side"].max() > 0.5 and maps["top"].max() > 0.5


def test_dmm_temporal_halves():
    maps = dmm(scene(arm="first_half"), size=(32, 32), temporal_halves=True)
    for view, m in maps.items():
        assert m.shape == (3, 32, 32)
        whole, first, second = m
        assert first.sum() > 0.5 * whole.sum(), view
        assert second.sum() < 0.2 * whole.sum(), view
    assert not dmm(np.zeros((4, 20, 20)), size=(8, 8), temporal_halves=True)["top"].any()


def test_a_utd_sized_sequence_gives_finite_maps_that_see_the_moving_arm():
    """A full-size sequence (60 frames of 320x240) goes through both descriptors; how fast is the benchmarks'
    business, not a unit test's."""
    rng = np.random.default_rng(1)
    d = np.zeros((60, 240, 320), np.uint16)
    for i in range(60):
        d[i, 60:220, 130:190] = 2800 + rng.integers(0, 2, (160, 60)) * 22
        d[i, 80:100, 190 + i:220 + i] = 2700
    maps, image = dmm(d, temporal_halves=True), dmi(d)
    assert all(np.isfinite(m).all() for m in maps.values()) and image.shape == (224, 224)
    # the arm slides sideways at one depth: the front and top views see it move, the side view does not
    assert maps["front"].max() > 0 and maps["top"].max() > 0 and maps["side"].max() == 0 and image.max() > 0


def test_resize_exact_shape_and_constant_preserved():
    img = np.full((7, 300), 3.0, np.float32)
    out = _resize(img, (224, 5))
    assert out.shape == (224, 5) and np.allclose(out, 3.0)
    assert _resize(np.ones((2, 3, 4), np.float32), (5, 6)).shape == (2, 5, 6)


@settings(max_examples=25, deadline=None)
@given(t=st.integers(1, 6), h=st.integers(2, 12), w=st.integers(2, 12), seed=st.integers(0, 10 ** 6),
       sparsity=st.floats(0, 1))
def test_never_crashes_on_odd_inputs(t, h, w, seed, sparsity):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 5000, (t, h, w)).astype(np.uint16) * (rng.random((t, h, w)) < sparsity)
    img = dmi(d, size=(9, 7))
    assert img.shape == (9, 7)
    maps = dmm(d, size=(5, 6), bins=8, temporal_halves=True)
    assert all(m.shape == (3, 5, 6) and np.isfinite(m).all() for m in maps.values())
