"""A minimal writer of Azure-Kinect-recorder-shaped MKV files, so the pure-Python reader can be tested without
a device, the SDK or the shared data folder.

It lays the file out as k4arecord does (EBML header, Segment → Info with TimecodeScale, Tracks with a COLOR
MJPG track and a DEPTH V_MS/VFW/FOURCC "b16g" track carrying a BITMAPINFOHEADER, the calibration attachment,
K4A_* Tags, then Clusters), stores depth big-endian as the recorder does, and writes block times as
device timestamp − K4A_START_OFFSET_NS. Files written at a real depth-mode size also open in the SDK itself.
"""
from __future__ import annotations

import struct

import numpy as np

DEPTH_MODES = {(320, 288): "NFOV_2X2BINNED", (640, 576): "NFOV_UNBINNED", (512, 512): "WFOV_2X2BINNED",
               (1024, 1024): "WFOV_UNBINNED"}
COLOR_UID, DEPTH_UID, CALIB_UID = 0x0324_4080_9F71_DFD2, 0x0651_A2B3_C4D5_E6F7, 0x0123_4567_89AB_CDEF
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def _vsize(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError(n)


def el(eid: int, payload: bytes) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big") + _vsize(len(payload)) + payload


def uint(eid: int, v: int) -> bytes:
    return el(eid, v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big"))


def text(eid: int, s: str) -> bytes:
    return el(eid, s.encode("utf-8"))


def _bitmapinfo(width: int, height: int, fourcc: bytes, bits: int, size_image: int) -> bytes:
    return struct.pack("<IiiHH4sIiiII", 40, width, height, 1, bits, fourcc, size_image, 0, 0, 0, 0)


def _track(number: int, uid: int, name: str, width: int, height: int, fourcc: bytes, bits: int, fps: int) -> bytes:
    return el(0xAE, uint(0xD7, number) + uint(0x73C5, uid) + uint(0x83, 1) + text(0x86, "V_MS/VFW/FOURCC")
              + text(0x536E, name) + el(0x63A2, _bitmapinfo(width, height, fourcc, bits, width * height * bits // 8))
              + uint(0x23E383, 1_000_000_000 // fps) + el(0xE0, uint(0xB0, width) + uint(0xBA, height)))


def _tag(name: str, value: str, target: bytes = b"") -> bytes:
    return el(0x7373, el(0x63C0, target) + el(0x67C8, text(0x45A3, name) + text(0x4487, value)))


def _block(track: int, rel: int, payload: bytes) -> bytes:
    return _vsize(track) + struct.pack(">hB", rel, 0x80) + payload  # 0x80: keyframe, no lacing


def write_k4a_mkv(path, depth: np.ndarray, timestamps_usec, *, start_offset_usec: int = 0, fps: int = 30,
                  calibration: str | None = None, timecode_scale: int = 1000, frames_per_cluster: int = 1,
                  depth_in_block_groups: bool = False, unknown_cluster_size: bool = False) -> bytes:
    """Write depth (T, H, W) uint16 frames at the given device timestamps (µs) and return the file bytes.

    Each depth frame gets a COLOR block (fake JPEG bytes) at the same time, so the reader must skip blocks
    of other tracks; `frames_per_cluster` > 1 exercises non-zero relative block timecodes.
    """
    depth = np.asarray(depth, dtype=np.uint16)
    _, h, w = depth.shape
    ts = [int(t) for t in timestamps_usec]
    ebml = el(0x1A45DFA3, uint(0x4286, 1) + uint(0x42F7, 1) + uint(0x42F2, 4) + uint(0x42F3, 8)
              + text(0x4282, "matroska") + uint(0x4287, 2) + uint(0x4285, 2))
    duration_ticks = (ts[-1] - ts[0]) * 1000 / timecode_scale + 1 if ts else 0
    info = el(0x1549A966, uint(0x2AD7B1, timecode_scale) + text(0x4D80, "kinact-test") + text(0x5741, "k4arecorder")
              + el(0x4489, struct.pack(">f", duration_ticks)))
    tracks = el(0x1654AE6B, _track(1, COLOR_UID, "COLOR", 64, 48, b"MJPG", 24, fps)
                + _track(2, DEPTH_UID, "DEPTH", w, h, b"b16g", 16, fps))
    attachments = b""
    tags = (_tag("K4A_COLOR_TRACK", str(COLOR_UID), text(0x63CA, "TRACK") + uint(0x63C5, COLOR_UID))
            + _tag("K4A_DEPTH_TRACK", str(DEPTH_UID), text(0x63CA, "TRACK") + uint(0x63C5, DEPTH_UID))
            + _tag("K4A_COLOR_MODE", "MJPG_720P")
            + _tag("K4A_DEPTH_MODE", DEPTH_MODES.get((w, h), "NFOV_UNBINNED"))
            + _tag("K4A_START_OFFSET_NS", str(start_offset_usec * 1000)))
    if calibration is not None:
        attachments = el(0x1941A469, el(0x61A7, text(0x466E, "calibration.json")
                                        + text(0x4660, "application/octet-stream")
                                        + el(0x465C, calibration.encode() + b"\0") + uint(0x46AE, CALIB_UID)))
        tags += _tag("K4A_CALIBRATION_FILE", "calibration.json", text(0x63CA, "ATTACHMENT") + uint(0x63C6, CALIB_UID))
    clusters = b""
    for start in range(0, len(ts), frames_per_cluster):
        base = (ts[start] - start_offset_usec) * 1000 // timecode_scale
        body = uint(0xE7, base)
        for i in range(start, min(start + frames_per_cluster, len(ts))):
            rel = (ts[i] - start_offset_usec) * 1000 // timecode_scale - base
            body += el(0xA3, _block(1, rel, b"\xff\xd8fake-jpeg\xff\xd9"))
            frame = _block(2, rel, depth[i].astype(">u2").tobytes())
            body += el(0xA0, el(0xA1, frame) + uint(0x9B, 1)) if depth_in_block_groups else el(0xA3, frame)
        clusters += (b"\x1f\x43\xb6\x75" + UNKNOWN_SIZE + body) if unknown_cluster_size else el(0x1F43B675, body)
    # The recorder reserves space (SeekHead + Void) before Info; the SDK takes a segment offset of 0 as "absent".
    data = ebml + el(0x18538067, el(0xEC, bytes(32)) + info + tracks + attachments + el(0x1254C367, tags) + clusters)
    with open(path, "wb") as f:
        f.write(data)
    return data
