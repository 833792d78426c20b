"""Stable person ids across frames, whatever the sensor does with its own ids.

Why this exists: action labels belong to people, and a label that jumps from one person to another is the
worst thing a multi-person recogniser can show. The sensors do not make that easy. Kinect v2 and Azure
Kinect give tracking ids that are stable while they keep a person, but hand out a *new* id when someone
steps out of view and back, or after a short occlusion; some sources (datasets, slot-based SDK wrappers)
give no ids at all or give slot indices that are reused by whoever comes next. So:

* a tracking id we already know keeps its person (unless the body "teleported", which means the id was
  reused for someone else);
* any other body is matched, all at once with the Hungarian method, against the people not yet matched in
  this frame: people seen an instant ago by their constant-velocity predicted hip position (so two people
  crossing without sensor ids keep theirs), people lost within `relink_seconds` by hip distance and by
  bone-length similarity (a person's limbs do not change length, somebody else's do);
* whoever is left is a new person; people unseen for longer than `relink_seconds` are dropped.

Bodies are expected in the canonical layout (metres), which `layouts.to_canonical` gives. A body with too
few confidently tracked joints is still tracked and reported, but marked not classifiable: half a person
at the edge of the view would otherwise produce confident nonsense.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from kinact.core.frames import Body
from kinact.core.layouts import CANONICAL
from kinact.core.skeleton_norm import row_norms, valid_mask

HIP = CANONICAL.index("hip_center")
_BONES = np.array(CANONICAL.bones)
_BONE_A, _BONE_B = _BONES[:, 0].copy(), _BONES[:, 1].copy()
_BONE_ENDS = np.concatenate([_BONE_A, _BONE_B])
_INF = 1e9


@dataclass
class TrackedBody:
    """One body of one frame with the person it belongs to; `body` is what the source gave (its own layout)."""

    person: int
    sensor_id: int
    joints: np.ndarray  # (20, 3) canonical metres
    confidence: np.ndarray  # (20,)
    classifiable: bool
    primary: bool = False
    body: Body | None = None
    usable_joints: int = 0  # joints usable at the tracker's min_confidence (see `usable`); the buffers keep it


@dataclass
class TrackUpdate:
    bodies: list[TrackedBody]
    new: list[int] = field(default_factory=list)  # persons first seen in this frame
    lost: list[int] = field(default_factory=list)  # persons visible in the previous frame but not in this one
    dropped: list[int] = field(default_factory=list)  # persons forgotten (unseen longer than the relink window)
    primary: int | None = None


@dataclass
class _Track:
    person: int
    sensor_id: int | None
    hip: np.ndarray
    velocity: np.ndarray
    bones: np.ndarray
    first_seen: float
    last_seen: float
    visible: bool = True


def usable(joints: np.ndarray, confidence: np.ndarray, min_confidence: float) -> np.ndarray:
    """(J,) True for joints that are finite, not the SDKs' all-zero placeholder and confidently tracked."""
    return valid_mask(joints, confidence, min_confidence)


def hip_position(joints: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The hip centre, or the mean of the usable joints when the hip itself is not tracked; NaN if nothing is."""
    if ok[HIP]:
        return joints[HIP].astype(np.float64)
    if ok.any():
        return joints[ok].mean(0).astype(np.float64)
    return np.full(3, np.nan)


def bone_lengths(joints: np.ndarray, ok: np.ndarray, count: int | None = None) -> np.ndarray:
    """(19,) canonical bone lengths in metres, NaN where either end is not usable. count: np.count_nonzero(ok),
    when the caller has it already."""
    a, b = _BONE_A, _BONE_B
    joints, ok = np.asarray(joints), np.asarray(ok)
    ends = joints.take(_BONE_ENDS, 0)  # both ends of every bone in one gather (the tracker does this per body)
    d = ends[: len(a)] - ends[len(a) :]
    if d.dtype.kind == "f":  # `row_norms`, squaring in place
        d *= d
        out = np.sqrt(np.add.reduce(d, axis=-1)).astype(np.float64)
    else:
        out = row_norms(d).astype(np.float64)
    if (np.count_nonzero(ok) if count is None else count) < ok.size:
        out[~(ok.take(a) & ok.take(b))] = np.nan
    return out


def _finite(v: np.ndarray) -> bool:
    """np.isfinite(v).all() for a short vector (a hip position), in Python floats: a tenth of the numpy call."""
    return all(map(math.isfinite, v.tolist()))


def _length(v: np.ndarray) -> float:
    """np.linalg.norm of a 1-d vector (the very same dot and square root), without its per-call overhead: the
    tracker measures a few of these per body per frame."""
    return math.sqrt(v.dot(v))


def bone_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Median relative difference of the bones known in both; 0 (no evidence) with fewer than 4 in common."""
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < 4:
        return 0.0
    x, y = a[both], b[both]
    return float(np.median(np.abs(x - y) / np.maximum(np.maximum(x, y), 1e-6)))


class Tracker:
    """Assigns person ids to the canonical bodies of each frame; see the module docstring for the rules.

    Distances in metres, times in seconds (the frames' own clock). `primary` ("closest" or "central") also
    picks one primary user, held while visible (or lost for at most `primary_hold_seconds`).
    """

    def __init__(self, relink_seconds: float = 3.0, match_distance: float = 0.35, max_speed: float = 2.5,
                 relink_distance: float = 1.0, bone_tolerance: float = 0.2, bone_weight: float = 1.0,
                 min_joints: int = 12, min_confidence: float = 0.5, trust_ids: bool = True,
                 primary: str | None = None, primary_hold_seconds: float = 0.5, predict_seconds: float = 0.5):
        if primary not in (None, "closest", "central"):
            raise ValueError(f"primary must be 'closest', 'central' or None, got {primary!r}")
        self.relink_seconds = relink_seconds
        self.match_distance = match_distance
        self.max_speed = max_speed
        self.relink_distance = relink_distance
        self.bone_tolerance = bone_tolerance
        self.bone_weight = bone_weight
        self.min_joints = min_joints
        self.min_confidence = min_confidence
        self.trust_ids = trust_ids
        self.primary_mode = primary
        self.primary_hold_seconds = primary_hold_seconds
        self.predict_seconds = predict_seconds
        self._next_person = 1  # never reset: a person id is never handed out twice by one tracker
        self.reset()

    def reset(self) -> None:
        self._tracks: dict[int, _Track] = {}
        self._by_sensor: dict[int, int] = {}
        self._last_t: float | None = None
        self.primary: int | None = None

    @property
    def persons(self) -> dict[int, _Track]:
        """Known persons (visible or within the relink window); read-only by convention."""
        return self._tracks

    # ----------------------------------------------------------------------------------------------- update
    def update(self, t: float, bodies: list[Body]) -> TrackUpdate:
        """Ids for one frame's canonical bodies, in the order given."""
        dropped: list[int] = []
        if self._last_t is not None and t < self._last_t:  # a replay jumped back: nobody carries over
            dropped = list(self._tracks)
            self.reset()
        self._last_t = t
        for p, tr in list(self._tracks.items()):  # expire first, so nobody is re-linked to a forgotten person
            if t - tr.last_seen > self.relink_seconds:
                dropped.append(p)
                self._forget(p)
        was_visible = {p for p, tr in self._tracks.items() if tr.visible}

        counts, hips, known, bones = [], [], [], []  # per body: usable joints, hip, whether it is finite, bones
        for b in bodies:
            ok = usable(b.joints, b.confidence, self.min_confidence)
            counts.append(int(np.count_nonzero(ok)))
            hips.append(hip_position(b.joints, ok))
            known.append(_finite(hips[-1]))
            bones.append(bone_lengths(b.joints, ok, counts[-1]))
        match: dict[int, _Track] = {}
        used: set[int] = set()

        if self.trust_ids:  # known tracking ids first: the sensor knows best while it keeps someone
            for i, b in enumerate(bodies):
                person = self._by_sensor.get(int(b.id)) if b.id >= 0 else None
                if person is None or person in used:
                    continue
                tr = self._tracks[person]
                if self._teleported(tr, hips[i], t, known[i]):  # the id was handed to somebody else
                    del self._by_sensor[int(b.id)]
                    tr.sensor_id = None
                    continue
                match[i] = tr
                used.add(person)

        rest = [i for i in range(len(bodies)) if i not in match]
        cands = [tr for p, tr in self._tracks.items() if p not in used] if rest else []
        if rest and cands:
            cost = np.array([[self._cost(tr, hips[i], bones[i], t, self._sensor_says_new(bodies[i], tr))
                              for tr in cands] for i in rest])
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < _INF:
                    match[rest[r]] = cands[c]
                    used.add(cands[c].person)

        out, new = [], []
        for i, b in enumerate(bodies):
            tr = match.get(i)
            if tr is None:
                tr = self._new_track(t, hips[i], bones[i])
                new.append(tr.person)
            else:
                self._advance(tr, t, hips[i], bones[i], known[i])
            sid = int(b.id)
            if self.trust_ids and sid >= 0 and tr.sensor_id != sid:
                if tr.sensor_id is not None:
                    self._by_sensor.pop(tr.sensor_id, None)
                tr.sensor_id = sid
                self._by_sensor[sid] = tr.person
            out.append(TrackedBody(tr.person, sid, b.joints, b.confidence, counts[i] >= self.min_joints, body=b,
                                   usable_joints=counts[i]))

        seen = {tb.person for tb in out}
        lost = []
        for p, tr in list(self._tracks.items()):
            if p in seen:
                continue
            if p in was_visible:
                lost.append(p)
            tr.visible = False
        primary = self._choose_primary(t, out) if self.primary_mode else None
        return TrackUpdate(out, new, lost, dropped, primary)

    # ---------------------------------------------------------------------------------------------- helpers
    def _predicted(self, tr: _Track, t: float) -> np.ndarray:
        return tr.hip + tr.velocity * min(max(t - tr.last_seen, 0.0), self.predict_seconds)

    def _teleported(self, tr: _Track, hip: np.ndarray, t: float, finite: bool | None = None) -> bool:
        if not ((_finite(hip) if finite is None else finite) and _finite(tr.hip)):
            return False
        dt = max(t - tr.last_seen, 0.0)
        return _length(hip - self._predicted(tr, t)) > self.match_distance + 2 * self.max_speed * dt

    def _sensor_says_new(self, b: Body, tr: _Track) -> bool:
        """The body carries a tracking id other than the one this person had: linking them overrules the sensor."""
        return self.trust_ids and b.id >= 0 and tr.sensor_id is not None and int(b.id) != tr.sensor_id

    def _cost(self, tr: _Track, hip: np.ndarray, bones: np.ndarray, t: float, overrule: bool = False) -> float:
        """Hip distance to the prediction plus a bone-length term; _INF outside the gates."""
        if not (_finite(hip) and _finite(tr.hip)):
            return _INF
        dt = max(t - tr.last_seen, 0.0)
        d = _length(hip - self._predicted(tr, t))
        if d > min(self.match_distance + self.max_speed * dt, max(self.relink_distance, self.match_distance)):
            return _INF
        diff = bone_difference(tr.bones, bones)
        if (overrule or not tr.visible) and diff > self.bone_tolerance:  # a re-link needs the same body
            return _INF
        return d + self.bone_weight * diff

    def _new_track(self, t: float, hip: np.ndarray, bones: np.ndarray) -> _Track:
        tr = _Track(self._next_person, None, hip.copy(), np.zeros(3), bones.copy(), t, t)
        self._tracks[tr.person] = tr
        self._next_person += 1
        return tr

    def _advance(self, tr: _Track, t: float, hip: np.ndarray, bones: np.ndarray, finite: bool | None = None) -> None:
        """Move a matched track on to this frame's hip and bones. finite: _finite(hip), when known already."""
        dt = t - tr.last_seen
        if _finite(hip) if finite is None else finite:
            if tr.visible and dt > 1e-6 and _finite(tr.hip):
                v = (hip - tr.hip) / dt
                speed = _length(v)
                if speed > 2 * self.max_speed:  # a glitch, not a sprint
                    v *= 2 * self.max_speed / speed
                tr.velocity = 0.6 * v + 0.4 * tr.velocity
            elif not tr.visible:
                tr.velocity = np.zeros(3)  # motion before a gap says little about motion after it
            tr.hip = hip  # a new array of this frame's (from `hip_position`), kept by this track alone
        # all seen before and now (the usual case)? A NaN or inf anywhere makes the dot product NaN or inf, so one
        # call asks it; a finite dot that overflowed would only take the general branch, which gives the same.
        if math.isfinite(tr.bones.dot(bones)):
            tr.bones = 0.8 * tr.bones + 0.2 * bones
        else:
            known, fresh = np.isfinite(tr.bones), np.isfinite(bones)
            tr.bones = np.where(known & fresh, 0.8 * tr.bones + 0.2 * bones, np.where(fresh, bones, tr.bones))
        tr.last_seen = t
        tr.visible = True

    def _forget(self, person: int) -> None:
        tr = self._tracks.pop(person)
        if tr.sensor_id is not None and self._by_sensor.get(tr.sensor_id) == person:
            del self._by_sensor[tr.sensor_id]
        if self.primary == person:
            self.primary = None

    def _choose_primary(self, t: float, bodies: list[TrackedBody]) -> int | None:
        """Hold the current primary user while visible (or briefly lost); otherwise pick a new one."""
        visible = {tb.person for tb in bodies}
        cur = self._tracks.get(self.primary) if self.primary is not None else None
        if cur is None or (cur.person not in visible and t - cur.last_seen > self.primary_hold_seconds):
            self.primary = None
            options = [tb for tb in bodies if _finite(self._tracks[tb.person].hip)]
            if options:
                best = min(options, key=lambda tb: (not tb.classifiable, self._primary_key(tb.person)))
                self.primary = best.person
        for tb in bodies:
            tb.primary = tb.person == self.primary
        return self.primary

    def _primary_key(self, person: int) -> float:
        x, _, z = self._tracks[person].hip
        if self.primary_mode == "closest":
            return float(np.hypot(x, z))
        return float(abs(np.arctan2(x, max(z, 1e-6))))  # central: angle off the sensor's axis
