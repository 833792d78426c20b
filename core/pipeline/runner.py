"""The real-time runner: a capture thread, an inference thread, and results published without ever stalling.

Shaped like MMAction2's webcam demo: capture never waits for inference. The capture thread reads the
source, tracks and buffers (`Engine.ingest`) and puts the due windows into a *latest request* slot of size
one; the inference thread takes whatever is in the slot. When the model is slower than the stride, a
waiting request is overwritten by a newer one and counted in `dropped_windows`: a queue would instead make
every result describe an ever older moment. A recorder gets frames through a bounded queue for the same
reason: a slow disk costs counted dropped frames, never a late frame.

The capture thread also prepares each request (`Engine.prepare`: normalisation, features, motion) before
putting it in the slot. That numpy work holds the GIL, the model call does not: done on the inference
thread it would sit in series with the model, done here it overlaps the model's run on the previous
request, and the inference thread is left with the model and the light event logic. Preparing costs the
capture thread a fraction of a millisecond per person per stride, and a request that is later overwritten
was prepared for nothing, which is cheap; depth descriptors (tens of milliseconds) stay on the inference
thread.

Pacing lives here, once: live sources are paced by the device; finite sources (`source.live` False) are
paced by their timestamps at `speed` unless they say they pace themselves (`source.paced = True`, e.g. a
replay with its own transport). Speed 0 means as fast as possible, and then capture waits for inference
instead of dropping windows: a file has no deadline, and its results should not depend on machine speed.
A lost sensor (SourceLost) is closed and reopened with exponential backoff; `stop()` returns within about a
second even then, because every wait in both threads is a short, interruptible one.
"""
from __future__ import annotations

import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kinact.core.errors import KinactError
from kinact.core.frames import Frame
from kinact.core.pipeline.engine import Engine, Output
from kinact.core.pipeline.tracker import TrackUpdate
from kinact.core.pipeline.worker import Prediction, Request
from kinact.core.sources.base import EndOfStream, Source, SourceLost
from kinact.core.sources.pacing import check_speed

STATES = ("connecting", "connected", "reconnecting", "replaying", "ended", "error")


@dataclass
class RunnerStatus:
    source: str
    state: str  # one of STATES
    capture_fps: float
    latency_ms: float  # median of recent inference steps
    dropped_windows: int  # person-windows overwritten before inference could take them
    dropped_recorder_frames: int
    frames_seen: int
    persons: int
    results: int = 0
    error: str = ""
    notice: str = ""  # what the source wants the user to know while it works (e.g. "depth only: no body tracker")


class _LatestSlot:
    """A one-item mailbox: `put` replaces what is there and says how many windows that discarded."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item: Request | None = None

    def put(self, item: Request, wait_until: threading.Event | None = None) -> int:
        """With `wait_until`, first wait for the slot to be empty (or the event to be set): lossless mode."""
        with self._cond:
            while wait_until is not None and self._item is not None and not wait_until.is_set():
                self._cond.wait(0.1)
            stale = len(self._item.windows) if self._item is not None else 0
            self._item = item
            self._cond.notify_all()
            return stale

    def take(self, timeout: float) -> Request | None:
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class Runner:
    """Runs one source through one Engine on two threads (three with a recorder)."""

    def __init__(self, source: Source, engine: Engine, *, speed: float = 1.0, recorder=None,
                 recorder_queue: int = 64, max_results: int = 512, backoff: tuple[float, float] = (0.5, 8.0),
                 read_timeout: float = 0.1, latency_window: int = 1000, max_gap: float = 1.0):
        self.source, self.engine = source, engine
        self.max_gap = max_gap
        self.set_speed(speed)
        self.recorder = recorder
        self.backoff = backoff
        self.read_timeout = read_timeout
        self.clock = engine.clock
        self._stop = threading.Event()
        self._eos = threading.Event()
        self._slot = _LatestSlot()
        self._lock = threading.Lock()
        self._published = threading.Condition(self._lock)
        self._results: deque[tuple[int, Output]] = deque(maxlen=max_results)
        self._seq = 0
        self._latest: Prediction | None = None
        self._latest_by_person: dict[int, Prediction] = {}
        self._callbacks: list[Callable[[Output], None]] = []
        self._rec_queue: queue.Queue | None = queue.Queue(recorder_queue) if recorder is not None else None
        self._arrivals: deque[float] = deque(maxlen=60)
        self._infer_ms: deque[float] = deque(maxlen=50)
        self._e2e_ms: deque[float] = deque(maxlen=latency_window)
        self._frame: tuple[Frame, TrackUpdate] | None = None
        self._state, self._error, self._notice = "connecting", "", ""
        self.dropped_windows = 0
        self.dropped_recorder_frames = 0
        self.callback_errors = 0
        self._threads: list[threading.Thread] = []
        self._infer_done = False
        self._writer: threading.Thread | None = None

    # -------------------------------------------------------------------------------------------- control
    def set_speed(self, speed: float) -> None:
        """Replay speed for finite sources: 0.25–8, or 0 for as fast as possible. Takes effect at the next frame."""
        self.speed = check_speed(speed)
        self._anchor = None  # (frame t, clock) pacing restarts from the next frame

    def start(self) -> "Runner":
        if self._threads:
            raise RuntimeError("runner already started")
        self._threads = [threading.Thread(target=self._capture_loop, name="kinact-capture", daemon=True),
                         threading.Thread(target=self._inference_loop, name="kinact-inference", daemon=True)]
        if self.recorder is not None:
            self._writer = threading.Thread(target=self._writer_loop, name="kinact-recorder", daemon=True)
            self._writer.start()
        for th in self._threads:
            th.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Stop capture and inference; returns within about `timeout` s even if the source hangs (the threads are
        daemons). The recorder thread goes on writing what is already queued, then closes the recorder; wait for
        that with `wait_recorder`."""
        self._stop.set()
        self._slot.wake()
        with self._lock:
            self._published.notify_all()
        deadline = time.monotonic() + timeout
        for th in self._threads:
            th.join(max(0.0, deadline - time.monotonic()))
        if self._state not in ("ended", "error"):
            self._set_state("ended")

    def wait_recorder(self, timeout: float | None = None) -> bool:
        """True once the recorder has written its queue and been closed (or there is none)."""
        if self._writer is not None:
            self._writer.join(timeout)
            return not self._writer.is_alive()
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a finite source to be fully processed; True when both threads have finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for th in self._threads:
            th.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(th.is_alive() for th in self._threads)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------------------------------- outputs
    def on_result(self, callback: Callable[[Output], None]) -> None:
        """Called on the inference thread with every Prediction and ActionEvent; keep it short."""
        self._callbacks.append(callback)

    def latest(self, person: int | None = None) -> Prediction | None:
        with self._lock:
            return self._latest if person is None else self._latest_by_person.get(person)

    def latest_frame(self) -> tuple[Frame, TrackUpdate] | None:
        """The newest frame and who is who in it (for drawing)."""
        return self._frame

    def results(self, timeout: float | None = None) -> Iterator[Output]:
        """Everything published from now on (and what the bounded history still holds), until the runner has
        finished or nothing new came for `timeout` s. Items a slow reader let fall off the history are skipped."""
        seen = 0
        while True:
            with self._lock:
                fresh = [item for seq, item in self._results if seq > seen]
                if not fresh:
                    if self._finished():
                        return
                    if not self._published.wait(timeout if timeout is not None else 0.5) and timeout is not None:
                        return
                    continue
                seen = self._seq
            yield from fresh

    def latency(self) -> dict[str, float]:
        """Frame-arrival to publication, in ms, over recent predictions: what `kinact bench latency` reports."""
        with self._lock:
            xs = sorted(self._e2e_ms)
        if not xs:
            return {"count": 0, "p50": float("nan"), "p95": float("nan")}
        pick = lambda q: xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]  # noqa: E731
        return {"count": len(xs), "p50": pick(0.5), "p95": pick(0.95)}

    def latency_samples(self) -> list[float]:
        """The recent frame-to-result latencies themselves (ms), oldest first."""
        with self._lock:
            return list(self._e2e_ms)

    def status(self) -> RunnerStatus:
        with self._lock:
            arrivals = list(self._arrivals)
            infer = list(self._infer_ms)
            results = self._seq
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        fps = (len(arrivals) - 1) / span if span > 0 else 0.0
        frame = self._frame
        return RunnerStatus(
            source=self.source.describe(), state=self._state, capture_fps=fps,
            latency_ms=statistics.median(infer) if infer else 0.0, dropped_windows=self.dropped_windows,
            dropped_recorder_frames=self.dropped_recorder_frames, frames_seen=self.engine.frames_seen,
            persons=len(frame[1].bodies) if frame else 0, results=results, error=self._error,
            notice=self._notice)

    # ----------------------------------------------------------------------------------------- internals
    def _finished(self) -> bool:
        return self._infer_done

    def _set_state(self, state: str, error: str | None = None) -> None:
        self._state = state
        if error is not None:
            self._error = error

    def _publish(self, items: list[Output]) -> None:
        if not items:
            return
        with self._lock:
            now = self.clock()
            for item in items:
                if isinstance(item, Prediction):
                    item.t_published = now  # published means now, not when the engine finished
                self._seq += 1
                self._results.append((self._seq, item))
                if isinstance(item, Prediction):
                    self._latest = item
                    self._latest_by_person[item.person] = item
                    self._e2e_ms.append(item.frame_to_result_ms)
            self._published.notify_all()
        for item in items:
            for cb in list(self._callbacks):
                try:
                    cb(item)
                except Exception:  # a broken display must not stop recognition
                    self.callback_errors += 1

    def _capture_loop(self) -> None:
        delay = self.backoff[0]
        live = getattr(self.source, "live", True)
        connected_once = False
        try:
            while not self._stop.is_set():
                try:
                    self.source.open()
                except KinactError as exc:  # SourceLost included
                    if not live and not isinstance(exc, SourceLost):  # a bad file will not get better by retrying
                        self._set_state("error", str(exc))
                        return
                    self._set_state("reconnecting" if connected_once else "connecting", str(exc))
                else:
                    self.engine.layout = getattr(self.source, "layout", self.engine.layout)
                    self._notice = str(getattr(self.source, "notice", "") or "")
                    self._set_state("connected" if live else "replaying", "")
                    delay, connected_once = self.backoff[0], True
                    try:
                        self._read_until_stopped(live)
                        return
                    except SourceLost as exc:
                        self._set_state("reconnecting", str(exc))
                self._safe_close()
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
        except EndOfStream:
            self._set_state("ended")
        except Exception as exc:  # a bug in a source or the engine, or a layout mismatch: say so, do not retry
            self._set_state("error", f"{type(exc).__name__}: {exc}")
        finally:
            self._eos.set()
            self._slot.wake()
            self._safe_close()

    def _read_until_stopped(self, live: bool) -> None:
        paced_by_us = not live and not getattr(self.source, "paced", False)
        while not self._stop.is_set():
            frame = self.source.read(timeout=self.read_timeout)
            if frame is None:
                continue
            if paced_by_us and self.speed > 0 and not self._pace(frame.t):
                return
            now = self.clock()
            ing = self.engine.ingest(frame, now)
            self._frame = (frame, ing.tracked)
            with self._lock:
                self._arrivals.append(now)
            self._publish(ing.events)
            if ing.request is not None:
                try:
                    self.engine.prepare(ing.request)  # overlaps the model's run on the previous request
                except Exception:  # left unprepared: the inference thread meets the error and reports it
                    pass
                # a file replayed as fast as possible can wait for the model (nothing is lost by waiting, and
                # results do not depend on machine speed); a sensor or a paced replay cannot
                lossless = not live and self.speed == 0
                stale = self._slot.put(ing.request, self._stop if lossless else None)
                if stale:
                    self.dropped_windows += stale
            if self._rec_queue is not None:
                try:
                    self._rec_queue.put_nowait(frame)
                except queue.Full:
                    self.dropped_recorder_frames += 1

    def _pace(self, t: float) -> bool:
        """Sleep until frame time `t` is due at the current speed; False if stopped meanwhile."""
        now = time.monotonic()
        if self._anchor is None or t < self._anchor[0]:
            self._anchor = (t, now)
            return True
        due = self._anchor[1] + (t - self._anchor[0]) / self.speed
        if abs(due - now) > self.max_gap:
            # a gap in the recording (do not sit in silence for it), or we fell behind (a slow machine, a
            # source that paused): restart the clock here rather than sprint through frames to catch up.
            # The same rule as pacing.Transport, so a file behaves alike whoever paces it.
            self._anchor = (t, now)
            return True
        return not self._stop.wait(due - now) if due > now else True

    def _inference_loop(self) -> None:
        try:
            self._infer_until_done()
        finally:
            with self._lock:  # wake `results()` readers: nothing more will come
                self._infer_done = True
                self._published.notify_all()

    def _infer_until_done(self) -> None:
        while not self._stop.is_set():
            req = self._slot.take(timeout=0.1)
            if req is None:
                if self._eos.is_set():
                    req = self._slot.take(timeout=0.0)  # the last request may have landed just before the end
                    if req is None:
                        break
                else:
                    continue
            try:
                t0 = self.clock()
                items = self.engine.infer(req)
                with self._lock:  # the whole step, the part done ahead on the capture thread included
                    self._infer_ms.append(req.prepare_ms + (self.clock() - t0) * 1000.0)
            except Exception as exc:  # a failing model: report and keep capturing; the next window may work
                self._error = f"inference failed: {type(exc).__name__}: {exc}"
                continue
            self._publish(items)
        if self._eos.is_set() and not self._stop.is_set():
            self._publish(list(self.engine.finish()))

    def _writer_loop(self) -> None:
        q = self._rec_queue
        try:
            while True:
                try:
                    frame = q.get(timeout=0.1)
                except queue.Empty:
                    if self._stop.is_set() or self._eos.is_set():
                        break
                    continue
                self.recorder.write_frame(frame)
        except Exception as exc:
            self._error = f"recorder failed: {type(exc).__name__}: {exc}"
        finally:
            try:
                self.recorder.close()
            except Exception as exc:
                self._error = f"recorder close failed: {exc}"

    def _safe_close(self) -> None:
        try:
            self.source.close()
        except Exception:
            pass
