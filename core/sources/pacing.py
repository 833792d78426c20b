"""Playback of a finite timeline: pacing, pause, step, seek and loop, shared by every file-backed source.

A replayed file has to behave like a sensor (frames arrive when they are due) while the GUI drives it like a
video player from another thread. Keeping that in one place means a recording and a dataset file obey the
transport identically, and the pipeline runner can leave such sources alone (`paced = True`).
`Transport` is the clock and the controls; `PlaybackSource` wraps it as a Source for subclasses that only
know how to load a file and fetch frame i.

The clock is an *anchor*: (timeline time, wall time) of the last moment the two were tied together. Frame
`t` is due at ``wall + (t - anchor_t) / speed``. Any transport action (resume, seek, speed change, step)
drops the anchor so pacing restarts at the next frame instead of racing to catch up or sitting out time
that already passed. A gap in the file longer than `max_gap` wall seconds is skipped the same way, as the
runner does for the sources it paces, so a recording paused for minutes does not replay minutes of silence;
and a consumer that fell more than `max_gap` behind is not answered with a burst of frames to catch up.

Decoding a frame happens outside the lock, so a GUI calling `pause()` never waits for a depth image to
decompress; a seek that lands meanwhile makes the read discard that frame and pick again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from kinact.core.errors import KinactError
from kinact.core.frames import Frame
from kinact.core.sources.base import EndOfStream, Source

MIN_SPEED, MAX_SPEED = 0.25, 8.0


def check_speed(speed) -> float:
    """The runner accepts exactly the same speeds, so a GUI slider works whichever of the two paces."""
    try:
        s = float(speed)
    except (TypeError, ValueError):
        raise KinactError(f"replay speed must be a number, got {speed!r}") from None
    if s != 0 and not MIN_SPEED <= s <= MAX_SPEED:
        raise KinactError(f"replay speed must be between {MIN_SPEED:g} and {MAX_SPEED:g} "
                          f"(or 0 for as fast as possible), got {speed!r}")
    return s


class Transport:
    """Plays frames `0..n-1` at `times` (seconds from the start, non-decreasing) through `fetch(i)`.

    `fetch` returns the Frame for index i, or None when it cannot be read (a damaged chunk): such frames are
    skipped and do not count towards a `step`. Delivered frames carry `t = times[i] + loops * period`, so
    with `loop` the time seen downstream never goes backwards across the wrap.
    """

    def __init__(self, times, fetch: Callable[[int], Frame | None], period: float, *, speed: float = 1.0,
                 loop: bool = False, start: float = 0.0, max_gap: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self._times = np.asarray(times, dtype=np.float64)
        self._fetch = fetch
        self._period = float(period)
        self._speed = check_speed(speed)
        self._loop = bool(loop)
        self._max_gap = float(max_gap)
        self._clock = clock
        self._cond = threading.Condition()
        self._fetch_lock = threading.Lock()  # fetch and close must not overlap: close unmaps the file
        self._index = 0
        self._loops = 0
        self._paused = False
        self._steps = 0
        self._anchor: tuple[float, float] | None = None  # (timeline t, wall time)
        self._gen = 0  # bumped by every seek, so a frame decoded across a seek is recognised as stale
        self._skipped_run = 0  # consecutive unreadable frames: a file unreadable throughout must end a loop
        self._position = 0.0
        self._closed = False
        self.seek(start)

    # -- state the GUI shows ---------------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return int(len(self._times))

    @property
    def duration(self) -> float:
        return self._period

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    @property
    def position(self) -> float:
        """Time in the file (no loop offset) of the last frame delivered, or where a seek landed."""
        with self._cond:
            return self._position

    # -- transport, callable from any thread ---------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._steps = 0
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused, self._steps, self._anchor = False, 0, None
            self._cond.notify_all()

    def set_speed(self, speed) -> None:
        s = check_speed(speed)
        with self._cond:
            self._speed, self._anchor = s, None
            self._cond.notify_all()

    def seek(self, t: float) -> None:
        """The next frame read is the first at or after `t` seconds; past the end means the end (or the wrap)."""
        try:
            t = float(t)
        except (TypeError, ValueError):
            raise KinactError(f"seek position must be a number of seconds, got {t!r}") from None
        if t != t:
            raise KinactError("seek position must be a number of seconds, got NaN")
        with self._cond:
            self._index = int(np.searchsorted(self._times, max(0.0, t) - 1e-9, side="left"))
            self._position = float(self._times[self._index]) if self._index < len(self._times) else self._period
            self._anchor, self._skipped_run = None, 0
            self._gen += 1
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """Pause (if playing) and let exactly the next `n` readable frames through, immediately."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise KinactError(f"step needs a whole number of frames >= 1, got {n!r}")
        with self._cond:
            self._paused = True
            self._steps += int(n)
            self._anchor = None
            self._cond.notify_all()

    def close(self) -> None:
        """Wake a read blocked in another thread (it returns None) and refuse further reads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        with self._fetch_lock:  # wait for a fetch in flight to finish before the caller frees the file
            pass

    # -- reading --------------------------------------------------------------------------------------------
    def read(self, timeout: float = 1.0) -> Frame | None:
        """The next frame once it is due; None if none became due within `timeout`; EndOfStream at the end."""
        deadline = self._clock() + max(0.0, float(timeout))
        while True:
            with self._cond:
                picked = self._pick(deadline)
                if picked is None:
                    return None
                i, t_out, gen, stepping = picked
            with self._fetch_lock:
                frame = None if self._closed else self._fetch(i)
            with self._cond:
                if gen != self._gen or self._closed:  # seeked (or closed) while decoding: not wanted any more
                    self._steps += stepping
                    if self._closed:
                        return None
                    continue
                if frame is None:
                    self._steps += stepping
                    self._skipped_run += 1
                    continue
                self._skipped_run = 0
                self._position = float(self._times[i])
                return replace(frame, t=t_out)

    def _pick(self, deadline: float):
        """Under the lock: wait until a frame may go out, claim it and advance; None on timeout or close."""
        n = len(self._times)
        while True:
            if self._closed:
                return None
            now = self._clock()
            if self._paused and self._steps == 0:
                if now >= deadline:
                    return None
                self._cond.wait(deadline - now)
                continue
            if self._skipped_run >= n or self._index >= n:
                if not self._loop or self._skipped_run >= n:  # also n == 0: nothing to loop over
                    raise EndOfStream()
                self._index, self._loops = 0, self._loops + 1
            i = self._index
            t = float(self._times[i]) + self._loops * self._period  # paced on this, so the wrap keeps rhythm
            stepping = self._steps > 0
            if not stepping and self._speed > 0:
                if self._anchor is None or t < self._anchor[0]:
                    self._anchor = (t, now)
                due = self._anchor[1] + (t - self._anchor[0]) / self._speed
                if abs(due - now) > self._max_gap:  # a gap in the file, or a reader that fell far behind
                    self._anchor, due = (t, now), now
                if due > now:
                    if now >= deadline:
                        return None
                    self._cond.wait(min(due, deadline) - now)
                    continue  # re-check: a pause, seek or speed change may have come in while waiting
            if stepping:
                self._steps -= 1
            self._index = i + 1
            return i, t, self._gen, int(stepping)


class PlaybackSource(Source):
    """A file-backed Source whose frames go out through a Transport; subclasses only load and fetch.

    Subclasses implement `_load()` (read the file, set layout/fps/intrinsics/header/segments, return the
    frame times in seconds from the start and the playback period), `_fetch(i)` and `_release()`.
    """

    live = False
    paced = True  # the runner must not pace us again: it knows nothing of pauses and seeks

    def __init__(self, path, speed: float = 1.0, loop: bool = False, start: float = 0.0):
        self.path = str(path)
        self._speed = check_speed(speed)  # a bad speed fails when the source is built, not when it is opened
        self._loop = bool(loop)
        self._start = float(start)
        self._transport: Transport | None = None
        self.header = None
        self.segments: list = []

    def _load(self) -> tuple[np.ndarray, float]:
        raise NotImplementedError

    def _fetch(self, i: int) -> Frame | None:
        raise NotImplementedError

    def _release(self) -> None:
        pass

    def open(self) -> None:
        self.close()
        try:
            times, period = self._load()
            self._transport = Transport(times, self._fetch, period, speed=self.speed, loop=self._loop,
                                        start=self._start)
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        if self._transport is not None:
            self._speed = self._transport.speed  # a reopen keeps the speed the user chose
            self._transport.close()
            self._transport = None
        self._release()

    def read(self, timeout: float = 1.0) -> Frame | None:
        return self._playing().read(timeout)

    def _playing(self) -> Transport:
        if self._transport is None:
            raise KinactError(f"{self.describe()} is not open; call open() first")
        return self._transport

    # -- what the GUI shows and drives; everything but speed needs the file open -----------------------------
    duration = property(lambda self: self._playing().duration)
    frame_count = property(lambda self: self._playing().frame_count)
    position = property(lambda self: self._playing().position, doc=Transport.position.__doc__)
    paused = property(lambda self: self._playing().paused)

    @property
    def speed(self) -> float:
        return self._transport.speed if self._transport is not None else self._speed

    def set_speed(self, speed: float) -> None:
        if self._transport is None:
            self._speed = check_speed(speed)
        else:
            self._transport.set_speed(speed)

    def pause(self) -> None:
        self._playing().pause()

    def resume(self) -> None:
        self._playing().resume()

    def seek(self, t: float) -> None:
        self._playing().seek(t)

    def step(self, n: int = 1) -> None:
        self._playing().step(n)
