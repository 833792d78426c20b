"""Starting the desktop app: the QApplication, the window, the first source and model.

With nothing asked for, the app plays the bundled demo (a recording and the model trained for it), so a
first start shows recognition at work without a sensor. Where the demo is not installed it falls back to
the synthetic source with no model: people moving in a depth image, tracked and drawn, and a prediction
panel saying that no model is loaded. Something always moves on screen, and nothing needs a download.

The demo recording and the shipped model are found by `kinact.core.assets` (package data, overridable with
$KINACT_DEMO and $KINACT_MODEL), the same lookup `kinact run --headless` uses.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

SYNTHETIC_DEMO = "synthetic:loop=true"


def default_demo() -> tuple[str | None, str | None]:
    """(bundled demo recording or None, shipped model or None): the same lookup `kinact run` uses."""
    from kinact.core import assets

    recording, model = assets.demo_recording(), assets.shipped_model()
    return (None if recording is None else os.fspath(recording)), (None if model is None else os.fspath(model))


def _no_display() -> bool:
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")))


def make_app(argv: list[str] | None = None, offscreen: bool = False):
    """The process's QApplication (made once). `offscreen`: render without a display when there is none."""
    if offscreen and _no_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
        app.setOrganizationName("kinact")
        app.setApplicationName("kinact")
    return app


def build_window(source_spec: str | None = None, model: str | None = None, speed: float | None = None,
                 settings=None, backend: str = "auto", loop: bool | None = None):
    """A shown-ready MainWindow already opening its source (and loading its model in the background)."""
    from kinact.app.gui.main_window import MainWindow

    recording, shipped_model = default_demo()
    model = model or shipped_model  # a named source (a sensor, a file) gets the shipped model too
    if source_spec is None:
        source_spec = f"replay:{recording}" if recording else SYNTHETIC_DEMO
        loop = True if loop is None else loop
    win = MainWindow(settings=settings, backend=backend, loop=bool(loop))
    if speed is not None:
        win.set_speed(speed)
    if model:  # the source starts once the model is ready (or refused), not twice
        win.load_model(model, then=lambda: win.open_source(source_spec))
    else:
        win.open_source(source_spec)
    return win


def run_app(source_spec: str | None = None, model: str | None = None, speed: float | None = None,
            settings=None, backend: str = "auto", loop: bool | None = None) -> int:
    """Run the window until it is closed; the exit code of the Qt event loop."""
    if _no_display():  # Qt would abort the process; an invisible window would run forever
        from kinact.core.errors import KinactError

        raise KinactError("no display to show the window on (DISPLAY is not set); "
                          "`kinact screenshot` renders the app offscreen")
    app = make_app()
    win = build_window(source_spec, model, speed, settings, backend, loop)
    win.show()
    return int(app.exec())
