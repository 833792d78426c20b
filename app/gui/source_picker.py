"""Choosing where frames come from: every backend, usable or not, with the reason when not.

Unavailable backends are listed (greyed out, with their reason) rather than hidden: "why is my Kinect not
in the list?" is answered on the spot ("pykinect2 is not installed", "Windows only"), which is the
question a hidden entry would leave. The availability checks import SDKs, so the window runs them once on a
worker thread and hands the result in here. The one-line reason says what is missing; "Sensors…" opens the
doctor's full report (every piece of the SDK chain, the devices, a fix for each) without leaving the picker.
"""
from __future__ import annotations

import os

from PySide6 import QtCore, QtWidgets

FILE_FILTER = ("Recordings and dataset files (*.kinrec *.mcap *.mat *.txt *.skeleton *.json *.mkv);;"
               "Recordings (*.kinrec *.mcap);;All files (*)")
MODEL_FILTER = "kinact checkpoints (*.safetensors);;All files (*)"
FILE_BACKENDS = ("replay", "dataset")
HINTS = {"replay": "a .kinrec / .mcap recording", "dataset": "a UTD-MHAD, MSR, NTU or Azure Kinect file",
         "synthetic": "options, e.g. people=2,loop=true", "kinect2": "", "k4a": ""}


def ask_file(parent, title: str, start: str = "", filter: str = FILE_FILTER) -> str | None:
    path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, title, start, filter)
    return path or None


def check_availability() -> dict:
    """Every backend's availability; imports SDKs, so the window calls it on a worker thread."""
    from kinact.core.sources.registry import availability

    return availability()


def ask_source(parent, availability: dict | None, last: str = "") -> str | None:
    """The picker as a modal dialog; before the check has finished every backend is offered."""
    from kinact.core.sources.base import Availability
    from kinact.core.sources.registry import BACKENDS

    av = availability or {n: Availability(True, "availability not checked yet") for n in BACKENDS}
    picker = SourcePicker(av, last, parent)
    return picker.spec() if picker.exec() else None


class SourcePicker(QtWidgets.QDialog):
    """`availability`: {backend: Availability}; `last`: the spec to preselect. `spec()` after exec()."""

    def __init__(self, availability: dict, last: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Open source")
        self.list = QtWidgets.QListWidget()
        for name, av in availability.items():
            ok = bool(av)
            text = f"{name}    {HINTS.get(name, '')}" if ok else f"{name}    unavailable: {av.reason}"
            item = QtWidgets.QListWidgetItem(text)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            item.setToolTip(av.reason or "available")
            if not ok:
                item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEnabled & ~QtCore.Qt.ItemFlag.ItemIsSelectable)
            self.list.addItem(item)
        self.arg = QtWidgets.QLineEdit()
        self.browse = QtWidgets.QPushButton("Browse…")
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok |
                                                  QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.sensors_button = self.buttons.addButton("Sensors…", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        self.sensors_button.setToolTip("check every sensor SDK and device, with a fix for each problem "
                                       "(kinact doctor)")
        self.sensors_dialog = None
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.arg, 1)
        row.addWidget(self.browse)
        box = QtWidgets.QVBoxLayout(self)
        box.addWidget(self.list)
        box.addLayout(row)
        box.addWidget(self.buttons)
        self.list.currentItemChanged.connect(self._chosen)
        self.browse.clicked.connect(self._browse)
        self.sensors_button.clicked.connect(self.show_sensors)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _: self.accept())
        self._preselect(last)
        # wide enough for the longest reason: a cut-off "unavailable: ..." is the one line that must be read
        self.resize(min(max(480, self.list.sizeHintForColumn(0) + 40), 1000), 300)

    def _preselect(self, last: str) -> None:
        from kinact.core.sources.registry import parse_spec

        try:
            name, arg = parse_spec(last) if last else ("synthetic", None)
        except Exception:
            name, arg = "synthetic", None
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == name and item.flags() & QtCore.Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentItem(item)
                self.arg.setText(arg or "")
                return

    def backend(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(QtCore.Qt.ItemDataRole.UserRole)

    def _chosen(self, item, _previous=None) -> None:
        name = self.backend()
        self.browse.setEnabled(name in FILE_BACKENDS)
        self.arg.setEnabled(name in FILE_BACKENDS or name == "synthetic")
        self.arg.setPlaceholderText(HINTS.get(name or "", ""))
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(name is not None)

    def _browse(self) -> None:
        start = os.path.dirname(self.arg.text()) if self.arg.text() else ""
        path = ask_file(self, "Open recording or dataset file", start)
        if path:
            self.arg.setText(path)

    def show_sensors(self) -> None:
        """The doctor's report as a child of this (modal) picker, so it takes input while the picker is open."""
        from kinact.app.gui.sensors_dialog import SensorsDialog

        if self.sensors_dialog is None:
            self.sensors_dialog = SensorsDialog(self)
        self.sensors_dialog.show()
        self.sensors_dialog.raise_()

    def spec(self) -> str | None:
        """The chosen source as a registry spec (`replay:FILE`, `synthetic:people=2`, `k4a`)."""
        name, arg = self.backend(), self.arg.text().strip()
        if name is None or (name in FILE_BACKENDS and not arg):
            return None
        return f"{name}:{arg}" if arg else name
