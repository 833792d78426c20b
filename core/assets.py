"""Where the files that ship with kinact live: the demo recording and the pretrained checkpoints.

They are package data (`kinact.recordings`, `kinact.models/pretrained`), found through importlib.resources so
the same lookup works from a source checkout, an editable install and a wheel. `KINACT_DEMO` and
`KINACT_MODEL` override them, which is also how tests point the app at their own files.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

DEMO_NAME = "demo.kinrec"
SKELETON_MODEL_NAME = "utd_skeleton.safetensors"


def _packaged(package: str, *parts: str) -> Path | None:
    try:
        p = resources.files(package).joinpath(*parts)
    except ModuleNotFoundError:
        return None
    return Path(str(p)) if p.is_file() else None


def demo_recording() -> Path | None:
    """The bundled demo recording, or None when this install has none."""
    env = os.environ.get("KINACT_DEMO")
    if env:
        return Path(env) if Path(env).is_file() else None
    return _packaged("kinact.recordings", DEMO_NAME)


def shipped_model() -> Path | None:
    """The pretrained skeleton checkpoint (UTD-MHAD, 27 actions), or None when this install has none."""
    env = os.environ.get("KINACT_MODEL")
    if env:
        return Path(env) if Path(env).is_file() else None
    return _packaged("kinact.models", "pretrained", SKELETON_MODEL_NAME)


def user_recordings_dir() -> Path:
    """Where the app records by default: `recordings/` in the current folder when writable, else the user's data dir."""
    here = Path.cwd() / "recordings"
    if os.access(Path.cwd(), os.W_OK):
        return here
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "kinact" / "recordings"
