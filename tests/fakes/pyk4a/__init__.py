"""Test fake of pyk4a (github.com/etiennedub/pyk4a, 1.5): the same modules, classes, methods and enums for
opening a device and reading depth, backed by tests/fakes/k4a_fake_device.py instead of libk4a."""
from .calibration import Calibration, CalibrationType
from .capture import PyK4ACapture
from .config import (
    FPS,
    ColorControlCommand,
    ColorControlMode,
    ColorResolution,
    Config,
    DepthMode,
    ImageFormat,
    WiredSyncMode,
)
from .errors import K4AException, K4ATimeoutException
from .module import k4a_module
from .pyk4a import PyK4A


def connected_device_count() -> int:
    return k4a_module.device_get_installed_count()


__all__ = (
    "Calibration",
    "CalibrationType",
    "FPS",
    "ColorControlCommand",
    "ColorControlMode",
    "ImageFormat",
    "ColorResolution",
    "Config",
    "DepthMode",
    "WiredSyncMode",
    "K4AException",
    "K4ATimeoutException",
    "PyK4A",
    "PyK4ACapture",
    "connected_device_count",
)
