"""Predictor: torch and ONNX Runtime backends agree, the ONNX cache is reused and refreshed, bad checkpoints fail."""
import os
import sys

import numpy as np
import pytest
import torch

from kinact.core.checkpoint import CheckpointMeta, save_checkpoint
from kinact.core.errors import BadInputError, KinactError
from kinact.core.inference import Predictor, checkpoint_sha256, softmax
from kinact.core.onnx_export import export_onnx_model
from kinact.models.registry import build_model

ort = pytest.importorskip("onnxruntime")

K = 4
SPEC = {"name": "skeleton", "num_joints": 6, "num_classes": K, "in_channels": 3, "num_frames": 12, "hidden": 8,
        "stcm": "temporal", "channels": [16, 32], "blocks": [1, 1], "strides": [1, 2]}
CLASSES = [f"action{i}" for i in range(K)]


def _randomize_batchnorm(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.3
            m.running_mean = torch.randn(n, generator=g) * 0.1
            m.running_var = torch.rand(n, generator=g) + 0.5


def make_checkpoint(path, spec=SPEC, classes=CLASSES, seed=0, **meta_kw):
    torch.manual_seed(seed)
    model = build_model(spec)
    _randomize_batchnorm(model)  # so that the probabilities are far from uniform
    save_checkpoint(path, model.state_dict(), CheckpointMeta(model=dict(spec), classes=list(classes), **meta_kw))
    return path


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    """Keep the fallback ONNX cache inside the test's folder instead of ~/.cache."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache / "kinact" / "onnx"


@pytest.fixture
def ckpt(tmp_path):
    return make_checkpoint(tmp_path / "model.safetensors")


def _x(batch, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, 3, 12, 6)).astype(np.float32)


def test_torch_and_onnx_backends_agree_on_a_batch_of_bodies(ckpt):
    pt = Predictor.load(ckpt, backend="torch", device="cpu")
    po = Predictor.load(ckpt, backend="onnx", threads=1)
    assert (pt.backend, po.backend) == ("torch-cpu", "onnxruntime-cpu")
    assert po.session.get_session_options().intra_op_num_threads == 1
    for p in (pt, po):
        assert p.classes == CLASSES and p.meta.classes == CLASSES
        assert p.input_spec == {"skeleton": ("batch", 3, 12, 6)}
    x = _x(3)
    a, b = pt.predict({"skeleton": x}), po.predict({"skeleton": x})
    assert a.shape == b.shape == (3, K) and a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(a.sum(1), 1.0, rtol=1e-5)
    assert a.max() > 0.5  # not a near-uniform output that would agree by accident
    # Each body is classified on its own: the batch gives the same answers as one call per body.
    np.testing.assert_allclose(np.concatenate([po.predict_skeleton(x[i]) for i in range(3)]), b, atol=1e-5)
    # torch tensors and float64 are accepted; softmax of the raw logits is the prediction.
    np.testing.assert_allclose(pt.predict_skeleton(torch.from_numpy(x).double()), a, atol=1e-6)
    np.testing.assert_allclose(softmax(po.logits({"skeleton": x})), b, atol=1e-6)
    assert po.predict_skeleton(np.zeros((0, 3, 12, 6), np.float32)).shape == (0, K)


def test_onnx_cache_is_reused_and_refreshed_when_the_checkpoint_changes(ckpt, tmp_path):
    cache = tmp_path / "model.safetensors.onnx"
    p1 = Predictor.load(ckpt, backend="onnx")
    assert p1.onnx_path == str(cache) and cache.is_file()
    stamp = cache.stat().st_mtime_ns
    p2 = Predictor.load(ckpt, backend="onnx")
    assert p2.onnx_path == str(cache) and cache.stat().st_mtime_ns == stamp  # reused, not re-exported
    x = _x(2)
    before = p2.predict_skeleton(x)

    old_time = os.stat(ckpt).st_mtime
    make_checkpoint(ckpt, seed=1)  # retrained: newer and different
    p3 = Predictor.load(ckpt, backend="onnx")
    assert cache.stat().st_mtime_ns != stamp
    after = p3.predict_skeleton(x)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, Predictor.load(ckpt, backend="torch").predict_skeleton(x), atol=1e-4)

    # Different content copied in with an old mtime (cp -p, rsync -a): the recorded sha256 catches it.
    make_checkpoint(ckpt, seed=2)
    os.utime(ckpt, (old_time - 100, old_time - 100))
    p4 = Predictor.load(ckpt, backend="onnx")
    np.testing.assert_allclose(p4.predict_skeleton(x), Predictor.load(ckpt, backend="torch").predict_skeleton(x),
                               atol=1e-4)
    meta = p4.session.get_modelmeta().custom_metadata_map
    assert meta["kinact.checkpoint_sha256"] == checkpoint_sha256(ckpt)
    assert CLASSES[0] in meta["kinact.meta"]

    cache.write_bytes(b"not an onnx file")  # a damaged cache is replaced, not fatal
    os.utime(cache, (old_time + 1000, old_time + 1000))
    np.testing.assert_allclose(Predictor.load(ckpt, backend="onnx").predict_skeleton(x), p4.predict_skeleton(x),
                               atol=1e-6)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]


def test_onnx_cache_made_by_an_older_export_recipe_is_exported_again(ckpt, tmp_path, monkeypatch):
    import kinact.core.onnx_export as onnx_export

    cache = tmp_path / "model.safetensors.onnx"
    monkeypatch.setattr(onnx_export, "EXPORT_RECIPE", "1:older")
    Predictor.load(ckpt, backend="onnx")
    stamp = cache.stat().st_mtime_ns
    monkeypatch.undo()  # today's recipe again: the file from "1:older" must not be reused
    p = Predictor.load(ckpt, backend="onnx")
    assert cache.stat().st_mtime_ns != stamp
    assert p.session.get_modelmeta().custom_metadata_map["kinact.export_recipe"] == onnx_export.EXPORT_RECIPE
    stamp = cache.stat().st_mtime_ns
    Predictor.load(ckpt, backend="onnx")
    assert cache.stat().st_mtime_ns == stamp  # and that file is reused


def test_onnx_cache_falls_back_to_the_user_cache_when_the_checkpoint_folder_is_unusable(ckpt, tmp_path, user_cache):
    (tmp_path / "model.safetensors.onnx").mkdir()  # cannot be replaced by a file (works even as root)
    p = Predictor.load(ckpt, backend="onnx")
    assert p.onnx_path == str(user_cache / f"{checkpoint_sha256(ckpt)}.onnx")
    assert os.path.isfile(p.onnx_path)
    assert Predictor.load(ckpt, backend="onnx").onnx_path == p.onnx_path


def test_auto_picks_onnxruntime_on_a_cpu_and_torch_without_it(ckpt, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Predictor.load(ckpt).backend == "onnxruntime-cpu"
    assert Predictor.load(ckpt, device="cpu").backend == "onnxruntime-cpu"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    p = Predictor.load(ckpt)
    assert p.backend == "torch-cpu" and p.onnx_path is None
    with pytest.raises(KinactError, match="onnxruntime"):
        Predictor.load(ckpt, backend="onnx")


def test_auto_picks_torch_on_cuda_when_a_gpu_is_there(ckpt, monkeypatch):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert Predictor.load(ckpt).backend == "torch-cuda"


def test_two_input_models_take_a_dict(tmp_path):
    spec = {"name": "two_stream", "num_classes": K,
            "skeleton": {k: v for k, v in SPEC.items() if k not in ("name", "num_classes")},
            "depth": {"in_channels": 1, "image_size": [24, 20], "arch": "small", "width": 0.125}}
    ckpt = make_checkpoint(tmp_path / "fusion.safetensors", spec=spec, depth={"size": [24, 20], "channels": 1})
    pt = Predictor.load(ckpt, backend="torch")
    po = Predictor.load(ckpt, backend="onnx")
    assert list(po.input_spec) == ["skeleton", "depth"]
    rng = np.random.default_rng(0)
    inputs = {"depth": rng.random((2, 1, 24, 20), np.float32), "skeleton": _x(2)}  # order does not matter
    np.testing.assert_allclose(po.predict(inputs), pt.predict(inputs), atol=1e-4)
    with pytest.raises(KinactError, match="skeleton alone"):
        po.predict_skeleton(_x(2))
    with pytest.raises(BadInputError, match="missing"):
        po.predict({"skeleton": _x(2)})
    with pytest.raises(BadInputError, match="batch sizes"):
        po.predict({"skeleton": _x(2), "depth": inputs["depth"][:1]})


def test_mismatched_or_broken_checkpoints_raise_user_errors(tmp_path, ckpt):
    # Weights of another architecture under this spec.
    other = {**SPEC, "channels": [8, 16]}
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "shapes.safetensors", build_model(other).state_dict(),
                    CheckpointMeta(model=dict(SPEC), classes=CLASSES))
    with pytest.raises(KinactError, match="do not fit"):
        Predictor.load(tmp_path / "shapes.safetensors")
    # More class names than the network has outputs.
    make_checkpoint(tmp_path / "classes.safetensors", classes=CLASSES + ["extra"])
    with pytest.raises(BadInputError, match="5 classes"):
        Predictor.load(tmp_path / "classes.safetensors", backend="torch")
    # A model spec that the registry does not know.
    save_checkpoint(tmp_path / "spec.safetensors", {}, CheckpointMeta(model={"name": "lstm"}, classes=CLASSES))
    with pytest.raises(KinactError, match="not understood"):
        Predictor.load(tmp_path / "spec.safetensors")
    # Not a checkpoint at all, or not there.
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(BadInputError):
        Predictor.load(tmp_path / "junk.safetensors")
    with pytest.raises(BadInputError, match="no such"):
        Predictor.load(tmp_path / "missing.safetensors")
    # Made for another joint layout than the caller's sensor.
    with pytest.raises(BadInputError, match="layout"):
        Predictor.load(ckpt, layout="azure_kinect")
    # Inputs that do not fit the model.
    p = Predictor.load(ckpt, backend="torch")
    with pytest.raises(BadInputError, match=r"\(B, 3, 12, 6\)"):
        p.predict_skeleton(np.zeros((1, 3, 12, 25), np.float32))
    with pytest.raises(ValueError):
        Predictor.load(ckpt, backend="tensorrt")


def test_export_onnx_model_writes_atomically_with_metadata(tmp_path):
    torch.manual_seed(0)
    model = build_model(SPEC)
    model.train()
    info = export_onnx_model(model, tmp_path / "sub" / "m.onnx", metadata={"kinact.note": "hello"})
    assert model.training  # left as it came
    assert info["inputs"] == {"skeleton": ["batch", 3, 12, 6]} and info["opset"] == 17
    assert set(info["max_abs_diff"]) == {"batch1", "batch4"} and max(info["max_abs_diff"].values()) < 1e-4
    sess = ort.InferenceSession(info["path"], providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map["kinact.note"] == "hello"
    assert [i.shape[0] for i in sess.get_inputs()] == ["batch"]
    assert sess.run(None, {"skeleton": _x(5)})[0].shape == (5, K)
    assert os.listdir(tmp_path / "sub") == ["m.onnx"]
    with pytest.raises(KinactError, match="input_spec"):
        export_onnx_model(torch.nn.Linear(3, 3), tmp_path / "lin.onnx")
    (tmp_path / "taken.onnx").mkdir()
    with pytest.raises(OSError):
        export_onnx_model(model, tmp_path / "taken.onnx")
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]
