"""Dataset files and Azure Kinect MKVs → `.kinrec`, so every source of data replays through the same pipeline.

A dataset sample becomes a recording with one labelled segment spanning the whole sequence (the datasets
are trimmed to one action each), which makes imported files usable as evaluation data straight away. Writing
is atomic: a failure at any point leaves no output file behind, never a half-written one that looks complete.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Body, Frame, Sample
from kinact.core.recording.intrinsics import KINECT_V1_DEPTH, Intrinsics
from kinact.core.recording.kinrec_writer import KinrecWriter

#: What each dataset's depth camera looked like, for drawing the skeleton on the depth image.
DATASET_SENSORS = {"utd_mhad": ("Kinect v1", KINECT_V1_DEPTH), "msr_action3d": ("Kinect v1", None),
                   "ntu": ("Kinect v2", None)}


def sample_frames(sample: Sample):
    """Yield one Frame per time step; bodies absent at a step (all-NaN joints) are left out of that frame."""
    ids = sample.body_ids or list(range(1, sample.num_bodies + 1))
    for t in range(sample.num_frames):
        bodies = []
        for m in range(sample.num_bodies):
            joints = sample.skeleton[m, t]
            if np.isnan(joints).all():
                continue
            bodies.append(Body(int(ids[m]), np.nan_to_num(joints).astype(np.float32),
                               sample.confidence[m, t].astype(np.float32)))
        depth = sample.depth[t] if sample.depth is not None else None
        yield Frame(t=t / sample.fps, bodies=bodies, depth=depth, index=t)


def import_sample(sample: Sample, out: str | os.PathLike, dataset: str, intrinsics: Intrinsics | None = None,
                  sensor: str = "") -> dict:
    """Write one dataset sample as a recording with a single labelled segment; returns a short report."""
    if sample.depth is not None and intrinsics is not None and sample.depth.shape[1:] != intrinsics.shape:
        intrinsics = intrinsics.scaled(sample.depth.shape[2], sample.depth.shape[1])
    if sample.depth is not None and intrinsics is None:
        raise BadInputError(sample.path, "depth without known intrinsics cannot be recorded")
    meta = {"dataset": dataset, "source_file": os.path.basename(sample.path), "subject": str(sample.subject),
            "trial": str(sample.trial), "action": sample.action}
    if sample.camera is not None:
        meta["camera"] = str(sample.camera)
    with KinrecWriter(out, sample.layout, sample.fps, intrinsics=intrinsics, sensor=sensor, metadata=meta,
                      atomic=True) as w:
        for frame in sample_frames(sample):
            w.write_frame(frame)
        if sample.label >= 0 and sample.num_frames:
            w.add_segment(0.0, (sample.num_frames - 1) / sample.fps, sample.action, label=int(sample.label))
    return {"out": os.fspath(out), "frames": sample.num_frames, "bodies": sample.num_bodies,
            "depth": sample.depth is not None, "action": sample.action}


def import_azure_mkv(src: str | os.PathLike, out: str | os.PathLike, body_json: str | os.PathLike | None = None) -> dict:
    """Stream an Azure Kinect recording's depth (and, if given, the offline body tracker's JSON) into a .kinrec.

    Depth is streamed frame by frame (a 10-minute MKV holds ~13 GB of depth); bodies are matched to depth
    frames by their device timestamps, which the body tracker copies from the capture exactly.
    """
    from kinact.core.datasets import azure_json, azure_mkv

    info = azure_mkv.read_info(src)
    intr = info.get("intrinsics")
    height, width = info["depth_size"] if "depth_size" in info else (None, None)
    intrinsics = (Intrinsics(intr["fx"], intr["fy"], intr["cx"], intr["cy"], intr["width"], intr["height"],
                             mirrored=False) if intr else None)
    if intrinsics is None:
        from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED
        intrinsics = AZURE_NFOV_UNBINNED.scaled(width, height) if width else AZURE_NFOV_UNBINNED
    bodies_at: dict[int, list[Body]] = {}
    if body_json is not None:
        bodies_at = {round(f.t * 1e6): f.bodies for f in azure_json.read_frames(body_json)}
    meta = {"source_file": os.path.basename(os.fspath(src))}
    if body_json is not None:
        meta["body_tracking_file"] = os.path.basename(os.fspath(body_json))
    n = matched = 0
    with KinrecWriter(out, "azure_kinect", info.get("fps") or 30.0, intrinsics=intrinsics, sensor="Azure Kinect",
                      metadata=meta, atomic=True) as w:
        for t, depth in azure_mkv.read_depth_frames(src):
            bodies = bodies_at.get(round(t * 1e6), [])
            matched += bool(bodies)
            w.write_frame(Frame(t=t, bodies=bodies, depth=depth, index=n))
            n += 1
    return {"out": os.fspath(out), "frames": n, "frames_with_bodies": matched, "depth": True}


def import_file(src: str | os.PathLike, out: str | os.PathLike, body_json=None, with_depth: bool = True) -> dict:
    """Import any supported file by its detected format (see `datasets.detect`).

    A UTD-MHAD skeleton brings its depth partner along when one lies next to it (or in ../Depth) and
    `with_depth` is set; without a partner the recording is skeleton-only.
    """
    from kinact.core.datasets import azure_json
    from kinact.core.datasets.detect import detect_format, read_any, utd_partner

    src = Path(src)
    fmt = detect_format(src)
    if fmt == "kinrec":
        raise BadInputError(src, "already a .kinrec recording")
    if fmt == "azure_mkv":
        return import_azure_mkv(src, out, body_json)
    if fmt == "azure_json":
        sample = azure_json.read_sample(src)
        return import_sample(sample, out, "azure_kinect_json", None, "Azure Kinect")
    if fmt == "utd_mhad" and not src.name.lower().endswith("_depth.mat"):
        with_depth = with_depth and utd_partner(src, "depth") is not None
    sample = read_any(src, with_depth=with_depth)
    sensor, intrinsics = DATASET_SENSORS.get(fmt, ("", None))
    return import_sample(sample, out, fmt, intrinsics if sample.depth is not None else None, sensor)
