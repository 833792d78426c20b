"""Latency bench: torch and ONNX Runtime timed in one run, batch sweep, a JSON-ready report."""
import json

import pytest
import torch

from kinact.core.bench.latency import run_latency_bench, summarize
from kinact.core.checkpoint import CheckpointMeta, save_checkpoint
from kinact.models.registry import build_model

SPEC = {"name": "skeleton", "num_joints": 6, "num_classes": 3, "in_channels": 3, "num_frames": 10, "hidden": 8,
        "stcm": "temporal", "channels": [8, 16], "blocks": [1, 1], "strides": [1, 2]}
TINY = dict(repeats=4, warmup=1, threads=1, batch_sizes=(1, 2), sweep_repeats=3)


def _positive_stats(st, n):
    assert st["n"] == n
    assert 0 < st["min_ms"] <= st["median_ms"] <= st["p95_ms"] <= st["max_ms"]
    assert st["per_window_median_ms"] > 0


def test_spec_bench_times_both_backends_and_the_batch_sweep():
    pytest.importorskip("onnxruntime")
    threads = torch.get_num_threads()
    r = run_latency_bench(model_spec=SPEC, **TINY)
    assert torch.get_num_threads() == threads  # restored
    json.dumps(r)  # plain types only
    assert r["model"]["source"] == "spec" and r["model"]["params"] > 0 and r["model"]["onnx_bytes"] > 0
    assert r["model"]["inputs"] == {"skeleton": ["batch", 3, 10, 6]}
    assert r["settings"]["threads"] == 1 and r["environment"]["onnxruntime"]
    _positive_stats(r["torch"], 4)
    _positive_stats(r["onnxruntime"], 4)
    ratio = r["onnxruntime"]["median_ms"] / r["torch"]["median_ms"]
    assert r["ratio_onnx_over_torch"]["median"] == pytest.approx(ratio)
    assert r["ratio_onnx_over_torch"]["p95"] > 0
    assert r["parity_max_abs_diff"] < 1e-4
    assert r["ratio_onnx_over_torch"]["paired_median"] > 0 and r["settings"]["interleaved"]
    for kind in ("torch", "onnxruntime"):
        rows = r["batching"][kind]
        assert [row["batch"] for row in rows] == [1, 2]
        assert all(row["median_ms"] > 0 and row["p95_ms"] > 0 and row["cpu_median_ms"] >= 0 for row in rows)
        assert rows[0]["vs_batch1"] == 1.0
        assert rows[1]["per_window_ms"] == pytest.approx(rows[1]["median_ms"] / 2)
    for row, ref in zip(r["batching"]["onnxruntime"], r["batching"]["torch"]):
        assert row["onnx_over_torch"] == pytest.approx(row["median_ms"] / ref["median_ms"])


def test_bench_profiles_onnxruntime_and_times_the_export_recipe_against_the_plain_export():
    pytest.importorskip("onnxruntime")
    from kinact.core.onnx_export import EXPORT_RECIPE

    r = run_latency_bench(model_spec=SPEC, **{**TINY, "profile_repeats": 3})
    assert r["model"]["onnx_recipe"] == EXPORT_RECIPE
    assert [p["batch"] for p in r["onnx_profile"]] == [1, 2]
    for p in r["onnx_profile"]:
        assert p["run_ms"] > 0 and "GRU" in p["ops"] and any("Conv" in op for op in p["ops"])
        assert all(v >= 0 for v in p["ops"].values())
    assert [c["batch"] for c in r["onnx_recipe_vs_plain"]] == [1, 2]
    for c in r["onnx_recipe_vs_plain"]:
        assert c["paired_median"] > 0 and c["recipe_median_ms"] > 0 and c["plain_median_ms"] > 0
        assert c["recipe_cpu_ms"] >= 0 and c["plain_cpu_ms"] >= 0
    assert run_latency_bench(model_spec=SPEC, **{**TINY, "profile_repeats": 0})["onnx_profile"] == []


def test_checkpoint_bench_uses_its_weights_and_a_larger_batch(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, build_model(SPEC).state_dict(), CheckpointMeta(model=SPEC, classes=["a", "b", "c"]))
    r = run_latency_bench(path, batch=3, **TINY)
    assert r["model"]["source"] == "checkpoint" and r["model"]["checkpoint"] == str(path)
    assert r["torch"]["per_window_median_ms"] == pytest.approx(r["torch"]["median_ms"] / 3)


def test_bench_without_onnxruntime_still_times_torch(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    r = run_latency_bench(model_spec=SPEC, **TINY)
    assert r["torch"]["median_ms"] > 0
    assert "error" in r["onnxruntime"] and r["ratio_onnx_over_torch"] is None
    assert r["batching"]["onnxruntime"] == []


def test_bad_arguments():
    with pytest.raises(ValueError):
        run_latency_bench()
    with pytest.raises(ValueError):
        run_latency_bench("x.safetensors", model_spec=SPEC)
    with pytest.raises(ValueError):
        run_latency_bench(model_spec=SPEC, repeats=0)
    assert summarize([0.001, 0.003, 0.002])["median_ms"] == pytest.approx(2.0)


def test_with_two_threads_the_bench_also_times_the_split_graph_back_to_back_and_paced():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from kinact.core.batch_split import usable_cores

    if usable_cores() < 2:
        pytest.skip("the graph split needs 2 usable cores")
    r = run_latency_bench(model_spec=SPEC, **{**TINY, "threads": 2, "profile_repeats": 0, "paced_calls": 3,
                                              "paced_gap_s": 0.001})
    json.dumps(r)
    _positive_stats(r["onnxruntime_split"], 4)
    assert r["onnxruntime_split"]["parts"] == 2 and r["onnxruntime_split"]["parity_max_abs_diff"] < 1e-4
    assert r["ratio_split_over_onnx"]["paired_median"] > 0
    paced = r["paced"]
    kinds = ("onnxruntime", "onnxruntime_split", "onnxruntime_faster_of")
    assert paced["gap_ms"] == pytest.approx(1.0) and [paced[k]["n"] for k in kinds] == [3, 3, 3]
    assert paced["over_first"]["onnxruntime_split"] == pytest.approx(
        paced["onnxruntime_split"]["median_ms"] / paced["onnxruntime"]["median_ms"])
    assert sum(paced["faster_of_calls"].values()) == 3
