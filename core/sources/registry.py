"""Sources by name: `kinect2`, `k4a`, `replay:FILE`, `dataset:FILE`, `synthetic[:SCRIPT]`.

Backends are referenced by module path and imported only when listed or chosen, so a broken or missing SDK in
one backend can never stop another from working.
"""
from __future__ import annotations

import importlib

from kinact.core.errors import KinactError
from kinact.core.sources.base import Availability, Source

BACKENDS: dict[str, str] = {
    "kinect2": "kinact.core.sources.kinect2:Kinect2Source",
    "k4a": "kinact.core.sources.k4a:K4ASource",
    "replay": "kinact.core.sources.replay:ReplaySource",
    "dataset": "kinact.core.sources.dataset:DatasetSource",
    "synthetic": "kinact.core.sources.synthetic:SyntheticSource",
}


def backend_class(name: str) -> type[Source]:
    if name not in BACKENDS:
        raise KinactError(f"unknown source {name!r}; choose one of: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:  # our own module missing: a packaging bug worth naming
        raise KinactError(f"source {name!r} could not be loaded ({exc})") from None


def availability() -> dict[str, Availability]:
    """Every backend with whether it can run here and why not: for the source picker and `kinact doctor`."""
    out = {}
    for name in BACKENDS:
        try:
            out[name] = backend_class(name).is_available()
        except KinactError as exc:
            out[name] = Availability(False, str(exc))
    return out


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`replay:rec.kinrec` → ("replay", "rec.kinrec"); a bare path to a file means replay or dataset by extension."""
    name, sep, arg = spec.partition(":")
    if name in BACKENDS:
        return name, (arg if sep else None)
    if spec.endswith((".kinrec", ".mcap")):
        return "replay", spec
    if spec.endswith((".mat", ".txt", ".skeleton", ".json", ".mkv")):
        return "dataset", spec
    raise KinactError(f"source {spec!r} not understood; use kinect2, k4a, synthetic, replay:FILE or dataset:FILE")


def open_source(spec: str, **options) -> Source:
    """Build (not open) the source a spec names; options go to the backend's constructor."""
    name, arg = parse_spec(spec)
    cls = backend_class(name)
    return cls(arg, **options) if arg is not None else cls(**options)
