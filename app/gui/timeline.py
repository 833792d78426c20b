"""A person's last 30 seconds as one coloured lane: what was recognised when, with start/end ticks.

It is built from what the panel is told (each prediction's shown action and each event), not from a model,
so it shows exactly what the viewer saw. Time is the frames' clock, so a replay at 4× speed scrolls 4×
faster and a paused replay stands still. Painted with QPainter: a few rectangles, no child widgets.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from kinact.app.gui import colors
from kinact.app.gui.skeleton_items import qcolor

MAX_GAP = 2.0  # seconds without predictions after which the lane shows "unknown" instead of stretching on
SEEK_BACK = 1.0  # time running back by more than this is a replay seek: the history no longer applies


class Timeline(QtWidgets.QWidget):
    """`segments`: [t0, t1, label or None]; `events`: (t, kind, label); both pruned to the last `span` s."""

    LANE_H, AXIS_H = 22, 13

    def __init__(self, span: float = 30.0, classes: Callable[[], list[str]] | None = None):
        super().__init__()
        self.span = float(span)
        self.classes = classes or (lambda: [])
        self.segments: list[list] = []
        self.events: deque[tuple[float, str, str]] = deque()
        self.now: float | None = None
        self.setFixedHeight(self.LANE_H + self.AXIS_H)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def _check_seek(self, t: float) -> None:
        """Only `set_time` (the frames' clock) may detect a seek: predictions and events lag behind it by the
        inference latency, and an end event after a person vanished is dated when they were last seen."""
        if self.now is not None and t < self.now - SEEK_BACK:
            self.segments.clear()
            self.events.clear()
            self.now = None

    def add_state(self, t: float, label: str | None) -> None:
        """What was shown at `t`: extends the current segment or starts a new one."""
        t = float(t)
        last = self.segments[-1] if self.segments else None
        if last is not None and t - last[1] <= MAX_GAP:
            if last[2] == label:
                last[1] = max(last[1], t)
                self._advance(t)
                return
            last[1] = max(last[1], t)  # the previous state lasted until this one took over
        self.segments.append([t, t, label])
        self._advance(t)

    def add_event(self, ev) -> None:
        self.events.append((float(ev.t), ev.kind, ev.label))
        self._advance(ev.t)

    def set_time(self, t: float) -> None:
        t = float(t)
        self._check_seek(t)
        self.now = t
        self._prune()
        self.update()

    def _advance(self, t: float) -> None:
        if self.now is None or t > self.now:
            self.now = float(t)
        self._prune()
        self.update()

    def _prune(self) -> None:
        start = self.now - self.span
        while self.segments and self.segments[0][1] < start:
            self.segments.pop(0)
        while self.events and self.events[0][0] < start:
            self.events.popleft()

    def paintEvent(self, event) -> None:
        qp = QtGui.QPainter(self)
        w, lane = self.width(), QtCore.QRectF(0, 0, self.width(), self.LANE_H)
        qp.fillRect(lane, qcolor((24, 26, 32)))
        if self.now is not None:
            x_of = lambda t: (t - (self.now - self.span)) / self.span * w  # noqa: E731
            classes = self.classes()
            fm = qp.fontMetrics()
            for t0, t1, label in self.segments:
                x0, x1 = max(x_of(t0), 0.0), min(x_of(t1), float(w))
                if x1 - x0 < 1.0:
                    x1 = x0 + 1.0
                rgb = colors.class_color(label, classes) if label else colors.NO_ACTION_COLOR
                qp.fillRect(QtCore.QRectF(x0, 2, x1 - x0, self.LANE_H - 4), qcolor(rgb))
                if label and fm.horizontalAdvance(label) + 8 < x1 - x0:
                    dark = sum(rgb) > 380
                    qp.setPen(qcolor((20, 20, 24) if dark else (245, 245, 245)))
                    qp.drawText(QtCore.QRectF(x0 + 4, 2, x1 - x0 - 4, self.LANE_H - 4),
                                QtCore.Qt.AlignmentFlag.AlignVCenter, label)
            for t, kind, label in self.events:
                self._tick(qp, x_of(t), kind, colors.class_color(label, classes))
            qp.setPen(qcolor((120, 126, 140)))
            step = 10.0 if self.span > 15 else 5.0
            k = 0.0
            while k <= self.span + 1e-6:
                x = w - k / self.span * w
                qp.drawLine(QtCore.QPointF(x, self.LANE_H), QtCore.QPointF(x, self.LANE_H + 3))
                text = "now" if k == 0 else f"-{k:.0f}s"
                tw = qp.fontMetrics().horizontalAdvance(text)
                qp.drawText(QtCore.QPointF(min(max(x - tw / 2, 0), w - tw), self.LANE_H + self.AXIS_H - 1), text)
                k += step
        qp.end()

    def _tick(self, qp: QtGui.QPainter, x: float, kind: str, rgb) -> None:
        """Start: bright line with a triangle on top; end: white line with a triangle at the bottom."""
        h = float(self.LANE_H)
        colour = qcolor((255, 255, 255) if kind == "end" else colors.mix(rgb, (255, 255, 255), 0.35))
        qp.setPen(QtGui.QPen(colour, 2))
        qp.drawLine(QtCore.QPointF(x, 0), QtCore.QPointF(x, h))
        y, d = (0.0, 5.0) if kind == "start" else (h, -5.0)
        tri = QtGui.QPolygonF([QtCore.QPointF(x - 4, y), QtCore.QPointF(x + 4, y), QtCore.QPointF(x, y + d)])
        qp.setBrush(colour)
        qp.setPen(QtCore.Qt.PenStyle.NoPen)
        qp.drawPolygon(tri)
