"""Stand-ins for a trained model and a sensor, so the pipeline can be tested and benchmarked without either.

`RuleModel` answers from the window's content (a raised right hand), which is what makes event timing
testable: the right answer is known for every frame. The sources replay scripted frames from memory, either
as a finite file-like source or as a "live" one that runs at its own rate and can be made to fail.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from kinact.core.checkpoint import CheckpointMeta
from kinact.core.frames import Body, Frame
from kinact.core.layouts import CANONICAL
from kinact.core.sources.base import EndOfStream, Source, SourceLost

_BASE = {
    "hip_center": (0, 0, 0), "spine": (0, 0.25, 0), "shoulder_center": (0, 0.5, 0), "head": (0, 0.7, 0),
    "shoulder_left": (-0.2, 0.45, 0), "elbow_left": (-0.25, 0.2, 0), "wrist_left": (-0.27, 0.0, 0),
    "hand_left": (-0.28, -0.05, 0), "shoulder_right": (0.2, 0.45, 0), "elbow_right": (0.25, 0.2, 0),
    "wrist_right": (0.27, 0.0, 0), "hand_right": (0.28, -0.05, 0), "hip_left": (-0.1, -0.05, 0),
    "knee_left": (-0.1, -0.5, 0), "ankle_left": (-0.1, -0.9, 0), "foot_left": (-0.1, -0.95, -0.1),
    "hip_right": (0.1, -0.05, 0), "knee_right": (0.1, -0.5, 0), "ankle_right": (0.1, -0.9, 0),
    "foot_right": (0.1, -0.95, -0.1),
}
_UP = {"elbow_right": (0.25, 0.65, 0), "wrist_right": (0.26, 0.85, 0), "hand_right": (0.27, 0.95, 0)}
HAND_R, HEAD = CANONICAL.index("hand_right"), CANONICAL.index("head")


def pose(x: float = 0.0, z: float = 2.5, scale: float = 1.0, hand_up: bool = False, y: float = 0.0) -> np.ndarray:
    """A canonical (20, 3) person standing at (x, y, z) metres facing the sensor; `scale` changes their size."""
    joints = {**_BASE, **(_UP if hand_up else {})}
    j = np.array([joints[n] for n in CANONICAL.joints], np.float32) * scale
    return j + np.array([x, y, z], np.float32)


def body(sensor_id: int, joints: np.ndarray, confidence: float | np.ndarray = 1.0, noise: float = 0.0,
         rng: np.random.Generator | None = None) -> Body:
    if noise:
        joints = joints + (rng or np.random.default_rng()).normal(scale=noise, size=joints.shape).astype(np.float32)
    conf = np.broadcast_to(np.asarray(confidence, np.float32), joints.shape[:1]).copy()
    return Body(sensor_id, joints.astype(np.float32), conf)


class RuleModel:
    """A "model" with the Predictor surface: class `hand_up` when the right hand is above the head over the
    last quarter of the window, else the no-action class. Records every call's batch size; `delay` makes it
    slow. Input is the normalised (B, C, T, 20) window, joint positions in channels 0..2."""

    def __init__(self, frames: int = 16, window_seconds: float = 1.0, delay: float = 0.0, depth: dict | None = None,
                 classes=("no_action", "hand_up", "other")):
        self.meta = CheckpointMeta(model={"name": "rule"}, classes=list(classes), frames=frames,
                                   window_seconds=window_seconds, features=["joint"], depth=dict(depth or {}),
                                   no_action="no_action")
        self.classes = list(classes)
        self.delay = delay
        self.batches: list[int] = []
        self.inputs: list[dict] = []
        self._lock = threading.Lock()
        if depth:
            self.input_spec = {"skeleton": ("batch", 3, frames, 20),
                               "depth": ("batch", int(depth.get("channels", 1)), *depth["size"])}

    def _scores(self, x: np.ndarray) -> np.ndarray:
        t = x.shape[2]
        tail = x[:, 1, -max(1, t // 4):, :]  # y of the last quarter
        up = (tail[..., HAND_R] - tail[..., HEAD]).mean(-1) > 0
        probs = np.full((x.shape[0], len(self.classes)), 0.05, np.float32)
        probs[np.arange(len(up)), np.where(up, 1, 0)] = 1.0 - 0.05 * (len(self.classes) - 1)
        return probs

    def predict_skeleton(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            self.batches.append(int(x.shape[0]))
        if self.delay:
            time.sleep(self.delay)
        return self._scores(np.asarray(x))

    def predict(self, inputs: dict) -> np.ndarray:
        with self._lock:
            self.inputs.append({k: np.asarray(v).shape for k, v in inputs.items()})
        return self.predict_skeleton(inputs["skeleton"])


class ListSource(Source):
    """A finite source over frames in memory (like a recording); EndOfStream after the last one."""

    name = "memory"
    live = False

    def __init__(self, frames: list[Frame], paced: bool = False, layout: str = "kinect_v1"):
        self.frames, self.paced, self.layout = list(frames), paced, layout
        self._i = 0
        self.opened = 0

    def open(self) -> None:
        self.opened += 1

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self._i >= len(self.frames):
            raise EndOfStream
        self._i += 1
        return self.frames[self._i - 1]


class FakeLiveSource(Source):
    """A "sensor" producing `make(i, t)` frames at `fps` on its own clock. `lose_at`: frame counts at which
    it raises SourceLost; `failed_opens`: how many open() calls fail after each loss (unplugged cable)."""

    name = "fake-live"
    live = True

    def __init__(self, make: Callable[[int, float], Frame], fps: float = 30.0, lose_at=(), failed_opens: int = 0,
                 hang: bool = False):
        self.make, self.fps, self.lose_at = make, fps, set(lose_at)
        self.failed_opens, self.hang = failed_opens, hang
        self._fail_left = 0
        self._i = 0
        self._next = None
        self.opens = 0
        self.events: list[str] = []

    def open(self) -> None:
        self.opens += 1
        if self._fail_left > 0:
            self._fail_left -= 1
            self.events.append("open-failed")
            raise SourceLost("no device")
        self.events.append("open")
        self._next = time.monotonic()

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self.hang:  # a dead SDK call that honours its timeout and nothing else
            time.sleep(timeout)
            return None
        if self._i in self.lose_at:
            self.lose_at.discard(self._i)
            self._fail_left = self.failed_opens
            self.events.append("lost")
            raise SourceLost("cable pulled")
        wait = self._next - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        self._next += 1.0 / self.fps
        frame = self.make(self._i, self._i / self.fps)
        self._i += 1
        return frame

    def close(self) -> None:
        self.events.append("close")
