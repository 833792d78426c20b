"""Helpers shared by subcommands: the one-JSON-object rule for `--json`, and plain-text tables."""
from __future__ import annotations

import json
import sys

import numpy as np


def _default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def print_json(obj) -> None:
    """Exactly one JSON object on stdout: scripts parse it, so nothing else may be printed there."""
    sys.stdout.write(json.dumps(obj, default=_default, sort_keys=False) + "\n")
    sys.stdout.flush()


def dumps(obj) -> str:
    return json.dumps(obj, default=_default, indent=2)
