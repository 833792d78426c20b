"""The .kinrec format: round trips, seeking, and every way a file can be wrong or damaged."""
import os

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap.writer import Writer

from kinact.core.errors import BadInputError
from kinact.core.frames import Body, Frame
from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED, KINECT_V1_DEPTH, KINECT_V2_DEPTH, Intrinsics
from kinact.core.recording.kinrec import KinrecReader, KinrecWriter, Segment, rewrite_segments

J = 25  # kinect_v2
SMALL = Intrinsics(30.0, 30.0, 16.0, 12.0, 32, 24)


def make_frames(n, depth_every=1, seed=0, fps=30.0, shape=(24, 32)):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        ids = [101, 72057594037927936 + 5][: i % 3]  # 0, 1 or 2 people; Kinect v2-sized ids
        bodies = [Body(b, rng.standard_normal((J, 3)).astype(np.float32), rng.random(J).astype(np.float32))
                  for b in ids]
        depth = rng.integers(500, 4500, shape, dtype=np.uint16) if i % depth_every == 0 else None
        frames.append(Frame(i / fps, bodies, depth, index=1000 + i))
    return frames


def write(path, frames, segments=(), **kw):
    kw.setdefault("intrinsics", SMALL)
    with KinrecWriter(path, "kinect_v2", 30, **kw) as w:
        for f in frames:
            w.write_frame(f)
        for s in segments:
            w.add_segment(*s)
    return path


def same_frame(a: Frame, b: Frame):
    assert b.t == pytest.approx(a.t, abs=1e-9)
    assert b.index == a.index
    assert [x.id for x in b.bodies] == [x.id for x in a.bodies]
    for x, y in zip(a.bodies, b.bodies):
        np.testing.assert_array_equal(x.joints, y.joints)
        np.testing.assert_array_equal(x.confidence, y.confidence)
    if a.depth is None:
        assert b.depth is None
    else:
        np.testing.assert_array_equal(a.depth, b.depth)
        assert b.depth.dtype == np.uint16


def test_round_trip_bodies_depth_segments(tmp_path):
    frames = make_frames(40, depth_every=3)
    p = write(tmp_path / "a.kinrec", frames, [(0.2, 0.9, "wave", 101, 4), (1.0, 1.2, "clap")],
              sensor="kinect_v2 #3", metadata={"subject": "7", "room": "lab"}, synthetic=True)
    with KinrecReader(p) as r:
        h = r.header
        assert (h.layout, h.units, h.fps, h.sensor, h.synthetic, h.version) == ("kinect_v2", "m", 30.0,
                                                                                "kinect_v2 #3", True, "1")
        assert h.metadata == {"subject": "7", "room": "lab"} and h.intrinsics == SMALL and h.created
        assert r.num_frames == len(r) == 40 and r.problems == [] and r.dropped == []
        np.testing.assert_allclose(r.frame_times, [f.t for f in frames], atol=1e-9)
        assert r.start_time == 0.0 and r.duration == pytest.approx(40 / 30)
        assert r.segments == [Segment(0.2, 0.9, "wave", 101, 4), Segment(1.0, 1.2, "clap")]
        assert r.bodies_ids() == [101, 72057594037927941]
        assert r.depth_shape == (24, 32)
        got = list(r.iter_frames())
        assert len(got) == 40
        for a, b in zip(frames, got):
            same_frame(a, b)


def test_the_file_is_standard_mcap(tmp_path):
    p = write(tmp_path / "a.kinrec", make_frames(10), [(0.1, 0.2, "wave")])
    with open(p, "rb") as fh:
        reader = make_reader(fh)
        assert reader.get_header().profile == "kinact"
        topics = [ch.topic for _, ch, _ in reader.iter_messages()]
        assert topics.count("/bodies") == 10 and topics.count("/depth") == 10 and topics.count("/segments") == 1
        names = {m.name for m in reader.iter_metadata()}
        assert {"kinact.header", "kinact.user", "kinact.summary"} <= names


def test_empty_recording(tmp_path):
    p = write(tmp_path / "empty.kinrec", [])
    with KinrecReader(p) as r:
        assert r.num_frames == 0 and r.duration == 0.0 and r.start_time == 0.0
        assert r.segments == [] and r.bodies_ids() == [] and r.depth_shape is None and r.problems == []
        assert list(r.iter_frames()) == [] and len(r.frame_times) == 0
        with pytest.raises(IndexError):
            r.read_frame(0)


def test_random_access_and_seek(tmp_path):
    frames = make_frames(60, depth_every=2)
    p = write(tmp_path / "seek.kinrec", frames, chunk_size=4096)  # many small chunks
    with KinrecReader(p) as r:
        for i in np.random.default_rng(3).permutation(60):
            same_frame(frames[i], r.read_frame(int(i)))
        same_frame(frames[-1], r.read_frame(-1))
        with pytest.raises(IndexError):
            r.read_frame(60)
        later = list(r.iter_frames(start_time=1.0))
        assert [f.index for f in later] == [f.index for f in frames[30:]]
        assert list(r.iter_frames(start_time=99.0)) == []


def test_same_timestamp_frames_keep_their_own_depth(tmp_path):
    frames = make_frames(6)
    for f in frames:
        f.t = 1.0
    frames[2].depth = None
    p = write(tmp_path / "dup.kinrec", frames)
    with KinrecReader(p) as r:
        for a, b in zip(frames, r.iter_frames()):
            same_frame(a, b)


def test_header_intrinsics_and_projection(tmp_path):
    frames = make_frames(3, shape=(424, 512))
    p = write(tmp_path / "k2.kinrec", frames, intrinsics=KINECT_V2_DEPTH)
    with KinrecReader(p) as r:
        assert r.header.intrinsics == KINECT_V2_DEPTH and r.depth_shape == (424, 512)
        same_frame(frames[1], r.read_frame(1))
    p = write(tmp_path / "az.kinrec", [], intrinsics=AZURE_NFOV_UNBINNED)
    with KinrecReader(p) as r:
        assert r.header.intrinsics == AZURE_NFOV_UNBINNED and not r.header.intrinsics.mirrored
    # Kinect v1 SDK: NuiTransformSkeletonToDepthImage -> (160 + 285.63 x/z, 120 - 285.63 y/z)
    uv = KINECT_V1_DEPTH.project(np.array([[0.5, 0.25, 2.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(uv[0], [160 + 285.63 / 4, 120 - 285.63 / 8])
    assert np.isnan(uv[1]).all()
    # Azure images are unmirrored: a canonical point to the sensor's left lands left of centre
    assert AZURE_NFOV_UNBINNED.project(np.array([0.5, 0.0, 2.0]))[0] < AZURE_NFOV_UNBINNED.cx


def test_mcap_alias_and_bad_extension(tmp_path):
    frames = make_frames(5)
    p = write(tmp_path / "a.mcap", frames)
    with KinrecReader(p) as r:
        same_frame(frames[4], r.read_frame(4))
    with pytest.raises(BadInputError, match="a.npy"):
        KinrecWriter(tmp_path / "a.npy", "kinect_v2", 30)


def test_wrong_depth_shape_and_bad_frames_are_rejected_before_writing(tmp_path):
    p = tmp_path / "w.kinrec"
    good = make_frames(3)
    with KinrecWriter(p, "kinect_v2", 30, intrinsics=SMALL) as w:
        w.write_frame(good[1])
        with pytest.raises(BadInputError, match=r"w\.kinrec.*24×32"):
            w.write_frame(Frame(0.1, [], np.zeros((48, 64), np.uint16)))
        with pytest.raises(BadInputError, match="uint16"):
            w.write_frame(Frame(0.1, [], np.zeros((24, 32), np.float32)))
        with pytest.raises(BadInputError, match="joints"):
            w.write_frame(Frame(0.1, [Body(1, np.zeros((20, 3)), np.ones(20))]))
        with pytest.raises(BadInputError, match="before the previous"):
            w.write_frame(Frame(0.01, [], None))
        with pytest.raises(BadInputError, match="not negative"):
            w.write_frame(Frame(-1.0, [], None))
        w.write_frame(good[2])
        with pytest.raises(BadInputError):
            w.add_segment(1.0, 0.5, "wave")
    with KinrecReader(p) as r:
        assert r.num_frames == 2 and r.problems == []
    # Without intrinsics the first depth image fixes the shape.
    with KinrecWriter(tmp_path / "x.kinrec", "kinect_v2", 30) as w:
        w.write_frame(Frame(0.0, [], np.zeros((10, 12), np.uint16)))
        with pytest.raises(BadInputError, match="10×12"):
            w.write_frame(Frame(0.1, [], np.zeros((12, 10), np.uint16)))
    with KinrecReader(tmp_path / "x.kinrec") as r:
        assert r.depth_shape == (10, 12) and r.header.intrinsics is None


def test_not_a_recording(tmp_path):
    cases = {"garbage.kinrec": b"this is not an MCAP file at all", "empty.kinrec": b"",
             "short.kinrec": b"\x89MCAP0\r\n\x01"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BadInputError, match=name):
            KinrecReader(tmp_path / name)
    with pytest.raises(BadInputError, match="missing.kinrec"):
        KinrecReader(tmp_path / "missing.kinrec")
    with open(tmp_path / "ros.mcap", "wb") as fh:
        w = Writer(fh)
        w.start(profile="ros2", library="test")
        w.finish()
    with pytest.raises(BadInputError, match="profile 'ros2'"):
        KinrecReader(tmp_path / "ros.mcap")


def test_damaged_kinact_header(tmp_path):
    p = write(tmp_path / "h.kinrec", make_frames(5))
    data = bytearray(p.read_bytes())
    at = data.index(b"format_version")
    data[at:at + 14] = b"XXXXXXXXXXXXXX"
    p.write_bytes(data)
    with pytest.raises(BadInputError, match=r"h\.kinrec"):
        KinrecReader(p)
    data[at - 30:at + 40] = b"\xff" * 70  # lengths inside the metadata record now point nowhere
    p.write_bytes(data)
    with pytest.raises(BadInputError, match=r"h\.kinrec"):
        KinrecReader(p)


def test_corrupt_chunk_is_reported_and_skipped(tmp_path):
    frames = make_frames(60, shape=(48, 64))
    p = write(tmp_path / "c.kinrec", frames, intrinsics=None, chunk_size=32 * 1024)
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 16] = bytes(b ^ 0xFF for b in data[mid:mid + 16])
    p.write_bytes(data)
    with KinrecReader(p) as r:
        assert r.num_frames == 60  # the summary still knows every frame
        got = list(r.iter_frames())
        assert 30 <= len(got) < 60
        assert len(r.dropped) == 1 and r.dropped[0].frames == 60 - len(got)
        assert "damaged chunk" in r.problems[0]
        by_index = {f.index: f for f in got}
        for f in frames:
            if f.index in by_index:
                same_frame(f, by_index[f.index])
        lost = next(i for i, f in enumerate(frames) if f.index not in by_index)
        with pytest.raises(BadInputError, match="damaged"):
            r.read_frame(lost)
        same_frame(frames[0], r.read_frame(0))
    # The same damage without the summary: the scan skips the chunk and finds the rest.
    p.write_bytes(data[: len(data) - 200])
    with KinrecReader(p) as r:
        assert r.num_frames == len(got) and "not closed cleanly" in r.problems[0]
        assert any("damaged chunk" in q for q in r.problems)


def test_damaged_record_length_resyncs_in_scan(tmp_path):
    p = write(tmp_path / "l.kinrec", make_frames(60, shape=(48, 64)), intrinsics=None, chunk_size=32 * 1024)
    data = bytearray(p.read_bytes())
    with KinrecReader(p) as r:
        off = r._ix.chunks[len(r._ix.chunks) // 2].offset
    data[off + 1:off + 9] = (2**40).to_bytes(8, "little")  # chunk length now points past the end
    p.write_bytes(data[:-100])
    with KinrecReader(p) as r:
        assert 30 <= r.num_frames < 60
        assert any("damaged bytes" in q for q in r.problems)
        assert sum(1 for _ in r.iter_frames()) == r.num_frames


def test_truncated_file_recovers_complete_chunks(tmp_path):
    frames = make_frames(90, shape=(48, 64))
    p = write(tmp_path / "t.kinrec", frames, intrinsics=None, chunk_size=32 * 1024)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.6)])
    with KinrecReader(p) as r:
        assert r.problems[0] == f"file was not closed cleanly (no summary): recovered {r.num_frames} frames"
        assert 40 <= r.num_frames < 60
        got = list(r.iter_frames())
        assert [f.index for f in got] == [f.index for f in frames[: len(got)]]
        same_frame(frames[len(got) - 1], got[-1])
        assert r.bodies_ids() == [101, 72057594037927941]


def test_rewrite_segments(tmp_path):
    frames = make_frames(30, depth_every=2)
    p = write(tmp_path / "r.kinrec", frames, [(0.0, 0.5, "wave")], metadata={"k": "v"})
    with KinrecReader(p) as r:
        created = r.header.created
    new = [Segment(0.1, 0.4, "clap", 101, 2), (0.5, 0.9, "jump")]
    assert rewrite_segments(p, new) == []
    assert sorted(os.listdir(tmp_path)) == ["r.kinrec"]
    with KinrecReader(p) as r:
        assert r.segments == [Segment(0.1, 0.4, "clap", 101, 2), Segment(0.5, 0.9, "jump")]
        assert r.header.metadata == {"k": "v"} and r.header.created == created and r.problems == []
        assert r.bodies_ids() == [101, 72057594037927941]
        for a, b in zip(frames, r.iter_frames()):
            same_frame(a, b)
    rewrite_segments(p, [])
    with KinrecReader(p) as r:
        assert r.segments == [] and r.num_frames == 30


def test_atomic_mode(tmp_path):
    p = tmp_path / "imp.kinrec"
    with pytest.raises(RuntimeError):
        with KinrecWriter(p, "kinect_v2", 30, atomic=True) as w:
            w.write_frame(make_frames(1)[0])
            assert os.path.exists(str(p) + ".partial") and not p.exists()
            raise RuntimeError("importer failed")
    assert os.listdir(tmp_path) == []
    with KinrecWriter(p, "kinect_v2", 30, atomic=True) as w:
        w.write_frame(make_frames(1)[0])
    assert os.listdir(tmp_path) == ["imp.kinrec"]
    with KinrecReader(p) as r:
        assert r.num_frames == 1


def test_skeleton_only_chunks_close_by_time_and_lz4(tmp_path):
    frames = [Frame(i / 30, f.bodies, None, i) for i, f in enumerate(make_frames(90))]
    p = write(tmp_path / "s.kinrec", frames, intrinsics=None, compression="lz4")
    with KinrecReader(p) as r:
        assert len(r._ix.chunks) >= 5  # 3 s of frames, a chunk per half second at most
        assert r.depth_shape is None
        for a, b in zip(frames, r.iter_frames()):
            same_frame(a, b)


def test_random_damage_never_raises_anything_but_bad_input(tmp_path):
    base = write(tmp_path / "base.kinrec", make_frames(30), [(0.1, 0.5, "wave")], intrinsics=None, chunk_size=8192)
    data = base.read_bytes()
    rng = np.random.default_rng(7)
    p = tmp_path / "f.kinrec"
    for trial in range(150):
        b = bytearray(data)
        pos = int(rng.integers(0, len(b)))
        if trial % 3 == 2:
            b = b[:pos]
        else:
            b[pos:pos + 1 + trial % 8] = rng.integers(0, 256, len(b[pos:pos + 1 + trial % 8]), np.uint8).tobytes()
        p.write_bytes(b)
        try:
            with KinrecReader(p) as r:
                n = sum(1 for _ in r.iter_frames())
                r.bodies_ids(), r.depth_shape, r.verify()
                assert n <= r.num_frames <= 30
        except BadInputError:
            pass
