"""`kinact info FILE.kinrec`: one screen that tells whether a recording is what you think it is."""
from __future__ import annotations

import os
from collections import Counter

import numpy as np

from kinact.core.recording.kinrec_reader import KinrecReader


def summarize_recording(path: str | os.PathLike) -> dict:
    """Header, counts, bodies, depth size, segments and any damage the reader had to skip."""
    with KinrecReader(path) as r:
        h = r.header
        bodies_per_frame = Counter()
        for f in r.iter_frames(depth=False):
            bodies_per_frame[len(f.bodies)] += 1
        times = r.frame_times
        measured_fps = float(1.0 / np.median(np.diff(times))) if len(times) > 2 and np.median(np.diff(times)) > 0 \
            else None
        return {
            "path": os.fspath(path), "format_version": h.version, "layout": h.layout, "units": h.units,
            "sensor": h.sensor, "synthetic": h.synthetic, "created": h.created,
            "frames": r.num_frames, "duration": r.duration, "fps": h.fps, "measured_fps": measured_fps,
            "depth": list(r.depth_shape) if r.depth_shape else None,
            "intrinsics": None if h.intrinsics is None else
            {k: getattr(h.intrinsics, k) for k in ("fx", "fy", "cx", "cy", "width", "height", "mirrored")},
            "body_ids": r.bodies_ids(), "bodies_per_frame": dict(sorted(bodies_per_frame.items())),
            "segments": [{"start": s.start, "end": s.end, "action": s.action, "body_id": s.body_id}
                         for s in r.segments],
            "metadata": h.metadata, "problems": list(r.problems),
        }


def format_recording_summary(d: dict) -> str:
    depth = f"{d['depth'][1]}×{d['depth'][0]}" if d["depth"] else "none"
    fps = f"{d['fps']:g} nominal" + (f", {d['measured_fps']:.1f} measured" if d["measured_fps"] else "")
    lines = [
        f"{d['path']}   (kinrec v{d['format_version']}{', SYNTHETIC' if d['synthetic'] else ''})",
        f"  sensor    {d['sensor'] or '-'}   layout {d['layout']} ({d['units']})   created {d['created'] or '-'}",
        f"  frames    {d['frames']}   duration {d['duration']:.2f} s   fps {fps}",
        f"  depth     {depth}" + (f"   fx {d['intrinsics']['fx']:.1f} fy {d['intrinsics']['fy']:.1f} "
                                  f"cx {d['intrinsics']['cx']:.1f} cy {d['intrinsics']['cy']:.1f}"
                                  if d["intrinsics"] else ""),
        f"  bodies    ids {d['body_ids'] or 'none'}   frames with n bodies: "
        + ", ".join(f"{n}: {c}" for n, c in d["bodies_per_frame"].items()),
        f"  segments  {len(d['segments'])}",
    ]
    for s in d["segments"][:12]:
        who = f"  body {s['body_id']}" if s["body_id"] is not None else ""
        lines.append(f"    {s['start']:7.2f}–{s['end']:7.2f} s  {s['action']}{who}")
    if len(d["segments"]) > 12:
        lines.append(f"    … {len(d['segments']) - 12} more")
    if d["metadata"]:
        lines.append("  metadata  " + ", ".join(f"{k}={v}" for k, v in d["metadata"].items()))
    for p in d["problems"]:
        lines.append(f"  PROBLEM   {p}")
    return "\n".join(lines)
