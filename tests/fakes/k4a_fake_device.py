"""The scripted Azure Kinect / Orbbec Femto behind the fake pyk4a and fake pykinect_azure (test-only).

`DEVICE` stands for the hardware plus the installed native libraries (libk4a, libk4abt). Both fakes talk to
it, as both real packages talk to the same libk4a. Tests configure it with `DEVICE.reset(...)` and change it
while a source runs (`unplug()`, `plug()`).

Rules mirrored from the Sensor SDK: one open handle per device (opening it twice fails), cameras must be
stopped and the device closed before it can be opened again, ``synchronized_images_only`` needs the colour
camera, WFOV unbinned runs at most at 15 fps, device timestamps restart at every camera start, and a capture
after the cable came out fails (K4A_WAIT_RESULT_FAILED) rather than timing out.

Default script (k4abt body ids start at 1; the order of bodies in a body frame is not their id):

* body 1 at x = -400 mm walking +5 mm per frame, index 0 until frame 4, index 1 from frame 4;
* body 2 at x = +400 mm, index 1 until frame 4, index 0 from frame 4; joints 21 and 25 (feet) NONE.

Joint j of a body at x0 is at (x0 + 10 j, -800 + 50 j, 2500) mm. Confidence levels: MEDIUM, except the
hands (8, 15) LOW, the nose (27) HIGH and the feet of body 2 NONE. Depth frame k is filled with 1000 + k mm
except pixel (row 1, column 2) = 7.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

#: k4a_depth_mode_t value → (height, width) of the depth image.
DEPTH_SIZES = {1: (288, 320), 2: (576, 640), 3: (512, 512), 4: (1024, 1024)}
FPS_VALUES = {0: 5, 1: 15, 2: 30}
NONE, LOW, MEDIUM, HIGH = 0, 1, 2, 3


@dataclass
class Person:
    body_id: int
    x0: float
    dx: float = 0.0
    index: tuple = ((0, 0),)  # (from frame, index in the body frame)
    none_joints: tuple = ()

    def index_at(self, k: int) -> int:
        i = self.index[0][1]
        for start, idx in self.index:
            if k >= start:
                i = idx
        return i

    def joints(self, k: int) -> np.ndarray:
        j = np.arange(32, dtype=np.float64)
        return np.stack([self.x0 + self.dx * k + 10 * j, -800 + 50 * j, np.full(32, 2500.0)], axis=1)

    def confidence(self) -> np.ndarray:
        c = np.full(32, MEDIUM, np.int32)
        c[[8, 15]] = LOW
        c[27] = HIGH
        c[list(self.none_joints)] = NONE
        return c


def default_people() -> list[Person]:
    return [Person(1, -400.0, 5.0, ((0, 0), (4, 1))), Person(2, 400.0, 0.0, ((0, 1), (4, 0)), none_joints=(21, 25))]


class Capture:
    """One capture: a depth image and its device timestamp, reference counted like k4a_capture_t."""

    def __init__(self, device: "FakeK4A", depth: np.ndarray, timestamp_usec: int, k: int):
        self.device, self.depth, self.timestamp_usec, self.k = device, depth, timestamp_usec, k
        self.refs = 1
        device.live_captures += 1

    def reference(self) -> None:
        self.refs += 1

    def release(self) -> None:
        if self.refs <= 0:
            raise AssertionError("capture released more often than referenced")
        self.refs -= 1
        if self.refs == 0:
            self.device.live_captures -= 1


@dataclass
class FakeK4A:
    device_count: int = 1
    library: bool = True  # libk4a (Sensor SDK or Orbbec's K4A wrapper) can be loaded
    bt_library: bool = True  # libk4abt (Body Tracking SDK) can be loaded
    tracker_fails: bool = False  # k4abt_tracker_create fails (e.g. no GPU runtime)
    people: list = field(default_factory=default_people)
    unplug_after: int | None = None  # captures delivered before the cable comes out
    stall: bool = False  # captures time out (device attached but silent)
    tracker_latency: int = 0  # a body frame can be popped only after this many further enqueues
    depth_intrinsics: tuple = (504.1, 504.2, 321.3, 330.4)  # fx, fy, cx, cy for NFOV unbinned
    serial: str = "000123456789"
    # state
    opened: bool = False
    streaming: bool = False
    config: dict = field(default_factory=dict)
    frames_delivered: int = 0
    frames_at_start: int = 0
    live_captures: int = 0
    opens: int = 0
    fail_get_capture: bool = False

    def reset(self, **changes) -> "FakeK4A":
        fresh = FakeK4A()
        for name in fresh.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
        for name, value in changes.items():
            if name not in self.__dataclass_fields__:
                raise TypeError(f"unknown fake K4A setting {name!r}")
            setattr(self, name, value)
        return self

    # -- hardware events
    def unplug(self, *, fail: bool = True) -> None:
        """Pull the cable: captures fail (the SDK's behaviour) or, with fail=False, just stop coming."""
        self.device_count = 0
        if fail:
            self.fail_get_capture = True
        else:
            self.stall = True

    def plug(self) -> None:
        self.device_count = 1
        self.fail_get_capture = self.stall = False
        self.unplug_after = None

    # -- what libk4a does
    def open(self, index: int) -> bool:
        if index >= self.device_count or self.opened:
            return False
        self.opened, self.fail_get_capture = True, False
        self.opens += 1
        return True

    def close(self) -> None:
        self.streaming = False
        self.opened = False

    def start(self, color_resolution: int, depth_mode: int, fps: int, synchronized_images_only: bool) -> bool:
        if not self.opened or self.streaming or self.fail_get_capture:
            return False
        if synchronized_images_only and color_resolution == 0:
            return False  # the SDK rejects it: nothing to synchronise with
        if depth_mode == 0 and color_resolution == 0:
            return False
        if depth_mode == 4 and FPS_VALUES[int(fps)] > 15:
            return False
        self.config = dict(color_resolution=int(color_resolution), depth_mode=int(depth_mode), fps=int(fps))
        self.streaming, self.frames_at_start = True, self.frames_delivered
        return True

    def stop(self) -> None:
        self.streaming = False

    def get_capture(self, timeout_ms: int) -> tuple[str, Capture | None]:
        if not self.opened or not self.streaming:
            return "failed", None
        if self.unplug_after is not None and self.frames_delivered >= self.unplug_after:
            self.unplug()
        if self.fail_get_capture:
            return "failed", None
        if self.stall:
            if timeout_ms != 0:
                time.sleep(min(0.005, timeout_ms / 1000) if timeout_ms > 0 else 0.005)
            return "timeout", None
        k = self.frames_delivered
        self.frames_delivered += 1
        h, w = DEPTH_SIZES[self.config["depth_mode"]]
        depth = np.full((h, w), 1000 + k, np.uint16)
        depth[1, 2] = 7
        period = 1_000_000 // FPS_VALUES[self.config["fps"]]
        return "ok", Capture(self, depth, 200_000 + (k - self.frames_at_start) * period, k)

    def bodies(self, k: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(body id, joints (32, 3) mm, confidence levels (32,)) in body-frame index order."""
        people = sorted(self.people, key=lambda p: p.index_at(k))
        return [(p.body_id, p.joints(k), p.confidence()) for p in people]

    def intrinsics_params(self, depth_mode: int) -> tuple:
        """The 14 k4a intrinsic parameters (cx, cy, fx, fy, k1..k6, codx, cody, p2, p1) for a depth mode."""
        fx, fy, cx, cy = self.depth_intrinsics
        scale = 0.5 if depth_mode in (1, 3) else 1.0
        shift = {1: (0, 0), 2: (0, 0), 3: (-64, -32), 4: (192, 224)}.get(depth_mode, (0, 0))
        return ((cx + shift[0]) * scale, (cy + shift[1]) * scale, fx * scale, fy * scale,
                0.5, -0.1, 0.01, 0.8, -0.05, 0.002, 0.0, 0.0, -1e-4, 2e-4)


DEVICE = FakeK4A()

# Native objects behind the ctypes handles of the fake pykinect_azure: a handle is a ctypes POINTER to a
# one-field struct (like K4A_DECLARE_HANDLE) whose field holds a key into this table.
OBJECTS: dict = {}
_keys = itertools.count(1)


def bind(handle, obj) -> None:
    """Make a POINTER handle (e.g. k4a_capture_t()) point at `obj`, as the C API fills an out-parameter."""
    key = next(_keys)
    OBJECTS[key] = obj
    handle.contents = handle._type_(key)


def new_handle(handle_type, obj):
    handle = handle_type()
    if obj is not None:
        bind(handle, obj)
    return handle


def deref(handle):
    if not handle:
        raise ValueError("NULL handle passed to the fake K4A library")
    return OBJECTS[handle.contents._rsvd]
