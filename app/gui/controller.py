"""The glue between the window and the pipeline, with no widgets: it owns the Runner and everything slow.

Rules it keeps so the window never freezes: capture, inference and recording run on the Runner's threads;
opening sources, stopping runners, loading checkpoints and rewriting files run on two single-thread
executors (one for the runner's life cycle, one for file work, so a slow ONNX export never delays a seek);
their results come back by the GUI timer calling `poll_tasks`, which runs each task's continuation on the
GUI thread. Nothing is emitted from a worker thread: results go into a deque the timer drains, and the
newest frame is read with `runner.latest_frame()`, so drawing follows the display, not the model.

Transport requests go straight to the source's own thread-safe transport; a seek also asks the capture
thread (through `SourceProxy`) to reset the engine before its next frame, because tracks, buffers and
smoothing from another moment would otherwise bleed into the new one.

The engine runs with the model's own post-processing settings (`pipeline.live_settings.live_options`); the
user's event thresholds replace the model's only once the user has set them (`thresholds`, {} until then).
"""
from __future__ import annotations

import math
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from kinact.app.gui.recorder_tap import RecorderTap
from kinact.app.gui.runner_parts import NoModel, SourceProxy, check_mappable
from kinact.core.errors import KinactError


class Controller:
    """Owns source, engine, runner and model; every public method is for the GUI thread and returns at once."""

    def __init__(self, *, backend: str = "auto", stride: int | None = None, thresholds: dict | None = None,
                 mode: str = "all", speed: float = 1.0, loop: bool = False):
        self.backend, self.stride, self.loop = backend, stride, loop  # stride None: the model's
        self.thresholds = dict(thresholds or {})  # the user's enter/exit/alpha; {}: the model's
        self.mode, self.speed = mode, speed
        self._life = ThreadPoolExecutor(1, "kinact-gui-life")
        self._io = ThreadPoolExecutor(1, "kinact-gui-io")
        self._tasks: list[tuple[Future, object]] = []
        self.messages: deque[tuple[str, str]] = deque()  # (level, text), any thread appends
        self.results: deque = deque(maxlen=4096)  # (run id, Prediction | ActionEvent)
        self.run_id = 0  # one per open(): results of a runner being replaced are not shown
        self.generation = 0  # bumped by a new runner or a seek: what the views hold is from another moment
        self.spec = ""
        self.runner = self.proxy = None
        self.tap: RecorderTap | None = None
        self.model, self.model_path, self.model_loading = None, "", False
        self._last_transport: dict | None = None
        self.failed = False  # the last open() failed before a runner existed

    # ------------------------------------------------------------------------------------------- tasks
    def _submit(self, pool: ThreadPoolExecutor, fn, on_done=None) -> Future:
        fut = pool.submit(fn)
        self._tasks.append((fut, on_done))
        return fut

    def poll_tasks(self) -> None:
        """Run the continuations of finished background work, here on the GUI thread."""
        done = [(f, cb) for f, cb in self._tasks if f.done()]
        if not done:
            return
        self._tasks = [(f, cb) for f, cb in self._tasks if not f.done()]
        for fut, cb in done:
            exc = fut.exception()
            try:
                if cb is not None:
                    cb(fut.result() if exc is None else None, exc)
                elif exc is not None:
                    self.error(str(exc))
            except Exception as bug:  # one broken continuation must not cost the others
                self.error(f"internal error: {type(bug).__name__}: {bug}")

    @property
    def busy(self) -> bool:
        return any(not f.done() for f, _ in self._tasks)

    def error(self, text: str) -> None:
        self.messages.append(("error", text))

    # ---------------------------------------------------------------------------------------- sources
    def open(self, spec: str, start: float = 0.0, paused: bool = False) -> None:
        """Stop what runs and start `spec` (from `start` s, paused or not) in the background; failures to open
        the file or device arrive as the runner's error state, i.e. in the banner."""
        old, self.runner, self.proxy, self.tap, self.failed = self.runner, None, None, None, False
        self.spec, self.generation, self.run_id = spec, self.generation + 1, self.run_id + 1
        if self._last_transport is not None:  # shown until the new source has opened
            self._last_transport.update(position=start, paused=paused, ended=False)
        run_id, model, opts = self.run_id, self.model, self._source_options(spec, start)

        def work():
            from kinact.core.pipeline.runner import Runner
            from kinact.core.sources.registry import open_source

            if old is not None:
                old.stop()
                old.wait_recorder(10.0)
            source = open_source(spec, **opts)
            proxy = SourceProxy(source, self._engine(model), paused)
            tap = RecorderTap(self.messages)  # its news outlives it: a runner replaced mid-recording
            runner = Runner(proxy, proxy.engine, speed=self.speed if not getattr(source, "paced", False) and
                            not source.live else 1.0, recorder=tap)
            runner.on_result(lambda item: self.results.append((run_id, item)))
            return proxy, tap, runner

        def done(result, exc):
            if exc is not None:
                self.error(f"cannot open {spec}: {exc}")
                self.failed = True
                return
            proxy, tap, runner = result
            if run_id != self.run_id or self.runner is not None:  # superseded by a newer open
                self._life.submit(runner.stop)
                return
            self.proxy, self.tap, self.runner = proxy, tap, runner.start()

        self._submit(self._life, work, done)

    def _source_options(self, spec: str, start: float) -> dict:
        from kinact.core.sources.registry import parse_spec

        try:
            name, _ = parse_spec(spec)
        except KinactError:
            return {}
        return {"speed": self.speed, "loop": self.loop, "start": start} if name in ("replay", "dataset") else {}

    def engine_options(self, model) -> dict:
        """Engine keywords for `model` (None: none loaded): its live settings, then this window's stride (if
        set), mode and the user's thresholds (if set)."""
        from kinact.core.pipeline.live_settings import live_options

        kw = live_options(getattr(model, "meta", None))
        if self.stride is not None:
            kw["stride"] = self.stride
        return {**kw, "mode": self.mode, **self.thresholds}

    def thresholds_in_use(self) -> dict[str, float]:
        """enter/exit/alpha the engine runs with for the loaded model: the user's, else the model's."""
        from kinact.core.pipeline.events import EventConfig

        kw, plain = self.engine_options(self.model), EventConfig()
        return {k: float(kw.get(k, getattr(plain, k))) for k in ("enter", "exit", "alpha")}

    def _engine(self, model):
        from kinact.core.pipeline.engine import Engine

        kw = self.engine_options(model)
        return Engine(NoModel(), min_coverage=math.inf, **kw) if model is None else Engine(model, **kw)

    def restart(self, paused: bool | None = None) -> None:
        """The same source again where it was (a new model), or from the start if it had ended."""
        info = self.transport() or {}
        paused = bool(info.get("paused")) if paused is None else paused
        self.open(self.spec, 0.0 if info.get("ended") else info.get("position", 0.0), paused)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Blocking: the window is closing, and a recording must be finished before the process ends."""
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.stop()
            runner.wait_recorder(timeout)
        self._life.shutdown(wait=True)
        self._io.shutdown(wait=True)

    # ----------------------------------------------------------------------------------------- models
    def load_model(self, path: str, on_done=None) -> None:
        """Read, check and load a checkpoint off the GUI thread; on success the runner restarts with it."""
        self.model_loading = True
        backend = self.backend

        def work():
            from kinact.core.checkpoint import read_meta
            from kinact.core.inference import Predictor

            check_mappable(read_meta(path), path)
            return Predictor.load(path, backend=backend)

        def done(predictor, exc):
            self.model_loading = False
            if exc is not None:
                self.error(f"model refused: {exc}")
            else:
                self.model, self.model_path = predictor, os.fspath(path)
                if self.spec:
                    self.restart()
            if on_done is not None:
                on_done(predictor, exc)

        self._submit(self._io, work, done)

    def set_thresholds(self, enter: float, exit: float, alpha: float) -> None:
        """The user's thresholds: they replace the model's, for this and every later model, until reset."""
        exit = min(exit, enter)
        self.thresholds = {"enter": enter, "exit": exit, "alpha": alpha}
        engine = self.proxy.engine if self.proxy is not None else None
        if engine is None:
            return
        engine.set_thresholds(enter=enter, exit=exit, alpha=alpha)

    def reset_thresholds(self) -> dict[str, float]:
        """Forget the user's thresholds: back to the model's, which are returned (and applied live)."""
        self.thresholds = {}
        t = self.thresholds_in_use()
        engine = self.proxy.engine if self.proxy is not None else None
        if engine is not None:
            engine.set_thresholds(**t)
        return t

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        engine = self.proxy.engine if self.proxy is not None else None
        if engine is None:
            return
        engine.set_mode(mode)

    # -------------------------------------------------------------------------------------- transport
    @property
    def state(self) -> str:
        return self.runner.status().state if self.runner is not None else "connecting"

    def transport(self) -> dict | None:
        """Position, duration, paused, speed of a seekable source; the last known values once it has closed."""
        from kinact.core.sources.pacing import PlaybackSource

        p = self.proxy
        if p is None or not isinstance(p.inner, PlaybackSource):
            return None
        if p.is_open:
            try:
                self._last_transport = {"position": p.inner.position, "duration": p.inner.duration,
                                        "paused": p.inner.paused, "speed": p.inner.speed, "fps": p.inner.fps,
                                        "ended": False}
            except KinactError:  # closed between the check and the read
                pass
        elif self._last_transport is not None and self.runner is not None and self.runner.join(0.0):
            self._last_transport["ended"] = True
        return self._last_transport

    def toggle_play(self) -> None:
        info = self.transport()
        if info is None:
            return
        if info["ended"]:
            self.restart(paused=False)
        elif info["paused"]:
            self.proxy.inner.resume()
        else:
            self.proxy.inner.pause()

    def seek(self, t: float) -> None:
        info = self.transport()
        if info is None:
            return
        t = min(max(0.0, float(t)), info["duration"])
        if info["ended"]:
            self.open(self.spec, t, paused=True)
            return
        self.proxy.reset_pending = True
        self.generation += 1
        try:
            self.proxy.inner.seek(t)
            if info["paused"]:
                self.proxy.inner.step(1)  # paused: show the frame we landed on
        except KinactError as exc:
            self.error(str(exc))

    def step(self, n: int) -> None:
        """n frames forward (pausing), or |n| back: a seek to just before the earlier frame and one step."""
        info = self.transport()
        if info is None or info["ended"]:
            return
        if n > 0:
            self.proxy.inner.step(int(n))
        else:
            self.proxy.inner.pause()
            self.seek(info["position"] - (abs(n) + 0.5) / (info["fps"] or 30.0))

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        p = self.proxy
        if p is None:
            return
        try:
            if getattr(p.inner, "paced", False):
                p.inner.set_speed(speed)
            elif not p.inner.live and self.runner is not None:
                self.runner.set_speed(speed)
        except KinactError as exc:
            self.error(str(exc))

    def current_time(self) -> float | None:
        """The frames' clock at the newest frame."""
        latest = self.runner.latest_frame() if self.runner is not None else None
        return float(latest[0].t) if latest else None

    # -------------------------------------------------------------------------------------- recording
    def start_recording(self, folder: str | os.PathLike) -> str | None:
        if self.tap is None or self.proxy is None or not self.proxy.is_open:
            self.error("nothing to record yet: the source is not open")
            return None
        path = os.path.join(os.fspath(folder), time.strftime("%Y-%m-%d_%H-%M-%S") + ".kinrec")
        tap, source = self.tap, self.proxy.inner
        self._submit(self._io, lambda: tap.begin(path, source))
        return path

    def stop_recording(self) -> None:
        if self.tap is not None:
            self._submit(self._io, self.tap.finish)

    def submit_io(self, fn, on_done=None) -> Future:
        """Other file work of the window (saving labels): same worker, same continuation rules."""
        return self._submit(self._io, fn, on_done)
