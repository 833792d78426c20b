"""Depth camera intrinsics: enough to draw a skeleton on top of the depth image it came with.

Points are taken in kinact's canonical camera space (see `kinact.core.layouts`): y up, z away from the
sensor, and x growing to the *sensor's* left, so a person facing the sensor has their left side at smaller x.
The pixel row always follows -y (images count rows downwards): ``v = cy - fy * y / z``.

The column depends on how the sensor hands its images out. The Kinect v1 and v2 SDKs deliver *mirrored*
depth images (like a mirror: raise your right hand and it appears on the right of the picture), so a point
further to the sensor's left lands further right: ``u = cx + fx * x / z``. This is exactly the Kinect v1
SDK's own NuiTransformSkeletonToDepthImage (width/2 + x * 285.63 / z, height/2 - y * 285.63 / z at 320×240),
and what UTD-MHAD's depth files, recorded with that SDK, need. The Azure Kinect delivers unmirrored images
in an OpenCV camera frame (x right, y down); after its layout's axis flip into canonical space that means
``u = cx - fx * x / z``. `mirrored` records which of the two a camera does.

Lens distortion is ignored: the error is a few pixels at the image corners, invisible in an overlay, and
the projection is only used for drawing and for cropping depth around a person.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of a depth image of `width` × `height` pixels (focal lengths and centre in pixels)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    mirrored: bool = True  # True for Kinect SDK images, False for Azure Kinect (see the module docstring)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width), the numpy shape of a depth image from this camera."""
        return (int(self.height), int(self.width))

    def project(self, points_xyz: np.ndarray) -> np.ndarray:
        """Pixel coordinates (..., 2) as (u, v) of canonical camera-space points (..., 3).

        Only the ratios x/z and y/z matter, so metres or millimetres both work. Points at or behind the
        sensor (z <= 0) and NaN joints give NaN rather than a wild pixel, so callers can skip them.
        """
        p = np.asarray(points_xyz, dtype=np.float64)
        if p.shape[-1] != 3:
            raise ValueError(f"points must have 3 coordinates in the last axis, got shape {p.shape}")
        z = p[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(z > 0, 1.0 / z, np.nan)
        sign = 1.0 if self.mirrored else -1.0
        u = self.cx + sign * self.fx * p[..., 0] * inv
        v = self.cy - self.fy * p[..., 1] * inv
        return np.stack([u, v], axis=-1)

    def scaled(self, width: int, height: int) -> "Intrinsics":
        """The same camera at another resolution (e.g. a 640×480 Kinect v1 stream from the 320×240 values)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, int(width), int(height),
                          self.mirrored)


#: Kinect v1 depth at 320×240, as in UTD-MHAD (NUI_CAMERA_DEPTH_NOMINAL_FOCAL_LENGTH_IN_PIXELS = 285.63).
KINECT_V1_DEPTH = Intrinsics(285.63, 285.63, 160.0, 120.0, 320, 240, mirrored=True)
#: Kinect v2 depth at 512×424; typical factory values (each device differs by a few pixels).
KINECT_V2_DEPTH = Intrinsics(365.5, 365.5, 257.0, 206.0, 512, 424, mirrored=True)
#: Azure Kinect NFOV unbinned depth at 640×576; typical values, unmirrored images.
AZURE_NFOV_UNBINNED = Intrinsics(504.0, 504.0, 320.0, 288.0, 640, 576, mirrored=False)
