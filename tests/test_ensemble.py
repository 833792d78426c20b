"""Ensemble checkpoints: several checkpoints of one recipe as one file whose scores are their averaged scores."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_models import tiny_checkpoint

from kinact.app.cli import main as cli
from kinact.core.checkpoint import load_checkpoint, read_meta
from kinact.core.ensemble_checkpoint import combine
from kinact.core.errors import BadInputError
from kinact.core.inference import Predictor
from kinact.models.ensemble import ScoreAverage
from kinact.models.registry import build_model
from tiny_models import TINY_SKELETON


def test_score_average_returns_log_of_the_members_mean_softmax():
    torch.manual_seed(0)
    a, b = build_model(TINY_SKELETON), build_model(TINY_SKELETON)
    ens = ScoreAverage([a, b]).eval()
    x = torch.randn(3, 9, 16, 20)
    with torch.no_grad():
        want = (torch.softmax(a.eval()(x), -1) + torch.softmax(b.eval()(x), -1)) / 2
        got = torch.softmax(ens(x), -1)
    assert torch.allclose(got, want, atol=1e-6)
    assert ens.input_spec == a.input_spec and ens.num_classes == 3


def test_score_average_refuses_members_that_do_not_agree():
    with pytest.raises(ValueError, match="at least two"):
        ScoreAverage([build_model(TINY_SKELETON)])
    with pytest.raises(ValueError, match="classes"):
        ScoreAverage([build_model(TINY_SKELETON), build_model({**TINY_SKELETON, "num_classes": 4})])
    with pytest.raises(ValueError, match="inputs"):
        ScoreAverage([build_model(TINY_SKELETON), build_model({**TINY_SKELETON, "num_joints": 25})])


def test_combined_checkpoint_predicts_the_average_of_its_members(tmp_path):
    facts = {"dataset": "utd_mhad", "train_subjects": [1, 3], "val_subjects": [5], "test_subjects": [2]}
    a = tiny_checkpoint(tmp_path / "a.safetensors", seed=1, live={"stride": 2}, trained_on={**facts, "seed": 1})
    b = tiny_checkpoint(tmp_path / "b.safetensors", seed=2, trained_on={**facts, "seed": 2})
    out = tmp_path / "ens.safetensors"
    meta = combine([a, b], out)
    assert meta.model["name"] == "ensemble" and len(meta.model["members"]) == 2
    assert meta.live == {"stride": 2} and read_meta(out).classes == read_meta(a).classes
    # `kinact eval --split val` and the model card read these; they hold when every member agrees
    assert {k: meta.trained_on[k] for k in facts} == facts and [m["seed"] for m in meta.trained_on["members"]] == [1, 2]
    x = np.random.default_rng(0).normal(size=(2, 9, 16, 20)).astype(np.float32)
    pa = Predictor.load(a, backend="torch").predict_skeleton(x)
    pb = Predictor.load(b, backend="torch").predict_skeleton(x)
    for backend in ("torch", "onnx"):
        p = Predictor.load(out, backend=backend).predict_skeleton(x)
        np.testing.assert_allclose(p, (pa + pb) / 2, atol=1e-5)
    state, _ = load_checkpoint(out)
    assert any(k.startswith("members.1.") for k in state)


def test_combine_refuses_members_of_another_recipe_naming_the_file(tmp_path):
    a = tiny_checkpoint(tmp_path / "a.safetensors")
    other = tiny_checkpoint(tmp_path / "other.safetensors", classes=("x", "z", "no_action"))
    longer = tiny_checkpoint(tmp_path / "longer.safetensors", window_seconds=2.0)
    with pytest.raises(BadInputError, match="other.safetensors.*classes"):
        combine([a, other], tmp_path / "e.safetensors")
    with pytest.raises(BadInputError, match="longer.safetensors.*window_seconds"):
        combine([a, longer], tmp_path / "e.safetensors")
    ens = tmp_path / "e.safetensors"
    combine([a, tiny_checkpoint(tmp_path / "b.safetensors", seed=3)], ens)
    with pytest.raises(BadInputError, match="already an ensemble"):
        combine([ens, a], tmp_path / "f.safetensors")


def test_cli_writes_an_ensemble_with_tuned_live_settings_and_exits_2_on_bad_input(tmp_path, capsys):
    a = tiny_checkpoint(tmp_path / "a.safetensors", seed=1)
    b = tiny_checkpoint(tmp_path / "b.safetensors", seed=2)
    tuned = tmp_path / "tune.json"
    tuned.write_text(json.dumps({"chosen": {"setting": {"stride": 1, "enter": 0.5, "exit": 0.1,
                                                        "window_seconds": 1.0}, "f1": 0.9}}))
    out = tmp_path / "ens.safetensors"
    assert cli(["ensemble", a, b, "--out", str(out), "--live", str(tuned)]) == 0
    assert read_meta(out).live == {"stride": 1, "enter": 0.5, "exit": 0.1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"stride": 0}))
    assert cli(["ensemble", a, b, "--out", str(tmp_path / "x.safetensors"), "--live", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err
    assert cli(["ensemble", a, "--out", str(tmp_path / "y.safetensors")]) == 2
