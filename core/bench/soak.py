"""Soak test: hours of replay through the threaded runner in minutes of wall time, watching memory and drops.

A live recogniser runs for a whole session, so anything that grows per frame (a list nobody trims, a cache
without a bound, a person table that never forgets) shows up only after hours. The soak replays a looping
source at `speed` (default 10×: 30 minutes of wall time is five hours of stream) through the real `Runner`
and samples the process's resident memory every few seconds from /proc/self/statm (psutil is not a
dependency). After a warm-up (imports, ONNX Runtime arenas and the first windows allocate for real), the
resident set should stay flat: growth is reported in % and as a slope in MB per hour of wall time.

The source is put on a sensor's clock (`scene.SensorClock`), which is what allows speeds above the runner's
8× cap and what makes "the pipeline did not keep up" measurable: frames the capture thread read too late are
lost and counted, like a real sensor would lose them. Together with the recorder's dropped frames (with
`record=True`, a temporary .kinrec is written and deleted) these are the drops attributable to the pipeline;
dropped windows are inference steps overwritten because the model was busy (by design, never a backlog).

    from kinact.core.bench.soak import run_soak
    report = run_soak("runs/utd/model.safetensors", minutes=30, speed=10)
"""
from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable

import numpy as np

from kinact.core.bench.scene import SceneSource, SensorClock, base_motion

__all__ = ["run_soak", "rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size of this process now: /proc/self/statm, else the peak from getrusage (Linux: KiB)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if os.uname().sysname == "Darwin" else 1024)


def _source(source, speed: float, people: int, sample, fps: float):
    """(what the runner reads, the SensorClock or None) for a spec, a Source or None (a scene of `people`)."""
    from kinact.core.sources.registry import open_source, parse_spec

    if source is None:
        inner = SceneSource(base_motion(sample, fps), people, fps)
    elif isinstance(source, str):
        name, _ = parse_spec(source)
        inner = open_source(source, speed=0, loop=True) if name in ("replay", "dataset") else open_source(source)
    else:
        inner = source
    if getattr(inner, "live", True):  # a sensor, or a synthetic source on its own clock: not ours to pace
        return inner, None
    clock = SensorClock(inner, speed=speed)
    return clock, clock


def run_soak(ckpt, minutes: float = 30.0, speed: float = 10.0, source=None, backend: str = "auto", stride: int = 3,
             people: int = 2, sample=None, sample_every: float = 5.0, warmup_seconds: float | None = None,
             record: bool = False, threads: int | None = None, fps: float = 30.0,
             progress: Callable[[dict], None] | None = None) -> dict:
    """Replay `source` (looping) at `speed` through the threaded runner for `minutes` of wall time.

    source: None (a scene of `people` copies of `sample`'s motion or of a procedural wave), a source spec
    ("replay:FILE", "dataset:FILE", a path, "synthetic") or a Source. warmup_seconds: memory growth is measured
    from then on (default min(60 s, a quarter of the run)). progress: called with each memory sample.
    Returns a JSON-serialisable dict (see the keys of the result).
    """
    from kinact.core.inference import Predictor
    from kinact.core.pipeline.engine import Engine
    from kinact.core.pipeline.live_settings import live_options
    from kinact.core.pipeline.runner import Runner

    duration = float(minutes) * 60.0
    if duration <= 0 or speed <= 0 or sample_every <= 0:
        raise ValueError("minutes, speed and sample_every must be positive")
    warmup = min(60.0, duration / 4) if warmup_seconds is None else float(warmup_seconds)
    predictor = Predictor.load(ckpt, backend=backend, threads=threads)
    src, clock = _source(source, speed, people, sample, fps)
    engine = Engine(predictor, **{**live_options(predictor.meta), "stride": stride})  # the model's, at this stride
    tmp = tempfile.TemporaryDirectory(prefix="kinact-soak-") if record else None
    recorder = None
    if record:
        from kinact.core.recording.kinrec_writer import KinrecWriter

        recorder = KinrecWriter(os.path.join(tmp.name, "soak.kinrec"), getattr(src, "layout", "kinect_v1"), fps)
    runner = Runner(src, engine, speed=1.0, recorder=recorder)
    predictions = [0]
    runner.on_result(lambda item: predictions.__setitem__(0, predictions[0] + 1))
    stop = threading.Event()
    samples: list[dict] = []
    start = time.monotonic()
    rss_start = rss_bytes()
    runner.start()
    try:
        while True:
            elapsed = time.monotonic() - start
            st = runner.status()
            row = {"t": round(elapsed, 2), "rss_mb": rss_bytes() / 2**20, "frames": engine.frames_seen,
                   "dropped_windows": st.dropped_windows, "capture_dropped": clock.dropped if clock else 0}
            samples.append(row)
            if progress is not None:
                progress(row)
            if elapsed >= duration or st.state in ("ended", "error"):
                break
            stop.wait(min(sample_every, max(0.0, duration - elapsed)))
    finally:
        runner.stop()
        if recorder is not None:
            runner.wait_recorder(10.0)
    wall = time.monotonic() - start
    status = runner.status()
    rec_bytes = None
    if recorder is not None:
        try:
            rec_bytes = os.path.getsize(recorder.path)
        except OSError:
            rec_bytes = None
        tmp.cleanup()

    after = [s for s in samples if s["t"] >= warmup] or samples[-1:]
    base, end = after[0]["rss_mb"], samples[-1]["rss_mb"]
    slope = None
    if len(after) >= 3 and after[-1]["t"] > after[0]["t"]:
        slope = float(np.polyfit([s["t"] for s in after], [s["rss_mb"] for s in after], 1)[0]) * 3600.0
    latency = runner.latency()
    expected = wall * fps * speed if clock is not None else None
    capture_dropped = clock.dropped if clock is not None else 0
    return {
        "settings": {"minutes": minutes, "speed": speed, "stride": stride, "people": people if source is None else None,
                     "source": src.describe(), "sample_every_s": sample_every, "warmup_s": warmup, "record": record,
                     "backend": predictor.backend, "checkpoint": os.fspath(ckpt)},
        "wall_s": wall, "stream_s": engine.last_t if engine.last_t is not None else 0.0,
        "rss_mb": {"start": rss_start / 2**20, "after_warmup": base, "end": end,
                   "max": max(s["rss_mb"] for s in samples), "peak_getrusage": peak_rss_bytes() / 2**20},
        "rss_growth_pct": (end - base) / base * 100.0 if base else None,
        "rss_slope_mb_per_hour": slope,
        "frames_seen": engine.frames_seen,
        "frames_expected": expected,
        "achieved_speed": engine.frames_seen / (wall * fps) if wall > 0 else None,
        "dropped_frames": {"capture": capture_dropped, "recorder": runner.dropped_recorder_frames,
                           "total": capture_dropped + runner.dropped_recorder_frames},
        "dropped_windows": status.dropped_windows,
        "predictions": predictions[0],
        "latency_ms": {"p50": latency["p50"], "p95": latency["p95"], "infer_median": status.latency_ms},
        "recording_bytes": rec_bytes,
        "state": status.state, "error": status.error, "callback_errors": runner.callback_errors,
        "samples": samples,
    }
