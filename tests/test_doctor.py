"""`kinact doctor` against fakes of every failure it names: a package missing, a native library missing, a wrong
version, no device, a device attached (test capture), and the report's rules (one JSON object, a fix on every
non-ok row, a crash inside a check becomes a "fail" row, exit code 1 only when something fails).

Sensors come from the fakes in tests/fakes (the same ones the source tests use), injected the same way.
"""
from __future__ import annotations

import json
import sys
import types

import pytest

from kinact.core import doctor, doctor_env, doctor_k4a, doctor_qt, doctor_sensors
from kinact.core.doctor import Check

from fake_sdks import FAKES, isolated_modules, reset_k4a_device  # noqa: F401 (isolated_modules: a fixture)


@pytest.fixture
def k4a_device(isolated_modules, monkeypatch):
    """The fake pyk4a and pykinect_azure on sys.path over one scripted device (attached, both libraries)."""
    return reset_k4a_device(monkeypatch)


@pytest.fixture
def kinect(isolated_modules, monkeypatch):
    """'Windows' with the fake PyKinect2 + comtypes and a scripted Kinect v2 (attached, SDK installed)."""
    from kinact.core.sources import kinect2, kinect2_compat

    kinect2_compat.revert_shims()
    monkeypatch.setattr(kinect2_compat, "_is_windows", lambda: True)
    monkeypatch.setattr(kinect2, "_is_windows", lambda: True)
    monkeypatch.setattr(doctor_sensors, "KINECT2_OPEN_TIMEOUT", 0.2)
    monkeypatch.setattr(doctor_sensors, "kinect20_dll", lambda: None)
    monkeypatch.syspath_prepend(str(FAKES))
    from pykinect2 import _fake

    yield _fake.SENSOR.reset()
    kinect2_compat.revert_shims()


def _hide(monkeypatch, *names):
    """As if not installed: `import name` raises ModuleNotFoundError."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _fake_module(monkeypatch, name, version):
    module = types.ModuleType(name)
    module.__version__ = version
    monkeypatch.setitem(sys.modules, name, module)


def _row(rows, name) -> Check:
    (row,) = [r for r in rows if r.name == name]
    return row


# ------------------------------------------------------------------------------------------------ the report
def test_a_crashing_check_becomes_a_fail_row():
    def boom():
        raise RuntimeError("kaputt")

    (row,) = doctor.guarded("x", boom)
    assert row.status == "fail" and "RuntimeError: kaputt" in row.detail and row.fix
    (row,) = doctor.guarded("y", lambda: sys.exit(1))  # pykinect_azure's VERIFY does this
    assert row.status == "fail" and "SystemExit" in row.detail
    with pytest.raises(ValueError):
        Check("z", "bad")


def test_table_fits_120_columns_and_shows_every_fix():
    rows = [Check("python", "ok", "3.11"), Check("PySide6", "warn", "6.12.0: leaks", doctor_qt.PYSIDE_PIN),
            Check("k4a: Sensor SDK", "fail", "libk4a.so.1.4: cannot open shared object file " * 3,
                  doctor_k4a._sdk_fix())]
    table = doctor.format_table(rows)
    assert max(len(ln) for ln in table.splitlines()) <= 120
    flat = " ".join(table.split())
    assert doctor_qt.PYSIDE_PIN in flat  # short: in its column, unbroken
    assert "fix: install the Azure Kinect Sensor SDK 1.4.x" in flat  # long: under its row
    assert doctor.exit_code(rows) == 1 and doctor.exit_code(rows[:2]) == 0


# ----------------------------------------------------------------------------------------- python packages
def test_numerical_stack_here_is_ok():
    for check in (doctor_env.check_python, doctor_env.check_numpy, doctor_env.check_torch, doctor_env.check_onnx,
                  doctor_env.check_onnxruntime):
        row = check()
        assert row.status == "ok", row
    assert "CPU" in _row([doctor_env.check_onnxruntime()], "onnxruntime").detail


def test_missing_packages_say_what_to_install(monkeypatch):
    _hide(monkeypatch, "torch", "onnxruntime", "onnx", "PySide6", "pyqtgraph")
    torch = doctor_env.check_torch()
    assert torch.status == "fail" and "pip install torch==2.13.0" in torch.fix
    assert doctor_env.check_gpu() is None  # the torch row already says it
    assert doctor_env.check_onnxruntime().status == "warn" and doctor_env.check_onnxruntime().fix == \
        'pip install "kinact[onnx]"'
    assert doctor_env.check_onnx().fix == 'pip install "onnx>=1.15"'
    assert (doctor_qt.check_pyside6().status, doctor_qt.check_pyside6().fix) == ("warn", 'pip install "kinact[gui]"')
    assert doctor_qt.check_pyqtgraph().fix == 'pip install "pyqtgraph>=0.13"'


@pytest.mark.parametrize("version,status", [("6.12.0", "warn"), ("6.13.1", "warn"), ("6.6.0", "warn"),
                                            ("6.11.3", "ok"), ("6.7.0", "ok")])
def test_pyside6_version(monkeypatch, version, status):
    _fake_module(monkeypatch, "PySide6", version)
    row = doctor_qt.check_pyside6()
    assert row.status == status and version in row.detail
    if status == "warn":
        assert row.fix == 'pip install "PySide6-Essentials>=6.7,<6.12"'
    if version.startswith("6.12"):
        assert "emit" in row.detail


def test_old_versions_warn(monkeypatch):
    _fake_module(monkeypatch, "onnxruntime", "1.15.1")
    sys.modules["onnxruntime"].get_available_providers = lambda: ["CPUExecutionProvider"]
    _fake_module(monkeypatch, "numpy", "1.23.5")
    assert doctor_env.check_onnxruntime().fix == 'pip install -U "onnxruntime>=1.16"'
    assert doctor_env.check_numpy().status == "warn"


# -------------------------------------------------------------------------------------------------------- gpu
def test_gpu_absent_cpu_build_and_driver(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(doctor_env, "_nvidia_driver", lambda: None)
    row = doctor_env.check_gpu()
    assert row.status == "skip" and "download.pytorch.org/whl/cu" in row.fix
    monkeypatch.setattr(doctor_env, "_nvidia_driver", lambda: "570.86")
    row = doctor_env.check_gpu()
    assert row.status == "warn" and "CPU-only" in row.detail and "--index-url" in row.fix
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    row = doctor_env.check_gpu()
    assert row.status == "warn" and "supports CUDA 12.8" in row.fix


def test_gpu_present_runs_a_matmul(monkeypatch):
    import torch

    real_matmul = doctor_env.gpu_matmul
    props = types.SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2 ** 30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    ran = []
    monkeypatch.setattr(doctor_env, "gpu_matmul", lambda t, device: ran.append(device) or 12.0)
    row = doctor_env.check_gpu()
    assert row.status == "ok" and "H100" in row.detail and "80.0 GiB" in row.detail and ran == ["cuda:0"]

    def broken(t, device):
        raise RuntimeError("CUDA error: no kernel image is available for execution on the device")

    monkeypatch.setattr(doctor_env, "gpu_matmul", broken)
    row = doctor_env.check_gpu()
    assert row.status == "fail" and "no kernel image" in row.detail and "--index-url" in row.fix
    assert real_matmul(torch, "cpu") >= 0  # the real one, on the CPU


# ------------------------------------------------------------------------------------------ display and Qt
def test_no_display_on_linux(monkeypatch):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(doctor_qt, "_linux", lambda: True)
    monkeypatch.setattr(doctor_qt, "missing_xcb_libraries", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    row = doctor_qt.check_display()
    assert row.status == "warn" and "QT_QPA_PLATFORM=offscreen" in row.fix
    assert "apt-get install xvfb libxcb-icccm4 libxcb-keysyms1" in row.fix
    row = doctor_qt.check_xcb_plugin()
    assert row.status == "warn" and row.fix == "apt-get install libxcb-icccm4 libxcb-keysyms1"
    monkeypatch.setenv("DISPLAY", ":0")  # now the window would need those libraries
    row = doctor_qt.check_xcb_plugin()
    assert row.status == "fail" and row.fix == "apt-get install libxcb-icccm4 libxcb-keysyms1"
    monkeypatch.setattr(doctor_qt, "missing_xcb_libraries", lambda: [])
    assert doctor_qt.check_xcb_plugin().status == "ok" and doctor_qt.check_display().status == "ok"


def test_qt_probe_starts_offscreen():
    probe = doctor_qt.start_qt_probe()  # conftest sets QT_QPA_PLATFORM=offscreen
    row = probe.result()
    assert row.status == "ok" and "'offscreen'" in row.detail


def test_qt_probe_survives_an_aborting_and_a_hanging_qt(monkeypatch):
    monkeypatch.setattr(doctor_qt, "QT_PROBE_CODE", "import sys; sys.stderr.write('qt.qpa.xcb: could not connect "
                                                    "to display\\n'); import os; os.abort()")
    row = doctor_qt.start_qt_probe().result()
    assert row.status == "fail" and "could not connect to display" in row.detail and "offscreen" in row.fix
    monkeypatch.setattr(doctor_qt, "QT_PROBE_CODE", "import time; time.sleep(30)")
    monkeypatch.setattr(doctor_qt, "QT_PROBE_TIMEOUT", 0.3)
    row = doctor_qt.start_qt_probe().result()
    assert row.status == "fail" and "did not start within" in row.detail and row.fix


# ---------------------------------------------------------------------------------------------------- kinect2
def test_kinect2_off_windows(monkeypatch):
    from kinact.core.sources import kinect2

    monkeypatch.setattr(kinect2, "_is_windows", lambda: False)
    (row,) = doctor_sensors.kinect2_checks(False, 0)
    assert row.status == "skip" and "Windows" in row.detail and "https://aka.ms/k4wv2sdk" in row.fix
    (row,) = doctor_sensors.kinect2_checks(True, 0)  # --backend kinect2
    assert row.status == "fail"


def test_kinect2_package_missing(kinect, monkeypatch):
    _hide(monkeypatch, "pykinect2")
    rows = doctor_sensors.kinect2_checks(False, 0)
    row = _row(rows, "kinect2: pykinect2")
    assert row.status == "skip" and 'pip install "kinact[kinect2]"' in row.fix
    assert _row(rows, "kinect2: SDK 2.0").status == "skip"
    assert not [r for r in rows if r.name == "kinect2: sensor"]
    assert _row(doctor_sensors.kinect2_checks(True, 0), "kinect2: pykinect2").status == "fail"


def test_kinect2_comtypes_versions(kinect, monkeypatch):
    rows = doctor_sensors.kinect2_checks(False, 0)
    row = _row(rows, "kinect2: comtypes")  # the fake is comtypes 1.4.1
    assert row.status == "warn" and "1.4.1" in row.detail and row.fix == 'pip install "comtypes>=1.1.14,<1.4"'
    monkeypatch.setattr(sys.modules["comtypes"], "__version__", "1.2.1")
    assert _row(doctor_sensors.kinect2_checks(False, 0), "kinect2: comtypes").status == "ok"
    monkeypatch.setattr(sys.modules["comtypes"], "__version__", "1.1.7")
    assert _row(doctor_sensors.kinect2_checks(False, 0), "kinect2: comtypes").status == "warn"


def test_kinect2_sdk_runtime_missing(kinect):
    kinect.sdk_installed = False  # the fake PyKinectV2 cannot load Kinect20.dll
    rows = doctor_sensors.kinect2_checks(False, 0)
    sdk = _row(rows, "kinect2: SDK 2.0")
    assert sdk.status == "skip" and "Kinect20.dll" in sdk.detail and "KinectSDK-v2.0_1409-Setup.exe" in sdk.fix
    assert "Kinect20.dll" in _row(rows, "kinect2: pykinect2").detail


def test_kinect2_no_sensor(kinect):
    kinect.attached = False  # IsAvailable stays False
    rows = doctor_sensors.kinect2_checks(False, 0.2)
    row = _row(rows, "kinect2: sensor")
    assert row.status == "warn" and "no Kinect v2 sensor answered" in row.detail and "USB 3.0" in row.fix
    assert not [r for r in rows if r.name == "kinect2: capture"]
    assert _row(doctor_sensors.kinect2_checks(True, 0.2), "kinect2: sensor").status == "fail"


def test_kinect2_attached_reports_patches_and_a_capture(kinect):
    rows = doctor_sensors.kinect2_checks(False, 0.2)
    pk = _row(rows, "kinect2: pykinect2")
    assert pk.status == "ok" and "tagSTATSTG" in pk.detail and "time.clock()" in pk.detail
    assert _row(rows, "kinect2: SDK 2.0").status == "ok" and _row(rows, "kinect2: sensor").status == "ok"
    cap = _row(rows, "kinect2: capture")
    assert cap.status == "ok", cap
    frames = int(cap.detail.split(" frames")[0])
    assert frames > 0 and "up to 2 bodies" in cap.detail
    assert kinect.runtimes_closed == kinect.runtimes_opened  # the sensor is released again


# -------------------------------------------------------------------------------------------------------- k4a
def test_k4a_nothing_installed(k4a_device, monkeypatch):
    _hide(monkeypatch, "pyk4a", "pykinect_azure")
    rows = doctor_k4a.k4a_checks(False, 0)
    assert [r.status for r in rows] == ["skip"] * 4
    assert _row(rows, "k4a: pyk4a").fix == 'pip install "kinact[k4a]"'
    assert _row(rows, "k4a: pykinect_azure").fix == "pip install pykinect_azure"
    assert "Body Tracking SDK 1.1" in _row(rows, "k4a: body tracking").fix
    rows = doctor_k4a.k4a_checks(True, 0)  # --backend k4a
    assert _row(rows, "k4a: Sensor SDK").status == "fail" and _row(rows, "k4a: pyk4a").status == "skip"


def test_k4a_native_library_missing(k4a_device):
    k4a_device.library = False  # the fake k4a_module raises ImportError like the real one; pykinect_azure exits
    rows = doctor_k4a.k4a_checks(False, 0)
    assert _row(rows, "k4a: pyk4a").status == "warn" and "Cannot import k4a_module" in _row(rows, "k4a: pyk4a").detail
    sdk = _row(rows, "k4a: Sensor SDK")
    assert sdk.status == "warn" and "Azure Kinect Sensor SDK 1.4" in sdk.fix and "Orbbec SDK K4A Wrapper" in sdk.fix
    assert not [r for r in rows if r.name == "k4a: devices"]
    assert _row(doctor_k4a.k4a_checks(True, 0), "k4a: Sensor SDK").status == "fail"


def test_k4a_native_module_raising_oserror(k4a_device, tmp_path, monkeypatch):
    package = tmp_path / "pyk4a"
    package.mkdir()
    (package / "__init__.py").write_text("from .module import k4a_module\n")
    (package / "module.py").write_text("raise OSError('libk4a.so.1.4: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _hide(monkeypatch, "pykinect_azure")
    rows = doctor_k4a.k4a_checks(False, 0)
    row = _row(rows, "k4a: pyk4a")
    assert row.status == "warn" and "OSError" in row.detail and "libk4a" in row.fix
    assert _row(rows, "k4a: Sensor SDK").status == "warn"


def test_k4a_body_tracker_missing_or_its_model(k4a_device, monkeypatch, tmp_path):
    k4a_device.bt_library = False
    rows = doctor_k4a.k4a_checks(False, 0)
    row = _row(rows, "k4a: body tracking")
    assert row.status == "warn" and "body tracking library" in row.detail and "libk4abt1.1" in row.fix
    assert _row(doctor_k4a.k4a_checks(True, 0), "k4a: body tracking").status == "fail"
    k4a_device.bt_library = True
    monkeypatch.setattr(doctor_k4a, "k4abt_dirs", lambda pk=None: [tmp_path])
    row = _row(doctor_k4a.k4a_checks(False, 0), "k4a: body tracking")
    assert row.status == "warn" and "dnn_model_2_0_op11.onnx" in row.detail and "Body Tracking SDK 1.1" in row.fix
    (tmp_path / "dnn_model_2_0_op11.onnx").write_bytes(b"onnx")
    (tmp_path / "libonnxruntime.so.1.10.0").write_bytes(b"elf")
    row = _row(doctor_k4a.k4a_checks(False, 0), "k4a: body tracking")
    assert row.status == "ok" and "libonnxruntime.so.1.10.0" in row.detail


@pytest.mark.parametrize("hidden", [(), ("pyk4a",)])
def test_k4a_no_device_mentions_orbbec(k4a_device, monkeypatch, hidden):
    _hide(monkeypatch, *hidden)
    k4a_device.device_count = 0
    rows = doctor_k4a.k4a_checks(False, 0.2)
    row = _row(rows, "k4a: devices")
    assert row.status == "warn" and "0 devices" in row.detail and "Orbbec" in row.fix and "K4A Wrapper" in row.fix
    assert not [r for r in rows if r.name == "k4a: capture"]
    assert _row(doctor_k4a.k4a_checks(True, 0.2), "k4a: devices").status == "fail"


@pytest.mark.parametrize("hidden,backend,bodies", [((), "pykinect_azure+k4abt", 2), (("pykinect_azure",), "pyk4a", 0)])
def test_k4a_device_attached_test_capture(k4a_device, monkeypatch, hidden, backend, bodies):
    _hide(monkeypatch, *hidden)
    rows = doctor_k4a.k4a_checks(False, 0.2)
    assert _row(rows, "k4a: devices").detail == "1 device attached"
    cap = _row(rows, "k4a: capture")
    assert cap.status == "ok" and cap.detail.startswith(backend) and f"up to {bodies} bodies" in cap.detail
    assert int(cap.detail.split(": ", 1)[1].split(" frames")[0]) > 0
    assert not k4a_device.opened and k4a_device.live_captures == 0  # released
    if bodies:  # the tracker ran, whatever the search for its model file found
        assert _row(rows, "k4a: body tracking").status == "ok"


def test_k4a_device_that_sends_nothing(k4a_device):
    k4a_device.stall = True
    cap = _row(doctor_k4a.k4a_checks(False, 0.2), "k4a: capture")
    assert cap.status == "warn" and "sends nothing" in cap.detail and "USB 3" in cap.fix


# ------------------------------------------------------------------------------------------- the whole doctor
@pytest.fixture
def no_qt_probe(monkeypatch):
    monkeypatch.setattr(doctor_qt, "start_qt_probe", lambda: None)


def _cli(monkeypatch, argv):
    from kinact.app import cli

    monkeypatch.setitem(cli.COMMANDS, "doctor", ("doctor", "check this machine's set-up"))
    return cli.main(argv)


def test_json_is_one_object_and_exit_code_follows_failures(k4a_device, no_qt_probe, monkeypatch, capsys):
    from kinact.core.sources import kinect2

    monkeypatch.setattr(kinect2, "_is_windows", lambda: False)
    assert _cli(monkeypatch, ["doctor", "--json", "--capture-seconds", "0.2"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    report = json.loads(out)
    assert report["exit_code"] == 0 and report["counts"]["fail"] == 0
    names = [c["name"] for c in report["checks"]]
    assert {"python", "torch", "kinect2", "k4a: capture", "sources", "demo recording"} <= set(names)
    assert all(c["fix"] for c in report["checks"] if c["status"] != "ok")
    assert _cli(monkeypatch, ["doctor", "--json", "--backend", "kinect2", "--capture-seconds", "0"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["required_backends"] == ["kinect2"] and report["checks"][names.index("kinect2")]["status"] == "fail"


def test_table_has_a_fix_for_every_non_ok_row(k4a_device, no_qt_probe, monkeypatch, capsys):
    k4a_device.device_count = 0
    checks = doctor.run_checks(0.2)
    table = doctor.format_table(checks)
    flat = " ".join(table.split())
    assert [c for c in checks if c.status != "ok"]
    for c in checks:
        assert c.name in table
        if c.status != "ok":
            assert c.fix and " ".join(c.fix.split()[:3]) in flat, c
    assert max(len(ln) for ln in table.splitlines()) <= 120
    assert _cli(monkeypatch, ["doctor", "--capture-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CHECK") and "nothing fails (exit code 0)" in out


def test_help_documents_exit_codes(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        _cli(monkeypatch, ["doctor", "--help"])
    out = capsys.readouterr().out
    assert "exit codes" in out and "1  at least one check fails" in out and "--backend" in out
    assert _cli(monkeypatch, ["doctor", "--capture-seconds", "-1"]) == 2


def test_a_crash_while_counting_devices_costs_one_row(k4a_device, monkeypatch):
    import pyk4a

    def broken():
        raise RuntimeError("libusb: LIBUSB_ERROR_ACCESS")

    monkeypatch.setattr(pyk4a, "connected_device_count", broken)
    rows = doctor_k4a.k4a_checks(False, 0.2)
    assert _row(rows, "k4a: pyk4a").status == "ok" and _row(rows, "k4a: Sensor SDK").status == "ok"
    row = _row(rows, "k4a: devices")
    assert row.status == "fail" and "LIBUSB_ERROR_ACCESS" in row.detail and row.fix
