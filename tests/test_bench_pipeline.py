"""Pipeline benchmark, soak and their CLI at toy size: every promised key is there and the numbers are sane.

Nothing here asserts a speed: timings on a shared CI machine say nothing; the ratios are checked for being
positive and finite only.
"""
import json
import math
import time

import numpy as np
import pytest

from kinact.core.bench.pipeline_bench import run_pipeline_bench
from kinact.core.bench.scene import SceneSource, SensorClock, pingpong, random_checkpoint, synthetic_motion
from kinact.core.bench.soak import rss_bytes, run_soak

SPEC = {"name": "skeleton", "num_joints": 20, "num_classes": 4, "in_channels": 6, "num_frames": 12, "hidden": 8,
        "stcm": "temporal", "channels": [8], "blocks": [1], "strides": [1]}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("bench") / "tiny.safetensors"
    return random_checkpoint(path, SPEC, window_seconds=0.5)


def _positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_scene_places_people_side_by_side_with_continuous_motion():
    motion = synthetic_motion(seconds=2.0)
    assert motion.shape == (60, 20, 3) and np.isfinite(motion).all()
    assert [pingpong(i, 4) for i in range(8)] == [0, 1, 2, 3, 2, 1, 0, 1]
    src = SceneSource(motion, people=3, spacing=0.8)
    frames = [src.read() for _ in range(200)]
    ids = [b.id for b in frames[0].bodies]
    assert ids == [1, 2, 3]
    hips = np.array([[b.joints[0] for b in f.bodies] for f in frames])  # (T, people, 3)
    assert np.allclose(np.diff(hips[..., 0].mean(0)), 0.8, atol=0.05)
    steps = np.linalg.norm(np.diff(np.array([[b.joints for b in f.bodies] for f in frames]), axis=0), axis=-1)
    assert steps.max() < 0.15  # no jump at the ping-pong turns
    assert not np.allclose(frames[50].bodies[0].joints - src.offsets[0], frames[50].bodies[1].joints - src.offsets[1])


def test_sensor_clock_paces_and_counts_frames_a_late_reader_lost():
    clock = SensorClock(SceneSource(synthetic_motion(seconds=1.0), 1, fps=30.0), speed=8.0)
    clock.open()
    t0 = time.monotonic()
    for _ in range(8):
        assert clock.read(timeout=1.0) is not None
    assert time.monotonic() - t0 >= 7 / 240 * 0.9  # on its schedule, not as fast as possible
    assert clock.dropped == 0
    time.sleep(0.1)  # 24 frame periods late: all but the buffered ones are gone
    clock.read(timeout=1.0)
    assert clock.dropped >= 15 and clock.delivered == 9
    clock.close()


def test_pipeline_bench_reports_throughput_latency_and_targets(ckpt):
    r = run_pipeline_bench(ckpt, people=(1, 2), seconds=0.5, stride=3)
    json.dumps(r)
    tp = r["throughput"]
    assert _positive(tp["model_only"]["windows_per_s"]) and tp["model_only"]["calls"] >= 5
    for key in ("engine_sync", "runner_speed0"):
        assert _positive(tp[key]["windows_per_s"]) and _positive(tp[key]["ratio_vs_model"])
        assert tp[key]["ratio_vs_model"] == pytest.approx(tp[key]["windows_per_s"] / tp["model_only"]["windows_per_s"])
    assert tp["runner_speed0"]["error"] == "" and len(tp["rounds"]) == 3
    rt = r["realtime"]
    assert rt["stride"] == 3 and [row["people"] for row in rt["per_people"]] == [1, 2]
    for row in rt["per_people"]:
        for key in ("model_median_ms", "infer_median_ms", "e2e_p50_ms", "e2e_p95_ms", "capture_fps", "target_p95_ms"):
            assert _positive(row[key]), key
        assert row["e2e_p50_ms"] <= row["e2e_p95_ms"]
        assert row["target_p95_ms"] == pytest.approx(100.0 + 2 * row["model_median_ms"])
        assert row["meets_target"] == (row["e2e_p95_ms"] <= row["target_p95_ms"])
        assert isinstance(row["dropped_frames"], int) and isinstance(row["dropped_windows"], int)
        assert row["frames_seen"] > 0 and row["error"] == ""
    assert _positive(rt["cost_ratio"]["infer_median"]) and rt["cost_ratio"]["people"] == [1, 2]
    assert isinstance(rt["keeps_up"], bool) and isinstance(rt["meets_latency_target"], bool)


def test_soak_samples_memory_and_counts_drops(ckpt):
    assert rss_bytes() > 10 * 2**20
    seen = []
    r = run_soak(ckpt, minutes=2.5 / 60, speed=4, sample_every=0.5, record=True, progress=seen.append)
    json.dumps(r)
    assert len(r["samples"]) == len(seen) >= 4
    m = r["rss_mb"]
    assert 0 < m["start"] and m["max"] >= m["end"] > 0 and m["after_warmup"] > 0
    assert r["rss_growth_pct"] is not None and r["settings"]["warmup_s"] == pytest.approx(2.5 / 4)
    assert r["frames_seen"] > 100 and r["predictions"] > 0
    assert r["stream_s"] > r["wall_s"] * 2  # ran faster than real time
    assert set(r["dropped_frames"]) == {"capture", "recorder", "total"}
    assert r["recording_bytes"] > 0 and r["state"] == "ended" and r["error"] == ""


def _one_json(capsys) -> dict:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    obj = json.loads(out)
    assert isinstance(obj, dict)
    return obj


def test_cli_bench_latency_and_pipeline_print_one_json_object(ckpt, tmp_path, capsys):
    from kinact.app.cli import main

    assert main(["bench", "latency", ckpt, "--repeats", "3", "--warmup", "1", "--threads", "1",
                 "--batch-sizes", "1,2", "--json"]) == 0
    lat = _one_json(capsys)
    assert lat["torch"]["median_ms"] > 0 and [row["batch"] for row in lat["batching"]["torch"]] == [1, 2]

    out = tmp_path / "bench" / "pipeline.json"
    assert main(["bench", "pipeline", ckpt, "--people", "1", "--seconds", "0.2", "--json", "--out", str(out)]) == 0
    pipe = _one_json(capsys)
    assert pipe["realtime"]["per_people"][0]["people"] == 1 and pipe["throughput"]["model_only"]["windows_per_s"] > 0
    assert json.loads(out.read_text())["settings"]["seconds"] == 0.2

    assert main(["bench", "latency", "--spec", json.dumps(SPEC), "--repeats", "2", "--warmup", "0", "--threads", "1",
                 "--batch-sizes", "1"]) == 0
    assert "onnx/torch" in capsys.readouterr().out  # the text report


def test_cli_bench_needs_a_model(monkeypatch, tmp_path, capsys):
    from kinact.app.cli import main

    monkeypatch.setenv("KINACT_MODEL", str(tmp_path / "none.safetensors"))
    assert main(["bench", "pipeline", "--json"]) == 2
    assert "--spec" in capsys.readouterr().err
    assert main(["bench", "latency", "--spec", "{not json"]) == 2


def test_pipeline_bench_paces_at_the_models_own_stride_by_default(tmp_path):
    pytest.importorskip("onnxruntime")
    from tiny_models import tiny_checkpoint

    path = tiny_checkpoint(tmp_path / "live.safetensors", live={"stride": 2})
    r = run_pipeline_bench(path, people=(1,), seconds=0.3)
    assert r["settings"]["stride"] == 2 and r["realtime"]["stride"] == 2
