"""Networks: shapes for every registry entry, TARM invariants, batch independence, ONNX parity, and a real overfit."""
import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from kinact.models.depth import DEPTH_ARCHS
from kinact.models.fusion import score_fusion
from kinact.models.registry import MODEL_NAMES, build_model, count_parameters, dummy_inputs, spec_keys
from kinact.models.skeleton import SkeletonNet
from kinact.models.tarm import GRU_IMPLS, TARM, AxisTARMs, FeatureTARM, GroupedTARM, stack_tarm_states

K = 5  # classes
TINY_SKEL = {"name": "skeleton", "num_joints": 6, "num_classes": K, "num_frames": 12, "hidden": 8, "width": 0.125}
TINY_TEMPORAL = {**TINY_SKEL, "stcm": "temporal", "channels": [16, 32], "blocks": [1, 1], "strides": [1, 2]}
TINY_DEPTH = {"name": "depth", "in_channels": 1, "num_classes": K, "image_size": [32, 24], "width": 0.125, "hidden": 8}

SPECS = {
    **{
        f"skeleton-{tarm}-{mem}-{stcm}": {
            **(TINY_TEMPORAL if stcm == "temporal" else {**TINY_SKEL, "resize": [20, 20]}),
            "tarm": tarm,
            "memory": mem,
            "in_channels": 3 if tarm != "feature" else 4,
        }
        for tarm in ("per_axis", "shared", "feature", "none")
        for mem in ("bigru", "attention")
        for stcm in ("image", "temporal")
    },
    "skeleton-native-small-stem": {**TINY_SKEL, "resize": False, "stem": "small", "backbone": "resnet34"},
    "skeleton-9ch-gru-gate": {**TINY_TEMPORAL, "in_channels": 9, "gate": "gru"},
    **{f"depth-{arch}": {**TINY_DEPTH, "arch": arch} for arch in DEPTH_ARCHS},
    "depth-dmm-3ch": {**TINY_DEPTH, "in_channels": 3, "arch": "small"},
    "fusion_e2e": {
        "name": "fusion_e2e", "num_joints": 6, "num_classes": K, "num_frames": 12, "depth_size": [30, 26],
        "size": 16, "hidden": 8, "width": 0.125, "depth_channels": 3,
    },
    "ensemble": {"name": "ensemble", "members": [{**TINY_TEMPORAL, "in_channels": 9}, {**TINY_TEMPORAL, "in_channels": 9,
                                                                                  "memory": "attention"}]},
    "two_stream": {
        "name": "two_stream", "num_classes": K, "dropout": 0.1,
        "skeleton": {k: v for k, v in TINY_TEMPORAL.items() if k not in ("name", "num_classes")},
        "depth": {**{k: v for k, v in TINY_DEPTH.items() if k != "num_classes"}, "arch": "alexnet"},
    },
}


def test_specs_cover_every_registry_name():
    assert {s["name"] for s in SPECS.values()} == set(MODEL_NAMES)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_registry_entry_maps_its_inputs_to_class_scores(key):
    torch.manual_seed(0)
    model = build_model(SPECS[key])
    assert all(shape[0] == "batch" for shape in model.input_spec.values())
    model.train()
    out = model(*dummy_inputs(model, batch=2))
    assert out.shape == (2, K) and torch.isfinite(out).all()
    out.sum().backward()
    assert count_parameters(model) == count_parameters(model, trainable_only=True) > 0


@pytest.mark.parametrize(
    "spec, needle",
    [
        ({"name": "resnet"}, "valid names"),
        ({**TINY_SKEL, "bogus": 1}, "valid keys"),
        ({"name": "skeleton", "num_classes": 3}, "num_joints"),
        ({**TINY_SKEL, "tarm": "lstm"}, "per_axis"),
        ({**TINY_DEPTH, "arch": "vgg"}, "tarm_resnet18"),
        ({"name": "two_stream", "skeleton": TINY_SKEL}, "depth"),
    ],
)
def test_bad_specs_raise_value_error_naming_the_valid_choices(spec, needle):
    with pytest.raises(ValueError, match=needle):
        build_model(spec)


def test_spec_keys_follow_the_constructors():
    assert {"num_joints", "tarm", "memory", "stcm", "resize", "backbone"} <= set(spec_keys("skeleton"))
    assert build_model({**TINY_SKEL, "resize": False}).stcm.resize is None
    assert build_model({**TINY_SKEL, "resize": [50, 50]}).stcm.resize == (50, 50)


# --- TARM ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("memory", ["bigru", "attention"])
def test_tarm_starts_near_identity_but_its_residual_is_trainable(memory):
    torch.manual_seed(0)
    tarm = TARM(20, hidden=16, memory=memory)
    x = torch.randn(4, 30, 20)
    y = tarm(x)
    rel = ((y - x).norm() / x.norm()).item()
    assert 0 < rel < 0.1  # a few percent of the input (BiGRU ~1-2%, attention ~5%: LayerNorm-ed memory)
    (y * torch.randn_like(y)).sum().backward()
    memory_params = list(tarm.memory.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in memory_params)
    assert tarm.gate.weight.grad.abs().sum() > 0


def test_tarm_uses_context_from_the_whole_sequence():
    torch.manual_seed(0)
    tarm = TARM(5, hidden=8, init_scale=1.0).eval()
    x = torch.randn(1, 10, 5)
    x2 = x.clone()
    x2[:, -1] += 1.0  # change only the last frame: a BiGRU memory must change the first frame's output too
    assert not torch.allclose(tarm(x)[:, 0], tarm(x2)[:, 0])


def test_per_axis_tarms_have_separate_weights_and_shared_has_one():
    torch.manual_seed(0)
    per_axis = AxisTARMs(6, channels=3, hidden=8, init_scale=1.0).eval()
    shared = AxisTARMs(6, channels=3, shared=True, hidden=8, init_scale=1.0).eval()
    assert per_axis.tarms.groups == 3 and len(shared.tarms) == 1
    assert count_parameters(per_axis) == 3 * count_parameters(shared)
    # Same sequence on every channel: the shared TARM treats them identically, separate TARMs do not.
    x = torch.randn(2, 1, 10, 6).expand(2, 3, 10, 6).contiguous()
    ys, yp = shared(x), per_axis(x)
    assert torch.allclose(ys[:, 0], ys[:, 1]) and torch.allclose(ys[:, 0], ys[:, 2])
    assert not torch.allclose(yp[:, 0], yp[:, 1])


def test_any_channel_count_works_for_body_plane_and_multi_stream_inputs():
    net = SkeletonNet(6, K, in_channels=5, num_frames=9, hidden=8, width=0.125, resize=(16, 16))
    assert net.tarm.tarms.groups == 5
    assert net(torch.randn(2, 5, 9, 6)).shape == (2, K)
    ft = FeatureTARM(5 * 6, hidden=8)
    assert ft(torch.randn(2, 9, 30)).shape == (2, 9, 30)
    with pytest.raises(ValueError):
        net(torch.randn(2, 3, 9, 6))


# --- per-channel TARMs computed as one ----------------------------------------------------------------------


def _separate_tarms(c=3, n=6, **kw):
    """C stand-alone TARMs with a full-size residual (init_scale=1) and non-trivial gate/norm parameters."""
    tarms = [TARM(n, init_scale=1.0, **kw) for _ in range(c)]
    with torch.no_grad():
        for t in tarms:
            for name, p in t.named_parameters():
                if name.endswith("bias") or "norm" in name:
                    p.add_(0.2 * torch.randn_like(p))
    return tarms


TARM_OPTIONS = [
    pytest.param(dict(memory=m, gate=g, norm=nm), id=f"{m}-{g}{'-norm' if nm else ''}")
    for m, g, nm in [("bigru", "linear", False), ("bigru", "gru", True), ("attention", "linear", True),
                     ("attention", "gru", False)]
]


@pytest.mark.parametrize("opts", TARM_OPTIONS)
def test_grouped_tarm_equals_separate_tarms_with_the_same_weights(opts):
    torch.manual_seed(0)
    tarms = _separate_tarms(hidden=8, **opts)
    grouped = GroupedTARM(6, 3, hidden=8, init_scale=1.0, **opts)
    grouped.load_state_dict(stack_tarm_states([t.state_dict() for t in tarms]))
    x = torch.randn(2, 3, 11, 6)
    ref = torch.stack([t(x[:, i]) for i, t in enumerate(tarms)], dim=1)
    assert (ref - x).abs().max() > 0.05  # the residual is large enough for a wrong channel/direction to show
    impls = [i for i in GRU_IMPLS if i != "auto"] if opts["memory"] == "bigru" or opts["gate"] == "gru" else ["auto"]
    for impl in impls:
        grouped.set_gru_impl(impl)
        torch.testing.assert_close(grouped(x), ref, atol=1e-5, rtol=1e-5, msg=lambda m: f"impl {impl}: {m}")
    # Training sees the same gradients (the fused loop's backward, the block-diagonal masking).
    for impl in impls:
        grouped.set_gru_impl(impl)
        grouped.zero_grad()
        for t in tarms:
            t.zero_grad()
        w = torch.randn_like(ref)
        (grouped(x) * w).sum().backward()
        torch.stack([t(x[:, i]) for i, t in enumerate(tarms)], dim=1).mul(w).sum().backward()
        grads = stack_tarm_states([{k: p.grad for k, p in t.named_parameters()} for t in tarms])
        for k, p in grouped.named_parameters():
            torch.testing.assert_close(p.grad, grads[k], atol=1e-5, rtol=1e-4, msg=lambda m: f"{impl} {k}: {m}")


@pytest.mark.parametrize("memory", ["bigru", "attention"])
def test_per_axis_tarms_start_near_identity_like_a_single_tarm(memory):
    torch.manual_seed(0)
    x = torch.randn(4, 3, 30, 20)
    rel = ((AxisTARMs(20, 3, hidden=16, memory=memory)(x) - x).norm() / x.norm()).item()
    assert 0 < rel < 0.1


def test_grouped_tarm_keeps_channels_apart():
    torch.manual_seed(0)
    grouped = GroupedTARM(6, 4, hidden=8, init_scale=1.0).eval()
    x = torch.randn(1, 4, 10, 6)
    x2 = x.clone()
    x2[:, 2] += 1.0
    with torch.no_grad():
        d = (grouped(x2) - grouped(x)).abs().amax(dim=(0, 2, 3))
    assert d[2] > 0 and torch.all(d[[0, 1, 3]] == 0)


def test_per_axis_state_dict_has_one_stacked_tensor_per_parameter():
    m = AxisTARMs(6, channels=3, hidden=8)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {
        "tarms.memory.weight_ih": (3, 2, 24, 6), "tarms.memory.weight_hh": (3, 2, 24, 8),
        "tarms.memory.bias_ih": (3, 2, 24), "tarms.memory.bias_hh": (3, 2, 24),
        "tarms.project.weight": (3, 6, 16), "tarms.project.bias": (3, 6),
        "tarms.gate.weight": (3, 6, 6), "tarms.gate.bias": (3, 6),
    }


def test_state_dicts_of_separate_per_axis_tarms_still_load():
    """The earlier layout (one TARM module per channel, keys "tarms.{c}.memory.gru.*") converts on load."""
    torch.manual_seed(0)
    tarms = _separate_tarms(hidden=8)
    old = {f"tarm.tarms.{c}.{k}": v for c, t in enumerate(tarms) for k, v in t.state_dict().items()}
    net = SkeletonNet(6, K, num_frames=9, hidden=8, width=0.125, resize=(16, 16))
    old.update({k: v for k, v in net.state_dict().items() if not k.startswith("tarm.")})
    net.load_state_dict(old)  # strict
    x = torch.randn(2, 3, 9, 6)
    with torch.no_grad():
        torch.testing.assert_close(net.tarm(x), torch.stack([t(x[:, i]) for i, t in enumerate(tarms)], dim=1))


def test_grouped_tarm_exports_one_onnx_gru_per_channel_with_dynamic_batch_and_time():
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = AxisTARMs(6, channels=3, hidden=8, gate="gru", init_scale=1.0).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.randn(1, 3, 10, 6),), buf, dynamo=False, opset_version=17, input_names=["x"],
            output_names=["y"], dynamic_axes={"x": {0: "batch", 2: "time"}, "y": {0: "batch", 2: "time"}},
        )
    graph = onnx.load_from_string(buf.getvalue()).graph
    assert sum(n.op_type == "GRU" for n in graph.node) == 6  # memory + gate, 3 channels each
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for b, t in ((1, 10), (3, 17)):
        x = torch.randn(b, 3, t, 6)
        with torch.no_grad():
            ref = model(x).numpy()
        np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], ref, atol=1e-5, rtol=1e-4)


# --- batch independence ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["skeleton-per_axis-bigru-image", "skeleton-feature-attention-temporal", "depth-tarm_resnet18", "two_stream"]
)
def test_a_sample_output_does_not_depend_on_the_rest_of_the_batch(key):
    torch.manual_seed(0)
    model = build_model(SPECS[key]).eval()
    inputs = dummy_inputs(model, batch=4)
    with torch.no_grad():
        full = model(*inputs)
        for i in range(4):
            alone = model(*(x[i : i + 1] for x in inputs))
            torch.testing.assert_close(full[i : i + 1], alone, atol=1e-5, rtol=1e-4)


# --- ONNX ----------------------------------------------------------------------------------------------------


def _randomize_batchnorm(model: nn.Module) -> None:
    """Fresh BNs (gamma 0 in zero-init blocks, unit stats) would hide export bugs in the folded affine maps."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean = torch.randn(n, generator=g) * 0.1
            m.running_var = torch.rand(n, generator=g) + 0.5


def assert_onnx_matches_torch(model: nn.Module, batches=(1, 3), atol=1e-4) -> None:
    ort = pytest.importorskip("onnxruntime")
    model.eval()
    names = list(model.input_spec)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape checks turning into constants
        torch.onnx.export(
            model, dummy_inputs(model, batch=1), buf, dynamo=False, opset_version=17,
            input_names=names, output_names=["logits"],
            dynamic_axes={**{n: {0: "batch"} for n in names}, "logits": {0: "batch"}},
        )
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for b in batches:
        inputs = dummy_inputs(model, batch=b)
        with torch.no_grad():
            expected = model(*inputs).numpy()
        (got,) = sess.run(None, {n: x.numpy() for n, x in zip(names, inputs)})
        assert got.shape == expected.shape == (b, model.num_classes)
        np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-4)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({**TINY_TEMPORAL, "num_joints": 20, "in_channels": 9, "num_frames": 32}, id="skeleton-temporal"),
        pytest.param(
            {"name": "skeleton", "num_joints": 20, "num_classes": K, "tarm": "per_axis", "memory": "bigru",
             "stcm": "image", "backbone": "resnet18", "resize": [50, 50], "num_frames": 32},
            id="skeleton-paper-faithful",
        ),
        pytest.param({**TINY_DEPTH, "arch": "tarm_resnet18"}, id="depth-tarm_resnet18"),
    ],
)
def test_onnx_export_matches_torch_with_a_dynamic_batch(spec):
    torch.manual_seed(0)
    model = build_model(spec)
    _randomize_batchnorm(model)
    assert_onnx_matches_torch(model)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_every_registry_entry_exports_to_onnx(key):
    torch.manual_seed(0)
    model = build_model(SPECS[key])
    _randomize_batchnorm(model)
    assert_onnx_matches_torch(model, batches=(2,))


# --- learning ------------------------------------------------------------------------------------------------


def test_temporal_skeleton_net_overfits_a_two_class_toy_problem():
    """Class 0: joints drift up over the clip; class 1: they drift down. Same start poses, plus noise."""
    torch.manual_seed(0)
    n, t, joints = 16, 16, 5
    y = torch.arange(n) % 2
    ramp = torch.linspace(-1, 1, t).view(1, t, 1)
    x = torch.randn(n, 3, 1, joints).expand(n, 3, t, joints).clone()
    x[:, 1] += ramp * torch.where(y == 0, 1.0, -1.0).view(n, 1, 1) * 0.3
    x += 0.05 * torch.randn_like(x)
    model = SkeletonNet(joints, 2, num_frames=t, hidden=8, stcm="temporal", width=0.25, blocks=(1, 1, 1))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc == 1.0, f"train accuracy {acc} after 40 steps (loss {loss.item():.3f})"


# --- score fusion -------------------------------------------------------------------------------------------


def test_score_fusion_modes():
    a = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    b = torch.tensor([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    torch.testing.assert_close(score_fusion([a, b], "average"), (a + b) / 2)
    prod = a * b
    torch.testing.assert_close(score_fusion([a, b], "product"), (prod.sqrt() / prod.sqrt().sum(1, keepdim=True)))
    mx = torch.maximum(a, b)
    torch.testing.assert_close(score_fusion([a, b], "max"), mx / mx.sum(1, keepdim=True))
    for mode in ("average", "product", "max"):
        torch.testing.assert_close(score_fusion([a, b], mode).sum(1), torch.ones(2))
    # product vetoes a class either model rules out, where average does not
    z = torch.tensor([[0.9, 0.1, 0.0]])
    o = torch.tensor([[0.0, 0.3, 0.7]])
    assert score_fusion([z, o], "average").argmax().item() == 0
    assert score_fusion([z, o], "product").argmax().item() == 1
    torch.testing.assert_close(score_fusion([a, b], "average", weights=[1, 0]), a)
    with pytest.raises(ValueError, match="average"):
        score_fusion([a, b], "median")
    with pytest.raises(ValueError):
        score_fusion([a, b[:1]])
    with pytest.raises(ValueError):
        score_fusion([])
