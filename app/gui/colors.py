"""Every colour the views use, in one place, so a person looks the same in the depth view, the side views and
their prediction row, and a class looks the same in every timeline.

Colours are picked by *stable* keys (person id, class index), never by position in a list: list positions
change as people come and go, and a person whose colour changes mid-action reads as a different person.
Person colours are saturated and light because they are drawn over a dark depth image; class colours are a
27-entry qualitative palette, one per UTD-MHAD class, so a timeline never shows two classes alike there.
Plain RGB tuples, not QColors, so the module stays importable (and testable) without a QApplication.
"""
from __future__ import annotations

import zlib

import numpy as np

RGB = tuple[int, int, int]

#: Person colours: bright, well apart in hue, none of them close to the grey/amber depth image.
PERSON_COLORS: tuple[RGB, ...] = (
    (0, 220, 255),    # cyan
    (255, 120, 200),  # pink
    (150, 255, 90),   # lime
    (255, 200, 40),   # amber
    (170, 140, 255),  # lavender
    (255, 110, 80),   # coral
    (60, 255, 200),   # aquamarine
    (240, 240, 120),  # pale yellow
)

#: Bone colours by body side. Left is blue-ish and right orange-ish, the usual convention of pose viewers,
#: so a mirrored or swapped skeleton is obvious at a glance.
SIDE_COLORS: dict[str, RGB] = {"left": (70, 150, 255), "right": (255, 150, 40), "centre": (235, 235, 235)}

#: 27 distinct class colours (hand-picked from Kelly's and Glasbey's palettes), legible on a dark panel.
CLASS_COLORS: tuple[RGB, ...] = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255),
    (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180),
    (0, 0, 128), (128, 128, 128), (255, 99, 71), (46, 139, 87), (218, 165, 32), (100, 149, 237),
    (199, 21, 133), (0, 191, 165), (189, 183, 107),
)

NO_ACTION_COLOR: RGB = (70, 74, 84)  # timeline gaps and "no action": quiet, so actions stand out
BACKGROUND: RGB = (18, 20, 26)  # canvas behind skeleton-only sources and the plots


def person_color(person: int) -> RGB:
    return PERSON_COLORS[int(person) % len(PERSON_COLORS)]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved a fraction `t` towards `b`."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def bone_color(side: str, person: int, tint: float = 0.45) -> RGB:
    """Left/right/centre colour tinted towards the person's colour: the side stays readable, and two people's
    skeletons still differ when they overlap."""
    return mix(SIDE_COLORS.get(side, SIDE_COLORS["centre"]), person_color(person), tint)


def class_color(label: str | int | None, classes: list[str] | tuple[str, ...] | None = None) -> RGB:
    """Colour of a class by its index in `classes`. A label outside `classes` (or with no class list yet) gets
    one from a checksum of its name, so it is still the same in every run and on every machine."""
    if label is None:
        return NO_ACTION_COLOR
    if isinstance(label, (int, np.integer)):
        return CLASS_COLORS[int(label) % len(CLASS_COLORS)]
    if classes and label in classes:
        return CLASS_COLORS[list(classes).index(label) % len(CLASS_COLORS)]
    return CLASS_COLORS[zlib.crc32(label.encode("utf-8")) % len(CLASS_COLORS)]


def depth_lut() -> np.ndarray:
    """(256, 3) uint8 lookup table of the depth view's index image.

    0 is "no reading" (black). 1..127 is the scene from far (dark slate) to near (light grey); 129..255 is the
    same ramp for pixels on a tracked body, warm and brighter, so people stand out from furniture without any
    per-pixel Python: the view only sets the high bit of an index. 128 is never produced.
    """
    lut = np.zeros((256, 3), np.uint8)
    ramp = np.linspace(0.0, 1.0, 127)[:, None]
    far, near = np.array([28, 34, 48]), np.array([150, 160, 178])
    lut[1:128] = far + (near - far) * ramp**0.8
    hfar, hnear = np.array([90, 60, 30]), np.array([255, 226, 170])
    lut[129:256] = hfar + (hnear - hfar) * ramp**0.8
    lut[128] = lut[129]
    return lut
