"""MSR Action3D reader: `aAA_sSS_eEE_skeleton3D.txt`, one `x y z confidence` line per joint, 20 lines a frame.

The text has no frame markers, so a single missing or extra line silently shifts every later joint into the
wrong slot; each line is therefore checked for exactly four numbers and the total for whole frames, and the
error names the line.

The fourth column is NOT a tracking state. It is 0 for about 30% of all joints, and almost always for the
joints MSR's tracker derives rather than detects: hip centre 94% of frames, spine 97%, neck 88%, both feet
~88% -- yet those joints carry plausible positions (the hip centre sits between the two hips). Everywhere else
in kinact a confidence of 0 means "not tracked, fill me in", so passing the column on made the hip centre,
spine and neck of nearly every frame "missing": centring, torso scaling and facing all ran on interpolated
guesses or zeros, and models and nearest-neighbour baselines saw distorted skeletons (the shipped UTD-MHAD
model called almost every MSR sequence "pick up and throw"). So a `Sample`'s confidence here says whether
the file has a position for the joint (1) or not (0: the all-zero placeholder frames of lost bodies, about
5% of joint lines); `read_array` still returns the raw score for anyone who wants it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Sample
from kinact.core.skeleton_norm import valid_mask

from .text import read_ascii

LAYOUT = "msr_action3d"
FPS = 15.0
NUM_JOINTS = 20

#: Action names, index = 0-based label = action number - 1.
CLASS_NAMES: tuple[str, ...] = (
    "high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch", "high throw", "draw x",
    "draw tick", "draw circle", "hand clap", "two hand wave", "side-boxing", "bend", "forward kick",
    "side kick", "jogging", "tennis swing", "tennis serve", "golf swing", "pick up & throw",
)

NAME_RE = re.compile(r"^a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt$", re.IGNORECASE)

TRAIN_SUBJECTS = (1, 3, 5, 7, 9)


def parse_name(path: str | os.PathLike) -> tuple[int, int, int]:
    """(action, subject, execution), all 1-based, from the file name (the only place the label is kept)."""
    m = NAME_RE.match(Path(path).name)
    if not m:
        raise BadInputError(path, "not an MSR Action3D file name (expected aAA_sSS_eEE_skeleton3D.txt)")
    action, subject, execution = (int(g) for g in m.groups())
    if not 1 <= action <= len(CLASS_NAMES):
        raise BadInputError(path, f"action {action} is not one of MSR Action3D's {len(CLASS_NAMES)} actions")
    return action, subject, execution


def read_array(path: str | os.PathLike) -> np.ndarray:
    """(T, 20, 4) float32: x, y, z in metres and the joint confidence."""
    text = read_ascii(path)
    lines = text.split("\n")
    values = []
    for i, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise BadInputError(path, f"line {i}: {len(parts)} values, expected 4 (x y z confidence)")
        values.append(parts)
    if not values:
        raise BadInputError(path, "empty file (no joint lines)")
    if len(values) % NUM_JOINTS:
        raise BadInputError(path, f"truncated: {len(values)} joint lines is not a whole number of "
                                  f"{NUM_JOINTS}-joint frames (last frame has {len(values) % NUM_JOINTS})")
    try:
        arr = np.array(values, dtype=np.float64)
    except ValueError as exc:
        raise BadInputError(path, f"non-numeric value ({exc})") from None
    if not np.isfinite(arr).all():
        row = int(np.flatnonzero(~np.isfinite(arr).all(1))[0])
        raise BadInputError(path, f"joint line {row + 1}: non-finite value")
    return arr.reshape(-1, NUM_JOINTS, 4).astype(np.float32)


def present_confidence(joints: np.ndarray) -> np.ndarray:
    """1.0 where a joint has a position (finite, not the all-zero placeholder), else 0.0 (module docstring)."""
    return np.ascontiguousarray(valid_mask(joints).astype(np.float32))


def read_sample(path: str | os.PathLike) -> Sample:
    """One file as a single-body Sample; the trial field holds the execution number."""
    action, subject, execution = parse_name(path)
    arr = read_array(path)
    return Sample(skeleton=np.ascontiguousarray(arr[None, :, :, :3]),
                  confidence=present_confidence(arr[None, :, :, :3]),
                  layout=LAYOUT, label=action - 1, action=CLASS_NAMES[action - 1], subject=subject,
                  trial=execution, fps=FPS, path=os.fspath(path), body_ids=[0])


def list_files(root: str | os.PathLike) -> list[Path]:
    """Every `*_skeleton3D.txt` under root (any depth), sorted by (action, subject, execution)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "not a directory")
    found = [Path(d) / n for d, _, names in os.walk(root) for n in names if NAME_RE.match(n)]
    return sorted(found, key=lambda p: (tuple(int(g) for g in NAME_RE.match(p.name).groups()), str(p)))


def load_dataset(root: str | os.PathLike, subjects=None) -> list[Sample]:
    """Every sequence under root, optionally only the given subjects."""
    files = list_files(root)
    if not files:
        raise BadInputError(root, "no MSR Action3D files (aAA_sSS_eEE_skeleton3D.txt) found")
    wanted = None if subjects is None else {int(s) for s in subjects}
    return [read_sample(p) for p in files if wanted is None or parse_name(p)[1] in wanted]


def cross_subject_split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """The usual protocol over all 20 actions: odd subjects (1, 3, 5, 7, 9) train, even subjects test."""
    train = [s for s in samples if s.subject % 2 == 1]
    test = [s for s in samples if s.subject % 2 == 0]
    return train, test
