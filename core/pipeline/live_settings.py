"""The engine's post-processing settings for one model: stride, smoothing, thresholds and the optional event rules.

`Engine`'s keyword defaults are plain and model-agnostic. Settings chosen on a validation stream
(`training.stream_tune`) are only right for the model they were chosen with: one trained with partial-action
windows wants stride 1 and stricter thresholds, the shipped one does not. So they belong to the model: a
checkpoint may carry its own (`CheckpointMeta.live`, written by `kinact train` from a config's `[live]` table),
and everything that builds an Engine for a model (`kinact run`, the app, stream-eval, the benchmarks) starts
from `live_options(meta)`: the checkpoint's settings, or `LIVE_DEFAULTS`, chosen for the shipped recipe (how
and with what numbers: `training.stream_eval`). Each set is complete: a key it leaves out takes the Engine's
own default, never another set's value.
"""
from __future__ import annotations

import math
import warnings

LIVE_DEFAULTS = {"stride": 3, "motion_threshold": 0.03, "alpha": 0.4, "enter": 0.4, "exit": 0.3, "min_frames": 3,
                 "fast_enter": 0.6, "no_action_margin": 0.2, "min_duration": 0.3}
# chosen the same way for a model trained with `[augment] partial = 0.5` (training.stream_eval's docstring)
PARTIAL_LIVE_DEFAULTS = {"stride": 1, "motion_threshold": 0.03, "alpha": 0.4, "enter": 0.7, "exit": 0.3,
                         "min_frames": 9, "end_frames": 36, "fast_enter": 0.5, "no_action_margin": 0.0,
                         "min_duration": 0.0}

# Engine keyword: (whole number, lowest, highest); `OPEN_LOW` keys must be above their lowest, `NULLABLE` may be None
KEYS = {"stride": (True, 1, 30), "window_seconds": (False, 0.0, 10.0), "motion_threshold": (False, 0.0, 1.0),
        "alpha": (False, 0.0, 1.0), "enter": (False, 0.0, 1.0), "exit": (False, 0.0, 1.0),
        "min_frames": (True, 1, 300), "end_frames": (True, 1, 300), "fast_enter": (False, 0.0, 1.0),
        "no_action_margin": (False, -1.0, 1.0), "min_duration": (False, 0.0, 60.0), "smooth_windows": (True, 1, 100),
        "smoothing": None}
OPEN_LOW = {"window_seconds", "alpha", "fast_enter"}
NULLABLE = {"window_seconds", "min_frames", "end_frames", "fast_enter"}


def check_live(live) -> tuple[dict, list[str], list[str]]:
    """(the known keys with checked values, unknown keys, what is wrong with the values)."""
    if not isinstance(live, dict):
        return {}, [], [f"not a table of settings: {live!r}"]
    clean, unknown, errors = {}, [], []
    for key, value in live.items():
        if key not in KEYS:
            unknown.append(str(key))
        elif key == "smoothing":
            if value in ("ema", "mean"):
                clean[key] = value
            else:
                errors.append(f"smoothing = {value!r}; choose ema or mean")
        elif value is None and key in NULLABLE:
            clean[key] = None
        else:
            whole, lo, hi = KEYS[key]
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if whole and number and float(value).is_integer():
                value = int(value)
            ok = number and math.isfinite(value) and (isinstance(value, int) or not whole)
            ok = ok and (lo < value if key in OPEN_LOW else lo <= value) and value <= hi
            if ok:
                clean[key] = value if whole else float(value)
            else:
                errors.append(f"{key} = {value!r}; need {'a whole number' if whole else 'a number'} "
                              f"{'above' if key in OPEN_LOW else 'from'} {lo} up to {hi}")
    if clean.get("exit", 0.0) > clean.get("enter", 1.0):
        errors.append(f"exit ({clean['exit']}) must not be above enter ({clean['enter']})")
    return clean, unknown, errors


def live_source(meta) -> str:
    """"checkpoint" when `live_options(meta)` are the checkpoint's own settings, else "defaults"."""
    live = getattr(meta, "live", None)
    if not live:
        return "defaults"
    clean, _, errors = check_live(live)
    return "checkpoint" if clean and not errors else "defaults"


def live_options(meta) -> dict:
    """Engine keyword arguments for a checkpoint's model: its own `live` settings (unknown keys ignored), or
    LIVE_DEFAULTS when it has none or any of its values is unusable (with a warning; never an error, so an
    odd checkpoint still runs)."""
    live = getattr(meta, "live", None)
    if not live:
        return dict(LIVE_DEFAULTS)
    clean, unknown, errors = check_live(live)
    if errors or not clean:
        warnings.warn(f"checkpoint's live settings unusable ({'; '.join(errors) or 'no known keys'}), "
                      "using the defaults", stacklevel=2)
        return dict(LIVE_DEFAULTS)
    if unknown:
        warnings.warn(f"checkpoint's live settings: ignoring unknown {', '.join(sorted(unknown))}", stacklevel=2)
    return clean
