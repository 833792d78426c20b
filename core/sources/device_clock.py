"""Sensor timestamps on the host's clock, shared by the live backends (Kinect v2 and Azure Kinect).

Device clocks restart on reconnect and drift from the host; the pipeline needs frame times that keep the
device's exact spacing yet never run backwards or ahead of "now", so one small mapper serves every sensor.
"""
from __future__ import annotations

import time


class DeviceClock:
    """Device timestamps (s) mapped onto the host's monotonic clock: device-exact spacing, never backwards.

    Re-anchored whenever the device clock restarts (reconnect) or would run ahead of the host.
    """

    def __init__(self):
        self.offset: float | None = None
        self.last_device: float | None = None
        self.last_t = float("-inf")

    def restart(self) -> None:
        self.offset, self.last_device = None, None

    def __call__(self, device_s: float | None) -> float:
        now = time.monotonic()
        if device_s is None:
            t = now
        else:
            if self.offset is None or (self.last_device is not None and device_s < self.last_device):
                self.offset = now - device_s
            self.last_device = device_s
            t = device_s + self.offset
            if t > now:
                self.offset, t = now - device_s, now
        if t <= self.last_t:
            t = self.last_t + 1e-6
        self.last_t = t
        return t
