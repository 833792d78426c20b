"""The byte-level half of reading a .kinrec: find every message, decompress chunks, survive damage.

One in-memory index of every frame (time -> chunk and offset inside it) is built once per open. A cleanly
closed file gives it from MCAP's summary and the message indexes after each chunk without decompressing a
single chunk, so opening an hour-long recording is instant. A file without a usable summary (the writer was
killed, the disk filled, the summary got damaged) is walked record by record instead, decompressing every
chunk; every complete chunk is recovered, and after damage the walk resyncs on the next chunk record.

The records are parsed here rather than through mcap's readers because those stop at the first bad byte,
and the point is to skip bad chunks: a chunk whose CRC fails or which does not decompress is noted in
`problems` (one line each, for people) and `dropped` (for code) and its neighbours stay readable.
"""
from __future__ import annotations

import io
import mmap
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import zstandard
from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.records import Channel, ChunkIndex, Metadata, MetadataIndex

from kinact.core.errors import BadInputError
from kinact.core.recording.kinrec_schema import (
    CHANNEL_IDS, PROFILE, SUMMARY_METADATA, TOPIC_BODIES, TOPIC_DEPTH, TOPIC_SEGMENTS,
)

try:
    import lz4.frame as _lz4
except ImportError:  # lz4 is optional; zstd is what kinact writes by default
    _lz4 = None

MAGIC = b"\x89MCAP0\r\n"
_REC = struct.Struct("<BQ")  # opcode, record length
_MSG = struct.Struct("<HIQQ")  # channel id, sequence, log time, publish time
_CHUNK_HEAD = struct.Struct("<QQQII")  # start, end, uncompressed size, uncompressed CRC, len(compression)
_FOOTER = struct.Struct("<BQQQI")  # opcode, length, summary start, summary offset start, summary CRC
_KNOWN = {int(o) for o in Opcode}
_CACHE_CHUNKS = 4  # bodies and depth of one frame may straddle two chunks; replay steps back and forth


@dataclass
class Skipped:
    """A stretch of the recording that could not be read. Times are seconds; times and frame count are None
    when the damage took the information with it."""

    start: float | None
    end: float | None
    frames: int | None
    reason: str


@dataclass
class _Chunk:
    offset: int  # of the chunk record's opcode byte in the file
    length: int  # of the whole record, opcode and length field included
    start_ns: int = 0
    end_ns: int = 0
    bad: str | None = None


def _records(buf, start: int, end: int):
    """(position, opcode, body) for each record in buf[start:end]; ValueError when one runs past `end`."""
    pos = start
    while pos < end:
        if pos + 9 > end:
            raise ValueError(f"record header cut short at byte {pos}")
        op, ln = _REC.unpack_from(buf, pos)
        if pos + 9 + ln > end:
            raise ValueError(f"record at byte {pos} runs past the end")
        yield pos, op, memoryview(buf)[pos + 9:pos + 9 + ln]
        pos += 9 + ln


def _parse(cls, body):
    return cls.read(ReadDataStream(io.BytesIO(body)))


def message(data, off: int):
    """(channel id, sequence, log ns, publish ns, payload) of the message record at `off` in a chunk."""
    op, ln = _REC.unpack_from(data, off)
    if op != Opcode.MESSAGE or ln < _MSG.size or off + 9 + ln > len(data):
        raise ValueError(f"no message record at offset {off} of its chunk")
    ch, seq, log_ns, pub_ns = _MSG.unpack_from(data, off + 9)
    return ch, seq, log_ns, pub_ns, memoryview(data)[off + 9 + _MSG.size:off + 9 + ln]


class RecordingIndex:
    """Where every message of one open file is. Construction checks what the file is and reads its
    metadata (fast, so a wrong file fails at once); `build()` then indexes the messages."""

    def __init__(self, path: str, fh):
        self.path = path
        self.problems: list[str] = []
        self.dropped: list[Skipped] = []
        self.meta: dict[str, dict[str, str]] = {}
        self.topics = {cid: topic for topic, cid in CHANNEL_IDS.items()}
        self._size = size = fh.seek(0, io.SEEK_END)
        if size < len(MAGIC) + 9:
            raise BadInputError(path, "not a kinact recording (empty)" if size == 0 else
                                "not a kinact recording (too short to be an MCAP file)")
        self.mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._read_start(size)
        except BaseException:
            self.mm.close()
            raise
        self._zstd = zstandard.ZstdDecompressor()
        self._reset()

    def _read_start(self, size: int) -> None:
        mm, path = self.mm, self.path
        if mm[:8] != MAGIC:
            raise BadInputError(path, "not a kinact recording (not an MCAP file)")
        op, ln = _REC.unpack_from(mm, 8)
        try:
            if op != Opcode.HEADER or 17 + ln > size:
                raise ValueError("no header record")
            profile = str(ReadDataStream(io.BytesIO(mm[17:17 + ln])).read_prefixed_string())
        except Exception:
            raise BadInputError(path, "damaged MCAP header") from None
        if profile != PROFILE:
            raise BadInputError(path, f"an MCAP file with profile {profile!r}, not a kinact recording")
        self._data_start = pos = 17 + ln
        # The writer puts its metadata right after the MCAP header, before any chunk: reading it from there
        # finds the header the same way whether or not the file was closed.
        while pos + 9 <= size:
            op, ln = _REC.unpack_from(mm, pos)
            if op != Opcode.METADATA or pos + 9 + ln > size:
                break
            self._take_metadata(mm[pos + 9:pos + 9 + ln])
            pos += 9 + ln

    def _reset(self) -> None:
        self.cache: OrderedDict[int, bytes] = OrderedDict()
        self.chunks: list[_Chunk] = []
        self._idx: dict[str, list[tuple[int, int, int]]] = {t: [] for t in CHANNEL_IDS}  # (log ns, chunk, off)
        self._fchunk = None

    def _take_metadata(self, body) -> None:
        try:
            m = _parse(Metadata, body)
            self.meta[m.name] = m.metadata
        except Exception:
            self.problems.append("a damaged metadata record was skipped")

    def build(self) -> str | None:
        """Index every message; returns None, or why the summary could not be used (the file was scanned)."""
        known = len(self.problems), len(self.dropped)
        why = self._load_summary()
        if why is not None:  # forget what the abandoned attempt noted: the scan sees it all again
            del self.problems[known[0]:], self.dropped[known[1]:]
            self._reset()
            self._scan()

        def arrays(entries):  # uint64: times come from the file and may be anything
            a = np.array(entries, dtype=np.uint64).reshape(-1, 3)
            return a[np.lexsort((a[:, 2], a[:, 1], a[:, 0]))]  # by time, then file order

        b = arrays(self._idx[TOPIC_BODIES])
        self.frame_ns, self._fchunk, self.frame_off = b[:, 0], b[:, 1], b[:, 2]
        self.depth_at: dict[int, list[tuple[int, int]]] = {}
        for t, no, off in self._idx[TOPIC_DEPTH]:
            self.depth_at.setdefault(t, []).append((no, off))
        self.segment_locs = [(no, off) for _, no, off in sorted(self._idx[TOPIC_SEGMENTS])]
        self._idx = {}
        return why

    def frame_chunk(self, i: int) -> int:
        return int(self._fchunk[i])

    # -- from the summary -----------------------------------------------------------------------------------
    def _load_summary(self) -> str | None:
        mm, size = self.mm, self._size
        fpos = size - 8 - _FOOTER.size
        if fpos < self._data_start or mm[size - 8:] != MAGIC:
            return "no summary"
        op, ln, sstart, _, crc = _FOOTER.unpack_from(mm, fpos)
        if op != Opcode.FOOTER or ln != 20 or not (sstart == 0 or self._data_start <= sstart <= fpos):
            return "damaged footer"
        if sstart == 0:
            return "no summary"
        if crc and zlib.crc32(mm[sstart:fpos + 25]) != crc:  # the CRC covers the footer up to itself
            return "summary section damaged"
        try:
            chunk_indexes = []
            for _, op, body in _records(mm, sstart, fpos):
                if op == Opcode.CHUNK_INDEX:
                    chunk_indexes.append(_parse(ChunkIndex, body))
                elif op == Opcode.CHANNEL:
                    ch = _parse(Channel, body)
                    self.topics[ch.id] = ch.topic
                elif op == Opcode.METADATA_INDEX:
                    mi = _parse(MetadataIndex, body)
                    if mi.name == SUMMARY_METADATA and mi.offset + mi.length <= sstart:
                        self._take_metadata(mm[mi.offset + 9:mi.offset + mi.length])
        except Exception:
            return "summary section damaged"
        for ci in sorted(chunk_indexes, key=lambda c: c.chunk_start_offset):
            if ci.chunk_start_offset + ci.chunk_length > sstart:
                return "summary section damaged"
            self.chunks.append(_Chunk(ci.chunk_start_offset, ci.chunk_length, ci.message_start_time,
                                      ci.message_end_time))
            if not self._index_from_message_index(len(self.chunks) - 1, ci):
                self._index_by_decompressing(len(self.chunks) - 1)
        return None

    def _index_from_message_index(self, no: int, ci: ChunkIndex) -> bool:
        """The message indexes after each chunk carry no CRC: anything odd in them and the caller reads
        the (CRC-checked) chunk itself instead."""
        start = ci.chunk_start_offset + ci.chunk_length
        found = []
        try:
            for _, op, body in _records(self.mm, start, start + ci.message_index_length):
                if op != Opcode.MESSAGE_INDEX:
                    continue
                ch, n = struct.unpack_from("<HI", body, 0)
                if n % 16 or 6 + n > len(body) or ch not in ci.message_index_offsets:
                    return False
                e = np.frombuffer(body, "<u8", count=n // 8, offset=6).reshape(-1, 2)
                if len(e) and (int(e[:, 1].max()) >= ci.uncompressed_size or int(e[:, 0].min()) <
                               ci.message_start_time or int(e[:, 0].max()) > ci.message_end_time):
                    return False
                found.append((ch, e))
        except (ValueError, struct.error):
            return False
        if {ch for ch, _ in found} != set(ci.message_index_offsets):
            return False
        for ch, e in found:
            topic = self.topics.get(ch)
            if topic in self._idx:
                self._idx[topic].extend((int(t), no, int(o)) for t, o in e)
        return True

    def _index_by_decompressing(self, no: int) -> None:
        data = self.chunk_data(no)
        if data is None:
            return
        try:
            for pos, op, body in _records(data, 0, len(data)):
                if op == Opcode.MESSAGE:
                    ch, _, log_ns, _ = _MSG.unpack_from(body, 0)
                    topic = self.topics.get(ch)
                    if topic in self._idx:
                        self._idx[topic].append((log_ns, no, pos))
                elif op == Opcode.CHANNEL:
                    c = _parse(Channel, body)
                    self.topics[c.id] = c.topic
        except Exception as e:  # the CRC passed, so a writer bug rather than damage: keep what parsed
            self.problems.append(f"chunk at byte {self.chunks[no].offset} has a malformed record ({e})")

    # -- without it -----------------------------------------------------------------------------------------
    def _scan(self) -> None:
        mm, size, pos = self.mm, self._size, self._data_start
        while pos + 9 <= size:
            op, ln = _REC.unpack_from(mm, pos)
            end = pos + 9 + ln
            if end > size or (op not in _KNOWN and op < 0x80):  # opcodes from 0x80 are extensions: skip
                nxt = self._resync(pos + 1)
                if nxt is None:
                    lost = "an unfinished record" if op in _KNOWN else "unreadable data"
                    self.problems.append(f"the last {size - pos} bytes ({lost}) were skipped")
                    self.dropped.append(Skipped(None, None, None, f"{lost} at the end of the file"))
                    return
                self.problems.append(f"damaged bytes {pos}..{nxt} skipped")
                self.dropped.append(Skipped(None, None, None, f"damaged bytes {pos}..{nxt}"))
                pos = nxt
                continue
            if op == Opcode.CHUNK:
                start_ns, end_ns = struct.unpack_from("<QQ", mm, pos + 9) if ln >= 16 else (0, 0)
                self.chunks.append(_Chunk(pos, 9 + ln, start_ns, end_ns))
                self._index_by_decompressing(len(self.chunks) - 1)
            elif op == Opcode.METADATA:
                self._take_metadata(mm[pos + 9:end])
            elif op == Opcode.CHANNEL:
                try:
                    c = _parse(Channel, mm[pos + 9:end])
                    self.topics[c.id] = c.topic
                except Exception:
                    pass
            elif op in (Opcode.DATA_END, Opcode.FOOTER):
                return
            pos = end

    def _resync(self, start: int) -> int | None:
        """Offset of the next plausible chunk record after damage, found by its compression name and
        checked by its lengths adding up."""
        best = None
        for sig in (b"\x04\x00\x00\x00zstd", b"\x03\x00\x00\x00lz4"):
            i = self.mm.find(sig, start + 37)
            while i != -1 and (best is None or i - 37 < best):
                cand = i - 37
                op, ln = _REC.unpack_from(self.mm, cand)
                if op == Opcode.CHUNK and cand + 9 + ln <= self._size:
                    (dlen,) = struct.unpack_from("<Q", self.mm, i + len(sig))
                    if ln == 28 + len(sig) + 8 + dlen:
                        best = cand
                        break
                i = self.mm.find(sig, i + 1)
        return best

    # -- chunks ---------------------------------------------------------------------------------------------
    def chunk_data(self, no: int) -> bytes | None:
        """The decompressed records of chunk `no`, or None when it is damaged (reported once)."""
        c = self.chunks[no]
        if c.bad is not None:
            return None
        data = self.cache.get(no)
        if data is not None:
            self.cache.move_to_end(no)
            return data
        try:
            raw = self.mm[c.offset:c.offset + c.length]
            op, ln = _REC.unpack_from(raw, 0)
            _, _, usize, crc, clen = _CHUNK_HEAD.unpack_from(raw, 9)
            comp = raw[41:41 + clen].decode()
            (dlen,) = struct.unpack_from("<Q", raw, 41 + clen)
            payload = memoryview(raw)[49 + clen:49 + clen + dlen]
            if op != Opcode.CHUNK or 9 + ln != len(raw) or 49 + clen + dlen != len(raw):
                raise ValueError("malformed chunk record")
            if comp == "zstd":
                data = self._zstd.decompress(payload, max_output_size=usize)
            elif comp == "lz4" and _lz4 is not None:
                data = _lz4.decompress(payload)
            elif comp == "":
                data = bytes(payload)
            else:
                raise ValueError(f"unsupported compression {comp!r}")
            if len(data) != usize:
                raise ValueError("wrong decompressed size")
            if crc and zlib.crc32(data) != crc:
                raise ValueError("CRC mismatch")
        except Exception as e:  # whatever a damaged chunk makes a decompressor raise
            self._mark_bad(no, str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")
            return None
        self.cache[no] = data
        if len(self.cache) > _CACHE_CHUNKS:
            self.cache.popitem(last=False)
        return data

    def _mark_bad(self, no: int, reason: str) -> None:
        c = self.chunks[no]
        c.bad = reason
        frames = None if self._fchunk is None else int(np.count_nonzero(self._fchunk == no))
        t0, t1 = c.start_ns / 1e9, c.end_ns / 1e9
        what = "its frames" if frames is None else f"{frames} frames"
        self.problems.append(f"damaged chunk at byte {c.offset} ({t0:.3f}-{t1:.3f} s, {reason}): skipped {what}")
        self.dropped.append(Skipped(t0, t1, frames, reason))

    def close(self) -> None:
        self.cache = OrderedDict()
        self.mm.close()
