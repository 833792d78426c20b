"""The K4A C API (Azure Kinect Sensor SDK 1.4) as the k4a source and both of its backends see it.

Kept apart so that `kinact.core.sources.k4a` (which picks a backend) and the backends themselves
(`k4a_bodytracking`, `k4a_depth`) share one copy of the SDK's enum values and install hints without
importing each other. `kinact.core.sources.k4a` re-exports every name here.
"""
from __future__ import annotations

import time

#: Depth modes by name: (k4a_depth_mode_t value, width, height).
DEPTH_MODES = {"NFOV_2X2BINNED": (1, 320, 288), "NFOV_UNBINNED": (2, 640, 576),
               "WFOV_2X2BINNED": (3, 512, 512), "WFOV_UNBINNED": (4, 1024, 1024)}
FPS_VALUES = {5: 0, 15: 1, 30: 2}  # k4a_fps_t

PIP_INSTALL = 'pip install "kinact[k4a]"'
SENSOR_SDK = ("the Azure Kinect Sensor SDK 1.4.x (Ubuntu: libk4a1.4; Windows: Azure Kinect SDK v1.4.1) or, "
              "for Orbbec Femto Bolt/Mega, the Orbbec SDK K4A Wrapper")
BODY_SDK = ("the Azure Kinect Body Tracking SDK 1.1.x (Ubuntu: libk4abt1.1; Windows: Azure Kinect Body "
            "Tracking SDK 1.1.2) and pip install pykinect_azure")
NO_DEVICE = "no Azure Kinect / Femto device attached (check the USB 3 cable and the power supply)"


def remaining_ms(deadline: float) -> int:
    """What is left until `deadline` (time.monotonic) as the C API's millisecond timeout; never negative."""
    return max(0, int(round((deadline - time.monotonic()) * 1000)))
