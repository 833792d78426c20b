"""The Sensors dialog: `kinact doctor`'s report inside the app, with every fix as text the user can select.

"Why does my Kinect not show up?" is asked from the window, not from a terminal, so the window shows the same
rows the CLI prints: the checks are `kinact.core.doctor.run_checks`, called as is, and "Copy report" puts the
CLI's own table on the clipboard (what a bug report or a forum post wants). Nothing is checked here.

The checks import torch and the sensor SDKs, start a Qt probe process and may run a 2 s test capture, so they
run on a plain Python thread and the dialog polls it with a QTimer, like the main window polls its workers:
worker threads emit no Qt signals in this app, and the GUI thread never waits. A re-run while one is still
going is refused (the button is off), so two runs never race for the table; a run still going when the dialog
closes finishes on its daemon thread and is shown when the dialog is opened again.

Detail and fix are QLabels with selectable text, because a table cell's text cannot be selected with the mouse
and the point of a fix is to be pasted into a terminal. Their rows are sized from the labels' height for the
column width, again on every resize, so no fix is ever cut off.
"""
from __future__ import annotations

import threading
import time

from PySide6 import QtCore, QtGui, QtWidgets

POLL_MS = 100
COLUMNS = ("Check", "Status", "Detail", "Fix")
#: status → (text colour, background): explicit pairs, so they read the same on a light or a dark palette
STATUS_COLORS = {"ok": ((255, 255, 255), (46, 125, 50)), "warn": ((40, 30, 0), (255, 193, 7)),
                 "fail": ((255, 255, 255), (198, 40, 40)), "skip": ((60, 60, 60), (210, 210, 210))}
SHOWN = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def collect(capture_seconds: float, require: tuple = ()) -> list:
    """The doctor's checks, looked up when called (so a test can stand in a fast report for the real one)."""
    from kinact.core import doctor

    return doctor.run_checks(capture_seconds, require=require)


class _Run:
    """One background run of the checks: the thread writes `checks` or `error`, then sets `done`."""

    def __init__(self, capture_seconds: float, require: tuple):
        self.checks, self.error, self.started = None, None, time.monotonic()
        self.took = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._work, args=(capture_seconds, require), name="kinact-doctor",
                                       daemon=True)  # a hung SDK call must not keep the app from quitting
        self.thread.start()

    def _work(self, capture_seconds: float, require: tuple) -> None:
        try:
            self.checks = collect(capture_seconds, require)
        except BaseException as exc:  # noqa: BLE001 - run_checks guards each check; this is a bug in it
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.took = time.monotonic() - self.started
            self.done.set()


class SensorsDialog(QtWidgets.QDialog):
    """Non-modal; `run()` starts the checks (the constructor does unless `run_now=False`).

    `capture_seconds` and `require` mean what `kinact doctor --capture-seconds/--backend` mean."""

    def __init__(self, parent=None, capture_seconds: float = 2.0, require: tuple = (), run_now: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Sensors and set-up")
        self.capture_seconds, self.require = capture_seconds, tuple(require)
        self.checks: list | None = None
        self.error: str | None = None  # run_checks itself raised (each check is guarded, so: a bug)
        self._run: _Run | None = None
        self.summary = QtWidgets.QLabel()
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(True)
        self.table.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        head = self.table.horizontalHeader()
        Mode = QtWidgets.QHeaderView.ResizeMode
        for col, mode in enumerate((Mode.ResizeToContents, Mode.ResizeToContents, Mode.Stretch, Mode.Stretch)):
            head.setSectionResizeMode(col, mode)
        head.sectionResized.connect(lambda *_: self._fit_rows())
        self.copy_button = QtWidgets.QPushButton("Copy report")
        self.copy_button.setToolTip("the report as `kinact doctor` prints it, for a terminal, an issue or a post")
        self.rerun_button = QtWidgets.QPushButton("Re-run")
        self.close_button = QtWidgets.QPushButton("Close")
        self.copy_button.clicked.connect(self.copy_report)
        self.rerun_button.clicked.connect(self.run)
        self.close_button.clicked.connect(self.close)
        hint = QtWidgets.QLabel("The same checks as <tt>kinact doctor</tt>. Select a fix to copy it.")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(hint, 1)
        for b in (self.copy_button, self.rerun_button, self.close_button):
            buttons.addWidget(b)
        box = QtWidgets.QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.resize(1100, 640)
        self._show_state()
        if run_now:
            self.run()

    # ------------------------------------------------------------------------------------------- running
    @property
    def running(self) -> bool:
        return self._run is not None

    def run(self) -> None:
        """Start the checks in the background; the rows of the last run stay (greyed) until the new ones come."""
        if self.running:
            return
        self._run = _Run(self.capture_seconds, self.require)
        self.timer.start()
        self._show_state()

    def poll(self) -> None:
        """On the GUI thread: take a finished run's report, or tick the "checking…" counter."""
        run = self._run
        if run is None:
            self.timer.stop()
            return
        if not run.done.is_set():
            self._show_state()
            return
        self._run = None
        self.timer.stop()
        self.error = run.error
        self.checks = None if run.error is not None else list(run.checks)
        self._fill(self.checks or [])
        self._show_state(run.took)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the running check is done and shown (for tests and `kinact screenshot`-like scripts)."""
        run = self._run
        if run is not None and not run.done.wait(timeout):
            return False
        self.poll()
        return not self.running

    # --------------------------------------------------------------------------------------------- showing
    def _show_state(self, took: float | None = None) -> None:
        from kinact.core.doctor import counts, summary_line

        self.rerun_button.setEnabled(not self.running)
        self.copy_button.setEnabled(bool(self.checks) and not self.running)
        self.table.setEnabled(not self.running)
        if self.running:
            secs = time.monotonic() - self._run.started
            what = "packages, GPU, Qt, sensor SDKs and devices"
            capture = f"; an attached sensor gets a {self.capture_seconds:g} s test capture" \
                if self.capture_seconds > 0 else ""
            self._set_summary(f"checking… {secs:.0f} s ({what}{capture})", None)
        elif self.error is not None:
            self._set_summary(f"the doctor itself failed: {self.error}", "fail")
        elif self.checks is not None:
            n = counts(self.checks)
            worst = "fail" if n["fail"] else "warn" if n["warn"] else "ok"
            self._set_summary(summary_line(self.checks) + (f", checked in {took:.1f} s" if took else ""), worst)
        else:
            self._set_summary("not checked yet", None)

    def _set_summary(self, text: str, status: str | None) -> None:
        self.summary.setText(text)
        if status is None:
            self.summary.setStyleSheet("font-weight: bold; padding: 4px;")
        else:
            fg, bg = STATUS_COLORS[status]
            self.summary.setStyleSheet(f"font-weight: bold; padding: 4px; color: rgb{fg}; background: rgb{bg};")

    def _fill(self, checks: list) -> None:
        t = self.table
        t.setRowCount(0)
        t.setRowCount(len(checks))
        for row, c in enumerate(checks):
            name = QtWidgets.QTableWidgetItem(c.name)
            name.setToolTip(c.name)
            status = QtWidgets.QTableWidgetItem(SHOWN[c.status])
            fg, bg = STATUS_COLORS[c.status]
            status.setForeground(QtGui.QBrush(QtGui.QColor(*fg)))
            status.setBackground(QtGui.QBrush(QtGui.QColor(*bg)))
            status.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            font = status.font()
            font.setBold(True)
            status.setFont(font)
            t.setItem(row, 0, name)
            t.setItem(row, 1, status)
            t.setCellWidget(row, 2, self._text(c.detail or "-"))
            t.setCellWidget(row, 3, self._text(c.fix))
        self._fit_rows()

    @staticmethod
    def _text(text: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text)
        label.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # a fix with <, > or & must read as typed
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse |
                                      QtCore.Qt.TextInteractionFlag.TextSelectableByKeyboard)
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        label.setContentsMargins(4, 3, 4, 3)
        return label

    def _fit_rows(self) -> None:
        """Each row as tall as its longest wrapped label at the columns' current widths."""
        t = self.table
        for row in range(t.rowCount()):
            h = t.verticalHeader().defaultSectionSize()
            for col in (2, 3):
                label = t.cellWidget(row, col)
                if label is not None:
                    h = max(h, label.heightForWidth(t.columnWidth(col)) + 2)
            t.setRowHeight(row, h)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_rows()  # column widths are only final once the table is laid out

    # ------------------------------------------------------------------------------------------ reporting
    def report_text(self) -> str:
        """The plain-text report, exactly the table and summary line `kinact doctor` prints."""
        from kinact.core.doctor import format_table, summary_line

        if not self.checks:
            return ""
        return f"{format_table(self.checks)}\n{summary_line(self.checks)}\n"

    def copy_report(self) -> None:
        text = self.report_text()
        if text:
            QtGui.QGuiApplication.clipboard().setText(text)
