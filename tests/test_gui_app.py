"""The main window end to end, offscreen: replay with a model, transport, recording, labels, errors, settings."""
from __future__ import annotations

import argparse
import math
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")
pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui  # noqa: E402

from kinact.app.gui.main_window import MainWindow  # noqa: E402
from kinact.app.gui.settings import Settings  # noqa: E402
from kinact.core.frames import Frame  # noqa: E402
from kinact.core.pipeline.fakes import body, pose  # noqa: E402
from kinact.core.recording.intrinsics import KINECT_V1_DEPTH  # noqa: E402
from kinact.core.recording.kinrec import KinrecReader, KinrecWriter  # noqa: E402

from tiny_models import tiny_checkpoint  # noqa: E402

CLASSES = ["wave", "clap", "boxing"]
SPEC = {"name": "skeleton", "num_joints": 20, "num_classes": 3, "in_channels": 3, "tarm": "none", "num_frames": 16,
        "stcm": "temporal", "channels": [8, 8, 8], "blocks": [1, 1, 1]}
HAND = 11  # canonical hand_right
INTR = KINECT_V1_DEPTH.scaled(80, 60)


def _checkpoint(path, layout="kinect_v1"):
    return tiny_checkpoint(path, CLASSES, spec=SPEC, layout=layout, features=["joint"])


def _recording(path, seconds=3.0, fps=30.0):
    """A person waving the right hand in front of a wall, with a depth blob where the body is."""
    with KinrecWriter(path, "kinect_v1", fps, INTR, "test") as w:
        for i in range(int(seconds * fps)):
            t = i / fps
            j = pose(0.0, 2.5, hand_up=True)
            j[HAND, 0] += 0.15 * math.sin(2 * math.pi * 2 * t)
            depth = np.full(INTR.shape, 3500, np.uint16)
            uv = INTR.project(j)
            (u0, v0), (u1, v1) = np.floor(uv.min(0)).astype(int), np.ceil(uv.max(0)).astype(int)
            depth[max(v0, 0):v1, max(u0, 0):u1] = 2500
            w.write_frame(Frame(t, [body(1, j)], depth, i))
        w.add_segment(0.2, 1.0, "wave", 1, 0)
    return str(path)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp("gui_assets")
    return {"ckpt": _checkpoint(d / "tiny.safetensors"), "rec": _recording(d / "wave.kinrec"), "dir": d}


@pytest.fixture
def window(qtbot, tmp_path):
    settings = Settings.at(tmp_path / "settings.ini")
    settings.record_dir = tmp_path / "recordings"
    win = MainWindow(settings=settings, backend="torch")
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def _open(qtbot, win, spec, model=None, speed=None):
    if speed is not None:
        win.set_speed(speed)
    if model:
        win.load_model(model, then=lambda: win.open_source(spec))
        qtbot.waitUntil(lambda: win.controller.model is not None, timeout=15000)
    else:
        win.open_source(spec)
    qtbot.waitUntil(lambda: win._drawn is not None, timeout=10000)


def test_replay_with_model_updates_predictions_timeline_and_stats(qtbot, window, assets):
    window.controller.loop = True
    _open(qtbot, window, f"replay:{assets['rec']}", assets["ckpt"], speed=2.0)
    qtbot.waitUntil(lambda: any(r.timeline.segments for r in window.panel.rows.values()), timeout=10000)
    row = next(iter(window.panel.rows.values()))
    assert row.bars.items and row.bars.items[0][0] in CLASSES  # top-k from the model's classes
    assert row.action.text()
    assert window.modelbox.info.text().startswith("skeleton · layout kinect_v1 · 3 classes")
    assert window.labelbox.action.itemText(0) == "wave"
    assert window.depth.projected  # the skeleton was drawn over the depth image
    model_t = {"enter": 0.4, "exit": 0.3, "alpha": 0.4}  # the tiny checkpoint has no live settings: the defaults
    assert window.modelbox.thresholds() == pytest.approx(model_t) and window.controller.thresholds == {}
    window.modelbox.enter.setValue(0.8)  # thresholds reach the running engine's event detector
    window.modelbox.alpha.setValue(0.3)
    cfg = window.controller.proxy.engine.events.config
    assert (cfg.enter, cfg.alpha) == (pytest.approx(0.8), pytest.approx(0.3))
    window.modelbox.reset.click()  # back to the model's own
    cfg = window.controller.proxy.engine.events.config
    assert (cfg.enter, cfg.alpha) == (pytest.approx(0.4), pytest.approx(0.4)) and window.controller.thresholds == {}
    assert window.modelbox.thresholds() == pytest.approx(model_t)
    window.modelbox.primary.setChecked(True)
    assert window.controller.proxy.engine.mode == "primary"
    window.controller.seek(0.1)  # a seek clears the rows, then predictions come back for the new moment
    qtbot.waitUntil(lambda: not window.panel.rows, timeout=5000)
    qtbot.waitUntil(lambda: bool(window.panel.rows), timeout=5000)
    stats = window.render_stats()
    assert stats["fps"] > 0 and stats["frames"] > 5 and 0 < stats["median_ms"] <= stats["p95_ms"]
    assert window.status.render.text().startswith("render ")


def test_transport_pause_seek_step_speed_and_replay_after_end(qtbot, window, assets):
    _open(qtbot, window, f"replay:{assets['rec']}")
    c = window.controller
    qtbot.waitUntil(lambda: c.transport() is not None and c.transport()["position"] > 0.1)
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Space)  # pause
    qtbot.waitUntil(lambda: c.transport()["paused"])
    c.seek(1.5)
    qtbot.waitUntil(lambda: abs(c.transport()["position"] - 1.5) < 0.02)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: abs(c.transport()["position"] - (1.5 + 1 / 30)) < 0.005)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: abs(c.transport()["position"] - 1.5) < 0.005)
    assert c.transport()["paused"]
    qtbot.waitUntil(lambda: window.transport.time.text().startswith("00:01.5"))
    window.transport.speed.setCurrentIndex(window.transport.speed.findData(8.0))
    assert c.transport()["speed"] == 8.0 and window.settings.speed == 8.0
    window.transport.play.click()
    qtbot.waitUntil(lambda: c.transport()["ended"], timeout=5000)
    window.set_speed(1.0)
    window.transport.play.click()  # at the end, play starts over
    qtbot.waitUntil(lambda: c.transport() is not None and not c.transport()["ended"]
                    and c.transport()["position"] < 2.5, timeout=5000)


def test_record_label_and_reopen(qtbot, window, assets):
    _open(qtbot, window, "replay:" + assets["rec"], speed=2.0)
    c = window.controller
    qtbot.waitUntil(lambda: c.proxy is not None and c.proxy.is_open)
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_R)
    qtbot.waitUntil(lambda: c.tap.active and c.tap.frames > 5, timeout=5000)
    qtbot.waitUntil(lambda: window.recorder.button.isChecked())  # the controls follow at ~10 Hz
    assert window.recorder.elapsed.text().startswith("REC 00:0")
    assert window.labels.start("clap")
    t0 = window.labels.open[1]  # the label spans time the GUI has seen pass, not only frames captured meanwhile
    qtbot.waitUntil(lambda: c.tap.frames > 15 and (c.current_time() or 0) > t0, timeout=5000)
    assert window.labels.end()
    window.toggle_record()
    qtbot.waitUntil(lambda: not c.tap.active, timeout=5000)
    files = list((window.settings.record_dir).glob("*.kinrec"))
    assert len(files) == 1
    with KinrecReader(files[0]) as r:
        assert r.num_frames > 15 and r.header.intrinsics == INTR
        assert [s.action for s in r.segments] == ["clap"] and r.segments[0].end > r.segments[0].start >= 0
        assert np.all(np.diff(r.frame_times) > 0)
    window.open_file(str(files[0]))
    qtbot.waitUntil(lambda: c.proxy is not None and c.proxy.is_open and c.spec.startswith("replay:"), timeout=5000)
    qtbot.waitUntil(lambda: bool(window.labels.segments) and window.labels.segments[0].action == "clap")


def test_labels_while_replaying_are_saved_into_the_file(qtbot, window, assets, tmp_path):
    rec = shutil.copy(assets["rec"], tmp_path / "copy.kinrec")
    _open(qtbot, window, f"replay:{rec}")
    c = window.controller
    qtbot.waitUntil(lambda: window.labels.mode() == "replay" and len(window.labels.segments) == 1)
    assert window.labels.start("boxing")
    qtbot.waitUntil(lambda: c.transport()["position"] > window.labels.open[1] + 0.3, timeout=5000)
    assert window.labels.end() and window.labels.dirty
    window.labels.save()
    qtbot.waitUntil(lambda: not window.labels.saving and not window.labels.dirty, timeout=10000)
    with KinrecReader(rec) as r:
        segs = {s.action: s for s in r.segments}
        assert sorted(segs) == ["boxing", "wave"] and r.num_frames == 90
        assert segs["boxing"].end - segs["boxing"].start > 0.3 and segs["boxing"].label is None  # no model loaded


def test_corrupt_recording_shows_the_banner_and_the_window_lives_on(qtbot, window, assets, tmp_path):
    bad = tmp_path / "broken.kinrec"
    bad.write_bytes(b"\x89MCAP0\r\n" + os.urandom(2000))
    window.open_source(f"replay:{bad}")
    qtbot.waitUntil(lambda: window.status.banner_visible, timeout=5000)
    assert str(bad) in window.status.banner_text.text() or "broken.kinrec" in window.status.banner_text.text()
    window.status.dismiss_error()
    window.open_file(str(tmp_path / "notes.docx"))  # nobody reads that
    assert window.status.banner_visible and "not understood" in window.status.banner_text.text()
    window.open_source("kinect9")  # no such backend: the open fails before any runner exists
    qtbot.waitUntil(lambda: window.status.state.text() == "error", timeout=5000)
    _open(qtbot, window, "replay:" + assets["rec"])  # and it still works afterwards
    assert window.isVisible()


@pytest.mark.parametrize("kind", ["garbage", "layout"])
def test_bad_checkpoint_is_refused_with_a_banner(qtbot, window, assets, tmp_path, kind):
    if kind == "garbage":
        path = tmp_path / "bad.safetensors"
        path.write_bytes(b"not a checkpoint at all")
    else:
        path = _checkpoint(tmp_path / "utd.safetensors", layout="utd_mhad")
    window.load_model(str(path))
    qtbot.waitUntil(lambda: window.status.banner_visible, timeout=10000)
    assert "model refused" in window.status.banner_text.text()
    assert ("layout" in window.status.banner_text.text()) == (kind == "layout")
    assert window.controller.model is None and window.modelbox.info.text() == "no model loaded"


def test_dropping_a_checkpoint_loads_it(qtbot, window, assets):
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(assets["ckpt"])])
    args = (QtCore.Qt.DropAction.CopyAction, mime, QtCore.Qt.MouseButton.NoButton,
            QtCore.Qt.KeyboardModifier.NoModifier)
    enter = QtGui.QDragEnterEvent(QtCore.QPoint(10, 10), *args)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QtGui.QDropEvent(QtCore.QPointF(10, 10), *args))
    qtbot.waitUntil(lambda: window.controller.model is not None, timeout=15000)
    assert window.settings.last_model == assets["ckpt"]


def test_synthetic_source_without_a_model(qtbot, window):
    _open(qtbot, window, "synthetic:duration=5,loop=true")
    assert window.panel.empty.text() == "no model loaded" and not window.panel.rows
    qtbot.waitUntil(lambda: window.transport.speed.isEnabled())  # paced by the runner: speed, no seeking
    assert not window.transport.play.isEnabled()


def test_settings_round_trip_in_a_temporary_location(qtbot, tmp_path):
    path = tmp_path / "s.ini"
    s = Settings.at(path)
    s.last_source, s.last_model, s.speed, s.mode = "synthetic:people=2", "/m.safetensors", 4.0, "primary"
    s.thresholds = {"enter": 0.7, "exit": 0.3, "alpha": 0.25}
    s.record_dir = tmp_path / "rec"
    s.sync()
    t = Settings.at(path)
    assert (t.last_source, t.last_model, t.speed, t.mode) == ("synthetic:people=2", "/m.safetensors", 4.0, "primary")
    assert t.thresholds == {"enter": 0.7, "exit": 0.3, "alpha": 0.25} and t.record_dir == tmp_path / "rec"
    t.q.setValue("replay/speed", "fast")  # garbage falls back to defaults instead of breaking start-up
    t.q.setValue("events/exit", 0.9)
    assert t.speed == 1.0 and t.thresholds == {}  # unusable: the model's own thresholds apply
    win = MainWindow(settings=Settings.at(path))  # the window starts from what was remembered
    qtbot.addWidget(win)
    assert win.transport.speed.currentData() == 1.0 and win.modelbox.primary.isChecked()
    win.modelbox.enter.setValue(0.9)
    win.close()
    assert Settings.at(path).thresholds["enter"] == pytest.approx(0.9) and Settings.at(path).geometry is not None


def test_source_picker_lists_every_backend_with_its_reason(qtbot):
    from kinact.app.gui.source_picker import SourcePicker
    from kinact.core.sources.base import Availability

    av = {"kinect2": Availability(False, "Windows only"), "k4a": Availability(False, "pyk4a missing"),
          "replay": Availability(True), "dataset": Availability(True), "synthetic": Availability(True)}
    picker = SourcePicker(av, "replay:/x/y.kinrec")
    qtbot.addWidget(picker)
    items = {picker.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole): picker.list.item(i)
             for i in range(picker.list.count())}
    assert set(items) == set(av)
    assert not items["kinect2"].flags() & QtCore.Qt.ItemFlag.ItemIsEnabled and "Windows only" in items["kinect2"].text()
    assert picker.spec() == "replay:/x/y.kinrec"
    picker.list.setCurrentItem(items["synthetic"])
    picker.arg.setText("people=2")
    assert picker.spec() == "synthetic:people=2"


def test_default_demo_lookup(tmp_path, monkeypatch):
    from kinact.app.gui.app import default_demo

    (tmp_path / "demo.kinrec").write_bytes(b"x")
    (tmp_path / "m.safetensors").write_bytes(b"x")
    monkeypatch.setenv("KINACT_DEMO", str(tmp_path / "demo.kinrec"))
    monkeypatch.setenv("KINACT_MODEL", str(tmp_path / "m.safetensors"))
    assert default_demo() == (str(tmp_path / "demo.kinrec"), str(tmp_path / "m.safetensors"))
    monkeypatch.setenv("KINACT_DEMO", str(tmp_path / "missing.kinrec"))
    monkeypatch.setenv("KINACT_MODEL", str(tmp_path / "missing.safetensors"))
    assert default_demo() == (None, None)


def test_screenshot_command_writes_a_png(qtbot, assets, tmp_path, capsys):
    from kinact.app.commands import screenshot

    p = argparse.ArgumentParser()
    screenshot.add_arguments(p)
    out = tmp_path / "shot.png"
    args = p.parse_args(["--out", str(out), "--source", f"replay:{assets['rec']}", "--seconds", "0.5",
                         "--size", "800x600", "--backend", "torch"])
    assert screenshot.run(args) == 0
    img = QtGui.QImage(str(out))
    assert out.stat().st_size > 0 and (img.width(), img.height()) == (800, 600)
    assert '"render"' in capsys.readouterr().out
