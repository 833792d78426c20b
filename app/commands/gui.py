"""`kinact app`: the desktop window (also what a plain `kinact` starts)."""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--source", default=None,
                   help="kinect2, k4a, synthetic[:OPTIONS], replay:FILE.kinrec, dataset:FILE, or a file path "
                        "(default: the bundled demo, else the synthetic source)")
    p.add_argument("--model", default=None, help=".safetensors checkpoint to run (default: the demo's, if any)")
    p.add_argument("--speed", type=float, default=None, help="replay speed 0.25-8 (default: the last one used)")
    p.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx"), help="inference backend")
    p.add_argument("--loop", action="store_true", help="replay recordings in a loop")


def run(args) -> int:
    from kinact.core.sources.pacing import check_speed

    if args.speed is not None:
        check_speed(args.speed)  # a KinactError: one line on stderr, before any window opens
    from kinact.app.gui.app import run_app

    return run_app(args.source, args.model, args.speed, backend=args.backend, loop=True if args.loop else None)
