"""`kinact bench WHAT`: measurements printed as ratios against a reference timed in the same run.

Absolute numbers depend on the machine; a ratio against a reference run side by side does not (much), which
is why the speed targets live here and never in timed unit tests. `--out` keeps the JSON under bench/.
"""
from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path

_MODEL_HELP = ("a .safetensors checkpoint; without one, --spec builds random weights (they time like trained "
               "ones), else the shipped model is used if this install has one")


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    io = sub.add_parser("io", help=".kinrec write/read speed and size per minute of depth, against np.save")
    io.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic recording (default 10)")
    io.add_argument("--fps", type=float, default=30.0)
    io.add_argument("--size", default="512x424", help="depth WIDTHxHEIGHT (default 512x424, Kinect v2)")
    io.add_argument("--joints", type=int, default=25)
    io.add_argument("--bodies", type=int, default=1)

    lat = sub.add_parser("latency", help="model-only latency: torch eager vs ONNX Runtime, batch sweep",
                         description="Time one model call in torch eager and ONNX Runtime on the CPU, same run, "
                                     "same threads; prints median/p95, the ratio onnx/torch and a batch sweep. "
                                     "With 2+ threads and cores, also one window with its GRU nodes split across "
                                     "the cores (graph_split), back to back and paced one call per live stride.")
    lat.add_argument("--batch", type=int, default=1, help="windows per call for the headline numbers (default 1)")
    lat.add_argument("--repeats", type=int, default=200, help="timed calls per backend (default 200)")
    lat.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    lat.add_argument("--threads", type=int, default=2, help="intra-op threads for both backends (default 2)")
    lat.add_argument("--batch-sizes", default="1,2,4,6", help="batch sweep (default 1,2,4,6)")

    pipe = sub.add_parser("pipeline", help="whole pipeline vs model alone; latency and keeping up for 1-6 people",
                          description="(a) windows/s of the pipeline at stride 1 (synchronous engine and threaded "
                                      "runner at speed 0) against the model alone; (b) per-stride inference time, "
                                      "frame-to-result p50/p95, capture fps and drops for N people at 30 fps; "
                                      "(c) p95 against stride period + 2 x model latency.")
    pipe.add_argument("--people", default="1,2,4,6", help="people counts for the real-time part (default 1,2,4,6)")
    pipe.add_argument("--seconds", type=float, default=10.0, help="wall seconds of each measured run (default 10)")
    pipe.add_argument("--stride", type=int, default=None,
                      help="frames between inferences (default: the model's live stride, as the app)")
    pipe.add_argument("--fps", type=float, default=30.0)
    pipe.add_argument("--batch", type=int, default=1, help="people in the throughput scene (default 1)")
    pipe.add_argument("--sample", help="a dataset file whose first body makes the scene (default: a synthetic wave)")
    pipe.add_argument("--workers", type=int, help="ONNX Runtime on the CPU: run a several-body batch as this many "
                                                  "chunks at once (default: one per core; 1 = one call)")

    soak = sub.add_parser("soak", help="replay for minutes at 10x through the threaded runner: memory and drops",
                          description="Loop a source at SPEED through the threaded runner for MINUTES of wall time, "
                                      "sampling resident memory; reports RSS start/end/max, growth after a warm-up, "
                                      "frames, dropped frames (capture, recorder) and dropped windows.")
    soak.add_argument("--minutes", type=float, default=30.0, help="wall minutes (default 30)")
    soak.add_argument("--speed", type=float, default=10.0, help="replay speed (default 10)")
    soak.add_argument("--source", help="replay:FILE | dataset:FILE | a file (default: a scene of --people people)")
    soak.add_argument("--people", type=int, default=2, help="people in the default scene (default 2)")
    soak.add_argument("--sample", help="a dataset file whose first body makes the default scene")
    soak.add_argument("--stride", type=int, default=3)
    soak.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples (default 5)")
    soak.add_argument("--warmup", type=float, help="seconds before memory growth counts (default min(60, run/4))")
    soak.add_argument("--record", action="store_true", help="also record to a temporary .kinrec (deleted after)")
    soak.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    few = sub.add_parser("few-shot", help="MSR Action3D's 6 actions new to the shipped model: fine-tune vs scratch "
                         "vs 1-NN at k shots per class",
                         description="Import hammer, draw tick, bend, forward kick, side kick and golf swing (MSR "
                                     "Action3D) to .kinrec; for each k and draw train on k segments per class of the "
                                     "odd subjects and test on every segment of the even subjects: fine-tuning the "
                                     "checkpoint, the ours recipe from scratch, and 1-nearest-neighbour.")
    few.add_argument("--data", required=True, help="MSR Action3D folder (its skeleton files are found at any depth)")
    few.add_argument("--from", dest="init_from", metavar="CKPT",
                     help="checkpoint to fine-tune (default: the shipped model)")
    few.add_argument("--shots", default="1,3,5,10", help="k values, segments per class (default 1,3,5,10)")
    few.add_argument("--draws", type=int, default=3, help="draws of the shots per k (default 3)")
    few.add_argument("--scratch-epochs", type=int, help="epochs from scratch (default 30, as many as fine-tuning)")
    few.add_argument("--work", help="folder for the imported recordings and finished runs (kept, and a rerun skips "
                                    "runs already there); default a temporary folder")
    few.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    for q in (lat, pipe, soak):
        q.add_argument("checkpoint", nargs="?", help=_MODEL_HELP)
        q.add_argument("--spec", help='model spec as JSON for random weights, e.g. \'{"name": "skeleton", '
                                      '"num_joints": 20, "num_classes": 27, "in_channels": 9, ...}\'')
    for q in (pipe, soak):
        q.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
        q.add_argument("--threads", type=int, help="backend intra-op threads (default: the library's)")
    for q in (io, lat, pipe, soak, few):
        q.add_argument("--json", action="store_true", help="print exactly one JSON object")
        q.add_argument("--out", help="also write the JSON result to this file (e.g. bench/io.json)")


def _finite(obj):
    """NaN and infinities (an empty measurement) as null: strict JSON parsers refuse them."""
    if isinstance(obj, float) and obj != obj or obj in (float("inf"), float("-inf")):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _emit(result: dict, args, lines: list[str]) -> None:
    from kinact.app.commands.common import dumps, print_json

    result = _finite(result)

    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(dumps(result) + "\n")
    if args.json:
        print_json(result)
    else:
        print("\n".join(lines))


def _spec(args) -> dict | None:
    from kinact.core.errors import KinactError

    if not args.spec:
        return None
    try:
        spec = json.loads(args.spec)
    except json.JSONDecodeError as exc:
        raise KinactError(f"--spec is not valid JSON ({exc})") from None
    if not isinstance(spec, dict) or "name" not in spec:
        raise KinactError('--spec must be a JSON object with a "name", e.g. {"name": "skeleton", ...}')
    return spec


def _shipped_or_fail() -> str:
    from kinact.core import assets
    from kinact.core.errors import KinactError

    shipped = assets.shipped_model()
    if shipped is None:
        raise KinactError("give a CHECKPOINT, or --spec JSON for a model with random weights "
                          "(this install ships no model yet)")
    return str(shipped)


@contextmanager
def _checkpoint(args):
    """The checkpoint to time: the one given, one of --spec with random weights (in a temporary folder), or the
    shipped one."""
    spec = _spec(args)
    if args.checkpoint or spec is None:
        yield args.checkpoint or _shipped_or_fail()
        return
    from kinact.core.bench.scene import random_checkpoint
    from kinact.core.errors import KinactError

    with tempfile.TemporaryDirectory(prefix="kinact-bench-") as tmp:
        try:
            path = random_checkpoint(Path(tmp) / "random.safetensors", spec)
        except (ValueError, TypeError) as exc:
            raise KinactError(f"--spec not understood ({exc})") from None
        yield path


def _ints(text: str, what: str) -> list[int]:
    from kinact.core.errors import KinactError

    try:
        out = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise KinactError(f"{what} must be comma-separated whole numbers, got {text!r}") from None
    if not out or min(out) < 1:
        raise KinactError(f"{what} must be positive, got {text!r}")
    return out


def _f(x, fmt: str = ".2f") -> str:
    return "n/a" if x is None or x != x else format(x, fmt)


def _latency(args) -> int:
    from kinact.core.bench.latency import run_latency_bench

    spec = _spec(args)
    ckpt = args.checkpoint or (None if spec else _shipped_or_fail())
    r = run_latency_bench(ckpt, None if ckpt else spec, batch=args.batch, repeats=args.repeats,
                          warmup=args.warmup, threads=args.threads,
                          batch_sizes=_ints(args.batch_sizes, "--batch-sizes"))
    m = r["model"]
    lines = [f"model {m['name']} ({m['params']:,} parameters, {m['source']}), batch {args.batch}, "
             f"{args.threads} threads, {args.repeats} calls"]
    for kind in ("torch", "onnxruntime", "onnxruntime_split"):
        if kind == "onnxruntime_split" and kind not in r:
            continue
        st = r[kind] or {}
        if "median_ms" in st:
            lines.append(f"  {kind:12s} median {st['median_ms']:7.3f} ms   p95 {st['p95_ms']:7.3f} ms")
        else:
            lines.append(f"  {kind:12s} {st.get('error', 'not measured')}")
    if r["ratio_onnx_over_torch"]:
        q = r["ratio_onnx_over_torch"]
        lines.append(f"  onnx/torch   median {q['median']:.2f}   p95 {q['p95']:.2f}   "
                     f"(parity {r['parity_max_abs_diff']:.1e})")
    if "paced" in r:
        pc = r["paced"]
        lines.append(f"  onnxruntime_split = one window's GRU nodes in {r['onnxruntime_split']['parts']} parts at "
                     f"once (the Predictor runs it or the whole graph, whichever is faster lately); split/whole "
                     f"{r['ratio_split_over_onnx']['paired_median']:.2f}; one call every {pc['gap_ms']:.0f} ms: "
                     f"whole {pc['onnxruntime']['median_ms']:.2f} ms, split {pc['onnxruntime_split']['median_ms']:.2f} "
                     f"ms, faster-of {pc['onnxruntime_faster_of']['median_ms']:.2f} ms")
    for kind, rows in r["batching"].items():
        if rows:
            lines.append(f"  batch sweep {kind}: " + "  ".join(
                f"{row['batch']}: {row['median_ms']:.2f} ms ({row['vs_batch1']:.2f}x)" for row in rows))
    _emit(r, args, lines)
    return 0


def _pipeline(args) -> int:
    from kinact.core.bench.pipeline_bench import run_pipeline_bench

    with _checkpoint(args) as ckpt:
        r = run_pipeline_bench(ckpt, people=_ints(args.people, "--people"), seconds=args.seconds,
                               backend=args.backend, stride=args.stride, fps=args.fps, sample=args.sample,
                               threads=args.threads, batch=args.batch, workers=args.workers)
    if args.spec and not args.checkpoint:
        r["model"]["checkpoint"] = "random weights from --spec"
        r["model"]["spec"] = _spec(args)
    tp, rt = r["throughput"], r["realtime"]
    lines = [f"pipeline vs model alone — {r['model']['name']} on {r['model']['backend']}, "
             f"window {r['model']['window_seconds']:g} s, load average {r['environment']['loadavg_before']}",
             f"(a) stride 1, {tp['batch']} body: model alone {tp['model_only']['windows_per_s']:.1f} windows/s",
             f"    engine (sync)    {tp['engine_sync']['windows_per_s']:8.1f} windows/s   ratio "
             f"{tp['engine_sync']['ratio_vs_model']:.2f} (target >= {tp['target_ratio']})",
             f"    runner (speed 0) {tp['runner_speed0']['windows_per_s']:8.1f} windows/s   ratio "
             f"{tp['runner_speed0']['ratio_vs_model']:.2f}",
             f"(b) {rt['fps']:g} fps, stride {rt['stride']}:",
             "    people  model ms  step ms p50/p95   e2e ms p50/p95   target  capture fps  dropped frames/windows"]
    for row in rt["per_people"]:
        lines.append(f"    {row['people']:6d}  {row['model_median_ms']:8.2f}  {_f(row['infer_median_ms']):>7s}/"
                     f"{_f(row['infer_p95_ms']):<7s}  {_f(row['e2e_p50_ms']):>7s}/{_f(row['e2e_p95_ms']):<7s}  "
                     f"{row['target_p95_ms']:6.1f}{'' if row['meets_target'] else '!'}  {row['capture_fps']:11.1f}  "
                     f"{row['dropped_frames']}/{row['dropped_windows']}")
    c = rt["cost_ratio"]
    lines.append(f"    cost {c['people'][1]} vs {c['people'][0]} people: {_f(c['infer_median'])}x (goal <= {c['goal']})"
                 f"   keeps up: {'yes' if rt['keeps_up'] else 'no'}   (c) p95 within target: "
                 f"{'yes' if rt['meets_latency_target'] else 'no'}")
    _emit(r, args, lines)
    return 0


def _soak(args) -> int:
    import sys

    from kinact.core.bench.soak import run_soak

    def progress(row):
        if not args.quiet:
            print(f"[soak] {row['t']:7.1f} s  rss {row['rss_mb']:7.1f} MB  frames {row['frames']}  "
                  f"dropped windows {row['dropped_windows']}  capture drops {row['capture_dropped']}",
                  file=sys.stderr, flush=True)

    with _checkpoint(args) as ckpt:
        r = run_soak(ckpt, minutes=args.minutes, speed=args.speed, source=args.source, backend=args.backend,
                     stride=args.stride, people=args.people, sample=args.sample, sample_every=args.sample_every,
                     warmup_seconds=args.warmup, record=args.record, threads=args.threads, progress=progress)
    m, d = r["rss_mb"], r["dropped_frames"]
    lines = [f"soak {r['wall_s']:.0f} s wall = {r['stream_s']:.0f} s of stream at {args.speed:g}x "
             f"({r['settings']['source']}, {r['settings']['backend']})",
             f"  rss MB: start {m['start']:.1f}  after warm-up {m['after_warmup']:.1f}  end {m['end']:.1f}  "
             f"max {m['max']:.1f}   growth {_f(r['rss_growth_pct'])} %  "
             f"slope {_f(r['rss_slope_mb_per_hour'], '.1f')} MB/h",
             f"  frames {r['frames_seen']}  achieved speed {_f(r['achieved_speed'])}x  dropped frames: capture "
             f"{d['capture']}, recorder {d['recorder']}   dropped windows {r['dropped_windows']}",
             f"  latency p50 {_f(r['latency_ms']['p50'])} ms  p95 {_f(r['latency_ms']['p95'])} ms   state {r['state']}"
             + (f"  error: {r['error']}" if r["error"] else "")]
    _emit(r, args, lines)
    return 0


def _few_shot(args) -> int:
    from kinact.core.bench import few_shot as fs

    ckpt = args.init_from or _shipped_or_fail()
    shots = _ints(args.shots, "--shots")
    _ints(str(args.draws), "--draws")
    epochs = args.scratch_epochs or fs.SCRATCH_EPOCHS
    say = fs.progress_printer(args.quiet)
    if args.work:
        r = fs.run_few_shot(args.data, ckpt, args.work, shots, args.draws, scratch_epochs=epochs, say=say)
    else:
        with tempfile.TemporaryDirectory(prefix="kinact-fewshot-") as tmp:
            r = fs.run_few_shot(args.data, ckpt, tmp, shots, args.draws, scratch_epochs=epochs, say=say)
    _emit(r, args, fs.table_lines(r))
    return 0


def run(args) -> int:
    if args.what == "few-shot":
        return _few_shot(args)
    if args.what == "latency":
        return _latency(args)
    if args.what == "pipeline":
        return _pipeline(args)
    if args.what == "soak":
        return _soak(args)
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
