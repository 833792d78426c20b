"""`kinact ensemble A B [...] --out C [--live SETTINGS.json]`: one checkpoint that averages several (same recipe)."""
from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoints", nargs="+", help="two or more kinact checkpoints of one recipe (same classes, "
                                                  "layout, window, normalisation and inputs)")
    p.add_argument("--out", required=True, help="the ensemble checkpoint to write (.safetensors)")
    p.add_argument("--live", help="the live engine's settings for the ensemble: a JSON object of Engine settings, "
                                  "or a stream_tune output (its chosen setting); default: the first member's")
    p.add_argument("--name", help="a name recorded in the checkpoint's model card facts")


def read_live(path: str) -> dict:
    from kinact.core.errors import BadInputError
    from kinact.core.pipeline.live_settings import check_live

    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable JSON file ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("chosen"), dict):
        data = data["chosen"].get("setting", {})
    clean, unknown, errors = check_live(data)
    unknown = [k for k in unknown if k != "window_seconds"]
    if errors or unknown:
        raise BadInputError(path, "; ".join(errors + [f"unknown setting {k}" for k in unknown]))
    clean.pop("window_seconds", None)  # the window is the members' (they must share it)
    return clean


def run(args) -> int:
    from kinact.core.ensemble_checkpoint import combine

    live = read_live(args.live) if args.live else None
    meta = combine(args.checkpoints, args.out, live=live, name=args.name)
    print(f"wrote {args.out}: ensemble of {len(args.checkpoints)} {meta.model['members'][0].get('name')} networks, "
          f"{len(meta.classes)} classes, live settings {'given' if live is not None else 'of the first member'}")
    return 0
