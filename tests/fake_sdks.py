"""Shared set-up for the tests that import the fake sensor SDKs in tests/fakes (sources, doctor).

One place for which top-level names the fakes own and how they are put on and taken off sys.modules, so a
new fake package cannot be purged by one test module and leak out of another.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

FAKES = Path(__file__).parent / "fakes"
FAKE_PACKAGES = ("pykinect2", "comtypes", "pyk4a", "pykinect_azure", "k4a_fake_device")


def purge_fakes() -> dict:
    """Drop the fakes' (or the real packages') modules so the next import is fresh; return what was there."""
    dropped = {}
    for name in list(sys.modules):
        if name.split(".")[0] in FAKE_PACKAGES:
            dropped[name] = sys.modules.pop(name)
    return dropped


@pytest.fixture
def isolated_modules():
    """Whatever was imported under those names before (a real pyk4a, say) comes back afterwards."""
    before = purge_fakes()
    yield
    purge_fakes()
    sys.modules.update(before)


def reset_k4a_device(monkeypatch):
    """The fake pyk4a and pykinect_azure on sys.path over their one scripted device, reset and returned.

    Needs `isolated_modules` active so the imports are fresh and nothing is left behind.
    """
    monkeypatch.syspath_prepend(str(FAKES))
    for var in ("KINACT_K4A_LIBRARY", "KINACT_K4ABT_LIBRARY"):
        monkeypatch.delenv(var, raising=False)
    import k4a_fake_device

    return k4a_fake_device.DEVICE.reset()
