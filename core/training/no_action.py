"""Windows of "nothing happening", cut from real recordings, for an optional no-action class.

Why: a model that only knows the dataset's actions must call every live window one of them, so a person
standing between actions gets labelled "waving" at some confidence. Live, the engine classifies a sliding
window of the checkpoint's `window_seconds`; between actions that window holds a person standing, settling
after an action or about to start one. These samples imitate exactly that, from the data itself rather than
from a synthetic pose, so the posture, the body proportions and the sensor's jitter are real.

Where stillness comes from: every UTD-MHAD recording starts and ends with the subject standing still. The
still prefix and suffix are found per sequence by `still_edges`:

* speed of a frame = the *second* largest, over joints, of the joint's speed (central difference, in the
  normalised torso units per frame), smoothed by a centred 5-frame moving average. Second largest for the
  same reason as the live low-motion rule (`pipeline.events.motion_energy`): one flickering joint is the
  commonest sensor glitch, while any real action moves at least two joints;
* a frame is still when that speed is below `STILL_RATIO` (15 %) of the sequence's own peak smoothed speed;
  relative, because subjects, actions and torso scales differ, while every recording has an action in it;
* the still prefix / suffix is the leading / trailing run of still frames. The same rule with the looser
  `SETTLE_RATIO` (40 %) gives the "settling" run: the hands coming to rest, or starting to lift.

Three kinds of window, each `length` frames long (the live window at the dataset's frame rate):

* "edge": the still prefix or suffix, cropped to the window if long enough, else held: its frames are
  played forwards and backwards until the window is full (real jitter, no jump) plus `JITTER` noise;
* "settle": the still run held as above, plus the last (or first) few settling frames of the action, at most
  a quarter of the window: what the live window holds just after an action ends or just before one starts.
  Mid-sequence lulls are deliberately not used: a held pose inside an action is part of that action;
* "sway": one still frame plus a slow sway of the whole body (`SWAY` amplitude, 0.2-0.5 Hz) and jitter, for
  a person who stands less still than the dataset's subjects did.

Each window is renormalised with the checkpoint's recipe as the live worker normalises its window (centred
on its own first frame, scaled, turned), so its position in the recording leaves no trace. Everything random
comes from the generator the caller passes (data.py seeds it by (seed, epoch, index)), so resuming and DDP
stay exact; evaluation uses one fixed generator per index, so every checkpoint sees the same windows.
Skeleton only: depth descriptors of these stretches are not computed.
"""
from __future__ import annotations

import numpy as np

from kinact.core.skeleton_norm import NormRecipe, centre, face_camera, scale_by_torso

STILL_RATIO = 0.15  # still: smoothed speed below this fraction of the sequence's peak
SETTLE_RATIO = 0.40  # settling: the looser run around the still one (hands coming to rest)
SMOOTH_FRAMES = 5  # centred moving average over the per-frame speed
JITTER = 0.004  # torso units (~2 mm): sensor-like noise on held frames
SWAY = 0.03  # torso units (~1.5 cm): largest sway amplitude
KINDS = ("edge", "settle", "sway")
KIND_P = (0.5, 0.3, 0.2)


def frame_speed(x: np.ndarray, smooth: int = SMOOTH_FRAMES) -> np.ndarray:
    """(T, J, 3) → (T,) smoothed second-largest joint speed per frame (units per frame)."""
    x = np.asarray(x, np.float64)
    T = x.shape[0]
    if T < 2:
        return np.zeros(T)
    v = np.linalg.norm(np.gradient(x, axis=0), axis=-1)  # (T, J)
    s = np.sort(v, axis=1)[:, -2] if v.shape[1] > 1 else v[:, 0]
    k = max(1, min(int(smooth), T))
    padded = np.pad(s, (k // 2, k - 1 - k // 2), mode="edge")  # edge, not zeros: zeros would fake stillness
    return np.convolve(padded, np.ones(k) / k, mode="valid")


def still_edges(x: np.ndarray, ratio: float = STILL_RATIO, smooth: int = SMOOTH_FRAMES) -> tuple[int, int]:
    """(prefix, suffix): how many leading and trailing frames are still (see the module docstring).

    A sequence that never moves is still throughout: (T, T).
    """
    s = frame_speed(x, smooth)
    T = len(s)
    peak = float(s.max()) if T else 0.0
    if peak <= 1e-9:
        return T, T
    moving = np.flatnonzero(s >= ratio * peak)
    return int(moving[0]), int(T - 1 - moving[-1])


def _hold(frames: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """Fill `length` frames by playing `frames` forwards and backwards from a random start, plus jitter."""
    n = len(frames)
    if n >= length:
        start = int(rng.integers(0, n - length + 1))
        out = frames[start:start + length]
    else:
        period = max(2 * n - 2, 1)
        pos = (np.arange(length) + int(rng.integers(0, period))) % period
        out = frames[np.where(pos < n, pos, period - pos)]
    return out + rng.normal(scale=JITTER, size=out.shape).astype(np.float32)


class NoActionWindows:
    """`count` no-action windows drawn from the sequences of one split, spread evenly over them.

    Window j comes from sequence j·n // count (so every class and subject contributes equally); its kind,
    end, crop and noise come from the generator passed to `window`.
    """

    def __init__(self, joints: list[np.ndarray], count: int, length: int, norm: NormRecipe, label: int,
                 fps: float = 30.0):
        if not joints:
            raise ValueError("no-action windows need at least one sequence")
        self.joints, self.count, self.length, self.norm, self.label = joints, int(count), int(length), norm, label
        self.fps = float(fps)
        self.still = [still_edges(x) for x in joints]
        self.settle = [still_edges(x, SETTLE_RATIO) for x in joints]

    def __len__(self) -> int:
        return self.count

    def source(self, j: int) -> int:
        return j * len(self.joints) // max(self.count, 1)

    def window(self, j: int, rng: np.random.Generator) -> np.ndarray:
        """The j-th window, (length, J, 3) float32, renormalised like a live window."""
        i = self.source(j)
        x = self.joints[i]
        T, L = len(x), self.length
        (pre, suf), (spre, ssuf) = self.still[i], self.settle[i]
        ends = [e for e, n in (("start", pre), ("end", suf)) if n > 0]
        if not ends:  # no still edge at all: the calmest single frame stands in for one
            k = int(np.argmin(frame_speed(x)))
            still, tail, end = x[k:k + 1], x[:0], "end"
        else:
            end = ends[int(rng.integers(len(ends)))]
            if end == "start":
                still, tail = x[:pre], x[pre:max(pre, spre)]
            else:
                still, tail = x[T - suf:], x[min(T - suf, T - ssuf):T - suf]
        kind = KINDS[int(rng.choice(len(KINDS), p=KIND_P))]
        if kind == "sway":
            w = self._sway(still[int(rng.integers(len(still)))], rng)
        elif kind == "settle" and len(tail):
            m = int(rng.integers(1, min(len(tail), max(L // 4, 1)) + 1))
            motion = tail[-m:] if end == "end" else tail[:m]  # the frames touching the still run
            held = _hold(still, L - m, rng)
            w = np.concatenate([motion, held] if end == "end" else [held, motion])
        else:
            w = _hold(still, L, rng)
        return self._renormalise(w)

    def _sway(self, pose: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A standing pose swaying slowly: whole-body translation on a sine, mostly sideways and forwards."""
        L = self.length
        t = np.arange(L) / self.fps
        amp = rng.uniform(0.0, SWAY, size=3) * np.array([1.0, 0.3, 1.0])
        freq = rng.uniform(0.2, 0.5, size=3)
        phase = rng.uniform(0.0, 2 * np.pi, size=3)
        shift = amp * np.sin(2 * np.pi * freq * t[:, None] + phase)  # (L, 3)
        w = pose[None] + shift[:, None, :] + rng.normal(scale=JITTER, size=(L, *pose.shape))
        return w.astype(np.float32)

    def _renormalise(self, w: np.ndarray) -> np.ndarray:
        w = centre(np.asarray(w, np.float32), self.norm.centre)
        if self.norm.scale:
            w = scale_by_torso(w)
        if self.norm.face_camera:
            w = face_camera(w)
        return np.ascontiguousarray(w, dtype=np.float32)


def frame_rate(seqs) -> float:
    """The data's frame rate: median over sequences of frames / seconds (30 when durations are unknown)."""
    lengths = np.array([len(x) for x in seqs.joints], np.float64)
    durations = np.asarray(seqs.durations, np.float64)
    ok = durations > 0
    return float(np.median(lengths[ok] / durations[ok])) if ok.any() else 30.0


def no_action_windows(seqs, count: int, window_seconds: float, norm: NormRecipe, label: int) -> NoActionWindows:
    """`count` no-action windows from a SequenceSet, each as long as the live window of a checkpoint whose
    window is `window_seconds` (the live engine cuts windows by time, so this is seconds × frame rate)."""
    fps = frame_rate(seqs)
    length = max(4, int(round(window_seconds * fps)))
    return NoActionWindows(seqs.joints, count, length, norm, label, fps)
