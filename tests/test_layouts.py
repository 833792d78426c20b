"""The layout registry is what lets a model trained on one sensor run on another: test its invariants."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from kinact.core.errors import KinactError
from kinact.core.layouts import CANONICAL, CANONICAL_JOINTS, LAYOUTS, get_layout, to_canonical, from_canonical_axes

ALL = sorted(LAYOUTS)


@pytest.mark.parametrize("name", ALL)
def test_every_layout_maps_each_canonical_joint_to_a_distinct_joint(name):
    lay = get_layout(name)
    assert len(lay.canonical_index) == 20
    assert len(set(lay.canonical_index)) == 20
    assert all(0 <= i < lay.num_joints for i in lay.canonical_index)


@pytest.mark.parametrize("name", ALL)
def test_bones_form_one_tree_over_all_joints(name):
    lay = get_layout(name)
    assert len(lay.bones) == lay.num_joints - 1
    parent = list(range(lay.num_joints))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in lay.bones:
        ra, rb = find(a), find(b)
        assert ra != rb, f"bone {lay.joints[a]}-{lay.joints[b]} closes a cycle"
        parent[ra] = rb
    assert len({find(j) for j in range(lay.num_joints)}) == 1


@pytest.mark.parametrize("name", ALL)
def test_mirror_permutation_is_an_involution_that_swaps_sides(name):
    lay = get_layout(name)
    perm = lay.mirror_permutation()
    assert np.array_equal(perm[perm], np.arange(lay.num_joints))
    for j, k in enumerate(perm):
        assert {lay.side(j), lay.side(k)} in ({"centre"}, {"left", "right"})


@pytest.mark.parametrize("name", ALL)
def test_canonical_names_match_through_aliases(name):
    lay = get_layout(name)
    for k, canon in enumerate(CANONICAL_JOINTS):
        assert lay.index(canon) == lay.canonical_index[k]


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(ALL), data=st.data())
def test_to_canonical_picks_the_named_joint_in_metres_and_canonical_axes(name, data):
    lay = get_layout(name)
    x = data.draw(arrays(np.float32, (3, lay.num_joints, 3), elements=st.floats(-3000, 3000, width=32)))
    out = to_canonical(x, lay)
    assert out.shape == (3, 20, 3)
    for k, canon in enumerate(CANONICAL_JOINTS):
        expect = x[:, lay.index(canon)] * lay.metres_per_unit * np.array(lay.axis_signs, np.float32)
        np.testing.assert_allclose(out[:, k], expect, rtol=1e-6, atol=1e-6)
    back = from_canonical_axes(out, lay)
    np.testing.assert_allclose(back, x[:, list(lay.canonical_index)], rtol=1e-5, atol=1e-3)


def test_canonical_layout_is_identity():
    x = np.random.default_rng(0).normal(size=(5, 20, 3)).astype(np.float32)
    np.testing.assert_array_equal(to_canonical(x, CANONICAL), x)


def test_bones_survive_the_mapping_between_layouts():
    """A bone between two canonical joints has the same length whichever layout the data came from."""
    rng = np.random.default_rng(1)
    canon = rng.normal(size=(20, 3)).astype(np.float32)
    lengths = {}
    for name in ("utd_mhad", "msr_action3d", "kinect_v1"):
        lay = get_layout(name)
        native = np.zeros((lay.num_joints, 3), np.float32)
        native[list(lay.canonical_index)] = canon
        c = to_canonical(native, lay)
        lengths[name] = np.linalg.norm(c[1] - c[0])
    assert len({round(float(v), 5) for v in lengths.values()}) == 1


def test_azure_axes_flip_y_and_x():
    lay = get_layout("azure_kinect")
    x = np.zeros((32, 3), np.float32)
    x[lay.index("head")] = [100.0, -700.0, 2000.0]  # mm, y down: head above the camera centre
    head = to_canonical(x, lay)[CANONICAL.index("head")]
    np.testing.assert_allclose(head, [-0.1, 0.7, 2.0], rtol=1e-6)


def test_wrong_joint_count_and_unknown_layout_are_user_errors():
    with pytest.raises(KinactError, match="25"):
        to_canonical(np.zeros((4, 20, 3)), "kinect_v2")
    with pytest.raises(KinactError, match="known"):
        get_layout("kinect_v9")
