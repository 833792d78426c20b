"""`synthetic[:SPEC]`: scripted synthetic people as a frame source, for the demo without a sensor, for tests
and for benchmarks.

It is a file-like source (`live = False`): finite unless told to loop, seekable, and by default as fast as the
caller reads, which is what tests and benchmarks want; `paced=True` delivers frames at the stream's rate for a
demo that should look live. It is always marked `synthetic = True`, so recordings made from it and numbers
measured on it carry that mark. Joints are always in the canonical (Kinect v1) layout, whichever sensor's
image size and noise are imitated: the layout is what models consume, and inventing Kinect v2's extra hand
joints would add nothing real. `segments` holds the ground truth that stream evaluation needs.

SPEC is comma-separated key=value pairs overriding the constructor's arguments, e.g.
`synthetic:people=2,seed=3,duration=20,sensor=kinect_v2,background=removed,actions=right hand wave+squat`.
"""
from __future__ import annotations

import time

from kinact.core.errors import KinactError
from kinact.core.frames import Frame
from kinact.core.sources.base import Availability, EndOfStream, Source

_SENSORS = ("kinect_v1", "kinect_v2")


def _bool(v: str) -> bool:
    low = v.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise KinactError(f"synthetic source: {v!r} is not a yes/no value")


_PARSERS = {"seed": int, "people": int, "duration": float, "fps": float, "depth": _bool, "sensor": str,
            "loop": _bool, "paced": _bool, "background": str, "noise": _bool,
            "actions": lambda v: [a.strip() for a in v.split("+") if a.strip()]}


def parse_arg(arg: str | None) -> dict:
    """"people=2,seed=3" -> {"people": 2, "seed": 3}; a bare integer is taken as the seed."""
    out: dict = {}
    for part in (arg or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep:
            if key.isdigit():
                out["seed"] = int(key)
                continue
            raise KinactError(f"synthetic source: {part!r} is not key=value (keys: {', '.join(_PARSERS)})")
        if key not in _PARSERS:
            raise KinactError(f"synthetic source: unknown option {key!r} (known: {', '.join(_PARSERS)})")
        try:
            out[key] = _PARSERS[key](value)
        except ValueError:
            raise KinactError(f"synthetic source: bad value {value!r} for {key}") from None
    return out


class SyntheticSource(Source):
    """Scripted synthetic people (1-3) with skeletons and, optionally, Kinect-like depth images."""

    name = "synthetic"
    live = False
    synthetic = True
    layout = "kinect_v1"

    def __init__(self, arg: str | None = None, seed: int = 0, people: int = 1, duration: float = 60.0,
                 fps: float = 30.0, depth: bool = True, sensor: str = "kinect_v1", loop: bool = False,
                 paced: bool = False, background: str = "full", noise: bool = True, actions=None):
        opts = dict(seed=seed, people=people, duration=duration, fps=fps, depth=depth, sensor=sensor, loop=loop,
                    paced=paced, background=background, noise=noise, actions=actions)
        opts.update(parse_arg(arg))
        if opts["sensor"] not in _SENSORS:
            raise KinactError(f"synthetic source: sensor must be one of {', '.join(_SENSORS)}, not {opts['sensor']!r}")
        if not 1 <= int(opts["people"]) <= 3:
            raise KinactError("synthetic source: people must be 1, 2 or 3")
        if opts["background"] not in ("full", "removed", "none"):
            raise KinactError("synthetic source: background must be full, removed or none")
        if not (opts["duration"] > 0 and opts["fps"] > 0):
            raise KinactError("synthetic source: duration and fps must be positive")
        self.options = opts
        self.fps = float(opts["fps"])
        self.loop, self.paced = bool(opts["loop"]), bool(opts["paced"])
        from kinact.core.recording.intrinsics import KINECT_V1_DEPTH, KINECT_V2_DEPTH
        from kinact.core.synthetic.scene import Scene
        self.intrinsics = KINECT_V1_DEPTH if opts["sensor"] == "kinect_v1" else KINECT_V2_DEPTH
        self.scene = Scene.random(int(opts["seed"]), int(opts["people"]), float(opts["duration"]), opts["actions"],
                                  intrinsics=self.intrinsics, fps=self.fps, sensor=opts["sensor"],
                                  background=opts["background"], noise=bool(opts["noise"]), depth=bool(opts["depth"]))
        self._next = 0
        self._open = False
        self._t0 = 0.0
        self.last_labels: dict[int, str | None] = {}

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True)

    @property
    def segments(self):
        """Ground truth of one pass: [(start_s, end_s, action, body_id)]; with `loop`, it repeats every
        `period_s` seconds."""
        return self.scene.segments

    @property
    def period_s(self) -> float:
        return self.scene.num_frames / self.fps

    @property
    def num_frames(self) -> int:
        return self.scene.num_frames

    def open(self) -> None:
        self._next = 0
        self._open = True
        self._t0 = time.monotonic()

    def seek(self, index: int) -> None:
        """Next `read` returns frame `index` (paced sources keep their pace from there)."""
        if not 0 <= index < self.num_frames:
            raise KinactError(f"synthetic source: cannot seek to frame {index} of {self.num_frames}")
        self._t0 += (self._next - index) / self.fps
        self._next = int(index)

    def read(self, timeout: float = 1.0) -> Frame | None:
        if not self._open:
            raise KinactError("synthetic source: read() before open()")
        i = self._next
        if i >= self.num_frames and not self.loop:
            raise EndOfStream()
        if self.paced:
            wait = self._t0 + i / self.fps - time.monotonic()
            if wait > timeout:
                time.sleep(max(timeout, 0.0))
                return None
            if wait > 0:
                time.sleep(wait)
        frame, self.last_labels = self.scene.frame_at(i % self.num_frames)
        frame.t, frame.index = i / self.fps, i  # keeps time monotonic across loops
        self._next = i + 1
        return frame

    def close(self) -> None:
        self._open = False

    def describe(self) -> str:
        o = self.options
        return (f"synthetic ({o['people']} {'person' if o['people'] == 1 else 'people'}, seed {o['seed']}, "
                f"{o['duration']:g} s at {self.fps:g} fps, {o['sensor']}{', looping' if self.loop else ''})")
