"""What a .kinrec file contains, byte for byte: constants, the header, and the three message encodings.

Kept apart from the writer and the reader so that the format is defined in exactly one place (docs/kinrec.md
is its prose twin). Binary channels use ROS 2 CDR with `ros2msg` schemas rather than a private struct: the
layout is just as simple (a fixed little-endian header followed by raw arrays), but Foxglove, Lichtblick and
other MCAP tools already decode it, so a recording opens in a standard viewer with the depth shown as an image
(`sensor_msgs/msg/Image`, encoding `16UC1`) and the joints browsable. Foxglove's RawImage with JSON encoding
was the other candidate; JSON would carry the depth as base64, a third larger and slow to encode at 30 fps.
Segments are rare and tiny, so they are plain JSON with a JSON schema: readable by anything.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Body
from kinact.core.layouts import LAYOUTS
from kinact.core.recording.intrinsics import Intrinsics

PROFILE = "kinact"
FORMAT_VERSION = "1"
EXTENSIONS = (".kinrec", ".mcap")
HEADER_METADATA = "kinact.header"  # written at open: everything needed to interpret the messages
USER_METADATA = "kinact.user"  # the caller's free-form dict, kept apart so its keys never clash with ours
SUMMARY_METADATA = "kinact.summary"  # written at close: frame count and body ids, so readers need not scan

TOPIC_BODIES, TOPIC_DEPTH, TOPIC_SEGMENTS = "/bodies", "/depth", "/segments"
#: Channel ids are fixed by the profile, so frames stay readable even if the chunk holding the channel
#: records is the one that got damaged.
CHANNEL_IDS = {TOPIC_BODIES: 1, TOPIC_DEPTH: 2, TOPIC_SEGMENTS: 3}

BODIES_SCHEMA_NAME = "kinact/msg/Bodies"
BODIES_SCHEMA = """\
# One frame of skeleton tracking; a frame with nobody in view is still a message.
uint32 frame_index      # Frame.index as given by the source
uint32 num_joints       # J, fixed by the recording's layout
kinact/Body[] bodies
================================================================================
MSG: kinact/Body
int64 id                # the sensor's tracking id, stable while it keeps the person
float32[] joints        # J*3, row-major (x, y, z) in the layout's units and axes
float32[] confidence    # J, 0..1
"""
DEPTH_SCHEMA_NAME = "sensor_msgs/msg/Image"
DEPTH_SCHEMA = """\
std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec
"""
SEGMENT_SCHEMA_NAME = "kinact.Segment"
SEGMENT_SCHEMA = json.dumps({
    "title": "kinact.Segment",
    "description": "A labelled stretch of a recording, times in seconds on the frames' clock",
    "type": "object",
    "properties": {
        "start": {"type": "number"},
        "end": {"type": "number"},
        "action": {"type": "string"},
        "body_id": {"type": ["integer", "null"]},
        "label": {"type": ["integer", "null"]},
    },
    "required": ["start", "end", "action"],
}, indent=1)

_CDR_LE = b"\x00\x01\x00\x00"  # CDR encapsulation header: plain CDR, little-endian
_BODIES_HEAD = struct.Struct("<4sIII4x")  # encapsulation, frame_index, num_joints, body count, pad to 8
# encapsulation, sec, nanosec, len("depth\0"), "depth\0", pad, height, width, len("16UC1\0"), "16UC1\0",
# is_bigendian, pad, step, data length -> 52 bytes, then the raw little-endian uint16 pixels.
_DEPTH_HEAD = struct.Struct("<4siII6s2xIII6sBxII")


@dataclass
class Segment:
    """A labelled stretch of a recording; `body_id` says who did it when several people are in view."""

    start: float
    end: float
    action: str
    body_id: int | None = None
    label: int | None = None

    def to_json(self) -> bytes:
        return json.dumps({"start": self.start, "end": self.end, "action": self.action,
                           "body_id": self.body_id, "label": self.label}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Segment":
        d = json.loads(bytes(data))
        body_id, label = d.get("body_id"), d.get("label")
        return cls(float(d["start"]), float(d["end"]), str(d["action"]),
                   None if body_id is None else int(body_id), None if label is None else int(label))


@dataclass
class KinrecHeader:
    """The "kinact.header" metadata record plus the user's "kinact.user" record, decoded."""

    layout: str
    units: str
    fps: float
    intrinsics: Intrinsics | None = None
    sensor: str = ""
    synthetic: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    created: str = ""
    version: str = FORMAT_VERSION

    def to_metadata(self) -> dict[str, str]:
        d = {"format_version": self.version, "layout": self.layout, "units": self.units, "fps": repr(float(self.fps)),
             "sensor": self.sensor, "synthetic": "true" if self.synthetic else "false",
             "created": self.created or datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if self.intrinsics is not None:
            k = self.intrinsics
            d.update({"depth.fx": repr(float(k.fx)), "depth.fy": repr(float(k.fy)), "depth.cx": repr(float(k.cx)),
                      "depth.cy": repr(float(k.cy)), "depth.width": str(int(k.width)),
                      "depth.height": str(int(k.height)), "depth.mirrored": "true" if k.mirrored else "false"})
        return d

    @classmethod
    def from_metadata(cls, path, d: dict[str, str], user: dict[str, str] | None = None) -> "KinrecHeader":
        """Decode and check; anything missing or unknown is the file's fault, so it is a BadInputError."""
        version = d.get("format_version", "")
        if version != FORMAT_VERSION:
            if version.isdigit() and int(version) > int(FORMAT_VERSION):
                raise BadInputError(path, f"written by a newer kinact (format version {version}); "
                                          f"this one reads version {FORMAT_VERSION}")
            raise BadInputError(path, f"unknown kinact format version {version!r}")
        try:
            layout, fps = d["layout"], float(d["fps"])
            intr = None
            if "depth.fx" in d:
                intr = Intrinsics(float(d["depth.fx"]), float(d["depth.fy"]), float(d["depth.cx"]),
                                  float(d["depth.cy"]), int(d["depth.width"]), int(d["depth.height"]),
                                  d.get("depth.mirrored", "true") == "true")
        except (KeyError, ValueError) as e:
            raise BadInputError(path, f"damaged kinact header ({type(e).__name__}: {e})") from None
        if layout not in LAYOUTS:
            raise BadInputError(path, f"unknown joint layout {layout!r}; known: {', '.join(sorted(LAYOUTS))}")
        if not math.isfinite(fps) or fps <= 0:
            raise BadInputError(path, f"damaged kinact header (fps {fps})")
        return cls(layout, d.get("units", LAYOUTS[layout].units), fps, intr, d.get("sensor", ""),
                   d.get("synthetic") == "true", dict(user or {}), d.get("created", ""), version)


def _bodies_dtype(j: int) -> np.dtype:
    # Packed (no numpy padding): each body is 16 + 16*J bytes, a multiple of 8, so with the 16-byte head
    # every int64 id lands on the 8-byte boundary CDR wants and the whole array maps with one frombuffer.
    return np.dtype([("id", "<i8"), ("n3", "<u4"), ("joints", "<f4", (j, 3)), ("n1", "<u4"), ("conf", "<f4", (j,))])


def encode_bodies(frame_index: int, bodies: list[Body], num_joints: int) -> bytes:
    arr = np.empty(len(bodies), _bodies_dtype(num_joints))
    ids, joints, conf = arr["id"], arr["joints"], arr["conf"]
    for k, b in enumerate(bodies):
        ids[k], joints[k], conf[k] = b.id, b.joints, b.confidence
    arr["n3"], arr["n1"] = 3 * num_joints, num_joints
    return _BODIES_HEAD.pack(_CDR_LE, frame_index & 0xFFFFFFFF, num_joints, len(bodies)) + arr.tobytes()


def decode_bodies(buf) -> tuple[int, list[Body]]:
    """(frame_index, bodies); raises ValueError on a message that does not add up."""
    enc, frame_index, j, n = _BODIES_HEAD.unpack_from(buf, 0)
    if enc != _CDR_LE:
        raise ValueError("bodies message is not little-endian CDR")
    dt = _bodies_dtype(j)
    if len(buf) < _BODIES_HEAD.size + n * dt.itemsize:
        raise ValueError(f"bodies message too short for {n} bodies of {j} joints")
    arr = np.frombuffer(buf, dt, count=n, offset=_BODIES_HEAD.size)
    if n and (np.any(arr["n3"] != 3 * j) or np.any(arr["n1"] != j)):
        raise ValueError("bodies message has inconsistent joint counts")
    return frame_index, [Body(int(a["id"]), a["joints"].copy(), a["conf"].copy()) for a in arr]


def encode_depth(t_ns: int, depth: np.ndarray) -> bytes:
    h, w = depth.shape
    sec = min(t_ns // 1_000_000_000, 2**31 - 1)
    head = _DEPTH_HEAD.pack(_CDR_LE, sec, t_ns % 1_000_000_000, 6, b"depth\0", h, w, 6, b"16UC1\0", 0, 2 * w, 2 * h * w)
    return b"".join((head, memoryview(depth).cast("B")))


def _cdr_string(buf, pos: int) -> tuple[str, int]:
    pos += (-(pos - 4)) % 4  # CDR aligns relative to the end of the encapsulation header
    (n,) = struct.unpack_from("<I", buf, pos)
    s = bytes(buf[pos + 4:pos + 4 + n]).rstrip(b"\0").decode("utf-8", "replace")
    return s, pos + 4 + n


def decode_depth(buf) -> np.ndarray:
    """(H, W) uint16 from a sensor_msgs/Image message; parsed field by field so other writers' images work too."""
    if bytes(buf[:4]) != _CDR_LE:
        raise ValueError("depth message is not little-endian CDR")
    _, pos = _cdr_string(buf, 12)  # frame_id, after stamp
    pos += (-(pos - 4)) % 4
    h, w = struct.unpack_from("<II", buf, pos)
    encoding, pos = _cdr_string(buf, pos + 8)
    bigendian = buf[pos]
    pos += 1 + (-(pos + 1 - 4)) % 4
    step, n = struct.unpack_from("<II", buf, pos)
    if encoding not in ("16UC1", "mono16") or step < 2 * w or step % 2 or n < step * h or len(buf) < pos + 8 + n:
        raise ValueError(f"depth message is not a {h}x{w} 16-bit image (encoding {encoding!r}, step {step})")
    img = np.frombuffer(buf, ">u2" if bigendian else "<u2", count=h * step // 2, offset=pos + 8)
    return img.reshape(h, step // 2)[:, :w].astype(np.uint16)  # astype copies: callers get their own array
