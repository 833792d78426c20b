"""Live Azure Kinect DK, and Orbbec Femto Bolt / Femto Mega, through the Azure Kinect Sensor SDK (K4A) API.

Two Python packages reach that API, and this source uses whichever can do the most:

* **pykinect_azure** (ctypes over libk4a *and* libk4abt, the Body Tracking SDK) when the body tracker loads:
  one device handle gives depth and 32-joint skeletons that always belong together
  (`kinact.core.sources.k4a_bodytracking`, which also says why pykinect_azure is driven through its
  ``_k4a`` / ``_k4abt`` wrappers and guarded against SystemExit).
* **pyk4a** otherwise: depth only (pyk4a has no body tracking), with `notice` saying why and what to
  install (`kinact.core.sources.k4a_depth`). pykinect_azure without its tracker is the last resort for
  depth when pyk4a is not installed.

This module is the `Source` that checks the options, picks one of those backends, maps device time onto
the host's clock and notices a device that has left the bus; the SDK's enum values and install hints live
in `kinact.core.sources.k4a_sdk` and are re-exported here.

Orbbec Femto Bolt and Femto Mega work the same way through Orbbec's *K4A Wrapper* (OrbbecSDK-K4A-Wrapper),
a drop-in build of libk4a / k4a.dll with the Sensor SDK 1.4.1 API: install it in place of (or point the
loader at it before) Microsoft's library and the device looks like an Azure Kinect to both packages,
with the same depth modes; the Body Tracking SDK runs on its captures. On Windows, Orbbec's
``obsensor_metadata_win10.ps1`` must have been run once for frame timestamps. Set ``KINACT_K4A_LIBRARY`` /
``KINACT_K4ABT_LIBRARY`` to the full path of libk4a / libk4abt when pykinect_azure's default locations
(``/usr/lib/x86_64-linux-gnu/libk4a.so``, ``libk4abt.so``; ``C:\\Program Files\\Azure Kinect SDK v1.4.x``)
are wrong; pyk4a finds k4a.dll through ``K4A_DLL_DIR`` on Windows and ``LD_LIBRARY_PATH`` on Linux.

Skeletons are in millimetres in the depth camera's frame (x right, y down, z forward: the
``azure_kinect`` layout). Confidence levels NONE/LOW/MEDIUM/HIGH become 0, 1/3, 2/3 and 1 (Body Tracking
SDK 1.1 reports at most MEDIUM). `Body.id` is the tracker's body id, not the body's index in the frame.
Timestamps are the device's, mapped onto the host's monotonic clock (the device clock restarts whenever
the cameras start, so raw device time would jump backwards after a reconnect).
"""
from __future__ import annotations

import time

from kinact.core.errors import KinactError
from kinact.core.frames import Frame
from kinact.core.sources.device_clock import DeviceClock
from kinact.core.sources.base import Availability, Source, SourceLost
from kinact.core.sources.k4a_bodytracking import (  # noqa: F401 - NUM_JOINTS, CONFIDENCE_LEVELS re-exported
    CONFIDENCE_LEVELS, NUM_JOINTS, PyKinectDevice, TrackerUnavailable, import_pykinect_azure, init_pykinect)
from kinact.core.sources.k4a_depth import PyK4ADepth, import_pyk4a
from kinact.core.sources.k4a_sdk import (  # noqa: F401 - re-exported: they were defined here
    BODY_SDK, DEPTH_MODES, FPS_VALUES, NO_DEVICE, PIP_INSTALL, SENSOR_SDK)


def _is_missing(problem: str | None) -> bool:
    return problem is not None and problem.endswith("is not installed")


def _why_not(pk_problem: str | None, k4a_problem: str | None) -> str:
    if _is_missing(pk_problem) and _is_missing(k4a_problem):
        return f"neither pyk4a nor pykinect_azure is installed: {PIP_INSTALL}"
    return "; ".join(p for p in (k4a_problem, pk_problem) if p)


class K4ASource(Source):
    """Azure Kinect / Orbbec Femto depth (and skeletons with the Body Tracking SDK) at up to 30 fps."""

    name = "k4a"
    layout = "azure_kinect"
    fps = 30.0
    notice = ""  # set by open(): why skeletons are missing, when they are

    def __init__(self, device: int | str | None = None, *, depth_mode: str = "NFOV_UNBINNED", fps: int = 30,
                 body_tracking: bool | str = "auto", lite_model: bool = False, lost_after: float = 3.0):
        try:
            self.device_id = 0 if device in (None, "", "default") else int(device)
        except (TypeError, ValueError):
            raise KinactError(f"k4a device must be a number (0 for the first device), got {device!r}") from None
        mode = str(depth_mode).upper()
        if mode not in DEPTH_MODES:
            raise KinactError(f"unknown depth mode {depth_mode!r}; choose one of: {', '.join(DEPTH_MODES)}")
        if int(fps) not in FPS_VALUES:
            raise KinactError(f"k4a frame rate must be 5, 15 or 30, got {fps!r}")
        if mode == "WFOV_UNBINNED" and int(fps) > 15:
            raise KinactError("depth mode WFOV_UNBINNED runs at 15 fps at most")
        if body_tracking not in ("auto", True, False):
            raise KinactError(f"body_tracking must be 'auto', True or False, got {body_tracking!r}")
        self.depth_mode, self.fps = mode, float(fps)
        self.body_tracking = body_tracking
        self.lite_model = bool(lite_model)
        self.lost_after = float(lost_after)
        self.intrinsics = None
        self.notice = ""
        self.backend = ""  # "pykinect_azure+k4abt", "pyk4a" or "pykinect_azure" once open
        self._backend: PyKinectDevice | PyK4ADepth | None = None  # the open device, None when closed
        self._lost: str | None = None
        self._index = 0
        self._clock = DeviceClock()
        self._last_frame_at = 0.0
        self._next_probe = 0.0

    # ----------------------------------------------------------------------------------------------- checks
    @classmethod
    def is_available(cls) -> Availability:
        pk, pk_problem = import_pykinect_azure()
        k4a, k4a_problem = import_pyk4a()
        if pk is None and k4a is None:
            return Availability(False, _why_not(pk_problem, k4a_problem))
        try:
            if k4a is not None:
                count = int(k4a.connected_device_count())
            else:
                problem = init_pykinect(pk, track_body=False)
                if problem:
                    return Availability(False, problem)
                count = int(pk.Device.device_get_installed_count())
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            return Availability(False, f"the K4A library cannot count devices ({type(exc).__name__}: {exc})")
        if count == 0:
            return Availability(False, NO_DEVICE)
        return Availability(True)

    @classmethod
    def body_tracking_available(cls) -> Availability:
        """Whether skeletons are possible here (loads the Body Tracking SDK, which takes a moment)."""
        pk, problem = import_pykinect_azure()
        if pk is not None:
            problem = init_pykinect(pk, track_body=True)
        if problem:
            return Availability(False, f"{problem}; for skeletons install {BODY_SDK}")
        return Availability(True)

    def describe(self) -> str:
        return f"Azure Kinect / Femto #{self.device_id} ({self.backend or 'not open'})"

    # ------------------------------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Open the device: KinactError when the packages or SDK are missing, SourceLost when no device answers."""
        self.close()
        self.notice, self._lost = "", None
        pk, pk_problem = import_pykinect_azure()
        body_problem = None
        if self.body_tracking in ("auto", True):
            body_problem = pk_problem if pk is None else init_pykinect(pk, track_body=True)
            if body_problem is None:
                try:
                    self._start(self._pykinect(pk, with_tracker=True), "pykinect_azure+k4abt")
                    return self._opened()
                except TrackerUnavailable as exc:
                    body_problem = str(exc)
            if self.body_tracking is True:
                raise KinactError(f"body tracking is unavailable ({body_problem}); install {BODY_SDK}")
        k4a, k4a_problem = import_pyk4a()
        if k4a is not None:
            self._start(PyK4ADepth(k4a, self.device_id, self.depth_mode, int(self.fps)), "pyk4a")
        elif pk is not None and init_pykinect(pk, track_body=False) is None:
            self._start(self._pykinect(pk, with_tracker=False), "pykinect_azure")
        else:
            raise KinactError(_why_not(pk_problem, k4a_problem))
        if self.body_tracking == "auto":
            self.notice = (f"body tracking unavailable ({body_problem}): streaming depth only. For skeletons "
                           f"install {BODY_SDK}.")
        self._opened()

    def _pykinect(self, pk, with_tracker: bool) -> PyKinectDevice:
        return PyKinectDevice(pk, self.device_id, self.depth_mode, int(self.fps), with_tracker=with_tracker,
                              lite_model=self.lite_model)

    def _start(self, backend: PyKinectDevice | PyK4ADepth, name: str) -> None:
        """Open `backend` (its SourceLost / TrackerUnavailable pass through) and make it this source's device."""
        fx, fy, cx, cy = backend.open()
        self._backend = backend
        self._set_intrinsics(fx, fy, cx, cy)
        self.backend = name

    def _opened(self) -> None:
        self._clock.restart()
        self._last_frame_at = time.monotonic()
        self._next_probe = 0.0

    def _set_intrinsics(self, fx, fy, cx, cy) -> None:
        from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED, Intrinsics

        _, w, h = DEPTH_MODES[self.depth_mode]
        if min(float(fx), float(fy), float(cx), float(cy)) > 0:
            self.intrinsics = Intrinsics(float(fx), float(fy), float(cx), float(cy), w, h, mirrored=False)
        elif self.depth_mode.startswith("NFOV"):  # the same crop of the sensor, binned or not
            self.intrinsics = AZURE_NFOV_UNBINNED.scaled(w, h)
        else:
            self.intrinsics = None

    def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    # --------------------------------------------------------------------------------------------- reading
    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next frame; None when none came within `timeout`; SourceLost when the device went away."""
        if self._backend is None:
            if self._lost:
                raise SourceLost(self._lost)
            raise KinactError("the k4a source is not open; call open() first")
        deadline = time.monotonic() + max(0.0, float(timeout))
        try:
            got = self._backend.read(deadline)
        except SourceLost as exc:  # the backend says why; release the device at once so a reopen can take it
            self._lost = str(exc)
            self.close()
            raise
        frame = None if got is None else self._frame(*got)
        now = time.monotonic()
        if frame is not None:
            self._last_frame_at = now
            return frame
        if now - self._last_frame_at >= self.lost_after and now >= self._next_probe:
            self._next_probe = now + 1.0
            self._probe()
        return None

    def _lose(self, reason: str):
        self._lost = reason
        self.close()
        raise SourceLost(reason)

    def _probe(self) -> None:
        """No frames for a while: is the device still on the bus? (A timeout alone is not a loss.)"""
        try:
            count = int(self._backend.device_count())
        except (Exception, SystemExit):  # noqa: BLE001
            return
        if count <= self.device_id:
            self._lose(f"Azure Kinect / Femto #{self.device_id} disconnected (no frames for "
                       f"{self.lost_after:g} s and no longer on the bus)")

    def _frame(self, device_usec, bodies, depth) -> Frame:
        t = self._clock(None if device_usec is None else float(device_usec) * 1e-6)
        frame = Frame(t=t, bodies=bodies, depth=depth, index=self._index)
        self._index += 1
        return frame
