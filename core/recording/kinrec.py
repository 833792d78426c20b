"""The .kinrec recording format: one import for writing, reading and relabelling recordings.

The format itself lives in kinrec_schema (bytes), kinrec_writer (streaming append) and kinrec_reader
(index, recovery); docs/kinrec.md is the specification. This module adds what needs both sides.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from kinact.core.recording.intrinsics import Intrinsics
from kinact.core.recording.kinrec_reader import KinrecReader, Skipped
from kinact.core.recording.kinrec_schema import EXTENSIONS, FORMAT_VERSION, PROFILE, KinrecHeader, Segment
from kinact.core.recording.kinrec_writer import DEFAULT_CHUNK_SIZE, KinrecWriter

__all__ = ["EXTENSIONS", "FORMAT_VERSION", "PROFILE", "DEFAULT_CHUNK_SIZE", "Intrinsics", "KinrecHeader",
           "KinrecReader", "KinrecWriter", "Segment", "Skipped", "rewrite_segments"]


def _as_segment(s) -> Segment:
    if isinstance(s, Segment):
        return s
    if isinstance(s, dict):
        return Segment(**s)
    return Segment(*s)


def rewrite_segments(path: str | os.PathLike, segments: Iterable[Segment | tuple | dict]) -> list[str]:
    """Replace the labelled segments of an existing recording, keeping every frame byte for byte.

    MCAP files are append-only and a segment list edited during replay must drop old segments too, so the
    recording is copied to `path + ".partial"` with the new segments and renamed over the original: a crash
    half-way leaves the original untouched. Returns the reader's problems: a damaged or crashed recording
    comes out clean, minus whatever could not be read (which is listed there).
    """
    path = os.fspath(path)
    segs = [_as_segment(s) for s in segments]
    reader = KinrecReader(path)
    h = reader.header
    writer = KinrecWriter(path, h.layout, h.fps, h.intrinsics, h.sensor, h.metadata, h.synthetic,
                          atomic=True, created=h.created)
    try:
        for i in range(reader.num_frames):
            msgs = reader._raw_messages(i)
            for topic, seq, log_ns, pub_ns, data in msgs:
                writer._write_raw(topic, seq, log_ns, pub_ns, data)
        for s in segs:
            writer.add_segment(s.start, s.end, s.action, s.body_id, s.label)
        writer._body_ids.update(reader.bodies_ids())
        problems = list(reader.problems)
    except BaseException:
        reader.close()
        writer.abort()
        raise
    reader.close()  # before the rename, which some platforms refuse on an open file
    writer.close()
    return problems
