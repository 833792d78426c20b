"""Health of the running pipeline at a glance, and errors that do not stop the show.

A live demo must not freeze behind a modal dialog because a sensor hiccuped: errors go to a banner that can
be dismissed and to a log that keeps them all (several can arrive while nobody looks). The numbers shown are
the ones that explain a bad recognition: capture fps (is the sensor delivering?), inference latency (is the
model keeping up?) and dropped windows (how much was skipped because it did not).
"""
from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

STATE_COLORS = {
    "connecting": (110, 120, 140), "connected": (40, 150, 80), "replaying": (40, 110, 180),
    "reconnecting": (200, 140, 20), "ended": (90, 94, 104), "error": (190, 45, 45),
}
_STYLE = """
QWidget#statusPanel { background: rgb(22, 24, 30); }
QLabel { color: rgb(200, 204, 214); }
QLabel#source { font-weight: bold; }
QFrame#banner { background: rgb(120, 30, 34); border-radius: 3px; }
QFrame#banner QLabel { color: white; }
QListWidget { background: rgb(28, 30, 38); color: rgb(220, 180, 180); }
"""
_UNSET = object()


class StatusPanel(QtWidgets.QWidget):
    """Source, state, fps, latency, drops, model; `show_error` for the banner and log."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusPanel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self.values: dict[str, object] = {"source": "", "state": "", "capture_fps": None, "latency_ms": None,
                                          "dropped_windows": None, "model": "", "render_fps": None}
        self.log: list[str] = []
        self._last_error = ""

        self.source = QtWidgets.QLabel("no source")
        self.source.setObjectName("source")
        self.state = QtWidgets.QLabel("")
        self.state.setMinimumWidth(80)
        self.state.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.fps, self.latency, self.dropped, self.model, self.render = (QtWidgets.QLabel("") for _ in range(5))
        for label in (self.source, self.model):  # long paths must not widen the window: clip, full text in tooltip
            label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(90)
        self.log_button = QtWidgets.QToolButton()
        self.log_button.setText("log (0)")
        self.log_button.setCheckable(True)
        self.log_button.toggled.connect(self._toggle_log)

        self.banner = QtWidgets.QFrame()
        self.banner.setObjectName("banner")
        self.banner_text = QtWidgets.QLabel("")
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button = QtWidgets.QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss_error)
        banner_box = QtWidgets.QHBoxLayout(self.banner)
        banner_box.setContentsMargins(8, 4, 4, 4)
        banner_box.addWidget(self.banner_text, 1)
        banner_box.addWidget(self.dismiss_button)
        self.banner.hide()

        self.log_list = QtWidgets.QListWidget()
        self.log_list.setMaximumHeight(110)
        self.log_list.hide()

        info = QtWidgets.QHBoxLayout()
        info.setContentsMargins(6, 2, 6, 2)
        info.setSpacing(14)
        for w in (self.source, self.state, self.fps, self.render, self.latency, self.dropped, self.model):
            info.addWidget(w, {self.source: 2, self.model: 3}.get(w, 0))  # the clipped ones take the spare room
        info.addWidget(self.log_button)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.banner)
        box.addLayout(info)
        box.addWidget(self.log_list)
        self._render()

    def set_status(self, source=_UNSET, state=_UNSET, capture_fps=_UNSET, latency_ms=_UNSET,
                   dropped_windows=_UNSET, model=_UNSET, render_fps=_UNSET) -> None:
        """Change any of the shown values; the ones not passed stay as they are."""
        for key, value in (("source", source), ("state", state), ("capture_fps", capture_fps),
                           ("latency_ms", latency_ms), ("dropped_windows", dropped_windows), ("model", model),
                           ("render_fps", render_fps)):
            if value is not _UNSET:
                self.values[key] = value
        self._render()

    def update_from(self, status) -> None:
        """Take a `RunnerStatus` (or anything with its fields); a new `error` goes to the banner once."""
        self.set_status(source=status.source, state=status.state, capture_fps=status.capture_fps,
                        latency_ms=status.latency_ms, dropped_windows=status.dropped_windows)
        error = getattr(status, "error", "") or ""
        if error and error != self._last_error:
            self.show_error(error)
        self._last_error = error
        notice = getattr(status, "notice", "") or ""
        if notice and notice != getattr(self, "_last_notice", ""):
            self.show_error(notice)  # the banner: e.g. a sensor streaming depth only is worth seeing, once
        self._last_notice = notice

    def _render(self) -> None:
        v = self.values
        self.source.setText(str(v["source"] or "no source"))
        self.source.setToolTip(self.source.text())
        state = str(v["state"] or "")
        rgb = STATE_COLORS.get(state, (90, 94, 104))
        self.state.setText(state or "idle")
        style = f"background: rgb{rgb}; color: white; border-radius: 3px; padding: 1px 6px;"
        if style != self.state.styleSheet():
            self.state.setStyleSheet(style)
        fps, lat, drop = v["capture_fps"], v["latency_ms"], v["dropped_windows"]
        self.fps.setText(f"capture {fps:.1f} fps" if fps is not None else "capture – fps")
        rfps = v["render_fps"]
        self.render.setText(f"render {rfps:.1f} fps" if rfps is not None else "render – fps")
        self.latency.setText(f"inference {lat:.1f} ms" if lat is not None else "inference – ms")
        self.dropped.setText(f"dropped {int(drop)}" if drop is not None else "dropped –")
        self.model.setText(f"model {v['model']}" if v["model"] else "no model")
        self.model.setToolTip(self.model.text())

    def add_log(self, text: str) -> None:
        """Append to the log only: news (a recording saved), not a problem."""
        self.log.append(f"{time.strftime('%H:%M:%S')}  {str(text).strip()}")
        self.log_list.addItem(self.log[-1])
        self.log_list.scrollToBottom()
        self.log_button.setText(f"log ({len(self.log)})")

    def show_error(self, text: str) -> None:
        """Show `text` in the banner (replacing an older one) and append it to the log; never blocks."""
        text = str(text).strip() or "unknown error"
        self.add_log(text)
        self.banner_text.setText(text)
        self.banner.show()

    def dismiss_error(self) -> None:
        self.banner.hide()

    @property
    def banner_visible(self) -> bool:
        return not self.banner.isHidden()

    def _toggle_log(self, on: bool) -> None:
        self.log_list.setVisible(on)
