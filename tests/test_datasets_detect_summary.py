"""Format detection, read_any and the `kinact info` summary, on tiny dataset folders built in tmp_path."""
import numpy as np
import pytest
import scipy.io

from kinact.core.datasets import detect, summary
from kinact.core.errors import BadInputError

from dataset_files import msr_file, ntu_file, utd_depth, utd_skel, utd_tree


@pytest.mark.parametrize("name, fmt", [
    ("a1_s1_t1_skeleton.mat", "utd_mhad"), ("A27_S8_T4_depth.mat", "utd_mhad"),
    ("a01_s01_e01_skeleton3D.txt", "msr_action3d"), ("S001C003P008R002A058.skeleton", "ntu"),
    ("whatever.skeleton", "ntu"), ("bodies.json", "azure_json"), ("rec.MKV", "azure_mkv"),
    ("take1.kinrec", "kinrec"),
])
def test_detect_format(name, fmt):
    assert detect.detect_format(name) == fmt


@pytest.mark.parametrize("name, match", [
    ("foo.mat", "not named like UTD-MHAD"), ("a01_s01_e01_skeleton.txt", "screen-coordinate"),
    ("notes.txt", "unknown format"),
])
def test_detect_format_rejects(name, match):
    with pytest.raises(BadInputError, match=match) as exc:
        detect.detect_format(name)
    assert name in str(exc.value)


def test_calibration_json_is_not_a_recording(tmp_path):
    p = tmp_path / "calibration.json"
    p.write_text('{"CalibrationInformation": {"Cameras": []}}')
    with pytest.raises(BadInputError, match="calibration"):
        detect.detect_format(p)


def test_read_any_finds_utd_partners(tmp_path):
    root = utd_tree(tmp_path)
    skel = root / "Skeleton" / "a1_s1_t1_skeleton.mat"
    assert detect.read_any(skel).depth is None
    s = detect.read_any(skel, with_depth=True)
    assert s.depth.shape == (4, 240, 320)
    s = detect.read_any(root / "Depth" / "a1_s2_t1_depth.mat")  # naming the depth file brings both
    assert s.depth is not None and s.subject == 2
    with pytest.raises(BadInputError, match="no matching"):
        detect.read_any(root / "Skeleton" / "a3_s3_t2_skeleton.mat", with_depth=True)
    with pytest.raises(BadInputError, match="no matching"):
        detect.read_any(root / "Depth" / "a5_s5_t1_depth.mat")
    flat = tmp_path / "flat"
    flat.mkdir()
    utd_skel(flat / "a4_s1_t1_skeleton.mat", 5)
    utd_depth(flat / "a4_s1_t1_depth.mat", 5)
    assert detect.read_any(flat / "a4_s1_t1_skeleton.mat", with_depth=True).depth.shape[0] == 5


def test_read_any_other_formats(tmp_path):
    assert detect.read_any(msr_file(tmp_path / "a05_s02_e01_skeleton3D.txt")).label == 4
    assert detect.read_any(ntu_file(tmp_path / "S001C001P001R001A010.skeleton")).label == 9
    with pytest.raises(BadInputError, match="no such file"):
        detect.read_any(tmp_path / "S001C001P001R001A011.skeleton")
    (tmp_path / "x.kinrec").write_bytes(b"")
    with pytest.raises(BadInputError, match="kinrec"):
        detect.read_any(tmp_path / "x.kinrec")


def test_scan_dir(tmp_path):
    utd_tree(tmp_path / "utd")
    msr_file(tmp_path / "a01_s01_e01_skeleton3D.txt")
    (tmp_path / ".hidden").mkdir()
    msr_file(tmp_path / ".hidden" / "a01_s01_e02_skeleton3D.txt")
    found = detect.scan_dir(tmp_path)
    assert sorted(found) == ["msr_action3d", "utd_mhad"]
    assert len(found["utd_mhad"]) == 4  # skeleton files only: depth is reached through them
    assert len(found["msr_action3d"]) == 1


def test_summarize_utd_pairs_and_problems(tmp_path):
    d = summary.summarize(utd_tree(tmp_path))
    assert d["format"] == "utd_mhad" and d["layout"] == "utd_mhad" and d["fps"] == 30
    assert d["sequences"] == 4 and d["pairs"] == 2
    assert d["skeleton_only"] == ["a3_s3_t2_skeleton.mat"] and d["depth_only"] == ["a5_s5_t1_depth.mat"]
    assert len(d["problems"]) == 1 and "a2_s1_t1_depth.mat: 9 depth frames" in d["problems"][0]
    assert d["classes"] == {"right arm swipe to the left": 2, "right arm swipe to the right": 1,
                            "right hand wave": 1}
    assert d["subjects"] == {1: 2, 2: 1, 3: 1}
    assert d["frames"] == {"min": 4, "median": 4.5, "max": 6, "total": 19}
    text = summary.format_summary(d)
    assert "2 complete skeleton+depth pairs" in text and "a5_s5_t1_depth.mat" in text
    assert "problems: 1" in text and text.count("\n") < 40


def test_summarize_reports_broken_files_instead_of_raising(tmp_path):
    root = utd_tree(tmp_path)
    (root / "Skeleton" / "a9_s1_t1_skeleton.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 50)
    d = summary.summarize(root)
    assert any("a9_s1_t1_skeleton.mat" in p for p in d["problems"])


def test_summarize_msr_and_ntu(tmp_path):
    msr = tmp_path / "msr"
    msr.mkdir()
    for a, s in [(1, 1), (1, 2), (20, 2)]:
        msr_file(msr / f"a{a:02d}_s{s:02d}_e01_skeleton3D.txt", t=a)
    d = summary.summarize(msr)
    assert d["sequences"] == 3 and d["classes"] == {"high arm wave": 2, "pick up & throw": 1}
    assert d["frames"]["max"] == 20 and d["fps"] == 15

    n = tmp_path / "ntu"
    n.mkdir()
    ntu_file(n / "S001C001P001R001A001.skeleton", (1, 1))
    ntu_file(n / "S001C001P001R001A058.skeleton", (1, 2, 2))
    ntu_file(n / "S001C001P002R001A002.skeleton", (0, 0))
    (n / "S001C001P002R001A003.skeleton").write_text("3\n1\n")
    d = summary.summarize(n)
    assert d["sequences"] == 2 and d["multi_body_files"] == 1 and d["empty_files"] == 1
    assert len(d["problems"]) == 2 and any("truncated" in p for p in d["problems"])
    assert "more than one body: 1" in summary.format_summary(d)


def test_summarize_single_file_and_errors(tmp_path):
    root = utd_tree(tmp_path)
    d = summary.summarize(root / "Skeleton" / "a1_s1_t1_skeleton.mat")
    assert d["sequences"] == 1 and d["pairs"] == 1
    with pytest.raises(BadInputError, match="no such file"):
        summary.summarize(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="no dataset files"):
        summary.summarize(empty)
