"""Bounded rings of recent samples: one per person for joints, one shared by everyone for depth.

The live pipeline must run for hours without its memory creeping up, so every store here has a fixed
capacity chosen at construction and old samples fall off the far end. Windows are cut by *time*, not by
sample count: sensors drop frames and replay can run at another speed, and the model was trained on a
fixed duration of motion (`CheckpointMeta.window_seconds`), whatever the frame rate.

Joints live in preallocated numpy rings rather than deques of small arrays: an append is one row copy,
and cutting a window is a `searchsorted` plus a slice, with no Python loop over the samples. Depth frames
are large and never copied; the ring keeps references (a source must hand over a fresh array per frame,
which every backend does) in a bounded deque.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

NUM_JOINTS = 20  # canonical layout
_EPS = 1e-6  # seconds; keeps float rounding (59/30 - 1 vs 29/30) from adding a sample to a window's far end


@dataclass
class BodyWindow:
    """The last `seconds` of one person: times (T,), canonical joints (T, 20, 3) metres, confidence (T, 20)."""

    times: np.ndarray
    joints: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def span(self) -> float:
        """Seconds between the oldest and newest sample (0 for fewer than two samples)."""
        return float(self.times[-1] - self.times[0]) if len(self) > 1 else 0.0


class BodyBuffer:
    """Ring of timestamped canonical samples of one person; O(1) append, bounded by `capacity` samples."""

    def __init__(self, capacity: int, num_joints: int = NUM_JOINTS):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self._t = np.zeros(self.capacity, np.float64)
        self._j = np.zeros((self.capacity, num_joints, 3), np.float32)
        self._c = np.zeros((self.capacity, num_joints), np.float32)
        self._next = 0  # slot the next sample goes to
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def last_t(self) -> float | None:
        return float(self._t[(self._next - 1) % self.capacity]) if self._size else None

    def append(self, t: float, joints: np.ndarray, confidence: np.ndarray) -> None:
        """Add one sample; a timestamp older than the newest (a replay seeked back) restarts the ring, since a
        window mixing two parts of a recording would describe a motion that never happened."""
        last = self.last_t
        if last is not None and t < last:
            self.clear()
        i = self._next
        self._t[i] = t
        self._j[i] = joints
        self._c[i] = confidence
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def clear(self) -> None:
        self._next = 0
        self._size = 0

    def _ordered(self) -> np.ndarray:
        """Slot indices oldest → newest."""
        start = (self._next - self._size) % self.capacity
        return (start + np.arange(self._size)) % self.capacity

    def window(self, seconds: float, now: float | None = None) -> BodyWindow:
        """Copies of the samples with `now - seconds < t <= now` (now: the newest sample's time)."""
        idx = self._ordered()
        times = self._t[idx]
        if now is None:
            now = times[-1] if len(times) else 0.0
        lo = np.searchsorted(times, now - seconds + _EPS, side="right")
        hi = np.searchsorted(times, now, side="right")
        sel = idx[lo:hi]
        return BodyWindow(self._t[sel].copy(), self._j[sel].copy(), self._c[sel].copy())


class DepthRing:
    """The latest `capacity` depth frames with their timestamps, shared by all people in the scene."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self._frames: deque[tuple[float, np.ndarray]] = deque(maxlen=self.capacity)

    def __len__(self) -> int:
        return len(self._frames)

    def append(self, t: float, depth: np.ndarray) -> None:
        if self._frames and t < self._frames[-1][0]:
            self._frames.clear()
        self._frames.append((float(t), depth))

    def clear(self) -> None:
        self._frames.clear()

    def window(self, seconds: float, now: float | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """(times (T,), list of T depth images) with `now - seconds < t <= now`; the images are not copied or
        stacked here because that is the inference thread's work, not the capture thread's."""
        items = list(self._frames)
        if not items:
            return np.zeros(0, np.float64), []
        if now is None:
            now = items[-1][0]
        keep = [(t, d) for t, d in items if now - seconds + _EPS < t <= now]
        return np.array([t for t, _ in keep], np.float64), [d for _, d in keep]
