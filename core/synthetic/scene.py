"""Scenes: one to three synthetic people, each with a script, in front of one depth camera, frame by frame.

A scene computes every performer's whole motion up front (joint angles, then joints: a minute at 30 fps is
~2 MB and a few milliseconds) so that `frame_at(i)` is random-access and deterministic: frame 500 is the same
whether it is read first, last or twice, which replay, seeking and test fixtures rely on. Only the depth image
is rendered per frame, with noise seeded by (scene seed, frame index) for the same reason.

Ground truth comes from the scripts: `segments` lists every performance as (start_s, end_s, action, body_id),
and `frame_at` also says which action each body is doing in that frame. Body ids are 1, 2, 3 and never change
(a real tracker's ids are stable too while it keeps a person). Joint confidences imitate the Kinect's
"inferred" state: 0.5 for joints hidden behind another person, behind the person's own body or outside the
image, 1 otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from kinact.core.frames import Body, Frame
from kinact.core.recording.intrinsics import KINECT_V1_DEPTH
from kinact.core.synthetic.actions import POSTURES, ScriptItem, make_script, perform
from kinact.core.synthetic.render import Box, Renderer
from kinact.core.synthetic.skeleton import DOF, NEUTRAL, BodyParams, forward_kinematics

INFERRED = 0.5
SELF_OCCLUSION = 0.15  # metres of the person's own body in front of a joint that make the Kinect infer it


class Segment(NamedTuple):
    start_s: float
    end_s: float
    action: str
    body_id: int


@dataclass
class Performer:
    """A person in the scene: their script, body and standing spot (x, z metres in camera space), facing (deg)."""

    script: list[ScriptItem]
    body: BodyParams = field(default_factory=BodyParams)
    position: tuple[float, float] = (0.0, 3.0)
    facing: float = 0.0
    seed: int = 0  # idle motion (sway, breathing)
    id: int = 0  # assigned 1.. by the scene when 0


class Scene:
    """People, camera and room; `frame_at(i)` -> (Frame with bodies and depth, {body_id: action name or None})."""

    def __init__(self, performers: list[Performer], intrinsics=KINECT_V1_DEPTH, fps: float = 30.0, seed: int = 0,
                 duration: float | None = None, sensor: str = "kinect_v1", background: str = "full",
                 noise: bool = True, depth: bool = True, floor_y: float = -1.05, wall_z: float = 3.8):
        if not 1 <= len(performers) <= 255:
            raise ValueError("a scene needs 1..255 performers")
        self.performers = list(performers)
        for k, p in enumerate(self.performers, start=1):
            if not p.id:
                p.id = k
        self.intrinsics, self.fps, self.seed, self.depth = intrinsics, float(fps), int(seed), bool(depth)
        self.floor_y = float(floor_y)
        if duration is None:
            duration = max([it.t_end for p in self.performers for it in p.script] + [9.0]) + 1.0
        self.duration = float(duration)
        self.num_frames = max(int(round(self.duration * self.fps)), 1)
        self.times = np.arange(self.num_frames) / self.fps
        self.poses = {p.id: perform(p.script, p.body, self.times, p.seed) for p in self.performers}
        self.joints = {p.id: forward_kinematics(self.poses[p.id], p.body, p.position, p.facing, self.floor_y)
                       .astype(np.float32) for p in self.performers}
        self._labels = {p.id: self._label_track(p) for p in self.performers}
        sitters = [p for p in self.performers if any("sit" in (i.action.start, i.action.end) for i in p.script)]
        self._renderer_args = dict(sensor=sensor, background=background, floor_y=self.floor_y, wall_z=wall_z,
                                   props=tuple(self._chair(p) for p in sitters), noise=noise)
        self._renderer: Renderer | None = None

    # -- ground truth ------------------------------------------------------------------------------------------
    def _label_track(self, p: Performer) -> np.ndarray:
        track = np.full(self.num_frames, None, dtype=object)
        for it in p.script:
            track[(self.times >= it.t_start) & (self.times < it.t_end)] = it.action.name
        return track

    @property
    def segments(self) -> list[Segment]:
        segs = [Segment(it.t_start, min(it.t_end, self.duration), it.action.name, p.id)
                for p in self.performers for it in p.script if it.t_start < self.duration]
        return sorted(segs)

    def labels_at(self, i: int) -> dict[int, str | None]:
        return {pid: track[i] for pid, track in self._labels.items()}

    # -- frames -------------------------------------------------------------------------------------------------
    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer(self.intrinsics, **self._renderer_args)
        return self._renderer

    def frame_at(self, i: int) -> tuple[Frame, dict[int, str | None]]:
        if not 0 <= i < self.num_frames:
            raise IndexError(f"frame {i} outside 0..{self.num_frames - 1}")
        people = [(p.id, self.joints[p.id][i], p.body) for p in self.performers]
        depth = ids = None
        if self.depth:
            depth, ids = self.renderer.render(people, np.random.default_rng([self.seed, i]))
        bodies = [Body(pid, j.copy(), self._confidence(pid, j, ids, depth)) for pid, j, _ in people]
        return Frame(t=float(self.times[i]), bodies=bodies, depth=depth, index=int(i)), self.labels_at(i)

    def _confidence(self, pid: int, joints: np.ndarray, ids: np.ndarray | None,
                    depth: np.ndarray | None = None) -> np.ndarray:
        uv = np.rint(self.intrinsics.project(joints))
        h, w = self.intrinsics.shape
        inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        conf = np.where(inside, 1.0, INFERRED).astype(np.float32)
        if ids is not None:
            u, v = uv[inside, 0].astype(int), uv[inside, 1].astype(int)
            owner = ids[v, u]
            hidden = (owner != pid) & (owner != 0)  # another person in front (the room is never in front)
            if depth is not None:  # or their own body: a hand behind the head, a back foot behind the front leg
                hidden |= self._surface(depth, u, v) < joints[inside, 2] - SELF_OCCLUSION
            conf[np.flatnonzero(inside)[hidden]] = INFERRED
        return conf

    @staticmethod
    def _surface(depth: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Nearest non-zero depth (m) in the 3x3 pixels around each (u, v); inf where there is none."""
        d = np.pad(depth.astype(np.float32), 1)
        patch = np.stack([d[v + dv, u + du] for dv in range(3) for du in range(3)])
        return np.where(patch > 0, patch, np.inf).min(0) / 1000.0

    def _chair(self, p: Performer) -> Box:
        """A seat behind a performer who sits down somewhere in their script, just under their sitting thighs."""
        sit = p.body.neutral() - NEUTRAL + POSTURES["sit"]
        sit[DOF["root_yaw"]] = 0.0
        j = forward_kinematics(sit, p.body, p.position, p.facing, self.floor_y)
        k, h = p.body.height / 1.72, p.body.height
        top = float(j[12:17:4, 1].mean() - 0.075 * k)
        a = np.radians(p.facing)
        fwd = np.array([np.sin(a), 0.0, -np.cos(a)])  # toward the sensor when facing it
        right = np.array([np.cos(a), 0.0, np.sin(a)])
        back, front = -0.28 * h - 0.12, -0.09 * h
        centre = np.array([p.position[0], (top + self.floor_y) / 2, p.position[1]]) + fwd * (back + front) / 2
        return Box(tuple(centre), (tuple(right), (0.0, 1.0, 0.0), tuple(fwd)),
                   (0.22 * k, (top - self.floor_y) / 2, (front - back) / 2))

    # -- building -----------------------------------------------------------------------------------------------
    @classmethod
    def random(cls, seed: int = 0, people: int = 1, duration: float = 60.0, actions=None, **kwargs) -> "Scene":
        """1-3 people of random build at random, well separated spots, each with their own random script."""
        if not 1 <= people <= 3:
            raise ValueError("people must be 1, 2 or 3")
        rng = np.random.default_rng(seed)
        bodies = [BodyParams.random(rng) for _ in range(people)]
        scripts = [make_script(int(rng.integers(2**31)), duration, actions) for _ in range(people)]
        facings = [float(rng.uniform(-15, 15)) for _ in range(people)]
        seeds = [int(rng.integers(2**31)) for _ in range(people)]
        jitter = rng.uniform(-1, 1, (people, 2))
        spread = 1.0
        for _ in range(8):
            spots = _spots(bodies, jitter, spread)
            performers = [Performer(s, b, xz, f, sd, k + 1)
                          for k, (s, b, xz, f, sd) in enumerate(zip(scripts, bodies, spots, facings, seeds))]
            scene = cls(performers, seed=seed, duration=duration, **kwargs)
            if people == 1 or scene.min_separation() > 0.3:
                return scene
            spread *= 1.15
        return scene

    def min_separation(self, step: int = 1) -> float:
        """Smallest distance (m) between joints of different people over the scene (inf for one person)."""
        best = np.inf
        ids = list(self.joints)
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                ja, jb = self.joints[ids[a]][::step], self.joints[ids[b]][::step]
                d = np.linalg.norm(ja[:, :, None] - jb[:, None], axis=-1).min()
                best = min(best, float(d))
        return best


def _spots(bodies, jitter, spread) -> list[tuple[float, float]]:
    """Standing spots: one person near the centre at 2.6-3.2 m; two side by side further back (the Kinect v1
    sees only ~3.6 m across at 3.3 m); three in a shallow V, the middle one in front, so all fit in view."""
    reach = [b.reach for b in bodies]
    if len(bodies) == 1:
        return [(0.25 * jitter[0, 0], 2.9 + 0.3 * jitter[0, 1])]
    if len(bodies) == 2:
        gap = (0.8 * (reach[0] + reach[1]) + 0.2) * spread  # widened by Scene.random if arms would meet
        return [(-gap / 2 + 0.08 * jitter[0, 0], 3.3 + 0.2 * jitter[0, 1]),
                (gap / 2 + 0.08 * jitter[1, 0], 3.3 + 0.2 * jitter[1, 1])]
    dz = 0.7
    gx = [np.sqrt(max(((0.8 * (reach[0] + r) + 0.2) * spread) ** 2 - dz ** 2, 0.5)) for r in reach[1:]]
    return [(0.05 * jitter[0, 0], 2.75 + 0.1 * jitter[0, 1]), (-gx[0], 2.75 + dz + 0.1 * jitter[1, 1]),
            (gx[1], 2.75 + dz + 0.1 * jitter[2, 1])]
