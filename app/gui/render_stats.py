"""How fast the window really draws, measured where it matters: on the GUI thread, per timer tick.

Two numbers answer "is the GUI keeping up?": frames drawn per second (what the viewer sees) and the GUI
thread's time per tick that drew one (the budget at 30 Hz is 33 ms; everything above that is dropped display
frames and a sluggish window).
"""
from __future__ import annotations

from collections import deque

import numpy as np


class RenderStats:
    """Per tick: when it ended, how long the GUI thread spent in it, and whether it drew a new frame."""

    def __init__(self, size: int = 2000):
        self.ticks: deque[tuple[float, float, bool]] = deque(maxlen=size)  # about a minute at 30 Hz

    def add(self, t_end: float, ms: float, drew: bool) -> None:
        self.ticks.append((t_end, ms, drew))

    def summary(self, span: float = 2.0) -> dict:
        """Over the last `span` s: fps (frames drawn per second), median/p95 ms (GUI time of the ticks that drew
        a frame), frames, ticks, and tick_median_ms (all ticks, idle ones included)."""
        ticks = list(self.ticks)
        if ticks:
            ticks = [tk for tk in ticks if tk[0] >= ticks[-1][0] - span]
        drawn = [(t, ms) for t, ms, d in ticks if d]
        fps = 0.0
        if len(drawn) > 1 and drawn[-1][0] > drawn[0][0]:
            fps = (len(drawn) - 1) / (drawn[-1][0] - drawn[0][0])
        ms = [m for _, m in drawn]
        q = (lambda p: float(np.percentile(ms, p))) if ms else (lambda p: float("nan"))
        return {"fps": fps, "median_ms": q(50), "p95_ms": q(95), "frames": len(ms), "ticks": len(ticks),
                "tick_median_ms": float(np.median([m for _, m, _ in ticks])) if ticks else float("nan")}
