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


def test_headless_stops_quietly_when_the_reader_goes_away(tmp_path):
    # `kinact run --headless | head -2`: a closed pipe ends the run with exit 0 and no traceback, and the runner stops
    import subprocess
    import sys

    ckpt = tiny_checkpoint(tmp_path / "tiny.safetensors")
    rec = waving_recording(tmp_path / "one.kinrec", seconds=20.0)
    code = ("import sys; from kinact.app.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    p = subprocess.Popen([sys.executable, "-c", code, "run", "--headless", "--source", f"replay:{rec}",
                          "--model", ckpt, "--speed", "1", "--stride", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    assert json.loads(first)["type"] == "start"
    p.stdout.close()  # the reader leaves while predictions keep coming
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
