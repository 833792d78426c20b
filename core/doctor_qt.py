"""The doctor's checks of the desktop stack: PySide6, pyqtgraph, the display and Qt's platform plugin.

Qt is the one part that can kill its process: a platform plugin that cannot load (no display, a missing
libxcb-*) makes Qt abort. So the real start-up test, creating a QGuiApplication, runs in a child process
(`start_qt_probe`), started before the other checks and collected after them so it costs no extra time.
What the xcb plugin lacks is found without starting Qt at all: `ldd` on libqxcb.so names every missing
library, and `APT_PACKAGES` turns those names into the packages to install.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from kinact.core.doctor import Check
from kinact.core.doctor_env import _linux, _version, at_least, vtuple

PYSIDE_PIN = 'pip install "PySide6-Essentials>=6.7,<6.12"'
QT_PROBE_TIMEOUT = 8.0
QT_PROBE_CODE = ("import sys\nfrom PySide6.QtGui import QGuiApplication\napp = QGuiApplication(sys.argv[:1])\n"
                 "print('kinact-qt-probe', app.platformName(), flush=True)\n")
#: shared library of Qt's xcb plugin → the Debian/Ubuntu package that provides it
APT_PACKAGES = {"libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
                "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-image.so.0": "libxcb-image0",
                "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-randr.so.0": "libxcb-randr0",
                "libxcb-shape.so.0": "libxcb-shape0", "libxcb-xkb.so.1": "libxcb-xkb1",
                "libxcb-util.so.1": "libxcb-util1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
                "libxkbcommon.so.0": "libxkbcommon0", "libX11-xcb.so.1": "libx11-xcb1", "libEGL.so.1": "libegl1",
                "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0", "libfontconfig.so.1": "libfontconfig1",
                "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0"}


def check_pyside6() -> Check:
    try:
        import PySide6
    except ImportError as exc:
        return Check("PySide6", "warn", f"not importable ({exc}): no desktop window (kinact run --headless works)",
                     'pip install "kinact[gui]"')
    v = _version(PySide6, "PySide6-Essentials", "PySide6")
    if vtuple(v) >= (6, 12):
        return Check("PySide6", "warn", f"{v}: PySide6 >= 6.12 leaks on Signal.emit() and crashes the app after "
                                        "a few hundred emits", PYSIDE_PIN)
    if vtuple(v) < (6, 7):
        return Check("PySide6", "warn", f"{v}: kinact needs PySide6 >= 6.7", PYSIDE_PIN)
    return Check("PySide6", "ok", v)


def check_pyqtgraph() -> Check | None:
    try:
        import pyqtgraph
    except ImportError as exc:
        if "PySide6" in str(exc) or "Qt bindings" in str(exc):
            return None  # the PySide6 row says what to install
        return Check("pyqtgraph", "warn", f"not importable ({exc}): no desktop window", 'pip install "pyqtgraph>=0.13"')
    return at_least("pyqtgraph", _version(pyqtgraph, "pyqtgraph"), "0.13")


# ---------------------------------------------------------------------------------------------- Qt and display
def _no_display() -> bool:
    return _linux() and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _xcb_plugin() -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_xcb_libraries() -> list[str] | None:
    """Shared libraries Qt's xcb plugin needs and the loader cannot find (ldd); None when it cannot tell."""
    plugin = _xcb_plugin() if _linux() else None
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return None
    out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=5).stdout
    return sorted({ln.split("=>")[0].strip() for ln in out.splitlines() if "not found" in ln})


def _apt(libraries) -> str:
    packages = [APT_PACKAGES.get(lib) or re.sub(r"\.so\.(\d+).*$", r"\1", lib).lower() for lib in libraries]
    return "apt-get install " + " ".join(dict.fromkeys(packages))


def check_display() -> Check:
    qpa = os.environ.get("QT_QPA_PLATFORM")
    if not _linux():
        return Check("display", "ok", f"{platform.system()} desktop" + (f", QT_QPA_PLATFORM={qpa}" if qpa else ""))
    shown = [f"{k}={os.environ[k]}" for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM") if os.environ.get(k)]
    if qpa in ("offscreen", "minimal"):
        return Check("display", "ok", f"{', '.join(shown)}: windows render offscreen (nothing is shown)")
    if not _no_display():
        return Check("display", "ok", ", ".join(shown))
    missing = missing_xcb_libraries() or []
    return Check("display", "warn", "no DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM: the window cannot open "
                                    "(kinact run --headless and kinact screenshot work)",
                 "run with QT_QPA_PLATFORM=offscreen, or install xvfb: "
                 f"{_apt(['xvfb'] + missing) if missing else 'apt-get install xvfb'} and start with xvfb-run kinact")


def check_xcb_plugin() -> Check | None:
    """Whether Qt's X11 plugin can load: the libraries it links, checked with ldd (milliseconds, no Qt start)."""
    missing = missing_xcb_libraries()
    if missing is None:
        return None
    if not missing:
        return Check("Qt xcb plugin", "ok", "every library of libqxcb.so resolves")
    uses_xcb = not _no_display() and os.environ.get("QT_QPA_PLATFORM", "xcb").startswith("xcb") \
        and not os.environ.get("WAYLAND_DISPLAY")
    why = "the window cannot open on X11" if uses_xcb else "needed once there is an X11 display (or xvfb)"
    return Check("Qt xcb plugin", "fail" if uses_xcb else "warn", f"missing {', '.join(missing)}: {why}",
                 _apt(missing))


class QtProbe:
    """A child process that creates a QGuiApplication: whatever Qt does (abort included) cannot hit the doctor."""

    def __init__(self, env: dict, platform_name: str, note: str = ""):
        self.platform, self.note = platform_name, note
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-c", QT_PROBE_CODE], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self) -> Check:
        try:
            out, err = self.proc.communicate(timeout=max(0.1, QT_PROBE_TIMEOUT - (time.perf_counter() - self.started)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            return Check("Qt platform", "fail", f"QGuiApplication on '{self.platform}' did not start within "
                                                f"{QT_PROBE_TIMEOUT:g} s (waiting for a display that does not answer?)",
                         "check DISPLAY (xdpyinfo), or run with QT_QPA_PLATFORM=offscreen")
        took = time.perf_counter() - self.started
        m = re.search(r"kinact-qt-probe (\S+)", out or "")
        if self.proc.returncode == 0 and m:
            return Check("Qt platform", "ok", f"QGuiApplication starts on '{m.group(1)}' ({took:.1f} s){self.note}")
        said = [ln.strip() for ln in (err or "").splitlines() if ln.strip()]
        text = "; ".join(said[-2:]) or f"exit code {self.proc.returncode}"
        missing = missing_xcb_libraries() or []
        if "xcb-cursor" in text:
            fix = "apt-get install libxcb-cursor0"
        elif missing and self.platform in ("default", "xcb"):
            fix = _apt(missing)
        elif "could not connect to display" in text:
            fix = "check DISPLAY and X access (xhost, ssh -X), or run with QT_QPA_PLATFORM=offscreen"
        else:
            fix = f"run QT_DEBUG_PLUGINS=1 kinact app to see which library fails to load; {PYSIDE_PIN}"
        return Check("Qt platform", "fail", f"QGuiApplication on '{self.platform}' failed "
                                            f"(exit {self.proc.returncode}): {text}", fix)


def start_qt_probe() -> QtProbe | None:
    """Start the Qt probe on the platform the app would use; on Linux without a display, on 'offscreen'."""
    import importlib.util

    try:
        if importlib.util.find_spec("PySide6") is None:
            return None
    except (ImportError, ValueError):
        return None
    env = dict(os.environ)
    qpa = env.get("QT_QPA_PLATFORM")
    if not qpa and _no_display():
        env["QT_QPA_PLATFORM"] = "offscreen"
        return QtProbe(env, "offscreen", "; no display, so 'offscreen' was tried (what kinact screenshot uses)")
    return QtProbe(env, qpa or "default")
