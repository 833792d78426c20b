"""Use whichever of two equivalent ways to run a model is faster right now, and keep checking.

Why: splitting one window's GRU nodes across the cores (graph_split) makes a call 1.6x faster when calls
come back to back (replaying as fast as possible, a busy machine), but on the idle 2-core development
machine a call made after the ~33-100 ms pause between live strides starts on cold cores and was no faster
than the whole graph, sometimes slower (3.98 vs 3.48 ms per stride in `kinact bench pipeline`). Which wins
depends on the pacing and the load, both of which change while the app runs, so it is measured, not guessed:
each call goes to the way with the lower recent wall time (an exponential average), and every
`explore_every`-th call to the other one, so a change of regime is noticed within a few dozen calls.
Both ways must return the same numbers (graph_split checks that at build time); only speed is chosen.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

Run = Callable[[tuple], object]


class FasterOf:
    """A `run` callable that dispatches each call to `a` or `b`, whichever has been faster lately."""

    def __init__(self, a: Run, b: Run, explore_every: int = 16, alpha: float = 0.1,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if explore_every < 2 or not 0 < alpha <= 1:
            raise ValueError("explore_every must be >= 2 and alpha in (0, 1]")
        self._runs = (a, b)
        self.explore_every, self.alpha = int(explore_every), float(alpha)
        self._clock = clock
        self.average_s: list[float | None] = [None, None]  # recent wall time per way
        self.calls = [0, 0]
        self._n = 0
        self._lock = threading.Lock()

    def _pick(self) -> int:
        with self._lock:
            self._n += 1
            avg = self.average_s
            if avg[0] is None or avg[1] is None:  # try each way once first
                return 0 if avg[0] is None else 1
            best = 0 if avg[0] <= avg[1] else 1
            return 1 - best if self._n % self.explore_every == 0 else best

    def __call__(self, arrays: tuple):
        i = self._pick()
        start = self._clock()
        out = self._runs[i](arrays)
        took = self._clock() - start
        with self._lock:
            old = self.average_s[i]
            # the first calls of a way allocate and plan: the second one replaces the first outright
            self.average_s[i] = took if old is None or self.calls[i] < 2 else old + self.alpha * (took - old)
            self.calls[i] += 1
        return out
