"""UTD-MHAD reader on tiny files written in the exact on-disk formats (MATLAB v5 and v7.3)."""
import h5py
import numpy as np
import pytest
import scipy.io

from kinact.core.datasets import utd_mhad
from kinact.core.errors import BadInputError
from kinact.core.layouts import get_layout


def skel_array(t, seed=0):
    """20×3×T as MATLAB holds d_skel, with values that differ per joint, axis and frame."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(20, 3, t)) + np.arange(20)[:, None, None]


def depth_array(t, seed=0):
    rng = np.random.default_rng(seed)
    d = np.zeros((240, 320, t), np.uint16)
    d[60:200, 120:200, :] = rng.integers(2000, 3000, size=(140, 80, t), dtype=np.uint16)
    return d


def write_v5(path, key, arr, compress=True):
    scipy.io.savemat(path, {key: arr}, do_compression=compress)
    return path


def write_v73(path, key, arr, matlab_order=True):
    """Like MATLAB's `save -v7.3`: HDF5 with a 512-byte userblock holding the MAT header, array transposed."""
    with h5py.File(path, "w", userblock_size=512) as f:
        ds = f.create_dataset(key, data=arr.T if matlab_order else arr)
        ds.attrs["MATLAB_class"] = np.bytes_("uint16" if arr.dtype == np.uint16 else "double")
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header)
    return path


def test_class_names_and_parse_name():
    assert len(utd_mhad.CLASS_NAMES) == 27
    assert utd_mhad.CLASS_NAMES[0] == "right arm swipe to the left"
    assert utd_mhad.CLASS_NAMES[26] == "squat (two arms stretch out)"
    assert utd_mhad.parse_name("/x/a27_s8_t3_skeleton.mat") == (27, 8, 3)
    assert utd_mhad.parse_name("a1_s1_t1_depth.mat") == (1, 1, 1)
    with pytest.raises(BadInputError, match="not a UTD-MHAD file name"):
        utd_mhad.parse_name("a1_s1_skeleton.mat")
    with pytest.raises(BadInputError, match="action 28"):
        utd_mhad.parse_name("a28_s1_t1_skeleton.mat")


def test_layout_is_registered():
    assert get_layout(utd_mhad.LAYOUT).num_joints == 20


@pytest.mark.parametrize("compress", [True, False])
def test_read_skeleton_v5(tmp_path, compress):
    arr = skel_array(7)
    p = write_v5(tmp_path / "a3_s2_t4_skeleton.mat", "d_skel", arr, compress)
    s = utd_mhad.read_skeleton(p)
    assert s.skeleton.shape == (1, 7, 20, 3) and s.skeleton.dtype == np.float32
    np.testing.assert_allclose(s.skeleton[0], np.transpose(arr, (2, 0, 1)), rtol=1e-6)
    assert s.confidence.shape == (1, 7, 20) and (s.confidence == 1).all()
    assert (s.label, s.action, s.subject, s.trial) == (2, "right hand wave", 2, 4)
    assert s.layout == "utd_mhad" and s.fps == 30 and s.depth is None and s.path == str(p)


@pytest.mark.parametrize("matlab_order", [True, False])
def test_read_skeleton_v73_either_orientation(tmp_path, matlab_order):
    arr = skel_array(9)
    p = write_v73(tmp_path / "a1_s1_t1_skeleton.mat", "d_skel", arr, matlab_order)
    assert open(p, "rb").read(19) == b"MATLAB 7.3 MAT-file"
    s = utd_mhad.read_skeleton(p)
    np.testing.assert_allclose(s.skeleton[0], np.transpose(arr, (2, 0, 1)), rtol=1e-6)


def test_single_frame_skeleton(tmp_path):
    p = write_v5(tmp_path / "a1_s1_t1_skeleton.mat", "d_skel", skel_array(1)[:, :, 0])
    assert utd_mhad.read_skeleton(p).skeleton.shape == (1, 1, 20, 3)


def test_read_sample_with_depth_v5_and_v73(tmp_path):
    sk, dep = skel_array(4), depth_array(4)
    s5 = utd_mhad.read_sample(write_v5(tmp_path / "a2_s1_t1_skeleton.mat", "d_skel", sk),
                              write_v5(tmp_path / "a2_s1_t1_depth.mat", "d_depth", dep))
    assert s5.depth.shape == (4, 240, 320) and s5.depth.dtype == np.uint16
    np.testing.assert_array_equal(s5.depth, np.transpose(dep, (2, 0, 1)))
    (tmp_path / "h5").mkdir()
    s73 = utd_mhad.read_sample(write_v73(tmp_path / "h5" / "a2_s1_t1_skeleton.mat", "d_skel", sk),
                               write_v73(tmp_path / "h5" / "a2_s1_t1_depth.mat", "d_depth", dep))
    np.testing.assert_array_equal(s73.depth, s5.depth)
    np.testing.assert_array_equal(s73.skeleton, s5.skeleton)


def test_depth_transform_replaces_raw_depth(tmp_path):
    sk = write_v5(tmp_path / "a2_s1_t1_skeleton.mat", "d_skel", skel_array(3))
    dp = write_v5(tmp_path / "a2_s1_t1_depth.mat", "d_depth", depth_array(3))
    s = utd_mhad.read_sample(sk, dp, depth_transform=lambda d: d.shape)
    assert s.depth == (3, 240, 320)


def test_header_shapes_match_without_loading(tmp_path):
    dep = depth_array(5)
    for i, compress in enumerate((True, False)):
        p = write_v5(tmp_path / f"a1_s1_t{i + 1}_depth.mat", "d_depth", dep, compress)
        assert utd_mhad.mat_shape(p, "d_depth") == ((240, 320, 5), False)
        assert utd_mhad.depth_frames(p) == (5, (240, 320))
    p = write_v73(tmp_path / "a1_s1_t3_depth.mat", "d_depth", dep)
    assert utd_mhad.depth_frames(p) == (5, (240, 320))
    p = write_v73(tmp_path / "a1_s1_t3_skeleton.mat", "d_skel", skel_array(6))
    assert utd_mhad.skeleton_frames(p) == 6


def test_depth_frame_mismatch_names_the_file(tmp_path):
    sk = write_v5(tmp_path / "a2_s1_t1_skeleton.mat", "d_skel", skel_array(4))
    dp = write_v5(tmp_path / "a2_s1_t1_depth.mat", "d_depth", depth_array(3))
    with pytest.raises(BadInputError, match="3 depth frames") as exc:
        utd_mhad.read_sample(sk, dp)
    assert str(dp) in str(exc.value)


def test_bad_files_name_the_file(tmp_path):
    good = write_v5(tmp_path / "good.mat", "d_skel", skel_array(30))
    data = open(good, "rb").read()
    cases = {
        "a1_s1_t1_skeleton.mat": data[: len(data) // 2],  # truncated
        "a1_s1_t2_skeleton.mat": b"",  # empty
        "a1_s1_t3_skeleton.mat": b"hello, not a mat file" * 20,
    }
    for name, content in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(BadInputError) as exc:
            utd_mhad.read_skeleton(p)
        assert str(p) in str(exc.value)
    trunc = tmp_path / "a1_s1_t1_skeleton.mat"
    with pytest.raises(BadInputError, match="truncated"):
        utd_mhad.skeleton_frames(trunc)
    wrong_key = write_v5(tmp_path / "a1_s1_t4_skeleton.mat", "skel", skel_array(3))
    with pytest.raises(BadInputError, match="no variable 'd_skel'.*skel") as exc:
        utd_mhad.read_skeleton(wrong_key)
    assert str(wrong_key) in str(exc.value)
    wrong_key73 = write_v73(tmp_path / "a1_s1_t5_skeleton.mat", "skel", skel_array(3))
    with pytest.raises(BadInputError, match="no variable 'd_skel'"):
        utd_mhad.read_skeleton(wrong_key73)
    wrong_shape = write_v5(tmp_path / "a1_s1_t6_skeleton.mat", "d_skel", np.zeros((25, 3, 4)))
    with pytest.raises(BadInputError, match="20×3×T"):
        utd_mhad.read_skeleton(wrong_shape)
    with pytest.raises(BadInputError, match="no such file"):
        utd_mhad.read_skeleton(tmp_path / "a1_s1_t9_skeleton.mat")


def make_tree(root, keys, depth_keys, flat=False):
    sdir, ddir = (root, root) if flat else (root / "Skeleton", root / "Depth")
    sdir.mkdir(parents=True, exist_ok=True)
    ddir.mkdir(parents=True, exist_ok=True)
    for a, s, t in keys:
        write_v5(sdir / f"a{a}_s{s}_t{t}_skeleton.mat", "d_skel", skel_array(3))
    for a, s, t in depth_keys:
        write_v5(ddir / f"a{a}_s{s}_t{t}_depth.mat", "d_depth", depth_array(3))


@pytest.mark.parametrize("flat", [False, True])
def test_list_pairs_and_load(tmp_path, flat):
    keys = [(1, 1, 1), (1, 2, 1), (10, 3, 2), (2, 4, 1)]
    make_tree(tmp_path, keys, keys[:3], flat)
    pairs = utd_mhad.list_pairs(tmp_path)
    assert [utd_mhad.parse_name(s) for s, _ in pairs] == sorted(keys)
    assert [d is None for _, d in pairs] == [False, False, True, False]  # (2, 4, 1) has no depth
    samples = utd_mhad.load_dataset(tmp_path, subjects=[1, 3])
    assert [(s.label, s.subject) for s in samples] == [(0, 1), (9, 3)]
    with_depth = utd_mhad.load_dataset(tmp_path, subjects=[1, 2, 3], depth_transform=lambda d: float(d.mean()))
    assert all(isinstance(s.depth, float) for s in with_depth)
    with pytest.raises(BadInputError, match="no matching"):
        utd_mhad.load_dataset(tmp_path, with_depth=True)
    train, test = utd_mhad.cross_subject_split(utd_mhad.load_dataset(tmp_path))
    assert {s.subject for s in train} == {1, 3} and {s.subject for s in test} == {2, 4}


def test_empty_or_missing_root(tmp_path):
    with pytest.raises(BadInputError, match="no UTD-MHAD"):
        utd_mhad.load_dataset(tmp_path)
    with pytest.raises(BadInputError, match="not a directory"):
        utd_mhad.list_pairs(tmp_path / "nope")


def test_duplicate_sequence_is_refused(tmp_path):
    make_tree(tmp_path, [(1, 1, 1)], [])
    (tmp_path / "copy").mkdir()
    write_v5(tmp_path / "copy" / "a1_s1_t1_skeleton.mat", "d_skel", skel_array(3))
    with pytest.raises(BadInputError, match="duplicate"):
        utd_mhad.list_pairs(tmp_path)
