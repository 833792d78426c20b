"""Kinect v2 live source and the PyKinect2 compatibility shim, against the fake PyKinect2 in tests/fakes.

The fake mirrors PyKinect2's modules, names and import-time breakages (the 64-bit tagSTATSTG assertion,
comtypes' _check_version(''), time.clock, numpy.object) and drives a scripted sensor: two people whose body
slots swap at frame 5, an unplug after N frames, a re-plug.
"""
from __future__ import annotations

import ctypes
import shutil
import sys
import time
import types

import numpy as np
import pytest

from kinact.core.errors import KinactError
from kinact.core.sources.base import SourceLost

from fake_sdks import FAKES, isolated_modules, purge_fakes as _purge_fakes  # noqa: F401 (a fixture)

PERSON_A, PERSON_B = 72057594037928001, 72057594037928002


@pytest.fixture
def compat(isolated_modules, monkeypatch):
    """kinect2_compat with a clean import state before and after (no hook, no fake module left behind)."""
    from kinact.core.sources import kinect2_compat

    kinect2_compat.revert_shims()
    monkeypatch.setattr(kinect2_compat, "_is_windows", lambda: True)
    yield kinect2_compat
    kinect2_compat.revert_shims()


@pytest.fixture
def sensor(monkeypatch, compat):
    """The fake PyKinect2 on sys.path, 'Windows', and its scripted sensor reset."""
    from kinact.core.sources import kinect2

    monkeypatch.syspath_prepend(str(FAKES))
    monkeypatch.setattr(kinect2, "_is_windows", lambda: True)
    from pykinect2 import _fake

    return _fake.SENSOR.reset()


def _source(**options):
    from kinact.core.sources.kinect2 import Kinect2Source

    options = {"open_timeout": 0.2, "poll_interval": 0.0005, "availability_check_interval": 0.0, **options}
    return Kinect2Source(**options)


def _read_n(src, n, timeout=1.0):
    frames = []
    for _ in range(n):
        frame = src.read(timeout)
        assert frame is not None
        frames.append(frame)
    return frames


def _frame_number(frame) -> int:
    """The fake fills depth frame k with 1000 + k."""
    return int(frame.depth[0, 0]) - 1000


# ---------------------------------------------------------------------------------------------- availability
def test_not_windows(monkeypatch):
    from kinact.core.sources import kinect2

    monkeypatch.setattr(kinect2, "_is_windows", lambda: False)
    avail = kinect2.Kinect2Source.is_available()
    assert not avail and avail.reason == "Kinect v2 needs Windows with the Kinect for Windows SDK 2.0"
    with pytest.raises(KinactError, match="needs Windows"):
        kinect2.Kinect2Source().open()


def test_package_missing_says_what_to_install(monkeypatch, compat):
    from kinact.core.sources import kinect2

    monkeypatch.setattr(kinect2, "_is_windows", lambda: True)
    sys.modules["pykinect2"] = None  # not installed, whatever this machine has (isolated_modules undoes it)
    avail = kinect2.Kinect2Source.is_available()
    assert not avail
    assert 'pip install "kinact[kinect2]"' in avail.reason and "Kinect for Windows SDK 2.0" in avail.reason
    assert ("pykinect2 is not installed", 'pip install "kinact[kinect2]"; it also needs the Kinect for Windows '
            "SDK 2.0 (KinectSDK-v2.0_1409-Setup.exe, https://aka.ms/k4wv2sdk)") in compat.diagnose()


def test_sdk_runtime_missing(sensor, compat):
    from kinact.core.sources.kinect2 import Kinect2Source

    sensor.sdk_installed = False
    avail = Kinect2Source.is_available()
    assert not avail and "Kinect20.dll" in avail.reason and "https://aka.ms/k4wv2sdk" in avail.reason
    (problem, fix), = compat.diagnose()
    assert "Kinect20.dll" in problem and fix.startswith("install the Kinect for Windows SDK 2.0")


def test_comtypes_missing(sensor):
    from kinact.core.sources.kinect2 import Kinect2Source

    sys.modules["comtypes"] = None  # isolated_modules undoes it
    avail = Kinect2Source.is_available()
    assert not avail and 'pip install "comtypes>=1.1.14,<1.4"' in avail.reason


def test_available_with_fake(sensor, compat):
    from kinact.core.sources.kinect2 import Kinect2Source

    assert Kinect2Source.is_available()
    assert compat.diagnose() == []


# --------------------------------------------------------------------------------------------------- reading
def test_reads_bodies_by_tracking_id_and_depth(sensor):
    from kinact.core.recording.intrinsics import KINECT_V2_DEPTH

    src = _source()
    src.open()
    assert src.intrinsics == KINECT_V2_DEPTH  # the mapper reports zeros before the first frame
    frames = _read_n(src, 8)
    src.close()

    assert [f.index for f in frames] == list(range(8))
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))
    for f in frames:
        k = _frame_number(f)
        assert f.depth.shape == (424, 512) and f.depth.dtype == np.uint16 and f.depth[1, 2] == 7
        assert {b.id for b in f.bodies} == {PERSON_A, PERSON_B}
        for body in f.bodies:
            assert body.joints.shape == (25, 3) and body.joints.dtype == np.float32
            assert body.confidence.shape == (25,)
            x0 = -0.5 + 0.01 * k if body.id == PERSON_A else 0.5
            np.testing.assert_allclose(body.joints[0], (x0, 0.8, 2.5), atol=1e-5)  # metres, SpineBase
            np.testing.assert_allclose(body.joints[3, 1], 0.8 - 0.15, atol=1e-5)  # Head
        a = next(b for b in f.bodies if b.id == PERSON_A)
        b = next(b for b in f.bodies if b.id == PERSON_B)
        assert a.confidence[7] == 0.5 and a.confidence.sum() == 24.5
        assert b.confidence[15] == b.confidence[19] == 0.0 and b.confidence[21] == 0.5
    # the slots swap at frame 5: list order (slot order) changes, the ids keep following the people
    order = {_frame_number(f): [b.id for b in f.bodies] for f in frames}
    assert order[0] == [PERSON_B, PERSON_A] and order[7] == [PERSON_A, PERSON_B]
    assert src.intrinsics.fx == pytest.approx(366.1, abs=1e-3) and src.intrinsics.cy == pytest.approx(205.4, abs=1e-3)
    assert src.intrinsics.mirrored and src.intrinsics.shape == (424, 512)
    assert sensor.runtimes_opened == sensor.runtimes_closed == 1


def test_pypi_release_runtime_frames_are_not_repeated(sensor):
    """PyKinect2 0.1.0 never clears 'new frame' and has no relative_time: each frame must still come once."""
    sensor.legacy = True
    src = _source()
    src.open()
    frames = _read_n(src, 5)
    src.close()
    assert [_frame_number(f) for f in frames] == [0, 1, 2, 3, 4]
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))


def test_no_frames_within_timeout_is_none_not_lost(sensor):
    sensor.polls_per_frame = 10**9
    src = _source()
    src.open()
    t0 = time.monotonic()
    assert src.read(0.05) is None
    assert time.monotonic() - t0 < 1.0
    src.close()


def test_unplug_raises_source_lost_and_reopen_reconnects(sensor):
    sensor.unplug_after = 3
    src = _source()
    src.open()
    before = _read_n(src, 3)
    with pytest.raises(SourceLost, match="went away"):
        src.read(0.5)
    with pytest.raises(SourceLost):  # still lost until reopened
        src.read(0.1)
    with pytest.raises(SourceLost, match="no Kinect v2 sensor"):
        src.open()  # cable still out
    sensor.plug()
    src.open()
    after = _read_n(src, 3)
    src.close()
    assert [_frame_number(f) for f in after] == [3, 4, 5]
    assert [f.index for f in before + after] == list(range(6))
    assert after[0].t > before[-1].t
    assert sensor.runtimes_opened == sensor.runtimes_closed == 3
    with pytest.raises(KinactError, match="not open"):
        src.read(0.01)


def test_sdk_error_while_reading_is_source_lost(sensor):
    src = _source()
    src.open()
    _read_n(src, 1)
    sensor.raise_on_read = True
    with pytest.raises(SourceLost, match="SDK failed"):
        src.read(0.5)
    assert sensor.runtimes_closed == 1
    sensor.raise_on_read = False
    src.open()
    assert src.read(0.5) is not None
    src.close()


# ---------------------------------------------------------------------------------------------- compat shim
def test_fake_reproduces_the_breakage_and_the_shim_fixes_it(sensor, compat):
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        with pytest.raises(AssertionError, match="80"):
            import pykinect2.PyKinectV2  # noqa: F401
    _purge_fakes()
    v2, runtime = compat.import_pykinect2()
    patched = "\n".join(compat.apply_shims())
    for what in ("tagSTATSTG", "_check_version", "time.clock", "numpy.object"):
        assert what in patched
    rt = runtime.PyKinectRuntime(v2.FrameSourceTypes_Body)  # time.clock at construction
    assert any(rt.has_new_body_frame() for _ in range(3))
    assert rt.get_last_body_frame().bodies.dtype == object  # numpy.object at run time
    rt.close()
    # nothing leaked into the rest of the process
    assert not hasattr(time, "clock") and "object" not in np.__dict__


def _variant(tmp_path, monkeypatch, old: str, new: str) -> None:
    """A copy of the fake pykinect2 with one line changed, first on sys.path."""
    shutil.copytree(FAKES / "pykinect2", tmp_path / "pykinect2")
    path = tmp_path / "pykinect2" / "PyKinectV2.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    monkeypatch.syspath_prepend(str(tmp_path))
    _purge_fakes()


def test_github_master_needs_numpy_distutils_and_the_shim_does_without(sensor, compat, tmp_path, monkeypatch):
    _variant(tmp_path, monkeypatch, "assert sizeof(tagSTATSTG) == 72, sizeof(tagSTATSTG)",
             "import numpy.distutils.system_info as sysinfo\n"
             "required_size = 64 + sysinfo.platform_bits / 4\n"
             "assert sizeof(tagSTATSTG) == required_size, sizeof(tagSTATSTG)")
    monkeypatch.setitem(sys.modules, "numpy.distutils", None)  # as on Python >= 3.12
    with pytest.raises(ImportError):
        import pykinect2.PyKinectV2  # noqa: F401
    _purge_fakes()
    v2, _ = compat.import_pykinect2()
    assert isinstance(v2.sysinfo, types.SimpleNamespace)
    assert v2.sysinfo.platform_bits == 8 * ctypes.sizeof(ctypes.c_void_p)


def test_comtypes_wrong_version_alone(sensor, compat, tmp_path, monkeypatch):
    _variant(tmp_path, monkeypatch, "assert sizeof(tagSTATSTG) == 72, sizeof(tagSTATSTG)", "pass")
    with pytest.raises(ImportError, match="Wrong version"):
        import pykinect2.PyKinectV2  # noqa: F401
    _purge_fakes()
    compat.import_pykinect2()


def test_python2_syntax_is_diagnosed(sensor, compat, tmp_path, monkeypatch):
    _variant(tmp_path, monkeypatch, "KINECT_SKELETON_COUNT = 6", 'print "KINECT_SKELETON_COUNT"')
    problems = compat.diagnose()
    assert problems and "not Python 3" in problems[0][0] and "github.com/Kinect/PyKinect2" in problems[0][1]
    with pytest.raises(KinactError, match="github.com/Kinect/PyKinect2"):
        compat.import_pykinect2()


def test_missing_buffer_api_is_tolerated(sensor, compat, monkeypatch):
    v2, runtime = compat.import_pykinect2()
    monkeypatch.setattr(ctypes, "pythonapi", types.SimpleNamespace())  # a Python without the export
    rt = runtime.PyKinectRuntime(v2.FrameSourceTypes_Body)
    with pytest.raises(NotImplementedError):
        rt._PyObject_AsWriteBuffer()
    rt.close()


def test_diagnose_lists_patches_on_request(sensor, compat):
    notes = [p for p, fix in compat.diagnose(include_patched=True) if "nothing to do" in fix]
    for what in ("tagSTATSTG", "_check_version", "time.clock", "numpy.object", "PyObject_AsWriteBuffer"):
        assert sum(what in n for n in notes) == 1


def test_not_windows_diagnosis(monkeypatch, compat):
    monkeypatch.setattr(compat, "_is_windows", lambda: False)
    assert "only runs on Windows" in compat.diagnose()[0][0]


def test_apply_shims_is_idempotent(compat):
    compat.apply_shims()
    compat.apply_shims()
    assert sum(type(f).__name__ == "_ShimFinder" for f in sys.meta_path) == 1
    compat.revert_shims()
    assert not any(type(f).__name__ == "_ShimFinder" for f in sys.meta_path)


def test_bytecode_only_fallback_aliases_are_reverted(compat):
    assert not hasattr(time, "clock")
    compat._add_global_aliases()
    assert time.clock is time.perf_counter and np.__dict__["object"] is object
    assert any("global" in p for p in compat.apply_shims())
    compat.revert_shims()
    assert not hasattr(time, "clock") and "object" not in np.__dict__
