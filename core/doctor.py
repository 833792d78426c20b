"""`kinact doctor`: every way this machine can fail to run kinact, checked in a few seconds, each with its fix.

Setting up a depth-sensor app means getting a dozen independent things right (Python packages, a GPU, a Qt
platform plugin, two vendor SDKs with their own native libraries, a device on a USB 3 port), and when one is
wrong the symptom rarely names the cause. The doctor checks them one by one and says, for every row that is
not "ok", the exact command or download that fixes it.

    checks = run_checks(capture_seconds=2.0, require=("k4a",))
    print(format_table(checks))

Rules every check follows:

* status is "ok", "warn" (works, but worse than it could), "fail" (something the user asked for cannot work)
  or "skip" (not set up, and not needed unless wanted); every non-ok row carries a specific `fix`;
* a check never takes the doctor down: an exception inside one (SystemExit from pykinect_azure included)
  becomes a "fail" row with the exception text;
* a sensor SDK that is simply not installed is "skip"/"warn", because both sensors are optional extras,
  unless the user named that backend in `require` (`kinact doctor --backend k4a`): then it is "fail";
* the whole run stays under ~5 s without devices: the Qt start-up probe runs in a subprocess in parallel
  with the other checks, and the only waits are for a device that is there (test capture) or may be.

The checks live in `doctor_env` (Python, numerical stack, GPU, assets), `doctor_qt` (PySide6, display, Qt
platform plugin), `doctor_sensors` (Kinect v2, the shared test capture) and `doctor_k4a` (Azure Kinect /
Orbbec Femto); this module runs them and formats the result.
"""
from __future__ import annotations

import textwrap
import traceback
from dataclasses import asdict, dataclass

STATUSES = ("ok", "warn", "fail", "skip")
SENSOR_BACKENDS = ("kinect2", "k4a")
CRASH_FIX = "a bug in kinact doctor or a broken install: reinstall kinact (pip install -e \".[gui,onnx]\") " \
            "and report the output of `kinact doctor --json` if it persists"


@dataclass
class Check:
    """One row of the doctor's report."""

    name: str
    status: str  # one of STATUSES
    detail: str = ""
    fix: str = ""  # the exact command or download that makes this row "ok"; empty only when it is

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"check status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def guarded(name: str, fn, *args, **kwargs) -> list[Check]:
    """Run one check function (returning a Check, a list of them or None) so that nothing escapes it."""
    try:
        out = fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit from pykinect_azure's VERIFY included
        where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        at = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
        return [Check(name, "fail", f"the check crashed: {type(exc).__name__}: {exc}{at}", CRASH_FIX)]
    if out is None:
        return []
    return [out] if isinstance(out, Check) else list(out)


def run_checks(capture_seconds: float = 2.0, *, require=()) -> list[Check]:
    """All checks, in report order. `capture_seconds`: length of the test capture on an attached sensor (0: none).
    `require`: sensor backends the user wants ("kinect2", "k4a"); their missing pieces are failures."""
    from kinact.core import doctor_env as env
    from kinact.core import doctor_k4a
    from kinact.core import doctor_qt as qt_checks
    from kinact.core import doctor_sensors as sensors

    require = set(require or ())
    unknown = require - set(SENSOR_BACKENDS)
    if unknown:
        raise ValueError(f"unknown sensor backend(s) {sorted(unknown)}; choose from {SENSOR_BACKENDS}")
    started = guarded("Qt platform", lambda: [qt_checks.start_qt_probe()])  # first: it runs in parallel
    probe = started[0] if started and not isinstance(started[0], Check) else None
    try:
        first: list[Check] = []
        for name, fn in (("python", env.check_python), ("kinact", env.check_kinact), ("numpy", env.check_numpy),
                         ("torch", env.check_torch), ("gpu", env.check_gpu), ("onnxruntime", env.check_onnxruntime),
                         ("onnx", env.check_onnx), ("PySide6", qt_checks.check_pyside6),
                         ("pyqtgraph", qt_checks.check_pyqtgraph), ("display", qt_checks.check_display),
                         ("Qt xcb plugin", qt_checks.check_xcb_plugin)):
            first += guarded(name, fn)
        devices: list[Check] = []
        devices += guarded("kinect2", sensors.kinect2_checks, "kinect2" in require, capture_seconds)
        devices += guarded("k4a", doctor_k4a.k4a_checks, "k4a" in require, capture_seconds)
        devices += guarded("sources", sensors.check_sources)
        qt = guarded("Qt platform", probe.result) if probe is not None else \
            [c for c in started if isinstance(c, Check)]  # no PySide6 (its row says so), or the start crashed
        last: list[Check] = []
        for name, fn in (("demo recording", env.check_demo), ("shipped model", env.check_model)):
            last += guarded(name, fn)
    finally:  # Ctrl-C: leave no Qt child behind
        if probe is not None and probe.proc.poll() is None:
            probe.proc.kill()
            probe.proc.wait()
    return first + qt + devices + last


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed (warnings and skips allowed), 1 when something did."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def counts(checks: list[Check]) -> dict[str, int]:
    return {s: sum(c.status == s for c in checks) for s in STATUSES}


def summary_line(checks: list[Check]) -> str:
    n = counts(checks)
    verdict = "something fails (exit code 1)" if exit_code(checks) else "nothing fails (exit code 0)"
    return f"{n['ok']} ok, {n['warn']} warn, {n['fail']} fail, {n['skip']} skip: {verdict}"


_SHOWN = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def _wrap(text: str, width: int) -> list[str]:
    # commands must stay copy-pasteable: never break at hyphens ("--index-url"), only at spaces if possible
    return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=True) or [""]


def format_table(checks: list[Check], width: int = 120) -> str:
    """One table, name | status | detail | fix, at most `width` columns.

    Detail and fix wrap inside their columns; a fix longer than three lines of its column goes under the row
    instead ("fix: ..." across the detail and fix columns), so a long pip or apt command stays readable.
    """
    name_w = min(max([len(c.name) for c in checks] + [5]), 24)
    status_w = 6
    rest = max(width - name_w - status_w - 6, 40)
    detail_w = rest * 11 // 20
    fix_w = rest - detail_w
    wide_w = rest + 2 - len("fix: ")

    def line(name="", status="", detail="", fix="") -> str:
        return f"{name:<{name_w}}  {status:<{status_w}}  {detail:<{detail_w}}  {fix}".rstrip()

    out = [line("CHECK", "STATUS", "DETAIL", "FIX"), "-" * min(width, name_w + status_w + rest + 6)]
    for c in checks:
        names = _wrap(c.name, name_w)
        details = _wrap(c.detail or "-", detail_w)
        fix_lines = _wrap(c.fix, fix_w) if c.fix else [""]
        under = len(fix_lines) > 3
        if under:
            fix_lines = [""]
        for i in range(max(len(names), len(details), len(fix_lines))):
            out.append(line(names[i] if i < len(names) else "", _SHOWN[c.status] if i == 0 else "",
                            details[i] if i < len(details) else "", fix_lines[i] if i < len(fix_lines) else ""))
        if under:
            pad = " " * (name_w + status_w + 4)
            for i, text in enumerate(_wrap(c.fix, wide_w)):
                out.append(pad + ("fix: " if i == 0 else "     ") + text)
    return "\n".join(out)
