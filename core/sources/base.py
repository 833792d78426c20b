"""What every way of getting frames has in common: `open() / read() / close()` and a class-level `is_available()`.

Modelled on DeepLabCut-live-GUI's camera backends: one small class per sensor or file type, the vendor SDK
imported inside the backend only (so a missing SDK costs nothing until that backend is chosen), and an
availability check that says *why* a backend cannot run, which the source picker and `kinact doctor` show.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kinact.core.errors import KinactError
from kinact.core.frames import Frame


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""  # why not, and what to install; empty when ok

    def __bool__(self) -> bool:
        return self.ok


class SourceLost(KinactError):
    """The sensor stopped delivering (unplugged, SDK error); the capture thread retries with backoff."""


class Source:
    """Base class of frame sources. Subclasses set `name`, `layout`, `fps` and `intrinsics` once opened."""

    name: ClassVar[str] = ""
    live: ClassVar[bool] = True  # False for files: they can be paced, paused and seeked
    layout: str = "kinect_v1"
    fps: float = 30.0
    intrinsics = None  # kinact.core.recording.intrinsics.Intrinsics or None
    synthetic: bool = False

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True)

    def open(self) -> None:
        """Acquire the device or file; raise KinactError with a one-line reason when impossible."""

    def read(self, timeout: float = 1.0) -> Frame | None:
        """Next frame; None when none arrived within `timeout` (not an error); SourceLost when the device is gone;
        StopIteration-like end of a file is signalled by `EndOfStream`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file; safe to call twice."""

    def describe(self) -> str:
        return self.name

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()


class EndOfStream(Exception):
    """A finite source (recording, dataset file) has delivered its last frame."""
