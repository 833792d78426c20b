"""From a stream of per-window class scores to clean "action started" / "action ended" events, per person.

A classifier run every few frames on overlapping windows is noisy: scores wobble around any threshold, and a
naive argmax flickers between labels several times a second. People want one event per action. So scores
are smoothed over recent windows (exponential or plain mean), an action must clear a higher `enter` score to
start than the `exit` score it must fall below to end (hysteresis), and either change must hold for
`min_updates` consecutive windows. "Nothing happening" is its own outcome, reached three ways: the
checkpoint's no-action class wins, the window barely moves (`motion_threshold`, so a model that never saw
standing still cannot call it "waving"), or no class is confident enough to start.

All of that filtering costs latency: a live user sees an action only once smoothing, hysteresis and
`min_updates` have all agreed. Four optional rules trade some of that caution back for speed, each off by
default so the plain behaviour above is unchanged: `fast_enter` lets one window whose own (unsmoothed) score
is already decisive start or switch an action at once, and restarts the smoothing there so stale scores
cannot end it again straight away; `end_updates` lets an end wait longer than a start, so a quick start does
not also mean a jittery end; `no_action_margin` makes the no-action class win only when it beats the best
action by that much, so an action rising out of a pause can start before the pause's score has fully decayed.
`min_duration` holds a started action for that many seconds before it may end or change, against
fragmenting one action into several events.

Pure logic on numbers: no threads, no clocks (times come in with the scores), so it is tested directly.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from kinact.core.pipeline.tracker import usable


@dataclass
class ActionEvent:
    """An action of one person started or ended at `t` (the frames' clock). For an end, `confidence` is the
    peak smoothed score the action reached, which is what a log or a timeline wants to show."""

    kind: str  # "start" | "end"
    person: int
    label: str
    t: float
    confidence: float


@dataclass
class EventConfig:
    enter: float = 0.6  # smoothed score an action needs to start
    exit: float = 0.4  # smoothed score below which a running action ends
    min_updates: int = 2  # consecutive windows a change must hold
    smoothing: str = "ema"  # "ema" or "mean"
    alpha: float = 0.5  # weight of the newest window for "ema"
    window: int = 4  # windows averaged for "mean"
    motion_threshold: float = 0.0  # metres; 0 disables the low-motion rule (see motion_energy)
    no_action: str | None = None  # the checkpoint's no-action class, if any
    fast_enter: float | None = None  # one window's raw score that starts (or switches to) an action at once
    end_updates: int | None = None  # consecutive windows an end must hold; None: min_updates
    no_action_margin: float = 0.0  # the no-action class wins only when its score beats the best action's by more
    min_duration: float = 0.0  # seconds a started action runs before it may end or change

    def __post_init__(self):
        if not 0.0 <= self.exit <= self.enter <= 1.0:
            raise ValueError(f"need 0 <= exit ({self.exit}) <= enter ({self.enter}) <= 1")
        if self.smoothing not in ("ema", "mean"):
            raise ValueError(f"smoothing must be 'ema' or 'mean', got {self.smoothing!r}")
        if self.min_updates < 1 or self.window < 1 or not 0.0 < self.alpha <= 1.0:
            raise ValueError("min_updates and window must be >= 1 and alpha in (0, 1]")
        if self.end_updates is not None and self.end_updates < 1:
            raise ValueError("end_updates must be >= 1 (or None)")
        if self.fast_enter is not None and not 0.0 < self.fast_enter <= 1.0:
            raise ValueError("fast_enter must be in (0, 1] (or None)")
        if self.min_duration < 0:
            raise ValueError("min_duration must be >= 0")


@dataclass
class Decision:
    """What one window means for one person after smoothing and hysteresis."""

    label: str | None  # the running action, None when there is none
    confidence: float  # smoothed score of `label`, or of the top class when no action runs
    state: str  # "action", "ending" (running, score below exit), "no_action", "low_motion", "uncertain", "unclassifiable"
    scores: np.ndarray | None  # smoothed (K,) scores; None before any classifiable window
    top5: list[tuple[str, float]] = field(default_factory=list)
    events: list[ActionEvent] = field(default_factory=list)


@dataclass
class _Person:
    history: deque
    smoothed: np.ndarray | None = None
    active: int | None = None
    peak: float = 0.0
    pending: int | None = None
    count: int = 0
    since: float = 0.0  # when the running action started


def motion_energy(joints: np.ndarray, confidence: np.ndarray | None = None, min_confidence: float = 0.5) -> float:
    """How much a window moves, in metres: the second largest, over joints, of each joint's positional spread
    (norm of its per-axis standard deviation over time). Not a mean: a wave moves two or three joints of
    twenty and a mean would dilute it below sensor jitter. Not the largest: one flickering joint (a foot, an
    occluded hand) is the commonest sensor glitch, while any real action moves at least two joints together.
    The live pipeline does the same for fully tracked windows in batches (`pipeline.batched`, to the bit)."""
    joints = np.asarray(joints, np.float64)
    T = joints.shape[0]
    if T < 2:
        return 0.0
    conf = np.ones(joints.shape[:2]) if confidence is None else np.asarray(confidence)
    ok = usable(joints, conf, min_confidence if confidence is not None else -1.0)
    if ok.shape[1] and np.count_nonzero(ok) == ok.size:  # all usable (the usual window): no masking, same sums
        mean = joints.sum(0) / T
        var = np.square(joints - mean).sum(0) / T
        spread = np.sort(np.sqrt(var.sum(-1)))
        return float(spread[-2] if len(spread) > 1 else spread[-1])
    n = ok.sum(0)
    keep = n >= 2
    if not keep.any():
        return 0.0
    x = np.where(ok[..., None], joints, 0.0)
    mean = x.sum(0) / np.maximum(n, 1)[:, None]
    var = (np.where(ok[..., None], joints - mean, 0.0) ** 2).sum(0) / np.maximum(n, 1)[:, None]
    spread = np.sort(np.sqrt(var.sum(-1))[keep])
    return float(spread[-2] if len(spread) > 1 else spread[-1])


class EventDetector:
    """Per-person smoothing + hysteresis over class scores; emits ActionEvents."""

    def __init__(self, classes: list[str], config: EventConfig | None = None):
        self.classes = list(classes)
        self.config = config or EventConfig()
        na = self.config.no_action
        if na is not None and na not in self.classes:
            raise ValueError(f"no-action class {na!r} is not one of the classes")
        self._no_action = self.classes.index(na) if na is not None else None
        self._people: dict[int, _Person] = {}

    def active(self, person: int) -> str | None:
        p = self._people.get(person)
        return None if p is None or p.active is None else self.classes[p.active]

    @property
    def persons(self) -> list[int]:
        return list(self._people)

    def _smooth(self, p: _Person, probs: np.ndarray) -> np.ndarray:
        c = self.config
        if c.smoothing == "mean":
            p.history.append(probs)
            return np.mean(np.stack(p.history), axis=0)
        if p.smoothed is None:
            return probs.copy()
        out = np.multiply(probs, c.alpha)  # c.alpha * probs + (1 - c.alpha) * smoothed, with one array fewer
        out += np.multiply(p.smoothed, 1.0 - c.alpha)
        return out

    def update(self, person: int, t: float, probs: np.ndarray | None, motion: float | None = None) -> Decision:
        """One window's scores (None: the body was not classifiable) → the person's decision at time `t`."""
        c = self.config
        p = self._people.get(person)
        if p is None:
            p = self._people[person] = _Person(deque(maxlen=c.window))
        raw = None if probs is None else np.asarray(probs, np.float64).reshape(-1)
        if raw is not None:
            p.smoothed = self._smooth(p, raw)
        target, reason = self._target(p, raw is None, motion)
        fast = self._fast(p, raw, motion)
        if fast is not None:
            target, reason = fast, "action"
        events: list[ActionEvent] = []
        if target == p.active:
            p.pending, p.count = None, 0
        else:
            p.count = p.count + 1 if p.pending == target else 1
            p.pending = target
            need = c.min_updates if target is not None or c.end_updates is None else c.end_updates
            held = p.active is None or t - p.since >= c.min_duration
            if held and (p.count >= need or fast is not None):
                if fast is not None:  # smoothing restarts at the window that was decisive on its own
                    p.history.clear()
                    p.history.append(raw)
                    p.smoothed = raw.copy()
                s = p.smoothed
                if p.active is not None:
                    events.append(ActionEvent("end", person, self.classes[p.active], t, p.peak))
                if target is not None:
                    events.append(ActionEvent("start", person, self.classes[target], t, float(s[target])))
                    p.peak, p.since = float(s[target]), t
                p.active, p.pending, p.count = target, None, 0
        s = p.smoothed
        if p.active is not None and s is not None:
            p.peak = max(p.peak, float(s[p.active]))
        return self._decision(p, reason, events)

    def _best_action(self, s: np.ndarray, top: int | None = None) -> int:
        """Highest-scoring class other than the no-action class. top: int(s.argmax()), when known already."""
        k = int(s.argmax()) if top is None else top
        if k != self._no_action:  # the first maximum is an action: masking the no-action class would not move it
            return k
        masked = s.copy()
        masked[self._no_action] = -np.inf
        return int(masked.argmax())

    def _fast(self, p: _Person, raw: np.ndarray | None, motion: float | None) -> int | None:
        """The action one window's raw scores start (or switch to) at once under `fast_enter`, else None."""
        c = self.config
        if c.fast_enter is None or raw is None:
            return None
        if c.motion_threshold > 0 and motion is not None and motion < c.motion_threshold:
            return None
        k = self._best_action(raw)
        if k == p.active or raw[k] < c.fast_enter:
            return None
        if self._no_action is not None and raw[self._no_action] >= raw[k]:
            return None
        return k

    def _target(self, p: _Person, unclassifiable: bool, motion: float | None) -> tuple[int | None, str]:
        """The class that should be running now (None: no action) and, when None, why."""
        c, s = self.config, p.smoothed
        if unclassifiable or s is None:
            return None, "unclassifiable"
        if c.motion_threshold > 0 and motion is not None and motion < c.motion_threshold:
            return None, "low_motion"
        k = int(s.argmax())
        if self._no_action is not None and c.no_action_margin != 0.0:  # margin 0 keeps plain argmax (and ties)
            best = self._best_action(s, k)
            k = self._no_action if s[self._no_action] - s[best] > c.no_action_margin else best
        if k == self._no_action:
            return None, "no_action"
        if p.active is not None and s[p.active] >= c.exit:
            challenger = k != p.active and s[k] >= c.enter and s[k] > s[p.active]
            return (k if challenger else p.active), "action"
        if s[k] >= c.enter:
            return k, "action"
        return None, "uncertain"

    def _decision(self, p: _Person, reason: str, events: list[ActionEvent]) -> Decision:
        s = p.smoothed
        top5 = []
        if s is not None:
            order = (-s).argsort()[:5]  # np.argsort's very sort, as plain Python numbers in one go each
            top5 = [(self.classes[i], v) for i, v in zip(order.tolist(), s[order].tolist())]
        if p.active is not None:
            # still running, but its own score has dropped below `exit`: the end waits for `end_updates` (or
            # `min_duration`). Said so, so a display can fade the label instead of showing "clap 2%" as news.
            state = "action" if s[p.active] >= self.config.exit else "ending"
            return Decision(self.classes[p.active], float(s[p.active]), state, s, top5, events)
        conf = float(np.maximum.reduce(s, axis=None)) if s is not None else 0.0  # s.max() without its wrapper
        state = reason if reason != "action" else "uncertain"  # a change still waiting for min_updates
        return Decision(None, conf, state, s, top5, events)

    def vanish(self, person: int, t: float) -> list[ActionEvent]:
        """The person left (or was dropped): close a running action at `t` and forget their history."""
        p = self._people.pop(person, None)
        if p is None or p.active is None:
            return []
        return [ActionEvent("end", person, self.classes[p.active], t, p.peak)]

    def finish(self, t: float) -> list[ActionEvent]:
        """End of stream: close every running action at `t`."""
        out = []
        for person in list(self._people):
            out += self.vanish(person, t)
        return out
