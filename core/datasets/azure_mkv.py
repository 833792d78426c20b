"""Azure Kinect recorder MKV files: the depth track, its timestamps and the calibration, without the SDK.

The Azure Kinect SDK (k4arecord) is a native library that is awkward to install and absent on most machines
that only need to *read* recordings, so this module reads the Matroska container directly. Only what the
recorder writes is supported: a video track named DEPTH (or pointed to by the K4A_DEPTH_TRACK tag) with codec
V_MS/VFW/FOURCC, a BITMAPINFOHEADER whose FOURCC is "b16g", and one uncompressed frame per block. "b16g" is
*big-endian* 16-bit grey: the SDK swaps the bytes when writing and again when reading, so do we.

Timestamps follow the SDK's playback exactly: block time in ns (cluster timecode + block offset, times
TimecodeScale), integer-divided to µs, plus the K4A_START_OFFSET_NS tag. That is the *device* timestamp that
`pyk4a` reports and that the body tracker writes into its JSON, so depth frames and skeletons line up.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Iterator

import numpy as np

from kinact.core.datasets import azure_json
from kinact.core.errors import BadInputError
from kinact.core.frames import Sample

# Matroska element ids (with their length-marker bits, as they appear in the file).
EBML, DOCTYPE, SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
INFO, TIMECODE_SCALE, DURATION = 0x1549A966, 0x2AD7B1, 0x4489
TRACKS, TRACK_ENTRY, TRACK_NUMBER, TRACK_UID, TRACK_TYPE = 0x1654AE6B, 0xAE, 0xD7, 0x73C5, 0x83
TRACK_NAME, CODEC_ID, CODEC_PRIVATE, DEFAULT_DURATION = 0x536E, 0x86, 0x63A2, 0x23E383
VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT, CONTENT_ENCODINGS = 0xE0, 0xB0, 0xBA, 0x6D80
CLUSTER, CLUSTER_TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, BLOCK = 0x1F43B675, 0xE7, 0xA3, 0xA0, 0xA1
ATTACHMENTS, ATTACHED_FILE, FILE_NAME, FILE_MIME = 0x1941A469, 0x61A7, 0x466E, 0x4660
FILE_DATA, FILE_UID = 0x465C, 0x46AE
TAGS, TAG, TARGETS, TAG_TRACK_UID, TAG_ATTACHMENT_UID = 0x1254C367, 0x7373, 0x63C0, 0x63C5, 0x63C6
SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x67C8, 0x45A3, 0x4487
SEEK_HEAD, CUES, CHAPTERS = 0x114D9B74, 0x1C53BB6B, 0x1043A770
#: Elements that can only appear directly in the Segment; meeting one ends an unknown-size Cluster.
_LEVEL1 = {SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, ATTACHMENTS, TAGS, CHAPTERS, EBML, SEGMENT}
_B16G = 0x67363162  # FOURCC "b16g" as the little-endian uint32 in BITMAPINFOHEADER.biCompression

#: Depth modes by output size: the SDK's (calibration resolution, crop offset) for mode-specific intrinsics.
_DEPTH_MODES = {(320, 288): ("NFOV_2X2BINNED", 512, 96, 90), (640, 576): ("NFOV_UNBINNED", 1024, 192, 180),
                (512, 512): ("WFOV_2X2BINNED", 512, 0, 0), (1024, 1024): ("WFOV_UNBINNED", 1024, 0, 0)}


class _Ebml:
    """Random-access EBML element reader over an open file; every overrun becomes a BadInputError."""

    def __init__(self, path: str, f):
        self.path, self.f = path, f
        self.size = os.fstat(f.fileno()).st_size

    def read(self, pos: int, n: int) -> bytes:
        self.f.seek(pos)
        data = self.f.read(n)
        if len(data) != n:
            raise BadInputError(self.path, f"truncated Matroska file: needed {n} bytes at offset {pos}, "
                                           f"file ends at {self.size}")
        return data

    def vint(self, pos: int, keep_marker: bool) -> tuple[int | None, int]:
        """An EBML variable-length integer at pos → (value, length); value None means 'unknown size'."""
        first = self.read(pos, 1)[0]
        if first == 0:
            raise BadInputError(self.path, f"corrupt Matroska data at offset {pos} (invalid EBML length byte)")
        length = 8 - first.bit_length() + 1
        raw = int.from_bytes(self.read(pos, length), "big")
        if keep_marker:
            return raw, length
        value = raw & ((1 << (7 * length)) - 1)
        return (None if value == (1 << (7 * length)) - 1 else value), length

    def header(self, pos: int) -> tuple[int, int, int | None]:
        """(element id, data start, data size or None when unknown)."""
        eid, n1 = self.vint(pos, True)
        size, n2 = self.vint(pos + n1, False)
        return eid, pos + n1 + n2, size

    def element(self, pos: int, limit: int) -> tuple[int, int, int]:
        """(id, data start, data end) of the element at pos, which must be of known size and end by limit."""
        eid, data, size = self.header(pos)
        if size is not None and data + size > self.size:
            raise BadInputError(self.path, f"truncated Matroska file: element 0x{eid:X} at offset {pos} runs past "
                                           f"the end of the file ({self.size} bytes)")
        if size is None or data + size > limit:
            raise BadInputError(self.path, f"corrupt Matroska data: element 0x{eid:X} at offset {pos} overruns "
                                           f"its parent or has an unknown size")
        return eid, data, data + size

    def children(self, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """Child elements of a known-size master as (id, data start, data end)."""
        while start < end:
            eid, data, start = self.element(start, end)
            yield eid, data, start

    def uint(self, start: int, end: int) -> int:
        return int.from_bytes(self.read(start, end - start), "big") if end > start else 0

    def float(self, start: int, end: int) -> float:
        n = end - start
        return struct.unpack(">f" if n == 4 else ">d", self.read(start, n))[0] if n in (4, 8) else 0.0

    def text(self, start: int, end: int) -> str:
        return self.read(start, end - start).rstrip(b"\0").decode("utf-8", "replace")


def _fields(r: _Ebml, start: int, end: int, spec: dict, out: dict) -> dict:
    """Fill out[key] from the children named in spec {id: (key, kind)}; unknown children are skipped."""
    for eid, s, e in r.children(start, end):
        if eid in spec:
            key, kind = spec[eid]
            out[key] = (s, e) if kind == "span" else True if kind == "flag" else getattr(r, kind)(s, e)
    return out


_TRACK = {TRACK_NUMBER: ("number", "uint"), TRACK_UID: ("uid", "uint"), TRACK_TYPE: ("type", "uint"),
          TRACK_NAME: ("name", "text"), CODEC_ID: ("codec", "text"), DEFAULT_DURATION: ("default_duration_ns", "uint"),
          CONTENT_ENCODINGS: ("encoded", "flag"), CODEC_PRIVATE: ("private", "span"), VIDEO: ("video", "span")}
_ATTACHMENT = {FILE_NAME: ("name", "text"), FILE_MIME: ("mime", "text"), FILE_UID: ("uid", "uint"),
               FILE_DATA: ("data", "span")}


def _parse_tracks(r: _Ebml, start: int, end: int) -> list[dict]:
    tracks = []
    for eid, s, e in r.children(start, end):
        if eid != TRACK_ENTRY:
            continue
        t = _fields(r, s, e, _TRACK, {"number": 0, "uid": 0, "type": 0, "name": "", "codec": "",
                                      "default_duration_ns": 0, "encoded": False, "private": (0, 0),
                                      "video": (0, 0), "width": 0, "height": 0, "fourcc": None, "fourcc_text": None})
        _fields(r, *t.pop("video"), {PIXEL_WIDTH: ("width", "uint"), PIXEL_HEIGHT: ("height", "uint")}, t)
        ps, pe = t.pop("private")
        if pe - ps >= 20:  # BITMAPINFOHEADER: biSize, biWidth, biHeight, biPlanes, biBitCount, biCompression
            t["fourcc"] = struct.unpack("<I", r.read(ps + 16, 4))[0]
            t["fourcc_text"] = r.read(ps + 16, 4).decode("latin-1")
        tracks.append(t)
    return tracks


def _parse_tags(r: _Ebml, start: int, end: int, tags: dict) -> None:
    """Tag name → {"value", "track_uid", "attachment_uid"}; the recorder keeps one SimpleTag per Tag."""
    for eid, s, e in r.children(start, end):
        if eid != TAG:
            continue
        target, simple = {"track_uid": 0, "attachment_uid": 0}, []
        for cid, cs, ce in r.children(s, e):
            if cid == TARGETS:
                _fields(r, cs, ce, {TAG_TRACK_UID: ("track_uid", "uint"),
                                    TAG_ATTACHMENT_UID: ("attachment_uid", "uint")}, target)
            elif cid == SIMPLE_TAG:
                simple.append(_fields(r, cs, ce, {TAG_NAME: ("name", "text"), TAG_STRING: ("value", "text")}, {}))
        for fields in simple:
            if "name" in fields:
                tags.setdefault(fields["name"], {"value": fields.get("value", ""), **target})


def _parse_attachments(r: _Ebml, start: int, end: int) -> list[dict]:
    """Attachment metadata; the data stays on disk as (start, end) until someone asks for it."""
    return [_fields(r, s, e, _ATTACHMENT, {"name": "", "mime": "", "uid": 0, "data": (0, 0)})
            for eid, s, e in r.children(start, end) if eid == ATTACHED_FILE]


def _cluster_end(r: _Ebml, data: int) -> int:
    """End of an unknown-size Cluster (a recording that was never finalised): the next level-1 element."""
    pos = data
    while pos < r.size:
        eid, s, size = r.header(pos)
        if eid in _LEVEL1 or size is None:
            return pos
        pos = s + size
    return r.size


def _scan(r: _Ebml) -> dict:
    """One pass over the Segment's top-level elements: metadata parsed, cluster positions remembered."""
    if r.size < 4 or r.read(0, 4) != EBML.to_bytes(4, "big"):
        raise BadInputError(r.path, "not a Matroska/MKV file (no EBML header)" if r.size else "empty file")
    _, data, size = r.header(0)
    doctype = _fields(r, data, data + (size or 0), {DOCTYPE: ("doctype", "text")}, {"doctype": ""})["doctype"]
    if doctype not in ("matroska", "webm"):
        raise BadInputError(r.path, f"not a Matroska file (EBML DocType {doctype!r})")
    eid, seg, seg_size = r.header(data + (size or 0))
    if eid != SEGMENT:
        raise BadInputError(r.path, "Matroska file without a Segment")
    seg_end = r.size if seg_size is None else seg + seg_size
    if seg_end > r.size:
        raise BadInputError(r.path, f"truncated Matroska file: the Segment claims {seg_end} bytes, "
                                    f"the file has {r.size}")
    info = {"timecode_scale": 1_000_000, "duration_ticks": 0.0, "tracks": [], "tags": {}, "attachments": [],
            "clusters": []}
    pos = seg
    while pos < seg_end:
        eid, s, size = r.header(pos)
        eid, s, end = (eid, s, _cluster_end(r, s)) if eid == CLUSTER and size is None else r.element(pos, seg_end)
        if eid == INFO:
            _fields(r, s, end, {TIMECODE_SCALE: ("timecode_scale", "uint"), DURATION: ("duration_ticks", "float")},
                    info)
        elif eid == TRACKS:
            info["tracks"] += _parse_tracks(r, s, end)
        elif eid == TAGS:
            _parse_tags(r, s, end, info["tags"])
        elif eid == ATTACHMENTS:
            info["attachments"] += _parse_attachments(r, s, end)
        elif eid == CLUSTER:
            info["clusters"].append((s, end))
        pos = end
    return info


def _depth_track(path: str, info: dict) -> dict:
    """The SDK's rule: the track whose UID the K4A_DEPTH_TRACK tag names, else the track named DEPTH."""
    tag = info["tags"].get("K4A_DEPTH_TRACK") or {"track_uid": 0, "value": ""}
    uid = tag["track_uid"] or (int(tag["value"]) if tag["value"].strip().isdigit() else 0)
    track = next((t for t in info["tracks"] if uid and t["uid"] == uid), None)
    track = track or next((t for t in info["tracks"] if t["name"] == "DEPTH"), None)
    if track is None:
        names = ", ".join(repr(t["name"]) for t in info["tracks"]) or "none"
        raise BadInputError(path, f"no DEPTH track in this recording (tracks: {names})")
    if track["codec"] != "V_MS/VFW/FOURCC" or track["fourcc"] != _B16G:
        raise BadInputError(path, f"DEPTH track has codec {track['codec']!r} / FOURCC "
                                  f"{track.get('fourcc_text')!r}; only V_MS/VFW/FOURCC b16g is supported")
    if track["encoded"]:
        raise BadInputError(path, "DEPTH track uses Matroska content encoding (compression); not supported")
    if not track["width"] or not track["height"]:
        raise BadInputError(path, "DEPTH track has no pixel width/height")
    return track


def _start_offset_us(info: dict) -> int:
    tag = info["tags"].get("K4A_START_OFFSET_NS")
    return int(tag["value"]) // 1000 if tag and tag["value"].strip().isdigit() else 0


def _depth_blocks(r: _Ebml, info: dict, track: dict, with_data: bool) -> Iterator[tuple[int, bytes | None]]:
    """(device timestamp µs, big-endian payload) for every depth block, in file order."""
    scale, offset_us, number = info["timecode_scale"], _start_offset_us(info), track["number"]
    for start, end in info["clusters"]:
        cluster_tc = 0
        for eid, s, e in r.children(start, end):
            if eid == CLUSTER_TIMECODE:
                cluster_tc = r.uint(s, e)
            blocks = [(s, e)] if eid == SIMPLE_BLOCK else (
                [(bs, be) for bid, bs, be in r.children(s, e) if bid == BLOCK] if eid == BLOCK_GROUP else [])
            for bs, be in blocks:
                tn, n = r.vint(bs, False)
                if tn != number:
                    continue
                rel, flags = struct.unpack(">hB", r.read(bs + n, 3))
                if flags & 0x06:
                    raise BadInputError(r.path, f"laced depth block at offset {bs}; the recorder writes one frame "
                                                f"per block")
                t_us = (cluster_tc + rel) * scale // 1000 + offset_us
                yield t_us, (r.read(bs + n + 3, be - bs - n - 3) if with_data else None)


def _open(path) -> tuple[_Ebml, dict, dict]:
    """(reader, scanned metadata, depth track); the caller closes reader.f (a `with` on it)."""
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise BadInputError(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        r = _Ebml(path, f)
        info = _scan(r)
        return r, info, _depth_track(path, info)
    except BaseException:
        f.close()
        raise


def read_depth_frames(path) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (device timestamp in seconds, depth (H, W) uint16 mm) for every depth frame, streaming from disk."""
    r, info, track = _open(path)
    with r.f:
        h, w = track["height"], track["width"]
        for t_us, data in _depth_blocks(r, info, track, True):
            if len(data) != h * w * 2:
                raise BadInputError(r.path, f"depth frame at {t_us} µs has {len(data)} bytes, expected {h}x{w}x2")
            yield t_us / 1e6, np.frombuffer(data, dtype=">u2").reshape(h, w).astype(np.uint16)


def _calibration_text(r: _Ebml, info: dict) -> str | None:
    """The calibration attachment, found the SDK's way: by the K4A_CALIBRATION_FILE tag, then by name."""
    tag = info["tags"].get("K4A_CALIBRATION_FILE")
    atts = info["attachments"]
    att = next((a for a in atts if tag and tag["attachment_uid"] and a["uid"] == tag["attachment_uid"]), None)
    att = att or next((a for a in atts if a["name"] == (tag["value"] if tag else "calibration.json")), None)
    att = att or next((a for a in atts if a["name"] == "calibration.json"), None)
    return r.text(*att["data"]) if att else None


def depth_intrinsics(calibration_json: str | dict, width: int, height: int) -> dict | None:
    """Pixel intrinsics of the depth camera for one depth mode, computed like the SDK (in float32).

    The JSON stores the raw 1024×1024 sensor model normalised by the sensor size with (0, 0) at the top-left
    pixel *corner*; each depth mode then bins and crops that sensor. So the pixel values are
    normalised × binned size − crop offset − 0.5, not normalised × output size.
    """
    cal = json.loads(calibration_json) if isinstance(calibration_json, str) else calibration_json
    cams = cal.get("CalibrationInformation", {}).get("Cameras", [])
    cam = next((c for c in cams if c.get("Purpose") == "CALIBRATION_CameraPurposeDepth"), None)
    mode = _DEPTH_MODES.get((int(width), int(height)))
    if cam is None or mode is None:
        return None
    p = np.asarray(cam["Intrinsics"]["ModelParameters"], dtype=np.float32)
    name, binned, ox, oy = mode
    b, half = np.float32(binned), np.float32(0.5)
    cx, cy = p[0] * b - np.float32(ox) - half, p[1] * b - np.float32(oy) - half
    fx, fy = p[2] * b, p[3] * b
    dist = dict(zip(("k1", "k2", "k3", "k4", "k5", "k6", "codx", "cody", "p2", "p1"), map(float, p[4:14])))
    return {"fx": float(fx), "fy": float(fy), "cx": float(cx), "cy": float(cy), "width": int(width),
            "height": int(height), "depth_mode": name, "model": cam["Intrinsics"].get("ModelType", ""),
            "distortion": dist}


def read_info(path) -> dict:
    """Tracks, depth size, frame count, duration, fps, calibration text and depth intrinsics (no pixel reads)."""
    r, info, track = _open(path)
    with r.f:
        times = [t for t, _ in _depth_blocks(r, info, track, False)]
        calibration = _calibration_text(r, info)
    intr = None
    if calibration:
        try:
            intr = depth_intrinsics(calibration, track["width"], track["height"])
        except (ValueError, KeyError, TypeError, IndexError):
            intr = None  # a foreign calibration format: the depth itself is still fine
    period, ticks = track["default_duration_ns"], info["duration_ticks"]
    keep = ("number", "uid", "type", "name", "codec", "fourcc_text", "width", "height", "default_duration_ns")
    return {"path": r.path, "tracks": [{k: t.get(k) for k in keep} for t in info["tracks"]],
            "depth_size": (track["height"], track["width"]), "frame_count": len(times),
            "fps": 1e9 / period if period else azure_json.estimate_fps(times),
            "duration": ticks * info["timecode_scale"] / 1e9 if ticks else (times[-1] - times[0]) / 1e6 if times
            else 0.0,
            "first_timestamp": times[0] / 1e6 if times else None,
            "start_offset_usec": _start_offset_us(info), "timecode_scale": info["timecode_scale"],
            "tags": {k: v["value"] for k, v in info["tags"].items()},
            "attachments": [a["name"] for a in info["attachments"]],
            "calibration": calibration, "intrinsics": intr}


def read_sample(path, body_json=None) -> Sample:
    """All depth frames as one Sample; with an offline_processor JSON also its skeletons (layout azure_kinect).

    Without a JSON the skeleton is an empty (0, T, 32, 3) array, so code that counts bodies still works.
    With one, the JSON's frames are matched to depth frames by device timestamp (the tracker writes the
    depth image's timestamp), and frames the tracker never saw stay NaN / confidence 0.
    """
    path = os.fspath(path)
    info = read_info(path)
    h, w = info["depth_size"]
    depth = np.empty((info["frame_count"], h, w), np.uint16)  # filled in place: recordings can be GBs
    times = []
    for i, (t, d) in enumerate(read_depth_frames(path)):
        depth[i] = d
        times.append(t)
    T = len(times)
    skeleton, confidence, ids = np.zeros((0, T, 32, 3), np.float32), np.zeros((0, T, 32), np.float32), []
    if body_json is not None:
        skeleton, confidence, ids = azure_json.align_to(body_json, [round(t * 1e6) for t in times], path)
    return Sample(skeleton=skeleton, confidence=confidence, layout="azure_kinect", label=-1, action="",
                  subject=0, trial=0, fps=float(info["fps"]), path=path, depth=depth, body_ids=ids)


def have_pyk4a() -> bool:
    """Whether the native reference reader can be imported (it needs the Azure Kinect SDK libraries)."""
    try:
        import pyk4a  # noqa: F401
        return True
    except Exception:  # ImportError, or OSError when the bundled libk4a cannot load
        return False


def read_depth_frames_pyk4a(path) -> Iterator[tuple[float, np.ndarray]]:
    """The same frames through the official SDK (pyk4a), as a cross-check of the pure-Python reader."""
    from pyk4a import PyK4APlayback  # lazy: optional native dependency

    path = os.fspath(path)
    playback = PyK4APlayback(path)
    try:
        playback.open()
    except Exception as exc:
        raise BadInputError(path, f"the Azure Kinect SDK cannot open it: {exc}") from None
    try:
        while True:
            try:
                capture = playback.get_next_capture()
            except EOFError:
                break
            if capture.depth is not None:
                yield capture.depth_timestamp_usec / 1e6, np.array(capture.depth, dtype=np.uint16)
    finally:
        playback.close()
