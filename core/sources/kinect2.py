"""Live Kinect v2 (Kinect for Xbox One / Kinect for Windows v2) through PyKinect2 and the Kinect for Windows SDK 2.0.

Windows only. PyKinect2 is imported through `kinact.core.sources.kinect2_compat`, which repairs its known
breakages on current Python, numpy and comtypes at import time without touching the installed files.

What PyKinect2 gives (pykinect2/PyKinectRuntime.py; every name below is PyKinect2's own):

* ``PyKinectRuntime.PyKinectRuntime(FrameSourceTypes_Body | FrameSourceTypes_Depth)`` opens the default
  sensor and starts a thread that copies each arriving frame into the runtime; ``has_new_body_frame()`` /
  ``has_new_depth_frame()`` compare the arrival time (``_last_body_frame_time``) with the last read time.
  The PyPI release 0.1.0 never updates the read time (it assigns a local variable), so there "new" stays
  true after the first frame; frames are therefore de-duplicated here by their arrival time as well.
* ``get_last_body_frame()`` → ``KinectBodyFrameData``: ``.bodies`` holds ``max_body_count`` (6) *slots* of
  ``KinectBody`` (``.is_tracked``, ``.tracking_id``, ``.joints[j].Position.x/y/z`` in metres,
  ``.joints[j].TrackingState``). A slot index is not a person: the SDK reuses slots, so `Body.id` is the
  tracking id. GitHub master adds ``.relative_time`` (the SDK's RelativeTime, 100 ns ticks), used for `t`;
  0.1.0 lacks it and the host's monotonic clock at read time is used instead.
* ``get_last_depth_frame()``: a flat uint16 copy of ``depth_frame_desc.Width × Height`` (512 × 424) mm.
* The SDK opens fine without a sensor; only ``IKinectSensor.IsAvailable`` (``runtime._sensor``) tells
  whether one is attached, so `open` waits for it and `read` checks it when frames stop coming.
* Depth intrinsics come from ``ICoordinateMapper.GetDepthCameraIntrinsics()`` (``runtime._mapper``), which
  reports zeros until the sensor has streamed; until then the typical `KINECT_V2_DEPTH` values are used.

Confidence: TrackingState_Tracked → 1.0, TrackingState_Inferred → 0.5, TrackingState_NotTracked → 0.
Not-tracked joints keep the position the SDK reports (like the NTU RGB+D files).
"""
from __future__ import annotations

import sys
import time

import numpy as np

from kinact.core.errors import KinactError
from kinact.core.frames import Body, Frame
from kinact.core.sources.device_clock import DeviceClock
from kinact.core.sources.base import Availability, Source, SourceLost

NUM_JOINTS = 25
#: TrackingState (PyKinectV2.TrackingState_NotTracked/Inferred/Tracked = 0/1/2) → confidence.
CONFIDENCE = {0: 0.0, 1: 0.5, 2: 1.0}


def _is_windows() -> bool:
    return sys.platform == "win32"


def _newer_frame(rt, kind: str, last_stamp):
    """(frame, stamp) of PyKinectRuntime's latest `kind` ("body", "depth") frame, or (None, last_stamp).

    has_new_*_frame() alone can report the frame already taken, so a frame counts as new only when its
    `_last_*_frame_time` stamp moved (runtimes without the stamp are trusted). Body and depth share this rule.
    """
    if not getattr(rt, f"has_new_{kind}_frame")():
        return None, last_stamp
    stamp = getattr(rt, f"_last_{kind}_frame_time", None)
    if stamp is not None and stamp == last_stamp:
        return None, last_stamp
    return getattr(rt, f"get_last_{kind}_frame")(), stamp


class Kinect2Source(Source):
    """Kinect v2 skeletons (25 joints, metres) and depth (512×424 mm) at 30 fps through PyKinect2."""

    name = "kinect2"
    layout = "kinect_v2"
    fps = 30.0
    notice = ""

    def __init__(self, device: str | None = None, *, depth: bool = True, open_timeout: float = 5.0,
                 poll_interval: float = 0.002, availability_check_interval: float = 0.2):
        if device not in (None, "", "0", 0, "default"):
            raise KinactError(f"kinect2 takes no device argument (one sensor per PC), got {device!r}")
        self.with_depth = bool(depth)
        self.open_timeout = float(open_timeout)
        self.poll_interval = float(poll_interval)
        self.availability_check_interval = float(availability_check_interval)
        self.intrinsics = None
        self.patches: list[str] = []  # what kinect2_compat rewrote in PyKinect2
        self._v2 = None
        self._rt = None
        self._lost: str | None = None
        self._index = 0
        self._clock = DeviceClock()
        self._body_stamp = self._depth_stamp = None
        self._intrinsics_from_device = False
        self._intrinsics_tries = 0
        self._next_availability_check = 0.0

    # ----------------------------------------------------------------------------------------------- checks
    @classmethod
    def is_available(cls) -> Availability:
        if not _is_windows():
            return Availability(False, "Kinect v2 needs Windows with the Kinect for Windows SDK 2.0")
        from kinact.core.sources import kinect2_compat

        try:
            kinect2_compat.import_pykinect2()
        except KinactError as exc:
            return Availability(False, str(exc))
        return Availability(True)

    def describe(self) -> str:
        return "Kinect v2 (PyKinect2)"

    # ------------------------------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Open the sensor; KinactError if PyKinect2 or the SDK is missing, SourceLost if no sensor answers."""
        self.close()
        if not _is_windows():
            raise KinactError("Kinect v2 needs Windows with the Kinect for Windows SDK 2.0")
        from kinact.core.sources import kinect2_compat

        v2, runtime_module = kinect2_compat.import_pykinect2()
        self.patches = kinect2_compat.apply_shims()[1:]
        kinds = v2.FrameSourceTypes_Body | (v2.FrameSourceTypes_Depth if self.with_depth else 0)
        try:
            rt = runtime_module.PyKinectRuntime(kinds)
        except Exception as exc:  # noqa: BLE001 - COMError/OSError from the SDK
            raise SourceLost(f"Kinect v2 could not be opened ({type(exc).__name__}: {exc})") from None
        self._v2, self._rt, self._lost = v2, rt, None
        deadline = time.monotonic() + self.open_timeout
        while not self._sensor_available(rt):
            if time.monotonic() >= deadline:
                self.close()
                raise SourceLost(f"no Kinect v2 sensor answered within {self.open_timeout:g} s: check that it "
                                 "is plugged into a USB 3.0 port and that the Kinect adapter has power")
            time.sleep(0.02)
        self._clock.restart()
        self._body_stamp = self._depth_stamp = None
        self._intrinsics_from_device, self._intrinsics_tries = False, 0
        self._next_availability_check = 0.0
        self._update_intrinsics()

    def close(self) -> None:
        rt, self._rt = self._rt, None
        if rt is not None:
            try:
                rt.close()
            except Exception:  # noqa: BLE001 - closing a dead sensor may fail; it is released either way
                pass

    # --------------------------------------------------------------------------------------------- reading
    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next body frame (with the newest depth frame if one arrived since the last read).

        None when nothing arrived within `timeout`; SourceLost when the sensor went away or the SDK failed.
        """
        rt = self._rt
        if rt is None:
            if self._lost:
                raise SourceLost(self._lost)
            raise KinactError("the Kinect v2 source is not open; call open() first")
        deadline = time.monotonic() + max(0.0, float(timeout))
        while True:
            frame = self._poll(rt)
            if frame is not None:
                return frame
            now = time.monotonic()
            if now >= self._next_availability_check:
                self._next_availability_check = now + self.availability_check_interval
                if not self._sensor_available(rt):
                    self._lose("the Kinect v2 sensor went away (unplugged or lost power)")
            if now >= deadline:
                return None
            time.sleep(min(self.poll_interval, deadline - now))

    def _lose(self, reason: str):
        self._lost = reason
        self.close()
        raise SourceLost(reason)

    def _sensor_available(self, rt) -> bool:
        sensor = getattr(rt, "_sensor", None)
        if sensor is None:
            return True  # a PyKinect2 without _sensor: trust the frames
        try:
            return bool(sensor.IsAvailable)
        except Exception as exc:  # noqa: BLE001 - COMError once the device is gone
            if rt is self._rt:
                self._lose(f"the Kinect v2 sensor stopped answering ({type(exc).__name__}: {exc})")
            return False

    def _poll(self, rt) -> Frame | None:
        try:
            body_frame, self._body_stamp = _newer_frame(rt, "body", self._body_stamp)
            if body_frame is None or body_frame.bodies is None:
                return None
            bodies = self._bodies(body_frame)
            depth = self._depth(rt) if self.with_depth else None
            relative = getattr(body_frame, "relative_time", None)
        except SourceLost:
            raise
        except Exception as exc:  # noqa: BLE001 - COMError, OSError, ctypes errors from the SDK
            self._lose(f"the Kinect v2 SDK failed while reading ({type(exc).__name__}: {exc})")
        if not self._intrinsics_from_device and self._intrinsics_tries < 300:
            self._update_intrinsics()
        t = self._clock(None if relative is None else float(relative) * 1e-7)
        frame = Frame(t=t, bodies=bodies, depth=depth, index=self._index)
        self._index += 1
        return frame

    def _bodies(self, body_frame) -> list[Body]:
        v2 = self._v2
        count = int(getattr(v2, "JointType_Count", NUM_JOINTS))
        out = []
        for body in body_frame.bodies:
            if body is None or not body.is_tracked:
                continue
            joints = np.empty((NUM_JOINTS, 3), np.float32)
            confidence = np.zeros(NUM_JOINTS, np.float32)
            for j in range(min(count, NUM_JOINTS)):
                joint = body.joints[j]
                p = joint.Position
                joints[j] = (p.x, p.y, p.z)
                confidence[j] = CONFIDENCE.get(int(joint.TrackingState), 0.0)
            out.append(Body(id=int(body.tracking_id), joints=joints, confidence=confidence))
        return out

    def _depth(self, rt) -> np.ndarray | None:
        flat, self._depth_stamp = _newer_frame(rt, "depth", self._depth_stamp)
        if flat is None:
            return None
        desc = rt.depth_frame_desc
        return np.asarray(flat, dtype=np.uint16).reshape(int(desc.Height), int(desc.Width))

    def _update_intrinsics(self) -> None:
        """Device intrinsics from the coordinate mapper, else the typical values (and retry later)."""
        from kinact.core.recording.intrinsics import KINECT_V2_DEPTH, Intrinsics

        self._intrinsics_tries += 1
        rt = self._rt
        width, height = KINECT_V2_DEPTH.width, KINECT_V2_DEPTH.height
        try:
            desc = rt.depth_frame_desc
            width, height = int(desc.Width), int(desc.Height)
            c = rt._mapper.GetDepthCameraIntrinsics()
            fx, fy, cx, cy = float(c.FocalLengthX), float(c.FocalLengthY), float(c.PrincipalPointX), \
                float(c.PrincipalPointY)
        except Exception:  # noqa: BLE001 - no mapper, or the sensor has not streamed yet
            fx = fy = cx = cy = 0.0
        if fx > 0 and fy > 0 and cx > 0 and cy > 0:
            self.intrinsics = Intrinsics(fx, fy, cx, cy, width, height, mirrored=True)
            self._intrinsics_from_device = True
        elif self.intrinsics is None:
            self.intrinsics = KINECT_V2_DEPTH if (width, height) == (512, 424) else \
                KINECT_V2_DEPTH.scaled(width, height)
