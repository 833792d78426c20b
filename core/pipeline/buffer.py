"""Bounded rings of recent samples: one per person for joints, one shared by everyone for depth.

The live pipeline must run for hours without its memory creeping up, so every store here has a fixed
capacity chosen at construction and old samples fall off the far end. Windows are cut by *time*, not by
sample count: sensors drop frames and replay can run at another speed, and the model was trained on a
fixed duration of motion (`CheckpointMeta.window_seconds`), whatever the frame rate.

Joints live in preallocated numpy rings rather than deques of small arrays: an append is one row copy,
and cutting a window is a `searchsorted` plus a slice, with no Python loop over the samples. Each ring is
stored twice over (every sample written at slot i and at i + capacity), so the samples oldest → newest
are always one contiguous slice however the ring has wrapped: cutting a window, which happens for every
person at every inference, is then plain slicing instead of gathering by index. Depth frames are large
and never copied; the ring keeps references (a source must hand over a fresh array per frame, which
every backend does) in a bounded deque.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

NUM_JOINTS = 20  # canonical layout
_EPS = 1e-6  # seconds; keeps float rounding (59/30 - 1 vs 29/30) from adding a sample to a window's far end


@dataclass
class BodyWindow:
    """The last `seconds` of one person: times (T,), canonical joints (T, 20, 3) metres, confidence (T, 20).

    all_usable: every joint of every sample was usable (`skeleton_norm.valid_mask` at confidence 0.5) when it was
    buffered, as the tracker found when it took it in; False when not, or not known.
    """

    times: np.ndarray
    joints: np.ndarray
    confidence: np.ndarray
    all_usable: bool = False

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
        self._t = np.zeros(2 * self.capacity, np.float64)  # mirrored: see the module docstring
        self._j = np.zeros((2 * self.capacity, num_joints, 3), np.float32)
        self._c = np.zeros((2 * self.capacity, num_joints), np.float32)
        self._unusable_t = -math.inf  # time of the newest sample not `usable` (see BodyWindow.all_usable)
        self._next = 0  # slot the next sample goes to, in [0, capacity)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def last_t(self) -> float | None:
        return float(self._t[self._next - 1 + self.capacity]) if self._size else None

    def append(self, t: float, joints: np.ndarray, confidence: np.ndarray, usable: bool = False) -> None:
        """Add one sample; a timestamp older than the newest (a replay seeked back) restarts the ring, since a
        window mixing two parts of a recording would describe a motion that never happened. usable: every
        joint of the sample is usable (see BodyWindow.all_usable); windows of such samples skip that check."""
        last = self.last_t
        if last is not None and t < last:
            self.clear()
        i = self._next
        for k in (i, i + self.capacity):
            self._t[k] = t
            self._j[k] = joints
            self._c[k] = confidence
        if not usable:
            self._unusable_t = t
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def clear(self) -> None:
        self._next = 0
        self._size = 0
        self._unusable_t = -math.inf

    def _span(self) -> tuple[int, int]:
        """[start, stop) of the samples oldest → newest in the mirrored arrays."""
        stop = self._next + self.capacity
        return stop - self._size, stop

    def window(self, seconds: float, now: float | None = None) -> BodyWindow:
        """Copies of the samples with `now - seconds < t <= now` (now: the newest sample's time)."""
        start, stop = self._span()
        times = self._t[start:stop]
        if now is None:
            now = times[-1] if len(times) else 0.0
        lo = start + int(times.searchsorted(now - seconds + _EPS, side="right"))
        hi = start + int(times.searchsorted(now, side="right"))
        # every sample usable if the newest one that was not is older than the window (times never go back)
        return BodyWindow(self._t[lo:hi].copy(), self._j[lo:hi].copy(), self._c[lo:hi].copy(),
                          bool(hi > lo and self._unusable_t < self._t[lo]))


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
