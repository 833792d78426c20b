"""Streaming writer for .kinrec recordings (an MCAP file with profile "kinact").

Frames are appended as they arrive; MCAP's chunks are the unit of loss. A chunk is closed when it passes
`chunk_size` bytes (uncompressed) *or* when it spans `flush_interval` seconds of frames, whichever comes
first, and closing a chunk hands it to the operating system. So a `kill -9` loses at most the chunk being
filled: under half a second by default, whatever the data rate (a skeleton-only recording fills a 1 MiB
chunk only after minutes). Nothing is fsync'ed during recording (a power cut may lose more; fsync at 30 fps
would cost more than it protects); atomic mode fsyncs once before its rename, since importers care about
never leaving a half-written file rather than about latency.

Compression is mcap's zstd at its default level 3: it takes ~90 % of the write time and still runs 7-8x
faster than 30 fps of 512×424 depth on one core (core/bench/io_bench.py); level 1 would be twice as fast
for 20 % more disk, a trade not worth making at that headroom.
"""
from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from mcap.writer import LIBRARY_IDENTIFIER, CompressionType, Writer

from kinact.core.errors import BadInputError
from kinact.core.frames import Frame
from kinact.core.layouts import Layout, get_layout
from kinact.core.recording.intrinsics import Intrinsics
from kinact.core.recording.kinrec_schema import (
    BODIES_SCHEMA, BODIES_SCHEMA_NAME, CHANNEL_IDS, DEPTH_SCHEMA, DEPTH_SCHEMA_NAME, EXTENSIONS, HEADER_METADATA,
    PROFILE, SEGMENT_SCHEMA, SEGMENT_SCHEMA_NAME, SUMMARY_METADATA, TOPIC_BODIES, TOPIC_DEPTH, TOPIC_SEGMENTS,
    USER_METADATA, KinrecHeader, Segment, encode_bodies, encode_depth,
)

#: 1 MiB of uncompressed messages: about 2.4 frames of 512×424 depth. Larger chunks compress no better
#: (zstd's gain flattens well below this) and make every random seek decompress more.
DEFAULT_CHUNK_SIZE = 1 << 20
DEFAULT_FLUSH_INTERVAL = 0.5  # seconds of frames per chunk at most: the crash-loss bound
_COMPRESSION = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, "none": CompressionType.NONE}
_INT64 = (-(2**63), 2**63 - 1)


def _seconds_to_ns(path, what: str, t: float) -> int:
    t = float(t)
    if not math.isfinite(t) or t < 0:
        raise BadInputError(path, f"{what} has time {t!r}; times must be finite and not negative")
    return round(t * 1e9)


class KinrecWriter:
    """Append frames and segments to a new .kinrec file; use as a context manager.

    With `atomic=True` the file is written as `path + ".partial"` and renamed only by a successful close;
    on an exception inside the `with` block the partial file is deleted, so an importer never leaves a
    half-written recording that later looks complete. Without it (live recording) an exception still
    closes the file properly, keeping everything recorded up to then.
    """

    def __init__(self, path: str | os.PathLike, layout: str | Layout, fps: float,
                 intrinsics: Intrinsics | None = None, sensor: str = "", metadata: dict[str, str] | None = None,
                 synthetic: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE, *, atomic: bool = False,
                 compression: str = "zstd", flush_interval: float = DEFAULT_FLUSH_INTERVAL, created: str = ""):
        self.path = os.fspath(path)
        if not self.path.lower().endswith(EXTENSIONS):
            raise BadInputError(self.path, f"a recording's name must end in {' or '.join(EXTENSIONS)}")
        self.layout = get_layout(layout)
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            fps = math.nan
        if not (math.isfinite(fps) and fps > 0):
            raise BadInputError(self.path, f"fps must be a positive number, got {fps!r}")
        if compression not in _COMPRESSION:
            raise ValueError(f"compression must be one of {sorted(_COMPRESSION)}, got {compression!r}")
        self.header = KinrecHeader(self.layout.name, self.layout.units, fps, intrinsics, str(sensor),
                                   bool(synthetic), {str(k): str(v) for k, v in (metadata or {}).items()},
                                   created or datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._depth_shape = intrinsics.shape if intrinsics is not None else None
        self._atomic = atomic
        self._file_path = self.path + ".partial" if atomic else self.path
        self._flush_ns = round(flush_interval * 1e9)
        try:
            Path(self._file_path).parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self._file_path, "wb")
        except OSError as e:
            raise BadInputError(self.path, f"cannot create the recording: {e.strerror or e}") from None
        self._mcap = Writer(self._fh, chunk_size=chunk_size, compression=_COMPRESSION[compression])
        self._mcap.start(profile=PROFILE, library=f"kinact; {LIBRARY_IDENTIFIER}")
        # Registered in a fixed order, so channel ids match CHANNEL_IDS (readers fall back on them).
        for topic, (name, enc, text, msg_enc) in {
            TOPIC_BODIES: (BODIES_SCHEMA_NAME, "ros2msg", BODIES_SCHEMA, "cdr"),
            TOPIC_DEPTH: (DEPTH_SCHEMA_NAME, "ros2msg", DEPTH_SCHEMA, "cdr"),
            TOPIC_SEGMENTS: (SEGMENT_SCHEMA_NAME, "jsonschema", SEGMENT_SCHEMA, "json"),
        }.items():
            sid = self._mcap.register_schema(name, enc, text.encode())
            cid = self._mcap.register_channel(topic, msg_enc, sid)
            assert cid == CHANNEL_IDS[topic]
        self._mcap.add_metadata(HEADER_METADATA, self.header.to_metadata())
        self._mcap.add_metadata(USER_METADATA, self.header.metadata)
        self._fh.flush()  # a crash before the first chunk still leaves a file that says what it is
        self._frames = 0
        self._segments = 0
        self._last_ns = -1
        self._chunk_start_ns: int | None = None
        self._body_ids: set[int] = set()
        self._closed = False

    # -- writing ------------------------------------------------------------------------------------------
    @property
    def frames_written(self) -> int:
        return self._frames

    def write_frame(self, frame: Frame) -> None:
        """Append one frame. Everything is checked before anything is written, so a rejected frame leaves
        the recording as it was."""
        self._check_open()
        where = f"frame {self._frames}"
        t_ns = _seconds_to_ns(self.path, where, frame.t)
        if t_ns < self._last_ns:
            raise BadInputError(self.path, f"{where} has time {frame.t} s, before the previous frame's "
                                           f"{self._last_ns / 1e9} s")
        j = self.layout.num_joints
        for b in frame.bodies:
            if np.shape(b.joints) != (j, 3) or np.shape(b.confidence) != (j,):
                raise BadInputError(self.path, f"{where} body {b.id} has joints {np.shape(b.joints)} and confidence "
                                               f"{np.shape(b.confidence)}; layout {self.layout.name!r} needs ({j}, 3)")
            if not (isinstance(b.id, (int, np.integer)) and _INT64[0] <= b.id <= _INT64[1]):
                raise BadInputError(self.path, f"{where} has body id {b.id!r}; ids must be 64-bit integers")
        depth_msg = None
        if frame.depth is not None:
            depth_msg = encode_depth(t_ns, self._checked_depth(where, frame.depth))
        bodies_msg = encode_bodies(int(frame.index), frame.bodies, j)
        self._add(CHANNEL_IDS[TOPIC_BODIES], self._frames, t_ns, t_ns, bodies_msg)
        if depth_msg is not None:
            self._add(CHANNEL_IDS[TOPIC_DEPTH], self._frames, t_ns, t_ns, depth_msg)
        self._body_ids.update(int(b.id) for b in frame.bodies)
        self._frames += 1
        self._last_ns = t_ns

    def _checked_depth(self, where: str, depth) -> np.ndarray:
        depth = np.asarray(depth)
        if depth.dtype.kind not in "ui" or depth.dtype.itemsize != 2 or depth.ndim != 2:
            raise BadInputError(self.path, f"{where} depth is {depth.dtype} with shape {depth.shape}; "
                                           f"it must be a 2-D uint16 image in millimetres")
        if self._depth_shape is None:
            self._depth_shape = depth.shape
        elif depth.shape != self._depth_shape:
            h, w = self._depth_shape
            raise BadInputError(self.path, f"{where} depth is {depth.shape[0]}×{depth.shape[1]}, but this "
                                           f"recording's depth is {h}×{w}")
        return np.ascontiguousarray(depth, dtype="<u2")

    def add_segment(self, start: float, end: float, action: str, body_id: int | None = None,
                    label: int | None = None) -> None:
        """Record a labelled segment (seconds on the frames' clock); it may lie anywhere in the recording."""
        self._check_open()
        s_ns = _seconds_to_ns(self.path, f"segment {action!r}", start)
        if not (math.isfinite(float(end)) and end >= start):
            raise BadInputError(self.path, f"segment {action!r} ends ({end}) before it starts ({start})")
        if not isinstance(action, str) or not action:
            raise BadInputError(self.path, f"segment action must be a non-empty name, got {action!r}")
        seg = Segment(float(start), float(end), action, None if body_id is None else int(body_id),
                      None if label is None else int(label))
        self._add(CHANNEL_IDS[TOPIC_SEGMENTS], self._segments, s_ns, s_ns, seg.to_json())
        self._segments += 1

    def _add(self, channel_id: int, seq: int, log_ns: int, publish_ns: int, data) -> None:
        """One message, closing the chunk when it spans flush_interval of frame time (see module docstring)."""
        if channel_id != CHANNEL_IDS[TOPIC_SEGMENTS]:  # segments may lie in the past; only frames count
            if self._chunk_start_ns is None:
                self._chunk_start_ns = log_ns
            elif log_ns - self._chunk_start_ns >= self._flush_ns:
                self._mcap.flush()
                self._chunk_start_ns = log_ns
        self._mcap.add_message(channel_id, log_ns, data, publish_ns, seq)

    # -- closing ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Write the summary (the index that makes seeking instant) and, in atomic mode, rename into place."""
        if self._closed:
            return
        self._closed = True
        try:
            self._mcap.add_metadata(SUMMARY_METADATA, {
                "frames": str(self._frames), "segments": str(self._segments),
                "body_ids": " ".join(str(i) for i in sorted(self._body_ids))})
            self._mcap.finish()
            if self._atomic:
                self._fh.flush()
                os.fsync(self._fh.fileno())
        except BaseException:
            self._fh.close()
            if self._atomic:
                _remove(self._file_path)
            raise
        self._fh.close()
        if self._atomic:
            os.replace(self._file_path, self.path)

    def abort(self) -> None:
        """Stop writing. Atomic mode deletes the partial file; otherwise the file is left as a crash would."""
        if self._closed:
            return
        self._closed = True
        self._fh.close()
        if self._atomic:
            _remove(self._file_path)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: recording is already closed")

    def __enter__(self) -> "KinrecWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._atomic:
            self.abort()
        else:
            try:
                self.close()
            except Exception:  # the original exception matters more than a failed tidy-up
                self.abort()

    # -- used by rewrite_segments: copy already-encoded messages verbatim --------------------------------
    def _write_raw(self, topic: str, seq: int, log_ns: int, publish_ns: int, data, body_ids=()) -> None:
        self._check_open()
        self._add(CHANNEL_IDS[topic], seq, log_ns, publish_ns, data)
        if topic == TOPIC_BODIES:
            self._frames += 1
            self._body_ids.update(body_ids)
            self._last_ns = max(self._last_ns, log_ns)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
