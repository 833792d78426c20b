"""NTU RGB+D reader on tiny .skeleton files in the exact text format."""
import numpy as np
import pytest

from kinact.core.datasets import ntu
from kinact.core.errors import BadInputError

ID_A = 72057594037944738  # real NTU ids are 64-bit
ID_B = 72057594037944734


def body_pose(offset, t, wave=0.0):
    """A plausible standing body (taller than wide) at x=offset, with an optional waving right hand."""
    y = np.linspace(-0.8, 0.8, 25)
    x = offset + 0.1 * np.sin(np.arange(25))
    z = np.full(25, 3.0)
    joints = np.stack([x, y, z], 1)
    joints[11, 0] += wave * np.sin(t)  # hand_right
    return joints


def write_skeleton(path, frames, joint_count=25):
    """frames: list of [(body_id, joints (25, 3), tracking state per joint or scalar)] per frame."""
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for bid, joints, state in bodies:
            out.append(f"{bid} 0 1 1 1 1 0 0.01 -0.25 2")
            out.append(str(joint_count))
            states = np.broadcast_to(state, (25,))
            for j in range(joint_count):
                x, y, z = joints[j % 25]
                out.append(f"{x:.7g} {y:.7g} {z:.7g} 336.5 192.8 1184.5 489.4 -0.22 0.03 0.97 -0.10 {states[j % 25]}")
    path.write_text("\r\n".join(out) + "\r\n")
    return path


def two_body_file(path, t=14, b_from=3):
    frames = []
    for i in range(t):
        bodies = [(ID_A, body_pose(0.0, i), 2)]
        if i >= b_from:  # B walks in mid-sequence and is listed first: position in the frame must not matter
            bodies.insert(0, (ID_B, body_pose(1.0, i, wave=0.5), np.r_[[1] * 5, [0] * 5, [2] * 15]))
        frames.append(bodies)
    return write_skeleton(path, frames)


def test_class_names_and_protocols():
    assert len(ntu.CLASS_NAMES) == 120
    assert ntu.CLASS_NAMES[0] == "drink water" and ntu.CLASS_NAMES[57] == "handshaking"
    assert ntu.CLASS_NAMES[59] == "walking apart from each other"
    assert ntu.CLASS_NAMES[119] == "finger-guessing game (playing rock-paper-scissors)"
    assert len(ntu.XSUB_TRAIN_SUBJECTS) == 53
    assert len([s for s in ntu.XSUB_TRAIN_SUBJECTS if s <= 40]) == 20  # NTU60's list


def test_parse_name():
    assert ntu.parse_name("S001C003P008R002A058.skeleton") == {
        "setup": 1, "camera": 3, "subject": 8, "replication": 2, "action": 58}
    with pytest.raises(BadInputError):
        ntu.parse_name("foo.skeleton")
    with pytest.raises(BadInputError, match="action 121"):
        ntu.parse_name("S001C003P008R002A121.skeleton")


def test_two_bodies_one_appearing_mid_sequence(tmp_path):
    s = ntu.read_sample(two_body_file(tmp_path / "S001C003P008R002A058.skeleton"))
    assert s.skeleton.shape == (2, 14, 25, 3) and s.confidence.shape == (2, 14, 25)
    assert s.body_ids == [ID_A, ID_B] and all(type(b) is int for b in s.body_ids)
    assert np.isnan(s.skeleton[1, :3]).all() and np.isfinite(s.skeleton[1, 3:]).all()
    assert np.isfinite(s.skeleton[0]).all()
    assert (s.confidence[1, :3] == 0).all()
    np.testing.assert_array_equal(s.confidence[1, 5], np.r_[[0.5] * 5, [0.0] * 5, [1.0] * 15])
    np.testing.assert_allclose(s.skeleton[1, 5], body_pose(1.0, 5, wave=0.5), atol=1e-5)
    assert (s.label, s.action, s.subject, s.trial, s.camera) == (57, "handshaking", 8, 2, 3)
    assert s.layout == "kinect_v2" and s.fps == 30
    assert ntu.main_actor_index(s) == 1  # B waves, A stands still
    assert ntu.scan(s.path) == (14, [ID_A, ID_B])


def test_main_actor_ignores_short_lived_and_wide_bodies(tmp_path):
    frames = []
    for i in range(20):
        bodies = [(1, body_pose(0.0, i, wave=0.05), 2)]
        if i < 4:  # a ghost with huge motion, seen only 4 frames
            bodies.append((2, body_pose(5.0 * i, i, wave=3.0), 2))
        wide = body_pose(2.0, i, wave=0.0)[:, [1, 0, 2]] * [3, 0.1, 1]  # lying flat: a table, not a person
        wide[0, 0] += 0.5 * np.sin(i)
        bodies.append((3, wide, 2))
        frames.append(bodies)
    s = ntu.read_sample(write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", frames))
    assert s.num_bodies == 3
    assert ntu.main_actor_index(s) == 0


def test_bad_files_name_the_file(tmp_path):
    p = tmp_path / "S001C001P001R001A001.skeleton"
    write_skeleton(p, [[(ID_A, body_pose(0, 0), 2)]] * 2, joint_count=24)
    with pytest.raises(BadInputError, match=r"line 4 \(frame 1, body 1\): 24 joints") as exc:
        ntu.read_sample(p)
    assert str(p) in str(exc.value)

    write_skeleton(p, [[(ID_A, body_pose(0, 0), 2)]] * 3)
    lines = p.read_text().splitlines()
    p.write_text("\n".join(lines[:-10]))
    with pytest.raises(BadInputError, match="truncated in frame 3") as exc:
        ntu.read_sample(p)
    assert str(p) in str(exc.value)

    p.write_text("\n".join(lines[:-27]))  # frame 3's body count promises a body that never comes
    with pytest.raises(BadInputError, match="truncated in frame 3"):
        ntu.read_sample(p)

    bad = list(lines)
    bad[10] = "0.1 0.2 0.3"
    p.write_text("\n".join(bad))
    with pytest.raises(BadInputError, match="line 11: 3 values"):
        ntu.read_sample(p)

    p.write_text("\n".join(lines + ["1"]))
    with pytest.raises(BadInputError, match="unexpected data"):
        ntu.read_sample(p)

    p.write_text("")
    with pytest.raises(BadInputError, match="empty file"):
        ntu.read_sample(p)

    p.write_text("abc\n")
    with pytest.raises(BadInputError, match="line 1: expected the frame count"):
        ntu.read_sample(p)


def test_file_without_bodies(tmp_path):
    p = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[], [], []])
    with pytest.raises(ntu.EmptySkeletonError, match="no body"):
        ntu.read_sample(p)
    write_skeleton(tmp_path / "S001C002P002R001A002.skeleton", [[(ID_A, body_pose(0, 0), 2)]])
    assert len(ntu.load_dataset(tmp_path)) == 1
    with pytest.raises(ntu.EmptySkeletonError):
        ntu.load_dataset(tmp_path, skip_empty=False)


def test_load_filters_and_splits(tmp_path):
    names = ["S001C001P001R001A001", "S001C002P003R001A002", "S002C003P038R002A060", "S018C001P045R001A061"]
    for n in names:
        write_skeleton(tmp_path / f"{n}.skeleton", [[(ID_A, body_pose(0, 0), 2)]] * 2)
    samples = ntu.load_dataset(tmp_path)
    assert len(samples) == 4
    assert len(ntu.load_dataset(tmp_path, actions=range(1, 61))) == 3
    assert len(ntu.load_dataset(tmp_path, subjects=[1, 3])) == 2
    train, test = ntu.cross_subject_split(samples)
    assert [s.subject for s in train] == [1, 38, 45] and [s.subject for s in test] == [3]
    train, test = ntu.cross_view_split(samples)
    assert [s.camera for s in train] == [2, 3] and [s.camera for s in test] == [1, 1]
    train, test = ntu.cross_setup_split(samples)
    assert [ntu.parse_name(s.path)["setup"] for s in train] == [2, 18]
    assert [ntu.parse_name(s.path)["setup"] for s in test] == [1, 1]
