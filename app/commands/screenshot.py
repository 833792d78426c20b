"""`kinact screenshot --out FILE.png`: the app rendered offscreen after replaying for a few seconds.

For documentation and for checking a recording or a model by eye on a machine without a display (a CI
runner, a server): the overlay either sits on the body or it does not. The window runs exactly as it would
on screen, with temporary settings so the user's remembered ones are neither used nor changed. The render
statistics of the run are printed as one JSON object, which makes this a crude GUI benchmark too.
"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--source", default=None, help="source spec or file (default: the demo, as `kinact app`)")
    p.add_argument("--model", default=None, help=".safetensors checkpoint to run (default: the shipped model)")
    p.add_argument("--seconds", type=float, default=3.0, help="seconds to replay before the picture is taken")
    p.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT")
    p.add_argument("--speed", type=float, default=None, help="replay speed 0.25-8")
    p.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx"), help="inference backend")
    p.add_argument("--loop", action="store_true", help="replay the recording in a loop")
    p.add_argument("--timeout", type=float, default=120.0, help="give up waiting for the model and source (s)")


def _size(text: str) -> tuple[int, int]:
    from kinact.core.errors import KinactError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise KinactError(f"--size must look like 1280x800, got {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise KinactError(f"--size {text} is out of range (200-8000 pixels a side)")
    return w, h


def spin(app, seconds: float, until=None) -> bool:
    """Run the event loop for `seconds`, or until `until()` is true (checked every 50 ms); True if it was."""
    import time

    from PySide6 import QtCore

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until is not None and until():
            return True
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return until is None


def run(args) -> int:
    import json
    import os
    import tempfile
    from pathlib import Path

    from kinact.core.errors import KinactError

    width, height = _size(args.size)
    if args.speed is not None:
        from kinact.core.sources.pacing import check_speed

        check_speed(args.speed)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise KinactError(f"--out must be a .png file, got {out}")
    from kinact.app.gui.app import build_window, make_app
    from kinact.app.gui.settings import Settings

    app = make_app(offscreen=True)
    with tempfile.TemporaryDirectory(prefix="kinact-screenshot-") as tmp:
        win = build_window(args.source, args.model, args.speed, Settings.at(os.path.join(tmp, "settings.ini")),
                           args.backend, True if args.loop else None)
        win.resize(width, height)
        win.show()
        c = win.controller

        def failed() -> bool:
            return c.failed or (not c.busy and c.runner is not None and c.runner.status().state == "error")

        ready = spin(app, args.timeout, lambda: failed() or (not c.busy and c.runner is not None
                                                             and win._drawn is not None))
        if not ready or win._drawn is None:
            error = c.runner.status().error if c.runner is not None else ""
            win.close()
            raise KinactError(error or f"the source did not deliver a frame within {args.timeout:g} s")
        spin(app, args.seconds)
        out.parent.mkdir(parents=True, exist_ok=True)
        image = win.grab()
        ok = image.save(os.fspath(out))
        stats = win.render_stats(span=args.seconds)
        status = c.runner.status() if c.runner is not None else None
        win.close()
    if not ok:
        raise KinactError(f"could not write {out}")
    print(json.dumps({"out": os.fspath(out), "width": image.width(), "height": image.height(),
                      "render": stats, "capture_fps": status.capture_fps if status else None,
                      "inference_ms": status.latency_ms if status else None,
                      "model": c.model_path or None, "source": c.spec}))
    return 0
