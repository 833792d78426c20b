"""The model's controls: which checkpoint runs, what it knows, and how eagerly its scores become actions.

The thresholds are the event detector's (see kinact.core.pipeline.events): `enter` is the smoothed score an
action needs to start, `exit` the score below which it ends, `alpha` the weight of the newest window in the
smoothing. They apply live, because the right values depend on the room and the people and are found by
watching. exit is kept at or below enter here, since the detector refuses anything else. Until the user changes
one, they show the loaded model's own settings (chosen for it on a validation stream); "model's" goes back to
those.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

_NO_FOCUS = QtCore.Qt.FocusPolicy.NoFocus


def _spin(value: float, lo: float, hi: float, tip: str) -> QtWidgets.QDoubleSpinBox:
    s = QtWidgets.QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(0.05)
    s.setDecimals(2)
    s.setValue(value)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    return s


class ModelBox(QtWidgets.QWidget):
    load_clicked = QtCore.Signal()
    thresholds_changed = QtCore.Signal(float, float, float)  # enter, exit, alpha
    thresholds_reset = QtCore.Signal()  # back to the model's own
    primary_toggled = QtCore.Signal(bool)

    def __init__(self, thresholds: dict[str, float], primary: bool = False, parent=None):
        super().__init__(parent)
        self.load = QtWidgets.QPushButton("Load model…")
        self.load.setFocusPolicy(_NO_FOCUS)
        self.load.setToolTip("load a .safetensors checkpoint (or drop one on the window)")
        self.info = QtWidgets.QLabel("no model loaded")
        self.info.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.enter = _spin(thresholds["enter"], 0.0, 1.0, "smoothed score an action needs to start")
        self.exit = _spin(thresholds["exit"], 0.0, 1.0, "smoothed score below which a running action ends")
        self.alpha = _spin(thresholds["alpha"], 0.05, 1.0, "weight of the newest window in the smoothing")
        self.reset = QtWidgets.QPushButton("model's")
        self.reset.setFocusPolicy(_NO_FOCUS)
        self.reset.setToolTip("use the thresholds chosen for the loaded model instead of your own")
        self.primary = QtWidgets.QCheckBox("primary user only")
        self.primary.setFocusPolicy(_NO_FOCUS)
        self.primary.setToolTip("classify only the person closest to the sensor (everyone is still tracked)")
        self.primary.setChecked(primary)
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 2)
        box.addWidget(self.load)
        box.addWidget(self.info, 1)
        for name, spin in (("enter", self.enter), ("exit", self.exit), ("smoothing α", self.alpha)):
            box.addWidget(QtWidgets.QLabel(name))
            box.addWidget(spin)
        box.addWidget(self.reset)
        box.addWidget(self.primary)
        self.load.clicked.connect(self.load_clicked)
        self.reset.clicked.connect(self.thresholds_reset)
        for spin in (self.enter, self.exit, self.alpha):
            spin.valueChanged.connect(self._changed)
        self.primary.toggled.connect(self.primary_toggled)

    def _changed(self) -> None:
        if self.exit.value() > self.enter.value():
            blocker = self.exit if self.sender() is self.enter else self.enter
            blocker.blockSignals(True)
            blocker.setValue(self.exit.value() if blocker is self.enter else self.enter.value())
            blocker.blockSignals(False)
        self.thresholds_changed.emit(self.enter.value(), self.exit.value(), self.alpha.value())

    def thresholds(self) -> dict[str, float]:
        return {"enter": self.enter.value(), "exit": self.exit.value(), "alpha": self.alpha.value()}

    def set_thresholds(self, t: dict[str, float]) -> None:
        for spin, key in ((self.enter, "enter"), (self.exit, "exit"), (self.alpha, "alpha")):
            spin.blockSignals(True)
            spin.setValue(float(t[key]))
            spin.blockSignals(False)

    def set_model(self, meta, path: str = "", loading: bool = False) -> None:
        """Show a checkpoint's card: its name, layout and classes (all of them in the tooltip)."""
        if loading:
            self.info.setText("loading model…")
            return
        if meta is None:
            self.info.setText("no model loaded")
            self.info.setToolTip("")
            return
        name = meta.model.get("name", "?")
        classes = list(meta.classes)
        shown = ", ".join(classes[:4]) + (" …" if len(classes) > 4 else "")
        self.info.setText(f"{name} · layout {meta.layout} · {len(classes)} classes: {shown}")
        self.info.setToolTip(f"{path}\n" + "\n".join(f"{i + 1}. {c}" for i, c in enumerate(classes)))
