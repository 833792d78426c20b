"""The few plain data types that every part of kinact passes around.

A frame is what a sensor gives at one instant: zero or more tracked bodies and optionally a depth image.
Bodies carry their *tracking id* (stable while the sensor keeps the person), never a list position: the SDKs
reuse slot indices when people come and go, and mixing the two up is what makes labels jump between people.
A dataset sample is a whole labelled sequence, kept as arrays (bodies × time × joints × 3) in the
layout's own units and axes, like PYSKL's keypoint arrays, so readers stay free of torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Body:
    """One tracked person in one frame: joints (J, 3) in the layout's units, confidence (J,) in 0..1."""

    id: int
    joints: np.ndarray
    confidence: np.ndarray

    @property
    def num_confident(self) -> int:
        return int(np.count_nonzero(self.confidence > 0.5))


@dataclass
class Frame:
    """Everything a source delivers at one timestamp (seconds, monotonic within a stream)."""

    t: float
    bodies: list[Body] = field(default_factory=list)
    depth: np.ndarray | None = None  # (H, W) uint16 millimetres
    index: int = 0


@dataclass
class Sample:
    """One labelled sequence from a dataset file.

    skeleton: (M, T, J, 3) float32 in `layout` units; confidence: (M, T, J) float32 (1 = tracked);
    depth: (T, H, W) uint16 millimetres, or None, or whatever a reader's `depth_transform` made of it (a depth
    descriptor: loading 861 raw depth sequences would need ~10 GB). `label` is 0-based; `action` its name.
    """

    skeleton: np.ndarray
    confidence: np.ndarray
    layout: str
    label: int
    action: str
    subject: int
    trial: int
    fps: float
    path: str = ""
    depth: np.ndarray | None = None
    body_ids: list[int] = field(default_factory=list)
    camera: int | None = None  # NTU camera id (for the cross-view split)

    @property
    def num_frames(self) -> int:
        return int(self.skeleton.shape[1])

    @property
    def num_bodies(self) -> int:
        return int(self.skeleton.shape[0])
