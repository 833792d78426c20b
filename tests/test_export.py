"""ONNX export must reproduce the checkpoint's logits, at any batch size, or write nothing."""
from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("onnxruntime")

from kinact.core.checkpoint import CheckpointMeta, save_checkpoint  # noqa: E402
from kinact.core.errors import KinactError  # noqa: E402
from kinact.core.training import export as export_mod  # noqa: E402
from kinact.core.training.export import export_onnx  # noqa: E402
from kinact.models.registry import build_model  # noqa: E402

SPECS = {
    "skeleton": {"name": "skeleton", "num_joints": 20, "num_classes": 5, "in_channels": 6, "num_frames": 16,
                 "tarm": "per_axis", "hidden": 8, "stcm": "temporal", "channels": [16], "blocks": [1],
                 "strides": [1]},
    "fusion": {"name": "two_stream", "num_classes": 5,
               "skeleton": {"num_joints": 20, "in_channels": 3, "num_frames": 16, "tarm": "none",
                            "stcm": "temporal", "channels": [8], "blocks": [1], "strides": [1]},
               "depth": {"in_channels": 1, "arch": "small", "width": 0.125, "image_size": [32, 32]}},
}


def _checkpoint(tmp_path, spec) -> str:
    torch.manual_seed(0)
    model = build_model(spec)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval-mode export is really exercised
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    path = os.path.join(tmp_path, "tiny.safetensors")
    save_checkpoint(path, model.state_dict(), CheckpointMeta(model=spec, classes=list("abcde"), frames=16))
    return path


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_export_matches_torch(tmp_path, kind):
    out = tmp_path / "m.onnx"
    r = export_onnx(_checkpoint(tmp_path, SPECS[kind]), out)
    assert out.is_file() and not os.path.exists(str(out) + ".tmp")
    assert set(r["max_abs_diff"]) == {"batch1", "batch4"} and max(r["max_abs_diff"].values()) < 1e-4
    assert list(r["inputs"]) == (["skeleton"] if kind == "skeleton" else ["skeleton", "depth"])


def test_export_refuses_a_disagreeing_model(tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "TOLERANCE", 0.0)
    out = tmp_path / "m.onnx"
    with pytest.raises(KinactError, match="disagrees"):
        export_onnx(_checkpoint(tmp_path, SPECS["skeleton"]), out)
    assert not out.exists() and not os.path.exists(str(out) + ".tmp")
