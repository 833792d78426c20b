"""Replay and dataset sources: order, pacing, the GUI transport (pause/step/seek/speed/loop) and damage."""
import threading
import time

import numpy as np
import pytest

from kinact.core.datasets.detect import read_any
from kinact.core.errors import BadInputError, KinactError
from kinact.core.frames import Body, Frame
from kinact.core.recording.intrinsics import KINECT_V1_DEPTH, Intrinsics
from kinact.core.recording.kinrec import KinrecWriter
from kinact.core.sources.base import EndOfStream
from kinact.core.sources.dataset import DatasetSource
from kinact.core.sources.registry import open_source
from kinact.core.sources.replay import ReplaySource
from tests.dataset_files import msr_file, ntu_file, utd_tree

J = 25  # kinect_v2
SMALL = Intrinsics(30.0, 30.0, 16.0, 12.0, 32, 24)
N, FPS = 60, 30.0


def make_frames(n=N, shape=(24, 32)):
    rng = np.random.default_rng(0)
    return [Frame(i / FPS, [Body(b, rng.standard_normal((J, 3)).astype(np.float32), rng.random(J).astype(np.float32))
                            for b in (7, 9)], rng.integers(500, 4500, shape, dtype=np.uint16), index=i)
            for i in range(n)]


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture
def rec(tmp_path, frames):
    p = tmp_path / "r.kinrec"
    with KinrecWriter(p, "kinect_v2", FPS, intrinsics=SMALL, sensor="test") as w:
        for f in frames:
            w.write_frame(f)
        w.add_segment(0.5, 1.2, "wave", 7, 3)
    return p


def read_all(src, limit=1000):
    out = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            f = src.read(timeout=1.0)
            if f is not None:
                out.append(f)
    return out


def test_frames_in_order_with_content_and_fast_at_speed_0(rec, frames):
    with ReplaySource(rec, speed=0) as src:
        assert (src.live, src.paced, src.layout, src.fps, src.intrinsics) == (False, True, "kinect_v2", FPS, SMALL)
        assert src.frame_count == N and src.duration == pytest.approx(N / FPS)
        assert src.header.sensor == "test" and src.problems == []
        assert [(s.start, s.end, s.action, s.body_id, s.label) for s in src.segments] == [(0.5, 1.2, "wave", 7, 3)]
        t0 = time.monotonic()
        got = read_all(src)
        assert time.monotonic() - t0 < 0.5 * N / FPS  # well under the recording's 2 s
        with pytest.raises(EndOfStream):  # and stays ended
            src.read(0.01)
    assert [f.index for f in got] == list(range(N))
    for a, b in zip(frames, got):
        assert b.t == pytest.approx(a.t)
        assert [x.id for x in b.bodies] == [7, 9]
        np.testing.assert_array_equal(b.bodies[1].joints, a.bodies[1].joints)
        np.testing.assert_array_equal(b.depth, a.depth)


def test_speed_1_paces_by_timestamps(rec):
    with ReplaySource(rec) as src:
        first = src.read(1.0)
        t0 = time.monotonic()
        got = [src.read(1.0) for _ in range(9)]
        elapsed = time.monotonic() - t0
    assert [f.index for f in got] == list(range(1, 10))
    assert 0.22 < elapsed < 1.2  # 9 frame periods = 0.3 s; generous for a loaded 2-core machine
    assert first.t == 0.0


def test_read_times_out_with_none_when_next_frame_is_not_due(rec):
    with ReplaySource(rec, speed=0.25) as src:  # one frame every 133 ms
        assert src.read(1.0).index == 0
        assert src.read(0.01) is None
        assert src.read(1.0).index == 1


def test_pause_step_resume(rec):
    with ReplaySource(rec, speed=0) as src:
        assert src.read().index == 0
        src.pause()
        assert src.paused and src.read(0.05) is None
        src.step(2)
        assert [src.read(0.5).index, src.read(0.5).index] == [1, 2]
        assert src.read(0.05) is None and src.paused
        assert src.position == pytest.approx(2 / FPS)
        src.resume()
        assert not src.paused and src.read(0.5).index == 3
        src.step()  # stepping while playing pauses first
        assert src.paused and src.read(0.5).index == 4 and src.read(0.05) is None
        with pytest.raises(KinactError):
            src.step(0)


def test_transport_from_another_thread_wakes_a_blocked_read(rec):
    with ReplaySource(rec, speed=0) as src:
        src.pause()
        threading.Timer(0.1, src.step).start()
        t0 = time.monotonic()
        assert src.read(3.0).index == 0
        assert time.monotonic() - t0 < 2.0


def test_seek(rec):
    with ReplaySource(rec, speed=0) as src:
        src.read()
        src.seek(1.0)
        assert src.position == pytest.approx(1.0)
        f = src.read()
        assert f.index == 30 and f.t == pytest.approx(1.0)
        src.seek(0.51)  # between frames: the one after
        assert src.read().index == 16
        src.seek(-3)
        assert src.read().index == 0
        src.seek(100)
        with pytest.raises(EndOfStream):
            src.read(0.1)
    with ReplaySource(rec, speed=0, start=1.5) as src:
        assert src.read().index == 45


def test_seek_paced_restarts_the_clock(rec):
    with ReplaySource(rec, speed=1) as src:
        src.read()
        src.seek(1.5)  # 1.5 s ahead in the file, yet due now rather than in 1.5 s
        t0 = time.monotonic()
        assert src.read(1.0).index == 45
        assert time.monotonic() - t0 < 0.5


def test_loop_keeps_time_monotonic(rec):
    with ReplaySource(rec, speed=0, loop=True) as src:
        got = [src.read() for _ in range(2 * N + 10)]
    assert [f.index for f in got] == list(range(N)) * 2 + list(range(10))
    ts = np.array([f.t for f in got])
    assert np.all(np.diff(ts) > 0)
    assert got[N].t == pytest.approx(N / FPS) and got[-1].t == pytest.approx(2 * N / FPS + 9 / FPS)


def test_set_speed_validation(rec):
    for bad in (0.1, 8.5, -1, float("nan"), "fast"):
        with pytest.raises(KinactError):
            ReplaySource(rec, speed=bad)
    src = ReplaySource(rec, speed=0)
    src.set_speed(2)  # before open: kept for open()
    with src:
        assert src.speed == 2
        for ok in (0, 0.25, 8, 1):
            src.set_speed(ok)
            assert src.speed == ok
        for bad in (0.2, 9, -0.5, None):
            with pytest.raises(KinactError):
                src.set_speed(bad)
        assert src.speed == 1


def test_not_open_and_unreadable_files(tmp_path, rec):
    with pytest.raises(KinactError, match="not open"):
        ReplaySource(rec).read()
    junk = tmp_path / "junk.kinrec"
    junk.write_bytes(b"this is not a recording at all" * 10)
    with pytest.raises(BadInputError, match="junk"):
        ReplaySource(junk).open()
    with pytest.raises(BadInputError):
        ReplaySource(tmp_path / "missing.kinrec").open()


def test_damaged_chunk_frames_are_skipped_and_reported(tmp_path):
    frames = make_frames(60, shape=(48, 64))
    p = tmp_path / "c.kinrec"
    with KinrecWriter(p, "kinect_v2", FPS, chunk_size=32 * 1024) as w:
        for f in frames:
            w.write_frame(f)
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 16] = bytes(b ^ 0xFF for b in data[mid:mid + 16])
    p.write_bytes(data)
    with ReplaySource(p, speed=0) as src:
        got = read_all(src)
        assert 30 <= len(got) < 60 and any("damaged chunk" in q for q in src.problems)
        idx = [f.index for f in got]
        assert idx == sorted(idx) and idx[0] == 0
        np.testing.assert_array_equal(got[0].depth, frames[0].depth)


def test_registry_builds_a_replay(rec):
    src = open_source(f"replay:{rec}", speed=0, loop=True)
    assert isinstance(src, ReplaySource) and src.is_available()
    with src:
        assert src.read().index == 0


def test_dataset_source_utd_pair(tmp_path):
    root = utd_tree(tmp_path / "utd")
    skel = root / "Skeleton" / "a1_s1_t1_skeleton.mat"
    sample = read_any(skel, with_depth=True)
    for path in (skel, root / "Depth" / "a1_s1_t1_depth.mat"):
        with DatasetSource(path, speed=0) as src:
            assert (src.live, src.paced, src.layout, src.fps) == (False, True, sample.layout, sample.fps)
            assert src.intrinsics == KINECT_V1_DEPTH and src.header.layout == sample.layout
            assert src.frame_count == sample.num_frames == 4
            [seg] = src.segments
            assert (seg.start, seg.end, seg.action, seg.label) == (0.0, 3 / sample.fps, sample.action, 0)
            got = read_all(src)
        assert [f.index for f in got] == [0, 1, 2, 3]
        assert got[0].depth.shape == (240, 320) and len(got[0].bodies) == 1
        np.testing.assert_allclose(got[2].bodies[0].joints, sample.skeleton[0, 2], rtol=1e-6)
    with DatasetSource(root / "Skeleton" / "a3_s3_t2_skeleton.mat", speed=0) as src:  # no depth partner
        assert src.intrinsics is None and src.read().depth is None


def test_dataset_source_transport_and_other_formats(tmp_path):
    ntu = ntu_file(tmp_path / "S001C001P001R001A001.skeleton", bodies_per_frame=(1, 2, 2))
    with DatasetSource(ntu, speed=0, loop=True) as src:
        assert src.intrinsics is None and src.segments[0].action == read_any(ntu).action
        src.pause()
        assert src.read(0.02) is None
        src.step(4)
        got = [src.read(0.5) for _ in range(4)]
        assert [f.index for f in got] == [0, 1, 2, 0] and np.all(np.diff([f.t for f in got]) > 0)
        assert [len(f.bodies) for f in got] == [1, 2, 2, 1]
    msr = msr_file(tmp_path / "a01_s01_e01_skeleton3D.txt", t=3)
    with DatasetSource(msr, speed=0) as src:
        assert len(read_all(src)) == 3
    with pytest.raises(BadInputError):
        DatasetSource(tmp_path / "r.kinrec").open()
