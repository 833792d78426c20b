"""What the whole live pipeline costs, against the model alone timed in the same run.

Two questions, answered as ratios so that a shared or slow machine does not change the verdict much:

(a) Throughput. The model alone (one `predict_skeleton` call per window batch, inputs cut from a real
    window) gives the reference windows/s. The pipeline then replays a scene as fast as it can with an
    inference every frame (stride 1): once through the synchronous `Engine` (tracking, buffering, windows,
    normalisation, features, events all inline) and once through the threaded `Runner` at speed 0 (capture,
    which also prepares each window's model input, overlapping inference). pipeline / model-only ≥ 0.9
    means the pipeline adds less than 10 %. The three are measured in turns, three rounds each (`rounds` in
    the report), because on a shared machine one 10-second stretch can run 10 % slower than the next.
(b) Real time. For 1, 2, 4, 6 people at 30 fps the threaded runner reads a sensor-like source (`SensorClock`:
    frames go out when due and are lost when the pipeline falls behind) at the model's live stride, as the
    app; reported are the per-stride inference time, frame-to-result latency p50/p95, capture fps, dropped
    frames and dropped windows, and the cost of six people relative to one (goal ≤ 2.5×: one batched call
    per stride, not one per person).
(c) Latency target: p95 ≤ stride period + 2 × the model's own latency at that batch size.

    from kinact.core.bench.pipeline_bench import run_pipeline_bench
    report = run_pipeline_bench("runs/utd/model.safetensors", people=(1, 2, 4, 6), seconds=10)
"""
from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Sequence

import numpy as np

from kinact.core.bench.scene import SceneSource, SensorClock, base_motion, percentile

__all__ = ["run_pipeline_bench", "DEFAULT_PEOPLE", "THROUGHPUT_TARGET", "COST_RATIO_GOAL"]

DEFAULT_PEOPLE = (1, 2, 4, 6)
THROUGHPUT_TARGET = 0.9  # pipeline windows/s over model-only windows/s
COST_RATIO_GOAL = 2.5  # per-stride inference time of the most people over the fewest


def run_pipeline_bench(ckpt, people: Sequence[int] = DEFAULT_PEOPLE, seconds: float = 10.0, backend: str = "auto",
                       stride: int | None = None, fps: float = 30.0, sample=None, threads: int | None = None,
                       batch: int = 1, spacing: float = 0.8, workers: int | None = None) -> dict:
    """Run (a), (b) and (c) of the module docstring; returns a JSON-serialisable dict.

    ckpt: a checkpoint (random weights time the same as trained ones). seconds: wall time of each measured run
    (the throughput part makes three such runs, the real-time part one per entry of `people`). stride: frames
    between inferences for (b); None: the checkpoint's live stride, as the app. sample: a dataset file whose
    first body makes the scene (default: a procedural wave). threads: the backend's intra-op threads (None:
    library default). batch: bodies in the scene for the throughput part (the model-only reference runs the same batch). workers: chunks a
    several-body batch is split into on ONNX Runtime's CPU path (None: the library default, one per core).
    """
    from kinact.core.inference import Predictor

    people = [int(n) for n in people]
    if not people or min(people) < 1 or seconds <= 0 or (stride is not None and stride < 1) or batch < 1 or fps <= 0:
        raise ValueError("people, seconds, stride, batch and fps must be positive")
    load_before = _loadavg()
    predictor = Predictor.load(ckpt, backend=backend, threads=threads, workers=workers)
    if stride is None:  # as the app: the checkpoint's own live stride
        from kinact.core.pipeline.live_settings import live_options

        stride = int(live_options(predictor.meta).get("stride") or 3)
    motion = base_motion(sample, fps)
    meta = predictor.meta
    report: dict = {
        "model": {"checkpoint": os.fspath(ckpt), "backend": predictor.backend, "workers": predictor.workers,
                  "name": meta.model.get("name"),
                  "classes": len(predictor.classes), "frames": meta.frames, "window_seconds": meta.window_seconds,
                  "features": list(meta.features)},
        "settings": {"people": people, "seconds": seconds, "stride": stride, "fps": fps, "batch": batch,
                     "threads": threads, "workers": workers, "spacing_m": spacing, "backend_requested": backend,
                     "scene": os.fspath(sample) if sample else "synthetic wave"},
        "environment": {"python": platform.python_version(), "machine": platform.machine(),
                        "cpu_count": os.cpu_count(), "loadavg_before": load_before},
    }
    report["throughput"] = _throughput(predictor, motion, batch, seconds, fps, spacing)
    rows = [_realtime(predictor, motion, n, seconds, fps, stride, spacing) for n in people]
    lo, hi = rows[0], rows[-1]
    cost = hi["infer_median_ms"] / lo["infer_median_ms"] if lo["infer_median_ms"] > 0 else float("nan")
    report["realtime"] = {
        "stride": stride, "fps": fps, "per_people": rows,
        "cost_ratio": {"people": [lo["people"], hi["people"]], "infer_median": cost,
                       "e2e_p50": hi["e2e_p50_ms"] / lo["e2e_p50_ms"] if lo["e2e_p50_ms"] > 0 else float("nan"),
                       "goal": COST_RATIO_GOAL, "meets_goal": bool(cost <= COST_RATIO_GOAL)},
        "keeps_up": all(r["keeps_up"] for r in rows),
        "meets_latency_target": all(r["meets_target"] for r in rows),
    }
    report["environment"]["loadavg_after"] = _loadavg()
    return report


# ------------------------------------------------------------------------------------------------- pieces

def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _engine(predictor, stride: int):
    """The model's live settings (pipeline.live_settings) at the stride the benchmark pins."""
    from kinact.core.pipeline.engine import Engine
    from kinact.core.pipeline.live_settings import live_options

    return Engine(predictor, **{**live_options(predictor.meta), "stride": stride, "layout": "kinect_v1"})


def _model_input(predictor, motion: np.ndarray, n: int, fps: float, spacing: float) -> np.ndarray:
    """(n, C, T, N): the exact model input of n people's windows, cut by an engine from the scene."""
    engine = _engine(predictor, 1)
    src = SceneSource(motion, n, fps, spacing)
    request = None
    for i in range(int(np.ceil(engine.window_seconds * fps)) + 2):
        request = engine.ingest(src.frame(i)).request or request
    if request is None or len(request.windows) != n:
        raise RuntimeError("the scene did not give one window per person")  # a bug here, not a user error
    return np.stack([engine.worker.skeleton_input(w.window) for w in request.windows])


def _model_only(predictor, x: np.ndarray, seconds: float, min_calls: int = 5) -> dict:
    """Windows/s and per-call latency of the model alone on input x, for about `seconds`."""
    predictor.warmup(batch=len(x), repeats=3)
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        predictor.predict_skeleton(x)
        times.append(time.perf_counter() - t0)
    total = sum(times)
    ms = [t * 1e3 for t in times]
    return {"windows_per_s": len(x) * len(times) / total, "median_ms": float(np.median(ms)),
            "p95_ms": percentile(ms, 95), "calls": len(times)}


def _warm_frames(engine, fps: float) -> int:
    """Frames before the first window is classified (min_coverage of the window), plus a margin."""
    return int(np.ceil(engine.min_coverage * engine.window_seconds * fps)) + 3


def _sync(predictor, motion, n: int, seconds: float, fps: float, spacing: float) -> dict:
    from kinact.core.pipeline.worker import Prediction

    engine = _engine(predictor, 1)
    src = SceneSource(motion, n, fps, spacing)
    i = 0
    for i in range(_warm_frames(engine, fps)):
        engine.feed(src.frame(i))
    windows = frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or frames < 5:
        i += 1
        out = engine.feed(src.frame(i))
        frames += 1
        windows += sum(1 for o in out if isinstance(o, Prediction) and o.classifiable)
    elapsed = time.perf_counter() - start
    return {"windows_per_s": windows / elapsed, "frames_per_s": frames / elapsed, "windows": windows,
            "model_calls": engine.worker.calls}


def _threaded_fast(predictor, motion, n: int, seconds: float, fps: float, spacing: float) -> dict:
    from kinact.core.pipeline.runner import Runner
    from kinact.core.pipeline.worker import Prediction

    engine = _engine(predictor, 1)
    runner = Runner(SceneSource(motion, n, fps, spacing), engine, speed=0)
    count = [0]

    def on(item):
        if isinstance(item, Prediction) and item.classifiable:
            count[0] += 1

    runner.on_result(on)
    runner.start()
    try:
        deadline = time.monotonic() + 30.0
        while count[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(min(0.5, seconds / 4))  # past the first calls
        c0, f0, t0 = count[0], engine.frames_seen, time.perf_counter()
        time.sleep(seconds)
        c1, f1, t1 = count[0], engine.frames_seen, time.perf_counter()
        dropped = runner.dropped_windows  # before stop(): stopping abandons a waiting window
    finally:
        runner.stop()
    status = runner.status()
    return {"windows_per_s": (c1 - c0) / (t1 - t0), "frames_per_s": (f1 - f0) / (t1 - t0), "windows": c1 - c0,
            "dropped_windows": dropped, "state": status.state, "error": status.error}


def _pooled(parts: list[dict]) -> dict:
    """Several short measurements of one kind as one: windows and time summed, so windows/s is the overall rate."""
    out = dict(parts[-1])
    seconds = sum(p["windows"] / p["windows_per_s"] for p in parts if p["windows_per_s"] > 0)
    out["windows"] = sum(p["windows"] for p in parts)
    out["windows_per_s"] = out["windows"] / seconds if seconds > 0 else 0.0
    if "frames_per_s" in out:
        out["frames_per_s"] = float(np.mean([p["frames_per_s"] for p in parts]))
    return out


def _throughput(predictor, motion, n: int, seconds: float, fps: float, spacing: float, rounds: int = 3) -> dict:
    """Model alone, synchronous engine and threaded runner, taken in turns (`rounds` times, each a share of
    `seconds`), so a machine that speeds up or slows down during the run (another job, clock changes) weighs on
    the reference and the pipeline alike instead of on whichever ran at the wrong moment."""
    x = _model_input(predictor, motion, n, fps, spacing)
    share = seconds / rounds
    models, syncs, threads, per_round = [], [], [], []
    for _ in range(rounds):
        m = _model_only(predictor, x, share)
        m["windows"] = len(x) * m["calls"]
        models.append(m)
        syncs.append(_sync(predictor, motion, n, share, fps, spacing))
        threads.append(_threaded_fast(predictor, motion, n, share, fps, spacing))
        per_round.append({"model_windows_per_s": m["windows_per_s"],
                          "engine_sync": syncs[-1]["windows_per_s"] / m["windows_per_s"],
                          "runner_speed0": threads[-1]["windows_per_s"] / m["windows_per_s"]})
    model = _pooled(models)
    model["median_ms"] = float(np.median([m["median_ms"] for m in models]))
    model["p95_ms"] = float(max(m["p95_ms"] for m in models))
    model["calls"] = sum(m["calls"] for m in models)
    sync, threaded = _pooled(syncs), _pooled(threads)
    threaded["dropped_windows"] = sum(t["dropped_windows"] for t in threads)
    ref = model["windows_per_s"]
    for r in (sync, threaded):
        r["ratio_vs_model"] = r["windows_per_s"] / ref
        r["meets_target"] = bool(r["ratio_vs_model"] >= THROUGHPUT_TARGET)
    return {"batch": n, "stride": 1, "rounds": per_round, "model_only": model, "engine_sync": sync,
            "runner_speed0": threaded, "target_ratio": THROUGHPUT_TARGET}


def _realtime(predictor, motion, n: int, seconds: float, fps: float, stride: int, spacing: float) -> dict:
    """One paced run with n people: inference time per stride, frame-to-result latency, capture health."""
    from kinact.core.pipeline.runner import Runner
    from kinact.core.pipeline.worker import Prediction

    model = _model_only(predictor, _model_input(predictor, motion, n, fps, spacing), min(1.0, seconds / 5))
    engine = _engine(predictor, stride)
    sensor = SensorClock(SceneSource(motion, n, fps, spacing), speed=1.0)
    runner = Runner(sensor, engine, speed=1.0)
    lock = threading.Lock()
    preds: list[tuple[float, float, float, float]] = []  # (t_arrival, e2e ms, step ms, t_frame)

    def on(item):
        if isinstance(item, Prediction) and item.classifiable:
            with lock:
                preds.append((item.t_arrival, item.frame_to_result_ms, item.latency_ms, item.t_frame))

    runner.on_result(on)
    warm = engine.min_coverage * engine.window_seconds + 0.5  # the first window needs this much of the stream
    start = engine.clock()
    runner.start()
    try:
        time.sleep(warm)
        d0, t0 = sensor.delivered, time.monotonic()
        time.sleep(seconds)
        d1, t1 = sensor.delivered, time.monotonic()
    finally:
        runner.stop()
    status = runner.status()
    with lock:
        kept = [p for p in preds if p[0] >= start + warm]
    e2e = [p[1] for p in kept]
    steps = list({p[3]: p[2] for p in kept}.values())  # one inference step per stride, shared by its people
    capture_fps = (d1 - d0) / (t1 - t0)
    stride_ms = 1000.0 * stride / fps
    target = stride_ms + 2 * model["median_ms"]
    p95 = percentile(e2e, 95)
    return {
        "people": n, "model_median_ms": model["median_ms"], "model_p95_ms": model["p95_ms"],
        "infer_median_ms": percentile(steps, 50), "infer_p95_ms": percentile(steps, 95), "strides": len(steps),
        "e2e_p50_ms": percentile(e2e, 50), "e2e_p95_ms": p95, "e2e_count": len(e2e),
        "capture_fps": capture_fps, "frames_seen": engine.frames_seen, "dropped_frames": sensor.dropped,
        "dropped_windows": status.dropped_windows, "runner_infer_median_ms": status.latency_ms,
        "keeps_up": bool(abs(capture_fps - fps) <= 0.05 * fps and sensor.dropped == 0),
        "stride_period_ms": stride_ms, "target_p95_ms": target, "meets_target": bool(p95 <= target),
        "state": status.state, "error": status.error,
    }
