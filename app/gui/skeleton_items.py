"""Skeleton drawing shared by the depth view and the side views: a fixed set of pyqtgraph items per body slot.

Creating and removing graphics items every frame is what makes a live Qt view stutter and leak (the scene
re-indexes, Python wrappers pile up), so each view owns a pool of `SkeletonItems` that only grows to the
most bodies ever seen at once and is re-filled with `setData` every frame; unused slots are hidden.

Bones are split by side (left/right/centre) and by tracking (both ends confident or not) into six
`connect="pairs"` lines, because one pen per line item is far cheaper than per-segment pens.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from kinact.app.gui import colors
from kinact.core.layouts import Layout, get_layout

TRACKED = 0.5  # joints below this confidence are "inferred" by the SDK: drawn faint
SIDES = ("left", "right", "centre")


def layout_points_to_canonical_axes(joints: np.ndarray, layout: str | Layout) -> np.ndarray:
    """(J, 3) joints in the layout's units/axes → (J, 3) metres in canonical axes, keeping all J joints.

    `layouts.to_canonical` keeps only the 20 canonical joints (what models need); drawing wants every joint
    (hand tips, thumbs, face), so only the unit and axis conversion is applied here.
    """
    lay = get_layout(layout)
    j = np.asarray(joints, np.float32)
    return j * np.float32(lay.metres_per_unit) * np.asarray(lay.axis_signs, np.float32)


def bone_groups(layout: Layout) -> dict[str, np.ndarray]:
    """Bones (B, 2) per side: a bone takes the side of whichever end is not on the centre line."""
    groups: dict[str, list[tuple[int, int]]] = {s: [] for s in SIDES}
    for a, b in layout.bones:
        side = layout.side(b) if layout.side(b) != "centre" else layout.side(a)
        groups[side].append((a, b))
    return {s: np.asarray(v, np.int64).reshape(-1, 2) for s, v in groups.items()}


def qcolor(rgb, alpha: int = 255) -> QtGui.QColor:
    return QtGui.QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), alpha)


class SkeletonItems:
    """The items of one body slot in one view: 6 bone lines, tracked and faint joints, an optional label."""

    def __init__(self, parent, *, width: float = 3.0, symbol_size: float = 7.0, with_label: bool = False):
        self.width, self.symbol_size = width, symbol_size
        # PlotCurveItem, not PlotDataItem: the same picture at an eighth of the cost per setData (measured
        # ~30 vs ~220 µs), and a skeleton needs six of them per body per view per frame.
        self.lines = {(s, faint): pg.PlotCurveItem(connect="pairs") for s in SIDES for faint in (False, True)}
        self.joints = pg.ScatterPlotItem(pxMode=True, size=symbol_size)
        self.faint_joints = pg.ScatterPlotItem(pxMode=True, size=symbol_size * 0.8)
        self.label = pg.TextItem("", anchor=(0.5, 1.0), fill=pg.mkBrush(0, 0, 0, 150)) if with_label else None
        self.items = [*self.lines.values(), self.faint_joints, self.joints] + ([self.label] if self.label else [])
        for z, item in enumerate(self.items):
            item.setZValue(10 + z)
            parent.addItem(item)
        self.person: int | None = None
        self.text = None

    def set_person(self, person: int) -> None:
        """Re-colour only when the slot changes hands: building pens every frame is measurable at 30 fps."""
        if person == self.person:
            return
        self.person = person
        for (side, faint), line in self.lines.items():
            rgb = colors.bone_color(side, person)
            pen = pg.mkPen(qcolor(rgb, 90 if faint else 255), width=self.width * (0.6 if faint else 1.0),
                           style=QtCore.Qt.PenStyle.DashLine if faint else QtCore.Qt.PenStyle.SolidLine)
            line.setPen(pen)
        rgb = colors.person_color(person)
        self.joints.setPen(pg.mkPen(0, 0, 0, 200, width=1))
        self.joints.setBrush(pg.mkBrush(qcolor(rgb)))
        self.faint_joints.setPen(pg.mkPen(qcolor(rgb, 110), width=1))
        self.faint_joints.setBrush(pg.mkBrush(0, 0, 0, 0))
        if self.label is not None:
            self.label.setColor(qcolor(rgb))

    def set_data(self, xy: np.ndarray, conf: np.ndarray, groups: dict[str, np.ndarray], text: str = "",
                 label_pos=None) -> None:
        """Fill the items from 2D points (J, 2) (NaN = not drawable) and confidences (J,); the label's bottom
        centre goes to `label_pos` (hidden when that is None or NaN)."""
        finite = np.isfinite(xy).all(axis=1)
        tracked = finite & (conf >= TRACKED)
        for side in SIDES:
            bones = groups[side]
            ok = finite[bones].all(axis=1)
            good = ok & tracked[bones].all(axis=1)
            for faint, sel in ((False, bones[good]), (True, bones[ok & ~good])):
                pts = xy[sel.reshape(-1)]
                self.lines[(side, faint)].setData(pts[:, 0], pts[:, 1])
        self.joints.setData(pos=xy[tracked])
        self.faint_joints.setData(pos=xy[finite & ~tracked])
        if self.label is not None:
            if text != self.text:
                self.text = text
                self.label.setText(text)
            ok = label_pos is not None and bool(np.isfinite(label_pos).all())
            if ok:
                self.label.setPos(float(label_pos[0]), float(label_pos[1]))
            self.label.setVisible(bool(text) and ok)
        self.set_visible(True, label=False)

    def set_visible(self, visible: bool, label: bool = True) -> None:
        for item in self.items:
            if item is not self.label or label:
                item.setVisible(visible)


class SkeletonPool:
    """Slots of SkeletonItems reused across frames; `begin()` then `slot()` per body, `end()` hides the rest.

    A person keeps the slot they had in the previous frame, so bodies that swap places in the source's list do
    not make slots trade pens every frame.
    """

    def __init__(self, parent, **item_kwargs):
        self.parent, self.item_kwargs = parent, item_kwargs
        self.slots: list[SkeletonItems] = []
        self._used: list[int] = []

    def begin(self) -> None:
        self._used = []

    def slot(self, person: int) -> SkeletonItems:
        free = [i for i in range(len(self.slots)) if i not in self._used]
        mine = [i for i in free if self.slots[i].person == person]
        if mine:
            i = mine[0]
        elif free:
            i = free[0]
        else:
            self.slots.append(SkeletonItems(self.parent, **self.item_kwargs))
            i = len(self.slots) - 1
        self._used.append(i)
        self.slots[i].set_person(person)
        return self.slots[i]

    def end(self) -> None:
        for i, s in enumerate(self.slots):
            if i not in self._used:
                s.set_visible(False)

    @property
    def active(self) -> list[SkeletonItems]:
        return [self.slots[i] for i in self._used]
