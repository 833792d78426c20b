"""The optional no-action class: still-edge detection, the extra windows, training and evaluation with it."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from _training_data import canonical_motion, tiny_config

from kinact.core.checkpoint import read_meta
from kinact.core.errors import KinactError
from kinact.core.layouts import CANONICAL, UTD_MHAD
from kinact.core.pipeline.events import motion_energy
from kinact.core.training.config import config_from_dict, load_config
from kinact.core.training.data import ActionDataset, ItemRecipe, class_names, item_rng, load_sequences
from kinact.core.training.evaluate import evaluate_checkpoint
from kinact.core.training.no_action import frame_speed, no_action_windows, still_edges
from kinact.core.training.train import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRE, POST = 8, 10  # still frames written before and after each fake action


def write_still_utd(root, classes=3, subjects=(1, 2, 3, 4), trials=(1, 2), seed=0) -> str:
    """Fake UTD-MHAD files like _training_data's, but each action framed by still standing, as real ones are."""
    import scipy.io

    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "Skeleton"), exist_ok=True)
    order = np.asarray(UTD_MHAD.canonical_index)
    for a in range(1, classes + 1):
        for s in subjects:
            for t in trials:
                move = canonical_motion(a - 1, 24 + 3 * t + s, rng)
                canon = np.concatenate([move[:1].repeat(PRE, 0), move, move[-1:].repeat(POST, 0)])
                canon = canon + rng.normal(scale=0.002, size=canon.shape).astype(np.float32)
                utd = np.zeros_like(canon)
                utd[:, order] = canon
                scipy.io.savemat(os.path.join(root, "Skeleton", f"a{a}_s{s}_t{t}_skeleton.mat"),
                                 {"d_skel": utd.transpose(1, 2, 0).astype(np.float64)})
    return os.fspath(root)


def na_config(**over) -> dict:
    return tiny_config(**{"data.no_action": True, "data.no_action_ratio": 0.5, **over})


@pytest.fixture(scope="module")
def still_utd(tmp_path_factory):
    return write_still_utd(tmp_path_factory.mktemp("utd_still"))


@pytest.fixture(scope="module")
def trained_na(still_utd, tmp_path_factory):
    out = tmp_path_factory.mktemp("na_run")
    return train(config_from_dict(na_config()), still_utd, out, seed=0, progress=False)


# --------------------------------------------------------------------------------------------- detection

def _still_move_still(pre=20, move=30, post=25, noise=0.002, seed=0) -> np.ndarray:
    """A standing body that raises and lowers the right hand (constant speed) between two still stretches."""
    rng = np.random.default_rng(seed)
    x = np.zeros((pre + move + post, 20, 3), np.float32)
    x[:, :, 1] = np.linspace(-1, 1, 20)  # a vertical "body"
    hand = [CANONICAL.index(n) for n in ("wrist_right", "hand_right", "elbow_right")]
    up = np.concatenate([np.linspace(0, 1, move // 2, endpoint=False), np.linspace(1, 0, move - move // 2)])
    x[pre:pre + move, hand, 1] += up[:, None].astype(np.float32)
    return x + rng.normal(scale=noise, size=x.shape).astype(np.float32)


def test_still_prefix_and_suffix_found():
    x = _still_move_still(pre=20, move=30, post=25)
    pre, suf = still_edges(x)
    # the 5-frame smoothing may take up to 3 frames next to the motion off the still runs, never add any
    assert 17 <= pre <= 20 and 22 <= suf <= 25
    s = frame_speed(x)
    assert s[:pre].max() < 0.15 * s.max() and s[len(x) - suf:].max() < 0.15 * s.max()
    # robust to one glitching joint: a foot jumping in the still part does not end the still run
    y = x.copy()
    y[5, CANONICAL.index("foot_left")] += 0.8
    assert still_edges(y) == (pre, suf)
    # a sequence that never moves is still throughout; one that moves from the first frame has no prefix
    assert still_edges(np.zeros((12, 20, 3), np.float32)) == (12, 12)
    assert still_edges(_still_move_still(pre=0, move=30, post=10))[0] == 0


# --------------------------------------------------------------------------------------------- windows

def test_dataset_gains_no_action_windows(still_utd):
    cfg = config_from_dict(na_config())
    seqs = load_sequences("utd_mhad", still_utd, [1, 3], cfg.input.norm())
    K = len(class_names("utd_mhad"))
    n = len(seqs)
    extra = int(round(cfg.data.no_action_ratio * n))
    windows = no_action_windows(seqs, extra, float(seqs.durations.mean()), cfg.input.norm(), K)
    recipe = ItemRecipe(features=cfg.input.features, frames=16, augment=cfg.augment)
    ds = ActionDataset(seqs, recipe, train=True, seed=0, no_action=windows)
    assert len(ds) == n + extra == 18 and list(ds.labels[n:]) == [K] * extra and ds.labels.max() == K
    assert windows.length == int(round(seqs.durations.mean() * 30))
    # windows spread evenly over the sequences, so every class contributes
    assert sorted({int(seqs.labels[windows.source(j)]) for j in range(extra)}) == [0, 1, 2]
    item = ds[n]
    assert int(item["label"]) == K and item["skeleton"].shape == (6, 16, 20) and torch.isfinite(item["skeleton"]).all()
    assert torch.equal(item["skeleton"], ds[n]["skeleton"])  # drawn from (seed, epoch, index): repeatable
    ds.set_epoch(1)
    assert not torch.equal(item["skeleton"], ds[n]["skeleton"])  # and fresh every epoch
    fixed = ActionDataset(seqs, recipe, no_action=windows)  # evaluation: the same windows every time
    assert torch.equal(fixed[n + 1]["skeleton"], ActionDataset(seqs, recipe, no_action=windows)[n + 1]["skeleton"])
    # the windows are still: far less motion than any action clip
    calm = max(motion_energy(windows.window(j, item_rng(0, 0, j))) for j in range(extra))
    assert calm < 0.5 * min(motion_energy(x) for x in seqs.joints)


def test_config_no_action_keys():
    cfg = config_from_dict(na_config())
    assert cfg.data.no_action and cfg.data.no_action_name == "no action"
    assert config_from_dict(tiny_config()).fingerprint() != cfg.fingerprint()
    off = config_from_dict(tiny_config(**{"data.no_action_ratio": 2.0}))
    assert off.fingerprint() == config_from_dict(tiny_config()).fingerprint()  # off: old runs still resume
    with pytest.raises(KinactError, match="skeleton"):
        config_from_dict(na_config(**{"data.modality": "depth", "model": {"name": "depth"}}))
    with pytest.raises(KinactError, match="no_action_ratio"):
        config_from_dict(na_config(**{"data.no_action_ratio": 0.0}))
    shipped = load_config(os.path.join(REPO, "configs", "utd_skeleton_ours_noaction.toml"))
    base = load_config(os.path.join(REPO, "configs", "utd_skeleton_ours.toml"))
    assert shipped.data.no_action and not base.data.no_action
    assert shipped.model == base.model and shipped.optim == base.optim and shipped.augment == base.augment


# --------------------------------------------------------------------------------------------- train, eval

def test_training_writes_a_no_action_checkpoint(trained_na):
    meta = read_meta(trained_na["checkpoint"])
    K = len(class_names("utd_mhad"))
    assert meta.no_action == "no action" and meta.classes[-1] == "no action" and len(meta.classes) == K + 1
    assert meta.model["num_classes"] == K + 1
    assert 0.0 <= meta.trained_on["no_action_recall"] <= 1.0
    assert meta.trained_on["no_action_recall"] == trained_na["no_action_recall"]
    history = json.loads(open(os.path.join(trained_na["run_dir"], "history.json")).read())["history"]
    assert len(history) == 2 and all(0.0 <= h["test_na_recall"] <= 1.0 for h in history)


def test_evaluation_reports_action_accuracy_and_no_action_recall(trained_na, still_utd):
    res = evaluate_checkpoint(trained_na["checkpoint"], still_utd)
    K = len(class_names("utd_mhad"))
    assert res["n"] == 12 and res["n_no_action"] == 12  # 12 test clips, one no-action window each
    assert res["accuracy"] == pytest.approx(trained_na["test_accuracy"])  # over action clips only
    assert res["no_action_recall"] == pytest.approx(trained_na["no_action_recall"])
    assert res["false_alarm_rate"] == pytest.approx(1.0 - res["no_action_recall"])
    assert 0.0 <= res["missed_action_rate"] <= 1.0
    cm = np.array(res["confusion"])
    assert cm.shape == (K + 1, K + 1) and cm.sum() == 24 and cm[K].sum() == 12
    assert res["per_class"]["no action"] == pytest.approx(res["no_action_recall"])
    # a no-action prediction on an action clip counts as wrong
    assert res["accuracy"] == pytest.approx(np.trace(cm[:K, :K]) / 12)


def test_eval_cli_on_a_no_action_checkpoint(trained_na, still_utd, tmp_path, capsys):
    import argparse

    from kinact.app.commands import eval as eval_cmd

    parser = argparse.ArgumentParser()
    eval_cmd.add_arguments(parser)
    base = [trained_na["checkpoint"], "--data", still_utd, "--no-knn", "--out", str(tmp_path)]
    capsys.readouterr()
    assert eval_cmd.run(parser.parse_args(base + ["--json"])) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["classes"][-1] == "no action" and len(obj["confusion"]) == len(obj["classes"])
    assert obj["no_action_recall"] == pytest.approx(trained_na["no_action_recall"]) and obj["figures"]
    assert eval_cmd.run(parser.parse_args(base + ["--no-plots"])) == 0
    assert "no action (12 windows): recall" in capsys.readouterr().out


def test_no_action_model_learns_to_tell_still_from_action(still_utd, tmp_path):
    cfg = config_from_dict(na_config(**{"optim.epochs": 12, "model.tarm": "none", "data.no_action_ratio": 1.0}))
    result = train(cfg, still_utd, tmp_path, seed=0, progress=False)
    assert result["test_accuracy"] > 0.8 and result["no_action_recall"] > 0.8
