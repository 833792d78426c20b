"""A procedural kinematic human on the canonical 20 joints: joint angles in, Kinect-like joint positions out.

Scripted motion is written as joint angles rather than joint positions because angles keep every bone its
length at every frame for free (a Kinect skeleton's bones wobble by a centimetre or two; a model must not learn
that they may stretch by ten) and because joint limits are then simple clips. Proportions are fitted to real
Kinect v1 skeletons (UTD-MHAD): the tracker's "spine" sits just above the hip centre, its shoulders hang
about 11 cm below the shoulder centre and its foot joint lies mostly *below* the ankle, so a body built from
textbook anthropometry would not look like the data models are trained on. The same data shaped the relaxed
pose (arms hanging close to the body, forearms turned in) and two couplings a rigid torso lacks: the
shoulder joint glides forward and back with the upper arm (`PROTRACTION`), and reaching high lifts the
whole body onto the toes (`root_up`), both of which the shipped model turned out to rely on.

Conventions. A pose is a vector of `NUM_DOFS` values (`DOFS` names them): angles in degrees, translations in
fractions of body height (so a script scales with the person; `root_up` >= 0 lifts the body off its feet).
Limb angles are given per side in that side's own frame (out, up, forward), so one set of numbers means the
same movement on either side and mirroring an action is a swap of the `l_`/`r_` entries. The shoulder (and
hip) uses the plane-of-elevation / elevation / axial-rotation form (ISB): `plane` 0 = out to the side,
90 = straight ahead, >90 across the body; `elev` the angle away from hanging straight down (negative = behind,
in that plane); `rot` positive = internal rotation, defined so that with `rot` 0 the elbow always folds the
forearm forward (arms) and the knee folds backward (legs), whatever the plane. The foot is kept level unless
`ankle` tilts it (positive = toes up). Body frame: X = the person's right, Y = up, Z = the way they face;
`forward_kinematics` then turns it into canonical camera space (a person facing the sensor looks along -z and
has their left at smaller x).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kinact.core.layouts import CANONICAL_JOINTS

_SIDE_DOFS = (("sh_plane", -40, 160), ("sh_elev", -70, 180), ("sh_rot", -95, 100), ("elbow", 0, 150),
              ("wrist", -70, 70), ("hip_plane", -20, 100), ("hip_elev", -35, 125), ("hip_rot", -40, 45),
              ("knee", 0, 150), ("ankle", -45, 80))
_DOF_TABLE = (("root_side", -0.3, 0.3), ("root_fwd", -0.35, 0.35), ("root_up", 0.0, 0.08), ("root_yaw", -90, 90),
              ("spine_bend", -25, 100), ("spine_lean", -35, 35), ("spine_twist", -60, 60),
              ("head_nod", -40, 60), ("head_turn", -70, 70), ("shrug", -8, 15)) + tuple(
    (f"{s}_{n}", lo, hi) for s in ("l", "r") for n, lo, hi in _SIDE_DOFS)

#: Names of the pose vector's entries (see the module docstring for units and signs).
DOFS: tuple[str, ...] = tuple(d[0] for d in _DOF_TABLE)
NUM_DOFS = len(DOFS)
DOF = {n: i for i, n in enumerate(DOFS)}
#: (NUM_DOFS, 2) lower and upper limit of each entry: the scripted motion is clipped to these.
LIMITS = np.array([(d[1], d[2]) for d in _DOF_TABLE], dtype=np.float64)

#: Standing relaxed: arms hang close to the body, elbows soft, forearms turned in (as UTD-MHAD people stand).
NEUTRAL = np.zeros(NUM_DOFS)
for _s in ("l", "r"):
    NEUTRAL[DOF[f"{_s}_sh_plane"]] = 10.0
    NEUTRAL[DOF[f"{_s}_sh_rot"]] = 30.0
    NEUTRAL[DOF[f"{_s}_sh_elev"]] = 10.0
    NEUTRAL[DOF[f"{_s}_elbow"]] = 15.0
    NEUTRAL[DOF[f"{_s}_hip_plane"]] = 90.0
    NEUTRAL[DOF[f"{_s}_hip_rot"]] = -8.0  # toes turned slightly out
del _s

# Canonical joint indices used below and by the renderer and the tests.
J = {n: i for i, n in enumerate(CANONICAL_JOINTS)}
_MIRROR_DOFS = np.array([DOF[n.replace("l_", "#", 1).replace("r_", "l_", 1).replace("#", "r_", 1)]
                         if n[:2] in ("l_", "r_") else i for i, n in enumerate(DOFS)])
_MIRROR_SIGN = np.array([-1.0 if n in ("root_side", "root_yaw", "spine_lean", "spine_twist", "head_turn") else 1.0
                         for n in DOFS])

#: Degrees the shoulder swings forward about the neck when the upper arm points straight ahead (and back when
#: it points behind): the shoulder blade glides round the ribs, and Kinect shoulders move ~4 cm with it.
PROTRACTION = 22.0

#: Segment lengths as fractions of body height, fitted to Kinect v1 skeletons (see the module docstring).
PROPORTIONS = {
    "pelvis_up": 0.048, "spine": 0.203, "neck": 0.110, "shoulder_out": 0.097, "shoulder_down": 0.065,
    "upper_arm": 0.161, "forearm": 0.141, "hand": 0.038, "hip_out": 0.044, "hip_down": 0.044,
    "thigh": 0.279, "shank": 0.214, "foot": 0.052,
    "ankle_clearance": 0.066, "foot_clearance": 0.017,  # heights above the floor when standing
}


@dataclass(frozen=True)
class BodyParams:
    """One synthetic person: height (m), girth (1 = average build, drives the rendered widths only),
    per-segment length factors (people differ by a few percent in limb ratios) and their own relaxed pose."""

    height: float = 1.72
    girth: float = 1.0
    segment_scale: dict = field(default_factory=dict)
    rest: dict = field(default_factory=dict)  # DOF name -> value added to NEUTRAL

    @classmethod
    def random(cls, rng: np.random.Generator, height_range=(1.5, 1.95)) -> "BodyParams":
        scale = {k: float(rng.uniform(0.96, 1.04)) for k in ("upper_arm", "forearm", "thigh", "shank", "spine")}
        rest = {"l_sh_elev": rng.uniform(-3, 5), "r_sh_elev": rng.uniform(-3, 5), "l_elbow": rng.uniform(-5, 8),
                "r_elbow": rng.uniform(-5, 8), "spine_bend": rng.uniform(-2, 4), "head_nod": rng.uniform(-4, 6),
                "l_hip_rot": rng.uniform(-6, 4), "r_hip_rot": rng.uniform(-6, 4)}
        return cls(float(rng.uniform(*height_range)), float(rng.uniform(0.9, 1.2)), scale,
                   {k: float(v) for k, v in rest.items()})

    def length(self, name: str) -> float:
        return PROPORTIONS[name] * self.height * self.segment_scale.get(name, 1.0)

    def neutral(self) -> np.ndarray:
        """This person's relaxed standing pose."""
        q = NEUTRAL.copy()
        for k, v in self.rest.items():
            q[DOF[k]] += v
        return q

    @property
    def reach(self) -> float:
        """Hand distance from the body's vertical axis with the arm stretched sideways (for spacing people)."""
        return self.length("shoulder_out") + self.length("upper_arm") + self.length("forearm") + self.length("hand")


def clip_to_limits(q: np.ndarray) -> np.ndarray:
    return np.clip(q, LIMITS[:, 0], LIMITS[:, 1])


def mirror_pose(q: np.ndarray) -> np.ndarray:
    """The same movement done with the other side (a left-handed performer)."""
    q = np.asarray(q)
    return q[..., _MIRROR_DOFS] * _MIRROR_SIGN


def _rot(axis: int, deg) -> np.ndarray:
    """Batched right-handed rotation about body axis 0 (X), 1 (Y) or 2 (Z): (...,) degrees -> (..., 3, 3)."""
    a = np.deg2rad(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    if axis == 0:
        m = (one, zero, zero, zero, c, -s, zero, s, c)
    elif axis == 1:
        m = (c, zero, s, zero, one, zero, -s, zero, c)
    else:
        m = (c, -s, zero, s, c, zero, zero, zero, one)
    return np.stack(m, axis=-1).reshape(a.shape + (3, 3))


def _apply(r: np.ndarray, v) -> np.ndarray:
    return np.einsum("...ij,...j->...i", r, np.broadcast_to(np.asarray(v, dtype=np.float64), r.shape[:-1]))


def _limb_rotation(q, side: str, plane: str, elev: str, rot: str) -> np.ndarray:
    """Y-Z-Y shoulder/hip rotation with the twist re-referenced so rot=0 keeps the fold direction fixed."""
    p, e, r = q[..., DOF[f"{side}_{plane}"]], q[..., DOF[f"{side}_{elev}"]], q[..., DOF[f"{side}_{rot}"]]
    return _rot(1, -p) @ _rot(2, e) @ _rot(1, p - r)


def body_frame_joints(q: np.ndarray, body: BodyParams) -> np.ndarray:
    """(..., 20, 3) joints in the body frame with the hip centre at the origin (before the floor is found)."""
    q = np.asarray(q, dtype=np.float64)
    L = body.length
    out = np.zeros(q.shape[:-1] + (20, 3))
    rt = _rot(1, q[..., DOF["spine_twist"]]) @ _rot(0, q[..., DOF["spine_bend"]]) @ _rot(2, -q[..., DOF["spine_lean"]])
    # rotation about X by +bend tips Y (up) toward +Z (forward); about Z by -lean tips up toward +X (right)
    out[..., J["spine"], :] = _apply(rt, (0, L("pelvis_up"), 0))
    sc = out[..., J["spine"], :] + _apply(rt, (0, L("spine"), 0))
    out[..., J["shoulder_center"], :] = sc
    rn = rt @ _rot(1, q[..., DOF["head_turn"]]) @ _rot(0, q[..., DOF["head_nod"]])
    out[..., J["head"], :] = sc + _apply(rn, (0, L("neck"), 0))
    clavicle = _rot(2, q[..., DOF["shrug"]])  # shrugging (and breathing) turns the shoulder line up
    for side, sign, name in (("l", -1.0, "left"), ("r", 1.0, "right")):
        s = np.diag([sign, 1.0, 1.0])
        to_body = rt @ s  # side frame (out, up, forward) -> body frame, following the torso
        limb = _limb_rotation(q, side, "sh_plane", "sh_elev", "sh_rot")
        ahead = -limb[..., 2, 1]  # how far forward the upper arm points (-1 straight back .. 1 straight ahead)
        glide = _rot(1, -PROTRACTION * ahead)  # the shoulder follows the upper arm forward or back
        sh = sc + _apply(to_body @ glide @ clavicle, (L("shoulder_out"), -L("shoulder_down"), 0.0))
        r_sh = to_body @ limb
        r_el = r_sh @ _rot(0, -q[..., DOF[f"{side}_elbow"]])  # forearm folds forward (toward +Z)
        r_wr = r_el @ _rot(0, -q[..., DOF[f"{side}_wrist"]])
        el = sh + _apply(r_sh, (0, -L("upper_arm"), 0))
        wr = el + _apply(r_el, (0, -L("forearm"), 0))
        out[..., J[f"shoulder_{name}"], :], out[..., J[f"elbow_{name}"], :] = sh, el
        out[..., J[f"wrist_{name}"], :] = wr
        out[..., J[f"hand_{name}"], :] = wr + _apply(r_wr, (0, -L("hand"), 0))
        hip = s @ np.array([L("hip_out"), -L("hip_down"), 0.0])
        r_hip = s @ _limb_rotation(q, side, "hip_plane", "hip_elev", "hip_rot")
        r_kn = r_hip @ _rot(0, q[..., DOF[f"{side}_knee"]])  # shank folds backward
        kn = hip + _apply(r_hip, (0, -L("thigh"), 0))
        an = kn + _apply(r_kn, (0, -L("shank"), 0))
        r_ft = s @ _rot(1, -q[..., DOF[f"{side}_hip_rot"]]) @ _rot(0, -q[..., DOF[f"{side}_ankle"]])
        out[..., J[f"hip_{name}"], :] = hip
        out[..., J[f"knee_{name}"], :], out[..., J[f"ankle_{name}"], :] = kn, an
        out[..., J[f"foot_{name}"], :] = an + _apply(r_ft, (0, -0.94 * L("foot"), 0.35 * L("foot")))
    return out


def ground(joints_body: np.ndarray, body: BodyParams) -> np.ndarray:
    """Height of the hip centre above the floor that puts the lowest heel or toe on the floor.

    Standing, squatting, sitting, lunging and the support leg of a kick all follow from this one rule, so
    scripts never need to say how high the pelvis is.
    """
    h = body.height
    heel = joints_body[..., [J["ankle_left"], J["ankle_right"]], 1] - (PROPORTIONS["ankle_clearance"] * h)
    toe = joints_body[..., [J["foot_left"], J["foot_right"]], 1] - (PROPORTIONS["foot_clearance"] * h)
    return -np.minimum(heel.min(-1), toe.min(-1))


def forward_kinematics(q: np.ndarray, body: BodyParams, position=(0.0, 3.0), facing: float = 0.0,
                       floor_y: float = -1.05) -> np.ndarray:
    """Pose vector(s) (..., NUM_DOFS) -> canonical joints (..., 20, 3) in metres, camera space.

    `position` is (x, z) of the standing spot on the floor in camera space, `facing` the body's turn in degrees
    (0 = facing the sensor, positive = turned toward the person's right), `floor_y` the floor height in camera
    space (minus the sensor's height above the floor).
    """
    q = np.asarray(q, dtype=np.float64)
    jb = body_frame_joints(q, body)
    lift = ground(jb, body)
    side, fwd = q[..., DOF["root_side"]] * body.height, q[..., DOF["root_fwd"]] * body.height
    up = q[..., DOF["root_up"]] * body.height  # rising onto the toes (the feet follow: they have no toes)
    shift = np.stack([side, lift + up + floor_y, fwd], -1)
    jb = jb + shift[..., None, :]
    yaw = _rot(1, facing + q[..., DOF["root_yaw"]])  # turns forward (+Z) toward the right (+X) for positive angles
    cam = np.einsum("...ij,...kj->...ki", yaw, jb) * np.array([1.0, 1.0, -1.0])  # forward = toward the sensor
    return cam + np.array([position[0], 0.0, position[1]])


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(..., 19) lengths of the canonical bones."""
    from kinact.core.layouts import KINECT_V1
    a, b = np.array(KINECT_V1.bones).T
    return np.linalg.norm(joints[..., a, :] - joints[..., b, :], axis=-1)


def flexion(joints: np.ndarray, a: str, b: str, c: str) -> np.ndarray:
    """Bend (degrees) at joint b between segments a-b and b-c: 0 = straight (elbows and knees in tests)."""
    u = joints[..., J[a], :] - joints[..., J[b], :]
    v = joints[..., J[c], :] - joints[..., J[b], :]
    cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
