"""`kinact bench WHAT`: measurements printed as ratios against a reference timed in the same run.

Absolute numbers depend on the machine; a ratio against a reference run side by side does not (much), which
is why the speed targets live here and never in timed unit tests. `--out` keeps the JSON under bench/.
"""
from __future__ import annotations

import json
from pathlib import Path


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    io = sub.add_parser("io", help=".kinrec write/read speed and size per minute of depth, against np.save")
    io.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic recording (default 10)")
    io.add_argument("--fps", type=float, default=30.0)
    io.add_argument("--size", default="512x424", help="depth WIDTHxHEIGHT (default 512x424, Kinect v2)")
    io.add_argument("--joints", type=int, default=25)
    io.add_argument("--bodies", type=int, default=1)
    for q in (io,):
        q.add_argument("--json", action="store_true", help="print exactly one JSON object")
        q.add_argument("--out", help="also write the JSON result to this file (e.g. bench/io.json)")


def _emit(result: dict, args, lines: list[str]) -> None:
    from kinact.app.commands.common import dumps, print_json

    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(dumps(result) + "\n")
    if args.json:
        print_json(result)
    else:
        print("\n".join(lines))


def run(args) -> int:
    if args.what == "io":
        from kinact.core.bench.io_bench import run_io_bench

        w, h = (int(v) for v in args.size.lower().split("x"))
        r = run_io_bench(seconds=args.seconds, fps=args.fps, depth_shape=(h, w), joints=args.joints,
                         bodies=args.bodies)
        lines = [
            f".kinrec vs {r['reference']} — {r['frames']} frames of {w}×{h} depth + {r['joints']}-joint skeleton",
            f"  write  {r['kinrec_write_fps']:8.1f} frames/s  (np.save {r['npy_write_fps']:8.1f})  ratio "
            f"{r['write_speed_ratio']:.2f}   real-time headroom {r['realtime_headroom']:.1f}× at {args.fps:g} fps",
            f"  read   {r['kinrec_read_fps']:8.1f} frames/s  (np.load {r['npy_read_fps']:8.1f})  ratio "
            f"{r['read_speed_ratio']:.2f}",
            f"  seek   {r['kinrec_random_read_fps']:8.1f} frames/s  (np.load {r['npy_random_read_fps']:8.1f})  ratio "
            f"{r['random_read_ratio']:.2f}",
            f"  size   {r['kinrec_mb_per_min']:8.1f} MB/min    (np.save {r['npy_mb_per_min']:8.1f})  ratio "
            f"{r['size_ratio']:.3f}",
            f"  worst case (random pixels): write {r['random_depth_write_fps']:.1f} frames/s, "
            f"{r['random_depth_mb_per_min']:.0f} MB/min",
        ]
        _emit(r, args, lines)
    return 0
