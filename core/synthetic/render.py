"""Depth images of synthetic people: capsule-and-ellipsoid bodies ray-cast per pixel, plus Kinect-like defects.

Depth models (DMM/DMI descriptors, depth CNNs) learn from silhouettes, depth gradients and the sensors'
artefacts, so a clean z-buffer would teach them a world that no Kinect produces. The defects modelled here are
the ones visible in UTD-MHAD and NTU depth: Kinect v1's disparity quantisation (steps of ~2.6 cm at 3 m) and its
IR shadow (a band of missing pixels beside every foreground edge, on the image's left), dropped pixels along
silhouettes, scattered dropouts, Kinect v2's millimetre noise and "flying pixels" half-way between a person
and the wall, and the working range outside which a sensor reports 0.

Speed comes from never touching pixels a primitive cannot cover: each capsule or ellipsoid is intersected only
with the rays inside its projected bounding box, with precomputed unit rays, in float32; the static room
(floor, back wall, a chair) is ray-cast once per camera. A capsule hit is found at the ray's closest approach
to the capsule axis, which is exact for spheres and for limbs seen side-on and within millimetres otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinact.core.synthetic.skeleton import J, BodyParams

_REF_H = 1.72  # body height the radii below were measured for


@dataclass(frozen=True)
class SensorModel:
    """Noise and range of one depth sensor; `clean()` turns every defect off (for exact tests)."""

    name: str
    near: float
    far: float
    sigma: tuple[float, float]  # noise (m) = sigma[0] + sigma[1] * z**2
    disparity_step: float = 0.0  # Kinect v1: depth steps of disparity_step * z**2 (0 = plain millimetres)
    shadow_px: float = 0.0  # IR shadow width left of foreground edges, at 320 px image width
    edge_dropout: float = 0.0  # probability that a silhouette-edge pixel reads 0
    flying: float = 0.0  # probability that an edge pixel reads a mix of foreground and background (ToF)
    dropout: float = 0.0  # fraction of pixels dropped at random

    def clean(self) -> "SensorModel":
        return SensorModel(self.name, self.near, self.far, (0.0, 0.0))


SENSORS = {
    "kinect_v1": SensorModel("kinect_v1", 0.8, 4.0, (0.0, 1.425e-3), 2.85e-3, 2.0, 0.35, 0.0, 0.002),
    "kinect_v2": SensorModel("kinect_v2", 0.5, 8.0, (1.5e-3, 2.5e-4), 0.0, 0.0, 0.15, 0.5, 0.001),
}


@dataclass(frozen=True)
class Box:
    """A static box (a chair seat, furniture): centre (3,), axes (3, 3) as rows, half sizes (3,), metres."""

    centre: tuple
    axes: tuple
    half: tuple


def body_primitives(joints: np.ndarray, body: BodyParams):
    """Capsules (n, 8: ax ay az bx by bz r0 r1) and ellipsoids (m, 15: centre, 3x3 axes rows, semi-axes)."""
    p = np.asarray(joints, dtype=np.float64)
    k, g = body.height / _REF_H, body.girth
    caps = []

    def cap(a, b, r0, r1, girth=True):
        s = k * (g if girth else 1.0)
        caps.append(np.concatenate([a, b, [r0 * s, r1 * s]]))

    cap(p[J["shoulder_center"]], p[J["head"]], 0.05, 0.05)
    cap(p[J["shoulder_left"]], p[J["shoulder_right"]], 0.06, 0.06)
    for s in ("left", "right"):
        cap(p[J[f"shoulder_{s}"]], p[J[f"elbow_{s}"]], 0.056, 0.045)
        cap(p[J[f"elbow_{s}"]], p[J[f"wrist_{s}"]], 0.043, 0.032)
        wr, hd = p[J[f"wrist_{s}"]], p[J[f"hand_{s}"]]
        cap(wr, hd + 0.6 * (hd - wr), 0.03, 0.032, girth=False)
        cap(p[J[f"hip_{s}"]], p[J[f"knee_{s}"]], 0.092, 0.064)
        cap(p[J[f"knee_{s}"]], p[J[f"ankle_{s}"]], 0.06, 0.046)
        an, ft = p[J[f"ankle_{s}"]], p[J[f"foot_{s}"]]
        along = ft - an
        along[1] = 0.0
        n = np.linalg.norm(along)
        toe = ft + (along / n * 0.07 * k if n > 1e-6 else 0.0)
        cap(an, toe, 0.035, 0.03, girth=False)
    ells = []
    up = _unit(p[J["shoulder_center"]] - p[J["spine"]])
    right = _unit(p[J["shoulder_right"]] - p[J["shoulder_left"]])
    ells.append(_ellipsoid(p[J["spine"]] + 0.55 * (p[J["shoulder_center"]] - p[J["spine"]]), right, up,
                           (0.175 * g * k, 0.24 * k, 0.11 * g * k)))
    hip_right = _unit(p[J["hip_right"]] - p[J["hip_left"]])
    ells.append(_ellipsoid(p[J["hip_center"]] - np.array([0.0, 0.02 * k, 0.0]), hip_right, np.array([0.0, 1.0, 0.0]),
                           (0.175 * g * k, 0.12 * k, 0.11 * g * k)))
    neck = _unit(p[J["head"]] - p[J["shoulder_center"]])
    ells.append(_ellipsoid(p[J["head"]] + 0.01 * k * neck, right, neck, (0.078 * k, 0.11 * k, 0.095 * k)))
    return np.array(caps), np.array(ells)


def _unit(v):
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _ellipsoid(centre, right, up, semi):
    up = _unit(up - right * float(np.dot(up, right))) if abs(np.dot(up, right)) < 0.99 else np.array([0.0, 1, 0])
    fwd = np.cross(right, up)
    right = np.cross(up, fwd)
    return np.concatenate([centre, right, up, fwd, semi])


class Renderer:
    """Renders people into one camera's depth image; the room is cast once, people per frame.

    `background`: "full" (floor, back wall and props visible), "removed" (only people non-zero, like
    UTD-MHAD's published depth) or "none" (no room at all; people then have no floor-contact shadows).
    """

    def __init__(self, intrinsics, sensor: str | SensorModel = "kinect_v1", background: str = "full",
                 floor_y: float = -1.05, wall_z: float = 4.0, props=(), noise: bool = True):
        if background not in ("full", "removed", "none"):
            raise ValueError(f"background must be full, removed or none, not {background!r}")
        self.K = intrinsics
        model = SENSORS[sensor] if isinstance(sensor, str) else sensor
        self.model = model if noise else model.clean()
        self.background = background
        h, w = intrinsics.shape
        u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        self._sign = 1.0 if getattr(intrinsics, "mirrored", True) else -1.0
        d = np.stack([self._sign * (u - intrinsics.cx) / intrinsics.fx, -(v - intrinsics.cy) / intrinsics.fy,
                      np.ones_like(u)])
        d /= np.linalg.norm(d, axis=0)
        self.rays = d.astype(np.float32)  # (3, H, W) unit rays through pixel centres
        room = np.full((h, w), np.inf, dtype=np.float32)
        self._prop_windows: list = []  # where the static props are: their edges get sensor defects too
        if background != "none":
            with np.errstate(divide="ignore", invalid="ignore"):
                t_floor = np.where(d[1] < -1e-6, floor_y / d[1], np.inf)
                t_wall = wall_z / d[2]
            room = np.minimum(t_floor, t_wall) * d[2]
            for box in props:
                zb = self._box_depth(box)
                room = np.minimum(room, zb)
                rows, cols = np.nonzero(np.isfinite(zb).any(1))[0], np.nonzero(np.isfinite(zb).any(0))[0]
                if rows.size:
                    self._prop_windows.append((int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1))
        self.room = room.astype(np.float32)
        # a bank of unit normals read at a random offset each frame: drawing 200k normals per frame would cost
        # more than rendering the people
        self._noise = np.random.default_rng(12345).standard_normal(2 * h * w + 1, dtype=np.float32)

    # -- geometry -------------------------------------------------------------------------------------------
    def _box_depth(self, box: Box) -> np.ndarray:
        axes, c, half = np.asarray(box.axes, float), np.asarray(box.centre, float), np.asarray(box.half, float)
        d = np.tensordot(axes, self.rays.astype(np.float64), 1)  # ray directions in box coordinates
        o = -(axes @ c)
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (-half[:, None, None] - o[:, None, None]) / d
            t2 = (half[:, None, None] - o[:, None, None]) / d
        t_near = np.nanmax(np.minimum(t1, t2), axis=0)
        t_far = np.nanmin(np.maximum(t1, t2), axis=0)
        return np.where((t_near <= t_far) & (t_near > 0), t_near * self.rays[2], np.inf)

    def _bboxes(self, pts: np.ndarray, radius: np.ndarray) -> list:
        """Pixel windows (row slice, column slice) covering primitives with points (n, k, 3) and radii (n,);
        None for a primitive that is off-image or reaches behind the sensor."""
        z = pts[..., 2].min(-1) - radius
        uv = self.K.project(pts)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = radius * max(self.K.fx, self.K.fy) / z + 1.0
        h, w = self.K.shape
        u0 = np.floor(uv[..., 0].min(-1) - m).clip(0, w)
        u1 = (np.ceil(uv[..., 0].max(-1) + m) + 1).clip(0, w)
        v0 = np.floor(uv[..., 1].min(-1) - m).clip(0, h)
        v1 = (np.ceil(uv[..., 1].max(-1) + m) + 1).clip(0, h)
        ok = (z > 0.1) & (u0 < u1) & (v0 < v1)
        return [(slice(int(a), int(b)), slice(int(c), int(d))) if k else None
                for k, a, b, c, d in zip(ok, v0, v1, u0, u1)]

    def _capsule(self, zbuf, ids, pid, c, box):
        a, u, r0, r1 = c[0:3], c[3:6] - c[0:3], c[6], c[7]
        dx, dy, dz = (r[box] for r in self.rays)
        b = dx * np.float32(u[0]) + dy * np.float32(u[1]) + dz * np.float32(u[2])
        e = dx * np.float32(a[0]) + dy * np.float32(a[1]) + dz * np.float32(a[2])
        cc, f, aa = float(u @ u), float(u @ a), float(a @ a)
        den = np.maximum(cc - b * b, np.float32(1e-9))
        s = np.clip((b * e - f) / den, 0.0, 1.0)
        tc = e + s * b
        dist2 = aa + s * (2 * f + s * cc) - tc * tc
        r = r0 + s * np.float32(r1 - r0)
        gap = r * r - dist2
        z = (tc - np.sqrt(np.maximum(gap, 0))) * dz
        self._merge(zbuf, ids, box, pid, np.where(gap > 0, z, np.inf))

    def _ellipsoid(self, zbuf, ids, pid, e, box):
        centre, axes, semi = e[0:3], e[3:12].reshape(3, 3), e[12:15]
        m = (axes / semi[:, None]).astype(np.float32)
        o = -(m @ centre)
        dx, dy, dz = (r[box] for r in self.rays)
        d = [m[i, 0] * dx + m[i, 1] * dy + m[i, 2] * dz for i in range(3)]
        qa = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        qb = np.float32(o[0]) * d[0] + np.float32(o[1]) * d[1] + np.float32(o[2]) * d[2]  # half of B
        disc = qb * qb - qa * np.float32(o @ o - 1.0)
        z = (-qb - np.sqrt(np.maximum(disc, 0))) / qa * dz
        self._merge(zbuf, ids, box, pid, np.where(disc > 0, z, np.inf))

    @staticmethod
    def _merge(zbuf, ids, box, pid, z):
        sub = zbuf[box]
        nearer = z < sub
        np.copyto(sub, z, where=nearer)
        np.copyto(ids[box], np.uint8(pid), where=nearer)

    # -- frames -------------------------------------------------------------------------------------------------
    def render_z(self, people) -> tuple[np.ndarray, np.ndarray]:
        """Noise-free depth (H, W) float32 metres along z (inf = nothing) and owner ids (0 = room).

        `people`: iterable of (id 1..255, joints (20, 3) canonical metres, BodyParams).
        """
        zbuf, ids, _ = self._render_z(people)
        return zbuf, ids

    def _render_z(self, people):
        zbuf = self.room.copy()
        ids = np.zeros(zbuf.shape, dtype=np.uint8)
        windows = []
        for pid, joints, body in people:
            caps, ells = body_primitives(joints, body)
            cap_boxes = self._bboxes(caps[:, :6].reshape(-1, 2, 3), caps[:, 6:8].max(1))
            ell_boxes = self._bboxes(ells[:, None, 0:3], ells[:, 12:15].max(1))
            for c, box in zip(caps, cap_boxes):
                if box is not None:
                    self._capsule(zbuf, ids, pid, c, box)
            for e, box in zip(ells, ell_boxes):
                if box is not None:
                    self._ellipsoid(zbuf, ids, pid, e, box)
            boxes = [b for b in cap_boxes + ell_boxes if b is not None]
            if boxes:
                windows.append((min(b[0].start for b in boxes), max(b[0].stop for b in boxes),
                                min(b[1].start for b in boxes), max(b[1].stop for b in boxes)))
        return zbuf, ids, windows

    def render(self, people, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Depth (H, W) uint16 millimetres as the sensor would report it (0 = no reading) and owner ids."""
        z, ids, windows = self._render_z(people)
        z = self.apply_sensor(z, rng if rng is not None else np.random.default_rng(0), windows)
        if self.background == "removed":
            z[ids == 0] = 0
        return z, ids

    def apply_sensor(self, z: np.ndarray, rng: np.random.Generator, windows=None) -> np.ndarray:
        """float32 metres (inf = nothing) -> uint16 millimetres with the sensor's noise, quantisation and holes.

        Silhouette effects are only looked for inside `windows` ((v0, v1, u0, u1) around each person, all of
        the image when None) and around the static props: the bare room has no depth edges.
        """
        m = self.model
        h, w = z.shape
        hole = np.zeros((h, w), dtype=bool)
        if m.edge_dropout or m.shadow_px or m.flying:
            pad = 2 + int(round(m.shadow_px * w / 320))
            wins = [(0, h, 0, w)] if windows is None else [
                (max(a - pad, 0), min(b + pad, h), max(c - pad, 0), min(d + pad, w)) for a, b, c, d in windows]
            for win in wins + self._prop_windows:
                self._edges(z, hole, rng, win)
        if m.dropout:
            hole.flat[rng.integers(0, h * w, int(m.dropout * h * w))] = True
        if m.sigma[0] or m.sigma[1]:
            start = int(rng.integers(0, self._noise.size - h * w))
            n = self._noise[start:start + h * w].reshape(h, w)
            with np.errstate(invalid="ignore"):
                z = z + (np.float32(m.sigma[0]) + np.float32(m.sigma[1]) * z * z) * n
        if m.disparity_step:
            k = np.float32(m.disparity_step)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = 1.0 / (np.rint(1.0 / (k * z)) * k)
        with np.errstate(invalid="ignore"):
            valid = (z >= m.near) & (z <= m.far) & ~hole
        return np.where(valid, np.rint(z * 1000.0), 0).astype(np.uint16)

    def _edges(self, z, hole, rng, win):
        """Edge dropouts, flying pixels and the IR shadow inside one window (edits z and hole in place)."""
        m = self.model
        v0, v1, u0, u1 = win
        zw = z[v0:v1, u0:u1]
        zf = np.where(np.isfinite(zw), zw, np.float32(20.0))
        jump = np.abs(np.diff(zf, axis=1)) > 0.08 * np.minimum(zf[:, 1:], zf[:, :-1])  # between x and x+1
        vjump = np.abs(np.diff(zf, axis=0)) > 0.08 * np.minimum(zf[1:], zf[:-1])
        edge = np.zeros(zf.shape, dtype=bool)
        edge[:, 1:] |= jump
        edge[:, :-1] |= jump
        edge[1:] |= vjump
        edge[:-1] |= vjump
        ey, ex = np.nonzero(edge)
        hw = hole[v0:v1, u0:u1]
        if m.flying and ey.size:
            fly = rng.random(ey.size) < m.flying
            fy, fx = ey[fly], ex[fly]
            nb = zf[fy, np.minimum(fx + 1, zf.shape[1] - 1)]
            mix = rng.random(fy.size).astype(np.float32) * 0.5
            zw[fy, fx] = zf[fy, fx] + mix * (nb - zf[fy, fx])
        if m.edge_dropout and ey.size:
            drop = rng.random(ey.size) < m.edge_dropout
            hw[ey[drop], ex[drop]] = True
        if m.shadow_px:
            starts = jump & (zf[:, 1:] < zf[:, :-1])  # x is background, x+1 foreground: shadow left of x+1
            width = max(1, int(round(m.shadow_px * hole.shape[1] / 320)))
            cols = starts.shape[1]
            for k in range(min(width, cols)):
                hw[:, : cols - k] |= starts[:, k:]
