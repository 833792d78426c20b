"""How long one classification takes: torch eager against ONNX Runtime on the CPU, in the same run.

Both backends run the same weights on the same inputs in one process with the same thread count, and their
calls are interleaved in short rounds (5 torch, 5 onnx, 5 onnx, 5 torch, ...) rather than timed one long block
after the other: on a shared machine the load changes within seconds, and interleaving lets both backends
see the same load, so the ratios (onnx / torch, batch B / batch 1) stay meaningful where the absolute
numbers do not. Latency is per call, timed with `time.perf_counter` after a warm-up (the first calls
allocate and plan); median and 95th percentile are reported, since a real-time pipeline cares about the slow
tail, with the CPU time per call and the load average next to them as a hint how loaded the machine was. A
sweep over batch sizes shows what several tracked bodies cost in one call compared with one body: the live
pipeline batches every due window of a stride into one call. An ONNX Runtime profile (per operator type)
says where the time goes, and the export recipe is timed against the exporter's plain translation.

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

from kinact.core.batch_split import CoreWorkers, usable_cores
from kinact.core.faster_of import FasterOf
from kinact.core.graph_split import build_graph_split

__all__ = ["run_latency_bench", "summarize", "onnx_profile"]

DEFAULT_BATCH_SIZES = (1, 2, 4, 6)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Latency statistics in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    return {
        "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean()),
        "min_ms": float(ms.min()), "max_ms": float(ms.max()), "n": int(ms.size),
    }


def _interleaved(calls: Mapping[Any, Callable[[], Any]], repeats: int, warmup: int, block: int = 5
                 ) -> tuple[dict, dict, dict]:
    """Wall and CPU seconds per call of each callable, timed in alternating rounds of `block` calls each.

    Rounds rather than single alternating calls, and one untimed call at the start of each block: a
    runtime's worker threads keep spinning for a moment after its call, and the other runtime's first call
    would otherwise pay for that. Also returns the median wall time of every round, per callable, so the
    ratio of two callables can be taken round by round (under the same load).
    """
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    keys = list(calls)
    wall: dict[Any, list[float]] = {k: [] for k in keys}
    cpu: dict[Any, list[float]] = {k: [] for k in keys}
    rounds: dict[Any, list[float]] = {k: [] for k in keys}
    done = 0
    while done < repeats:
        n = min(block, repeats - done)
        for k in keys if len(rounds[keys[0]]) % 2 == 0 else keys[::-1]:  # no callable always runs after another
            calls[k]()
            times = []
            for _ in range(n):
                c0, t0 = time.process_time(), time.perf_counter()
                calls[k]()
                times.append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
            wall[k] += times
            rounds[k].append(float(np.median(times)))
        done += n
    return wall, cpu, rounds


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
    profile_repeats: int = 50,
    paced_calls: int = 60,
    paced_gap_s: float = 2 / 30,
) -> dict:
    """Time torch eager and ONNX Runtime (CPU) on one model; returns a JSON-serialisable dict.

    Give either ckpt_path (a checkpoint; its weights are used) or model_spec (a models.registry spec; random
    weights, which time the same as trained ones). batch: windows per call for the headline numbers.
    threads: torch.set_num_threads and ONNX Runtime's intra_op_num_threads (torch's setting is restored
    afterwards). batch_sizes: the sweep, each size timed `sweep_repeats` times (default max(5, repeats // 4)),
    all sizes and both backends interleaved. profile_repeats: calls profiled per batch size (batch 1 and the
    largest of the sweep); 0 skips the profile. Without onnxruntime the torch half is still measured and
    "onnxruntime" says why it is missing.

    Keys: model {source, checkpoint, spec, name, params, inputs, onnx_bytes, onnx_recipe}, settings, environment
    (with load_average before and after), torch / onnxruntime {median_ms, p95_ms, mean_ms, min_ms, max_ms, n,
    cpu_median_ms, per_window_median_ms}, ratio_onnx_over_torch {median (of the medians), p95, paired_median
    (median over the interleaved rounds of each round's ratio)}, parity_max_abs_diff, batching {torch: [...],
    onnxruntime: [...]} with {batch, median_ms, p95_ms, cpu_median_ms, per_window_ms, vs_batch1} per size and,
    for onnxruntime, onnx_over_torch; onnx_recipe_vs_plain [{batch, paired_median (recipe / plain, per round),
    recipe_median_ms, plain_median_ms, recipe_cpu_ms, plain_cpu_ms}] against the exporter's plain translation
    at batch 1 and the largest batch; onnx_profile [{batch, run_ms, ops: {op type: ms}}] (see `onnx_profile`).

    With threads >= 2 on a machine with 2+ usable cores and a model whose GRU nodes split (core/graph_split.py;
    the Predictor runs one window that way or whole, whichever is faster lately), also onnxruntime_split
    {... as onnxruntime, parts, parity_max_abs_diff} in the same interleaved rounds, ratio_split_over_onnx {paired_median}, and paced
    {gap_ms, onnxruntime, onnxruntime_split, onnxruntime_faster_of, over_first {...}, faster_of_calls}:
    `paced_calls` calls of each in rotating order with `paced_gap_s` of sleep before every call (default 2/30 s:
    stride 2 at 30 fps, as live), because a core that idled between strides starts each call cold and
    back-to-back timing hides that; faster_of is what the Predictor runs for one window (core/faster_of.py).
    """
    import torch

    from kinact.models.registry import build_model as build_from_spec
    from kinact.models.registry import count_parameters

    if (ckpt_path is None) == (model_spec is None):
        raise ValueError("give exactly one of ckpt_path and model_spec")
    if batch < 1 or repeats < 1 or warmup < 0 or threads < 1 or profile_repeats < 0:
        raise ValueError("batch, repeats and threads must be >= 1, warmup and profile_repeats >= 0")
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
            "onnx_bytes": None, "onnx_recipe": None,
        },
        "settings": {"batch": batch, "repeats": repeats, "warmup": warmup, "threads": threads,
                     "batch_sizes": sizes, "sweep_repeats": sweep_repeats, "interleaved": True,
                     "profile_repeats": profile_repeats},
        "environment": _environment(),
        "torch": None, "onnxruntime": None, "ratio_onnx_over_torch": None, "parity_max_abs_diff": None,
        "batching": {"torch": [], "onnxruntime": []}, "onnx_recipe_vs_plain": [], "onnx_profile": [],
    }
    try:
        def torch_call(xs: list[np.ndarray]) -> Callable[[], Any]:
            ts = [torch.from_numpy(x) for x in xs]

            def call():
                with torch.inference_mode():
                    return model(*ts)

            return call

        session = graph = None
        with tempfile.TemporaryDirectory(prefix="kinact-latency-") as tmp:
            try:
                session, onnx_path = _onnx_session(model, input_spec, threads, report, tmp)
            except ImportError as exc:
                report["onnxruntime"] = {"error": f"onnxruntime not installed ({exc})"}
            if session is not None and threads >= 2 and usable_cores() >= 2:
                import onnxruntime as ort

                from kinact.core.inference import session_options

                pool = CoreWorkers(min(threads, usable_cores()))
                graph = build_graph_split(onnx_path, session, ort, session_options(ort, 1),
                                          session_options(ort, threads), ["CPUExecutionProvider"], pool)
            if session is not None:
                ends = sorted({1, max(sizes + [batch])})
                plain = _plain_session(model, input_spec, threads, tmp)
                feeds = {b: dict(zip(names, inputs(b))) for b in ends}
                report["onnx_recipe_vs_plain"] = _recipe_vs_plain(session, plain, feeds, sweep_repeats, warmup)
                for b in ends if profile_repeats else ():
                    report["onnx_profile"].append(onnx_profile(onnx_path, feeds[b], threads, profile_repeats, tmp))

        def onnx_call(xs: list[np.ndarray]) -> Callable[[], Any]:
            feed = dict(zip(names, xs))
            return lambda: session.run(None, feed)

        kinds = {"torch": torch_call, **({"onnxruntime": onnx_call} if session is not None else {})}
        xs = inputs(batch)
        headline = {k: make(xs) for k, make in kinds.items()}
        if graph is not None and batch == 1:
            headline["onnxruntime_split"] = lambda: graph(tuple(xs))
        wall, cpu, rounds = _interleaved(headline, repeats, warmup)
        for k in headline:
            report[k] = _stats(wall[k], cpu[k], batch)
        if "onnxruntime_split" in headline:
            report["onnxruntime_split"]["parts"] = graph.parts
            report["onnxruntime_split"]["parity_max_abs_diff"] = float(np.abs(
                graph(tuple(xs)) - session.run(None, dict(zip(names, xs)))[0]).max())
            report["ratio_split_over_onnx"] = {"paired_median": float(np.median(
                np.asarray(rounds["onnxruntime_split"]) / np.asarray(rounds["onnxruntime"])))}
            if paced_calls:
                adaptive = FasterOf(graph, lambda arrays: session.run(None, dict(zip(names, arrays))))
                report["paced"] = _paced({"onnxruntime": headline["onnxruntime"],
                                          "onnxruntime_split": headline["onnxruntime_split"],
                                          "onnxruntime_faster_of": lambda: adaptive(tuple(xs))},
                                         paced_calls, paced_gap_s)
                report["paced"]["faster_of_calls"] = {"split": adaptive.calls[0], "whole": adaptive.calls[1]}
        if session is not None:
            with torch.inference_mode():
                ref = model(*[torch.from_numpy(x) for x in xs]).numpy()
            report["parity_max_abs_diff"] = float(np.abs(session.run(None, dict(zip(names, xs)))[0] - ref).max())
            paired = np.asarray(rounds["onnxruntime"]) / np.asarray(rounds["torch"])
            report["ratio_onnx_over_torch"] = {
                **{k: report["onnxruntime"][f"{k}_ms"] / report["torch"][f"{k}_ms"] for k in ("median", "p95")},
                "paired_median": float(np.median(paired)),
            }
        calls = {(k, b): make(inputs(b)) for b in sizes for k, make in kinds.items()}
        wall, cpu, _ = _interleaved(calls, sweep_repeats, max(1, min(warmup, 5)))
        for kind in kinds:
            rows = report["batching"][kind]
            for b in sizes:
                st = summarize(wall[(kind, b)])
                rows.append({"batch": b, "median_ms": st["median_ms"], "p95_ms": st["p95_ms"],
                             "cpu_median_ms": float(np.median(cpu[(kind, b)]) * 1e3),
                             "per_window_ms": st["median_ms"] / b})
            base = next((r["median_ms"] for r in rows if r["batch"] == 1), None)
            for r in rows:
                r["vs_batch1"] = None if base is None else r["median_ms"] / base
        for row, ref_row in zip(report["batching"]["onnxruntime"], report["batching"]["torch"]):
            row["onnx_over_torch"] = row["median_ms"] / ref_row["median_ms"]
    finally:
        torch.set_num_threads(old_threads)
        report["environment"]["load_average_after"] = _load_average()
    return report


def _paced(calls: Mapping[str, Callable[[], Any]], n: int, gap_s: float) -> dict:
    """Median/p95 of each call, `n` calls each in rotating order, `gap_s` of sleep before every call (see
    run_latency_bench), and each one's median over the first one's."""
    keys = list(calls)
    times: dict[str, list[float]] = {k: [] for k in keys}
    for i in range(n):
        for k in keys[i % len(keys):] + keys[:i % len(keys)]:
            time.sleep(gap_s)
            t0 = time.perf_counter()
            calls[k]()
            times[k].append(time.perf_counter() - t0)
    out: dict[str, Any] = {"gap_ms": gap_s * 1e3, **{k: summarize(v) for k, v in times.items()}}
    out["over_first"] = {k: out[k]["median_ms"] / out[keys[0]]["median_ms"] for k in keys[1:]}
    return out


def _stats(wall: list[float], cpu: list[float], batch: int) -> dict[str, float]:
    st = summarize(wall)
    st["cpu_median_ms"] = float(np.median(cpu) * 1e3)
    st["per_window_median_ms"] = st["median_ms"] / batch
    return st


def _onnx_session(model, input_spec: Mapping[str, tuple], threads: int, report: dict, folder: str):
    import onnxruntime as ort

    from kinact.core.inference import session_options
    from kinact.core.onnx_export import export_onnx_model

    path = os.path.join(folder, "model.onnx")
    info = export_onnx_model(model, path, input_spec, verify=False)
    report["model"]["onnx_bytes"] = info["size_bytes"]
    report["model"]["onnx_recipe"] = info["recipe"]
    session = ort.InferenceSession(path, session_options(ort, threads), providers=["CPUExecutionProvider"])
    return session, path


def _plain_session(model, input_spec: Mapping[str, tuple], threads: int, folder: str):
    """The exporter's own translation (its GRU symbolic with the shape glue, 1-D convolutions, no rewrite):
    the baseline that tells, in the same run, what the export recipe buys."""
    import onnxruntime as ort

    from kinact.core.inference import session_options
    from kinact.core.onnx_export import export_onnx_model
    from kinact.models.grouped import GroupedBiGRU

    grus = [m for m in model.modules() if isinstance(m, GroupedBiGRU)]
    saved = [m.__dict__.get("impl") for m in grus]
    path = os.path.join(folder, "plain.onnx")
    try:
        for m in grus:
            m.impl = "split"  # traced, torch's own GRU export
        export_onnx_model(model, path, input_spec, verify=False, rewrite=False)
    finally:
        for m, impl in zip(grus, saved):
            if impl is None:
                m.__dict__.pop("impl", None)
            else:
                m.impl = impl
    return ort.InferenceSession(path, session_options(ort, threads), providers=["CPUExecutionProvider"])


def _recipe_vs_plain(recipe, plain, feeds: Mapping[int, dict], repeats: int, warmup: int) -> list[dict]:
    calls = {(kind, b): (lambda s=sess, feed=feed: s.run(None, feed))
             for b, feed in feeds.items() for kind, sess in (("recipe", recipe), ("plain", plain))}
    wall, cpu, rounds = _interleaved(calls, repeats, max(1, min(warmup, 5)))
    rows = []
    for b in feeds:
        paired = np.asarray(rounds[("recipe", b)]) / np.asarray(rounds[("plain", b)])
        rows.append({"batch": b, "paired_median": float(np.median(paired)),
                     **{f"{kind}_{stat}": float(np.median(src[(kind, b)]) * 1e3)
                        for kind in ("recipe", "plain") for stat, src in (("median_ms", wall), ("cpu_ms", cpu))}})
    return rows


def onnx_profile(path: str, feed: Mapping[str, np.ndarray], threads: int, repeats: int, folder: str) -> dict:
    """Where ONNX Runtime spends a call, from its own profiler: {batch, run_ms, ops: {op type: ms}}.

    Per node the 10th percentile of its kernel time over `repeats` calls, summed per operator type: a
    machine shared with other work inflates the median of every node, the fast calls much less. run_ms is the
    10th percentile of the whole call, so run_ms minus the sum of ops is the executor's own overhead.
    """
    import onnxruntime as ort

    from kinact.core.inference import session_options

    options = session_options(ort, threads)
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(folder, "ort_profile")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    for _ in range(repeats + 5):
        session.run(None, dict(feed))
    trace = session.end_profiling()
    with open(trace) as f:
        events = json.load(f)
    os.remove(trace)
    per_node: dict[str, list[float]] = {}
    op_type: dict[str, str] = {}
    runs = []
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            per_node.setdefault(e["name"], []).append(e["dur"])
            op_type[e["name"]] = e.get("args", {}).get("op_name", "?")
        elif e.get("cat") == "Session" and e.get("name") == "model_run":
            runs.append(e["dur"])
    ops: dict[str, float] = {}
    for node, durations in per_node.items():
        ops[op_type[node]] = ops.get(op_type[node], 0.0) + float(np.percentile(durations[5:] or durations, 10)) / 1e3
    batch = int(next(iter(feed.values())).shape[0])
    return {"batch": batch, "run_ms": float(np.percentile(runs[5:] or runs, 10)) / 1e3 if runs else None,
            "ops": dict(sorted(ops.items(), key=lambda kv: -kv[1]))}


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _environment() -> dict[str, Any]:
    import torch

    env: dict[str, Any] = {
        "python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor() or None, "cpu_count": os.cpu_count(), "torch": torch.__version__,
        "onnxruntime": None, "load_average_before": _load_average(),
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
