"""The one registry of joint layouts, shared by readers, recordings, models and drawing.

Every sensor and dataset numbers its joints differently (UTD-MHAD and MSR Action3D even reorder the Kinect v1
joints they came from). Rather than letting each part of the product hard-code indices, each layout declares its
joint names, its bones, its units and its axis convention once, plus where each of the 20 *canonical* joints
lives in it. Models are trained on the canonical layout, so a model trained on Kinect v1 data (UTD-MHAD) runs
on a Kinect v2 or an Azure Kinect live: `to_canonical` is the only bridge needed.

Canonical space: the Kinect v1 joint set and order, metres, camera coordinates with y up, z pointing away from
the sensor, and a person facing the sensor has their left side at smaller x (what the Kinect v1/v2 SDKs and the
UTD-MHAD, MSR Action3D and NTU files all use). Azure Kinect's body tracker uses y down and the opposite x, so
its layout carries axis signs (-1, -1, 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kinact.core.errors import KinactError

#: The canonical joint order (Kinect SDK v1 NUI_SKELETON_POSITION_INDEX order).
CANONICAL_JOINTS: tuple[str, ...] = (
    "hip_center", "spine", "shoulder_center", "head",
    "shoulder_left", "elbow_left", "wrist_left", "hand_left",
    "shoulder_right", "elbow_right", "wrist_right", "hand_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
)

_CANONICAL_BONES_BY_NAME = (
    ("hip_center", "spine"), ("spine", "shoulder_center"), ("shoulder_center", "head"),
    ("shoulder_center", "shoulder_left"), ("shoulder_left", "elbow_left"), ("elbow_left", "wrist_left"),
    ("wrist_left", "hand_left"),
    ("shoulder_center", "shoulder_right"), ("shoulder_right", "elbow_right"), ("elbow_right", "wrist_right"),
    ("wrist_right", "hand_right"),
    ("hip_center", "hip_left"), ("hip_left", "knee_left"), ("knee_left", "ankle_left"), ("ankle_left", "foot_left"),
    ("hip_center", "hip_right"), ("hip_right", "knee_right"), ("knee_right", "ankle_right"),
    ("ankle_right", "foot_right"),
)


@dataclass(frozen=True)
class Layout:
    """A joint layout: names, bones, units, axis convention and the mapping to the canonical 20 joints."""

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    units: str  # "m" or "mm"
    axis_signs: tuple[float, float, float]
    canonical_index: tuple[int, ...]  # for canonical joint k, the index of the joint in this layout
    description: str = ""
    aliases: dict[str, str] = field(default_factory=dict)  # canonical name -> this layout's name

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def metres_per_unit(self) -> float:
        return {"m": 1.0, "mm": 0.001}[self.units]

    def index(self, name: str) -> int:
        """Index of a joint by its own name or by its canonical name."""
        name = self.aliases.get(name, name)
        try:
            return self.joints.index(name)
        except ValueError:
            raise KinactError(f"layout {self.name!r} has no joint {name!r}") from None

    def side(self, j: int) -> str:
        """'left', 'right' or 'centre': drawing colours and mirror augmentation both need it."""
        n = self.joints[j]
        return "left" if "left" in n else "right" if "right" in n else "centre"

    def mirror_permutation(self) -> np.ndarray:
        """Index permutation that swaps every left joint with its right twin (for mirror augmentation)."""
        perm = np.arange(self.num_joints)
        for j, n in enumerate(self.joints):
            for a, b in (("left", "right"), ("right", "left")):
                if a in n:
                    perm[j] = self.joints.index(n.replace(a, b))
        return perm


def _bones(joints: tuple[str, ...], pairs) -> tuple[tuple[int, int], ...]:
    return tuple((joints.index(a), joints.index(b)) for a, b in pairs)


def _make(name, joints, extra_bones=(), units="m", axis_signs=(1.0, 1.0, 1.0), aliases=None, description="",
          skip_bones=()):
    aliases = dict(aliases or {})
    renamed = [(aliases.get(a, a), aliases.get(b, b)) for a, b in _CANONICAL_BONES_BY_NAME if (a, b) not in skip_bones]
    bones = _bones(joints, renamed + list(extra_bones))
    canonical_index = tuple(joints.index(aliases.get(c, c)) for c in CANONICAL_JOINTS)
    return Layout(name, tuple(joints), bones, units, tuple(axis_signs), canonical_index, description, aliases)


KINECT_V1 = _make("kinect_v1", CANONICAL_JOINTS, description="Kinect SDK v1 order (20 joints); the canonical layout")

UTD_MHAD = _make(
    "utd_mhad",
    ("head", "shoulder_center", "spine", "hip_center",
     "shoulder_left", "elbow_left", "wrist_left", "hand_left",
     "shoulder_right", "elbow_right", "wrist_right", "hand_right",
     "hip_left", "knee_left", "ankle_left", "foot_left",
     "hip_right", "knee_right", "ankle_right", "foot_right"),
    description="UTD-MHAD's own order of the Kinect v1 joints (Skeleton_joint_order.txt)",
)

MSR_ACTION3D = _make(
    "msr_action3d",
    ("shoulder_left", "shoulder_right", "shoulder_center", "spine", "hip_left", "hip_right", "hip_center",
     "elbow_left", "elbow_right", "wrist_left", "wrist_right", "hand_left", "hand_right",
     "knee_left", "knee_right", "ankle_left", "ankle_right", "foot_left", "foot_right", "head"),
    description="MSR Action3D skeleton3D.txt order of the Kinect v1 joints",
)

KINECT_V2 = _make(
    "kinect_v2",
    ("spine_base", "spine_mid", "neck", "head",
     "shoulder_left", "elbow_left", "wrist_left", "hand_left",
     "shoulder_right", "elbow_right", "wrist_right", "hand_right",
     "hip_left", "knee_left", "ankle_left", "foot_left",
     "hip_right", "knee_right", "ankle_right", "foot_right",
     "spine_shoulder", "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right"),
    extra_bones=(("spine_shoulder", "neck"), ("neck", "head"),
                 ("hand_left", "hand_tip_left"), ("wrist_left", "thumb_left"),
                 ("hand_right", "hand_tip_right"), ("wrist_right", "thumb_right")),
    aliases={"hip_center": "spine_base", "spine": "spine_mid", "shoulder_center": "spine_shoulder"},
    skip_bones=(("shoulder_center", "head"),),
    description="Kinect v2 SDK JointType order (25 joints), as in NTU RGB+D",
)
AZURE_KINECT = _make(
    "azure_kinect",
    ("pelvis", "spine_navel", "spine_chest", "neck",
     "clavicle_left", "shoulder_left", "elbow_left", "wrist_left", "hand_left", "handtip_left", "thumb_left",
     "clavicle_right", "shoulder_right", "elbow_right", "wrist_right", "hand_right", "handtip_right", "thumb_right",
     "hip_left", "knee_left", "ankle_left", "foot_left",
     "hip_right", "knee_right", "ankle_right", "foot_right",
     "head", "nose", "eye_left", "ear_left", "eye_right", "ear_right"),
    extra_bones=(("spine_navel", "spine_chest"), ("spine_chest", "neck"),
                 ("neck", "clavicle_left"), ("clavicle_left", "shoulder_left"),
                 ("neck", "clavicle_right"), ("clavicle_right", "shoulder_right"),
                 ("hand_left", "handtip_left"), ("wrist_left", "thumb_left"),
                 ("hand_right", "handtip_right"), ("wrist_right", "thumb_right"),
                 ("head", "nose"), ("nose", "eye_left"), ("eye_left", "ear_left"),
                 ("nose", "eye_right"), ("eye_right", "ear_right")),
    units="mm",
    axis_signs=(-1.0, -1.0, 1.0),
    aliases={"hip_center": "pelvis", "spine": "spine_navel", "shoulder_center": "neck"},
    skip_bones=(("spine", "shoulder_center"), ("shoulder_center", "shoulder_left"), ("shoulder_center", "shoulder_right")),
    description="Azure Kinect Body Tracking SDK k4abt_joint_id_t order (32 joints, mm, y down)",
)

LAYOUTS: dict[str, Layout] = {l.name: l for l in (KINECT_V1, UTD_MHAD, MSR_ACTION3D, KINECT_V2, AZURE_KINECT)}
CANONICAL = KINECT_V1


def get_layout(name: str | Layout) -> Layout:
    """Look a layout up by name; an unknown name is a user error, so it says which names exist."""
    if isinstance(name, Layout):
        return name
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KinactError(f"unknown joint layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None


_PLANS: dict[tuple, tuple] = {}  # (index, units, signs) -> what to_canonical does with it, worked out once


def _canonical_plan(lay: Layout) -> tuple:
    """(index, reorder?, scale, rescale?, signs, flip?) for a layout. Steps that change nothing are marked so
    they can be left out: a layout already in canonical order (Kinect v1, the datasets), in metres, or in
    canonical axes; multiplying by 1 gives the very same numbers. The live engine maps every body of every frame."""
    key = (lay.canonical_index, lay.units, lay.axis_signs, lay.num_joints)
    plan = _PLANS.get(key)
    if plan is None:
        idx = np.asarray(lay.canonical_index)
        scale = np.float32(lay.metres_per_unit)
        signs = np.asarray(lay.axis_signs, dtype=np.float32)
        plan = _PLANS[key] = (idx, not np.array_equal(idx, np.arange(lay.num_joints)), scale, float(scale) != 1.0,
                              signs, bool((signs != 1.0).any()))
    return plan


def to_canonical(joints: np.ndarray, layout: str | Layout, confidence: np.ndarray | None = None):
    """Map (..., J, 3) joints of `layout` to (..., 20, 3) canonical joints in metres and canonical axes.

    Returns the joints, or (joints, confidence) when a (..., J) confidence is given. NaNs pass through. Both
    are new arrays: sources may reuse theirs, and the tracker and the buffers keep these.
    """
    lay = get_layout(layout)
    joints = np.asarray(joints)
    if joints.shape[-2:] != (lay.num_joints, 3):
        raise KinactError(
            f"skeleton has {joints.shape[-2]} joints of {joints.shape[-1]} coordinates, layout {lay.name!r} "
            f"needs {lay.num_joints}×3"
        )
    idx, reorder, scale, rescale, signs, flip = _canonical_plan(lay)
    out = (joints[..., idx, :] if reorder else joints).astype(np.float32)  # astype copies
    if rescale:
        out *= scale
    if flip:
        out *= signs
    if confidence is None:
        return out
    confidence = np.asarray(confidence)
    if reorder or confidence.shape[-1:] != (lay.num_joints,):
        return out, confidence[..., idx]
    return out, confidence.copy()


def from_canonical_axes(joints: np.ndarray, layout: str | Layout) -> np.ndarray:
    """Canonical metres/axes back to a layout's own units and axes (same joint set); used to project for drawing."""
    lay = get_layout(layout)
    return np.asarray(joints, np.float32) * np.asarray(lay.axis_signs, np.float32) / np.float32(lay.metres_per_unit)
