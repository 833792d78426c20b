"""Side (z–y) and top (x–z) projections of the skeletons.

The depth view looks along the sensor's axis, so walking towards the camera, bending forward or pushing an
arm out barely shows there. These two small plots show exactly that motion. Their ranges are fixed (a
sensor's working volume), not auto-scaled: an auto range would follow the person and hide the very motion
these views exist for. The aspect is not locked either: in a small panel a true-scale plot would leave a
thin figure in a sea of empty axis, and exact proportions matter less than seeing the motion. Faint dashed lines mark the sensor's field of view, so "why did tracking drop?"
(the person left the cone) is visible too.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from kinact.app.gui import colors
from kinact.app.gui.skeleton_items import SkeletonPool, bone_groups, layout_points_to_canonical_axes
from kinact.core.frames import Body
from kinact.core.layouts import Layout, get_layout

Z_RANGE = (0.5, 4.5)  # metres from the sensor: Kinect v2 / Azure NFOV working range
Y_RANGE = (-1.3, 1.3)  # metres above/below the sensor
X_RANGE = (-2.5, 2.5)
HALF_FOV_DEG = (35.3, 30.0)  # Kinect v2 depth: 70.6° × 60°


class SideViews(pg.GraphicsLayoutWidget):
    """Two plots sharing body colours with the depth view; feed with `set_bodies` each frame."""

    def __init__(self, parent=None, mirrored: bool = True):
        super().__init__(parent)
        self.setBackground(colors.BACKGROUND)
        self.setMinimumSize(240, 300)  # below this the axes eat the plots
        self.side = self._plot("side", "z (m)", "y (m)", Z_RANGE, Y_RANGE)
        self.nextRow()
        self.top = self._plot("top", "x (m)", "z (m)", X_RANGE, Z_RANGE)
        # Match the depth image: Kinect SDK images are mirrored, so larger canonical x is further right.
        self.top.getViewBox().invertX(not mirrored)
        self._fov_lines()
        self.pools = {"side": SkeletonPool(self.side, width=2.0, symbol_size=4.0),
                      "top": SkeletonPool(self.top, width=2.0, symbol_size=4.0)}
        self._groups: dict[str, dict[str, np.ndarray]] = {}
        self.points: dict[int, np.ndarray] = {}  # person → (J, 3) canonical metres of the last call

    def _plot(self, title: str, xlabel: str, ylabel: str, xr, yr) -> pg.PlotItem:
        p = self.addPlot(title=title)
        p.setLabel("bottom", xlabel)
        p.setLabel("left", ylabel)
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setMouseEnabled(False, False)
        p.setMenuEnabled(False)
        p.hideButtons()
        p.setRange(xRange=xr, yRange=yr, padding=0.0)
        p.getViewBox().setBackgroundColor(colors.BACKGROUND)
        return p

    def _fov_lines(self) -> None:
        pen = pg.mkPen(90, 96, 110, width=1, style=QtCore.Qt.PenStyle.DashLine)
        z = np.array([0.0, Z_RANGE[1]])
        hx, hy = (np.tan(np.radians(a)) for a in HALF_FOV_DEG)
        for s in (-1, 1):
            self.top.addItem(pg.PlotDataItem(s * hx * z, z, pen=pen))
            self.side.addItem(pg.PlotDataItem(z, s * hy * z, pen=pen))
        self.side.addItem(pg.PlotDataItem([Z_RANGE[0]], [0.0], pen=None, symbol="t2", symbolSize=8,
                                          symbolBrush=(150, 156, 170)))
        self.top.addItem(pg.PlotDataItem([0.0], [Z_RANGE[0]], pen=None, symbol="t1", symbolSize=8,
                                         symbolBrush=(150, 156, 170)))

    def set_bodies(self, bodies: list[Body], layout: str | Layout, persons: dict[int, int] | None = None) -> None:
        """Draw `bodies` (in `layout`'s units and axes); `persons` maps body ids to person ids for colours."""
        layout = get_layout(layout)
        persons = persons or {}
        groups = self._groups.get(layout.name)
        if groups is None:
            groups = self._groups[layout.name] = bone_groups(layout)
        for pool in self.pools.values():
            pool.begin()
        self.points = {}
        for body in bodies:
            person = int(persons.get(body.id, body.id))
            xyz = layout_points_to_canonical_axes(body.joints, layout)
            xyz = np.where(xyz[:, 2:3] > 0, xyz, np.nan)  # a joint at z <= 0 is a tracking failure
            conf = np.asarray(body.confidence, np.float32).reshape(-1)
            self.points[person] = xyz
            self.pools["side"].slot(person).set_data(xyz[:, [2, 1]], conf, groups)
            self.pools["top"].slot(person).set_data(xyz[:, [0, 2]], conf, groups)
        for pool in self.pools.values():
            pool.end()

    def item_count(self) -> int:
        return len(self.side.items) + len(self.top.items)
