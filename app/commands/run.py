"""`kinact run`: the recognizer on a source. With `--headless` it prints one JSON line per prediction or event,
so scripts, tests and other programs can consume it; without, it opens the desktop window.

With no `--source` it replays the bundled demo recording, and with no `--model` it uses the shipped
checkpoint, so `kinact run --headless` does something useful on a fresh install with no sensor attached.
The engine runs with the model's own post-processing settings (`pipeline.live_settings.live_options`: the
checkpoint's, else the defaults chosen for the shipped recipe); `--stride` given on the command line wins.
"""
from __future__ import annotations

import json
import queue
import sys
import time


def add_arguments(p) -> None:
    p.add_argument("--source", help="kinect2 | k4a | synthetic[:people=2,seed=1] | replay:FILE.kinrec | "
                                    "dataset:FILE | a file path (default: the bundled demo recording)")
    p.add_argument("--model", help="checkpoint (.safetensors); default: the shipped UTD-MHAD skeleton model")
    p.add_argument("--headless", action="store_true", help="no window: one JSON line per prediction/event on stdout")
    p.add_argument("--speed", type=float, default=1.0,
                   help="replay speed for files, 0.25-8, or 0 for as fast as possible (default 1)")
    p.add_argument("--stride", type=int, default=None,
                   help="frames between inferences (default: the model's, 3 for the shipped one)")
    p.add_argument("--mode", choices=("all", "primary"), default="all",
                   help="classify everyone, or only the primary (closest) user (default all)")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto",
                   help="auto: torch on CUDA when present, else ONNX Runtime on CPU")
    p.add_argument("--record", metavar="OUT.kinrec", help="also record the session (never blocks capture)")
    p.add_argument("--events-only", action="store_true", help="print action start/end events, not every prediction")
    p.add_argument("--duration", type=float, help="stop after this many seconds of wall time")


def resolve_source_and_model(source: str | None, model: str | None):
    """Fill in the bundled demo and shipped model; say clearly what is missing instead of guessing."""
    from kinact.core import assets
    from kinact.core.errors import KinactError

    if source is None:
        demo = assets.demo_recording()
        source = f"replay:{demo}" if demo else "synthetic"
    if model is None:
        shipped = assets.shipped_model()
        if shipped is None:
            raise KinactError("no --model given and this install has no shipped model; train one with "
                              "`kinact train configs/utd_skeleton_ours.toml --data DIR --out runs/x`")
        model = str(shipped)
    return source, model


def prediction_record(item) -> dict:
    """One JSON-able dict per output: the stable person id, what they do, how sure, and how fast."""
    from kinact.core.pipeline.events import ActionEvent

    if isinstance(item, ActionEvent):
        return {"type": "event", "event": item.kind, "person": item.person, "label": item.label,
                "t": round(item.t, 4), "confidence": round(float(item.confidence), 4)}
    return {"type": "prediction", "person": item.person, "t": round(item.t_frame, 4),
            "label": item.label, "state": item.state, "confidence": round(float(item.confidence), 4),
            "top5": [[lab, round(float(p), 4)] for lab, p in item.top5],
            "latency_ms": round(float(item.latency_ms), 3), "classifiable": bool(item.classifiable)}


def engine_options(meta, stride: int | None = None, mode: str = "all") -> dict:
    """Engine keywords for a model: its live settings, with what the command line gave over them."""
    from kinact.core.pipeline.live_settings import live_options

    return {**live_options(meta), **({"stride": int(stride)} if stride is not None else {}), "mode": mode}


def run_headless(args) -> int:
    from kinact.core.inference import Predictor
    from kinact.core.pipeline.engine import Engine
    from kinact.core.pipeline.runner import Runner
    from kinact.core.sources.registry import open_source

    source_spec, model_path = resolve_source_and_model(args.source, args.model)
    predictor = Predictor.load(model_path, backend=args.backend)
    source = open_source(source_spec, **({"speed": args.speed} if _is_file_source(source_spec) else {}))
    options = engine_options(predictor.meta, args.stride, args.mode)
    engine = Engine(predictor, **options)
    recorder = _recorder(args.record, source) if args.record else None
    runner = Runner(source, engine, speed=args.speed, recorder=recorder)
    print(json.dumps({"type": "start", "source": source_spec, "model": model_path, "backend": predictor.backend,
                      "classes": len(predictor.classes), "engine": options}), flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    outputs: queue.SimpleQueue = queue.SimpleQueue()
    runner.on_result(outputs.put)
    runner.start()
    told = ""
    try:
        while deadline is None or time.monotonic() < deadline:
            notice = runner.status().notice
            if notice and notice != told:  # e.g. "streaming depth only": a JSON line, so scripts see it too
                told = notice
                sys.stdout.write(json.dumps({"type": "notice", "text": notice}) + "\n")
            try:
                item = outputs.get(timeout=0.2)
            except queue.Empty:
                if runner.join(0):  # a finite source is done and everything it produced has been printed
                    break
                continue
            rec = prediction_record(item)
            if not (args.events_only and rec["type"] != "event"):
                sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader went away (`kinact run --headless | head`): stop quietly, like Unix tools
        _silence_stdout()
        return 0
    finally:
        runner.stop()
        if recorder is not None:
            runner.wait_recorder(10.0)  # a recording is finished whatever happened to stdout
    st = runner.status()
    try:
        print(json.dumps({"type": "end", "state": st.state, "frames": st.frames_seen,
                          "dropped_windows": st.dropped_windows, "dropped_recorder_frames": st.dropped_recorder_frames,
                          "latency_ms": runner.latency(), "error": st.error, "notice": st.notice}), flush=True)
    except BrokenPipeError:
        _silence_stdout()
    return 2 if st.state == "error" else 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise a second BrokenPipeError."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _is_file_source(spec: str) -> bool:
    from kinact.core.sources.registry import parse_spec

    return parse_spec(spec)[0] in ("replay", "dataset")


def _recorder(path: str, source):
    """A writer opened lazily on the first frame, once the source knows its layout, fps and intrinsics."""
    from kinact.core.recording.kinrec_writer import KinrecWriter

    class LazyWriter:
        def __init__(self):
            self.writer = None

        def write_frame(self, frame):
            if self.writer is None:
                self.writer = KinrecWriter(path, source.layout, source.fps, intrinsics=source.intrinsics,
                                           sensor=source.describe(), synthetic=getattr(source, "synthetic", False))
            self.writer.write_frame(frame)

        def close(self):
            if self.writer is not None:
                self.writer.close()

    return LazyWriter()


def run(args) -> int:
    if args.headless:
        return run_headless(args)
    from kinact.app.commands.gui import launch

    return launch(args.source, args.model, speed=args.speed)
