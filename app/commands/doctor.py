"""`kinact doctor`: check this machine's set-up (packages, GPU, Qt, sensors, assets) and say how to fix each problem.

The exit code is the verdict scripts need (0 nothing fails, 1 something fails), so an install script or CI can
run `kinact doctor --backend k4a` and stop early with the table in its log.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

EPILOG = """\
statuses: ok; warn (works, but worse than it could); skip (not set up, not needed unless you want it);
fail (cannot work). Every row that is not ok says how to fix it.

Sensor SDKs are optional: a missing one is skip/warn, unless you name that backend with --backend, which
makes its missing pieces (package, SDK, body tracker, device) failures.

exit codes:
  0  nothing fails (warnings and skips allowed)
  1  at least one check fails
  2  bad arguments
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("--json", action="store_true", help="print one JSON object (checks, counts, exit_code) instead "
                   "of the table")
    p.add_argument("--capture-seconds", type=float, default=2.0, metavar="S",
                   help="length of the test capture on each attached sensor (default 2; 0 skips it)")
    p.add_argument("--backend", action="append", choices=("kinect2", "k4a"), default=[],
                   help="a sensor you mean to use: its missing pieces fail instead of skip/warn (repeatable)")


@contextlib.contextmanager
def _stdout_to_stderr():
    """What the checks print (pykinect_azure's messages, native SDK logs on fd 1) goes to stderr, so stdout
    carries only the report: with --json, exactly one JSON object."""
    sys.stdout.flush()
    saved = None
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no real fd 1 (an embedding host): Python-level redirection still applies
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def run(args) -> int:
    from kinact.core.doctor import counts, exit_code, format_table, run_checks, summary_line
    from kinact.core.errors import KinactError

    if not 0 <= args.capture_seconds <= 60:
        raise KinactError(f"--capture-seconds must be between 0 and 60, got {args.capture_seconds:g}")
    with _stdout_to_stderr():
        checks = run_checks(args.capture_seconds, require=tuple(args.backend))
    code = exit_code(checks)
    if args.json:
        from kinact.app.commands.common import print_json

        print_json({"exit_code": code, "counts": counts(checks), "required_backends": list(args.backend),
                    "checks": [c.to_dict() for c in checks]})
    else:
        print(format_table(checks))
        print(summary_line(checks))
    return code
