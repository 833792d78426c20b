"""The controls under the views: replay transport, Record, and labelling.

They are plain widgets that say what the user asked for (signals on the GUI thread) and show the state they
are handed (`set_state`); the window connects them to the controller. Keeping them ignorant of the runner
means they can be driven and tested without a pipeline. Buttons take no keyboard focus, so Space and the
arrow keys always reach the window's shortcuts instead of "clicking" whichever button was pressed last.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
_NO_FOCUS = QtCore.Qt.FocusPolicy.NoFocus


def clock(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def _button(text: str, tip: str, checkable: bool = False) -> QtWidgets.QPushButton:
    b = QtWidgets.QPushButton(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setFocusPolicy(_NO_FOCUS)
    return b


class TransportBar(QtWidgets.QWidget):
    """Play/pause, frame steps, seek slider with time, speed. Disabled for sources that cannot be driven."""

    play_clicked = QtCore.Signal()
    step_requested = QtCore.Signal(int)
    seek_requested = QtCore.Signal(float)
    speed_changed = QtCore.Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.play = _button("▶ Play", "play / pause (Space)")
        self.back = _button("◀|", "one frame back (←)")
        self.forward = _button("|▶", "one frame forward (→)")
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(_NO_FOCUS)
        self.slider.setRange(0, 0)
        self.time = QtWidgets.QLabel(clock(0) + " / " + clock(0))
        self.speed = QtWidgets.QComboBox()
        self.speed.setFocusPolicy(_NO_FOCUS)
        self.speed.setToolTip("replay speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        for w in (self.back, self.play, self.forward):
            box.addWidget(w)
        box.addWidget(self.slider, 1)
        box.addWidget(self.time)
        box.addWidget(self.speed)
        self.play.clicked.connect(self.play_clicked)
        self.back.clicked.connect(lambda: self.step_requested.emit(-1))
        self.forward.clicked.connect(lambda: self.step_requested.emit(1))
        self.slider.sliderReleased.connect(self._seek)
        self.slider.sliderMoved.connect(lambda v: self._show_time(v / 1000.0))
        self.slider.actionTriggered.connect(self._slider_action)
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(float(self.speed.itemData(i))))
        self._duration = 0.0
        self.set_state(None)

    def _slider_action(self, action) -> None:
        """A click on the groove or a wheel step: seek there (a drag seeks on release)."""
        if not self.slider.isSliderDown():
            QtCore.QTimer.singleShot(0, self._seek)

    def _seek(self) -> None:
        self.seek_requested.emit(self.slider.value() / 1000.0)

    def _show_time(self, position: float) -> None:
        self.time.setText(f"{clock(position)} / {clock(self._duration)}")

    def set_speed(self, speed: float) -> None:
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - speed))
        if i != self.speed.currentIndex():
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(i)
            self.speed.blockSignals(False)

    def set_state(self, info: dict | None, speed_only: bool = False) -> None:
        """`info` from Controller.transport(), or None (no seekable source; speed may still apply)."""
        seekable = info is not None
        for w in (self.play, self.back, self.forward, self.slider):
            w.setEnabled(seekable)
        self.speed.setEnabled(seekable or speed_only)
        if not seekable:
            return
        self._duration = float(info["duration"])
        playing = not info["paused"] and not info["ended"]
        self.play.setText("❚❚ Pause" if playing else "▶ Play")
        if not self.slider.isSliderDown():
            top = int(round(self._duration * 1000))
            if self.slider.maximum() != top:
                self.slider.setRange(0, top)
            self.slider.blockSignals(True)
            self.slider.setValue(int(round(float(info["position"]) * 1000)))
            self.slider.blockSignals(False)
            self._show_time(float(info["position"]))


class RecordBox(QtWidgets.QWidget):
    """Record toggle with the elapsed recording time, and where recordings go."""

    record_clicked = QtCore.Signal()
    folder_clicked = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.button = _button("● Record", "record to a .kinrec file (R)", checkable=True)
        self.elapsed = QtWidgets.QLabel("")
        self.elapsed.setMinimumWidth(130)
        self.folder = _button("…", "folder for recordings")
        self.folder.setMaximumWidth(28)
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        box.addWidget(self.button)
        box.addWidget(self.elapsed)
        box.addWidget(self.folder)
        self.button.clicked.connect(self._clicked)
        self.folder.clicked.connect(self.folder_clicked)

    def _clicked(self) -> None:
        self.button.setChecked(not self.button.isChecked())  # the state shown is the recorder's, not the click's
        self.record_clicked.emit()

    def set_state(self, active: bool, seconds: float = 0.0, frames: int = 0, folder: str = "") -> None:
        self.button.setChecked(active)
        self.button.setStyleSheet("QPushButton { color: rgb(230, 60, 60); font-weight: bold; }" if active else "")
        self.elapsed.setText(f"REC {clock(seconds)}  {frames} frames" if active else "")
        self.folder.setToolTip(f"folder for recordings: {folder}")


class LabelBox(QtWidgets.QWidget):
    """Class picker (the model's classes, or any typed name), Start/End label, Save labels."""

    start_clicked = QtCore.Signal(str)
    end_clicked = QtCore.Signal()
    save_clicked = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.action = QtWidgets.QComboBox()
        self.action.setEditable(True)
        self.action.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.action.setMinimumWidth(150)
        self.action.lineEdit().setPlaceholderText("class to label")
        self.start = _button("Start label", "start a labelled segment (keys 1–9 pick the first classes)")
        self.end = _button("End label", "end the running segment")
        self.save = _button("Save labels", "write the labels into the replayed recording")
        self.info = QtWidgets.QLabel("")
        self.info.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        for w in (self.action, self.start, self.end, self.save):
            box.addWidget(w)
        box.addWidget(self.info, 1)
        self.start.clicked.connect(lambda: self.start_clicked.emit(self.action.currentText()))
        self.end.clicked.connect(self.end_clicked)
        self.save.clicked.connect(self.save_clicked)
        self.set_state(None, None, 0, False, False)

    def set_classes(self, classes: list[str]) -> None:
        text = self.action.currentText()
        self.action.clear()
        self.action.addItems([f"{c}" for c in classes])
        self.action.setEditText(text if text else (classes[0] if classes else ""))

    def select(self, i: int) -> str | None:
        if 0 <= i < self.action.count():
            self.action.setCurrentIndex(i)
            return self.action.itemText(i)
        return None

    def set_state(self, mode: str | None, running: str | None, segments: int, dirty: bool, saving: bool) -> None:
        self.start.setEnabled(mode is not None)
        self.end.setEnabled(running is not None)
        self.save.setEnabled(mode == "replay" and dirty and not saving)
        where = {"record": "into the recording", "replay": f"{segments} segment(s) in file"}.get(mode, "")
        now = f"labelling {running!r}  " if running else ""
        self.info.setText(now + where + (" (unsaved)" if dirty else "") + (" saving…" if saving else ""))
