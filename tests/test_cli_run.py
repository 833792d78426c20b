"""`kinact run --headless`: JSON lines with the person id, label, top-5 and latency; optional recording."""
import json

import pytest

from kinact.app.cli import main
from kinact.core.recording.kinrec import KinrecReader

from tiny_models import tiny_checkpoint, waving_recording


def run_lines(capsys, argv):
    code = main(argv)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, lines


def test_headless_prints_one_json_line_per_prediction_with_person_ids(tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "tiny.safetensors")
    rec = waving_recording(tmp_path / "two.kinrec", people=2)
    code, lines = run_lines(capsys, ["run", "--headless", "--source", f"replay:{rec}", "--model", ckpt,
                                     "--speed", "0", "--stride", "5"])
    assert code == 0
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "end" and lines[-1]["state"] == "ended"
    preds = [x for x in lines if x["type"] == "prediction"]
    assert {p["person"] for p in preds} == {1, 2}
    for p in preds:
        assert p["state"] == "unclassifiable" or (len(p["top5"]) == 3 and abs(sum(v for _, v in p["top5"]) - 1) < 0.05)
        assert p["latency_ms"] >= 0
    assert lines[-1]["frames"] == 90


def test_headless_records_the_session(tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "tiny.safetensors")
    rec = waving_recording(tmp_path / "one.kinrec")
    out = tmp_path / "again.kinrec"
    code, lines = run_lines(capsys, ["run", "--headless", "--source", rec, "--model", ckpt, "--speed", "0",
                                     "--record", str(out), "--events-only"])
    assert code == 0
    assert all(x["type"] in ("start", "event", "end") for x in lines)
    with KinrecReader(out) as r:
        assert r.num_frames == 90 and r.header.layout == "kinect_v1"


def test_headless_with_a_broken_checkpoint_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    rec = waving_recording(tmp_path / "one.kinrec", seconds=0.5)
    assert main(["run", "--headless", "--source", rec, "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.safetensors" in err[0]


def test_headless_without_a_shipped_model_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KINACT_MODEL", str(tmp_path / "missing.safetensors"))
    assert main(["run", "--headless", "--source", "synthetic"]) == 2
    assert "kinact train" in capsys.readouterr().err
