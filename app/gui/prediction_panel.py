"""What the recogniser thinks, one row per person: current action, top-5 scores and a 30-second timeline.

"No action" and "not classifiable" are shown as words, not as an empty label or a low-confidence guess: a
viewer must be able to tell "the model sees nothing happening" from "the model cannot see this person" (half
out of view, too few tracked joints), because the fixes differ (do something vs. step back into view).
The timeline is coloured by class (the same colour in every row and every run, see colors.class_color) with
start/end ticks from the event detector, so flicker or late starts are visible after the fact.
Rows are keyed by the tracker's person id and kept in id order, so a row never jumps to another person.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from kinact.app.gui import colors
from kinact.app.gui.skeleton_items import qcolor
from kinact.app.gui.timeline import Timeline

if TYPE_CHECKING:  # duck-typed at run time: importing the pipeline would pull scipy in for annotations only
    from kinact.core.pipeline.events import ActionEvent
    from kinact.core.pipeline.worker import Prediction

NO_ACTION, NOT_CLASSIFIABLE = "no action", "not classifiable"
_HINTS = {"low_motion": "little motion", "uncertain": "uncertain", "raw": "raw score", "ending": "ending"}
_STYLE = """
QWidget#predictionPanel, QWidget#rowsHost { background: rgb(22, 24, 30); }
QFrame#personRow { background: rgb(30, 33, 42); border-radius: 4px; }
QLabel { color: rgb(220, 222, 228); background: transparent; }
QLabel#hint, QLabel#empty { color: rgb(130, 136, 150); }
"""


def describe(pred: Prediction) -> tuple[str | None, str, str]:
    """(action or None, headline text, hint) for a prediction, the one place that decides what is shown."""
    if not pred.classifiable or pred.state == "unclassifiable":
        return None, NOT_CLASSIFIABLE, "too few tracked joints"
    if pred.label is None or pred.state in ("no_action", "low_motion", "uncertain"):
        return None, NO_ACTION, _HINTS.get(pred.state, "")
    return pred.label, pred.label, _HINTS.get(pred.state, "")


class Top5Bars(QtWidgets.QWidget):
    """Five labelled bars, painted rather than built from widgets: it changes ten times a second per person."""

    ROW_H = 15

    def __init__(self, panel: "PredictionPanel"):
        super().__init__()
        self.panel = panel
        self.items: list[tuple[str, float]] = []
        self.setMinimumHeight(5 * self.ROW_H)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_items(self, items) -> None:
        items = [(str(label), float(p)) for label, p in list(items)[:5]]
        if items != self.items:
            self.items = items
            self.update()

    def paintEvent(self, event) -> None:
        qp = QtGui.QPainter(self)
        qp.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        fm = qp.fontMetrics()
        name_w, pct_w = min(130, self.width() // 3), fm.horizontalAdvance("100%") + 6
        bar_w = max(self.width() - name_w - pct_w - 8, 10)
        for i, (label, p) in enumerate(self.items):
            y = i * self.ROW_H
            text_rect = QtCore.QRect(0, y, name_w - 4, self.ROW_H)
            qp.setPen(qcolor((200, 204, 214)))
            qp.drawText(text_rect, QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignRight,
                        fm.elidedText(label, QtCore.Qt.TextElideMode.ElideRight, name_w - 4))
            qp.fillRect(QtCore.QRectF(name_w + 4, y + 3, bar_w, self.ROW_H - 6), qcolor((44, 48, 58)))
            qp.fillRect(QtCore.QRectF(name_w + 4, y + 3, bar_w * max(0.0, min(p, 1.0)), self.ROW_H - 6),
                        qcolor(colors.class_color(label, self.panel.classes), 230 if i == 0 else 150))
            qp.setPen(qcolor((170, 175, 188)))
            qp.drawText(QtCore.QRect(name_w + bar_w + 8, y, pct_w, self.ROW_H), QtCore.Qt.AlignmentFlag.AlignVCenter,
                        f"{p:.0%}")
        qp.end()


class PersonRow(QtWidgets.QFrame):
    """One person's row: colour stripe, headline, top-5 and timeline."""

    def __init__(self, person: int, panel: "PredictionPanel"):
        super().__init__()
        self.person, self.panel = person, panel
        self.setObjectName("personRow")
        rgb = colors.person_color(person)
        self.setStyleSheet(f"QFrame#personRow {{ border-left: 5px solid rgb{rgb}; }}")
        self.name = QtWidgets.QLabel(f"person #{person}")
        self.name.setStyleSheet(f"color: rgb{rgb}; font-weight: bold;")
        self.action = QtWidgets.QLabel(NO_ACTION)
        font = self.action.font()
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 2.0)
        font.setBold(True)
        self.action.setFont(font)
        self.confidence = QtWidgets.QLabel("")
        self.confidence.setFont(QtGui.QFont(font.family(), int(font.pointSizeF() * 0.7)))
        self.hint = QtWidgets.QLabel("")
        self.hint.setObjectName("hint")
        self.bars = Top5Bars(panel)
        self.timeline = Timeline(panel.span, lambda: panel.classes)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.name)
        head.addStretch(1)
        head.addWidget(self.hint)
        headline = QtWidgets.QHBoxLayout()
        headline.addWidget(self.action)
        headline.addWidget(self.confidence, 0, QtCore.Qt.AlignmentFlag.AlignBaseline)
        headline.addStretch(1)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(12, 6, 8, 6)
        box.setSpacing(3)
        for part in (head, headline):
            box.addLayout(part)
        box.addWidget(self.bars)
        box.addWidget(self.timeline)
        self.shown: tuple[str | None, str] = (None, NO_ACTION)

    def update_prediction(self, pred: Prediction) -> None:
        action, headline, hint = describe(pred)
        self.shown = (action, headline)
        if self.action.text() != headline:
            self.action.setText(headline)
        rgb = colors.class_color(action, self.panel.classes) if action else (130, 136, 150)
        if action and pred.state == "ending":  # held only until the end rule lets go: faded, not news
            rgb = tuple(int(0.45 * c + 0.55 * 70) for c in rgb)
        style = f"color: rgb{rgb};" + ("" if action and pred.state != "ending" else " font-style: italic;")
        if style != self.action.styleSheet():  # re-styling re-polishes the widget: only on change
            self.action.setStyleSheet(style)
        self.confidence.setText(f"{pred.confidence:.0%}" if action else "")
        self.hint.setText(hint)
        self.bars.set_items([] if headline == NOT_CLASSIFIABLE else pred.top5)
        self.timeline.add_state(pred.t_frame, action)


class PredictionPanel(QtWidgets.QWidget):
    """All persons' rows, in a scroll area so a crowded scene does not squash them."""

    def __init__(self, parent=None, span: float = 30.0, classes: list[str] | None = None):
        super().__init__(parent)
        self.setObjectName("predictionPanel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self.span = float(span)
        self.classes: list[str] = list(classes or [])
        self.rows: dict[int, PersonRow] = {}
        self.now: float | None = None
        self.empty = QtWidgets.QLabel("nobody in view")
        self.empty.setObjectName("empty")
        self.empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        host = QtWidgets.QWidget()
        host.setObjectName("rowsHost")
        self.rows_box = QtWidgets.QVBoxLayout(host)
        self.rows_box.setContentsMargins(4, 4, 4, 4)
        self.rows_box.setSpacing(6)
        self.rows_box.addWidget(self.empty)
        self.rows_box.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(host)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def set_classes(self, classes: list[str]) -> None:
        """The checkpoint's class list: colours follow class indices once it is known."""
        self.classes = list(classes)
        for row in self.rows.values():
            row.bars.update()
            row.timeline.update()

    def _row(self, person: int) -> PersonRow:
        row = self.rows.get(person)
        if row is None:
            row = self.rows[person] = PersonRow(person, self)
            position = sorted(self.rows).index(person) + 1  # after the "nobody" label, in person order
            self.rows_box.insertWidget(position, row)
            self.empty.setVisible(False)
            if self.now is not None:
                row.timeline.set_time(self.now)
        return row

    def update_prediction(self, pred: Prediction) -> None:
        self._row(pred.person).update_prediction(pred)
        if self.now is None or pred.t_frame > self.now:
            self._advance(pred.t_frame)

    def add_event(self, ev: ActionEvent) -> None:
        """A start makes the row if needed; an end for a person already removed is dropped (it would bring
        back the row of someone who left: the engine ends a person's action when they vanish)."""
        if ev.person not in self.rows and ev.kind != "start":
            return
        self._row(ev.person).timeline.add_event(ev)

    def remove_person(self, person: int) -> None:
        row = self.rows.pop(person, None)
        if row is not None:
            self.rows_box.removeWidget(row)
            row.setParent(None)
            row.deleteLater()
        self.empty.setVisible(not self.rows)

    def set_time(self, t: float) -> None:
        """Scroll every timeline to `t` (the frames' clock); going back (a replay seek) clears them."""
        self._advance(t)

    def _advance(self, t: float) -> None:
        self.now = float(t)
        for row in self.rows.values():
            row.timeline.set_time(self.now)

    def clear(self) -> None:
        for person in list(self.rows):
            self.remove_person(person)
        self.now = None
