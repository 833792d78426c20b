"""ONNX export must reproduce the checkpoint's logits, at any batch size, or write nothing."""
from __future__ import annotations

import os

import numpy as np
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


# --- the export recipe the Predictor caches (core/onnx_export.py, core/onnx_passes.py) ------------------------


def _ort_logits(path_or_bytes, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("gate", ["linear", "gru"])
def test_recipe_export_of_a_tiny_model_matches_torch_at_several_batch_sizes(tmp_path, gate):
    """One native GRU node per axis (memory, and gate when it is a GRU) and 2-D convolutions, same logits."""
    onnx = pytest.importorskip("onnx")
    from tiny_models import TINY_SKELETON

    from kinact.core.onnx_export import EXPORT_RECIPE, export_onnx_model

    spec = {**TINY_SKELETON, "gate": gate}
    model = build_model(spec)
    with torch.no_grad():  # a residual large enough that a wrong axis, direction or gate order would show
        for name, p in model.named_parameters():
            if "tarm" in name:
                p.normal_(0, 0.5)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    model.eval()
    info = export_onnx_model(model, tmp_path / "m.onnx", verify_batches=(1, 3, 6))
    assert max(info["max_abs_diff"].values()) < 1e-4 and info["recipe"] == EXPORT_RECIPE
    graph = onnx.load(info["path"]).graph
    grus = [n for n in graph.node if n.op_type == "GRU"]
    assert len(grus) == spec["in_channels"] * (2 if gate == "gru" else 1)
    assert all(len(n.input) == 4 for n in grus)  # no initial state, so no zeros built from the batch size
    inits = {t.name: len(t.dims) for t in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    assert info["convs_as_2d"] == len(convs) > 0 and all(inits[n.input[1]] == 4 for n in convs)
    assert not [n for n in graph.node if n.op_type == "ConstantOfShape"]
    x = torch.randn(5, spec["in_channels"], spec["num_frames"], spec["num_joints"])
    with torch.no_grad():
        ref = model(x).numpy()
    np.testing.assert_allclose(_ort_logits(info["path"], x.numpy()), ref, atol=1e-4, rtol=1e-4)
    plain = export_onnx_model(model, tmp_path / "plain.onnx", rewrite=False, verify_batches=(2,))
    assert plain["convs_as_2d"] == 0 and plain["recipe"] != EXPORT_RECIPE
    plain_graph = onnx.load(plain["path"]).graph
    weights = {n.input[1] for n in plain_graph.node if n.op_type == "Conv"}
    assert {len(t.dims) for t in plain_graph.initializer if t.name in weights} == {3}


class _ConvMix(torch.nn.Module):
    """1-D convolutions in the shapes the pass must handle: a residual chain, a branch read outside the region,
    a grouped (depthwise) strided conv, a BatchNorm in front, and a conv output that is the graph output."""

    def __init__(self):
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(6)
        self.a = torch.nn.Conv1d(6, 8, 5, padding=2)
        self.b = torch.nn.Conv1d(8, 8, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm1d(8)
        self.dw = torch.nn.Conv1d(8, 8, 3, stride=2, padding=1, groups=8)
        self.out = torch.nn.Conv1d(8, 4, 1)

    def forward(self, x):
        h = torch.relu(self.a(self.norm(x)))
        h = torch.relu(h + self.bn(self.b(h)))
        side = h.mean(dim=2, keepdim=True)  # leaves the region
        return self.out(torch.sigmoid(self.dw(h)) * 2.0) + side[:, :4]


@pytest.mark.parametrize("opset", [11, 17])
def test_conv1d_as_conv2d_keeps_the_outputs(opset):
    onnx = pytest.importorskip("onnx")
    import io
    import warnings

    from kinact.core.onnx_passes import conv1d_as_conv2d

    torch.manual_seed(0)
    model = _ConvMix().eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notes
        torch.onnx.export(model, (torch.randn(1, 6, 20),), buf, dynamo=False, opset_version=opset,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "b", 2: "t"}, "y": {0: "b"}},
                          do_constant_folding=False)  # keep the BatchNorms as nodes, not folded into the convs
    proto = onnx.load_from_string(buf.getvalue())
    ops = [n.op_type for n in proto.graph.node]
    assert conv1d_as_conv2d(proto) == ops.count("Conv") == 4
    onnx.checker.check_model(proto, full_check=True)
    new_ops = [n.op_type for n in proto.graph.node]
    assert new_ops.count("Unsqueeze") - ops.count("Unsqueeze") == 1  # the region is entered once, not per layer
    x = np.random.default_rng(0).standard_normal((3, 6, 23)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(_ort_logits(proto.SerializeToString(), x), ref, atol=1e-5, rtol=1e-5)
    assert conv1d_as_conv2d(proto) == 0  # nothing 1-D left: a second run changes nothing
