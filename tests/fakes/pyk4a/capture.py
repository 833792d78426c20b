from typing import Optional

import numpy as np

from .calibration import Calibration
from .config import ImageFormat
from .module import k4a_module


class PyK4ACapture:
    def __init__(
        self, calibration: Calibration, capture_handle: object, color_format: ImageFormat, thread_safe: bool = True
    ):
        self._calibration = calibration
        self._capture_handle = capture_handle
        self.thread_safe = thread_safe
        self._color_format = color_format
        self._color: Optional[np.ndarray] = None
        self._color_timestamp_usec: int = 0
        self._color_system_timestamp_nsec: int = 0
        self._depth: Optional[np.ndarray] = None
        self._depth_timestamp_usec: int = 0
        self._depth_system_timestamp_nsec: int = 0

    @property
    def color(self) -> Optional[np.ndarray]:
        if self._color is None:
            (self._color, self._color_timestamp_usec, self._color_system_timestamp_nsec) = \
                k4a_module.capture_get_color_image(self._capture_handle, self.thread_safe)
        return self._color

    @property
    def depth(self) -> Optional[np.ndarray]:
        if self._depth is None:
            (self._depth, self._depth_timestamp_usec, self._depth_system_timestamp_nsec) = \
                k4a_module.capture_get_depth_image(self._capture_handle, self.thread_safe)
        return self._depth

    @property
    def depth_timestamp_usec(self) -> int:
        """Device timestamp for depth image. Not equal host machine timestamp!"""
        if self._depth is None:
            self.depth
        return self._depth_timestamp_usec

    @property
    def depth_system_timestamp_nsec(self) -> int:
        if self._depth is None:
            self.depth
        return self._depth_system_timestamp_nsec
