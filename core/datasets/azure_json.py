"""Azure Kinect body-tracking JSON, as written by Microsoft's Azure-Kinect-Samples `offline_processor`.

The file (checked against body-tracking-samples/offline_processor/main.cpp, SDK 0.9.4 to 1.1.1) is
    {"k4abt_sdk_version": str, "source_file": str, "joint_names": [32 names], "bone_list": [[a, b], ...],
     "frames": [{"frame_id": int, "num_bodies": int, "timestamp_usec": int,
                 "bodies": [{"body_id": int, "joint_positions": [[x, y, z] × 32],
                             "joint_orientations": [[w, x, y, z] × 32]}]}]}
in millimetres, camera axes (y down). The sample writes **no confidence levels**, so confidence here is
1 where a body is present and 0 where it is not; a `joint_confidence_levels`/`confidence_level` list per body,
as some forks add, is used when present. `frame_id` counts every capture of the MKV (also those without
depth), so it can skip; `timestamp_usec` is the depth image's device timestamp and is what we trust.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Body, Frame, Sample

NUM_JOINTS = 32
_CONFIDENCE_KEYS = ("joint_confidence_levels", "confidence_levels", "confidence_level", "joint_confidences")


def _load(path) -> tuple[str, list[dict]]:
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8-sig"))
    except OSError as exc:
        raise BadInputError(path, f"cannot open: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(path, f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("frames"), list):
        raise BadInputError(path, "not an Azure Kinect body-tracking JSON (no 'frames' list)")
    names = doc.get("joint_names")
    if isinstance(names, list) and len(names) != NUM_JOINTS:
        raise BadInputError(path, f"'joint_names' lists {len(names)} joints, expected {NUM_JOINTS} (k4abt order)")
    return path, doc["frames"]


def _joints(path: str, where: str, body: dict) -> tuple[np.ndarray, np.ndarray]:
    """(32, 3) positions and (32,) confidence of one body, validated so a bad file fails with its name."""
    pos = body.get("joint_positions")
    try:
        arr = np.asarray(pos, dtype=np.float32)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (NUM_JOINTS, 3):
        shape = "missing" if pos is None else getattr(arr, "shape", "not numeric")
        raise BadInputError(path, f"{where}: 'joint_positions' is {shape}, expected {NUM_JOINTS} × [x, y, z]")
    conf = np.ones(NUM_JOINTS, np.float32)
    for key in _CONFIDENCE_KEYS:
        if key in body:
            try:
                levels = np.asarray(body[key], dtype=np.float32).reshape(NUM_JOINTS)
            except (TypeError, ValueError):
                raise BadInputError(path, f"{where}: '{key}' is not {NUM_JOINTS} numbers") from None
            # k4abt_joint_confidence_level_t: 0 none, 1 low, 2 medium, 3 high → 0..1
            conf = np.clip(levels / 3.0 if levels.max(initial=0) > 1 else levels, 0, 1).astype(np.float32)
            break
    return arr, conf


def _parse(path) -> tuple[str, list[tuple[int, int, list[tuple[int, np.ndarray, np.ndarray]]]]]:
    """[(timestamp_usec, frame_id, [(body_id, joints, confidence), ...]), ...] in file order."""
    path, frames = _load(path)
    out = []
    for i, fr in enumerate(frames):
        where = f"frame {i}"
        if not isinstance(fr, dict) or "timestamp_usec" not in fr or not isinstance(fr.get("bodies"), list):
            raise BadInputError(path, f"{where}: needs 'timestamp_usec' and a 'bodies' list")
        try:
            t_us, fid = int(fr["timestamp_usec"]), int(fr.get("frame_id", i))
        except (TypeError, ValueError):
            raise BadInputError(path, f"{where}: 'timestamp_usec'/'frame_id' are not integers") from None
        bodies = []
        for j, b in enumerate(fr["bodies"]):
            if not isinstance(b, dict) or "body_id" not in b:
                raise BadInputError(path, f"{where}, body {j}: no 'body_id'")
            try:
                bid = int(b["body_id"])
            except (TypeError, ValueError):
                raise BadInputError(path, f"{where}, body {j}: 'body_id' is not an integer") from None
            if any(bid == other for other, _, _ in bodies):
                raise BadInputError(path, f"{where}: body_id {bid} appears twice")
            bodies.append((bid, *_joints(path, f"{where}, body {bid}", b)))
        out.append((t_us, fid, bodies))
    return path, out


def read_frames(path) -> list[Frame]:
    """One Frame per tracked depth frame, bodies keyed by tracker id; t is the device time in seconds."""
    path, parsed = _parse(path)
    return [Frame(t=t_us / 1e6, index=fid, bodies=[Body(id=b, joints=j, confidence=c) for b, j, c in bodies])
            for t_us, fid, bodies in parsed]


def estimate_fps(timestamps_usec) -> float:
    """Frame rate from the median positive timestamp step, snapped to the sensor's 5/15/30 fps when close.

    The median ignores frames the tracker dropped; snapping keeps small clock jitter out of the metadata.
    """
    d = np.diff(np.asarray(timestamps_usec, dtype=np.float64))
    d = d[d > 0]
    if d.size == 0:
        return 30.0
    fps = 1e6 / float(np.median(d))
    for nominal in (5.0, 15.0, 30.0):
        if math.isclose(fps, nominal, rel_tol=0.02):
            return nominal
    return fps


def read_sample_with_times(path) -> tuple[Sample, np.ndarray]:
    """The Sample plus each column's device timestamp in µs (int64), for matching against depth frames."""
    path, parsed = _parse(path)
    ids = sorted({b for _, _, bodies in parsed for b, _, _ in bodies})
    row = {b: m for m, b in enumerate(ids)}
    T = len(parsed)
    skeleton = np.full((len(ids), T, NUM_JOINTS, 3), np.nan, np.float32)
    confidence = np.zeros((len(ids), T, NUM_JOINTS), np.float32)
    for t, (_, _, bodies) in enumerate(parsed):
        for bid, joints, conf in bodies:
            skeleton[row[bid], t] = joints
            confidence[row[bid], t] = conf
    times = np.asarray([t_us for t_us, _, _ in parsed], dtype=np.int64)
    sample = Sample(skeleton=skeleton, confidence=confidence, layout="azure_kinect", label=-1, action="",
                    subject=0, trial=0, fps=estimate_fps(times), path=path, body_ids=ids)
    return sample, times


def align_to(path, times_usec, depth_path="") -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Skeleton (M, T, 32, 3), confidence (M, T, 32) and body ids placed on given depth timestamps (µs).

    The tracker stamps each result with its depth image's device timestamp, so equality is exact; depth
    frames it never produced a result for stay NaN / confidence 0.
    """
    bodies, body_times = read_sample_with_times(path)
    index = {int(t): i for i, t in enumerate(times_usec)}
    rows = [index.get(int(u)) for u in body_times]
    if len(times_usec) and len(rows) and all(i is None for i in rows):
        raise BadInputError(path, f"no body-tracking frame matches a depth timestamp of {depth_path or 'the depth'}")
    skeleton = np.full((bodies.num_bodies, len(times_usec), NUM_JOINTS, 3), np.nan, np.float32)
    confidence = np.zeros((bodies.num_bodies, len(times_usec), NUM_JOINTS), np.float32)
    for src, dst in enumerate(rows):
        if dst is not None:
            skeleton[:, dst], confidence[:, dst] = bodies.skeleton[:, src], bodies.confidence[:, src]
    return skeleton, confidence, list(bodies.body_ids)


def read_sample(path) -> Sample:
    """All bodies by tracker id as (M, T, 32, 3) mm, NaN / confidence 0 where a body is absent.

    Bodies are ordered by ascending body_id, not by slot, because the tracker reuses slots as people come
    and go while ids stay with the person.
    """
    return read_sample_with_times(path)[0]
