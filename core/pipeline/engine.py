"""The synchronous heart of the pipeline: frame in → tracking, buffering and, every `stride` frames, one batched
inference and the event logic → predictions and events out.

Kept synchronous and deterministic on purpose: streaming evaluation, tests and benchmarks feed it frames
and get the same answer every time. The threaded runner uses the same object split in two halves:
`ingest` (cheap, on the capture thread: canonical mapping, tracking, buffering, cutting windows) and
`infer` (expensive, on the inference thread: the model and the events). `feed` is simply both in a row.
The only state both threads touch is the event detector and the set of live persons, behind one lock
that is never held while the model runs.

Between the halves sits `prepare` (normalisation, features and motion energy of each cut window): numpy
work that holds the GIL, unlike the model call. The runner calls it on the capture thread right after
`ingest`, so that while the inference thread waits on the model (GIL released) the next request is made
ready beside it; the inference thread then does little but the model. `infer` prepares whatever was not,
so `feed` (which never calls `prepare` itself) computes exactly the same thing in the same order.

`infer` is itself the model (`worker.run`) followed by `decide`, and `step` is everything a frame does
after tracking and the model. Tuning the event settings replays cached model scores through `step`
(`training.stream_tune`), so a sweep runs this very code rather than a copy that could drift from it.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kinact.core.frames import Body, Frame
from kinact.core.layouts import to_canonical
from kinact.core.pipeline.buffer import BodyBuffer, DepthRing
from kinact.core.pipeline.events import ActionEvent, EventConfig, EventDetector
from kinact.core.pipeline.tracker import Tracker, TrackUpdate
from kinact.core.pipeline.worker import (
    MOTION_MIN_CONFIDENCE, DepthFn, InferenceWorker, PersonWindow, Prediction, Request,
)

Output = Prediction | ActionEvent


@dataclass
class Ingest:
    """What `ingest` made of one frame: who is where, a due inference request (or None) and any events that
    ended because people left."""

    tracked: TrackUpdate
    request: Request | None = None
    events: list[ActionEvent] = field(default_factory=list)


def _replace(p: Prediction, **changes) -> Prediction:
    """`dataclasses.replace(p, **changes)` for a Prediction (a plain dataclass: every field in `__init__`, no
    `__post_init__`), without replace's Python loop over the fields: it ran for every person at every window."""
    q = object.__new__(Prediction)
    q.__dict__.update(p.__dict__, **changes)
    return q


class Engine:
    """Tracking + buffering + inference + events for one stream. See the module docstring.

    model: anything with `meta`, `classes` and `predict_skeleton` (or `predict` for depth), e.g. a Predictor.
    stride: frames between inferences. window_seconds: None takes the checkpoint's. mode: "all" classifies
    everyone, "primary" only the primary user (chosen by `primary`: "closest" or "central"); everyone is
    still tracked. min_frames: frames a change of action must hold (rounded up to whole strides; default
    two strides); end_frames: the same for an action ending (default: min_frames). fast_enter,
    no_action_margin, min_duration: see `events.EventConfig` (all off by default). vanish_seconds: how long
    a person may be unseen before their running action ends. min_coverage: fraction of the window a person must have been seen for before being classified, so
    that a person who just walked in is not judged on a tenth of a second stretched to a whole window.
    """

    def __init__(self, model, *, stride: int = 3, window_seconds: float | None = None, mode: str = "all",
                 primary: str = "closest", layout: str = "kinect_v1", enter: float = 0.6, exit: float = 0.4,
                 min_frames: int | None = None, smoothing: str = "ema", alpha: float = 0.5, smooth_windows: int = 4,
                 motion_threshold: float = 0.0, end_frames: int | None = None, fast_enter: float | None = None,
                 no_action_margin: float = 0.0, min_duration: float = 0.0, min_joints: int = 12,
                 relink_seconds: float = 3.0, vanish_seconds: float = 0.5, min_coverage: float = 0.5,
                 trust_ids: bool = True,
                 depth_fn: DepthFn | None = None, depth_fps: float = 30.0, max_fps: float = 120.0,
                 tracker: Tracker | None = None, clock: Callable[[], float] = time.perf_counter):
        if mode not in ("all", "primary"):
            raise ValueError(f"mode must be 'all' or 'primary', got {mode!r}")
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.model = model
        self.meta = model.meta
        self.classes = list(getattr(model, "classes", None) or self.meta.classes)
        self.stride = int(stride)
        self.window_seconds = float(window_seconds or self.meta.window_seconds)
        self.mode = mode
        self._primary = primary
        self.layout = layout
        self.vanish_seconds = vanish_seconds
        self.min_coverage = min_coverage
        self.clock = clock
        self.worker = InferenceWorker(model, depth_fn=depth_fn, clock=clock)
        self.tracker = tracker or Tracker(relink_seconds=relink_seconds, min_joints=min_joints, trust_ids=trust_ids,
                                          primary=primary if mode == "primary" else None)
        updates = 2 if min_frames is None else max(1, math.ceil(min_frames / self.stride))
        end_updates = None if end_frames is None else max(1, math.ceil(end_frames / self.stride))
        self.events = EventDetector(self.classes, EventConfig(
            enter=enter, exit=exit, min_updates=updates, smoothing=smoothing, alpha=alpha, window=smooth_windows,
            motion_threshold=motion_threshold, no_action=self.meta.no_action, fast_enter=fast_enter,
            end_updates=end_updates, no_action_margin=no_action_margin, min_duration=min_duration))
        self._capacity = max(8, int(math.ceil(self.window_seconds * max_fps)))
        depth_cap = int(math.ceil(self.window_seconds * depth_fps * 1.25)) + 2
        self.depth = DepthRing(depth_cap) if self.worker.needs_depth else None
        self.buffers: dict[int, BodyBuffer] = {}
        self._lock = threading.Lock()
        self._alive: set[int] = set()  # persons the tracker still knows and whose actions have not ended
        self._last_seen: dict[int, float] = {}
        self.frames_seen = 0
        self.last_t: float | None = None
        self.last_update: TrackUpdate | None = None

    # ------------------------------------------------------------------------------------------ capture half
    def ingest(self, frame: Frame, t_arrival: float | None = None) -> Ingest:
        """Track and buffer one frame; every `stride` frames also cut the due windows into a Request."""
        t_arrival = self.clock() if t_arrival is None else t_arrival
        t = float(frame.t)
        bodies = [Body(b.id, *to_canonical(b.joints, self.layout, b.confidence)) for b in frame.bodies]
        upd = self.tracker.update(t, bodies)
        for tb, raw in zip(upd.bodies, frame.bodies):
            tb.body = raw  # drawing wants the source's own layout
        self.last_update, self.last_t = upd, t
        self.frames_seen += 1
        events = self._track_presence(t, upd)

        # The tracker has checked every body's joints; if at least as strictly as motion energy and normalisation
        # check a window, the buffers keep its verdict and a window's check is a look at its samples' flags.
        strict = getattr(self.tracker, "min_confidence", 0.0) >= MOTION_MIN_CONFIDENCE
        for tb in upd.bodies:
            buf = self.buffers.get(tb.person)
            if buf is None:
                buf = self.buffers[tb.person] = BodyBuffer(self._capacity)
            buf.append(t, tb.joints, tb.confidence, strict and tb.usable_joints == len(tb.confidence))
        if self.depth is not None and frame.depth is not None:
            self.depth.append(t, frame.depth)

        request = None
        if self.due():
            windows = []
            for tb in upd.bodies:
                if self.mode == "primary" and not tb.primary:
                    continue
                win = self.buffers[tb.person].window(self.window_seconds, now=t)
                if len(win) >= 2 and win.span >= self.min_coverage * self.window_seconds:
                    windows.append(PersonWindow(tb.person, win, tb.classifiable))
            if windows:
                depth = self.depth.window(self.window_seconds, now=t)[1] if self.depth is not None else None
                request = Request(t, t_arrival, windows, depth, frame.index)
        return Ingest(upd, request, events)

    def prepare(self, request: Request) -> Request:
        """Do the per-window work of `infer` ahead of it (see the module docstring); optional, idempotent."""
        return self.worker.prepare(request)

    def due(self) -> bool:
        """Whether the frame just counted in `frames_seen` is an inference frame (every `stride`-th)."""
        return self.frames_seen % self.stride == 0

    def _track_presence(self, t: float, upd: TrackUpdate) -> list[ActionEvent]:
        """End the actions of people gone for `vanish_seconds` and forget people the tracker dropped."""
        events = []
        with self._lock:
            for p in upd.dropped:
                self.buffers.pop(p, None)
                events += self.events.vanish(p, self._last_seen.pop(p, t))
                self._alive.discard(p)
            for tb in upd.bodies:
                self._last_seen[tb.person] = t
                self._alive.add(tb.person)
            for p in list(self._alive):
                seen = self._last_seen.get(p, t)
                if t - seen >= self.vanish_seconds:
                    events += self.events.vanish(p, seen)
                    self._alive.discard(p)
        return events

    # ---------------------------------------------------------------------------------------- inference half
    def infer(self, request: Request) -> list[Output]:
        """Run the model once for the request's windows (preparing those not yet prepared), then
        smoothing/hysteresis per person."""
        return self.decide(self.worker.run(request, labels=False))  # decide replaces the raw labels

    def decide(self, raw: list[Prediction]) -> list[Output]:
        """The worker's raw predictions → smoothed, hysteresis-filtered predictions and events."""
        out: list[Output] = []
        with self._lock:
            for p in raw:
                if p.person not in self._alive:  # left while this (late) window was being classified
                    continue
                d = self.events.update(p.person, p.t_frame, p.probs if p.classifiable else None, p.motion)
                out += d.events
                out.append(_replace(p, label=d.label, confidence=d.confidence, top5=d.top5 or p.top5, state=d.state,
                                    t_published=self.clock()))
        return out

    def feed(self, frame: Frame, t_arrival: float | None = None) -> list[Output]:
        """Both halves inline: what streaming evaluation and tests use."""
        ing = self.ingest(frame, t_arrival)
        out: list[Output] = list(ing.events)
        if ing.request is not None:
            out += self.infer(ing.request)
        return out

    def step(self, t: float, update: TrackUpdate, raw: list[Prediction] | None = None) -> list[Output]:
        """One frame after tracking and the model, given their results: what `ingest` + `infer` do with them
        (presence, inference cadence, events). For replaying cached model scores; live frames use `feed`."""
        self.last_update, self.last_t = update, float(t)
        self.frames_seen += 1
        out: list[Output] = list(self._track_presence(float(t), update))
        if raw and self.due():
            out += self.decide(raw)
        return out

    def finish(self, t: float | None = None) -> list[ActionEvent]:
        """End of stream: close every running action (at the last frame's time unless `t` is given)."""
        t = self.last_t if t is None else t
        with self._lock:
            self._alive.clear()
            return self.events.finish(0.0 if t is None else t)

    def reset(self) -> None:
        """Forget everyone (a new stream, or a seek): buffers, tracks and smoothing; running actions are dropped
        without events, so call `finish` first to close them."""
        with self._lock:
            self.tracker.reset()
            self.buffers.clear()
            if self.depth is not None:
                self.depth.clear()
            self.events = EventDetector(self.classes, self.events.config)
            self._alive.clear()
            self._last_seen.clear()
            self.last_update, self.last_t = None, None

    def set_thresholds(self, *, enter: float | None = None, exit: float | None = None,
                       alpha: float | None = None) -> None:
        """Change the event thresholds live (the app's sliders); takes effect at the next window."""
        changes = {k: v for k, v in (("enter", enter), ("exit", exit), ("alpha", alpha)) if v is not None}
        with self._lock:
            self.events.config = dataclasses.replace(self.events.config, **changes)

    def set_mode(self, mode: str) -> None:
        """Switch between classifying everyone and only the primary user, without losing anyone's history."""
        if mode not in ("all", "primary"):
            raise ValueError(f"mode must be 'all' or 'primary', got {mode!r}")
        with self._lock:
            self.tracker.primary_mode = self._primary if mode == "primary" else None
            self.mode = mode

    @property
    def persons(self) -> list[int]:
        """Persons visible in the latest frame."""
        return [tb.person for tb in self.last_update.bodies] if self.last_update else []
