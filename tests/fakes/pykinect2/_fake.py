"""The scripted Kinect v2 behind the fake PyKinect2 (test-only; not part of the real package).

`SENSOR` stands for the hardware plus the installed SDK: tests configure it with `SENSOR.reset(...)` and
change it while a source runs (`unplug()`, `plug()`). Frames are produced deterministically: every
`polls_per_frame`-th call of a runtime's ``has_new_body_frame()`` "arrives" the next frame, the way the real
runtime's thread would, so a reader polling in a loop sees every frame exactly once and in order.

The default script has two people whose body *slots* swap at frame 5 (slot index ≠ tracking id):

* person A, tracking id 72057594037928001, slot 2 then slot 0, walks along +x 1 cm per frame, joint 7
  (HandLeft) inferred;
* person B, tracking id 72057594037928002, slot 0 then slot 4, stands at x = +0.5 m, joints 15 and 19
  (FootLeft, FootRight) not tracked and joint 21 (HandTipLeft) inferred.

Joint j of a person at x0 is at (x0 + 0.001 j, 0.8 - 0.05 j, 2.5) metres. Depth frame k is filled with
1000 + k (mm) except pixel (row 1, column 2) = 7, so a transposed reshape cannot pass unnoticed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WIDTH, HEIGHT = 512, 424
TRACKED, INFERRED, NOT_TRACKED = 2, 1, 0


@dataclass
class Person:
    tracking_id: int
    x0: float
    dx: float = 0.0  # metres per frame
    slots: tuple = ((0, 0),)  # (from frame, slot) pairs, sorted
    inferred: tuple = ()
    not_tracked: tuple = ()
    frames: tuple | None = None  # (first, last) frame present, None = always

    def slot(self, k: int) -> int:
        s = self.slots[0][1]
        for start, slot in self.slots:
            if k >= start:
                s = slot
        return s

    def present(self, k: int) -> bool:
        return self.frames is None or self.frames[0] <= k <= self.frames[1]

    def joints(self, k: int) -> np.ndarray:
        j = np.arange(25, dtype=np.float64)
        x = self.x0 + self.dx * k
        return np.stack([x + 0.001 * j, 0.8 - 0.05 * j, np.full(25, 2.5)], axis=1)

    def states(self) -> np.ndarray:
        s = np.full(25, TRACKED, np.int32)
        s[list(self.inferred)] = INFERRED
        s[list(self.not_tracked)] = NOT_TRACKED
        return s


def default_people() -> list[Person]:
    return [Person(72057594037928001, -0.5, 0.01, ((0, 2), (5, 0)), inferred=(7,)),
            Person(72057594037928002, 0.5, 0.0, ((0, 0), (5, 4)), inferred=(21,), not_tracked=(15, 19))]


@dataclass
class FakeKinect:
    people: list = field(default_factory=default_people)
    attached: bool = True
    sdk_installed: bool = True
    unplug_after: int | None = None  # frames delivered before the cable "comes out"
    polls_per_frame: int = 2
    raise_on_read: bool = False  # get_last_body_frame raises COMError (an SDK failure)
    legacy: bool = False  # behave like the PyPI 0.1.0 runtime (no relative_time, "new" never resets)
    intrinsics: tuple = (366.1, 366.2, 258.3, 205.4)  # fx, fy, cx, cy reported once streaming
    frames_delivered: int = 0
    runtimes_opened: int = 0
    runtimes_closed: int = 0

    def reset(self, **changes) -> "FakeKinect":
        fresh = FakeKinect()
        for name in fresh.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
        for name, value in changes.items():
            if name not in self.__dataclass_fields__:
                raise TypeError(f"unknown fake Kinect setting {name!r}")
            setattr(self, name, value)
        return self

    def unplug(self) -> None:
        self.attached = False

    def plug(self) -> None:
        self.attached = True
        self.unplug_after = None

    def slots(self, k: int, count: int = 6) -> list:
        out = [None] * count
        for p in self.people:
            if p.present(k):
                out[p.slot(k)] = p
        return out

    def depth(self, k: int) -> np.ndarray:
        d = np.full(WIDTH * HEIGHT, 1000 + k, np.uint16)
        d[1 * WIDTH + 2] = 7
        return d


SENSOR = FakeKinect()
