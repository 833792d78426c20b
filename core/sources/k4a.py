"""Live Azure Kinect DK, and Orbbec Femto Bolt / Femto Mega, through the Azure Kinect Sensor SDK (K4A) API.

Two Python packages reach that API, and this backend uses whichever can do the most:

* **pykinect_azure** (ctypes over libk4a *and* libk4abt, the Body Tracking SDK) when the body tracker loads:
  one device handle gives depth and 32-joint skeletons. Each `read` takes a capture
  (``_k4a.k4a_device_get_capture``), hands it to the tracker (``_k4abt.k4abt_tracker_enqueue_capture``) and
  pops a body frame (``_k4abt.k4abt_tracker_pop_result``); the frame carries the capture it was computed
  from, so the depth image and the skeletons of a `Frame` always belong together. The device is opened with
  ``pykinect_azure.Device`` + ``Device.start`` (what ``pykinect_azure.start_device`` does) and the tracker
  with ``pykinect_azure.start_body_tracker``. The waits go through the ``_k4a`` / ``_k4abt`` wrappers, which
  return the C API's result codes, because pykinect_azure's own ``Device.update`` and ``Tracker.update`` pass
  every result through ``VERIFY``, which prints and calls ``sys.exit(1)`` on anything but success -- a
  timeout included. Every pykinect_azure call that can reach ``VERIFY`` is guarded against SystemExit.
* **pyk4a** otherwise: depth only (pyk4a has no body tracking), with `notice` saying why and what to
  install. ``PyK4A(config=Config(...), device_id=n).start()``, ``get_capture(timeout=ms)`` → ``.depth``
  (H×W uint16 mm) and ``.depth_timestamp_usec``; ``K4ATimeoutException`` / ``K4AException``.

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

import contextlib
import io
import os
import time

import numpy as np

from kinact.core.errors import KinactError
from kinact.core.frames import Body, Frame
from kinact.core.sources.base import Availability, Source, SourceLost

NUM_JOINTS = 32
#: k4abt_joint_confidence_level_t NONE/LOW/MEDIUM/HIGH → confidence in 0..1.
CONFIDENCE_LEVELS = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0], np.float32)
#: Depth modes by name: (k4a_depth_mode_t value, width, height).
DEPTH_MODES = {"NFOV_2X2BINNED": (1, 320, 288), "NFOV_UNBINNED": (2, 640, 576),
               "WFOV_2X2BINNED": (3, 512, 512), "WFOV_UNBINNED": (4, 1024, 1024)}
FPS_VALUES = {5: 0, 15: 1, 30: 2}  # k4a_fps_t

PIP_INSTALL = 'pip install "kinact[k4a]"'
SENSOR_SDK = ("the Azure Kinect Sensor SDK 1.4.x (Ubuntu: libk4a1.4; Windows: Azure Kinect SDK v1.4.1) or, "
              "for Orbbec Femto Bolt/Mega, the Orbbec SDK K4A Wrapper")
BODY_SDK = ("the Azure Kinect Body Tracking SDK 1.1.x (Ubuntu: libk4abt1.1; Windows: Azure Kinect Body "
            "Tracking SDK 1.1.2) and pip install pykinect_azure")
NO_DEVICE = "no Azure Kinect / Femto device attached (check the USB 3 cable and the power supply)"


class _TrackerUnavailable(Exception):
    """The body tracker could not be created (the device has been released again)."""


class _DeviceClock:
    """Device timestamps (s) mapped onto the host's monotonic clock: device-exact spacing, never backwards.

    Re-anchored whenever the device clock restarts (reconnect) or would run ahead of the host.
    """

    def __init__(self):
        self.offset: float | None = None
        self.last_device: float | None = None
        self.last_t = float("-inf")

    def restart(self) -> None:
        self.offset, self.last_device = None, None

    def __call__(self, device_s: float | None) -> float:
        now = time.monotonic()
        if device_s is None:
            t = now
        else:
            if self.offset is None or (self.last_device is not None and device_s < self.last_device):
                self.offset = now - device_s
            self.last_device = device_s
            t = device_s + self.offset
            if t > now:
                self.offset, t = now - device_s, now
        if t <= self.last_t:
            t = self.last_t + 1e-6
        self.last_t = t
        return t


@contextlib.contextmanager
def _quiet():
    """Collect what pykinect_azure prints (its VERIFY and library loaders print before sys.exit)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        yield out


def _said(out: io.StringIO, exc: BaseException | None = None) -> str:
    lines = [ln.strip() for ln in out.getvalue().splitlines() if ln.strip() and not ln.startswith((" ", "\t"))]
    lines = [ln for ln in lines if not ln.startswith(("File ", "Traceback"))]
    text = "; ".join(lines[-2:])
    if exc is not None and not isinstance(exc, SystemExit):
        text = f"{text}; {type(exc).__name__}: {exc}" if text else f"{type(exc).__name__}: {exc}"
    return text or "no reason given"


def _import_pyk4a():
    """(pyk4a module or None, why not)."""
    try:
        import pyk4a
    except ModuleNotFoundError as exc:
        if exc.name == "pyk4a":
            return None, "pyk4a is not installed"
        return None, f"pyk4a cannot be imported ({exc})"
    except ImportError as exc:  # pyk4a's k4a_module could not load libk4a / k4a.dll
        return None, f"pyk4a cannot load the K4A library ({exc}); install {SENSOR_SDK}"
    except Exception as exc:  # noqa: BLE001 - e.g. OSError from a broken native install
        return None, f"pyk4a fails to import ({type(exc).__name__}: {exc})"
    return pyk4a, None


def _import_pykinect_azure():
    """(pykinect_azure module or None, why not)."""
    try:
        import pykinect_azure
    except ModuleNotFoundError as exc:
        if exc.name == "pykinect_azure":
            return None, "pykinect_azure is not installed"
        if exc.name == "cv2":
            return None, "pykinect_azure needs OpenCV: pip install opencv-python"
        return None, f"pykinect_azure cannot be imported ({exc})"
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        return None, f"pykinect_azure fails to import ({type(exc).__name__}: {exc})"
    return pykinect_azure, None


def _init_pykinect(pk, track_body: bool) -> str | None:
    """Load libk4a (and libk4abt) through pykinect_azure; None when loaded, else why not."""
    k4a_path = os.environ.get("KINACT_K4A_LIBRARY") or None
    k4abt_path = os.environ.get("KINACT_K4ABT_LIBRARY") or None
    with _quiet() as out:
        try:
            pk.initialize_libraries(module_k4a_path=k4a_path, track_body=False)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - it exits when the library is missing
            return f"pykinect_azure cannot load the K4A library ({_said(out, exc)}); install {SENSOR_SDK}"
        if track_body:
            try:
                pk.initialize_libraries(module_k4a_path=k4a_path, module_k4abt_path=k4abt_path, track_body=True)
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                return f"the body tracking library cannot be loaded ({_said(out, exc)})"
    return None


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
        self._pk = self._device = self._tracker = self._k4a = None
        self._pyk4a = self._pyk4a_device = None
        self._lost: str | None = None
        self._index = 0
        self._clock = _DeviceClock()
        self._last_frame_at = 0.0
        self._next_probe = 0.0

    # ----------------------------------------------------------------------------------------------- checks
    @classmethod
    def is_available(cls) -> Availability:
        pk, pk_problem = _import_pykinect_azure()
        k4a, k4a_problem = _import_pyk4a()
        if pk is None and k4a is None:
            return Availability(False, _why_not(pk_problem, k4a_problem))
        try:
            if k4a is not None:
                count = int(k4a.connected_device_count())
            else:
                problem = _init_pykinect(pk, track_body=False)
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
        pk, problem = _import_pykinect_azure()
        if pk is not None:
            problem = _init_pykinect(pk, track_body=True)
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
        pk, pk_problem = _import_pykinect_azure()
        body_problem = None
        if self.body_tracking in ("auto", True):
            body_problem = pk_problem if pk is None else _init_pykinect(pk, track_body=True)
            if body_problem is None:
                try:
                    self._open_pykinect(pk, with_tracker=True)
                    self.backend = "pykinect_azure+k4abt"
                    return self._opened()
                except _TrackerUnavailable as exc:
                    body_problem = str(exc)
            if self.body_tracking is True:
                raise KinactError(f"body tracking is unavailable ({body_problem}); install {BODY_SDK}")
        k4a, k4a_problem = _import_pyk4a()
        if k4a is not None:
            self._open_pyk4a(k4a)
            self.backend = "pyk4a"
        elif pk is not None and _init_pykinect(pk, track_body=False) is None:
            self._open_pykinect(pk, with_tracker=False)
            self.backend = "pykinect_azure"
        else:
            raise KinactError(_why_not(pk_problem, k4a_problem))
        if self.body_tracking == "auto":
            self.notice = (f"body tracking unavailable ({body_problem}): streaming depth only. For skeletons "
                           f"install {BODY_SDK}.")
        self._opened()

    def _opened(self) -> None:
        self._clock.restart()
        self._last_frame_at = time.monotonic()
        self._next_probe = 0.0

    def _open_pykinect(self, pk, with_tracker: bool) -> None:
        from pykinect_azure.k4a import _k4a

        mode, _, _ = DEPTH_MODES[self.depth_mode]
        config = pk.Configuration()
        config.color_resolution = pk.K4A_COLOR_RESOLUTION_OFF
        config.depth_mode = mode
        config.camera_fps = FPS_VALUES[int(self.fps)]
        config.synchronized_images_only = False  # the SDK refuses it without the colour camera
        device = tracker = None
        with _quiet() as out:
            try:
                device = pk.Device(self.device_id)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - VERIFY exits when k4a_device_open fails
                raise SourceLost(f"Azure Kinect / Femto #{self.device_id} could not be opened ({_said(out, exc)}): "
                                 "is it attached, powered and not in use by another program?") from None
            try:
                device.start(config)
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                self._close_pykinect(device, None)
                raise SourceLost(f"Azure Kinect / Femto #{self.device_id} cameras did not start "
                                 f"({_said(out, exc)})") from None
            if with_tracker:
                model = pk.K4ABT_LITE_MODEL if self.lite_model else pk.K4ABT_DEFAULT_MODEL
                try:
                    tracker = pk.start_body_tracker(model_type=model, calibration=device.calibration)
                except (Exception, SystemExit) as exc:  # noqa: BLE001
                    self._close_pykinect(device, None)
                    raise _TrackerUnavailable(f"the body tracker did not start: {_said(out, exc)}") from None
        self._pk, self._k4a, self._device, self._tracker = pk, _k4a, device, tracker
        try:
            m = device.calibration.get_matrix(pk.K4A_CALIBRATION_TYPE_DEPTH)
            self._set_intrinsics(m[0][0], m[1][1], m[0][2], m[1][2])
        except Exception:  # noqa: BLE001 - no calibration: typical values
            self._set_intrinsics(0, 0, 0, 0)

    def _open_pyk4a(self, pyk4a) -> None:
        mode = pyk4a.DepthMode[self.depth_mode]
        config = pyk4a.Config(color_resolution=pyk4a.ColorResolution.OFF, depth_mode=mode,
                              camera_fps=pyk4a.FPS[f"FPS_{int(self.fps)}"], synchronized_images_only=False)
        device = pyk4a.PyK4A(config=config, device_id=self.device_id)
        try:
            device.start()
        except pyk4a.K4AException as exc:
            self._close_pyk4a(device)
            raise SourceLost(f"Azure Kinect / Femto #{self.device_id} could not be opened ({exc or 'K4A error'}): "
                             "is it attached, powered and not in use by another program?") from None
        self._pyk4a, self._pyk4a_device = pyk4a, device
        fx = fy = cx = cy = 0.0
        try:
            m = device.calibration.get_camera_matrix(pyk4a.CalibrationType.DEPTH)
            fx, fy, cx, cy = m[0][0], m[1][1], m[0][2], m[1][2]
        except Exception:  # noqa: BLE001 - fall back to the raw calibration JSON, as the MKV reader does
            try:
                from kinact.core.datasets.azure_mkv import depth_intrinsics

                _, w, h = DEPTH_MODES[self.depth_mode]
                intr = depth_intrinsics(device.calibration_raw, w, h) or {}
                fx, fy, cx, cy = (intr.get(k, 0.0) for k in ("fx", "fy", "cx", "cy"))
            except Exception:  # noqa: BLE001
                pass
        self._set_intrinsics(fx, fy, cx, cy)

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
        device, tracker = self._device, self._tracker
        self._device = self._tracker = None
        if device is not None or tracker is not None:
            self._close_pykinect(device, tracker)
        pyk4a_device, self._pyk4a_device = self._pyk4a_device, None
        if pyk4a_device is not None:
            self._close_pyk4a(pyk4a_device)

    @staticmethod
    def _close_pykinect(device, tracker) -> None:
        with _quiet():
            if tracker is not None:
                for step in (tracker.shutdown, tracker.destroy):
                    try:
                        step()
                    except (Exception, SystemExit):  # noqa: BLE001 - a dead device: release what we can
                        pass
            if device is not None:
                try:
                    device.close()
                except (Exception, SystemExit):  # noqa: BLE001
                    pass

    @staticmethod
    def _close_pyk4a(device) -> None:
        try:
            device.stop()
        except Exception:  # noqa: BLE001 - stopping an unplugged device can fail half-way
            pass
        if device.opened:
            try:
                device.close()
            except Exception:  # noqa: BLE001
                pass
        device.is_running = False

    # --------------------------------------------------------------------------------------------- reading
    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next frame; None when none came within `timeout`; SourceLost when the device went away."""
        if self._device is None and self._pyk4a_device is None:
            if self._lost:
                raise SourceLost(self._lost)
            raise KinactError("the k4a source is not open; call open() first")
        deadline = time.monotonic() + max(0.0, float(timeout))
        if self._pyk4a_device is not None:
            frame = self._read_pyk4a(deadline)
        else:
            frame = self._read_pykinect(deadline)
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
            if self._pyk4a is not None and self._pyk4a_device is not None:
                count = int(self._pyk4a.connected_device_count())
            else:
                count = int(self._k4a.k4a_device_get_installed_count())
        except (Exception, SystemExit):  # noqa: BLE001
            return
        if count <= self.device_id:
            self._lose(f"Azure Kinect / Femto #{self.device_id} disconnected (no frames for "
                       f"{self.lost_after:g} s and no longer on the bus)")

    @staticmethod
    def _ms(deadline: float) -> int:
        return max(0, int(round((deadline - time.monotonic()) * 1000)))

    def _frame(self, device_usec, bodies, depth) -> Frame:
        t = self._clock(None if device_usec is None else float(device_usec) * 1e-6)
        frame = Frame(t=t, bodies=bodies, depth=depth, index=self._index)
        self._index += 1
        return frame

    def _read_pyk4a(self, deadline: float) -> Frame | None:
        pyk4a = self._pyk4a
        try:
            capture = self._pyk4a_device.get_capture(timeout=self._ms(deadline))
        except pyk4a.K4ATimeoutException:
            return None
        except pyk4a.K4AException as exc:
            self._lose(f"Azure Kinect / Femto #{self.device_id} stopped delivering "
                       f"({exc or 'K4A capture failed'}): unplugged or a USB error")
        try:
            depth = capture.depth
            stamp = capture.depth_timestamp_usec
        except Exception as exc:  # noqa: BLE001
            self._lose(f"reading an Azure Kinect capture failed ({type(exc).__name__}: {exc})")
        if depth is None:
            return None
        # a copy: pyk4a's array is a view of the SDK's buffer, which would stay allocated while it lives
        return self._frame(stamp, [], np.array(depth, dtype=np.uint16, copy=True))

    def _read_pykinect(self, deadline: float) -> Frame | None:
        pk, k4a = self._pk, self._k4a
        capture = k4a.k4a_capture_t()
        result = k4a.k4a_device_get_capture(self._device.handle(), capture, self._ms(deadline))
        if result == pk.K4A_WAIT_RESULT_FAILED:
            self._lose(f"Azure Kinect / Femto #{self.device_id} stopped delivering captures: unplugged or a "
                       "USB error")
        if self._tracker is None:
            if result != pk.K4A_WAIT_RESULT_SUCCEEDED:
                return None
            try:
                depth, stamp = self._depth_of(capture)
            finally:
                k4a.k4a_capture_release(capture)
            return self._frame(stamp, [], depth)
        return self._track(capture if result == pk.K4A_WAIT_RESULT_SUCCEEDED else None, deadline)

    def _track(self, capture, deadline: float) -> Frame | None:
        """Enqueue a capture (if any) and pop the next body frame; a full queue drops the capture."""
        from pykinect_azure.k4abt import _k4abt

        pk, k4a = self._pk, self._k4a
        tracker = self._tracker.handle()
        if capture is not None:
            try:
                result = _k4abt.k4abt_tracker_enqueue_capture(tracker, capture, 0)
            finally:
                k4a.k4a_capture_release(capture)  # the tracker holds its own reference
            if result == pk.K4A_WAIT_RESULT_FAILED:
                self._lose("the body tracker stopped accepting captures")
        body_frame = _k4abt.k4abt_frame_t()
        result = _k4abt.k4abt_tracker_pop_result(tracker, body_frame, self._ms(deadline))
        if result == pk.K4A_WAIT_RESULT_FAILED:
            self._lose("the body tracker failed")
        if result != pk.K4A_WAIT_RESULT_SUCCEEDED:
            return None
        try:
            bodies = self._bodies(_k4abt, body_frame)
            stamp = _k4abt.k4abt_frame_get_device_timestamp_usec(body_frame)
            depth = None
            frame_capture = _k4abt.k4abt_frame_get_capture(body_frame)
            if frame_capture:
                try:
                    depth, _ = self._depth_of(frame_capture)
                finally:
                    k4a.k4a_capture_release(frame_capture)
        finally:
            _k4abt.k4abt_frame_release(body_frame)
        return self._frame(stamp, bodies, depth)

    def _bodies(self, k4abt, body_frame) -> list[Body]:
        pk = self._pk
        out = []
        for i in range(int(k4abt.k4abt_frame_get_num_bodies(body_frame))):
            skeleton = pk.k4abt_skeleton_t()
            if k4abt.k4abt_frame_get_body_skeleton(body_frame, i, skeleton) != pk.K4ABT_RESULT_SUCCEEDED:
                continue
            joints = np.array([tuple(j.position.v) for j in skeleton.joints], np.float32).reshape(NUM_JOINTS, 3)
            levels = np.clip([int(j.confidence_level) for j in skeleton.joints], 0, 3)
            body_id = int(k4abt.k4abt_frame_get_body_id(body_frame, i))
            out.append(Body(id=body_id, joints=joints, confidence=CONFIDENCE_LEVELS[levels]))
        return out

    def _depth_of(self, capture) -> tuple[np.ndarray | None, int | None]:
        """Depth image (copied) and its device timestamp from a capture handle; the image is released."""
        pk, k4a = self._pk, self._k4a
        handle = k4a.k4a_capture_get_depth_image(capture)
        if not handle:
            return None, None
        stamp = k4a.k4a_image_get_device_timestamp_usec(handle)
        image = pk.Image(handle)
        try:
            ok, depth = image.to_numpy()
        finally:
            image.reset()
            image.buffer_pointer = None  # Image.__del__ would release the handle a second time
        return (np.asarray(depth, dtype=np.uint16) if ok else None), int(stamp)
