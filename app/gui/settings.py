"""What the window remembers between runs, behind typed getters so a damaged or foreign settings file can never
crash start-up (QSettings hands back strings, or nothing, for anything it cannot parse).

By default the values live where Qt keeps an application's settings (organisation "kinact", application
"kinact": ~/.config/kinact/kinact.conf on Linux, the registry on Windows). `Settings.at(path)` keeps them in
one INI file instead, which tests use so that they never read or write the user's real settings.

Recordings go to `default_record_dir()`: the `recordings` folder of a writable source checkout (so a
developer finds them next to the code and the demo), otherwise `recordings` in the user's data folder
(~/.local/share/kinact/recordings on Linux, %APPDATA%/kinact/recordings on Windows), because an installed
package's own folder is usually read-only and is wiped by every upgrade.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from PySide6 import QtCore

ORG = APP = "kinact"
DEFAULTS = {"speed": 1.0, "mode": "all"}
THRESHOLDS = ("enter", "exit", "alpha")


def package_root() -> Path:
    """The folder holding the `app`, `core` and `models` packages: the repository root in a checkout."""
    return Path(__file__).resolve().parents[2]


def default_record_dir() -> Path:
    root = package_root()
    if (root / "pyproject.toml").is_file() and os.access(root, os.W_OK):
        return root / "recordings"
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / "kinact" / "recordings"


class Settings:
    """Typed access to the remembered values; every getter falls back to a default on anything odd."""

    def __init__(self, qsettings: QtCore.QSettings | None = None):
        self.q = qsettings if qsettings is not None else QtCore.QSettings(ORG, APP)

    @classmethod
    def at(cls, path: str | os.PathLike) -> "Settings":
        return cls(QtCore.QSettings(os.fspath(path), QtCore.QSettings.Format.IniFormat))

    # -- plain values ----------------------------------------------------------------------------------
    def _str(self, key: str, default: str = "") -> str:
        v = self.q.value(key, default)
        return v if isinstance(v, str) else default

    def _float(self, key: str, default: float, lo: float, hi: float) -> float:
        try:
            v = float(self.q.value(key, default))
        except (TypeError, ValueError):
            return default
        return v if lo <= v <= hi else default

    @property
    def last_source(self) -> str:
        return self._str("source/last")

    @last_source.setter
    def last_source(self, spec: str) -> None:
        self.q.setValue("source/last", str(spec))

    @property
    def last_model(self) -> str:
        return self._str("model/last")

    @last_model.setter
    def last_model(self, path: str) -> None:
        self.q.setValue("model/last", str(path))

    @property
    def thresholds(self) -> dict[str, float]:
        """The event thresholds the user set, or {} when they never did (or what is stored is unusable): then the
        model's own live settings apply."""
        t = {k: self._float(f"events/{k}", math.nan, 0.0, 1.0) for k in THRESHOLDS}
        if any(math.isnan(v) for v in t.values()) or t["exit"] > t["enter"] or t["alpha"] <= 0:
            return {}  # the event detector would refuse them
        return t

    @thresholds.setter
    def thresholds(self, t: dict[str, float]) -> None:
        """Store the user's thresholds; {} forgets them (back to the model's)."""
        for k in THRESHOLDS:
            if not t:
                self.q.remove(f"events/{k}")
            elif k in t:
                self.q.setValue(f"events/{k}", float(t[k]))

    @property
    def speed(self) -> float:
        v = self._float("replay/speed", 1.0, 0.25, 8.0)
        return v

    @speed.setter
    def speed(self, s: float) -> None:
        self.q.setValue("replay/speed", float(s))

    @property
    def mode(self) -> str:
        m = self._str("engine/mode", "all")
        return m if m in ("all", "primary") else "all"

    @mode.setter
    def mode(self, m: str) -> None:
        self.q.setValue("engine/mode", str(m))

    @property
    def record_dir(self) -> Path:
        d = self._str("record/dir")
        return Path(d) if d else default_record_dir()

    @record_dir.setter
    def record_dir(self, d: str | os.PathLike) -> None:
        self.q.setValue("record/dir", os.fspath(d))

    @property
    def geometry(self) -> QtCore.QByteArray | None:
        v = self.q.value("window/geometry")
        return v if isinstance(v, QtCore.QByteArray) and not v.isEmpty() else None

    @geometry.setter
    def geometry(self, g: QtCore.QByteArray) -> None:
        self.q.setValue("window/geometry", g)

    def sync(self) -> None:
        self.q.sync()
