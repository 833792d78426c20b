"""Depth Motion Maps seen by virtual cameras turned about the person: more training views from one sensor.

A DMM (descriptors.dmm) shows motion from the sensor's own front, side and top. A CNN trained on a few hundred
clips learns those exact viewpoints; a person standing 20° off-axis looks new to it. Depth is 3-D, so the same
clip can be rendered from cameras turned about the vertical axis (Wang et al. 2015, "virtual cameras"): every
frame's foreground pixels are lifted to points with pinhole intrinsics, turned by `angle` about a vertical axis
through the body's middle, and drawn again orthographically: front (depth from the far plane, nearest point
wins), side (occupancy of rows × depth bins) and top (depth bins × columns). The motion of those maps is summed
exactly as in `dmm` (lagged differences, the noise floor, only changes that fill 3 neighbouring cells).

Angle 0 is the model's input live; other angles are extra training views (`[augment] depth_angles`). All angles,
0 included, are rendered the same orthographic way, so the training views and the live view differ only by
the turn. `angles` computes several views at once: the depth is lifted to points once.

Intrinsics default to a Kinect v1 depth image at 320×240 (UTD-MHAD): focal length 285 px, centre (160, 120);
only the turn's geometry depends on them, mildly.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from kinact.core.descriptors import VIEWS, _as_depth, _coherent, _depth_range, _finish, _lag, _pair


def dmm_rot(depth, size=(112, 112), angle: float = 0.0, angles=None, bins: int = 128, noise_mm: float = 30.0,
            lag: int = 3, focal: float = 285.0, centre=None) -> list[np.ndarray]:
    """[front, side, top] float32 images in 0..1 for each angle in `angles` (default: just `angle`), in order.

    Angles are degrees about the vertical axis; positive turns the person's left side towards the camera.
    """
    d = _as_depth(depth)
    size = _pair(size)
    angles = [float(angle)] if angles is None else [float(a) for a in angles]
    if not angles:
        raise ValueError("angles must name at least one angle")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    empty = [np.zeros(size, np.float32) for _ in VIEWS]
    fg = d > 0
    if len(d) < 2 or not fg.any():
        return [a.copy() for _ in angles for a in empty]
    near, far, step = _depth_range(d, fg)
    t, v, u = np.nonzero(fg & (d >= near) & (d <= far))
    z = d[t, v, u].astype(np.float32)
    cy, cx = ((d.shape[1] - 1) / 2, (d.shape[2] - 1) / 2) if centre is None else centre
    x = (u - cx).astype(np.float32) * z / focal
    y = (v - cy).astype(np.float32) * z / focal
    xc, zc = float(np.median(x)), float(np.median(z))
    pitch = zc / focal  # mm per pixel at the body: the grid keeps the sensor's resolution there
    lag = _lag(lag, len(d))
    out: list[np.ndarray] = []
    for a in angles:
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        xr = c * (x - xc) + s * (z - zc)
        zr = -s * (x - xc) + c * (z - zc)
        out += _render(t, y, xr, zr, len(d), pitch, bins, noise_mm, lag, step, size)
    return out


def _render(t, y, x, z, frames, pitch, bins, noise_mm, lag, step, size) -> list[np.ndarray]:
    """Points (frame t, y down, x right, z away; mm) → the three motion maps of one virtual camera."""
    row = np.floor((y - y.min()) / pitch).astype(np.int64)
    col = np.floor((x - x.min()) / pitch).astype(np.int64)
    lo, hi = np.percentile(z, [0.5, 99.5])
    hi = max(hi, lo + 1.0)
    keep = (z >= lo) & (z <= hi)
    t, row, col, z = t[keep], row[keep], col[keep], z[keep]
    h, w = int(row.max()) + 1, int(col.max()) + 1
    depth_bin = np.minimum(((z - lo) * (bins / (hi - lo))).astype(np.int64), bins - 1)

    # Front: nearest point per cell; writing far-to-near lets the nearest land last.
    order = np.argsort(-z, kind="stable")
    front = np.zeros((frames, h, w), np.float32)
    front[t[order], row[order], col[order]] = (hi - z[order]) + 1.0  # +1: a point on the far plane is not empty
    # A turned surface no longer lands on every cell (depth comes in ~2 cm steps, which the turn spreads
    # sideways): close the gaps with the nearest neighbour before differencing, as the sensor's own grid would.
    front = ndimage.maximum_filter(front, size=(1, 3, 3), mode="constant")
    front_change = np.abs(front[lag:] - front[:-lag])
    front_change *= _coherent(front_change > noise_mm)

    side = np.zeros((frames, h, bins), bool)
    side[t, row, depth_bin] = True
    top = np.zeros((frames, bins, w), bool)
    top[t, depth_bin, col] = True
    # Turned, a wall facing the camera becomes a diagonal of single cells in the top view; a 3×3 dilation
    # joins them, so the 3-cell coherence test below keeps real motion at every angle.
    grow = np.ones((1, 3, 3), bool)
    side = ndimage.binary_dilation(side, grow)
    top = ndimage.binary_dilation(top, grow)

    sigma_bins = 0.6 * step / ((hi - lo) / bins)
    maps = []
    for change, z_axis in ((front_change, None),
                           (_coherent(np.logical_xor(side[lag:], side[:-lag]), (1,)), 1),
                           (_coherent(np.logical_xor(top[lag:], top[:-lag]), (2,)), 0)):
        total = change.sum(0, dtype=np.float32)[None]
        if z_axis is not None and sigma_bins > 0.3:
            total = ndimage.gaussian_filter1d(total, sigma_bins, axis=z_axis + 1, mode="constant")
        maps.append(_finish(total, size, temporal_halves=False))
    return maps
