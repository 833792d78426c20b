"""Azure Kinect / Femto live source against the fake pyk4a and pykinect_azure in tests/fakes.

Both fakes drive one scripted device (tests/fakes/k4a_fake_device.py): two bodies whose order in the body
frame swaps at frame 4 (index ≠ id), an unplug after N captures, a silent unplug, a re-plug, missing
libraries, a tracker that will not start, a tracker that lags a frame behind.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from kinact.core.errors import KinactError
from kinact.core.sources.base import SourceLost

from fake_sdks import isolated_modules, reset_k4a_device  # noqa: F401 (isolated_modules: a fixture)


@pytest.fixture
def device(isolated_modules, monkeypatch):
    """The fake pyk4a and pykinect_azure on sys.path, their scripted device reset; nothing left behind."""
    return reset_k4a_device(monkeypatch)


def _hide(*packages):
    """As if not installed: import raises ModuleNotFoundError(name=...); isolated_modules undoes it."""
    for name in packages:
        sys.modules[name] = None


def _source(**options):
    from kinact.core.sources.k4a import K4ASource

    return K4ASource(**options)


def _frame_number(frame) -> int:
    return int(frame.depth[0, 0]) - 1000


def _read_frames(src, n, timeout=0.5, max_reads=50):
    frames = []
    for _ in range(max_reads):
        frame = src.read(timeout)
        if frame is not None:
            frames.append(frame)
            if len(frames) == n:
                return frames
    raise AssertionError(f"only {len(frames)} of {n} frames")


# ---------------------------------------------------------------------------------------------- availability
def test_nothing_installed(device):
    from kinact.core.sources.k4a import K4ASource

    _hide("pyk4a", "pykinect_azure")
    avail = K4ASource.is_available()
    assert not avail and avail.reason == 'neither pyk4a nor pykinect_azure is installed: pip install "kinact[k4a]"'
    with pytest.raises(KinactError, match="kinact\\[k4a\\]"):
        K4ASource().open()


def test_sensor_library_missing(device):
    from kinact.core.sources.k4a import K4ASource

    device.library = False
    avail = K4ASource.is_available()
    assert not avail and "Azure Kinect Sensor SDK 1.4" in avail.reason and "Orbbec SDK K4A Wrapper" in avail.reason


@pytest.mark.parametrize("hidden", [(), ("pyk4a",)])
def test_no_device_attached(device, hidden):
    from kinact.core.sources.k4a import NO_DEVICE, K4ASource

    _hide(*hidden)
    device.device_count = 0
    avail = K4ASource.is_available()
    assert not avail and avail.reason == NO_DEVICE == "no Azure Kinect / Femto device attached (check the USB 3 " \
                                                      "cable and the power supply)"
    with pytest.raises(SourceLost, match="could not be opened"):
        K4ASource().open()  # SourceLost (retryable), never pykinect_azure's sys.exit
    device.device_count = 1
    assert K4ASource.is_available()


def test_body_tracking_availability(device):
    from kinact.core.sources.k4a import K4ASource

    assert K4ASource.body_tracking_available()
    device.bt_library = False
    avail = K4ASource.body_tracking_available()
    assert not avail and "Body Tracking SDK" in avail.reason and "libk4abt" in avail.reason


def test_options_are_checked():
    from kinact.core.sources.k4a import K4ASource

    with pytest.raises(KinactError, match="depth mode"):
        K4ASource(depth_mode="HUGE")
    with pytest.raises(KinactError, match="15 fps"):
        K4ASource(depth_mode="WFOV_UNBINNED", fps=30)
    with pytest.raises(KinactError, match="number"):
        K4ASource("front")
    assert K4ASource("1").device_id == 1


def test_registry_builds_it(device):
    from kinact.core.sources import registry
    from kinact.core.sources.k4a import K4ASource

    src = registry.open_source("k4a:0")
    assert isinstance(src, K4ASource) and src.device_id == 0
    assert registry.availability()["k4a"]


# --------------------------------------------------------------------------------------------------- reading
def _check_bodies(frame):
    k = _frame_number(frame)
    assert {b.id for b in frame.bodies} == {1, 2}
    for body in frame.bodies:
        assert body.joints.shape == (32, 3) and body.joints.dtype == np.float32 and body.confidence.shape == (32,)
        x0 = -400.0 + 5.0 * k if body.id == 1 else 400.0
        np.testing.assert_allclose(body.joints[0], (x0, -800.0, 2500.0))  # millimetres, y down
        np.testing.assert_allclose(body.joints[26], (x0 + 260.0, 500.0, 2500.0))
        c = body.confidence
        assert c[8] == c[15] == pytest.approx(1 / 3) and c[27] == 1.0 and c[0] == pytest.approx(2 / 3)
        if body.id == 2:
            assert c[21] == c[25] == 0.0
    return [b.id for b in frame.bodies]


def test_pykinect_azure_gives_depth_and_skeletons_by_body_id(device):
    src = _source()
    src.open()
    assert src.backend == "pykinect_azure+k4abt" and src.notice == ""
    frames = _read_frames(src, 6)
    src.close()
    assert [_frame_number(f) for f in frames] == list(range(6))
    assert [f.index for f in frames] == list(range(6))
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))
    orders = [_check_bodies(f) for f in frames]
    assert orders[0] == [1, 2] and orders[5] == [2, 1]  # index in the frame swaps, ids follow the people
    for f in frames:
        assert f.depth.shape == (576, 640) and f.depth.dtype == np.uint16 and f.depth[1, 2] == 7
    intr = src.intrinsics
    assert (intr.width, intr.height, intr.mirrored) == (640, 576, False)
    assert intr.fx == pytest.approx(504.1, abs=1e-3) and intr.cy == pytest.approx(330.4, abs=1e-3)
    assert device.live_captures == 0 and not device.opened  # every capture, image and body frame released


def test_tracker_latency_keeps_depth_and_skeleton_together(device):
    device.tracker_latency = 1
    src = _source()
    src.open()
    assert src.read(0.05) is None  # the first result is not ready yet: not an error
    frames = _read_frames(src, 4)
    src.close()
    assert [_frame_number(f) for f in frames] == [0, 1, 2, 3]
    for f in frames:
        _check_bodies(f)  # positions of frame k with the depth of frame k
    assert device.live_captures == 0


def test_depth_only_with_notice_when_no_body_tracker(device):
    device.bt_library = False
    src = _source(depth_mode="NFOV_2X2BINNED", fps=15)
    src.open()
    assert src.backend == "pyk4a"
    assert "body tracking unavailable" in src.notice and "Body Tracking SDK" in src.notice
    frames = _read_frames(src, 3)
    src.close()
    assert all(f.bodies == [] and f.depth.shape == (288, 320) for f in frames)
    assert [_frame_number(f) for f in frames] == [0, 1, 2]
    assert src.intrinsics.fx == pytest.approx(504.1 / 2, abs=1e-3) and src.intrinsics.shape == (288, 320)
    with pytest.raises(KinactError, match="body tracking is unavailable"):
        _source(body_tracking=True).open()
    quiet = _source(body_tracking=False)
    quiet.open()
    assert quiet.notice == "" and quiet.backend == "pyk4a"
    quiet.close()


def test_tracker_that_will_not_start_falls_back_to_depth(device):
    device.tracker_fails = True
    src = _source()
    src.open()  # pykinect_azure opened the device, the tracker failed, the device was released, pyk4a took it
    assert src.backend == "pyk4a" and "body tracker did not start" in src.notice
    assert device.opens == 2
    assert src.read(0.5).depth.shape == (576, 640)
    src.close()


def test_pykinect_azure_depth_only_without_pyk4a(device):
    _hide("pyk4a")
    device.bt_library = False
    src = _source()
    src.open()
    assert src.backend == "pykinect_azure" and "body tracking unavailable" in src.notice
    frames = _read_frames(src, 2)
    src.close()
    assert [(_frame_number(f), f.bodies) for f in frames] == [(0, []), (1, [])]
    assert device.live_captures == 0


@pytest.mark.parametrize("backend", ["pykinect_azure+k4abt", "pyk4a"])
def test_unplug_is_source_lost_and_reopen_reconnects(device, backend):
    device.unplug_after = 3
    if backend == "pyk4a":
        device.bt_library = False
    src = _source()
    src.open()
    assert src.backend == backend
    before = _read_frames(src, 3)
    with pytest.raises(SourceLost, match="stopped delivering"):
        src.read(0.5)
    assert not device.opened  # released at once, so another open can take it
    with pytest.raises(SourceLost):
        src.read(0.1)
    with pytest.raises(SourceLost, match="could not be opened"):
        src.open()
    device.plug()
    src.open()
    after = _read_frames(src, 3)
    src.close()
    assert [_frame_number(f) for f in before + after] == list(range(6))
    assert [f.index for f in before + after] == list(range(6))
    assert after[0].t > before[-1].t  # the device clock restarted; the frame clock did not
    assert device.live_captures == 0


def test_silent_device_is_none_until_it_leaves_the_bus(device):
    src = _source(lost_after=0.05)
    src.open()
    _read_frames(src, 1)
    device.stall = True  # attached but silent: timeouts are not a loss
    for _ in range(3):
        assert src.read(0.03) is None
    device.unplug(fail=False)  # gone from the bus without a failed capture
    with pytest.raises(SourceLost, match="disconnected"):
        for _ in range(200):  # generous: a loaded CI machine reads slowly
            src.read(0.03)
    src.close()
    assert device.live_captures == 0 and not device.opened
