"""Depth motion descriptors: a whole (T, H, W) depth sequence condensed into a few images a 2-D CNN can read.

Two families, both numpy/scipy only and vectorised over the whole sequence (a UTD-MHAD clip takes tens of
milliseconds, so they can be computed per sample at load time instead of being stored):

* `dmi` - Depth Motion Image (Kamel et al. 2018's input stream): where in the image, and how much, depth changed.
* `dmm` - Depth Motion Maps (Yang et al. 2012, Chen et al. 2013): the same motion seen from the front, the
  side and the top, so that motion towards the camera is as visible as motion across it.

Two facts about real depth shape the choices below. Kinect-class sensors quantise depth in steps of about
2 cm at 3 m, so a still body flickers by one step every few frames; summed over 60 frames that noise would
outshine a waving arm unless differences below `noise_mm` are dropped. And background pixels are 0, so a limb
entering a pixel changes its depth by ~3 m while a limb moving *within* the body's silhouette changes it by
centimetres; the DMI caps each change at `cap_mm` and the DMM front view measures depth from the body's
back plane, so both kinds of motion land on a comparable scale. Finally, silhouette edges flicker between
body and background in 1-2 pixel bands on every frame; only changes that fill a 3-pixel neighbourhood count
(`_coherent`), or the body's outline would be the brightest thing in every image. So that a slow limb (1-2
pixels a frame) still clears that bar, frames `lag` apart (default 3, 0.1 s at 30 fps) are compared rather
than neighbours. What is left is mostly real motion, plus some flicker where the feet meet the floor,
which UTD-MHAD's background removal leaves in.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

VIEWS = ("front", "side", "top")


def _as_depth(depth) -> np.ndarray:
    """(T, H, W) float32 millimetres with missing (NaN) as 0; a clear ValueError for anything else."""
    arr = np.asarray(depth)
    if arr.ndim != 3 or arr.shape[1] < 2 or arr.shape[2] < 2 or arr.shape[0] < 1:
        raise ValueError(f"depth must be a (T, H, W) sequence of images, got an array of shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"depth must be numeric (millimetres), got dtype {arr.dtype}")
    arr = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    if arr.min(initial=0.0) < 0:
        raise ValueError("depth has negative values; expected millimetres with 0 = no reading")
    return arr


def _pair(size) -> tuple[int, int]:
    h, w = (size, size) if np.isscalar(size) else size
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"output size must be positive, got {size}")
    return int(h), int(w)


def _bbox(mask: np.ndarray, margin: float = 0.05) -> tuple[slice, slice] | None:
    """Bounding box of the significant part of a mask, with a small margin; None if the mask is empty.

    Stray specks (floor pixels the background removal missed, flying pixels at silhouettes) would stretch a
    plain bounding box, so only connected regions at least 5% the size of the largest one count.
    """
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= 0.05 * sizes.max()) + 1
    rows, cols = np.nonzero(np.isin(labels, keep))
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    pad = max(2, int(round(margin * max(r1 - r0, c1 - c0))))
    return (slice(max(0, r0 - pad), min(mask.shape[0], r1 + pad)),
            slice(max(0, c0 - pad), min(mask.shape[1], c1 + pad)))


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize to exactly `size` (leading axes kept), blurring first when shrinking to avoid aliasing."""
    h, w = img.shape[-2:]
    oh, ow = size
    sigma = [0.0] * (img.ndim - 2) + [max(0.0, (h / oh - 1) / 2), max(0.0, (w / ow - 1) / 2)]
    if any(s > 0 for s in sigma):
        img = ndimage.gaussian_filter(img, sigma, mode="nearest")
    rows = np.linspace(0, h - 1, oh) if oh > 1 else np.array([(h - 1) / 2])
    cols = np.linspace(0, w - 1, ow) if ow > 1 else np.array([(w - 1) / 2])
    r0 = np.clip(np.floor(rows).astype(int), 0, max(h - 2, 0))
    c0 = np.clip(np.floor(cols).astype(int), 0, max(w - 2, 0))
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = img[..., r0, :][..., c0] * (1 - fc) + img[..., r0, :][..., c1] * fc
    bottom = img[..., r1, :][..., c0] * (1 - fc) + img[..., r1, :][..., c1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


def _coherent(moving: np.ndarray, axes=(1, 2)) -> np.ndarray:
    """Keep only changes that fill at least 3 neighbouring pixels along each of `axes` (a binary opening).

    Silhouette edges flicker between body and background in 1-2 pixel bands on every frame; left in, they
    outline the whole body brighter than any real motion. A moving limb changes whole patches at once.
    Done with shifted boolean ANDs/ORs because scipy's n-d opening is ~5× slower on (T, 240, 320).
    """
    out = moving
    for op in (_erode, _dilate):
        for axis in axes:
            out = op(out, axis)
    return out


def _erode(a: np.ndarray, axis: int) -> np.ndarray:
    a = np.moveaxis(a, axis, 0)
    out = np.zeros_like(a)
    out[1:-1] = a[:-2] & a[1:-1] & a[2:]
    return np.moveaxis(out, 0, axis)


def _dilate(a: np.ndarray, axis: int) -> np.ndarray:
    a = np.moveaxis(a, axis, 0)
    out = a.copy()
    out[1:] |= a[:-1]
    out[:-1] |= a[1:]
    return np.moveaxis(out, 0, axis)


def _scale(img: np.ndarray) -> float:
    """The value mapped to full brightness: the 99th percentile of the non-zero pixels.

    Not the maximum: silhouette-edge pixels that flicker between body and background every frame would
    otherwise set the scale and leave the actual motion dark.
    """
    nz = img[img > 0]
    return float(np.percentile(nz, 99.0)) if nz.size else 0.0


def dmi(depth, size=(224, 224), noise_mm: float = 30.0, cap_mm: float = 100.0, lag: int = 3) -> np.ndarray:
    """Depth Motion Image, (H', W') uint8.

    Definition used here: DMI(i, j) = sum over t of min(|D_t(i,j) - D_{t-lag}(i,j)|, cap_mm), counting
    only changes larger than noise_mm (one or two depth quantisation steps), only where pixel (i, j) is
    foreground (non-zero) in at least one of the two frames, and only changes that cover a 3×3 patch of that
    frame pair's change mask (a binary opening, which drops silhouette-edge flicker). The image is cropped
    to the body's bounding box (pixels that are foreground in any frame, with a 5% margin), resized to
    `size` (rows, cols) and scaled so the 99th percentile of its non-zero values is 255. An empty,
    motionless or single-frame sequence gives zeros.
    """
    d = _as_depth(depth)
    size = _pair(size)
    if len(d) < 2:
        return np.zeros(size, np.uint8)
    lag = _lag(lag, len(d))
    change = np.abs(d[lag:] - d[:-lag])
    moving = _coherent(change > noise_mm)  # background-to-background pairs are 0, so only foreground counts
    acc = np.minimum(change, cap_mm, out=change).sum(0, where=moving)
    box = _bbox((d > 0).any(0))
    if box is None:
        return np.zeros(size, np.uint8)
    img = _resize(acc[box], size)
    scale = _scale(img)
    if scale <= 0:
        return np.zeros(size, np.uint8)
    return np.clip(np.rint(img * (255.0 / scale)), 0, 255).astype(np.uint8)


def _lag(lag: int, frames: int) -> int:
    """Frames between the two depth images compared; shortened for clips shorter than the lag."""
    if int(lag) < 1:
        raise ValueError(f"lag must be at least 1 frame, got {lag}")
    return min(int(lag), frames - 1)


def _depth_range(d: np.ndarray, fg: np.ndarray) -> tuple[float, float, float]:
    """(near, far, quantisation step) of the body in mm, from the 0.5-99.5th percentiles of foreground depth.

    The step is the (90th-percentile) gap between distinct depth values in that range: ~25 mm for Kinect v1 at 3 m,
    ~1 mm for sensors that report millimetres. It sets how much the side and top views are smoothed along z.
    """
    values = np.rint(d[fg]).astype(np.int64)
    counts = np.bincount(values)
    cdf = np.cumsum(counts) / values.size
    near = float(np.searchsorted(cdf, 0.005))
    far = float(np.searchsorted(cdf, 0.995))
    levels = np.flatnonzero(counts[int(near):int(far) + 1])
    step = float(np.percentile(np.diff(levels), 90)) if len(levels) > 1 else 1.0  # steps grow with distance
    if far <= near:
        far = near + 1.0
    return near, far, step


def dmm(depth, size=(112, 112), bins: int = 128, noise_mm: float = 30.0, lag: int = 3,
        temporal_halves: bool = False) -> dict[str, np.ndarray]:
    """Depth Motion Maps {"front", "side", "top"}: float32 images in 0..1.

    Each frame is projected three ways. Front (rows = image y, cols = image x): the pixel's depth measured
    from the body's far plane, 0 for background. Side (rows = image y, cols = depth bin, near to far) and top
    (rows = depth bin, cols = image x): binary occupancy of `bins` depth bins spanning the body's depth range
    (0.5-99.5th percentile of foreground depth; pixels outside it are dropped as stray). Each map is the sum
    over t of |map_t - map_{t-lag}|, keeping only changes that span 3 neighbouring pixels (3×3 in front; 3 along
    image y in side and along image x in top) and, for front, exceed noise_mm; side and top are smoothed along the
    depth axis by about one sensor quantisation step so quantisation does not print stripes. Each map is
    cropped to the bounding box of its non-zero part, resized to `size` (one (rows, cols) for all views, or a
    dict per view) and scaled so the 99th percentile of its non-zero values is 1.

    temporal_halves=True returns (3, rows, cols) per view: the whole sequence, its first half and its second
    half, on the whole's crop and scale, so a CNN can tell a motion from its reverse (sit down vs stand up).
    """
    d = _as_depth(depth)
    sizes = {v: _pair(size[v] if isinstance(size, dict) else size) for v in VIEWS}
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    channels = 3 if temporal_halves else 1
    fg = d > 0
    if len(d) < 2 or not fg.any():
        return {v: np.zeros((channels, *sizes[v]) if temporal_halves else sizes[v], np.float32) for v in VIEWS}
    near, far, step = _depth_range(d, fg)
    valid = fg & (d >= near) & (d <= far)

    front = np.where(valid, far - d, 0.0).astype(np.float32)
    lag = _lag(lag, len(d))
    front_change = np.abs(front[lag:] - front[:-lag])
    front_change *= _coherent(front_change > noise_mm)

    t, y, x = np.nonzero(valid)
    b = np.minimum(((d[t, y, x] - near) * (bins / (far - near))).astype(np.int64), bins - 1)
    side = np.zeros((len(d), d.shape[1], bins), bool)
    side[t, y, b] = True
    top = np.zeros((len(d), bins, d.shape[2]), bool)
    top[t, b, x] = True

    half = max(1, (len(d) - lag) // 2)
    sigma_bins = 0.6 * step / ((far - near) / bins)
    out = {}
    for view, change, z_axis in (("front", front_change, None),
                                 ("side", _coherent(np.logical_xor(side[lag:], side[:-lag]), (1,)), 1),
                                 ("top", _coherent(np.logical_xor(top[lag:], top[:-lag]), (2,)), 0)):
        first = change[:half].sum(0, dtype=np.float32)
        second = change[half:].sum(0, dtype=np.float32)
        maps = np.stack([first + second, first, second])
        if z_axis is not None and sigma_bins > 0.3:
            maps = ndimage.gaussian_filter1d(maps, sigma_bins, axis=z_axis + 1, mode="constant")
        out[view] = _finish(maps, sizes[view], temporal_halves)
    return out


def _finish(maps: np.ndarray, size: tuple[int, int], temporal_halves: bool) -> np.ndarray:
    """Crop (3, h, w) [whole, first, second] to the whole's motion, resize, scale by the whole's percentile."""
    box = _bbox(maps[0] > 0)
    if box is None:
        res = np.zeros((3, *size), np.float32)
    else:
        res = _resize(maps[:, box[0], box[1]], size)
        scale = _scale(res[0])
        res = np.clip(res / scale, 0.0, 1.0) if scale > 0 else np.zeros((3, *size), np.float32)
    return res if temporal_halves else res[0]
