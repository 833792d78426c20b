"""The main picture: the depth image with every tracked skeleton drawn on top through the camera's intrinsics.

Seeing the skeleton land on the body it came from is the quickest check that a sensor, a recording or an
importer is right (mirroring, units and axis signs all show up as a skeleton beside the person), so the
overlay is projected with the source's own intrinsics rather than fitted to the picture.

It has to keep up with 30 fps on a laptop CPU while the capture and inference threads run, so nothing here
touches pixels from Python: depth goes through one 65536-entry table to an 8-bit index image (auto range from
robust percentiles of a subsample), bodies are highlighted by setting the index's high bit inside their box
and depth band, and pyqtgraph turns the index image into a QImage with one colour table. Skeleton items are
pooled (see skeleton_items). This widget only draws what it is handed; it never reads files or sensors.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from kinact.app.gui import colors
from kinact.app.gui.skeleton_items import SkeletonPool, bone_groups, layout_points_to_canonical_axes
from kinact.core.frames import Frame
from kinact.core.layouts import Layout, get_layout
from kinact.core.recording.intrinsics import KINECT_V2_DEPTH, Intrinsics

__all__ = ["DepthView", "layout_points_to_canonical_axes", "project_body"]

HIGHLIGHT_BIT = 128
LABEL_ABOVE_HEAD_M = 0.16
BODY_DEPTH_MARGIN_MM = 350.0  # a body's pixels lie within this of its joints' depth range (clothes, hair, arms)


def project_body(joints: np.ndarray, layout: Layout, intrinsics: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """(J, 2) pixel (u, v) of a body's joints (NaN where not projectable) and its (J, 3) canonical metres."""
    xyz = layout_points_to_canonical_axes(joints, layout)
    return intrinsics.project(xyz), xyz


class DepthView(pg.GraphicsLayoutWidget):
    """Depth image + skeleton overlay. Feed it with `set_frame`; it keeps no reference to the frame."""

    def __init__(self, parent=None, percentiles: tuple[float, float] = (2.0, 98.0), range_smoothing: float = 0.3):
        super().__init__(parent)
        self.setBackground(colors.BACKGROUND)
        self.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
        self.view.setBackgroundColor(colors.BACKGROUND)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(0)
        self.view.addItem(self.image)
        self.placeholder = pg.TextItem("no depth stream: skeleton only", color=(120, 126, 140), anchor=(0, 0))
        self.placeholder.setZValue(1)
        self.view.addItem(self.placeholder)
        self.skeletons = SkeletonPool(self.view, width=3.0, symbol_size=7.0, with_label=True)
        self.percentiles = percentiles
        self.range_smoothing = range_smoothing  # weight of the newest frame's range: stops brightness pumping
        self.depth_range: tuple[float, float] | None = None  # (near, far) mm currently mapped
        self.projected: dict[int, np.ndarray] = {}  # person → (J, 2) pixels of the last frame
        self.shape: tuple[int, int] | None = None  # (height, width) of the canvas
        self._lut = colors.depth_lut()
        self._table = np.zeros(65536, np.uint8)
        self._table_key: tuple[int, int] | None = None
        self._groups: dict[str, dict[str, np.ndarray]] = {}

    # ---------------------------------------------------------------------------------------------- public
    def set_frame(self, frame: Frame, layout: str | Layout, intrinsics: Intrinsics | None = None,
                  labels: dict[int, str] | None = None, persons: dict[int, int] | None = None) -> None:
        """Draw one frame. `labels` maps a person (or, without `persons`, a body id) to the text shown by the
        head; `persons` maps body ids to the tracker's person ids, which pick the colours."""
        layout = get_layout(layout)
        labels, persons = labels or {}, persons or {}
        depth = frame.depth
        if depth is not None and (depth.ndim != 2 or depth.size == 0):
            depth = None
        intr = self._intrinsics(intrinsics, depth)
        self._set_shape((intr.height, intr.width) if depth is None else depth.shape)
        bodies = []
        for body in frame.bodies:
            person = int(persons.get(body.id, body.id))
            uv, xyz = project_body(body.joints, layout, intr)
            bodies.append((person, uv, xyz, np.asarray(body.confidence, np.float32).reshape(-1)))
        if depth is None:
            self.image.setVisible(False)
            self.placeholder.setVisible(True)
        else:
            index = self._index_image(depth)
            for _, uv, xyz, conf in bodies:
                self._highlight(index, depth, uv, xyz, conf)
            self.image.setImage(index, autoLevels=False, levels=(0, 255), lut=self._lut)
            self.image.setVisible(True)
            self.placeholder.setVisible(False)
        self._draw_skeletons(bodies, layout, intr, labels)

    # --------------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _intrinsics(intrinsics: Intrinsics | None, depth: np.ndarray | None) -> Intrinsics:
        """The source's intrinsics at the depth image's resolution; a Kinect v2 camera when there are none."""
        intr = intrinsics or KINECT_V2_DEPTH
        if depth is not None and depth.shape != intr.shape:
            intr = intr.scaled(depth.shape[1], depth.shape[0])
        return intr

    def _set_shape(self, shape: tuple[int, int]) -> None:
        if shape != self.shape:
            self.shape = (int(shape[0]), int(shape[1]))
            self.view.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0.0)
            self.placeholder.setPos(6.0, 4.0)

    def _index_image(self, depth: np.ndarray) -> np.ndarray:
        """(H, W) uint8 colour-table indices: 0 for no reading, 1 (far) .. 127 (near) for the scene."""
        if depth.dtype != np.uint16:
            depth = np.clip(np.nan_to_num(np.asarray(depth, np.float64)), 0, 65535).astype(np.uint16)
        sample = depth[::4, ::4]
        valid = sample[sample > 0]
        if valid.size >= 16:
            lo, hi = (float(v) for v in np.percentile(valid, self.percentiles))
            hi = max(hi, lo + 100.0)  # a flat wall still gets a visible ramp
            if self.depth_range is not None:
                a = self.range_smoothing
                lo = a * lo + (1 - a) * self.depth_range[0]
                hi = a * hi + (1 - a) * self.depth_range[1]
            self.depth_range = (lo, hi)
        lo, hi = self.depth_range or (500.0, 4500.0)
        key = (int(lo) // 10, int(hi) // 10)  # rebuild the table only when the range moved by a centimetre
        if key != self._table_key:
            self._table_key = key
            v = np.arange(65536, dtype=np.float32)
            self._table[:] = np.clip(np.rint(1 + (hi - v) * (126.0 / (hi - lo))), 1, 127).astype(np.uint8)
            self._table[0] = 0
        return self._table[depth]

    @staticmethod
    def _highlight(index: np.ndarray, depth: np.ndarray, uv: np.ndarray, xyz: np.ndarray, conf: np.ndarray) -> None:
        """Set the high bit where a pixel is inside the body's box and depth band: cheap, and close enough to a
        body mask to make people stand out. Untracked joints are left out, they are often far off."""
        ok = np.isfinite(uv).all(axis=1) & np.isfinite(xyz[:, 2]) & (xyz[:, 2] > 0)
        if (ok & (conf >= 0.5)).sum() >= 3:
            ok &= conf >= 0.5
        if ok.sum() < 2:
            return
        h, w = index.shape
        (u0, v0), (u1, v1) = uv[ok].min(axis=0), uv[ok].max(axis=0)
        pad = 0.12 * (v1 - v0) + 8.0  # the skeleton is inside the body: hands, head and feet stick out
        u0, u1 = int(max(u0 - pad, 0)), int(min(u1 + pad, w))
        # The head joint is mid-head, so more room above; little below the feet, where the floor is as near.
        v0, v1 = int(max(v0 - 1.6 * pad, 0)), int(min(v1 + 0.25 * pad, h))
        if u1 <= u0 or v1 <= v0:
            return
        z = xyz[ok, 2] * 1000.0
        lo, hi = float(z.min()) - BODY_DEPTH_MARGIN_MM, float(z.max()) + BODY_DEPTH_MARGIN_MM
        d = depth[v0:v1, u0:u1]
        sub = index[v0:v1, u0:u1]
        np.bitwise_or(sub, HIGHLIGHT_BIT, out=sub, where=(d > 0) & (d >= lo) & (d <= hi))

    def _draw_skeletons(self, bodies, layout: Layout, intr: Intrinsics, labels: dict[int, str]) -> None:
        groups = self._groups.get(layout.name)
        if groups is None:
            groups = self._groups[layout.name] = bone_groups(layout)
        head = layout.joints.index("head") if "head" in layout.joints else 0
        self.projected = {}
        self.skeletons.begin()
        for person, uv, xyz, conf in bodies:
            self.projected[person] = uv
            text = labels.get(person, "")
            # Above the top of the head (the joint is mid-head), where raised hands rarely are.
            label_pos = intr.project(xyz[head] + np.float32([0.0, LABEL_ABOVE_HEAD_M, 0.0]))
            self.skeletons.slot(person).set_data(uv, conf, groups, f"#{person}  {text}" if text else f"#{person}",
                                                 label_pos=label_pos)
        self.skeletons.end()

    def item_count(self) -> int:
        """Graphics items in the view: tests use it to check nothing is created per frame."""
        return len(self.view.addedItems)

