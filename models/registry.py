"""Build networks from plain dicts (a TOML table), so configs name models rather than code.

Valid keys per name are the constructor's keyword arguments, read from its
signature, so the registry cannot drift from the classes. TOML has no null
and no tuples: lists become tuples, and `resize = false` (or "none" or [])
means "no rescaling" for the skeleton image STCM.

Every built model has `input_spec`: an ordered {input name: ("batch", *dims)}
in forward-argument order, which export and inference code can turn into
dummy inputs (`dummy_inputs`) and dynamic-axis declarations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .depth import DepthNet
from .ensemble import ScoreAverage
from .fusion import EndToEndFusion, TwoStreamFusion
from .skeleton import SkeletonNet

__all__ = ["build_model", "count_parameters", "dummy_inputs", "spec_keys", "MODEL_NAMES"]

_CLASSES: dict[str, Callable[..., nn.Module]] = {
    "skeleton": SkeletonNet,
    "depth": DepthNet,
    "fusion_e2e": EndToEndFusion,
}
_TWO_STREAM_KEYS = ("skeleton", "depth", "num_classes", "dropout")
MODEL_NAMES = (*_CLASSES, "two_stream", "ensemble")
_NONE_TOKENS = (None, False, "none", "None", "")


def spec_keys(name: str) -> list[str]:
    """Keys accepted (besides "name") for a registry name."""
    if name == "two_stream":
        return list(_TWO_STREAM_KEYS)
    if name == "ensemble":
        return ["members"]
    if name not in _CLASSES:
        raise ValueError(f"unknown model name {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    params = inspect.signature(_CLASSES[name]).parameters
    return [p for p in params if p != "self"]


def _required_keys(name: str) -> list[str]:
    params = inspect.signature(_CLASSES[name]).parameters.values()
    return [p.name for p in params if p.default is inspect.Parameter.empty]


def _plain(value: Any) -> Any:
    return tuple(_plain(v) for v in value) if isinstance(value, list) else value


def _check_keys(name: str, spec: Mapping[str, Any], valid: list[str], required: list[str]) -> None:
    unknown = sorted(set(spec) - set(valid) - {"name"})
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} for model {name!r}; valid keys: {', '.join(valid)}")
    missing = [k for k in required if k not in spec]
    if missing:
        raise ValueError(f"model {name!r} is missing required key(s) {missing}; valid keys: {', '.join(valid)}")


def _sub_spec(spec: Mapping[str, Any], key: str, num_classes: Any) -> dict[str, Any]:
    sub = spec.get(key)
    if not isinstance(sub, Mapping):
        raise ValueError(f"two_stream needs a table {key!r} describing the {key} network")
    sub = dict(sub)
    if sub.setdefault("name", key) != key:
        raise ValueError(f"two_stream.{key} must have name {key!r}, got {sub['name']!r}")
    if num_classes is not None:
        sub.setdefault("num_classes", num_classes)
    return sub


def build_model(spec: Mapping[str, Any]) -> nn.Module:
    """Model from a dict with a "name" ("skeleton", "depth", "fusion_e2e", "two_stream", "ensemble") and its keys.

    "ensemble" holds `members`, a list of specs of networks with the same inputs and classes (ScoreAverage).

    Raises ValueError for unknown names, unknown or missing keys, and invalid values.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"model spec must be a mapping, got {type(spec).__name__}")
    name = spec.get("name")
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model name {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    if name == "two_stream":
        _check_keys(name, spec, list(_TWO_STREAM_KEYS), ["skeleton", "depth"])
        nc = spec.get("num_classes")
        skeleton = build_model(_sub_spec(spec, "skeleton", nc))
        depth = build_model(_sub_spec(spec, "depth", nc))
        if skeleton.num_classes != depth.num_classes and nc is None:
            raise ValueError("two_stream: skeleton and depth num_classes differ; set two_stream.num_classes")
        return TwoStreamFusion(skeleton, depth, num_classes=nc, dropout=float(spec.get("dropout", 0.0)))
    if name == "ensemble":
        _check_keys(name, spec, ["members"], ["members"])
        members = spec["members"]
        if not isinstance(members, (list, tuple)) or not all(isinstance(m, Mapping) for m in members):
            raise ValueError("ensemble.members must be a list of model specs")
        if any(m.get("name") == "ensemble" for m in members):
            raise ValueError("ensemble members cannot be ensembles themselves")
        return ScoreAverage([build_model(m) for m in members])
    _check_keys(name, spec, spec_keys(name), _required_keys(name))
    kwargs = {k: _plain(v) for k, v in spec.items() if k != "name"}
    if name == "skeleton" and "resize" in kwargs and (kwargs["resize"] in _NONE_TOKENS or kwargs["resize"] == ()):
        kwargs["resize"] = None
    return _CLASSES[name](**kwargs)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def dummy_inputs(model: nn.Module, batch: int = 1, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    """Random inputs in forward-argument order built from `model.input_spec` (export, warm-up, benchmarks)."""
    spec = getattr(model, "input_spec", None)
    if not isinstance(spec, Mapping):
        raise ValueError(f"{type(model).__name__} has no input_spec")
    return tuple(torch.randn(batch, *shape[1:], dtype=dtype) for shape in spec.values())
