"""A dataset file (UTD-MHAD, MSR Action3D, NTU, Azure Kinect JSON/MKV) played straight through the pipeline.

Saves the `kinact import` round trip when someone just wants to see how the model does on a sample. The
file is read whole at open(): dataset samples are seconds long, and reading them through the same readers
as training (`read_any` + `sample_frames`) means the live pipeline sees exactly what the model was trained
on. It plays with the same transport as a recording (see `pacing`), and looks like one to the GUI: a
`header` built the way `kinact import` would write it and one segment spanning the sample, labelled with
its action, so the ground truth can be shown next to the predictions.
"""
from __future__ import annotations

import os

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Frame, Sample
from kinact.core.layouts import get_layout
from kinact.core.recording.importers import DATASET_SENSORS, sample_frames
from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED, Intrinsics
from kinact.core.recording.kinrec_schema import KinrecHeader, Segment
from kinact.core.sources.base import Availability
from kinact.core.sources.pacing import PlaybackSource


class DatasetSource(PlaybackSource):
    """Replays one dataset sample at `speed` (0.25–8, or 0 = as fast as possible).

    A UTD-MHAD skeleton file brings its depth partner along when one is found next to it or in ../Depth
    (and `with_depth` is set); either half of the pair may be named.
    """

    name = "dataset"

    def __init__(self, path: str | os.PathLike, speed: float = 1.0, loop: bool = False, start: float = 0.0,
                 with_depth: bool = True):
        super().__init__(os.fspath(path), speed, loop, start)
        self.with_depth = bool(with_depth)
        self.format = ""
        self.sample: Sample | None = None
        self._frames: list[Frame] = []
        self.problems: list[str] = []  # a sample is read whole or not at all; kept for the recording API

    @classmethod
    def is_available(cls) -> Availability:
        return Availability(True)  # the readers are pure Python; an MKV without its SDK fails per file

    def describe(self) -> str:
        return f"dataset {os.path.basename(self.path)}"

    def _load(self):
        from kinact.core.datasets.detect import detect_format, read_any, utd_partner

        fmt = detect_format(self.path)
        if fmt == "kinrec":
            raise BadInputError(self.path, "a .kinrec recording, not a dataset file; open it as replay:FILE")
        with_depth = self.with_depth
        if fmt == "utd_mhad" and not self.path.lower().endswith("_depth.mat"):
            with_depth = with_depth and utd_partner(self.path, "depth") is not None
        sample = read_any(self.path, with_depth=with_depth)
        if not sample.fps > 0:
            raise BadInputError(self.path, f"no usable frame rate ({sample.fps!r})")
        self.format, self.sample = fmt, sample
        self.layout, self.fps, self.synthetic = sample.layout, float(sample.fps), False
        sensor, intrinsics = DATASET_SENSORS.get(fmt, ("Azure Kinect" if fmt.startswith("azure") else "", None))
        self.intrinsics = self._intrinsics(fmt, sample, intrinsics)
        meta = {"dataset": fmt, "source_file": os.path.basename(self.path), "subject": str(sample.subject),
                "trial": str(sample.trial), "action": sample.action}
        self.header = KinrecHeader(sample.layout, get_layout(sample.layout).units, self.fps, self.intrinsics,
                                   sensor, False, meta)
        n = sample.num_frames
        self.segments = ([Segment(0.0, (n - 1) / self.fps, sample.action, label=int(sample.label))]
                         if sample.label >= 0 and n else [])
        self._frames = list(sample_frames(sample))
        return np.arange(n) / self.fps, n / self.fps

    def _intrinsics(self, fmt: str, sample: Sample, known: Intrinsics | None) -> Intrinsics | None:
        """The depth camera as the importer would record it: only with depth, at the images' own size."""
        if sample.depth is None:
            return None
        h, w = sample.depth.shape[1:]
        if fmt == "azure_mkv":
            from kinact.core.datasets import azure_mkv

            k = azure_mkv.read_info(self.path).get("intrinsics")
            known = (Intrinsics(k["fx"], k["fy"], k["cx"], k["cy"], k["width"], k["height"], mirrored=False)
                     if k else AZURE_NFOV_UNBINNED)
        if known is not None and known.shape != (h, w):
            known = known.scaled(w, h)
        return known

    def _fetch(self, i: int) -> Frame | None:
        return self._frames[i]

    def _release(self) -> None:
        self._frames, self.sample = [], None
