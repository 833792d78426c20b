"""The pykinect_azure backend of the k4a source: depth and 32-joint skeletons from one device handle.

pykinect_azure is ctypes over libk4a *and* libk4abt (the Body Tracking SDK), so when the body tracker
loads, one device handle gives depth and skeletons. Each `read` takes a capture
(``_k4a.k4a_device_get_capture``), hands it to the tracker (``_k4abt.k4abt_tracker_enqueue_capture``) and
pops a body frame (``_k4abt.k4abt_tracker_pop_result``); the frame carries the capture it was computed
from, so the depth image and the skeletons of a `Frame` always belong together. The device is opened with
``pykinect_azure.Device`` + ``Device.start`` (what ``pykinect_azure.start_device`` does) and the tracker
with ``pykinect_azure.start_body_tracker``. The waits go through the ``_k4a`` / ``_k4abt`` wrappers, which
return the C API's result codes, because pykinect_azure's own ``Device.update`` and ``Tracker.update`` pass
every result through ``VERIFY``, which prints and calls ``sys.exit(1)`` on anything but success -- a
timeout included. Every pykinect_azure call that can reach ``VERIFY`` is guarded against SystemExit.

Without a tracker the same device streams depth only; `K4ASource` does that when the body tracker is
unavailable and pyk4a is not installed. Set ``KINACT_K4A_LIBRARY`` / ``KINACT_K4ABT_LIBRARY`` to the full
path of libk4a / libk4abt when pykinect_azure's default locations are wrong.

Confidence levels NONE/LOW/MEDIUM/HIGH become 0, 1/3, 2/3 and 1 (Body Tracking SDK 1.1 reports at most
MEDIUM). `Body.id` is the tracker's body id, not the body's index in the frame.
"""
from __future__ import annotations

import contextlib
import io
import os

import numpy as np

from kinact.core.frames import Body
from kinact.core.sources.base import SourceLost
from kinact.core.sources.k4a_sdk import DEPTH_MODES, FPS_VALUES, SENSOR_SDK, remaining_ms

NUM_JOINTS = 32
#: k4abt_joint_confidence_level_t NONE/LOW/MEDIUM/HIGH → confidence in 0..1.
CONFIDENCE_LEVELS = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0], np.float32)


class TrackerUnavailable(Exception):
    """The body tracker could not be created (the device has been released again)."""


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


def import_pykinect_azure():
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


def init_pykinect(pk, track_body: bool) -> str | None:
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


class PyKinectDevice:
    """One Azure Kinect / Femto opened through pykinect_azure, with or without the body tracker.

    `open` returns the depth intrinsics (fx, fy, cx, cy), zeros when unknown, and raises SourceLost when
    the device does not open or start, TrackerUnavailable when only the tracker fails (the device is then
    released again, so another backend can take it). `read` returns (device timestamp in µs, bodies, depth)
    or None on a timeout, and raises SourceLost (the caller closes) when the device or tracker fails.
    """

    def __init__(self, pk, device_id: int, depth_mode: str, fps: int, *, with_tracker: bool,
                 lite_model: bool = False):
        self.pk = pk
        self.device_id = device_id
        self.depth_mode = depth_mode
        self.fps = int(fps)
        self.with_tracker = with_tracker
        self.lite_model = lite_model
        self.k4a = self.device = self.tracker = None

    def open(self) -> tuple[float, float, float, float]:
        from pykinect_azure.k4a import _k4a

        pk = self.pk
        mode, _, _ = DEPTH_MODES[self.depth_mode]
        config = pk.Configuration()
        config.color_resolution = pk.K4A_COLOR_RESOLUTION_OFF
        config.depth_mode = mode
        config.camera_fps = FPS_VALUES[self.fps]
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
                self._release(device, None)
                raise SourceLost(f"Azure Kinect / Femto #{self.device_id} cameras did not start "
                                 f"({_said(out, exc)})") from None
            if self.with_tracker:
                model = pk.K4ABT_LITE_MODEL if self.lite_model else pk.K4ABT_DEFAULT_MODEL
                try:
                    tracker = pk.start_body_tracker(model_type=model, calibration=device.calibration)
                except (Exception, SystemExit) as exc:  # noqa: BLE001
                    self._release(device, None)
                    raise TrackerUnavailable(f"the body tracker did not start: {_said(out, exc)}") from None
        self.k4a, self.device, self.tracker = _k4a, device, tracker
        try:
            m = device.calibration.get_matrix(pk.K4A_CALIBRATION_TYPE_DEPTH)
            return m[0][0], m[1][1], m[0][2], m[1][2]
        except Exception:  # noqa: BLE001 - no calibration: typical values
            return 0, 0, 0, 0

    def close(self) -> None:
        device, tracker = self.device, self.tracker
        self.device = self.tracker = None
        if device is not None or tracker is not None:
            self._release(device, tracker)

    @staticmethod
    def _release(device, tracker) -> None:
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

    def device_count(self) -> int:
        return int(self.k4a.k4a_device_get_installed_count())

    # --------------------------------------------------------------------------------------------- reading
    def read(self, deadline: float):
        pk, k4a = self.pk, self.k4a
        capture = k4a.k4a_capture_t()
        result = k4a.k4a_device_get_capture(self.device.handle(), capture, remaining_ms(deadline))
        if result == pk.K4A_WAIT_RESULT_FAILED:
            raise SourceLost(f"Azure Kinect / Femto #{self.device_id} stopped delivering captures: unplugged or "
                             "a USB error")
        if self.tracker is None:
            if result != pk.K4A_WAIT_RESULT_SUCCEEDED:
                return None
            try:
                depth, stamp = self._depth_of(capture)
            finally:
                k4a.k4a_capture_release(capture)
            return stamp, [], depth
        return self._track(capture if result == pk.K4A_WAIT_RESULT_SUCCEEDED else None, deadline)

    def _track(self, capture, deadline: float):
        """Enqueue a capture (if any) and pop the next body frame; a full queue drops the capture."""
        from pykinect_azure.k4abt import _k4abt

        pk, k4a = self.pk, self.k4a
        tracker = self.tracker.handle()
        if capture is not None:
            try:
                result = _k4abt.k4abt_tracker_enqueue_capture(tracker, capture, 0)
            finally:
                k4a.k4a_capture_release(capture)  # the tracker holds its own reference
            if result == pk.K4A_WAIT_RESULT_FAILED:
                raise SourceLost("the body tracker stopped accepting captures")
        body_frame = _k4abt.k4abt_frame_t()
        result = _k4abt.k4abt_tracker_pop_result(tracker, body_frame, remaining_ms(deadline))
        if result == pk.K4A_WAIT_RESULT_FAILED:
            raise SourceLost("the body tracker failed")
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
        return stamp, bodies, depth

    def _bodies(self, k4abt, body_frame) -> list[Body]:
        pk = self.pk
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
        pk, k4a = self.pk, self.k4a
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
