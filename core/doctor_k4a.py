"""The doctor's Azure Kinect / Orbbec Femto checks: pyk4a and pykinect_azure, libk4a (Sensor SDK 1.4), libk4abt
(Body Tracking SDK 1.1) with its DNN model and ONNX Runtime, the devices on the bus, a test capture.

The chain has two branches, as the k4a source does: pyk4a gives depth, pykinect_azure gives depth and, with
the Body Tracking SDK, skeletons; libk4a is "ok" when either package loads it. The body tracker's files are
looked for where k4abt itself looks (beside libk4abt, then the working directory), because a tracker whose
model file is missing loads fine and fails only when it starts.
"""
from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

from kinact.core.doctor import Check, guarded
from kinact.core.doctor_env import _version
from kinact.core.doctor_sensors import _absent, _broken, _capture_check, capture

K4ABT_MODEL = "dnn_model_2_0_op11.onnx"
K4ABT_WINDOWS_BIN = r"C:\Program Files\Azure Kinect Body Tracking SDK\sdk\windows-desktop\amd64\release\bin"
ORBBEC = ("Orbbec Femto Bolt/Mega show up as k4a devices only through Orbbec's K4A Wrapper (OrbbecSDK_K4A_Wrapper, "
          "installed in place of libk4a / k4a.dll)")


def _sdk_fix() -> str:
    from kinact.core.sources.k4a_sdk import SENSOR_SDK

    return f"install {SENSOR_SDK}, or pip install pyk4a-bundle (pyk4a with libk4a inside); set KINACT_K4A_LIBRARY " \
           "(pykinect_azure) or LD_LIBRARY_PATH / K4A_DLL_DIR (pyk4a) when libk4a lives elsewhere"


def _body_fix() -> str:
    from kinact.core.sources.k4a_sdk import BODY_SDK

    return f"install {BODY_SDK}; set KINACT_K4ABT_LIBRARY when libk4abt lives elsewhere"


def k4a_checks(required: bool, capture_seconds: float) -> list[Check]:
    from kinact.core.sources.k4a_bodytracking import import_pykinect_azure, init_pykinect
    from kinact.core.sources.k4a_depth import import_pyk4a
    from kinact.core.sources.k4a_sdk import PIP_INSTALL

    k4a, k4a_problem = import_pyk4a()
    pk, pk_problem = import_pykinect_azure()
    rows = []
    if k4a is not None:
        rows.append(Check("k4a: pyk4a", "ok", _version(k4a, "pyk4a", "pyk4a-bundle")))
    elif k4a_problem.endswith("is not installed"):
        rows.append(Check("k4a: pyk4a", "skip", "not installed (pykinect_azure can stream depth as well)", PIP_INSTALL))
    else:
        rows.append(Check("k4a: pyk4a", "warn", k4a_problem, _sdk_fix()))
    if pk is not None:
        rows.append(Check("k4a: pykinect_azure", "ok", _version(pk, "pykinect_azure", "pykinect-azure")))
    elif pk_problem.endswith("is not installed"):
        rows.append(Check("k4a: pykinect_azure", "skip", "not installed: it is what drives the Body Tracking SDK "
                                                          "(skeletons)", "pip install pykinect_azure"))
    else:
        fix = "pip install opencv-python" if "OpenCV" in pk_problem else "pip install --force-reinstall pykinect_azure"
        rows.append(Check("k4a: pykinect_azure", "warn", pk_problem, fix))

    pk_lib_problem = init_pykinect(pk, track_body=False) if pk is not None else None
    pk_ready = pk is not None and pk_lib_problem is None
    if k4a is not None or pk_ready:
        by = " and ".join(n for n, ok in (("pyk4a", k4a is not None), ("pykinect_azure", pk_ready)) if ok)
        rows.append(Check("k4a: Sensor SDK", "ok", f"libk4a loads (through {by})"))
    elif k4a_problem.endswith("is not installed") and pk is None and pk_problem.endswith("is not installed"):
        rows.append(Check("k4a: Sensor SDK", _absent(required), "no K4A package installed to load libk4a with",
                          f"{PIP_INSTALL}; {_sdk_fix()}"))
    else:
        problems = [p for p in (k4a_problem, pk_lib_problem) if p and not p.endswith("is not installed")]
        rows.append(Check("k4a: Sensor SDK", _broken(required), "; ".join(problems) or pk_problem, _sdk_fix()))
    rows += guarded("k4a: body tracking", _body_tracking_check, required, pk, pk_ready)
    if k4a is not None or pk_ready:
        rows += guarded("k4a: devices", _devices, required, capture_seconds, k4a, pk)
    tracked = any(r.name == "k4a: capture" and r.status == "ok" and r.detail.startswith("pykinect_azure+k4abt")
                  for r in rows)
    for i, r in enumerate(rows):  # a tracker that ran settles what the file search could only guess
        if tracked and r.name == "k4a: body tracking" and r.status != "ok":
            rows[i] = Check(r.name, "ok", "libk4abt loads, and its tracker ran in the test capture")
    return rows


def _devices(required: bool, capture_seconds: float, k4a, pk) -> list[Check]:
    count = int(k4a.connected_device_count() if k4a is not None else pk.Device.device_get_installed_count())
    if count == 0:
        from kinact.core.sources.k4a_sdk import NO_DEVICE

        return [Check("k4a: devices", _broken(required), "0 devices", f"{NO_DEVICE}; {ORBBEC}")]
    rows = [Check("k4a: devices", "ok", f"{count} device{'s' if count > 1 else ''} attached")]
    if capture_seconds > 0:
        rows += guarded("k4a: capture", _k4a_capture, required, capture_seconds)
    return rows


def k4abt_dirs(pk=None) -> list[Path]:
    """Where libk4abt and its DNN model / ONNX Runtime may be: beside the library that loaded, then the usual."""
    dirs = []
    for path in (os.environ.get("KINACT_K4ABT_LIBRARY"), _pk_k4abt_path(pk)):
        if path and os.path.isabs(path):
            dirs.append(Path(path).parent)
    maps = Path("/proc/self/maps")
    if maps.is_file():  # Linux: the libk4abt this process has loaded, wherever it came from
        for ln in maps.read_text(errors="replace").splitlines():
            if "libk4abt" in ln and "/" in ln:
                dirs.append(Path(ln[ln.index("/"):].strip()).parent)
    if sys.platform == "win32":
        dirs.append(Path(K4ABT_WINDOWS_BIN))
    else:
        dirs += [Path("/usr/lib"), Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/bin")]
    dirs.append(Path.cwd())
    return list(dict.fromkeys(dirs))


def _pk_k4abt_path(pk) -> str | None:
    try:
        return pk.utils.get_k4abt_module_path() if pk is not None else None
    except Exception:  # noqa: BLE001 - an older pykinect_azure without the helper
        return None


def _body_tracking_check(required: bool, pk, pk_ready: bool) -> Check:
    name = "k4a: body tracking"
    if pk is None or not pk_ready:
        why = "pykinect_azure is not usable" if pk is None else "libk4a does not load through pykinect_azure"
        return Check(name, _absent(required), f"{why}: depth only, no skeletons", _body_fix())
    from kinact.core.sources.k4a import K4ASource

    avail = K4ASource.body_tracking_available()
    if not avail:
        return Check(name, _broken(required), avail.reason.split("; for skeletons install")[0], _body_fix())
    dirs = k4abt_dirs(pk)
    model = next((d / K4ABT_MODEL for d in dirs if (d / K4ABT_MODEL).is_file()), None)
    if model is None:
        return Check(name, "warn", f"libk4abt loads but {K4ABT_MODEL} is in none of "
                     f"{', '.join(map(str, dirs))}: the tracker may not start",
                     f"reinstall the Body Tracking SDK 1.1.x, which puts {K4ABT_MODEL} and its ONNX Runtime beside "
                     "libk4abt; or copy them into the working directory")
    runtime = sorted(glob.glob(str(model.parent / ("onnxruntime*.dll" if sys.platform == "win32"
                                                   else "libonnxruntime.so*"))))
    detail = f"libk4abt loads; model {model}; ONNX Runtime: " + \
             (", ".join(Path(r).name for r in runtime) if runtime else "not beside the model")
    system_ort = Path(os.environ.get("SystemRoot", r"C:\Windows")) / "System32" / "onnxruntime.dll"
    if sys.platform == "win32" and system_ort.is_file():
        return Check(name, "warn", f"{detail}; {system_ort} may be loaded instead of the SDK's (k4abt then fails "
                                   "with 'required APIs could not be found')",
                     f"copy onnxruntime*.dll from {model.parent} next to {Path(sys.executable).parent}")
    return Check(name, "ok", detail)


def _k4a_capture(required: bool, capture_seconds: float) -> Check:
    from kinact.core.errors import KinactError
    from kinact.core.sources.k4a import K4ASource

    fix = "close k4aviewer and other programs using the device, re-plug it into a USB 3 port on the PC itself " \
          "(not a hub) and check its power supply"
    src = K4ASource(device=0)
    try:
        src.open()
    except KinactError as exc:  # SourceLost (no answer) or a set-up problem the rows above did not catch
        return Check("k4a: capture", _broken(required), str(exc), fix)
    try:
        stats = capture(src, capture_seconds)
        prefix = f"{src.backend}{' (depth only)' if src.notice else ''}: "
        return _capture_check("k4a: capture", stats, src.fps, required, fix, prefix)
    finally:
        src.close()
