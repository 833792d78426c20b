"""Your own recordings as training data: every labelled segment of every `.kinrec`/`.mcap` file is one sample.

A folder of recordings (searched recursively, sorted by path) is read once. For each segment:

* the body is the segment's `body_id` when set, else the one seen in most of its frames; a frame is tracked
  when that body is in it with half its joints usable. Segments with under `MIN_TRACKED` such frames are skipped;
* joints are mapped to the canonical layout (`layouts.to_canonical`: Kinect v2 and Azure recordings mix with
  Kinect v1 ones), repaired and normalised exactly like a dataset clip (`data.prepare_skeleton`'s steps);
* durations are seconds on the frames' clock, so 15 fps MSR and 30 fps UTD imports of one action are equally
  long; resampling to the model's T evens out frame counts. Segments of fewer than T frames are stretched
  (interpolated up): fine, but counted.

Unlabelled stretches (frames no segment covers, kept `MARGIN` seconds clear of every segment so that lead-ins
and hands coming down are not "nothing") become "no action" windows when the config turns the class on.

Splits: a whole recording, or every recording of one or more persons (metadata `subject`, which the importers
write, else the user key `person`), is held out as the test part; nothing is chosen on it (fixed epochs, no
validation). `draw_shots` keeps at most K segments per class of the training part for few-shot experiments.
"""
from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from kinact.core.errors import BadInputError, KinactError
from kinact.core.layouts import get_layout, to_canonical
from kinact.core.recording.kinrec_schema import EXTENSIONS
from kinact.core.skeleton_norm import NormRecipe, centre, face_camera, fill_untracked, scale_by_torso, valid_mask
from kinact.core.training.data import SequenceSet
from kinact.core.training.no_action import no_action_windows

MIN_TRACKED = 8  # tracked frames a segment needs to be a sample
MARGIN = 0.25  # seconds around every segment that never count as an unlabelled stretch
HOLDOUTS = ("recording", "person", "none")
_EPS = 1e-6  # seconds: segment bounds written as (n - 1) / fps must include the last frame


def find_recordings(root) -> list[str]:
    """Every .kinrec/.mcap file under `root`, sorted by path relative to it."""
    root = os.fspath(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        found += [os.path.join(folder, f) for f in files if f.lower().endswith(EXTENSIONS)]
    return sorted(found, key=lambda p: os.path.relpath(p, root).replace(os.sep, "/"))


def is_recording_folder(path) -> bool:
    """True when `path` is a folder holding recordings (at any depth): `kinact train` then trains on them."""
    return any(f.lower().endswith(EXTENSIONS) for _, _, files in os.walk(path) for f in files)


def normalise_clip(x: np.ndarray, norm: NormRecipe) -> np.ndarray:
    """Repaired canonical (T, 20, 3) metres → centred, scaled and turned as `norm` says (not resampled)."""
    x = centre(np.asarray(x, np.float32), norm.centre)
    if norm.scale:
        x = scale_by_torso(x)
    if norm.face_camera:
        x = face_camera(x)
    return np.ascontiguousarray(x, dtype=np.float32)


@dataclass
class Recording:
    path: str
    name: str  # path relative to the data folder, "/"-separated: what --holdout-value names
    person: str  # "" when the recording does not say
    fps: float
    problems: list[str] = field(default_factory=list)
    stretches: list[np.ndarray] = field(default_factory=list)  # unlabelled, repaired canonical metres


@dataclass
class Clip:
    joints: np.ndarray  # (T, 20, 3) normalised canonical joints
    action: str
    recording: int
    seconds: float
    start: float
    end: float
    body_id: int


def _tracked(body, layout) -> bool:
    ok = valid_mask(np.asarray(body.joints)[None], np.asarray(body.confidence)[None])
    return int(ok.sum()) * 2 >= layout.num_joints


def _main_body(bodies: list[dict], idx) -> int | None:
    counts: dict[int, int] = {}
    for i in idx:
        for b in bodies[i]:
            counts[b] = counts.get(b, 0) + 1
    return min(counts, key=lambda b: (-counts[b], b)) if counts else None


def _track(bodies, idx, body_id, layout) -> tuple[list[int], np.ndarray | None]:
    """(tracked frame indices, repaired canonical joints) of one body over the frames `idx`."""
    if body_id is None:
        return [], None
    sel = [int(i) for i in idx if body_id in bodies[i] and _tracked(bodies[i][body_id], layout)]
    if not sel:
        return sel, None
    joints = np.stack([bodies[i][body_id].joints for i in sel])
    conf = np.stack([bodies[i][body_id].confidence for i in sel])
    canon, c = to_canonical(joints, layout, conf)
    return sel, fill_untracked(canon, c)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def read_recording(path: str, name: str, norm: NormRecipe, index: int = 0) -> tuple[Recording, list[Clip], list[str]]:
    """(recording, its clips, descriptions of its skipped segments)."""
    from kinact.core.recording.kinrec_reader import KinrecReader

    with KinrecReader(path) as r:
        h = r.header
        times, bodies = [], []
        for f in r.iter_frames(depth=False):
            times.append(f.t)
            bodies.append({int(b.id): b for b in f.bodies})
        segments, problems = list(r.segments), list(r.problems)
    layout = get_layout(h.layout)
    times = np.asarray(times, np.float64)
    person = h.metadata.get("subject") or h.metadata.get("person") or ""
    rec = Recording(path, name, str(person), float(h.fps), problems)
    clips, skipped = [], []
    covered = np.zeros(len(times), bool)
    for s in segments:
        idx = np.flatnonzero((times >= s.start - _EPS) & (times <= s.end + _EPS))
        covered |= (times >= s.start - MARGIN) & (times <= s.end + MARGIN)
        body = s.body_id if s.body_id is not None else _main_body(bodies, idx)
        sel, x = _track(bodies, idx, body, layout)
        if len(sel) < MIN_TRACKED:
            skipped.append(f"{name}: {s.action!r} at {s.start:.2f}-{s.end:.2f} s has {len(sel)} tracked frames")
            continue
        seconds = float(times[sel[-1]] - times[sel[0]]) + 1.0 / rec.fps
        clips.append(Clip(normalise_clip(x, norm), s.action, index, seconds, s.start, s.end, int(body)))
    for a, b in _runs(~covered):
        sel, x = _track(bodies, range(a, b), _main_body(bodies, range(a, b)), layout)
        if len(sel) >= MIN_TRACKED:
            rec.stretches.append(x)
    return rec, clips, skipped


@dataclass
class KinrecData:
    """Every usable segment of a folder of recordings, in (recording, time) order."""

    root: str
    recordings: list[Recording]
    clips: list[Clip]
    skipped: list[str] = field(default_factory=list)  # segments with too few tracked frames
    unreadable: list[str] = field(default_factory=list)  # recordings that could not be opened

    def actions(self) -> set[str]:
        return {c.action for c in self.clips}

    def clips_of(self, recordings) -> list[int]:
        keep = set(recordings)
        return [i for i, c in enumerate(self.clips) if c.recording in keep]

    def counts(self, indices, classes) -> dict[str, int]:
        return {c: sum(self.clips[i].action == c for i in indices) for c in classes}

    def sequence_set(self, indices, classes) -> SequenceSet:
        """A SequenceSet of the clips `indices`; `subjects` holds each clip's recording index."""
        pos = {c: k for k, c in enumerate(classes)}
        clips = [self.clips[i] for i in indices]
        return SequenceSet(
            joints=[c.joints for c in clips], labels=np.array([pos[c.action] for c in clips], np.int64),
            subjects=np.array([c.recording for c in clips], np.int64),
            keys=[f"{self.recordings[c.recording].name}@{c.start:.2f}" for c in clips],
            durations=np.array([c.seconds for c in clips], np.float64), classes=list(classes), dataset="kinrec")

    def stretches(self, recordings) -> list[tuple[np.ndarray, float]]:
        return [(x, self.recordings[r].fps) for r in recordings for x in self.recordings[r].stretches]


def load_recordings(root, norm: NormRecipe, say=lambda msg: None) -> KinrecData:
    """Read every recording under `root`; unreadable files are skipped and listed, never silently."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise KinactError(f"{root}: data folder not found")
    paths = find_recordings(root)
    if not paths:
        raise KinactError(f"{root}: no .kinrec or .mcap recordings in this folder")
    data = KinrecData(root, [], [])
    for path in paths:
        name = os.path.relpath(path, root).replace(os.sep, "/")
        try:
            rec, clips, skipped = read_recording(path, name, norm, len(data.recordings))
        except (BadInputError, KinactError) as exc:
            data.unreadable.append(f"{name}: {exc}")
            say(f"warning: {name} could not be read and is left out ({exc})")
            continue
        if rec.problems:
            say(f"warning: {name}: {len(rec.problems)} problem(s) reading it, e.g. {rec.problems[0]}")
        data.recordings.append(rec)
        data.clips += clips
        data.skipped += skipped
    if not data.clips:
        raise KinactError(f"{root}: none of the {len(paths)} recordings has a usable labelled segment "
                          "(label actions in the app, or import dataset files with `kinact import`)")
    return data


# --------------------------------------------------------------------------------------------- splits

def _natural(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


@dataclass
class Holdout:
    by: str  # "recording", "person" or "none"
    value: str | None
    train: list[int]  # recording indices
    test: list[int]

    def describe(self) -> str:
        return "nothing held out" if self.by == "none" else f"holdout {self.by} {self.value!r}"


def person_list(value: str | None, persons: list[str]) -> list[str]:
    """The persons `--holdout-value` names: one, or several separated by commas (a cross-subject split such as
    "2,4,6,8,10" in one run); a name that itself holds a comma is taken whole. Default: the last person."""
    if value is None:
        return [persons[-1]]
    value = str(value)
    if value in persons:
        return [value]
    return list(dict.fromkeys(p.strip() for p in value.split(",") if p.strip())) or [value]


def choose_holdout(data: KinrecData, by: str | None = None, value: str | None = None) -> Holdout:
    """The test part: one whole recording (default: the last in sorted order, when there are two or more),
    every recording of one or several persons (default: the last in natural order), or nothing."""
    recs = data.recordings
    everyone = list(range(len(recs)))
    if by is None:
        by = "recording" if (len(recs) >= 2 or value is not None) else "none"
    if by not in HOLDOUTS:
        raise KinactError(f"--holdout {by!r}; choose one of {', '.join(HOLDOUTS)}")
    if by == "none":
        return Holdout("none", None, everyone, [])
    if by == "recording":
        if value is None:
            test = [len(recs) - 1]
        else:
            stem = lambda n: os.path.splitext(n)[0]  # noqa: E731
            test = [i for i, r in enumerate(recs) if value in (r.name, os.path.basename(r.name),
                                                               stem(r.name), stem(os.path.basename(r.name)))]
            if len(test) != 1:
                names = ", ".join(r.name for r in recs[:8])
                raise KinactError(f"--holdout-value {value!r} names {len(test)} recordings; give one of: {names}")
        value = recs[test[0]].name
    else:
        persons = sorted({r.person for r in recs if r.person}, key=_natural)
        if not persons:
            raise KinactError("--holdout person: no recording says who is in it (metadata 'subject' or 'person')")
        wanted = person_list(value, persons)
        if missing := [p for p in wanted if p not in persons]:
            raise KinactError(f"--holdout-value {', '.join(map(repr, missing))}: no recording of that person; "
                              f"persons: {', '.join(persons)}")
        value = ",".join(wanted)
        test = [i for i, r in enumerate(recs) if r.person in set(wanted)]
    if not (train := [i for i in everyone if i not in set(test)]):
        raise KinactError(f"{by} {value!r} is every recording: nothing would be left to train on")
    return Holdout(by, value, train, test)


def draw_shots(data: KinrecData, indices, k: int, draw: int = 0) -> list[int]:
    """At most `k` clips per action from `indices`, drawn by a generator seeded by (draw, the action's name),
    so a class's draw does not change when other classes are added."""
    if k < 1:
        raise KinactError("--shots must be at least 1")
    keep = []
    for action in sorted({data.clips[i].action for i in indices}):
        members = [i for i in indices if data.clips[i].action == action]
        rng = np.random.default_rng([int(draw), zlib.crc32(action.encode())])
        keep += [members[j] for j in rng.permutation(len(members))[:k]]
    return sorted(keep)


def class_order(actions, prior: list[str] | None = None) -> list[str]:
    """Sorted action names; when fine-tuning, the names the checkpoint knows come first in its order."""
    actions = set(actions)
    shared = [c for c in (prior or []) if c in actions]
    return shared + sorted(actions - set(shared))


# --------------------------------------------------------------------------------------------- no action

class StretchWindows:
    """"No action" windows: unlabelled stretches (each at its own fps) tiled into windows of `window_seconds`,
    an evenly spread `count` of them kept. `window(j, rng)` shifts tile j by up to half a window (random in
    training, fixed per index in evaluation: data.ActionDataset) and normalises it alone, as live windows are."""

    def __init__(self, stretches: list[tuple[np.ndarray, float]], window_seconds: float, norm: NormRecipe,
                 label: int, count: int | None = None):
        self.stretches, self.norm, self.label = stretches, norm, int(label)
        slots = []
        for s, (x, fps) in enumerate(stretches):
            length = max(4, int(round(window_seconds * fps)))
            slots += [(s, k * length, length) for k in range(len(x) // length)]
        if count is not None and 0 <= count < len(slots):
            pick = np.unique(np.linspace(0, len(slots) - 1, count).round().astype(int)) if count else []
            slots = [slots[i] for i in pick]
        self.slots = slots

    def __len__(self) -> int:
        return len(self.slots)

    def window(self, j: int, rng: np.random.Generator) -> np.ndarray:
        s, start, length = self.slots[j]
        x = self.stretches[s][0]
        lo, hi = max(0, start - length // 2), min(len(x) - length, start + length // 2)
        start = int(rng.integers(lo, hi + 1))
        return normalise_clip(x[start:start + length], self.norm)


# --------------------------------------------------------------------------------------------- one run

@dataclass
class KinrecOptions:
    """What the command line says beyond the config: the checkpoint to start from, the split, few-shot."""

    init_from: str | None = None
    holdout: str | None = None  # "recording", "person", "none"; None: the last recording when there are two
    holdout_value: str | None = None
    shots: int | None = None  # at most this many training segments per class
    draw: int = 0  # seed of the few-shot draw


@dataclass
class Prepared:
    classes: list[str]  # the model's classes, no-action last when on
    train: SequenceSet
    test: SequenceSet | None
    train_windows: object | None  # no-action windows (StretchWindows or no_action.NoActionWindows)
    test_windows: object | None
    window_seconds: float
    holdout: Holdout
    counts: dict  # {"train": {class: n}, "test": {class: n}}
    notes: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)


def prepare(data: KinrecData, cfg, prior=None, opts: KinrecOptions | None = None) -> Prepared:
    """Classes, split, few-shot draw, window and no-action windows of one run of `cfg` (an ExperimentConfig);
    `notes` says what was done."""
    opts, d, norm, notes = opts or KinrecOptions(), cfg.data, cfg.input.norm(), []
    actions = class_order(data.actions(), prior)
    if d.no_action and d.no_action_name in actions:
        raise KinactError(f"data.no_action_name {d.no_action_name!r} is also a labelled action in the recordings")
    classes = actions + ([d.no_action_name] if d.no_action else [])
    if len(classes) < 2:
        raise KinactError(f"the recordings hold one action ({actions[0]!r}): label two, or set data.no_action")
    hold = choose_holdout(data, opts.holdout, opts.holdout_value)
    train_idx, test_idx = data.clips_of(hold.train), data.clips_of(hold.test)
    if opts.shots:
        train_idx = draw_shots(data, train_idx, opts.shots, opts.draw)
        notes.append(f"few-shot: at most {opts.shots} segment(s) per class (draw {opts.draw})")
    if not train_idx:
        raise KinactError(f"no labelled segment left to train on ({hold.describe()})")
    if missing := [a for a in actions if a not in {data.clips[i].action for i in train_idx}]:
        notes.append(f"warning: no training segment of {', '.join(map(repr, missing))}: it cannot be learnt")
    if not test_idx:
        notes.append("no test part (" + hold.describe() + "): accuracy is not measured")
    train, test = data.sequence_set(train_idx, actions), (data.sequence_set(test_idx, actions) if test_idx else None)
    window = round(float(np.mean(train.durations)), 3)
    frames = cfg.input.frames
    if stretched := sum(len(data.clips[i].joints) < frames for i in train_idx + test_idx):
        notes.append(f"{stretched} segments shorter than the window were stretched (fewer than the model's "
                     f"{frames} frames, resampled up)")
    if data.skipped:
        notes.append(f"{len(data.skipped)} segments with fewer than {MIN_TRACKED} tracked frames were skipped "
                     f"(e.g. {data.skipped[0]})")
    train_w = test_w = None
    if d.no_action:
        label, count = len(actions), max(1, int(round(d.no_action_ratio * len(train))))
        train_w = StretchWindows(data.stretches(hold.train), window, norm, label, count)
        if not len(train_w):
            train_w = no_action_windows(train, count, window, norm, label)
            notes.append(f"no unlabelled stretch of {window:.2f} s or more: no-action windows come from the still "
                         "starts and ends of the segments")
        if test is not None:
            test_w = StretchWindows(data.stretches(hold.test), window, norm, label)
            if not len(test_w):
                test_w = no_action_windows(test, len(test), window, norm, label)
    counts = {"train": data.counts(train_idx, actions), "test": data.counts(test_idx, actions)}
    if d.no_action:
        counts["train"][d.no_action_name] = len(train_w)
        counts["test"][d.no_action_name] = len(test_w) if test_w is not None else 0
    names = lambda idx: [data.recordings[i].name for i in idx]  # noqa: E731
    report = {"dataset": "kinrec", "split": hold.describe(), "holdout": {"by": hold.by, "value": hold.value},
              "recordings": names(hold.train), "test_recordings": names(hold.test),
              "segments": {"train": len(train_idx), "test": len(test_idx)}, "class_counts": counts,
              "window_seconds": window, "stretched": int(stretched), "skipped": len(data.skipped),
              "shots": opts.shots, "draw": opts.draw if opts.shots else None}
    return Prepared(classes, train, test, train_w, test_w, window, hold, counts, notes, report)
