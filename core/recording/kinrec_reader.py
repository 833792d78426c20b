"""Reader for .kinrec recordings: random access for replay, streaming for training, recovery after crashes.

Damage never raises mid-way: what could not be read is skipped and listed in `problems` (one line each, for
people) and `dropped` (`Skipped` records, for code). Only what makes the whole file unusable - not MCAP,
another profile, no kinact header - is a BadInputError. How the frames are found, and how a crashed or
damaged file is recovered, is kinrec_index's business; this module turns messages into Frames.
"""
from __future__ import annotations

import os
import struct

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Frame
from kinact.core.recording.kinrec_index import RecordingIndex, Skipped, message
from kinact.core.recording.kinrec_schema import (
    HEADER_METADATA, SUMMARY_METADATA, TOPIC_BODIES, TOPIC_DEPTH, USER_METADATA, KinrecHeader, Segment,
    decode_bodies, decode_depth,
)

__all__ = ["KinrecReader", "Skipped"]


class KinrecReader:
    """Read a .kinrec (or .mcap) recording written by `KinrecWriter`. Times are seconds on the frames' clock.

    `header` (KinrecHeader), `segments` (list of Segment, by start time), `problems` and `dropped` are
    plain attributes; `problems` grows if reading later runs into a damaged chunk.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._ix = None
        try:
            self._fh = open(self.path, "rb")
        except OSError as e:
            raise BadInputError(self.path, f"cannot open: {e.strerror or e}") from None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        self._ix = ix = RecordingIndex(self.path, self._fh)
        self.problems, self.dropped = ix.problems, ix.dropped  # shared lists: they grow as reading finds damage
        head = ix.meta.get(HEADER_METADATA)
        if head is None:
            raise BadInputError(self.path, "damaged or missing kinact header")
        self.header = KinrecHeader.from_metadata(self.path, head, ix.meta.get(USER_METADATA))
        why = ix.build()
        if why == "no summary":
            self.problems.insert(0, f"file was not closed cleanly (no summary): recovered {self.num_frames} frames")
        elif why is not None:
            self.problems.insert(0, f"{why}: scanned the whole file and recovered {self.num_frames} frames")
        segs = []
        for no, off in ix.segment_locs:
            data = ix.chunk_data(no)
            if data is not None:
                try:
                    segs.append(Segment.from_json(message(data, off)[4]))
                except Exception as e:  # JSON, key and type errors alike: one bad segment, not a bad file
                    self.problems.append(f"a damaged segment was skipped ({type(e).__name__}: {e})")
        self.segments: list[Segment] = sorted(segs, key=lambda s: (s.start, s.end))
        self._body_ids: list[int] | None = None

    # -- the timeline ---------------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(len(self._ix.frame_ns))

    def __len__(self) -> int:
        return self.num_frames

    @property
    def frame_times(self) -> np.ndarray:
        """Every frame's time in seconds, in frame order (non-decreasing)."""
        return self._ix.frame_ns / 1e9

    @property
    def start_time(self) -> float:
        return float(self._ix.frame_ns[0]) / 1e9 if self.num_frames else 0.0

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last one (one frame period after its start)."""
        ns = self._ix.frame_ns
        return float(ns[-1] - ns[0]) / 1e9 + 1.0 / self.header.fps if len(ns) else 0.0

    # -- frames ---------------------------------------------------------------------------------------------
    def read_frame(self, i: int) -> Frame:
        """Frame `i` (0-based, negative counts from the end). A frame in a damaged chunk is a BadInputError;
        `iter_frames` skips such frames instead."""
        n = self.num_frames
        if not -n <= i < n:
            raise IndexError(f"frame {i} out of range: {self.path} has {n} frames")
        i %= n
        f = self._read(i, True)
        if f is None:
            raise BadInputError(self.path, f"frame {i} (t={self._ix.frame_ns[i] / 1e9:.3f} s) lies in a "
                                           f"damaged part of the file")
        return f

    def iter_frames(self, start_time: float | None = None, depth: bool = True):
        """Frames from `start_time` (seconds, same clock as Frame.t) on, skipping damaged ones.
        `depth=False` leaves the images out for skeleton-only consumers."""
        i0 = 0 if start_time is None else int(np.searchsorted(self._ix.frame_ns, max(0, round(start_time * 1e9))))
        for i in range(i0, self.num_frames):
            f = self._read(i, depth)
            if f is not None:
                yield f

    def _bodies_message(self, i: int):
        data = self._ix.chunk_data(self._ix.frame_chunk(i))
        if data is None:
            return None
        m = message(data, int(self._ix.frame_off[i]))
        if self._ix.topics.get(m[0]) != TOPIC_BODIES:
            raise ValueError("the index points at another channel's message")
        return m

    def _read(self, i: int, with_depth: bool) -> Frame | None:
        try:
            m = self._bodies_message(i)
            if m is None:
                return None
            _, seq, t_ns, _, payload = m
            index, bodies = decode_bodies(payload)
        except (ValueError, struct.error) as e:
            self.problems.append(f"frame {i}: damaged bodies message skipped ({e})")
            return None
        return Frame(t_ns / 1e9, bodies, self._depth_for(t_ns, seq) if with_depth else None, index)

    def _depth_message(self, t_ns: int, seq: int):
        # Paired by the writer's frame counter (the MCAP sequence number) as well as by time, so two frames
        # with the same timestamp never swap depth images.
        for no, off in self._ix.depth_at.get(t_ns, ()):
            data = self._ix.chunk_data(no)
            if data is not None:
                m = message(data, off)
                if m[1] == seq and self._ix.topics.get(m[0]) == TOPIC_DEPTH:
                    return m
        return None

    def _depth_for(self, t_ns: int, seq: int) -> np.ndarray | None:
        try:
            m = self._depth_message(t_ns, seq)
            return None if m is None else decode_depth(m[4])
        except (ValueError, struct.error) as e:
            self.problems.append(f"damaged depth image at t={t_ns / 1e9:.3f} s skipped ({e})")
            return None

    @property
    def depth_shape(self) -> tuple[int, int] | None:
        """(H, W) of the depth images, or None when the recording holds none."""
        if not self._ix.depth_at:
            return None
        if self.header.intrinsics is not None:
            return self.header.intrinsics.shape  # the writer refuses images of any other shape
        for f in self.iter_frames():
            if f.depth is not None:
                return f.depth.shape
        return None

    def bodies_ids(self) -> list[int]:
        """Every tracking id that appears, sorted; from the writer's summary when it closed cleanly, else
        by reading every frame once."""
        if self._body_ids is None:
            s = self._ix.meta.get(SUMMARY_METADATA)
            try:
                self._body_ids = [int(x) for x in s["body_ids"].split()] if s is not None else None
            except (KeyError, ValueError):
                self._body_ids = None
            if self._body_ids is None:
                self._body_ids = sorted({b.id for f in self.iter_frames(depth=False) for b in f.bodies})
        return list(self._body_ids)

    def verify(self) -> list[str]:
        """Decompress and CRC-check every chunk (reads the whole file); returns `problems`."""
        for no in range(len(self._ix.chunks)):
            self._ix.chunk_data(no)
        return self.problems

    def _raw_messages(self, i: int):
        """Frame i's messages as stored, [(topic, sequence, log ns, publish ns, bytes)], for rewriting."""
        try:
            m = self._bodies_message(i)
        except (ValueError, struct.error):
            m = None
        if m is None:
            return []
        try:
            d = self._depth_message(m[2], m[1])
        except (ValueError, struct.error):
            d = None
        out = [(TOPIC_BODIES, m[1], m[2], m[3], bytes(m[4]))]
        if d is not None:
            out.append((TOPIC_DEPTH, d[1], d[2], d[3], bytes(d[4])))
        return out

    # -- lifetime -------------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._ix is not None:
            self._ix.close()
            self._ix = None
        self._fh.close()

    def __enter__(self) -> "KinrecReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
