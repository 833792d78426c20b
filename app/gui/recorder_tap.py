"""Start and stop recording while the pipeline runs, through the Runner's own recorder queue.

The Runner takes its recorder once, when it is built, and feeds it every frame on its recorder thread through
a bounded queue (a slow disk costs counted dropped frames, never a late frame). Pressing Record must not
rebuild the runner, so the runner always gets a `RecorderTap`, which writes only while a `KinrecWriter` is
attached. Opening and closing that writer are file I/O, so they run on a worker thread, never the GUI's;
the GUI thread only queues segments and reads counters, under a lock held for a few assignments.

Recordings get their own clock, starting at 0 and never running backwards: a replay that is seeked, looped or
paused while being recorded still makes a valid file (the writer refuses time going back), with the jump
squeezed to one frame interval.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import replace

MAX_JUMP = 1.0  # seconds; a longer gap in the source's clock is a seek or a pause, not something to record


class RecorderTap:
    """The Runner's recorder: a no-op until `begin`, writes until `finish`. Messages for the log land in
    `messages` as (level, text) from whichever thread produced them."""

    def __init__(self, messages: deque | None = None):
        self._io = threading.Lock()  # around writer I/O: recorder thread and the I/O worker, never the GUI
        self._state = threading.Lock()  # a few assignments at a time; the only lock the GUI thread takes
        self._writer = None
        self._pending: list[tuple] = []
        self._offset: float | None = None  # source time minus recording time
        self._last_src: float | None = None
        self._last_rec = 0.0
        self._step = 1.0 / 30.0
        self.path: str | None = None
        self.frames = 0
        self.segments = 0
        self.duration = 0.0
        self.ended = False  # the runner has finished: no frame will come any more
        self.messages: deque[tuple[str, str]] = deque() if messages is None else messages

    @property
    def active(self) -> bool:
        return self._writer is not None

    # -------------------------------------------------------------------------------------- I/O worker
    def begin(self, path: str | os.PathLike, source) -> str:
        """Attach a new writer for `source` (opened: its layout, fps and intrinsics are known)."""
        from kinact.core.errors import KinactError
        from kinact.core.recording.kinrec import KinrecWriter

        header = getattr(source, "header", None)
        sensor = getattr(header, "sensor", "") or source.describe()
        fps = float(getattr(source, "fps", 0) or 30.0)
        writer = KinrecWriter(path, source.layout, fps, getattr(source, "intrinsics", None), sensor,
                              {"recorded_from": source.describe()}, bool(getattr(source, "synthetic", False)))
        with self._io:
            if self._writer is not None or self.ended:
                writer.abort()
                try:
                    os.remove(writer.path)  # empty: nothing was written to it
                except OSError:
                    pass
                raise KinactError("the source has stopped; nothing to record" if self.ended else "already recording")
            with self._state:
                self._writer, self._pending = writer, []
                self._offset, self._last_src, self._last_rec, self._step = None, None, 0.0, 1.0 / fps
                self.path, self.frames, self.segments, self.duration = os.fspath(path), 0, 0, 0.0
        return os.fspath(path)

    def finish(self) -> str | None:
        """Write queued segments, close the file; the path written, or None when nothing was recording."""
        with self._io:
            w = self._writer
            if w is None:
                return None
            with self._state:
                pending, self._pending = self._pending, []
            try:
                for seg in pending:
                    w.add_segment(*seg)
                w.close()
            except Exception as exc:
                self._fail(w, exc)
                return None
            with self._state:
                self._writer = None
                self.segments += len(pending)
            self.messages.append(("info", f"recorded {self.path}: {self.frames} frames, {self.duration:.1f} s, "
                                          f"{self.segments} labelled segment(s)"))
            return self.path

    # --------------------------------------------------------------------------------- recorder thread
    def write_frame(self, frame) -> None:
        if self._writer is None:
            return
        with self._io:
            w = self._writer
            if w is None:
                return
            with self._state:
                t = self._map(float(frame.t))
                pending, self._pending = self._pending, []
            try:
                w.write_frame(replace(frame, t=t))
                for seg in pending:
                    w.add_segment(*seg)
            except Exception as exc:  # a frame the format refuses: stop cleanly, keep what was written
                self._fail(w, exc)
                return
            with self._state:
                self.frames += 1
                self.segments += len(pending)
                self.duration = t

    def close(self) -> None:
        """The Runner calls this when it stops: whatever was being recorded is finished."""
        self.ended = True
        self.finish()

    # --------------------------------------------------------------------------------------- GUI thread
    def to_recording_time(self, source_t: float) -> float:
        with self._state:
            if self._offset is None:
                return 0.0
            return max(0.0, float(source_t) - self._offset)

    def add_segment(self, start: float, end: float, action: str, body_id: int | None = None,
                    label: int | None = None) -> None:
        """Queue a segment (recording clock); the recorder thread writes it with the next frame, or on finish."""
        start = max(0.0, float(start))
        with self._state:
            self._pending.append((start, max(start, float(end)), action, body_id, label))

    # -------------------------------------------------------------------------------------- internals
    def _map(self, src: float) -> float:
        if self._offset is None:
            self._offset = src
        elif src <= self._last_src or src - self._last_src > MAX_JUMP:
            self._offset = src - (self._last_rec + self._step)
        self._last_src = src
        self._last_rec = max(0.0, src - self._offset)
        return self._last_rec

    def _fail(self, writer, exc: Exception) -> None:
        try:
            writer.close()
        except Exception:
            writer.abort()
        with self._state:
            self._writer = None
        self.messages.append(("error", f"recording stopped: {exc}"))
