"""Offline training end to end on tiny fake UTD-MHAD files: configs, arrays, train/resume, eval, kNN, fusion."""
from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest
import torch
from _training_data import tiny_config, write_fake_utd

from kinact.core.checkpoint import load_checkpoint, read_meta
from kinact.core.errors import KinactError
from kinact.core.training.config import config_from_dict, load_config, parse_override
from kinact.core.training.data import ActionDataset, ItemRecipe, load_sequences
from kinact.core.training.evaluate import evaluate_checkpoint, fuse_checkpoints, knn_baseline
from kinact.core.training.train import Schedule, rng_state, set_rng_state, train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def fake_utd(tmp_path_factory):
    return write_fake_utd(tmp_path_factory.mktemp("utd"))


@pytest.fixture(scope="module")
def trained(fake_utd, tmp_path_factory):
    """One 2-epoch run shared by the checkpoint, eval and fusion tests."""
    out = tmp_path_factory.mktemp("run")
    result = train(config_from_dict(tiny_config()), fake_utd, out, seed=0, progress=False)
    return result, out


# --------------------------------------------------------------------------------------------- config

def test_every_shipped_config_loads_and_builds():
    from kinact.models.registry import build_model

    paths = sorted(glob.glob(os.path.join(REPO, "configs", "*.toml")))
    assert len(paths) >= 10
    for path in paths:
        cfg = load_config(path)
        assert set(cfg.data.val_subjects) <= set(cfg.data.train_subjects), path
        assert not set(cfg.data.train_subjects) & set(cfg.data.test_subjects), path
        assert build_model(cfg.model_spec(27)).num_classes == 27


def test_config_unknown_key_names_file_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nname = "skeleton"\n[optim]\nlearning_rate = 0.1\n')
    with pytest.raises(KinactError, match=r"bad\.toml.*optim\.learning_rate"):
        load_config(path)
    path.write_text('[model]\nname = "skeleton"\n[augment]\nrotate = 3\n')
    with pytest.raises(KinactError, match=r"bad\.toml.*augment\.rotate"):
        load_config(path)
    path.write_text('[model]\nname = "skeleton"\n[data]\nval_subjects = [2]\n')
    with pytest.raises(KinactError, match="carved out"):
        load_config(path)


def test_config_overrides_and_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[model]\nname = "skeleton"\n[optim]\nlr = 1\n')
    cfg = load_config(path, {"optim.epochs": 3, **parse_override("data.val_subjects=[7]")})
    assert cfg.name == "c" and cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.optim.epochs == 3 and cfg.data.fit_subjects == [1, 3, 5] and cfg.seeds == [0, 1]
    spec = cfg.model_spec(27)
    assert (spec["num_classes"], spec["num_joints"], spec["in_channels"]) == (27, 20, 3)
    assert cfg.fingerprint() == load_config(path, {"optim.epochs": 50, "data.val_subjects": [7]}).fingerprint()


# --------------------------------------------------------------------------------------------- data

def test_sequences_to_tensors(fake_utd):
    cfg = config_from_dict(tiny_config(**{"input.features": ["joint", "bone", "velocity"],
                                          "augment": {"rotate_deg": 20.0, "crop": 0.8, "speed": 0.2}}))
    seqs = load_sequences("utd_mhad", fake_utd, [1, 3], cfg.input.norm())
    assert len(seqs) == 12 and sorted(set(seqs.labels.tolist())) == [0, 1, 2]
    assert {x.shape[0] for x in seqs.joints} != {16}  # variable length kept until the item is drawn
    recipe = ItemRecipe(features=cfg.input.features, frames=16, augment=cfg.augment)
    ds = ActionDataset(seqs, recipe, train=True, seed=0)
    item = ds[0]
    assert item["skeleton"].shape == (9, 16, 20) and item["skeleton"].dtype == torch.float32
    assert torch.isfinite(item["skeleton"]).all() and int(item["label"]) == seqs.labels[0]
    again = ds[0]
    ds.set_epoch(1)
    assert torch.equal(item["skeleton"], again["skeleton"])  # same (seed, epoch, index): same augmentation
    assert not torch.equal(item["skeleton"], ds[0]["skeleton"])
    plain = ActionDataset(seqs, recipe)[0]["skeleton"]
    assert torch.equal(plain, ActionDataset(seqs, recipe)[0]["skeleton"])  # no augmentation outside training


def test_knn_baseline_on_separable_data():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16, 20, 3)) * 5
    x = [centres[c] + rng.normal(scale=0.1, size=(16, 20, 3)) for c in range(3) for _ in range(4)]
    y = np.repeat(np.arange(3), 4)
    assert knn_baseline((x[::2], y[::2]), (x[1::2], y[1::2])) == 1.0
    assert knn_baseline((np.stack(x[::2]), y[::2]), (np.stack(x[1::2]), y[1::2][::-1])) < 1.0


# --------------------------------------------------------------------------------------------- training

def test_schedule_warmup_cosine_and_plateau():
    cfg = config_from_dict(tiny_config(**{"optim.scheduler": "cosine", "optim.warmup_epochs": 2,
                                          "optim.epochs": 10, "optim.lr": 1.0}))
    s = Schedule(cfg.optim)
    assert s.lr(0, 0, 4) == pytest.approx(1 / 8) and s.lr(1, 3, 4) == pytest.approx(1.0)
    assert s.lr(6, 0, 4) == pytest.approx(0.5) and s.lr(9, 3, 4) < 0.02
    p = Schedule(config_from_dict(tiny_config(**{"optim.scheduler": "plateau", "optim.plateau_patience": 2,
                                                 "optim.lr": 1.0})).optim)
    for loss in (1.0, 0.5, 0.5, 0.5):
        p.epoch_end(loss)
    assert p.factor == 1.0
    p.epoch_end(0.5)
    assert p.factor == pytest.approx(0.2) and p.lr(5, 0, 4) == pytest.approx(0.2)


def test_rng_state_survives_weights_only_load(tmp_path):
    state = rng_state()
    torch.save({"rng": state}, tmp_path / "s.pt")
    expected = (torch.rand(3), np.random.rand(3))
    set_rng_state(torch.load(tmp_path / "s.pt", weights_only=True)["rng"])
    assert torch.equal(torch.rand(3), expected[0]) and np.array_equal(np.random.rand(3), expected[1])


def test_train_writes_checkpoint_and_history(trained):
    result, out = trained
    run = out / "seed0"
    assert (run / "model.safetensors").is_file() and (run / "state.pt").is_file()
    history = json.loads((run / "history.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2] and all(0 <= h["test_acc"] <= 1 for h in history)
    meta = read_meta(run / "model.safetensors")
    assert meta.layout == "kinect_v1" and meta.frames == 16 and meta.features == ["joint", "velocity"]
    assert meta.model["in_channels"] == 6 and meta.norm["centre"] == "first_frame" and len(meta.classes) == 27
    t = meta.trained_on
    assert (t["dataset"], t["train_subjects"], t["test_subjects"], t["seed"], t["epochs"]) == \
        ("utd_mhad", [1, 3], [2, 4], 0, 2)
    assert t["test_accuracy"] == history[-1]["test_acc"] == result["test_accuracy"]
    assert 0.5 < meta.window_seconds < 2.0  # 28-35 frames at 30 fps


def test_resume_continues_from_the_last_epoch(fake_utd, tmp_path):
    cfg1 = config_from_dict(tiny_config(**{"optim.epochs": 1}))
    first = train(cfg1, fake_utd, tmp_path, seed=3, progress=False)
    assert first["epochs"] == 1 and first["resumed_from"] == 0
    second = train(config_from_dict(tiny_config()), fake_utd, tmp_path, seed=3, progress=False)
    assert second["resumed_from"] == 1 and second["epochs"] == 2
    straight = train(config_from_dict(tiny_config()), fake_utd, tmp_path / "b", seed=3, progress=False)
    a, _ = load_checkpoint(tmp_path / "seed3" / "model.safetensors")
    b, _ = load_checkpoint(tmp_path / "b" / "seed3" / "model.safetensors")
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)  # resumed == uninterrupted
    assert second["test_accuracy"] == straight["test_accuracy"]
    other = config_from_dict(tiny_config(**{"optim.lr": 0.5}))
    with pytest.raises(KinactError, match="different config"):
        train(other, fake_utd, tmp_path, seed=3, progress=False)


def test_training_learns_a_separable_toy_set(fake_utd, tmp_path):
    cfg = config_from_dict(tiny_config(**{"optim.epochs": 12, "model.tarm": "none"}))
    result = train(cfg, fake_utd, tmp_path, seed=0, progress=False)
    assert result["test_accuracy"] > 0.9


# --------------------------------------------------------------------------------------------- evaluation

def _run_cli(name, argv):
    """`kinact NAME ...` through the real CLI once it is registered there, else straight to the module."""
    import argparse
    import importlib

    from kinact.app import cli

    if name in cli.COMMANDS:
        return cli.main([name, *argv])
    mod = importlib.import_module(f"kinact.app.commands.{name}")
    parser = argparse.ArgumentParser()
    mod.add_arguments(parser)
    return mod.run(parser.parse_args(argv))


def test_eval_cli_json_is_one_object(trained, fake_utd, tmp_path, capsys):
    result, out = trained
    ckpt = os.path.join(result["run_dir"], "model.safetensors")
    capsys.readouterr()
    assert _run_cli("eval", [ckpt, "--data", fake_utd, "--json", "--out", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    obj = json.loads(stdout)  # raises if there is anything but one JSON document
    assert isinstance(obj, dict) and 0.0 <= obj["accuracy"] <= 1.0 and obj["n"] == 12
    assert obj["accuracy"] == pytest.approx(result["test_accuracy"])
    assert len(obj["confusion"]) == 27 and obj["classes"][0] == "right arm swipe to the left"
    assert 0.0 <= obj["knn_baseline"] <= 1.0 and obj["per_class"]["squat (two arms stretch out)"] is None
    assert all(os.path.isfile(p) for p in obj["figures"]) and len(obj["figures"]) == 2


def test_checkpoint_refuses_other_classes(trained, fake_utd):
    result, _ = trained
    ckpt = os.path.join(result["run_dir"], "model.safetensors")
    with pytest.raises(KinactError, match="classes differ"):
        evaluate_checkpoint(ckpt, fake_utd, dataset="msr_action3d")
    with pytest.raises(KinactError):
        load_checkpoint(ckpt, classes=["a", "b", "c"])


def test_depth_fusion_training_caches_descriptors_and_fuses(trained, tmp_path, monkeypatch):
    root = write_fake_utd(tmp_path / "utd", subjects=(1, 2), trials=(1,), depth=True)
    monkeypatch.setenv("KINACT_CACHE_DIR", str(tmp_path / "cache"))
    cfg = config_from_dict(tiny_config(**{
        "data.modality": "fusion", "data.train_subjects": [1], "data.test_subjects": [2],
        "data.descriptor": "dmi", "data.descriptor_size": [32, 32], "optim.epochs": 1,
        "augment": {"depth_shift": 0.1, "depth_scale": 0.1},
        "model": {"name": "two_stream", "skeleton": {"tarm": "none", "stcm": "temporal", "channels": [8],
                                                      "blocks": [1], "strides": [1]},
                  "depth": {"arch": "small", "width": 0.125}}}))
    result = train(cfg, root, tmp_path / "run", seed=0, progress=False)
    cached = glob.glob(str(tmp_path / "cache" / "descriptors" / "utd_mhad" / "*" / "*.npz"))
    assert len(cached) == 6
    meta = read_meta(result["checkpoint"])
    assert meta.depth["descriptor"] == "dmi" and meta.depth["size"] == [32, 32] and meta.depth["channels"] == 1

    import kinact.core.training.data as data

    monkeypatch.setattr(data, "compute_descriptor", lambda *a: (_ for _ in ()).throw(AssertionError("recomputed")))
    res = evaluate_checkpoint(result["checkpoint"], root)  # served from the cache
    assert res["n"] == 3 and res["modality"] == "fusion"
    skel_ckpt = os.path.join(trained[0]["run_dir"], "model.safetensors")
    fused = fuse_checkpoints([result["checkpoint"], skel_ckpt], root, mode="product")
    assert fused["n"] == 3 and len(fused["per_model"]) == 2 and 0 <= fused["accuracy"] <= 1


def test_eval_cli_fuses_several_checkpoints(trained, fake_utd, capsys):
    ckpt = os.path.join(trained[0]["run_dir"], "model.safetensors")
    assert _run_cli("eval", [ckpt, ckpt, "--data", fake_utd, "--fusion", "max", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    single = evaluate_checkpoint(ckpt, fake_utd)
    assert out["mode"] == "max" and len(out["per_model"]) == 2
    # fusing a model with itself changes nothing: the same accuracy as the model alone
    assert out["accuracy"] == pytest.approx(single["accuracy"]) and out["n"] == single["n"]


def _toml(d: dict, prefix: str = "") -> str:
    """Just enough TOML for the tiny configs: scalars and lists at top level, then one table per section."""
    top = [f"{k} = {json.dumps(v)}" for k, v in d.items() if not isinstance(v, dict)]
    tables = [f"\n[{prefix}{k}]\n" + _toml(v, f"{prefix}{k}.") for k, v in d.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "".join(tables)


def test_train_cli_summary_has_a_knn_baseline_on_the_model_input(tmp_path, monkeypatch):
    """Depth runs get their 1-NN on the descriptor images they train on, skeleton runs on the joints."""
    root = write_fake_utd(tmp_path / "utd", subjects=(1, 2), trials=(1,), depth=True)
    monkeypatch.setenv("KINACT_CACHE_DIR", str(tmp_path / "cache"))
    depth = tiny_config(**{"data.modality": "depth", "data.train_subjects": [1], "data.test_subjects": [2],
                           "data.descriptor": "dmm", "data.descriptor_size": [16, 16], "optim.epochs": 1,
                           "model": {"name": "depth", "arch": "small", "width": 0.125}})
    for name, cfg, knn_on in (("d", depth, "depth descriptors"),
                              ("s", tiny_config(**{"data.train_subjects": [1], "data.test_subjects": [2],
                                                   "optim.epochs": 1}), "normalised joints")):
        path = tmp_path / f"{name}.toml"
        path.write_text(_toml(cfg))
        assert _run_cli("train", [str(path), "--data", root, "--out", str(tmp_path / name), "--quiet"]) == 0
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["knn_on"] == knn_on and 0.0 <= summary["knn_baseline"] <= 1.0


def test_train_cli_keeps_earlier_seeds_of_the_same_config_in_the_summary(tmp_path):
    """`--seed 0` then `--seed 1` ends with both seeds in summary.json; a changed config starts afresh."""
    root = write_fake_utd(tmp_path / "utd", subjects=(1, 2), trials=(1,))
    cfg = tiny_config(**{"data.train_subjects": [1], "data.test_subjects": [2], "optim.epochs": 1})
    path = tmp_path / "c.toml"
    path.write_text(_toml(cfg))
    out = tmp_path / "run"
    for seed in ("0", "1"):
        assert _run_cli("train", [str(path), "--data", root, "--out", str(out), "--seed", seed, "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["seeds"]) == ["0", "1"]
    accs = [v["test_accuracy"] for v in summary["seeds"].values()]
    assert summary["test_accuracy_mean"] == pytest.approx(sum(accs) / 2)
    # a changed config retrained in the same folder does not inherit the old config's seed 1
    cfg["optim"]["lr"] = 0.02
    path.write_text(_toml(cfg))
    assert _run_cli("train", [str(path), "--data", root, "--out", str(out), "--seed", "0", "--no-resume",
                              "--quiet"]) == 0
    assert sorted(json.loads((out / "summary.json").read_text())["seeds"]) == ["0"]


def test_score_fusion_drops_a_no_action_column_and_renormalises():
    """A no-action model fuses with a plain one over their shared actions; other class differences refuse."""
    import torch

    from kinact.core.errors import KinactError
    from kinact.core.training.evaluate import _shared_action_classes

    plain = ("keys", torch.tensor([[0.2, 0.8]]))
    with_na = ("keys", torch.tensor([[0.3, 0.1, 0.6]]))  # mostly "nothing", but a over b
    runs, classes = _shared_action_classes([plain, with_na], [["a", "b"], ["a", "b", "none"]], [None, "none"])
    assert classes == ["a", "b"]
    assert torch.allclose(runs[1][1], torch.tensor([[0.75, 0.25]])) and runs[0][1] is plain[1]
    with pytest.raises(KinactError, match="share one class list"):
        _shared_action_classes([plain, with_na], [["a", "b"], ["a", "c", "none"]], [None, "none"])


# --------------------------------------------------------------------------------------------- init_from

def test_init_from_loads_every_layer_but_the_head(trained, fake_utd, tmp_path):
    from kinact.core.training.finetune import head_keys
    from kinact.core.training.train import init_weights, seeded_model

    _, out = trained
    ckpt = out / "seed0" / "model.safetensors"
    state, meta = load_checkpoint(ckpt)
    cfg = config_from_dict(tiny_config(**{"optim.init_from": str(ckpt)}))
    classes = [meta.classes[2], "a class it never saw", meta.classes[0]]
    spec, net = seeded_model(cfg, len(classes), seed=5)
    fresh = {k: v.clone() for k, v in net.state_dict().items()}
    line = init_weights(cfg, net, spec, classes)
    assert "2 known" in line
    heads = head_keys(net, spec)
    got = net.state_dict()
    for key, t in got.items():
        if key in heads:
            ax = heads[key]
            assert torch.equal(t.select(ax, 0), state[key].select(ax, 2))
            assert torch.equal(t.select(ax, 1), fresh[key].select(ax, 1))  # unknown class: fresh row kept
        else:
            assert torch.equal(t, state[key].to(t.dtype)), key
    # A run with it trains from there; resuming it later still works (the key is part of the fingerprint).
    result = train(cfg, fake_utd, tmp_path, seed=0, progress=False)
    assert result["epochs"] == 2


def test_init_from_refuses_another_input_recipe_and_a_missing_file(trained, tmp_path):
    from kinact.core.training.train import init_weights, seeded_model

    _, out = trained
    ckpt = out / "seed0" / "model.safetensors"
    cfg = config_from_dict(tiny_config(**{"optim.init_from": str(ckpt), "input.features": ["joint", "bone"]}))
    spec, net = seeded_model(cfg, 3, seed=0)
    with pytest.raises(KinactError, match="input features"):
        init_weights(cfg, net, spec, ["a", "b", "c"])
    cfg = config_from_dict(tiny_config(**{"optim.init_from": str(tmp_path / "nope.safetensors")}))
    with pytest.raises(KinactError, match="no such checkpoint"):
        init_weights(cfg, net, spec, ["a", "b", "c"])


def test_init_from_is_resolved_beside_the_config_file(tmp_path):
    from kinact.core.training.train import init_path

    (tmp_path / "configs").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.safetensors").write_bytes(b"")
    cfg = config_from_dict(tiny_config(**{"optim.init_from": "../models/m.safetensors"}),
                           str(tmp_path / "configs" / "x.toml"))
    assert os.path.samefile(init_path(cfg), tmp_path / "models" / "m.safetensors")
