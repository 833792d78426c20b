"""The main window: the views on top, the controls under them, health at the bottom.

Rendering is driven by one QTimer at ~60 Hz, never by the pipeline: each tick drains the results that came
in (a deque the inference thread appends to) and draws the newest frame only (`runner.latest_frame()`), and
only when it is new, so a fast sensor or a slow model changes what is drawn, never how often the GUI thread
works. The tick is twice the sensors' 30 fps because a 30 Hz tick beats against a 30 fps source: whenever a
frame lands just after a tick, that tick draws nothing and the next one skips a frame (measured: ~28 drawn
fps instead of 30); an idle tick costs well under a millisecond. Worker
threads emit no Qt signals at all. Ticks are timed (`render_stats()`), because "the GUI feels slow" has to
be answerable with a number: frames drawn per second and the GUI thread's time per tick.
"""
from __future__ import annotations

import os
import time

from PySide6 import QtCore, QtGui, QtWidgets

from kinact.app.gui.controller import Controller
from kinact.app.gui.depth_view import DepthView
from kinact.app.gui.labels import Labels
from kinact.app.gui.model_box import ModelBox
from kinact.app.gui.prediction_panel import PredictionPanel, describe
from kinact.app.gui.render_stats import RenderStats
from kinact.app.gui.settings import Settings
from kinact.app.gui.side_views import SideViews
from kinact.app.gui.source_picker import MODEL_FILTER, ask_file, ask_source, check_availability
from kinact.app.gui.status_bar import StatusPanel
from kinact.app.gui.transport import LabelBox, RecordBox, TransportBar

TICK_MS = 16  # ~60 Hz: see the module docstring
CONTROLS_EVERY, STATUS_EVERY = 6, 12  # ticks: ~10 Hz for transport/record widgets, ~5 Hz for the status bar
FORGET_SECONDS = 3.0  # a person unseen this long (frames' clock) loses their row


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, settings: Settings | None = None, backend: str = "auto", loop: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle("kinact")
        self.settings = s = settings or Settings()
        self.controller = c = Controller(backend=backend, thresholds=s.thresholds, mode=s.mode, speed=s.speed,
                                         loop=loop)
        self.labels = Labels(c)
        self.depth, self.sides, self.panel, self.status = DepthView(), SideViews(), PredictionPanel(), StatusPanel()
        self.transport, self.recorder, self.labelbox = TransportBar(), RecordBox(), LabelBox()
        self.modelbox = ModelBox(c.thresholds_in_use(), c.mode == "primary")
        self.transport.set_speed(c.speed)
        self.panel.empty.setText("no model loaded")
        right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        right.addWidget(self.sides)
        right.addWidget(self.panel)
        right.setSizes([300, 420])
        views = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        views.addWidget(self.depth)
        views.addWidget(right)
        views.setStretchFactor(0, 3)
        views.setStretchFactor(1, 2)
        views.setSizes([760, 500])
        controls = QtWidgets.QHBoxLayout()
        for w, stretch in ((self.recorder, 0), (self.labelbox, 1)):
            controls.addWidget(w, stretch)
        central = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(central)
        box.setContentsMargins(4, 4, 4, 0)
        box.setSpacing(2)
        box.addWidget(views, 1)
        for part in (self.transport, controls, self.modelbox, self.status):
            box.addLayout(part) if isinstance(part, QtWidgets.QLayout) else box.addWidget(part)
        self.setCentralWidget(central)
        self._connect()
        self._actions()
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        if s.geometry is not None:
            self.restoreGeometry(s.geometry)
        self._gen, self._drawn, self._ticks, self._tick_error = -1, None, 0, ""
        self._shown: dict[int, str] = {}  # person -> what their label by the head says
        self._seen: dict[int, float] = {}  # person -> frames' time they were last drawn
        self._stats = RenderStats()
        self.availability: dict | None = None
        self.sensors_dialog = None  # made on first use: its checks import SDKs and take seconds
        c.submit_io(check_availability, lambda r, e: setattr(self, "availability", r) if r else None)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(TICK_MS)

    def _connect(self) -> None:
        c, t = self.controller, self.transport
        t.play_clicked.connect(c.toggle_play)
        t.step_requested.connect(c.step)
        t.seek_requested.connect(c.seek)
        t.speed_changed.connect(self.set_speed)
        self.recorder.record_clicked.connect(self.toggle_record)
        self.recorder.folder_clicked.connect(self._choose_record_dir)
        self.labelbox.start_clicked.connect(self.labels.start)
        self.labelbox.end_clicked.connect(self.labels.end)
        self.labelbox.save_clicked.connect(self.labels.save)
        self.modelbox.load_clicked.connect(self._ask_model)
        self.modelbox.thresholds_changed.connect(lambda e, x, a: c.set_thresholds(e, x, a))
        self.modelbox.thresholds_reset.connect(lambda: self.modelbox.set_thresholds(c.reset_thresholds()))
        self.modelbox.primary_toggled.connect(lambda on: c.set_mode("primary" if on else "all"))

    def _actions(self) -> None:
        menu = self.menuBar().addMenu("&File")
        for text, keys, slot in (("Open &source…", "Ctrl+Shift+O", self._ask_source),
                                 ("&Open recording…", "Ctrl+O", self._ask_recording),
                                 ("Se&nsors…", "", self.show_sensors),
                                 ("Load &model…", "Ctrl+M", self._ask_model), ("&Quit", "Ctrl+Q", self.close)):
            act = menu.addAction(text)
            act.setShortcut(QtGui.QKeySequence(keys))
            act.triggered.connect(slot)
            if slot == self.show_sensors:  # kinact doctor's report; tests and the picker reach it too
                self.sensors_action = act
        c = self.controller
        keys = [("Space", c.toggle_play), ("Right", lambda: c.step(1)), ("Left", lambda: c.step(-1)),
                ("R", self.toggle_record)]
        keys += [(str(i + 1), lambda i=i: self.labels.toggle(self.labelbox.select(i))) for i in range(9)]
        for key, slot in keys:
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            sc.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

    # ------------------------------------------------------------------------------------------ opening
    def open_source(self, spec: str, start: float = 0.0, paused: bool = False) -> None:
        self.settings.last_source = spec
        self.status.set_status(source=os.path.basename(spec) or spec, state="connecting")
        self.controller.open(spec, start, paused)

    def open_file(self, path: str) -> None:
        """A dropped or chosen file: checkpoints load as the model, anything else opens as a source."""
        from kinact.core.sources.registry import parse_spec

        try:
            if path.lower().endswith(".safetensors"):
                self.load_model(path)
            else:
                self.open_source(f"{parse_spec(path)[0]}:{path}")
        except Exception as exc:  # a file type nobody reads
            self.status.show_error(str(exc))

    def load_model(self, path: str, then=None) -> None:
        """Load in the background; `then()` runs afterwards on the GUI thread, whether it worked or not."""
        self.modelbox.set_model(None, loading=True)
        self.controller.load_model(path, lambda p, exc: self._model_loaded(p, exc, then))

    def _model_loaded(self, predictor, exc, then=None) -> None:
        c = self.controller
        meta = c.model.meta if c.model is not None else None
        self.modelbox.set_model(meta, c.model_path)
        self.modelbox.set_thresholds(c.thresholds_in_use())  # the new model's own, unless the user set theirs
        if then is not None:
            then()
        if exc is not None or meta is None:
            return
        self.settings.last_model = c.model_path
        self.labels.classes = list(meta.classes)
        self.panel.set_classes(meta.classes)
        self.labelbox.set_classes(meta.classes)
        self.panel.empty.setText("nobody in view")
        self.status.set_status(model=f"{os.path.basename(c.model_path)} ({predictor.backend})")

    def _ask_source(self) -> None:
        spec = ask_source(self, self.availability, self.settings.last_source)
        if spec:
            self.open_source(spec)

    def show_sensors(self) -> None:
        """The Sensors dialog (kinact doctor's report); checked once when first opened, then on Re-run."""
        from kinact.app.gui.sensors_dialog import SensorsDialog

        if self.sensors_dialog is None:
            self.sensors_dialog = SensorsDialog(self)
        self.sensors_dialog.show()
        self.sensors_dialog.raise_()
        self.sensors_dialog.activateWindow()

    def _ask_recording(self) -> None:
        path = ask_file(self, "Open recording or dataset file", os.fspath(self.settings.record_dir))
        if path:
            self.open_file(path)

    def _ask_model(self) -> None:
        path = ask_file(self, "Load model", os.path.dirname(self.settings.last_model), MODEL_FILTER)
        if path:
            self.load_model(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            self.open_file(url.toLocalFile())
        event.acceptProposedAction()

    # ----------------------------------------------------------------------------------------- controls
    def set_speed(self, speed: float) -> None:
        self.settings.speed = speed
        self.transport.set_speed(speed)
        self.controller.set_speed(speed)

    def toggle_record(self) -> None:
        c = self.controller
        if c.tap is not None and c.tap.active:
            c.stop_recording()
            return
        path = c.start_recording(self.settings.record_dir)
        if path:
            self.status.add_log(f"recording to {path}")

    def _choose_record_dir(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for recordings",
                                                       os.fspath(self.settings.record_dir))
        if d:
            self.settings.record_dir = d

    def render_stats(self, span: float = 2.0) -> dict:
        return self._stats.summary(span)

    # --------------------------------------------------------------------------------------------- tick
    def tick(self) -> None:
        """One timer tick. A failure here is shown once, never raised: the next tick may well work."""
        t0 = time.perf_counter()
        try:
            drew = self._tick()
        except Exception as exc:  # a bug or a frame the views cannot draw: say so, keep the window alive
            drew, text = False, f"display error: {type(exc).__name__}: {exc}"
            if text != self._tick_error:
                self._tick_error = text
                self.status.show_error(text)
        t1 = time.perf_counter()
        self._stats.add(t1, (t1 - t0) * 1000.0, drew)

    def _tick(self) -> bool:
        c = self.controller
        c.poll_tasks()
        if c.generation != self._gen:  # a new source or a seek: rows and labels describe another moment
            self._gen, self._drawn = c.generation, None
            self.panel.clear()
            self._shown.clear()
            self._seen.clear()
        while c.results:
            run_id, item = c.results.popleft()
            if run_id != c.run_id:
                continue
            if hasattr(item, "kind"):
                self.panel.add_event(item)
            else:
                self.panel.update_prediction(item)
                self._shown[item.person] = describe(item)[1]
        drew = self._draw()
        self._ticks += 1
        if self._ticks % CONTROLS_EVERY == 0:
            self._refresh_controls()
        if self._ticks % STATUS_EVERY == 0:
            self._refresh_status()
        return drew

    def _draw(self) -> bool:
        c = self.controller
        latest = c.runner.latest_frame() if c.runner is not None else None
        if latest is None or latest[0] is self._drawn or c.proxy is None:
            return False
        frame, upd = latest
        src = c.proxy.inner
        persons = {tb.body.id: tb.person for tb in upd.bodies if tb.body is not None}
        labels = {p: self._shown.get(p, "") for p in persons.values()}
        self.depth.set_frame(frame, src.layout, src.intrinsics, labels, persons)
        self.sides.set_bodies(frame.bodies, src.layout, persons)
        self.panel.set_time(frame.t)
        for p in persons.values():
            self._seen[p] = float(frame.t)
        for p in upd.dropped:
            self.panel.remove_person(p)
        self._drawn = frame
        return True

    def _refresh_controls(self) -> None:
        c = self.controller
        info = c.transport()
        self.transport.set_state(info, speed_only=c.proxy is not None and not c.proxy.inner.live)
        tap = c.tap
        active = tap is not None and tap.active
        self.recorder.set_state(active, tap.duration if active else 0.0, tap.frames if active else 0,
                                os.fspath(self.settings.record_dir))
        self.recorder.button.setEnabled(c.proxy is not None and c.proxy.is_open or active)
        lab = self.labels
        lab.sync()
        if [self.labelbox.action.itemText(i) for i in range(self.labelbox.action.count())] != lab.choices():
            self.labelbox.set_classes(lab.choices())
        self.labelbox.set_state(lab.mode(), lab.open[0] if lab.open else None, len(lab.segments), lab.dirty,
                                lab.saving)

    def _refresh_status(self) -> None:
        c = self.controller
        while c.messages:
            level, text = c.messages.popleft()
            self.status.show_error(text) if level == "error" else self.status.add_log(text)
        if c.runner is not None:
            self.status.update_from(c.runner.status())
        elif c.failed:
            self.status.set_status(state="error")
        for problem in c.proxy.new_problems() if c.proxy is not None else ():
            self.status.show_error(f"damaged recording: {problem}")
        self.status.set_status(render_fps=self._stats.summary()["fps"])
        now = c.current_time()
        for p, seen in list(self._seen.items()):
            if now is not None and now - seen > FORGET_SECONDS:
                del self._seen[p]
                self.panel.remove_person(p)

    def closeEvent(self, event) -> None:
        self.timer.stop()
        s = self.settings
        s.geometry, s.thresholds, s.mode = self.saveGeometry(), self.controller.thresholds, self.controller.mode
        s.sync()
        self.controller.shutdown()
        super().closeEvent(event)
