"""A `.kinrec` recording played back as a Source, with the transport (pause, step, seek, speed) the GUI needs.

The source owns its clock (`paced = True`, see `pacing`) because only it knows about pauses and seeks: if
the runner paced it too, a resume would look like a long gap and a seek backwards like time running back.

Frame times are seconds from the recording's first frame (plus the loop offset when looping), so `position`,
`seek()` and a timeline slider all start at 0 whatever clock the file was written with. `segments` are moved
onto that same clock so they line up with `position`; add `start_time` to get the file's own times back
(e.g. before `rewrite_segments`). For recordings kinact writes, `start_time` is normally 0.
"""
from __future__ import annotations

import os
from dataclasses import replace

from kinact.core.errors import BadInputError
from kinact.core.frames import Frame
from kinact.core.recording.kinrec_reader import KinrecReader
from kinact.core.sources.base import Availability
from kinact.core.sources.pacing import PlaybackSource


class ReplaySource(PlaybackSource):
    """Replays one recording at `speed` (0.25–8, or 0 = as fast as possible), from `start` seconds.

    Damaged chunks cost only their own frames, which are skipped; `problems` lists them. A file that is not
    a readable recording at all is a BadInputError from `open()`.
    """

    name = "replay"

    def __init__(self, path: str | os.PathLike, speed: float = 1.0, loop: bool = False, start: float = 0.0):
        super().__init__(os.fspath(path), speed, loop, start)
        self._reader: KinrecReader | None = None
        self._problems: list[str] = []
        self.start_time = 0.0

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True)  # pure Python: nothing to install

    def describe(self) -> str:
        """The status bar shows this: a synthetic recording must say so wherever it is shown."""
        mark = " — SYNTHETIC performer" if self.synthetic else ""
        return f"replay {os.path.basename(self.path)}{mark}"

    @property
    def problems(self) -> list[str]:
        """Damage found so far, one line each; grows during playback as damaged chunks are reached."""
        return self._problems

    def _load(self):
        self._reader = reader = KinrecReader(self.path)
        self._problems = reader.problems  # the reader's own list, kept after close for a final report
        h = reader.header
        self.header, self.layout, self.fps = h, h.layout, h.fps
        self.intrinsics, self.synthetic = h.intrinsics, h.synthetic
        self.start_time = t0 = reader.start_time
        self.segments = [replace(s, start=s.start - t0, end=s.end - t0) for s in reader.segments]
        return reader.frame_times - t0, reader.duration

    def _fetch(self, i: int) -> Frame | None:
        try:
            return self._reader.read_frame(i)
        except BadInputError:  # in a damaged chunk: the reader has already listed it in `problems`
            return None

    def _release(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
