"""`kinact ensemble A B ... --out C`: several checkpoints of one recipe as one checkpoint that averages them.

Why one file: everything downstream (the live engine, ONNX export, stream-eval, the app's model box) takes a
single checkpoint, and an ensemble must never be run with a window length, normalisation or class order that
only one member was trained with. So the members must agree on everything the pipeline reads from a meta
(classes, layout, frames, window, normalisation, features, depth recipe, no-action class); the file then holds
their weights under `members.<i>.` and a meta whose model is `{"name": "ensemble", "members": [...]}`
(models/ensemble.py: log of the mean softmax). Live settings: `live` when given (tuned for the ensemble on a
validation stream), else the first member's.
"""
from __future__ import annotations

import dataclasses
import os

from kinact.core.checkpoint import CheckpointMeta, build_model, load_checkpoint, save_checkpoint
from kinact.core.errors import BadInputError, KinactError

#: meta fields every member must share: what the pipeline feeds the network and how it reads its output
SHARED = ("classes", "layout", "frames", "window_seconds", "norm", "features", "depth", "no_action")


def combine(paths: list, out, live: dict | None = None, name: str | None = None) -> CheckpointMeta:
    """Write the ensemble of `paths` to `out`; returns its meta. Refuses members that differ in SHARED."""
    if len(paths) < 2:
        raise KinactError("an ensemble needs at least two checkpoints")
    loaded = [load_checkpoint(p) for p in paths]
    first = loaded[0][1]
    for p, (_, meta) in zip(paths, loaded):
        if meta.model.get("name") == "ensemble":
            raise BadInputError(p, "is already an ensemble; list its members instead")
        for key in SHARED:
            if getattr(meta, key) != getattr(first, key):
                raise BadInputError(p, f"its {key} differs from {os.fspath(paths[0])}'s; ensemble members "
                                       "must share classes, layout, window, normalisation and inputs")
    state = {f"members.{i}.{k}": v for i, (s, _) in enumerate(loaded) for k, v in s.items()}
    members = [m.trained_on for _, m in loaded]
    trained_on = {"ensemble_of": [os.path.basename(os.fspath(p)) for p in paths], "members": members}
    for key in ("dataset", "split", "modality", "train_subjects", "val_subjects", "test_subjects"):
        if all(key in m and m[key] == members[0][key] for m in members):
            trained_on[key] = members[0][key]
    if name:
        trained_on["name"] = name
    meta = dataclasses.replace(first, model={"name": "ensemble", "members": [m.model for _, m in loaded]},
                               trained_on=trained_on, live=dict(live) if live is not None else dict(first.live))
    # Build it once before writing: a member spec the registry cannot rebuild must fail here, not live.
    build_model(meta, state, path=out)
    save_checkpoint(out, state, meta)
    return meta
