"""Labelling segments while recording or replaying: the bookkeeping, with no widgets.

The two cases differ only in where a finished segment goes. While recording, it goes to the live writer
(through the recorder tap, on the recording's own clock). While replaying a .kinrec, it joins the file's
existing segments in memory and nothing touches the file until "Save labels", which rewrites it on the I/O
worker (`rewrite_segments` copies every frame, seconds for a long recording). A segment's times are those
of the frames on screen when Start and End were pressed, so labels match what the labeller saw.
"""
from __future__ import annotations

from dataclasses import replace


class Labels:
    """`open`: (action, start, mode) of the running segment; `segments`: the replayed file's, file clock."""

    def __init__(self, controller):
        self.c = controller
        self.open: tuple[str, float, str] | None = None
        self.segments: list = []
        self.dirty = False
        self.saving = False
        self.classes: list[str] = []
        self._file: str | None = None

    def mode(self) -> str | None:
        """"record", "replay" (a recording is open) or None (nothing a label could be stored in)."""
        c = self.c
        if c.tap is not None and c.tap.active:
            return "record"
        p = c.proxy
        if p is not None and p.is_open and getattr(p.inner, "name", "") == "replay":
            return "replay"
        return None

    def sync(self) -> None:
        """Take over the segments of a recording that has just been opened (once per file)."""
        p = self.c.proxy
        if p is None or not p.is_open or getattr(p.inner, "name", "") != "replay" or p.inner.path == self._file:
            return
        self._file, self.segments, self.dirty = p.inner.path, list(p.inner.segments), False
        if self.open is not None and self.open[2] == "replay":
            self.open = None

    def _now(self, mode: str) -> float | None:
        if mode == "replay":
            info = self.c.transport()
            return None if info is None else float(info["position"])
        return self.c.current_time()

    def choices(self) -> list[str]:
        """The model's classes, then the other actions the open recording already has segments of."""
        return self.classes + sorted({s.action for s in self.segments} - set(self.classes))

    def toggle(self, action: str | None) -> bool:
        """A class key: ends the segment of that class if it runs, else starts one (ending any other)."""
        if action is None:
            return False
        if self.open is not None and self.open[0] == action:
            return self.end()
        return self.start(action)

    def start(self, action: str) -> bool:
        action = action.strip()
        mode = self.mode()
        if not action or mode is None:
            self.c.error("labels need a class name, and a recording running or a .kinrec being replayed")
            return False
        if self.open is not None:
            self.end()
        t = self._now(mode)
        if t is None:
            return False
        self.open = (action, t, mode)
        return True

    def end(self) -> bool:
        if self.open is None:
            return False
        action, t0, mode = self.open
        self.open = None
        t1 = self._now(mode)
        if t1 is None:
            return False
        t0, t1 = min(t0, t1), max(t0, t1)
        label = self.classes.index(action) if action in self.classes else None
        if mode == "record":
            tap = self.c.tap
            if tap is None or not tap.active:
                self.c.error(f"label {action!r} lost: the recording stopped before it ended")
                return False
            tap.add_segment(tap.to_recording_time(t0), tap.to_recording_time(t1), action, label=label)
        else:
            from kinact.core.recording.kinrec import Segment

            self.segments.append(Segment(t0, t1, action, None, label))
            self.dirty = True
        return True

    def save(self) -> None:
        """Rewrite the replayed file with `segments`, off the GUI thread."""
        p = self.c.proxy
        if self._file is None or p is None or self.saving:
            return
        from kinact.core.recording.kinrec import rewrite_segments

        path, t0 = self._file, float(getattr(p.inner, "start_time", 0.0))
        segs = [replace(s, start=s.start + t0, end=s.end + t0) for s in self.segments]
        self.saving = True

        def done(problems, exc):
            self.saving = False
            if exc is not None:
                self.c.error(f"labels not saved: {exc}")
                return
            self.dirty = False
            note = f" ({len(problems)} damaged part(s) left out)" if problems else ""
            self.c.messages.append(("info", f"saved {len(segs)} segment(s) to {path}{note}"))

        self.c.submit_io(lambda: rewrite_segments(path, segs), done)
