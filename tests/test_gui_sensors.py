"""The Sensors dialog, offscreen: it shows `kinact doctor`'s report (the core's, stubbed here with a known one so a
test takes milliseconds), keeps the GUI thread free while the checks run, copies the CLI's table, re-runs, and
opens from the main window and from the source picker.
"""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from kinact.app.gui import sensors_dialog  # noqa: E402
from kinact.app.gui.sensors_dialog import SensorsDialog  # noqa: E402
from kinact.core import doctor  # noqa: E402
from kinact.core.doctor import Check  # noqa: E402

K4A_FIX = 'pip install "kinact[k4a]"; install the Azure Kinect Sensor SDK 1.4.x (Ubuntu: libk4a1.4)'
REPORT = [Check("python", "ok", "3.11.7 (CPython, 64-bit)"),
          Check("display", "warn", "no DISPLAY", "run with QT_QPA_PLATFORM=offscreen, or apt-get install xvfb"),
          Check("k4a: Sensor SDK", "fail", "libk4a.so.1.4: cannot open shared object file", K4A_FIX),
          Check("kinect2", "skip", "Windows only", "use a Windows 10/11 PC")]


class FakeDoctor:
    """Stands in for `kinact.core.doctor.run_checks`: counts calls, remembers the thread, can be held open."""

    def __init__(self, reports):
        self.reports, self.calls, self.threads, self.args = list(reports), 0, [], []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, capture_seconds=2.0, *, require=()):
        self.threads.append(threading.get_ident())
        self.args.append((capture_seconds, tuple(require)))
        assert self.gate.wait(10)
        report = self.reports[min(self.calls, len(self.reports) - 1)]
        self.calls += 1
        if isinstance(report, Exception):
            raise report
        return list(report)


@pytest.fixture
def fake(monkeypatch):
    f = FakeDoctor([REPORT])
    monkeypatch.setattr(doctor, "run_checks", f)
    return f


def _open(qtbot, **kw) -> SensorsDialog:
    dlg = SensorsDialog(**kw)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _done(qtbot, dlg):
    qtbot.waitUntil(lambda: not dlg.running and dlg.checks is not None, timeout=10000)


def _row(dlg, name) -> int:
    rows = [r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text() == name]
    assert len(rows) == 1, f"{name!r} is in {len(rows)} rows"
    return rows[0]


def test_dialog_shows_every_check_with_status_detail_and_fix(qtbot, fake):
    dlg = _open(qtbot, capture_seconds=0.5, require=("k4a",))
    _done(qtbot, dlg)
    assert fake.args == [(0.5, ("k4a",))]  # what the CLI's --capture-seconds / --backend would pass
    t = dlg.table
    assert t.rowCount() == len(REPORT)
    assert [t.horizontalHeaderItem(i).text() for i in range(4)] == ["Check", "Status", "Detail", "Fix"]
    r = _row(dlg, "k4a: Sensor SDK")
    assert t.item(r, 1).text() == "FAIL"
    assert t.cellWidget(r, 2).text() == REPORT[2].detail
    fix = t.cellWidget(r, 3)
    assert fix.text() == K4A_FIX
    assert fix.textInteractionFlags() & QtCore.Qt.TextInteractionFlag.TextSelectableByMouse  # copyable
    assert fix.textFormat() == QtCore.Qt.TextFormat.PlainText  # quotes and <, > stay as typed
    assert t.cellWidget(_row(dlg, "python"), 3).text() == ""
    # each status has its own colour, and text and background differ enough to read
    backgrounds = {t.item(i, 1).text(): t.item(i, 1).background().color().name() for i in range(t.rowCount())}
    assert len(set(backgrounds.values())) == 4
    for i in range(t.rowCount()):
        fg, bg = t.item(i, 1).foreground().color(), t.item(i, 1).background().color()
        assert abs(fg.lightness() - bg.lightness()) > 90, t.item(i, 1).text()
    assert "1 fail" in dlg.summary.text() and "1 warn" in dlg.summary.text() and "exit code 1" in dlg.summary.text()
    assert dlg.copy_button.isEnabled() and dlg.rerun_button.isEnabled()


def test_rows_are_tall_enough_for_their_wrapped_fix(qtbot, monkeypatch):
    long_fix = " ".join(["pip install --index-url https://download.pytorch.org/whl/cu128 torch==2.13.0"] * 6)
    monkeypatch.setattr(doctor, "run_checks", FakeDoctor([[Check("gpu", "warn", "CPU-only torch", long_fix)]]))
    dlg = _open(qtbot)
    dlg.resize(700, 400)
    _done(qtbot, dlg)
    qtbot.waitUntil(lambda: dlg.table.columnWidth(3) > 50)
    label, width = dlg.table.cellWidget(0, 3), dlg.table.columnWidth(3)
    assert label.heightForWidth(width) > 2 * label.fontMetrics().height()  # it does wrap at this width
    assert dlg.table.rowHeight(0) >= label.heightForWidth(width)
    dlg.resize(1400, 400)  # wider: the row shrinks with its text
    qtbot.waitUntil(lambda: dlg.table.rowHeight(0) < label.heightForWidth(width))


def test_checks_run_off_the_gui_thread_and_the_dialog_says_checking(qtbot, fake):
    fake.gate.clear()  # the "checks" hang until released
    dlg = _open(qtbot)
    qtbot.waitUntil(lambda: bool(fake.threads))
    assert fake.threads[0] != threading.get_ident()
    assert dlg.running and "checking" in dlg.summary.text()
    assert not dlg.rerun_button.isEnabled() and not dlg.copy_button.isEnabled()
    ticks = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.wait(200)  # the GUI thread keeps running its event loop meanwhile
    timer.stop()
    assert len(ticks) >= 5 and dlg.running and dlg.table.rowCount() == 0
    fake.gate.set()
    _done(qtbot, dlg)
    assert dlg.table.rowCount() == len(REPORT) and "checking" not in dlg.summary.text()


def test_copy_report_puts_the_cli_table_on_the_clipboard(qtbot, fake):
    dlg = _open(qtbot)
    _done(qtbot, dlg)
    QtGui.QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(dlg.copy_button, QtCore.Qt.MouseButton.LeftButton)
    text = QtGui.QGuiApplication.clipboard().text()
    assert text == doctor.format_table(REPORT) + "\n" + doctor.summary_line(REPORT) + "\n"
    assert "FAIL" in text and "libk4a1.4" in " ".join(text.split())


def test_rerun_shows_the_new_report(qtbot, monkeypatch):
    fixed = [Check(c.name, "ok", c.detail) if c.status == "fail" else c for c in REPORT]
    fake = FakeDoctor([REPORT, fixed])
    monkeypatch.setattr(doctor, "run_checks", fake)
    dlg = _open(qtbot)
    _done(qtbot, dlg)
    r = _row(dlg, "k4a: Sensor SDK")
    assert dlg.table.item(r, 1).text() == "FAIL"
    fake.gate.clear()
    qtbot.mouseClick(dlg.rerun_button, QtCore.Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.rerun_button.isEnabled()
    dlg.run()  # a second start while one runs is ignored
    fake.gate.set()
    _done(qtbot, dlg)
    assert fake.calls == 2
    assert dlg.table.item(_row(dlg, "k4a: Sensor SDK"), 1).text() == "ok"
    assert "0 fail" in dlg.summary.text() and "exit code 0" in dlg.summary.text()


def test_a_crash_of_the_doctor_itself_is_shown(qtbot, monkeypatch):
    monkeypatch.setattr(doctor, "run_checks", FakeDoctor([RuntimeError("kaputt")]))
    dlg = _open(qtbot)
    qtbot.waitUntil(lambda: not dlg.running, timeout=10000)
    assert "RuntimeError: kaputt" in dlg.summary.text()
    assert dlg.table.rowCount() == 0 and not dlg.copy_button.isEnabled() and dlg.rerun_button.isEnabled()


def test_the_dialog_calls_the_core_doctor(monkeypatch):
    """No check logic of its own: what it shows is what `kinact.core.doctor.run_checks` returns."""
    seen = []
    monkeypatch.setattr(doctor, "run_checks", lambda s, require=(): seen.append((s, require)) or REPORT)
    assert sensors_dialog.collect(1.5, ("kinect2",)) == REPORT and seen == [(1.5, ("kinect2",))]


def test_main_window_action_opens_the_dialog(qtbot, fake, tmp_path):
    pytest.importorskip("pyqtgraph")
    from kinact.app.gui.main_window import MainWindow
    from kinact.app.gui.settings import Settings

    win = MainWindow(settings=Settings.at(tmp_path / "settings.ini"), backend="torch")
    qtbot.addWidget(win)
    win.show()
    try:
        file_menu = win.menuBar().actions()[0].menu()
        assert win.sensors_action in file_menu.actions() and win.sensors_action.text().replace("&", "") == "Sensors…"
        win.sensors_action.trigger()
        dlg = win.sensors_dialog
        assert isinstance(dlg, SensorsDialog) and dlg.isVisible() and dlg.parent() is win
        _done(qtbot, dlg)
        assert dlg.table.cellWidget(_row(dlg, "k4a: Sensor SDK"), 3).text() == K4A_FIX
        dlg.close()
        win.sensors_action.trigger()  # reopening shows the same dialog and report, no new run
        assert win.sensors_dialog is dlg and dlg.isVisible() and fake.calls == 1
    finally:
        win.close()


def test_source_picker_opens_the_dialog(qtbot, fake):
    from kinact.app.gui.source_picker import SourcePicker
    from kinact.core.sources.base import Availability

    av = {"kinect2": Availability(False, "Kinect v2 needs Windows with the Kinect for Windows SDK 2.0 "
                                         "(KinectSDK-v2.0_1409-Setup.exe)"), "synthetic": Availability(True)}
    picker = SourcePicker(av)
    qtbot.addWidget(picker)
    picker.show()
    assert "Kinect v2 needs Windows" in picker.list.item(0).text()
    assert picker.list.viewport().width() >= picker.list.sizeHintForColumn(0)  # the reason is not cut off
    qtbot.mouseClick(picker.sensors_button, QtCore.Qt.MouseButton.LeftButton)
    dlg = picker.sensors_dialog
    assert isinstance(dlg, SensorsDialog) and dlg.isVisible() and dlg.parent() is picker
    _done(qtbot, dlg)
    assert dlg.table.rowCount() == len(REPORT)
    assert isinstance(picker.sensors_button, QtWidgets.QPushButton) and picker.sensors_button.isEnabled()
