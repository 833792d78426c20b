"""Hand positions to arm angles, for the actions that are about where the hand goes (drawing in the air).

People draw a figure with a bent elbow, the figure's far side well inside arm's reach and the shoulders
turning a little toward the hand; aiming a straight arm at the figure (an earlier version) gave the right
shape but the wrong elbow and reach, and the shipped model told the figures apart by exactly those. So a
drawing is written as hand-chosen points of the figure and turned into keyframe angles here, by a small
least-squares fit on the average body (angles are size-free, so they suit every performer).

Points are (out, up, forward) from the shoulder in arm lengths (shoulder to fingertip), for the drawing side.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from kinact.core.synthetic.skeleton import DOF, NEUTRAL, PROTRACTION, BodyParams, J, body_frame_joints

_BODY = BodyParams()
_ARM = sum(_BODY.length(n) for n in ("upper_arm", "forearm", "hand"))
_NAMES = ("sh_plane", "sh_elev", "sh_rot", "elbow")
_REST = body_frame_joints(NEUTRAL, _BODY)


def _rot(axis: int, deg: np.ndarray) -> np.ndarray:
    """(N,) degrees -> (N, 3, 3) rotations about body axis 0, 1 or 2 (as `skeleton._rot`)."""
    a = np.radians(deg)
    c, s, one, zero = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    m = {0: (one, zero, zero, zero, c, -s, zero, s, c), 1: (c, zero, s, zero, one, zero, -s, zero, c),
         2: (c, -s, zero, s, c, zero, zero, zero, one)}[axis]
    return np.stack(m, -1).reshape(-1, 3, 3)


_LO, _HI = np.array([-40.0, -70, -95, 0]), np.array([160.0, 180, 100, 150])


@lru_cache(maxsize=None)
def _solve(side: str, point: tuple, rot: float, twist: float, start: tuple) -> tuple:
    """Plane, elevation, rotation and elbow that put the hand on `point`: `skeleton`'s arm chain inlined and
    a few damped Gauss-Newton steps, because general forward kinematics in a library solver is slow enough
    to delay every import of the action library."""
    name = "right" if side == "r" else "left"
    sign = 1.0 if side == "r" else -1.0
    q = NEUTRAL.copy()
    q[DOF["spine_twist"]] = twist
    centre = body_frame_joints(q, _BODY)[J["shoulder_center"]]
    shoulder = _REST[J[f"shoulder_{name}"]]
    clavicle = np.array([_BODY.length("shoulder_out"), -_BODY.length("shoulder_down"), 0.0])
    target = shoulder + _ARM * np.array([sign * point[0], point[1], point[2]])
    to_body = _rot(1, np.array([twist]))[0] @ np.diag([sign, 1.0, 1.0])
    upper = np.array([0.0, -_BODY.length("upper_arm"), 0.0])
    fore = np.array([0.0, -_BODY.length("forearm") - _BODY.length("hand"), 0.0])

    def residual(p):  # (N, 4) -> (N, 4): hand error in arm lengths, and the forearm turned as asked
        limb = _rot(1, -p[:, 0]) @ _rot(2, p[:, 1]) @ _rot(1, p[:, 0] - p[:, 2])
        r_sh = to_body @ limb
        shoulder_now = centre + (to_body @ _rot(1, PROTRACTION * limb[:, 2, 1])) @ clavicle
        hand = shoulder_now + r_sh @ upper + (r_sh @ _rot(0, -p[:, 3])) @ fore
        return np.concatenate([(hand - target) / _ARM, 0.003 * (p[:, 2:3] - rot)], axis=1)

    def fit(p, free):  # Gauss-Newton on the `free` angles; the forearm's turn only moves when it must
        step = 1e-3
        for _ in range(80):
            trial = np.vstack([p, p + step * np.eye(4)[free]])
            r = residual(trial)
            jac = (r[1:] - r[0]).T / step
            delta = np.zeros(4)
            delta[free] = np.linalg.solve(jac.T @ jac + 1e-5 * np.eye(len(free)), -jac.T @ r[0])
            delta *= min(1.0, 25.0 / np.abs(delta).max())  # at most 25 degrees a step: stay on this branch
            p = np.clip(p + delta, _LO, _HI)
            if np.abs(delta).max() < 1e-2:
                break
        return p, np.abs(residual(p[None])[0, :3]).max() <= 0.01

    start = np.array(start, dtype=np.float64)
    p, ok = fit(np.array([start[0], start[1], rot, start[3]]), [0, 1, 3])
    if not ok:
        p, ok = fit(start, [0, 1, 2, 3])
    if not ok:
        raise ValueError(f"the {name} hand cannot reach {point}")
    return tuple(round(float(v), 1) for v in p)


def reach(points, dt: float, side: str = "r", rot: float = 35.0, twist_per_out: float = 15.0,
          start=(60.0, 80.0, 35.0, 45.0)) -> tuple:
    """Keys (dt, pose) that move the hand through `points`; the spine twists toward the hand as it crosses.

    `dt` is one duration for every point or one per point. Each point's fit starts from the previous one's
    answer, so consecutive keys stay on one branch of the arm's (redundant) solutions.
    """
    dts = [dt] * len(points) if np.isscalar(dt) else list(dt)
    keys, guess = [], tuple(start)
    for (x, y, z), d in zip(points, dts):
        twist = float(np.clip(twist_per_out * x, -15.0, 10.0)) * (1.0 if side == "r" else -1.0)
        guess = _solve(side, (float(x), float(y), float(z)), float(rot), twist, guess)
        pose = {f"{side}_{n}": v for n, v in zip(_NAMES, guess)}
        keys.append((d, {**pose, f"{side}_wrist": 0.0, "spine_twist": twist}))
    return tuple(keys)
