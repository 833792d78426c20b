"""Which reader a file needs, decided from its name alone.

Dataset files carry their label only in their name, so the name pattern is both the cheapest and the most
reliable signal: opening 861 MAT files just to learn they are UTD-MHAD would make `kinact info` slow, and a
renamed file could not be labelled anyway. Azure readers are imported only when such a file is read, so this
module stays cheap for the commands that never see an MKV.
"""
from __future__ import annotations

import os
from pathlib import Path

from kinact.core.errors import BadInputError
from kinact.core.frames import Sample

from . import msr_action3d, ntu, utd_mhad

FORMATS: tuple[str, ...] = ("utd_mhad", "msr_action3d", "ntu", "azure_json", "azure_mkv", "kinrec")


def detect_format(path: str | os.PathLike) -> str:
    """One of FORMATS for a file, from its name; anything else is a BadInputError that says what is accepted."""
    p = Path(path)
    name, ext = p.name, p.suffix.lower()
    if utd_mhad.NAME_RE.match(name):
        return "utd_mhad"
    if msr_action3d.NAME_RE.match(name):
        return "msr_action3d"
    if ext == ".skeleton":
        return "ntu"
    if ext == ".json":
        if _is_calibration(p):
            raise BadInputError(path, "an Azure Kinect calibration file, not a body-tracking recording")
        return "azure_json"
    if ext == ".mkv":
        return "azure_mkv"
    if ext == ".kinrec":
        return "kinrec"
    if ext == ".mat":
        hint = "a .mat file, but not named like UTD-MHAD (aA_sS_tT_skeleton.mat / aA_sS_tT_depth.mat)"
    elif name.lower().endswith("_skeleton.txt"):
        hint = "looks like MSR Action3D's screen-coordinate skeleton; use the *_skeleton3D.txt files"
    else:
        hint = "unknown format"
    raise BadInputError(path, f"{hint}; kinact reads UTD-MHAD .mat, MSR Action3D *_skeleton3D.txt, NTU "
                              ".skeleton, Azure Kinect .json/.mkv and .kinrec files")


def _is_calibration(p: Path) -> bool:
    """The SDK's calibration export is also .json and often sits next to recordings; its first key gives it away."""
    try:
        with open(p, "rb") as f:
            return b"CalibrationInformation" in f.read(4096)
    except OSError:
        return False


def utd_partner(path: str | os.PathLike, want: str) -> Path | None:
    """The matching UTD-MHAD skeleton or depth file ('skeleton'/'depth') of `path`, or None.

    Looks next to the file and in the sibling folder of the official layout (Skeleton/ <-> Depth/).
    """
    p = Path(path)
    a, s, t = utd_mhad.parse_name(p)
    name = f"a{a}_s{s}_t{t}_{want}.mat"
    folder = "Depth" if want == "depth" else "Skeleton"
    for d in (p.parent, p.parent.parent / folder, p.parent.parent / folder.lower()):
        if d.is_dir():
            for candidate in d.iterdir():
                if candidate.name.lower() == name.lower():
                    return candidate
    return None


def read_any(path: str | os.PathLike, with_depth: bool = False) -> Sample:
    """Read one dataset file of any known format as a Sample.

    For UTD-MHAD either half of a pair may be given; the other is looked up next to it. A depth file always
    brings its depth (that is why one would name it); a skeleton file brings depth only with with_depth.
    """
    if not os.path.isfile(path):
        raise BadInputError(path, "no such file")
    fmt = detect_format(path)
    if fmt == "utd_mhad":
        if Path(path).name.lower().endswith("_depth.mat"):
            skel = utd_partner(path, "skeleton")
            if skel is None:
                raise BadInputError(path, "no matching aA_sS_tT_skeleton.mat next to it or in ../Skeleton")
            return utd_mhad.read_sample(skel, path)
        depth = utd_partner(path, "depth") if with_depth else None
        if with_depth and depth is None:
            raise BadInputError(path, "no matching aA_sS_tT_depth.mat next to it or in ../Depth")
        return utd_mhad.read_sample(path, depth)
    if fmt == "msr_action3d":
        return msr_action3d.read_sample(path)
    if fmt == "ntu":
        return ntu.read_sample(path)
    if fmt == "azure_json":
        from kinact.core.datasets import azure_json

        return azure_json.read_sample(path)
    if fmt == "azure_mkv":
        from kinact.core.datasets import azure_mkv

        return azure_mkv.read_sample(path)
    raise BadInputError(path, "a .kinrec recording is not a dataset sample; open it with kinact.core.recording")


def scan_dir(root: str | os.PathLike) -> dict[str, list[Path]]:
    """{format: sorted files} for every readable sample under root; other files are ignored.

    UTD-MHAD is listed by its skeleton files only: a depth file is not a sample on its own, and listing
    both would count every sequence twice.
    """
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "not a directory")
    found: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            try:
                fmt = detect_format(Path(dirpath) / name)
            except BadInputError:
                continue
            if fmt == "utd_mhad" and not name.lower().endswith("_skeleton.mat"):
                continue
            found.setdefault(fmt, []).append(Path(dirpath) / name)
    return {fmt: sorted(paths) for fmt, paths in found.items()}
