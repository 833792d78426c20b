"""Choosing the engine's window and event settings on a validation stream, in minutes instead of days.

`stream_eval` replays a stream through the whole engine, the model included; one run over a subject's
stream costs minutes on a CPU, and the event settings (stride, smoothing, thresholds, the optional rules of
`pipeline.events`) make a space of thousands of combinations. But the model's output for a window depends
only on the window, and the window only on the frames, the live window length and the tracker, never on the
stride or the event settings. So each candidate window length costs one batched pass of the model over the
window ending at every frame (the stride-1 requests of a real `Engine.ingest`, scored by its own
`InferenceWorker`, many frames per call), kept with each frame's tracker update. Replaying a setting then
costs only the post-processing: the cached raw predictions of the due frames go through `Engine.step`, the
code `ingest` + `infer` run after tracking and the model, and are scored by `stream_eval`'s own `Collector`
and `score_person`. Nothing here re-implements the engine, so the sweep cannot drift from what runs live;
`tests/test_stream_tune.py` checks that cached and live replays give the same events.

Honest use: tune on a stream the model did not train on. For the shipped UTD-MHAD recipe that is subject 7
with a model trained in validation mode (`kinact train ... ` without `--final`, subject 7 held out), never
the test subjects. Choice: the highest event F1, counted to the hundredth and only up to the goal (0.85);
among those, the lowest mean detection delay; the Pareto front of F1 against delay is kept beside it.

    python -m kinact.core.training.stream_tune RUN/seed0/model.safetensors --data UTD --subjects 7 \\
        --windows 2.26,1.6,1.2 --out /work/runs/tune.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pickle
import sys
import time
from dataclasses import dataclass

import numpy as np

from kinact.core.pipeline.tracker import TrackedBody, TrackUpdate
from kinact.core.pipeline.worker import PersonWindow, Prediction, Request
from kinact.core.training.stream_eval import (
    DEFAULTS, Collector, Stream, build_streams, frames_of, load_model, score_person, split_samples, truth_labels,
)

F1_GOAL = 0.85
# Engine keywords a cache fixes (they shape the windows the model saw); everything else replays.
CACHE_KEYS = ("window_seconds", "mode", "primary", "layout", "min_joints", "relink_seconds", "min_coverage",
              "trust_ids", "max_fps")
SPACE = {
    "stride": [1, 2, 3],
    "alpha": [1.0, 0.8, 0.6, 0.5, 0.4, 0.3],
    "enter": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    "exit": [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5],
    "min_frames": [1, 2, 3, 4, 6, 9],
    "end_frames": [None, 3, 6, 9, 12, 18, 24, 36],
    "fast_enter": [None, 0.5, 0.6, 0.7, 0.8, 0.9],
    "no_action_margin": [0.0, -0.1, 0.1, 0.2, 0.3],
    "min_duration": [0.0, 0.3, 0.6, 1.0, 1.5],
    "motion_threshold": [0.0, 0.03],
}
BASELINE = {"stride": 3, "alpha": 0.5, "enter": 0.6, "exit": 0.4, "min_frames": None, "end_frames": None,
            "fast_enter": None, "no_action_margin": 0.0, "min_duration": 0.0, "motion_threshold": 0.03}


@dataclass
class ScoreCache:
    """One window length's model output over a stream: per frame its time, a slim tracker update and the raw
    predictions of the stride-1 request cut at that frame (None: no request)."""

    window_seconds: float
    options: dict  # the CACHE_KEYS the engine ran with
    times: list[float]
    updates: list[TrackUpdate]
    raw: list[list[Prediction] | None]
    seconds: float = 0.0  # how long caching took


def _slim(upd: TrackUpdate) -> TrackUpdate:
    """What the post-processing reads of a tracker update (who, with which sensor id, who was dropped)."""
    bodies = [TrackedBody(b.person, b.sensor_id, None, None, b.classifiable, b.primary) for b in upd.bodies]
    return TrackUpdate(bodies, list(upd.new), list(upd.lost), list(upd.dropped), upd.primary)


def cache_scores(model, streams: list[Stream], window_seconds: float | None = None, batch: int = 256,
                 options: dict | None = None, progress=None) -> ScoreCache:
    """Run a real engine at stride 1 over the streams (window `window_seconds`, None: the checkpoint's) and
    score every request's windows with its own worker, `batch` windows per model call."""
    from kinact.core.pipeline.engine import Engine

    opts = {k: v for k, v in (options or {}).items() if k in CACHE_KEYS and k != "window_seconds"}
    opts.setdefault("layout", streams[0].layout)
    engine = Engine(model, stride=1, window_seconds=window_seconds, **opts)
    frames = frames_of(streams)
    times, updates, raw = [], [], [None] * len(frames)
    queue: list[tuple[int, Request]] = []
    start = time.perf_counter()

    def flush():
        windows = [w for _, r in queue for w in r.windows]
        if not windows:
            return
        merged = Request(0.0, 0.0, [PersonWindow(k, w.window, w.classifiable) for k, w in enumerate(windows)])
        preds = iter(engine.worker.run(merged))  # one prediction per window, in order
        for i, r in queue:
            raw[i] = [dataclasses.replace(next(preds), person=w.person, t_frame=r.t_frame, t_arrival=r.t_arrival)
                      for w in r.windows]
        queue.clear()

    for i, frame in enumerate(frames):
        ing = engine.ingest(frame)
        times.append(float(frame.t))
        updates.append(_slim(ing.tracked))
        if ing.request is not None:
            queue.append((i, ing.request))
            if sum(len(r.windows) for _, r in queue) >= batch:
                flush()
                if progress is not None:
                    progress(i + 1, len(frames))
    flush()
    return ScoreCache(engine.window_seconds, {**opts, "window_seconds": engine.window_seconds}, times, updates, raw,
                      time.perf_counter() - start)


def replay_cached(model, cache: ScoreCache, options: dict | None = None):
    """The cached stream through `Engine.step` with these event settings → a stream_eval Replay."""
    from kinact.core.pipeline.engine import Engine

    options = dict(options or {})
    fixed = {k for k in options if k in CACHE_KEYS and options[k] != cache.options.get(k, options[k])}
    if fixed:
        raise ValueError(f"{sorted(fixed)} shape the cached windows; build another cache to change them")
    engine = Engine(model, **{**cache.options, **{k: v for k, v in options.items() if k not in CACHE_KEYS}})
    col = Collector(sorted({b.sensor_id for u in cache.updates for b in u.bodies}))
    start = time.perf_counter()
    for t, upd, raw in zip(cache.times, cache.updates, cache.raw):
        col.frame(upd.bodies, engine.step(t, upd, raw))
    col.take(engine.finish())
    return col.result(time.perf_counter() - start, len(cache.times))


def score_cached(model, cache: ScoreCache, streams: list[Stream], classes: list[str], options: dict) -> dict:
    """Pooled event precision/recall/F1, mean delay and frame accuracy of one setting (stream_eval's scoring)."""
    rep = replay_cached(model, cache, options)
    n = len(cache.times)
    rows = [score_person(rep.labels[s.body_id], truth_labels(s, n, classes), rep.events[s.body_id], s.segments)
            for s in streams]
    seg, ev, hit = (sum(r[k] for r in rows) for k in ("segments", "events", "matched"))
    p, r = (hit / ev if ev else 0.0), (hit / seg if seg else 0.0)
    delays = [x["mean_delay_s"] * x["matched"] for x in rows if x["mean_delay_s"] is not None]
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "mean_delay_s": sum(delays) / hit if hit else None,
            "median_delay_s": float(np.median([x["median_delay_s"] for x in rows if x["median_delay_s"] is not None]))
            if hit else None,
            "frame_accuracy": float(np.mean([x["frame_accuracy"] for x in rows])), "events": ev, "matched": hit,
            "segments": seg}


ORACLE_HOLDS = (1, 5, 10)


def oracle_delays(cache: ScoreCache, streams: list[Stream], classes: list[str], holds=ORACLE_HOLDS) -> dict:
    """A floor under the detection delay of any event settings for this model: per segment, the time from its
    start to the first window from which the raw top class is the segment's own for `hold` windows in a row
    (stride 1; frames without a window neither extend nor break a run). Post-processing cannot start the
    right event sooner without knowing the answer, so when this floor is near a delay goal, only a model that
    names actions earlier can reach it.
    → {"hold_N": {found, segments, mean_delay_s, median_delay_s}}."""
    out = {}
    for hold in holds:
        delays, total = [], 0
        for s in streams:
            for seg in s.segments:
                total += 1
                want, run, first = classes.index(seg.label), 0, None
                for i in range(seg.start_frame, min(seg.end_frame, len(cache.raw))):
                    persons = {b.sensor_id: b.person for b in cache.updates[i].bodies}
                    pred = next((p for p in cache.raw[i] or () if p.person == persons.get(s.body_id)), None)
                    if pred is None:  # no window at this frame: the run goes on, unextended
                        continue
                    if int(np.argmax(pred.probs)) != want:
                        run = 0
                        continue
                    run, first = run + 1, first if run else i
                    if run >= hold:
                        delays.append(cache.times[first] - seg.start)
                        break
        out[f"hold_{hold}"] = {"found": len(delays), "segments": total,
                               "mean_delay_s": float(np.mean(delays)) if delays else None,
                               "median_delay_s": float(np.median(delays)) if delays else None}
    return out


def rank(row: dict) -> tuple:
    """Sort key, best first: F1 to the hundredth capped at the goal, then the lower delay, then the higher F1."""
    delay = row["mean_delay_s"] if row["mean_delay_s"] is not None else math.inf
    return (-min(round(row["f1"], 2), F1_GOAL), delay, -row["f1"])


def valid(setting: dict) -> bool:
    return setting["exit"] <= setting["enter"]


def pareto(rows: list[dict]) -> list[dict]:
    """Rows no other row beats on both F1 (higher) and mean delay (lower), by delay."""
    rows = sorted((r for r in rows if r["mean_delay_s"] is not None), key=lambda r: (r["mean_delay_s"], -r["f1"]))
    front, best = [], -1.0
    for r in rows:
        if r["f1"] > best:
            front.append(r)
            best = r["f1"]
    return front


def search(evaluate, space: dict = SPACE, start: dict = BASELINE, trials: int = 120, passes: int = 3,
           seed: int = 0, log=None) -> list[dict]:
    """Random search over `space`, then coordinate descent from the best found: every value of one setting at a
    time, keeping any that ranks better, until a pass changes nothing. evaluate(setting) → metrics dict."""
    rng = np.random.default_rng(seed)
    seen: dict[str, dict] = {}

    def run(setting):
        key = json.dumps(setting, sort_keys=True)
        if key not in seen:
            seen[key] = {"setting": dict(setting), **evaluate(setting)}
            if log is not None:
                log(seen[key])
        return seen[key]

    best = run(dict(start))
    for _ in range(trials):
        s = {k: v[int(rng.integers(len(v)))] for k, v in space.items()}
        if valid(s):
            row = run(s)
            best = min(best, row, key=rank)
    for _ in range(passes):
        changed = False
        for k, values in space.items():
            for v in values:
                s = {**best["setting"], k: v}
                if valid(s):
                    row = run(s)
                    if rank(row) < rank(best):
                        best, changed = row, True
        if not changed:
            break
    return sorted(seen.values(), key=rank)


# --------------------------------------------------------------------------------------------- command line

def main(argv=None) -> int:
    from kinact.core.training.data import class_names

    ap = argparse.ArgumentParser(prog="python -m kinact.core.training.stream_tune", description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--data", required=True)
    ap.add_argument("--dataset", default="utd_mhad")
    ap.add_argument("--subjects", required=True, help="comma-separated validation subjects, e.g. 7")
    ap.add_argument("--windows", default="", help="comma-separated live window lengths in seconds, 0: the "
                                                  "checkpoint's (default: the checkpoint's only)")
    ap.add_argument("--trials", type=int, default=120, help="random settings per window before coordinate descent")
    ap.add_argument("--passes", type=int, default=3, help="coordinate-descent passes after the random settings")
    ap.add_argument("--seed", type=int, default=0, help="stream order and pauses (as stream-eval)")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--cache-dir", help="keep/reuse the model scores here (one pickle per window)")
    ap.add_argument("--out", required=True, help="JSON with every setting tried, per window, and the choice")
    ap.add_argument("--oracle-only", action="store_true",
                    help="only the delay floor per window (oracle_delays), no search over settings")
    args = ap.parse_args(argv)

    classes = class_names(args.dataset)
    model = load_model(args.checkpoint, classes, args.backend)
    subjects = [int(x) for x in args.subjects.split(",")]
    samples = split_samples(args.dataset, args.data, subjects=subjects)
    streams = build_streams(samples, 1, args.seed, classes)
    native = float(model.meta.window_seconds)
    windows = [float(x) if float(x) > 0 else native for x in args.windows.split(",") if x] or [native]
    result = {"checkpoint": os.fspath(args.checkpoint), "subjects": subjects, "seed": args.seed,
              "stream_seconds": len(streams[0]) / streams[0].fps, "segments": len(streams[0].segments),
              "stream_eval_defaults": DEFAULTS, "goal_f1": F1_GOAL, "windows": {}}
    for w in windows:
        path = os.path.join(args.cache_dir, f"scores_{w:.3f}s.pkl") if args.cache_dir else None
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                cache = pickle.load(f)
        else:
            cache = cache_scores(model, streams, w, progress=lambda i, n: print(f"\r  {w:.2f} s: {i}/{n} frames",
                                                                                end="", file=sys.stderr))
            print(f"\r  {w:.2f} s window: model scores cached in {cache.seconds:.0f} s", file=sys.stderr)
            if path:
                os.makedirs(args.cache_dir, exist_ok=True)
                with open(path, "wb") as f:
                    pickle.dump(cache, f)

        def log(row):
            print(f"  {w:.2f} s {row['setting']}: F1 {row['f1']:.3f} delay {row['mean_delay_s'] or float('nan'):.2f} "
                  f"s frames {row['frame_accuracy']:.3f}", file=sys.stderr)

        oracle = oracle_delays(cache, streams, classes)
        print(f"  {w:.2f} s window: oracle delay floor " + ", ".join(
            f"{k} {v['mean_delay_s'] or float('nan'):.2f} s" for k, v in oracle.items()), file=sys.stderr)
        if args.oracle_only:
            result["windows"][f"{w:.3f}"] = {"oracle": oracle}
            continue
        rows = search(lambda s: score_cached(model, cache, streams, classes, s), trials=args.trials, passes=args.passes,
                      log=log)
        for r in rows:
            r["setting"]["window_seconds"] = cache.window_seconds
        result["windows"][f"{w:.3f}"] = {"best": rows[0], "pareto": pareto(rows), "oracle": oracle, "tried": rows}
        with open(args.out, "w") as f:  # after every window, so a long run can be read as it goes
            json.dump(result, f, indent=1)
    if args.oracle_only:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps({w: v["oracle"] for w, v in result["windows"].items()}))
        return 0
    best = sorted((v["best"] for v in result["windows"].values()), key=rank)
    result["chosen"] = best[0]
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({"chosen": best[0]}))
    return 0


if __name__ == "__main__":  # run the imported module's main, so pickled caches name kinact's ScoreCache
    from kinact.core.training.stream_tune import main as _main

    raise SystemExit(_main())
