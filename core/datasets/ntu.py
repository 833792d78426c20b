"""NTU RGB+D 60/120 reader: `SsssCcccPpppRrrrAaaa.skeleton` text files from the Kinect v2 SDK.

Layout of a file: the frame count; per frame the body count; per body one line of 10 values (bodyID first),
the joint count (25) and 25 lines of 12 values (x y z, depth x y, colour x y, orientation w x y z, tracking
state). Bodies are matched across frames by their 64-bit tracking id, never by their position in a frame:
the SDK lists whoever it has in any order, and people (and the odd chair taken for a person) come and go.
Absent bodies are NaN so that nothing downstream mistakes "not there" for "at the camera's origin".
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Sample

from .text import read_ascii

LAYOUT = "kinect_v2"
FPS = 30.0
NUM_JOINTS = 25

NAME_RE = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})\.skeleton$", re.IGNORECASE)

#: The 120 official action names (NTU RGB+D 60 uses the first 60); index = action number - 1.
CLASS_NAMES: tuple[str, ...] = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping", "reading", "writing", "tear up paper",
    "wear jacket", "take off jacket", "wear a shoe", "take off a shoe", "wear on glasses", "take off glasses",
    "put on a hat/cap", "take off a hat/cap", "cheer up", "hand waving", "kicking something",
    "reach into pocket", "hopping (one foot jumping)", "jump up", "make a phone call/answer phone",
    "playing with phone/tablet", "typing on a keyboard", "pointing to something with finger",
    "taking a selfie", "check time (from watch)", "rub two hands together", "nod head/bow", "shake head",
    "wipe face", "salute", "put the palms together", "cross hands in front (say stop)", "sneeze/cough",
    "staggering", "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person", "kicking other person",
    "pushing other person", "pat on back of other person", "point finger at the other person",
    "hugging other person", "giving something to other person", "touch other person's pocket",
    "handshaking", "walking towards each other", "walking apart from each other",
    # NTU RGB+D 120 additions
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball", "tennis bat swing",
    "juggling table tennis balls", "hush (quite)", "flick hair", "thumb up", "thumb down", "make ok sign",
    "make victory sign", "staple book", "counting money", "cutting nails", "cutting paper (using scissors)",
    "snapping fingers", "open bottle", "sniff (smell)", "squat down", "toss a coin", "fold paper",
    "ball up paper", "play magic cube", "apply cream on face", "apply cream on hand back", "put on bag",
    "take off bag", "put something into a bag", "take something out of a bag", "open a box",
    "move heavy objects", "shake fist", "throw up cap/hat", "hands up (both hands)", "cross arms",
    "arm circles", "arm swings", "running on the spot", "butt kicks (kick backward)", "cross toe touch",
    "side kick", "yawn", "stretch oneself", "blow nose", "hit other person with something",
    "wield knife towards other person", "knock over other person (hit with body)", "grab other person's stuff",
    "shoot at other person with a gun", "step on foot", "high-five", "cheers and drink",
    "carry something with other person", "take a photo of other person", "follow other person",
    "whisper in other person's ear", "exchange things with other person", "support somebody with hand",
    "finger-guessing game (playing rock-paper-scissors)",
)

#: Official cross-subject training performers. NTU60 has performers 1..40 and uses the first 20 of these;
#: NTU120 (106 performers) uses all 53, so one list serves both benchmarks.
XSUB_TRAIN_SUBJECTS: frozenset[int] = frozenset((
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38,
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92,
    93, 94, 95, 97, 98, 100, 103,
))
XVIEW_TRAIN_CAMERAS: frozenset[int] = frozenset((2, 3))

#: NTU's own denoising thresholds (Shahroudy et al.'s preprocessing, also used by PYSKL): bodies seen in
#: fewer frames, or whose frames are mostly wider than 0.8× their height, are tracking noise, not people.
MIN_BODY_FRAMES = 11
SPREAD_RATIO = 0.8
NOISY_FRAME_FRACTION = 0.69


class EmptySkeletonError(BadInputError):
    """A well-formed file in which no body was ever tracked (NTU ships a few hundred of these)."""


def parse_name(path: str | os.PathLike) -> dict[str, int]:
    """{'setup', 'camera', 'subject', 'replication', 'action'} (1-based) from an NTU file name."""
    m = NAME_RE.match(Path(path).name)
    if not m:
        raise BadInputError(path, "not an NTU RGB+D file name (expected SsssCcccPpppRrrrAaaa.skeleton)")
    setup, camera, subject, replication, action = (int(g) for g in m.groups())
    if not 1 <= action <= len(CLASS_NAMES):
        raise BadInputError(path, f"action {action} is not one of NTU RGB+D's {len(CLASS_NAMES)} actions")
    return {"setup": setup, "camera": camera, "subject": subject, "replication": replication, "action": action}


def _parse(path, with_joints: bool = True):
    """Walk the file: (frame count, [[(body_id, (25, 12) array or None), ...] per frame]).

    Every count is checked against what follows, so truncation or a wrong joint count is reported at its
    line instead of surfacing later as garbage coordinates.
    """
    lines = read_ascii(path).splitlines()
    if not lines or not lines[0].strip():
        raise BadInputError(path, "empty file")
    n = len(lines)
    pos = 0

    def integer(what: str, frame: int) -> int:
        nonlocal pos
        if pos >= n:
            raise BadInputError(path, f"truncated in frame {frame + 1}: expected {what} at line {pos + 1}")
        try:
            value = int(lines[pos])
        except ValueError:
            raise BadInputError(path, f"line {pos + 1}: expected {what}, got {lines[pos].strip()[:40]!r}") from None
        if value < 0:
            raise BadInputError(path, f"line {pos + 1}: negative {what}")
        pos += 1
        return value

    num_frames = integer("the frame count", -1)
    frames = []
    for t in range(num_frames):
        bodies = []
        for b in range(integer("a body count", t)):
            if pos >= n:
                raise BadInputError(path, f"truncated in frame {t + 1}: body {b + 1} missing at line {pos + 1}")
            info = lines[pos].split()
            if len(info) != 10:
                raise BadInputError(path, f"line {pos + 1} (frame {t + 1}, body {b + 1}): {len(info)} values "
                                          "in the body line, expected 10")
            try:
                body_id = int(info[0])
            except ValueError:
                raise BadInputError(path, f"line {pos + 1}: body id {info[0]!r} is not an integer") from None
            pos += 1
            joints_line = pos + 1
            nj = integer("a joint count", t)
            if nj != NUM_JOINTS:
                raise BadInputError(path, f"line {joints_line} (frame {t + 1}, body {b + 1}): {nj} joints, "
                                          f"expected {NUM_JOINTS} (Kinect v2)")
            if pos + NUM_JOINTS > n:
                raise BadInputError(path, f"truncated in frame {t + 1}: body {b + 1} has {n - pos} of "
                                          f"{NUM_JOINTS} joint lines")
            joints = _joints(path, lines, pos) if with_joints else None
            pos += NUM_JOINTS
            bodies.append((body_id, joints))
        frames.append(bodies)
    rest = [i for i in range(pos, n) if lines[i].strip()]
    if rest:
        raise BadInputError(path, f"line {rest[0] + 1}: unexpected data after the {num_frames} declared frames")
    return num_frames, frames


def _joints(path, lines, pos) -> np.ndarray:
    rows = [lines[pos + j].split() for j in range(NUM_JOINTS)]
    for j, row in enumerate(rows):
        if len(row) != 12:
            raise BadInputError(path, f"line {pos + j + 1}: {len(row)} values in a joint line, expected 12")
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise BadInputError(path, f"lines {pos + 1}-{pos + NUM_JOINTS}: non-numeric joint value ({exc})") from None


def scan(path: str | os.PathLike) -> tuple[int, list[int]]:
    """(frame count, body ids in order of appearance), checking the structure but not parsing coordinates."""
    num_frames, frames = _parse(path, with_joints=False)
    return num_frames, list(dict.fromkeys(bid for bodies in frames for bid, _ in bodies))


def read_sample(path: str | os.PathLike) -> Sample:
    """All bodies of one file: skeleton (M, T, 25, 3) metres, NaN where a body is absent.

    Confidence comes from the per-joint tracking state: tracked 1.0, inferred 0.5, not tracked (or absent) 0.
    """
    info = parse_name(path)
    num_frames, frames = _parse(path)
    ids = list(dict.fromkeys(bid for bodies in frames for bid, _ in bodies))
    if not ids:
        raise EmptySkeletonError(path, f"no body tracked in any of its {num_frames} frames")
    slot = {bid: m for m, bid in enumerate(ids)}
    skeleton = np.full((len(ids), num_frames, NUM_JOINTS, 3), np.nan, dtype=np.float32)
    confidence = np.zeros((len(ids), num_frames, NUM_JOINTS), dtype=np.float32)
    for t, bodies in enumerate(frames):
        for bid, joints in bodies:  # a repeated id within one frame: the later record wins
            skeleton[slot[bid], t] = joints[:, :3]
            state = joints[:, 11]
            confidence[slot[bid], t] = np.where(state >= 2, 1.0, np.where(state >= 1, 0.5, 0.0))
    a = info["action"]
    return Sample(skeleton=skeleton, confidence=confidence, layout=LAYOUT, label=a - 1, action=CLASS_NAMES[a - 1],
                  subject=info["subject"], trial=info["replication"], fps=FPS, path=os.fspath(path),
                  body_ids=ids, camera=info["camera"])


def main_actor_index(sample: Sample) -> int:
    """Index of the body that moves most: the one a single-person model should see.

    Motion energy = sum over joints and axes of each joint's variance over the frames the body is present
    (the NTU/PYSKL ranking, but per joint so a large still body does not outrank a small moving one).
    Bodies present in fewer than 11 frames, or mostly wider than tall (NTU's tests for furniture and
    reflections tracked as people), are ignored unless nothing else is left.
    """
    x = np.asarray(sample.skeleton, dtype=np.float64)
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"sample has no bodies (skeleton shape {x.shape})")
    present = np.isfinite(x).all(-1).all(-1)  # (M, T)
    counts = present.sum(1)
    energy = np.zeros(len(x))
    plausible = np.zeros(len(x), bool)
    for m in range(len(x)):
        seq = x[m, present[m]]
        if len(seq) == 0:
            continue
        energy[m] = float(np.var(seq, axis=0).sum())
        spread = np.ptp(seq, axis=1)  # (F, 3)
        noisy = spread[:, 0] > SPREAD_RATIO * spread[:, 1]
        plausible[m] = counts[m] >= MIN_BODY_FRAMES and noisy.mean() <= NOISY_FRAME_FRACTION
    if plausible.any():
        candidates = plausible
    else:  # everything looks like noise (e.g. a very short clip): fall back to the longest-tracked bodies
        candidates = counts == counts.max()
    return int(np.flatnonzero(candidates)[np.argmax(energy[candidates])])


def list_files(root: str | os.PathLike) -> list[Path]:
    """Every NTU `.skeleton` file under root, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "not a directory")
    found = [Path(d) / n for d, _, names in os.walk(root) for n in names if NAME_RE.match(n)]
    return sorted(found, key=lambda p: (p.name, str(p)))


def load_dataset(root: str | os.PathLike, subjects=None, actions=None, skip_empty: bool = True) -> list[Sample]:
    """Every file under root, optionally filtered by performer and by action number (e.g. range(1, 61)).

    NTU contains files in which no body was tracked; those are skipped unless skip_empty is False.
    """
    files = list_files(root)
    if not files:
        raise BadInputError(root, "no NTU RGB+D files (SsssCcccPpppRrrrAaaa.skeleton) found")
    subjects = None if subjects is None else {int(s) for s in subjects}
    actions = None if actions is None else {int(a) for a in actions}
    samples = []
    for p in files:
        info = parse_name(p)
        if (subjects is not None and info["subject"] not in subjects) or \
                (actions is not None and info["action"] not in actions):
            continue
        try:
            samples.append(read_sample(p))
        except EmptySkeletonError:
            if not skip_empty:
                raise
    return samples


def _split(samples, train) -> tuple[list[Sample], list[Sample]]:
    flags = [train(s) for s in samples]
    return [s for s, f in zip(samples, flags) if f], [s for s, f in zip(samples, flags) if not f]


def cross_subject_split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """X-sub (NTU60 and NTU120): the official training performers train, everyone else tests."""
    return _split(samples, lambda s: s.subject in XSUB_TRAIN_SUBJECTS)


def cross_view_split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """X-view (NTU60): cameras 2 and 3 train, camera 1 tests."""
    return _split(samples, lambda s: s.camera in XVIEW_TRAIN_CAMERAS)


def cross_setup_split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """X-set (NTU120): even setup numbers train, odd ones test. The setup is read from the file name."""
    return _split(samples, lambda s: parse_name(s.path)["setup"] % 2 == 0)
