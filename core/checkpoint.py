"""Checkpoints: one `.safetensors` file holding the weights and, in its header, the JSON that says how to use them.

Weights alone are not enough to run a model live: the pipeline must know the joint layout the model expects,
its class names, its window length, and the exact normalisation recipe it was trained with. All of that travels
inside the same file (safetensors' string metadata), so a checkpoint can never be separated from its recipe,
and loading never unpickles anything.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from kinact.core.errors import BadInputError, KinactError

FORMAT = "kinact-checkpoint/1"


@dataclass
class CheckpointMeta:
    """Everything besides the weights that inference and fine-tuning need."""

    model: dict  # the models.registry spec
    classes: list[str]
    layout: str = "kinect_v1"  # joints the model consumes (canonical by default)
    frames: int = 64  # T the window is resampled to
    window_seconds: float = 2.0  # how much recent motion a live window covers
    norm: dict = field(default_factory=dict)  # skeleton_norm.NormRecipe.to_dict()
    features: list[str] = field(default_factory=lambda: ["joint"])  # input channels, see training.features
    depth: dict = field(default_factory=dict)  # depth descriptor recipe; empty for skeleton-only models
    no_action: str | None = None  # name of the "nothing happening" class, if the model has one
    trained_on: dict = field(default_factory=dict)  # dataset, split, seed, accuracy: the model card's facts
    # post-processing settings chosen for this model on a validation stream (Engine keywords, see
    # pipeline.live_settings); empty → the engine's defaults for the shipped recipe (LIVE_DEFAULTS)
    live: dict = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CheckpointMeta":
        d = json.loads(text)
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def save_checkpoint(path: str | os.PathLike, state_dict: dict, meta: CheckpointMeta) -> None:
    """Write atomically (temp file + rename) so an interrupted save never leaves a broken checkpoint."""
    from safetensors.torch import save_file

    path = os.fspath(path)
    tmp = path + ".partial"
    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    save_file(tensors, tmp, metadata={"kinact": meta.to_json()})
    os.replace(tmp, path)


def read_meta(path: str | os.PathLike) -> CheckpointMeta:
    """Read only the header: cheap enough for pickers and `kinact info`."""
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BadInputError(path, "no such checkpoint file")
    try:
        with safe_open(path, framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:  # safetensors raises several types for a damaged header
        raise BadInputError(path, f"not a safetensors checkpoint ({exc})") from None
    if "kinact" not in header:
        raise BadInputError(path, "safetensors file has no kinact metadata (not a kinact checkpoint)")
    try:
        return CheckpointMeta.from_json(header["kinact"])
    except (ValueError, TypeError) as exc:
        raise BadInputError(path, f"checkpoint metadata is damaged ({exc})") from None


def load_checkpoint(path: str | os.PathLike, layout: str | None = None, classes: list[str] | None = None):
    """Return (state_dict, meta); refuse a checkpoint whose layout or class set differs from what the caller has."""
    from safetensors.torch import load_file

    meta = read_meta(path)
    check_compatible(meta, path, layout=layout, classes=classes)
    try:
        state = load_file(os.fspath(path))
    except Exception as exc:
        raise BadInputError(path, f"checkpoint weights are damaged ({exc})") from None
    return state, meta


def check_compatible(meta: CheckpointMeta, path, layout: str | None = None, classes: list[str] | None = None):
    if layout is not None and layout != meta.layout:
        raise BadInputError(path, f"checkpoint expects joint layout {meta.layout!r}, got {layout!r}")
    if classes is not None and list(classes) != list(meta.classes):
        extra = sorted(set(classes) - set(meta.classes))
        missing = sorted(set(meta.classes) - set(classes))
        raise BadInputError(
            path, f"checkpoint classes differ ({len(meta.classes)} in the checkpoint, {len(classes)} expected; "
            f"missing {missing[:3]}, extra {extra[:3]})"
        )


def build_model(meta: CheckpointMeta, state_dict: dict | None = None, path=None):
    """Instantiate the network described by `meta` and load weights; a shape mismatch is a user error."""
    from kinact.models.registry import build_model as build

    try:
        model = build(meta.model)
    except (ValueError, TypeError) as exc:
        raise KinactError(f"{path or 'checkpoint'}: model spec not understood ({exc})") from None
    if state_dict is not None:
        try:
            model.load_state_dict(state_dict)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise KinactError(f"{path or 'checkpoint'}: weights do not fit the model ({first})") from None
    model.eval()
    return model


def _model_line(spec: dict) -> str:
    if spec.get("name") == "ensemble":
        members = spec.get("members") or []
        return f"ensemble of {len(members)} (scores averaged): " + "; ".join(_model_line(m) for m in members[:1]) + \
            (" …" if len(members) > 1 else "")
    return f"{spec.get('name')} ({', '.join(f'{k}={v}' for k, v in spec.items() if k != 'name')})"


def format_meta(d: dict) -> str:
    """Human-readable checkpoint card for `kinact info CKPT`."""
    lines = [
        f"checkpoint   {d.get('format')}",
        f"model        {_model_line(d['model'])}",
        f"layout       {d['layout']}   frames {d['frames']}   window {d['window_seconds']:.2f} s",
        f"features     {', '.join(d['features'])}   depth {d['depth'] or 'none'}",
        f"classes      {len(d['classes'])}: {', '.join(d['classes'][:6])}{' …' if len(d['classes']) > 6 else ''}",
        f"no action    {d.get('no_action') or '-'}",
    ]
    for k, v in (d.get("trained_on") or {}).items():
        lines.append(f"trained_on   {k}: {v}")
    live = d.get("live") or {}
    shown = ", ".join(f"{k}={v}" for k, v in live.items()) if live else "none (the defaults for the shipped recipe)"
    lines.append(f"live         {shown}")
    return "\n".join(lines)
