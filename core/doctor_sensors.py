"""The doctor's sensor checks, Kinect v2 (PyKinect2 + Kinect for Windows SDK 2.0) here and Azure Kinect / Orbbec
Femto in `doctor_k4a`, and what both share: the status rules, the test capture, the source registry's verdict.

A sensor is a chain (Python package → native SDK → device → frames) and the first broken link is the one to
fix, so each link is its own row, and the rows go only as far as the chain does. The links are checked with
the same code the sources use (`kinect2_compat.import_pykinect2`, `import_pyk4a`, `init_pykinect`,
`K4ASource.body_tracking_available`, and the sources themselves for the test capture), so the doctor takes the
path the app takes rather than a look-alike of it.

Both sensors are optional: a missing piece is "skip" (not installed) or "warn" (installed but broken, or no
device), unless the user asked for that backend (`required`), when it is "fail". Each step that talks to a
device runs under `guarded`, so a crash there costs one row, not the rows before it.
"""
from __future__ import annotations

import os
import platform
import re
import sys
import time
from pathlib import Path

from kinact.core.doctor import Check, guarded
from kinact.core.doctor_env import _version, vtuple

KINECT2_OPEN_TIMEOUT = 2.0  # the SDK opens without a sensor: only IsAvailable tells, so wait this long for it
COMTYPES_RANGE, COMTYPES_PIN = ((1, 1, 14), (1, 4)), 'pip install "comtypes>=1.1.14,<1.4"'
KINECT2_HW = ("plug the Kinect v2 into a USB 3.0 port through the Kinect Adapter for Windows with its power supply "
              "on; the SDK's Kinect Configuration Verifier tests the connection")


def _absent(required: bool) -> str:
    return "fail" if required else "skip"


def _broken(required: bool) -> str:
    return "fail" if required else "warn"


# ----------------------------------------------------------------------------------------------- test capture
def capture(source, seconds: float) -> dict:
    """Read an open source for `seconds`: frames, frames with depth, most bodies at once, distinct ids, rate,
    and `lost` (why the source went away, if it did)."""
    from kinact.core.sources.base import SourceLost

    frames = depth = most = 0
    ids, lost = set(), None
    t0 = time.monotonic()
    deadline = t0 + seconds
    while (now := time.monotonic()) < deadline:
        try:
            frame = source.read(timeout=min(0.5, deadline - now))
        except SourceLost as exc:
            lost = str(exc)
            break
        if frame is None:
            continue
        frames += 1
        depth += frame.depth is not None
        most = max(most, len(frame.bodies))
        ids.update(b.id for b in frame.bodies)
    took = time.monotonic() - t0
    return {"frames": frames, "depth_frames": depth, "max_bodies": most, "body_ids": len(ids), "seconds": took,
            "fps": frames / took if took > 0 else 0.0, "lost": lost}


def _capture_check(name: str, s: dict, nominal_fps: float, required: bool, fix: str, prefix: str = "") -> Check:
    detail = f"{prefix}{s['frames']} frames ({s['depth_frames']} with depth) in {s['seconds']:.1f} s = " \
             f"{s['fps']:.1f} fps; up to {s['max_bodies']} bodies at once, {s['body_ids']} body ids"
    if s["lost"]:
        return Check(name, _broken(required), f"{detail}; then lost: {s['lost']}", fix)
    if s["frames"] == 0:
        return Check(name, _broken(required), f"{detail}: the device is attached but sends nothing", fix)
    if s["fps"] < nominal_fps / 2:
        return Check(name, "warn", f"{detail}: under half of {nominal_fps:g} fps", fix)
    if s["max_bodies"] == 0:
        detail += " (nobody in view: stand 1.5-4 m in front of the sensor to test skeletons)"
    return Check(name, "ok", detail)


# ---------------------------------------------------------------------------------------------------- kinect2
def kinect20_dll() -> str | None:
    """Where the Kinect for Windows SDK 2.0 runtime is, on Windows; None elsewhere or when it is missing."""
    if sys.platform != "win32":
        return None
    import ctypes.util

    system = Path(os.environ.get("SystemRoot", r"C:\Windows")) / "System32" / "Kinect20.dll"
    return ctypes.util.find_library("Kinect20") or (str(system) if system.is_file() else None)


def _short(note: str) -> str:
    """'PyKinectV2: time.clock() (removed in Python 3.8) -> ...' → 'time.clock()'."""
    what = note.split(": ", 1)[-1]
    return re.split(r" \(|: | -> ", what, maxsplit=1)[0]


def kinect2_checks(required: bool, capture_seconds: float) -> list[Check]:
    from kinact.core.sources import kinect2, kinect2_compat as compat

    if not kinect2._is_windows():
        return [Check("kinect2", _absent(required), f"Windows only (this is {platform.system()}): "
                                                    "the Kinect for Windows SDK 2.0 has no runtime for it",
                      f"use a Windows 10/11 PC with a USB 3.0 port, the Kinect Adapter for Windows and the "
                      f"{compat.SDK_NAME}, then {compat.PIP_INSTALL}")]
    rows = [_comtypes_check(required)]
    v2 = None
    try:
        v2, _ = compat.import_pykinect2()
        notes = [_short(n) for n in compat.apply_shims()[1:]]
        version = _version(sys.modules.get("pykinect2"), "pykinect2")
        rows.append(Check("kinect2: pykinect2", "ok", f"imports ({version})" + (
            f"; kinact patched at import (nothing to do): {', '.join(notes)}" if notes else "")))
        sdk_problem = None
    except compat.PyKinect2ImportError as exc:
        sdk_problem = exc if "Kinect20.dll" in exc.problem else None
        status = _absent(required) if sdk_problem or exc.problem.endswith("is not installed") else _broken(required)
        rows.append(Check("kinect2: pykinect2", status, exc.problem, exc.fix))
    dll = kinect20_dll()
    if dll or v2 is not None:
        rows.append(Check("kinect2: SDK 2.0", "ok", f"Kinect20.dll at {dll}" if dll else "Kinect20.dll loads"))
    else:
        why = "does not load" if sdk_problem else "not found"
        rows.append(Check("kinect2: SDK 2.0", _absent(required), f"Kinect20.dll (the Kinect for Windows SDK 2.0 "
                          f"runtime) {why}", f"install the {compat.SDK_NAME}"))
    if v2 is not None:
        rows += guarded("kinect2: sensor", _kinect2_device, required, capture_seconds)
    return rows


def _comtypes_check(required: bool) -> Check:
    try:
        import comtypes
    except ImportError as exc:
        return Check("kinect2: comtypes", _absent(required), f"not importable ({exc}): PyKinect2 needs it",
                     COMTYPES_PIN)
    v = _version(comtypes, "comtypes")
    low, high = COMTYPES_RANGE
    if not low <= vtuple(v) < high:
        return Check("kinect2: comtypes", "warn", f"{v} is outside >=1.1.14,<1.4, the range kinact[kinect2] pins: "
                     "older releases break on current Python, 1.4+ is untested with PyKinect2's generated module",
                     COMTYPES_PIN)
    return Check("kinect2: comtypes", "ok", v)


def _kinect2_device(required: bool, capture_seconds: float) -> list[Check]:
    from kinact.core.sources.base import SourceLost
    from kinact.core.sources.kinect2 import Kinect2Source

    src = Kinect2Source(open_timeout=KINECT2_OPEN_TIMEOUT)
    t0 = time.monotonic()
    try:
        src.open()
    except SourceLost as exc:
        return [Check("kinect2: sensor", _broken(required), str(exc), KINECT2_HW)]
    try:
        rows = [Check("kinect2: sensor", "ok", f"Kinect v2 attached (IsAvailable after {time.monotonic() - t0:.1f} s)")]
        if capture_seconds > 0:
            fix = f"{KINECT2_HW}; close Kinect Studio and other programs using the sensor; the Kinect v2 needs an " \
                  "Intel or Renesas USB 3.0 controller"
            rows += guarded("kinect2: capture", lambda: _capture_check("kinect2: capture", capture(
                src, capture_seconds), 30.0, required, fix))
        return rows
    finally:
        src.close()


def check_sources() -> Check:
    """What the source picker will offer: the registry's own verdict, after the rows that explain it."""
    from kinact.core.sources.registry import availability

    av = availability()
    usable = [n for n, a in av.items() if a]
    unusable = [n for n, a in av.items() if not a]
    return Check("sources", "ok", f"usable: {', '.join(usable) or 'none'}"
                 + (f"; not usable here: {', '.join(unusable)} (see the rows above)" if unusable else ""))
