"""Azure Kinect readers: recorder MKV depth (pure Python) and offline_processor body-tracking JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kinact.core.datasets import azure_json, azure_mkv
from kinact.core.errors import BadInputError

try:
    from mkv_fixture import write_k4a_mkv
except ImportError:  # tests/ imported as a package
    from tests.mkv_fixture import write_k4a_mkv

# Normalised raw-sensor parameters in the SDK's order (cx, cy, fx, fy, k1..k6, codx, cody, p2, p1).
CALIBRATION = {"CalibrationInformation": {"Cameras": [
    {"Intrinsics": {"ModelParameterCount": 14, "ModelType": "CALIBRATION_LensDistortionModelBrownConrady",
                    "ModelParameters": [0.5, 0.5, 0.5, 0.5, 0.1, 0, 0, 0, 0, 0, 0, 0, 0.002, 0.001]},
     "Purpose": "CALIBRATION_CameraPurposeDepth", "SensorWidth": 1024, "SensorHeight": 1024},
    {"Intrinsics": {"ModelParameters": [0.5] * 14}, "Purpose": "CALIBRATION_CameraPurposePhotoVideo"}]}}


def _depth(t: int, h: int = 12, w: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 65536, size=(t, h, w), dtype=np.uint16)
    d[:, 0, :2] = [0x0102, 0xFF00]  # asymmetric bytes: a byte-order mistake cannot go unnoticed
    return d


@pytest.mark.parametrize("opts", [
    dict(timecode_scale=1000, frames_per_cluster=1),
    dict(timecode_scale=1_000_000, frames_per_cluster=3, depth_in_block_groups=True),
    dict(timecode_scale=1000, frames_per_cluster=1, unknown_cluster_size=True),
])
def test_mkv_depth_roundtrip(tmp_path, opts):
    depth = _depth(5)
    ts = [1_000_000 + 33_000 * i for i in range(5)]
    path = tmp_path / "rec.mkv"
    write_k4a_mkv(path, depth, ts, start_offset_usec=250_000, calibration=json.dumps(CALIBRATION), **opts)
    frames = list(azure_mkv.read_depth_frames(path))
    assert [round(t * 1e6) for t, _ in frames] == ts
    assert all(d.dtype == np.uint16 and d.shape == (12, 16) for _, d in frames)
    assert np.array_equal(np.stack([d for _, d in frames]), depth)


def test_mkv_info_and_sample(tmp_path):
    depth = _depth(4, 576, 640)
    ts = [500_000 + 200_000 * i for i in range(4)]
    path = tmp_path / "rec.mkv"
    write_k4a_mkv(path, depth, ts, start_offset_usec=100_000, fps=5, calibration=json.dumps(CALIBRATION))
    info = azure_mkv.read_info(path)
    assert info["depth_size"] == (576, 640) and info["frame_count"] == 4 and info["fps"] == pytest.approx(5.0)
    assert [t["name"] for t in info["tracks"]] == ["COLOR", "DEPTH"]
    assert json.loads(info["calibration"]) == CALIBRATION
    intr = info["intrinsics"]  # NFOV unbinned: 1024-pixel sensor cropped by (192, 180), pixel centres at .5
    assert (intr["fx"], intr["fy"], intr["cx"], intr["cy"]) == (512.0, 512.0, 319.5, 331.5)
    assert (intr["width"], intr["height"]) == (640, 576) and intr["distortion"]["p1"] == pytest.approx(0.001)
    s = azure_mkv.read_sample(path)
    assert s.depth.shape == (4, 576, 640) and np.array_equal(s.depth, depth)
    assert s.skeleton.shape == (0, 4, 32, 3) and s.confidence.shape == (0, 4, 32)
    assert s.layout == "azure_kinect" and s.fps == pytest.approx(5.0)


def test_mkv_sample_with_body_json(tmp_path):
    ts = [1_000_000 + 33_333 * i for i in range(4)]
    mkv = tmp_path / "rec.mkv"
    write_k4a_mkv(mkv, _depth(4), ts)
    js = tmp_path / "bt.json"
    js.write_text(json.dumps(_bt_doc(ts[1:])))  # the tracker skipped the first depth frame
    s = azure_mkv.read_sample(mkv, body_json=js)
    assert s.skeleton.shape == (2, 4, 32, 3) and s.body_ids == [1, 2]
    assert np.isnan(s.skeleton[:, 0]).all() and not np.isnan(s.skeleton[0, 1:]).any()
    assert (s.confidence[:, 0] == 0).all()


@pytest.mark.parametrize("cut", [10, 100, -7])
def test_mkv_truncated(tmp_path, cut):
    data = write_k4a_mkv(tmp_path / "full.mkv", _depth(3), [0, 33_333, 66_666], calibration="{}")
    path = tmp_path / "cut.mkv"
    path.write_bytes(data[:cut])
    with pytest.raises(BadInputError) as err:
        list(azure_mkv.read_depth_frames(path))
    assert str(path) in str(err.value)


def test_mkv_unknown_size_cluster_truncated(tmp_path):
    data = write_k4a_mkv(tmp_path / "full.mkv", _depth(3), [0, 33_333, 66_666], unknown_cluster_size=True)
    path = tmp_path / "cut.mkv"
    path.write_bytes(data[:-7])
    with pytest.raises(BadInputError):  # segment size now exceeds the file
        list(azure_mkv.read_depth_frames(path))


@pytest.mark.parametrize("content", [b"", b"not a matroska file at all", b"\x1a\x45\xdf\xa3\x84\x42\x82\x81x"])
def test_not_matroska(tmp_path, content):
    path = tmp_path / "x.mkv"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match="x.mkv"):
        azure_mkv.read_info(path)
    with pytest.raises(BadInputError):
        azure_mkv.read_info(tmp_path / "missing.mkv")


def _body(bid: int, t: int) -> dict:
    pos = [[bid * 1000 + j, -t * 10.0, 2000.0 + j] for j in range(32)]
    return {"body_id": bid, "joint_positions": pos, "joint_orientations": [[1.0, 0.0, 0.0, 0.0]] * 32}


def _bt_doc(ts) -> dict:
    """offline_processor layout; body 2 only appears from the third frame on, frame_id skips like the real one."""
    frames = []
    for i, t in enumerate(ts):
        bodies = [_body(1, i)] + ([_body(2, i)] if i >= 2 else [])
        frames.append({"frame_id": 2 * i, "num_bodies": len(bodies), "timestamp_usec": t, "bodies": bodies})
    names = ["PELVIS"] + [f"J{j}" for j in range(1, 32)]
    return {"k4abt_sdk_version": "1.1.2", "source_file": "rec.mkv", "joint_names": names,
            "bone_list": [["SPINE_CHEST", "SPINE_NAVEL"]], "frames": frames}


def test_body_json_two_bodies(tmp_path):
    path = tmp_path / "bt.json"
    ts = [100_000 + 33_333 * i for i in range(5)]
    path.write_text(json.dumps(_bt_doc(ts), indent=4))
    s = azure_json.read_sample(path)
    assert s.skeleton.shape == (2, 5, 32, 3) and s.confidence.shape == (2, 5, 32)
    assert s.body_ids == [1, 2] and s.layout == "azure_kinect" and s.fps == 30.0
    assert np.isnan(s.skeleton[1, :2]).all() and (s.confidence[1, :2] == 0).all()
    assert not np.isnan(s.skeleton[1, 2:]).any() and (s.confidence[1, 2:] == 1).all()
    assert s.skeleton[1, 3, 5].tolist() == [2005.0, -30.0, 2005.0]
    frames = azure_json.read_frames(path)
    assert [f.index for f in frames] == [0, 2, 4, 6, 8]
    assert [round(f.t * 1e6) for f in frames] == ts
    assert [[b.id for b in f.bodies] for f in frames] == [[1], [1], [1, 2], [1, 2], [1, 2]]
    assert frames[3].bodies[1].joints.shape == (32, 3)


def test_body_json_confidence_levels(tmp_path):
    doc = _bt_doc([0, 33_333])
    doc["frames"][0]["bodies"][0]["joint_confidence_levels"] = [3] * 30 + [1, 0]
    path = tmp_path / "bt.json"
    path.write_text(json.dumps(doc))
    s = azure_json.read_sample(path)
    assert s.confidence[0, 0, 0] == 1 and s.confidence[0, 0, 30] == pytest.approx(1 / 3) and s.confidence[0, 0, 31] == 0


@pytest.mark.parametrize("mutate", [
    lambda d: "{not json",
    lambda d: "[]",
    lambda d: json.dumps({k: v for k, v in d.items() if k != "frames"}),
    lambda d: json.dumps({**d, "joint_names": d["joint_names"][:25]}),
    lambda d: (d["frames"][0]["bodies"][0].update(joint_positions=[[0, 0, 0]] * 25), json.dumps(d))[1],
    lambda d: (d["frames"][1]["bodies"][0].update(joint_positions=[[0, 0]] * 32), json.dumps(d))[1],
    lambda d: (d["frames"][0]["bodies"][0].pop("body_id"), json.dumps(d))[1],
    lambda d: (d["frames"][0].pop("timestamp_usec"), json.dumps(d))[1],
    lambda d: (d["frames"][0]["bodies"][0].pop("joint_positions"), json.dumps(d))[1],
])
def test_body_json_malformed(tmp_path, mutate):
    path = tmp_path / "bad.json"
    path.write_text(mutate(_bt_doc([0, 33_333, 66_666])))
    with pytest.raises(BadInputError) as err:
        azure_json.read_sample(path)
    assert err.value.path == str(path)
