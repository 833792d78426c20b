"""How long one classification takes: torch eager against ONNX Runtime on the CPU, in the same run.

Both backends run the same weights on the same inputs in one process with the same thread count, so the
ratio (onnx / torch) is comparable across machines even where the absolute numbers are not. Latency is
per call, timed one call at a time with `time.perf_counter` after a warm-up (the first calls allocate and
plan); median and 95th percentile are reported, since a real-time pipeline cares about the slow tail. A
sweep over batch sizes shows what several tracked bodies cost in one call compared with one body: the
live pipeline batches every due window of a stride into one call.

    from kinact.core.bench.latency import run_latency_bench
    report = run_latency_bench("runs/utd/model.safetensors")                   # a trained checkpoint
    report = run_latency_bench(model_spec={"name": "skeleton", "num_joints": 20, "num_classes": 27,
                                           "in_channels": 9, "stcm": "temporal"})  # random weights

or `python -m kinact.core.bench.latency [CKPT] [--spec JSON] [--threads N] ...` for the JSON report.
"""
from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["run_latency_bench", "summarize"]

DEFAULT_BATCH_SIZES = (1, 2, 4, 6)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Latency statistics in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    return {
        "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean()),
        "min_ms": float(ms.min()), "max_ms": float(ms.max()), "n": int(ms.size),
    }


def _time_calls(fn: Callable[[], Any], repeats: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run_latency_bench(
    ckpt_path: str | os.PathLike | None = None,
    model_spec: Mapping[str, Any] | None = None,
    batch: int = 1,
    repeats: int = 200,
    warmup: int = 20,
    threads: int = 2,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    sweep_repeats: int | None = None,
    seed: int = 0,
) -> dict:
    """Time torch eager and ONNX Runtime (CPU) on one model; returns a JSON-serialisable dict.

    Give either ckpt_path (a checkpoint; its weights are used) or model_spec (a models.registry spec; random
    weights, which time the same as trained ones). batch: windows per call for the headline numbers.
    threads: torch.set_num_threads and ONNX Runtime's intra_op_num_threads (torch's setting is restored
    afterwards). batch_sizes: the sweep, each size timed `sweep_repeats` times (default max(5, repeats // 4)).
    Without onnxruntime the torch half is still measured and "onnxruntime" says why it is missing.

    Keys: model {source, checkpoint, spec, name, params, inputs, onnx_bytes}, settings, environment,
    torch / onnxruntime {median_ms, p95_ms, mean_ms, min_ms, max_ms, n, per_window_median_ms},
    ratio_onnx_over_torch {median, p95}, parity_max_abs_diff, batching {torch: [...], onnxruntime: [...]}
    with {batch, median_ms, p95_ms, per_window_ms, vs_batch1} per size.
    """
    import torch

    from kinact.models.registry import build_model as build_from_spec
    from kinact.models.registry import count_parameters

    if (ckpt_path is None) == (model_spec is None):
        raise ValueError("give exactly one of ckpt_path and model_spec")
    if batch < 1 or repeats < 1 or warmup < 0 or threads < 1:
        raise ValueError("batch, repeats and threads must be >= 1 and warmup >= 0")
    sizes = [int(b) for b in batch_sizes]
    if any(b < 1 for b in sizes):
        raise ValueError("batch_sizes must be >= 1")
    sweep_repeats = max(5, repeats // 4) if sweep_repeats is None else int(sweep_repeats)

    if ckpt_path is not None:
        from kinact.core.checkpoint import build_model as build_from_meta
        from kinact.core.checkpoint import load_checkpoint

        state, meta = load_checkpoint(ckpt_path)
        model = build_from_meta(meta, state, ckpt_path)
        spec = dict(meta.model)
    else:
        spec = dict(model_spec)
        torch.manual_seed(seed)
        model = build_from_spec(spec)
    model = model.cpu().eval()
    input_spec = {n: tuple(s) for n, s in model.input_spec.items()}
    names = list(input_spec)
    rng = np.random.default_rng(seed)

    def inputs(b: int) -> list[np.ndarray]:
        return [rng.standard_normal((b, *[int(d) for d in s[1:]])).astype(np.float32) for s in input_spec.values()]

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    report: dict[str, Any] = {
        "model": {
            "source": "checkpoint" if ckpt_path is not None else "spec",
            "checkpoint": None if ckpt_path is None else os.fspath(ckpt_path),
            "spec": json.loads(json.dumps(spec, default=list)), "name": spec.get("name"),
            "params": count_parameters(model), "inputs": {n: list(s) for n, s in input_spec.items()},
            "onnx_bytes": None,
        },
        "settings": {"batch": batch, "repeats": repeats, "warmup": warmup, "threads": threads,
                     "batch_sizes": sizes, "sweep_repeats": sweep_repeats},
        "environment": _environment(),
        "torch": None, "onnxruntime": None, "ratio_onnx_over_torch": None, "parity_max_abs_diff": None,
        "batching": {"torch": [], "onnxruntime": []},
    }
    try:
        def torch_call(xs: list[np.ndarray]) -> Callable[[], Any]:
            ts = [torch.from_numpy(x) for x in xs]

            def call():
                with torch.inference_mode():
                    return model(*ts)

            return call

        session = None
        try:
            session = _onnx_session(model, input_spec, threads, report)
        except ImportError as exc:
            report["onnxruntime"] = {"error": f"onnxruntime not installed ({exc})"}

        def onnx_call(xs: list[np.ndarray]) -> Callable[[], Any]:
            feed = dict(zip(names, xs))
            return lambda: session.run(None, feed)

        xs = inputs(batch)
        report["torch"] = _stats(_time_calls(torch_call(xs), repeats, warmup), batch)
        if session is not None:
            report["onnxruntime"] = _stats(_time_calls(onnx_call(xs), repeats, warmup), batch)
            with torch.inference_mode():
                ref = model(*[torch.from_numpy(x) for x in xs]).numpy()
            report["parity_max_abs_diff"] = float(np.abs(session.run(None, dict(zip(names, xs)))[0] - ref).max())
            report["ratio_onnx_over_torch"] = {
                k: report["onnxruntime"][f"{k}_ms"] / report["torch"][f"{k}_ms"] for k in ("median", "p95")
            }
        for kind, make in (("torch", torch_call), ("onnxruntime", onnx_call if session is not None else None)):
            if make is None:
                continue
            rows = report["batching"][kind]
            for b in sizes:
                st = summarize(_time_calls(make(inputs(b)), sweep_repeats, max(1, min(warmup, 5))))
                rows.append({"batch": b, "median_ms": st["median_ms"], "p95_ms": st["p95_ms"],
                             "per_window_ms": st["median_ms"] / b})
            base = next((r["median_ms"] for r in rows if r["batch"] == 1), None)
            for r in rows:
                r["vs_batch1"] = None if base is None else r["median_ms"] / base
    finally:
        torch.set_num_threads(old_threads)
    return report


def _stats(seconds: list[float], batch: int) -> dict[str, float]:
    st = summarize(seconds)
    st["per_window_median_ms"] = st["median_ms"] / batch
    return st


def _onnx_session(model, input_spec: Mapping[str, tuple], threads: int, report: dict):
    import onnxruntime as ort

    from kinact.core.onnx_export import export_onnx_model

    with tempfile.TemporaryDirectory(prefix="kinact-latency-") as tmp:
        path = os.path.join(tmp, "model.onnx")
        info = export_onnx_model(model, path, input_spec, verify=False)
        report["model"]["onnx_bytes"] = info["size_bytes"]
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _environment() -> dict[str, Any]:
    import torch

    env: dict[str, Any] = {
        "python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor() or None, "cpu_count": os.cpu_count(), "torch": torch.__version__,
        "onnxruntime": None,
    }
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return env


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m kinact.core.bench.latency", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="?", help="a .safetensors checkpoint (else --spec)")
    ap.add_argument("--spec", help='a model spec as JSON, e.g. \'{"name": "skeleton", "num_joints": 20, ...}\'')
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)))
    args = ap.parse_args(argv)
    report = run_latency_bench(
        args.checkpoint, json.loads(args.spec) if args.spec else None, batch=args.batch, repeats=args.repeats,
        warmup=args.warmup, threads=args.threads, batch_sizes=[int(b) for b in args.batch_sizes.split(",") if b],
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
