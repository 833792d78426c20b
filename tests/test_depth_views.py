"""Depth motion maps from virtual cameras (core/depth_views.py) and their use as a training augmentation."""
from __future__ import annotations

import glob

import numpy as np
import pytest
import torch
from _training_data import tiny_config, write_fake_utd
from test_descriptors import scene

from kinact.core.checkpoint import read_meta
from kinact.core.depth_views import dmm_rot
from kinact.core.descriptors import dmm
from kinact.core.errors import KinactError
from kinact.core.training.config import config_from_dict
from kinact.core.training.data import ActionDataset, ItemRecipe, SequenceSet


def _corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_the_sensor_view_matches_the_plain_depth_motion_maps():
    d = scene(arm="both", quant=20)
    plain = dmm(d, size=(40, 40))
    front, side, top = dmm_rot(d, size=(40, 40))
    for view, img in zip(("front", "side", "top"), (front, side, top)):
        assert img.shape == (40, 40) and img.dtype == np.float32 and 0 <= img.min() and img.max() == 1.0
        assert _corr(img, plain[view]) > 0.6, view  # same motion, drawn orthographically instead of in perspective
    assert front[:, :].sum() > 0 and np.allclose(dmm_rot(d, size=(40, 40), angles=[0])[0], front)


def test_a_turned_camera_sees_the_motion_differently_but_still_sees_it():
    d = scene(arm="lateral")
    views = dmm_rot(d, size=(40, 40), angles=[0, 40])
    assert len(views) == 6
    assert views[3].max() == 1.0 and views[5].max() == 1.0  # the turned front and top still see the swing
    # A sideways swing at one depth changes nothing in the sensor's side view (rows × depth); seen from 40°
    # off, the same swing moves in depth, so the turned side view shows it over many depth bins.
    def depth_spread(side):
        cols = side.sum(0)
        return int((cols > 0.05 * cols.max()).sum())
    assert _corr(views[0], views[3]) < 0.95
    assert depth_spread(views[1]) == 0 and not views[1].any()
    assert depth_spread(views[4]) > 10


def test_empty_and_bad_inputs():
    zeros = dmm_rot(np.zeros((5, 20, 20), np.uint16), size=(8, 8), angles=[0, 15])
    assert len(zeros) == 6 and all(z.shape == (8, 8) and not z.any() for z in zeros)
    with pytest.raises(ValueError, match="angles"):
        dmm_rot(scene(), angles=[])
    with pytest.raises(ValueError, match="T, H, W"):
        dmm_rot(np.zeros((20, 20)))


def test_config_allows_depth_angles_only_with_virtual_cameras():
    base = tiny_config(**{"data.modality": "depth", "data.descriptor": "dmm_rot", "model": {"name": "depth"}})
    cfg = config_from_dict({**base, "augment": {"depth_angles": [-20, 20]}})
    assert cfg.depth_augment.angles == [-20.0, 20.0]
    assert cfg.data.training_depth_recipe([-20, 20])["channels"] == 9
    assert cfg.data.depth_recipe()["channels"] == 3 and "angles" not in cfg.data.depth_recipe()["args"]
    with pytest.raises(KinactError, match="dmm_rot"):
        config_from_dict({**base, "data": {**base["data"], "descriptor": "dmm"}, "augment": {"depth_angles": [20]}})
    with pytest.raises(KinactError, match="non-zero"):
        config_from_dict({**base, "augment": {"depth_angles": [0, 20]}})


def test_training_items_draw_a_view_and_evaluation_takes_the_sensors():
    views = 3
    imgs = [np.stack([np.full((4, 4), 10 * k + c, np.float32) for k in range(views) for c in range(3)])]
    seqs = SequenceSet(joints=[np.zeros((5, 20, 3), np.float32)], labels=np.zeros(1, np.int64),
                       subjects=np.ones(1, np.int64), keys=["a"], durations=np.ones(1), classes=["x"],
                       descriptors=imgs)
    recipe = ItemRecipe(modality="depth", depth_views=views)
    ev = ActionDataset(seqs, recipe)
    assert torch.equal(ev[0]["depth"][:, 0, 0], torch.tensor([0.0, 1.0, 2.0]))
    tr = ActionDataset(seqs, recipe, train=True, seed=0)
    seen = set()
    for epoch in range(30):
        tr.set_epoch(epoch)
        seen.add(int(tr[0]["depth"][0, 0, 0]) // 10)
    assert seen == {0, 1, 2}


def test_a_depth_model_trained_with_virtual_cameras_runs_on_the_sensors_view(tmp_path, monkeypatch):
    from kinact.core.training.evaluate import evaluate_checkpoint
    from kinact.core.training.train import train

    root = write_fake_utd(tmp_path / "utd", subjects=(1, 2), trials=(1,), depth=True)
    monkeypatch.setenv("KINACT_CACHE_DIR", str(tmp_path / "cache"))
    cfg = config_from_dict(tiny_config(**{
        "data.modality": "depth", "data.train_subjects": [1], "data.test_subjects": [2],
        "data.descriptor": "dmm_rot", "data.descriptor_size": [24, 24], "optim.epochs": 1,
        "augment": {"depth_angles": [-20, 20]}, "input.features": ["joint"],
        "model": {"name": "depth", "arch": "small", "width": 0.125}}))
    result = train(cfg, root, tmp_path / "run", seed=0, progress=False)
    meta = read_meta(result["checkpoint"])
    assert meta.depth["descriptor"] == "dmm_rot" and meta.depth["channels"] == 3 and "angles" not in meta.depth["args"]
    assert meta.model["in_channels"] == 3
    assert len(glob.glob(str(tmp_path / "cache" / "descriptors" / "utd_mhad" / "*" / "*.npz"))) == 6
    res = evaluate_checkpoint(result["checkpoint"], root)  # the sensor's view only, computed for this recipe
    assert res["n"] == 3 and 0 <= res["accuracy"] <= 1
