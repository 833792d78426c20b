"""MSR Action3D reader on tiny skeleton3D.txt files in the exact text format."""
import numpy as np
import pytest

from kinact.core.datasets import msr_action3d
from kinact.core.errors import BadInputError


def frames(t, seed=0):
    rng = np.random.default_rng(seed)
    arr = rng.normal(size=(t, 20, 4)).astype(np.float32)
    arr[..., 3] = rng.choice([0.0, 1.0], size=(t, 20))
    return arr


def write(path, arr):
    path.write_text("".join(f"{x:f} {y:f} {z:f} {c:f}\n" for x, y, z, c in arr.reshape(-1, 4)))
    return path


def test_names_and_classes():
    assert len(msr_action3d.CLASS_NAMES) == 20
    assert msr_action3d.CLASS_NAMES[0] == "high arm wave" and msr_action3d.CLASS_NAMES[19] == "pick up & throw"
    assert msr_action3d.parse_name("x/a20_s10_e03_skeleton3D.txt") == (20, 10, 3)
    with pytest.raises(BadInputError):
        msr_action3d.parse_name("a01_s01_e01_skeleton.txt")
    with pytest.raises(BadInputError, match="action 21"):
        msr_action3d.parse_name("a21_s01_e01_skeleton3D.txt")


def test_read_sample(tmp_path):
    arr = frames(5)
    s = msr_action3d.read_sample(write(tmp_path / "a02_s03_e01_skeleton3D.txt", arr))
    assert s.skeleton.shape == (1, 5, 20, 3) and s.skeleton.dtype == np.float32
    np.testing.assert_allclose(s.skeleton[0], arr[..., :3], atol=1e-6)
    np.testing.assert_array_equal(s.confidence[0], np.ones((5, 20), np.float32))
    assert (s.label, s.action, s.subject, s.trial, s.fps, s.layout) == (
        1, "horizontal arm wave", 3, 1, 15.0, "msr_action3d")


def test_a_zero_score_is_not_a_missing_joint_but_a_zero_position_is(tmp_path):
    # MSR's tracker scores its derived joints (hip centre, spine, neck, feet) 0 in most frames, with real
    # positions: they must stay usable, or centring and scaling run on guesses. Lost frames are all zeros.
    arr = frames(4)
    arr[:, [2, 3, 6, 17, 18], 3] = 0.0
    arr[2, :, :3] = 0.0
    s = msr_action3d.read_sample(write(tmp_path / "a01_s01_e01_skeleton3D.txt", arr))
    want = np.ones((4, 20), np.float32)
    want[2] = 0.0
    np.testing.assert_array_equal(s.confidence[0], want)
    np.testing.assert_array_equal(msr_action3d.read_array(tmp_path / "a01_s01_e01_skeleton3D.txt")[..., 3], arr[..., 3])
    from kinact.core.layouts import to_canonical
    from kinact.core.skeleton_norm import NormRecipe, normalise

    j, c = to_canonical(s.skeleton[0], s.layout, s.confidence[0])
    keep = [0, 1, 3]  # the frames with positions: normalising them must use the file's own hip, spine, neck
    got = normalise(j[keep], NormRecipe(frames=3), c[keep])
    np.testing.assert_allclose(got, normalise(j[keep], NormRecipe(frames=3)), atol=1e-5)


def test_windows_line_endings_and_trailing_blank_lines(tmp_path):
    arr = frames(2)
    p = write(tmp_path / "a01_s01_e01_skeleton3D.txt", arr)
    p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    assert msr_action3d.read_sample(p).num_frames == 2


def test_bad_files_name_file_and_line(tmp_path):
    arr = frames(2)
    p = write(tmp_path / "a01_s01_e01_skeleton3D.txt", arr)
    lines = p.read_text().splitlines()
    lines[6] = "0.1 0.2 0.3"
    p.write_text("\n".join(lines))
    with pytest.raises(BadInputError, match="line 7: 3 values") as exc:
        msr_action3d.read_sample(p)
    assert str(p) in str(exc.value)

    p.write_text("\n".join(write(tmp_path / "x", arr).read_text().splitlines()[:-3]))
    with pytest.raises(BadInputError, match="truncated"):
        msr_action3d.read_sample(p)

    p.write_text("")
    with pytest.raises(BadInputError, match="empty"):
        msr_action3d.read_sample(p)

    p.write_text("a b c d\n" * 20)
    with pytest.raises(BadInputError, match="non-numeric"):
        msr_action3d.read_sample(p)

    p.write_bytes(b"\xff\xfe" * 40)
    with pytest.raises(BadInputError, match="not a text file"):
        msr_action3d.read_sample(p)


def test_load_and_split(tmp_path):
    (tmp_path / "sub").mkdir()
    for a, s, e in [(1, 1, 1), (1, 2, 1), (3, 9, 2), (20, 10, 3)]:
        write(tmp_path / "sub" / f"a{a:02d}_s{s:02d}_e{e:02d}_skeleton3D.txt", frames(2, seed=a + s))
    (tmp_path / "readme.txt").write_text("ignored")
    samples = msr_action3d.load_dataset(tmp_path)
    assert [(s.label, s.subject, s.trial) for s in samples] == [(0, 1, 1), (0, 2, 1), (2, 9, 2), (19, 10, 3)]
    train, test = msr_action3d.cross_subject_split(samples)
    assert [s.subject for s in train] == [1, 9] and [s.subject for s in test] == [2, 10]
    assert len(msr_action3d.load_dataset(tmp_path, subjects=[2, 10])) == 2


def test_empty_root(tmp_path):
    with pytest.raises(BadInputError, match="no MSR"):
        msr_action3d.load_dataset(tmp_path)
    with pytest.raises(BadInputError, match="not a directory"):
        msr_action3d.load_dataset(tmp_path / "missing")
