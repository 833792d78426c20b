"""The pyk4a backend of the k4a source: depth only, because pyk4a has no body tracking.

`kinact.core.sources.k4a.K4ASource` uses it when the Body Tracking SDK is missing or its tracker will not
start (with `notice` saying why and what to install), or when body tracking is switched off.

What pyk4a gives: ``PyK4A(config=Config(...), device_id=n).start()``, ``get_capture(timeout=ms)`` →
``.depth`` (H×W uint16 mm) and ``.depth_timestamp_usec``; ``K4ATimeoutException`` / ``K4AException``.
pyk4a finds k4a.dll through ``K4A_DLL_DIR`` on Windows and ``LD_LIBRARY_PATH`` on Linux.
"""
from __future__ import annotations

import numpy as np

from kinact.core.sources.base import SourceLost
from kinact.core.sources.k4a_sdk import DEPTH_MODES, SENSOR_SDK, remaining_ms


def import_pyk4a():
    """(pyk4a module or None, why not)."""
    try:
        import pyk4a
    except ModuleNotFoundError as exc:
        if exc.name == "pyk4a":
            return None, "pyk4a is not installed"
        return None, f"pyk4a cannot be imported ({exc})"
    except ImportError as exc:  # pyk4a's k4a_module could not load libk4a / k4a.dll
        return None, f"pyk4a cannot load the K4A library ({exc}); install {SENSOR_SDK}"
    except Exception as exc:  # noqa: BLE001 - e.g. OSError from a broken native install
        return None, f"pyk4a fails to import ({type(exc).__name__}: {exc})"
    return pyk4a, None


class PyK4ADepth:
    """One Azure Kinect / Femto opened through pyk4a, depth camera only.

    `open` returns the depth intrinsics (fx, fy, cx, cy), zeros when unknown; `read` returns
    (device timestamp in µs, bodies, depth) or None on a timeout, and raises SourceLost (with the device
    still to be closed by the caller) when the device stops delivering.
    """

    def __init__(self, pyk4a, device_id: int, depth_mode: str, fps: int):
        self.pyk4a = pyk4a
        self.device_id = device_id
        self.depth_mode = depth_mode
        self.fps = int(fps)
        self.device = None

    def open(self) -> tuple[float, float, float, float]:
        pyk4a = self.pyk4a
        mode = pyk4a.DepthMode[self.depth_mode]
        config = pyk4a.Config(color_resolution=pyk4a.ColorResolution.OFF, depth_mode=mode,
                              camera_fps=pyk4a.FPS[f"FPS_{self.fps}"], synchronized_images_only=False)
        device = pyk4a.PyK4A(config=config, device_id=self.device_id)
        try:
            device.start()
        except pyk4a.K4AException as exc:
            self._release(device)
            raise SourceLost(f"Azure Kinect / Femto #{self.device_id} could not be opened ({exc or 'K4A error'}): "
                             "is it attached, powered and not in use by another program?") from None
        self.device = device
        fx = fy = cx = cy = 0.0
        try:
            m = device.calibration.get_camera_matrix(pyk4a.CalibrationType.DEPTH)
            fx, fy, cx, cy = m[0][0], m[1][1], m[0][2], m[1][2]
        except Exception:  # noqa: BLE001 - fall back to the raw calibration JSON, as the MKV reader does
            try:
                from kinact.core.datasets.azure_mkv import depth_intrinsics

                _, w, h = DEPTH_MODES[self.depth_mode]
                intr = depth_intrinsics(device.calibration_raw, w, h) or {}
                fx, fy, cx, cy = (intr.get(k, 0.0) for k in ("fx", "fy", "cx", "cy"))
            except Exception:  # noqa: BLE001
                pass
        return fx, fy, cx, cy

    def close(self) -> None:
        device, self.device = self.device, None
        if device is not None:
            self._release(device)

    @staticmethod
    def _release(device) -> None:
        try:
            device.stop()
        except Exception:  # noqa: BLE001 - stopping an unplugged device can fail half-way
            pass
        if device.opened:
            try:
                device.close()
            except Exception:  # noqa: BLE001
                pass
        device.is_running = False

    def device_count(self) -> int:
        return int(self.pyk4a.connected_device_count())

    def read(self, deadline: float):
        pyk4a = self.pyk4a
        try:
            capture = self.device.get_capture(timeout=remaining_ms(deadline))
        except pyk4a.K4ATimeoutException:
            return None
        except pyk4a.K4AException as exc:
            raise SourceLost(f"Azure Kinect / Femto #{self.device_id} stopped delivering "
                             f"({exc or 'K4A capture failed'}): unplugged or a USB error")
        try:
            depth = capture.depth
            stamp = capture.depth_timestamp_usec
        except Exception as exc:  # noqa: BLE001
            raise SourceLost(f"reading an Azure Kinect capture failed ({type(exc).__name__}: {exc})")
        if depth is None:
            return None
        # a copy: pyk4a's array is a view of the SDK's buffer, which would stay allocated while it lives
        return stamp, [], np.array(depth, dtype=np.uint16, copy=True)
