"""Scenes and sensor clocks for the pipeline benchmarks: several people made from one motion, delivered like a
sensor would deliver them, and a random-weight checkpoint for when no trained one is at hand.

A benchmark of the live pipeline needs bodies that move like people (the tracker, the buffers and the
low-motion rule all look at the motion) without a sensor. `base_motion` takes one real sequence (any dataset
file `read_any` understands) or, without one, a procedural right-hand wave with a little sway and sensor
jitter. `SceneSource` places copies of it side by side, each `spacing` metres further along x and started at
another point of the motion, with distinct tracking ids, and plays the motion forth and back so it never
jumps. `SensorClock` puts any finite source on a sensor's schedule: frames go out when due at `speed` and a
consumer that falls `buffer` frames behind loses frames, counted in `dropped`, as a real sensor would.
"""
from __future__ import annotations

import math
import os
import threading
import time

import numpy as np

from kinact.core.frames import Body, Frame
from kinact.core.layouts import CANONICAL, to_canonical
from kinact.core.sources.base import EndOfStream, Source

FEATURES_BY_CHANNELS = {3: ["joint"], 6: ["joint", "velocity"], 9: ["joint", "bone", "velocity"]}


def _j(name: str) -> int:
    return CANONICAL.index(name)


def synthetic_motion(seconds: float = 4.0, fps: float = 30.0, seed: int = 0) -> np.ndarray:
    """(T, 20, 3) canonical metres: a person 2.5 m from the sensor waving the right hand, swaying a little."""
    from kinact.core.pipeline.fakes import pose

    rng = np.random.default_rng(seed)
    n = max(2, int(round(seconds * fps)))
    t = np.arange(n) / fps
    base = pose(0.0, 2.5)
    x = np.repeat(base[None], n, 0).astype(np.float64)
    # wave: the upper arm lifts to shoulder height and the forearm swings upright at 0.8 Hz, then both go down
    lift = 0.5 * (1 - np.cos(2 * np.pi * t / seconds))  # 0 → 1 → 0 over the motion: starts and ends still
    phi = np.pi * (1 - lift) + 0.6 * np.sin(2 * np.pi * 0.8 * t) * lift  # forearm angle from straight up
    elbow = base[_j("shoulder_right")] + np.stack([0.05 + 0.17 * lift, -0.25 * (1 - lift), 0 * t], -1)
    direction = np.stack([np.sin(phi), np.cos(phi), 0 * t], -1)
    x[:, _j("elbow_right")] = elbow
    x[:, _j("wrist_right")] = elbow + 0.25 * direction
    x[:, _j("hand_right")] = elbow + 0.32 * direction
    sway = 0.02 * np.sin(2 * np.pi * 0.3 * t)
    x[..., 0] += sway[:, None]
    x += rng.normal(scale=0.004, size=x.shape)  # Kinect-like jitter
    return x.astype(np.float32)


def sample_motion(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """(T, 20, 3) canonical metres of the first body of a dataset file, with untracked joints repaired, and its fps."""
    from kinact.core.datasets.detect import read_any
    from kinact.core.skeleton_norm import fill_untracked

    s = read_any(path)
    joints, conf = to_canonical(s.skeleton[0], s.layout, s.confidence[0])
    return fill_untracked(joints, conf).astype(np.float32), float(s.fps or 30.0)


def base_motion(sample: str | os.PathLike | None = None, fps: float = 30.0) -> np.ndarray:
    """The motion a scene is made of: a dataset file's first body, else `synthetic_motion`."""
    if sample is None:
        return synthetic_motion(fps=fps)
    motion, _ = sample_motion(sample)
    return motion


def pingpong(i: np.ndarray | int, n: int):
    """Index into n frames played forth then back (0 1 … n-1 n-2 … 1 0 1 …): a loop without a jump."""
    if n < 2:
        return np.zeros_like(i) if isinstance(i, np.ndarray) else 0
    k = np.asarray(i) % (2 * n - 2)
    out = np.where(k < n, k, 2 * n - 2 - k)
    return out if isinstance(i, np.ndarray) else int(out)


class SceneSource(Source):
    """`people` copies of `motion` side by side (x offsets `spacing` m apart, centred on the sensor's axis), each
    started `lag` frames further into the motion, tracking ids 1..people; frame i at t = i / fps. Endless unless
    `max_frames` is given. Not live and not self-paced: the runner paces it (speed 0: as fast as read)."""

    name = "scene"
    live = False
    paced = False
    layout = "kinect_v1"

    def __init__(self, motion: np.ndarray, people: int = 1, fps: float = 30.0, spacing: float = 0.8,
                 lag: int | None = None, max_frames: int | None = None):
        if people < 1:
            raise ValueError(f"people must be >= 1, got {people}")
        self.motion = np.asarray(motion, np.float32)
        self.people, self.fps, self.max_frames = int(people), float(fps), max_frames
        n = len(self.motion)
        self.lag = int(lag if lag is not None else max(1, (2 * n - 2) // max(2, people + 1)))
        centre = float(self.motion[:, _j("hip_center"), 0].mean())
        self.offsets = [np.array([(k - (people - 1) / 2) * spacing - centre, 0, 0], np.float32)
                        for k in range(people)]
        self._conf = np.ones(self.motion.shape[1], np.float32)
        self._i = 0

    def describe(self) -> str:
        return f"scene ({self.people} people)"

    def open(self) -> None:
        self._i = 0

    def frame(self, i: int) -> Frame:
        n = len(self.motion)
        bodies = [Body(k + 1, self.motion[pingpong(i + k * self.lag, n)] + self.offsets[k], self._conf)
                  for k in range(self.people)]
        return Frame(t=i / self.fps, bodies=bodies, index=i)

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self.max_frames is not None and self._i >= self.max_frames:
            raise EndOfStream
        self._i += 1
        return self.frame(self._i - 1)


class SensorClock(Source):
    """Delivers `inner`'s frames (read as fast as it gives them) on a sensor's schedule at `speed`.

    Frame k goes out when due, at anchor + (t_k - t_anchor) / speed. A sensor keeps only its newest `buffer`
    frames: a frame whose due time lies `buffer` nominal periods or more in the past when the consumer asks is
    lost and counted in `dropped` (these are capture drops: the pipeline did not read in time). Looks live to
    the runner (no pacing by it, no waiting for the model). `delivered` counts frames handed out.
    """

    name = "sensor-clock"
    live = True

    def __init__(self, inner: Source, speed: float = 1.0, buffer: int = 2, fps: float | None = None):
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.inner, self.speed, self.buffer = inner, float(speed), max(1, int(buffer))
        self._fps = fps
        self._pending: Frame | None = None
        self._anchor: tuple[float, float] | None = None
        self._stop = threading.Event()
        self.dropped = 0
        self.delivered = 0
        self.first_delivery: float | None = None
        self.last_delivery: float | None = None

    @property
    def layout(self) -> str:
        return getattr(self.inner, "layout", "kinect_v1")

    @property
    def fps(self) -> float:
        return float(self._fps or getattr(self.inner, "fps", 30.0) or 30.0)

    def describe(self) -> str:
        return f"{self.inner.describe()} at {self.speed:g}x"

    def open(self) -> None:
        self.inner.open()
        self._pending, self._anchor = None, None
        self._stop.clear()

    def close(self) -> None:
        self._stop.set()
        self.inner.close()

    def _next(self) -> Frame:
        while True:
            f = self.inner.read(timeout=0.1)
            if f is not None:
                return f

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self._pending is None:
            self._pending = self._next()
        now = time.monotonic()
        if self._anchor is None:
            self._anchor = (self._pending.t, now)
        period = 1.0 / (self.fps * self.speed)
        due = self._anchor[1] + (self._pending.t - self._anchor[0]) / self.speed
        while now - due >= self.buffer * period:  # newer frames have pushed this one out of the sensor's buffer
            self.dropped += 1
            self._pending = self._next()
            due = self._anchor[1] + (self._pending.t - self._anchor[0]) / self.speed
        if due > now:
            if due - now > timeout:
                self._stop.wait(timeout)
                return None
            self._stop.wait(due - now)
        frame, self._pending = self._pending, None
        self.delivered += 1
        now = time.monotonic()
        self.first_delivery = self.first_delivery or now
        self.last_delivery = now
        return frame


def random_checkpoint(path: str | os.PathLike, spec: dict, classes: list[str] | None = None,
                      features: list[str] | None = None, window_seconds: float = 2.0, seed: int = 0,
                      no_action: str | None = None) -> str:
    """Save a checkpoint of `spec` (a models.registry spec) with random weights and a plausible recipe: times
    like a trained one, predicts nonsense. Features follow in_channels (3 joint, 6 +velocity, 9 +bone+velocity);
    27 classes are named after UTD-MHAD's actions, 28 with `no_action` the same plus that class last."""
    import torch

    from kinact.core.checkpoint import CheckpointMeta, save_checkpoint
    from kinact.core.skeleton_norm import NormRecipe
    from kinact.models.registry import build_model

    spec = dict(spec)
    torch.manual_seed(seed)
    model = build_model(spec)
    k = int(getattr(model, "num_classes", spec.get("num_classes", 0)))
    if classes is None:
        from kinact.core.datasets.utd_mhad import CLASS_NAMES

        utd = list(CLASS_NAMES) + ([no_action] if no_action else [])
        classes = utd if k == len(utd) else [f"class_{i}" for i in range(k)]
    spec_in = model.input_spec.get("skeleton")
    if features is None and spec_in is not None:
        features = FEATURES_BY_CHANNELS.get(int(spec_in[1]))
        if features is None:
            raise ValueError(f"say which features make {spec_in[1]} input channels")
    frames = int(spec_in[2]) if spec_in is not None else 64
    meta = CheckpointMeta(model=spec, classes=list(classes), frames=frames, window_seconds=float(window_seconds),
                          norm=NormRecipe(frames=frames).to_dict(), features=list(features or []), no_action=no_action,
                          trained_on={"note": "random weights (benchmark only)"})
    save_checkpoint(path, model.state_dict(), meta)
    return os.fspath(path)


def percentile(xs, q: float) -> float:
    """q-th percentile (0-100) of a list, NaN when empty."""
    return float(np.percentile(np.asarray(xs, np.float64), q)) if len(xs) else math.nan
