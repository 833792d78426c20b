"""The foundation's command line: `kinact import`, `kinact info`, `kinact bench io`, and one-line errors (exit 2)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from kinact.app.cli import main
from kinact.core.recording.kinrec import KinrecReader

from dataset_files import msr_file, ntu_file, utd_depth, utd_skel, utd_tree


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in ("app", "run", "info", "import", "train", "eval", "export", "stream-eval", "screenshot", "doctor",
                 "bench"):
        assert name in out


def test_import_utd_pair_keeps_depth_skeleton_and_a_labelled_segment(tmp_path, capsys):
    utd_tree(tmp_path / "utd")
    out = tmp_path / "a1.kinrec"
    assert main(["import", str(tmp_path / "utd/Skeleton/a1_s1_t1_skeleton.mat"), "--out", str(out)]) == 0
    with KinrecReader(out) as r:
        assert r.num_frames == 4
        assert r.header.layout == "utd_mhad" and r.header.intrinsics.shape == (240, 320)
        f = r.read_frame(2)
        assert f.depth.shape == (240, 320) and (f.depth == 2500).all()
        assert len(f.bodies) == 1 and f.bodies[0].joints.shape == (20, 3)
        assert [s.action for s in r.segments] == ["right arm swipe to the left"]
        assert r.segments[0].label == 0


def test_import_ntu_keeps_both_bodies_with_their_ids(tmp_path):
    src = ntu_file(tmp_path / "S001C001P001R001A058.skeleton", bodies_per_frame=(2, 2, 1))
    out = tmp_path / "ntu.kinrec"
    assert main(["import", str(src), "--out", str(out)]) == 0
    with KinrecReader(out) as r:
        assert r.header.layout == "kinect_v2"
        assert sorted(r.bodies_ids()) == [1000, 1001]
        assert [len(r.read_frame(i).bodies) for i in range(3)] == [2, 2, 1]


def test_import_msr_and_info_json_is_one_object(tmp_path, capsys):
    src = msr_file(tmp_path / "a03_s02_e01_skeleton3D.txt", t=5)
    out = tmp_path / "msr.kinrec"
    assert main(["import", str(src), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["frames"] == 5 and d["layout"] == "msr_action3d" and d["segments"][0]["action"] == "hammer"


def test_info_on_a_dataset_folder_counts_pairs(tmp_path, capsys):
    utd_tree(tmp_path / "utd")
    assert main(["info", str(tmp_path / "utd"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "utd_mhad"
    assert d["problems"], "the tree has a frame-count mismatch that must be reported"


@pytest.mark.parametrize("make, problem", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20), None),
])
def test_bad_input_gives_one_line_and_exit_2_and_no_output_file(tmp_path, make, problem):
    src = tmp_path / "a1_s1_t1_skeleton.mat"
    make(src)
    out = tmp_path / "x.kinrec"
    proc = subprocess.run([sys.executable, "-m", "kinact.app.cli", "import", str(src), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "a1_s1_t1_skeleton.mat" in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists() and not (tmp_path / "x.kinrec.partial").exists()


def test_corrupt_recording_info_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.kinrec"
    bad.write_bytes(b"\x89MCAP0\r\n" + b"\x00" * 10)
    proc = subprocess.run([sys.executable, "-m", "kinact.app.cli", "info", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "bad.kinrec" in proc.stderr


def test_bench_io_json_prints_ratios(tmp_path, capsys):
    out = tmp_path / "io.json"
    assert main(["bench", "io", "--seconds", "0.3", "--size", "64x48", "--json", "--out", str(out)]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("write_speed_ratio", "read_speed_ratio", "size_ratio", "kinrec_write_fps"):
        assert d[k] > 0
    assert json.loads(out.read_text())["frames"] == d["frames"]


def test_plain_kinact_with_options_means_the_app(monkeypatch):
    from kinact.app.commands import gui

    seen = {}
    monkeypatch.setattr(gui, "run", lambda args: seen.update(source=args.source) or 0)
    assert main(["--source", "synthetic"]) == 0 and seen == {"source": "synthetic"}
    assert main([]) == 0 and seen == {"source": None}
