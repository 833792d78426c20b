"""Scripted actions: keyframed joint angles with the variation real performers show, and scripts of them.

Why keyframes and not recorded motion: the product may not ship dataset motion (research-only terms), and a
handful of poses per action, interpolated, already gives the trajectories a skeleton model keys on. What makes
synthetic sequences useful for tests and demos is the variation between two performances of the same action,
so each performance (`ScriptItem`) draws its own speed (±20%), amplitude, repetition count, per-key timing and,
for actions whose name does not fix a side, handedness; a performer adds idle sway, breathing and slow noise
on top, and every sequence begins and ends standing still, like the UTD-MHAD and MSR Action3D recordings.

Keys are (seconds since the previous key, {DOF: value}); a key inherits every value it does not name from the
key before it, `b_` names both sides at once, and an action always settles back into its end posture.
Interpolation is monotone (PCHIP slopes, zero at both ends), so the motion starts and stops smoothly, never
overshoots a key, and joint limits hold between keys. A performance also stands still for a moment inside its
own labelled span, before and after (`Action.still`), because every UTD-MHAD clip does (about a tenth of the
clip before and a sixth after): a model that sees a whole labelled span squeezed into one window expects the
motion in the middle of it, not filling it.

The keyframes are hand-written joint angles. Those of the UTD-MHAD classes were checked against per-class
statistics of the real skeletons (class-mean normalised joint positions read back as joint angles at a few
instants, durations, repetition counts, still lead-in and tail) and corrected by hand until the shipped model,
which never saw synthetic data, recognised them (`bench/performer_check.py`); no real sequence or trajectory
is stored or replayed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

from kinact.core.errors import KinactError
from kinact.core.synthetic.skeleton import DOF, NEUTRAL, NUM_DOFS, BodyParams, clip_to_limits, mirror_pose

#: Postures an action can start or end in; sitting is knees and hips at 90 degrees on a seat behind the person.
POSTURES = {"stand": NEUTRAL.copy(), "sit": NEUTRAL.copy()}
for _k, _v in {"b_hip_elev": 90, "b_knee": 90, "root_fwd": -0.28, "b_sh_plane": 80, "b_sh_elev": 25,
               "b_elbow": 55, "spine_bend": 6}.items():
    for _n in ((f"l_{_k[2:]}", f"r_{_k[2:]}") if _k.startswith("b_") else (_k,)):
        POSTURES["sit"][DOF[_n]] = _v


def expand(pose: dict) -> dict:
    """{"b_elbow": 90} -> {"l_elbow": 90, "r_elbow": 90}; unknown names are an error worth a clear message."""
    out = {}
    for k, v in pose.items():
        names = (f"l_{k[2:]}", f"r_{k[2:]}") if k.startswith("b_") else (k,)
        for n in names:
            if n not in DOF:
                raise KinactError(f"unknown joint angle {n!r} in an action keyframe")
            out[n] = float(v)
    return out


@dataclass(frozen=True)
class Action:
    """One scripted action. `utd` / `msr` are the exact class names in those datasets (None if absent)."""

    key: str
    display: str
    utd: str | None = None
    msr: str | None = None
    intro: tuple = ()
    cycle: tuple = ()
    reps: tuple[int, int] = (1, 1)
    outro: tuple = ()
    settle: float = 0.7
    still: tuple[float, float] = (0.2, 0.3)  # standing still inside the labelled span, before and after
    start: str = "stand"
    end: str = "stand"
    mirrorable: bool = False  # True only when the class name does not say which hand or foot
    scalable: bool = True  # False for posture changes: a seat does not move with the amplitude
    moves: tuple[str, ...] = ()  # canonical joints this action moves most (documentation and tests)

    @property
    def name(self) -> str:
        """The ground-truth class name: UTD-MHAD's where it has one, else MSR Action3D's, else the display name."""
        return self.utd or self.msr or self.display

    def keys(self, reps: int = 1) -> list:
        return list(self.intro) + list(self.cycle) * max(int(reps), 1 if self.cycle else 0) + list(self.outro)

    def duration(self, reps: int = 1) -> float:
        """Nominal duration in seconds at speed 1."""
        return float(sum(dt for dt, _ in self.keys(reps)) + self.settle + sum(self.still))

    def keyframes(self, reps: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Key times (K,) in nominal seconds from the start, and absolute poses (K, NUM_DOFS)."""
        times, poses = [0.0, self.still[0]], [POSTURES[self.start].copy(), POSTURES[self.start].copy()]
        for dt, pose in self.keys(reps):
            q = poses[-1].copy()
            for n, v in expand(pose).items():
                q[DOF[n]] = v
            times.append(times[-1] + float(dt))
            poses.append(q)
        times += [times[-1] + self.settle, times[-1] + self.settle + self.still[1]]
        poses += [POSTURES[self.end].copy(), POSTURES[self.end].copy()]
        return np.array(times), np.array(poses)


@dataclass(frozen=True)
class ScriptItem:
    """One performance of an action inside a script: when, and how this time (speed, size, repetitions, side)."""

    action: Action
    t_start: float
    t_end: float
    reps: int = 1
    speed: float = 1.0
    amplitude: float = 1.0
    mirrored: bool = False
    seed: int = 0


def all_actions() -> tuple[Action, ...]:
    from kinact.core.synthetic.library import ACTIONS
    return ACTIONS


def get(name: str) -> Action:
    """An action by key, display name, UTD-MHAD or MSR Action3D class name (case-insensitive)."""
    want = name.strip().lower()
    for a in all_actions():
        if want in (a.key, a.display.lower(), (a.utd or "").lower(), (a.msr or "").lower()):
            return a
    raise KinactError(f"unknown synthetic action {name!r}; known: {', '.join(a.key for a in all_actions())}")


def _perform_item(item: ScriptItem, q0: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Poses of one performance at times `tau` (seconds since its start)."""
    a = item.action
    times, poses = a.keyframes(item.reps)
    rng = np.random.default_rng(item.seed)
    dt = np.diff(times) * rng.uniform(0.88, 1.12, len(times) - 1)  # uneven timing between keys
    times = np.concatenate([[0.0], np.cumsum(dt)]) * ((item.t_end - item.t_start) / dt.sum())
    start = POSTURES[a.start]
    if item.mirrored:
        poses = mirror_pose(poses)
    amp = item.amplitude if a.scalable else 1.0
    poses = start + amp * (poses - start) + (q0 - NEUTRAL)
    # monotone slopes at the keys, but zero at the first and last: every action starts from and ends at rest
    slopes = PchipInterpolator(times, poses, axis=0).derivative()(times)
    slopes[[0, -1]] = 0.0
    return CubicHermiteSpline(times, poses, slopes, axis=0)(np.clip(tau, 0.0, times[-1]))


# Amplitude (degrees, or height fractions for translations) of the slow idle wander, per DOF.
_SWAY = np.full(NUM_DOFS, 1.0)
for _n, _v in {"root_side": 0.004, "root_fwd": 0.003, "root_up": 0.0, "root_yaw": 1.0, "spine_lean": 1.0,
               "spine_bend": 0.8, "spine_twist": 1.5, "head_nod": 2.5, "head_turn": 4.0, "shrug": 0.0,
               "b_sh_plane": 2.0, "b_sh_elev": 1.5, "b_sh_rot": 2.0, "b_elbow": 2.5, "b_wrist": 4.0, "b_hip_plane": 0.0,
               "b_hip_elev": 0.6, "b_hip_rot": 0.5, "b_knee": 0.8, "b_ankle": 0.5}.items():
    for _d in expand({_n: _v}):
        _SWAY[DOF[_d]] = _v


def _slow_noise(rng: np.random.Generator, t: np.ndarray, amp: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Sum of three random sinusoids per DOF: smooth, deterministic, cheap, and never drifting away."""
    f = rng.uniform(lo, hi, (3, amp.size))
    ph = rng.uniform(0, 2 * np.pi, (3, amp.size))
    w = rng.uniform(0.5, 1.0, (3, amp.size))
    s = (w[None] * np.sin(2 * np.pi * f[None] * t[:, None, None] + ph[None])).sum(1) / w.sum(0)
    return s * amp * 1.6


def perform(script: list[ScriptItem], body: BodyParams, times: np.ndarray, seed: int = 0) -> np.ndarray:
    """Pose vectors (T, NUM_DOFS) of one performer at `times` (seconds): the script over idle motion."""
    times = np.asarray(times, dtype=np.float64)
    rng = np.random.default_rng(seed)
    q0 = body.neutral()
    q = np.tile(q0, (times.size, 1))
    active = np.zeros(times.size)
    prev_end, posture = -np.inf, "stand"
    for item in sorted(script, key=lambda it: it.t_start) + [None]:
        # between items hold the posture the last one ended in (or the next one needs)
        start = np.inf if item is None else item.t_start
        if item is not None and item.action.start != "stand":
            posture = item.action.start
        if posture != "stand":
            q[(times >= prev_end) & (times < start)] = q0 - NEUTRAL + POSTURES[posture]
        if item is None:
            break
        prev_end, posture = item.t_end, item.action.end
        m = (times >= item.t_start) & (times < item.t_end)
        if m.any():
            q[m] = _perform_item(item, q0, times[m] - item.t_start)
            active[m] = 1.0
    breath_f = rng.uniform(0.22, 0.3)
    breath = np.sin(2 * np.pi * breath_f * times + rng.uniform(0, 2 * np.pi))
    q[:, DOF["shrug"]] += 1.5 * breath
    q[:, DOF["spine_bend"]] += 0.5 * breath
    q += _slow_noise(rng, times, _SWAY, 0.08, 0.45)
    # performing adds a little tremble to the limbs on top of the keyframes
    env = np.convolve(active, np.ones(9) / 9, mode="same")[:, None]
    q += env * _slow_noise(rng, times, _SWAY * 1.5, 0.6, 2.0)
    return clip_to_limits(q)


def draw_item(rng: np.random.Generator, act: Action, t_start: float, mirror_prob: float = 0.1) -> ScriptItem:
    """One performance of `act` from `t_start` with the variation scripts use; the realism check draws its
    performances here too, so it measures exactly the spread the demo and the synthetic source show."""
    reps = int(rng.integers(act.reps[0], act.reps[1] + 1))
    speed = float(rng.uniform(0.8, 1.2))
    dur = act.duration(reps) / speed
    mirrored = bool(act.mirrorable and rng.random() < mirror_prob)
    return ScriptItem(act, round(t_start, 4), round(t_start + dur, 4), reps, speed, float(rng.uniform(0.85, 1.1)),
                      mirrored, int(rng.integers(2**31)))


def make_script(seed: int, duration_s: float, actions=None, *, mirror_prob: float = 0.1,
                pause: tuple[float, float] = (0.8, 2.5), lead: tuple[float, float] = (0.8, 1.6),
                tail: float = 1.0) -> list[ScriptItem]:
    """A random but reproducible script: actions (names or `Action`s; default all) separated by idle pauses.

    It starts after a short still lead-in and leaves `tail` seconds of stillness at the end. Sitting down and
    standing up always come as a pair, so every script starts and ends standing. Too short a duration gives
    an empty script (the performer just stands).
    """
    rng = np.random.default_rng(seed)
    pool = [a if isinstance(a, Action) else get(a) for a in (actions or all_actions())]
    if not pool:
        raise KinactError("make_script needs at least one action")
    sit_down = next((a for a in all_actions() if a.start == "stand" and a.end == "sit"), None)
    stand_up = next((a for a in all_actions() if a.start == "sit" and a.end == "stand"), None)
    items: list[ScriptItem] = []
    t = float(rng.uniform(*lead))
    last = None
    misses = 0
    while misses < 8:  # a long action that does not fit may leave room for a shorter one
        choices = [a for a in pool if a is not last] or pool
        a = choices[int(rng.integers(len(choices)))]
        group = [sit_down, stand_up] if a.start == "sit" or a.end == "sit" else [a]
        planned, tt = [], t
        for act in group:
            planned.append(draw_item(rng, act, tt, mirror_prob))
            tt = planned[-1].t_end + float(rng.uniform(*pause))
        if planned[-1].t_end + tail > duration_s:
            misses += 1
            continue
        items += planned
        last = a
        t = tt
    return items

