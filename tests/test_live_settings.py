"""A model's own live post-processing settings: carried in its checkpoint (from a config's [live] table), checked
on the way in, and what `kinact run`, the app and stream-eval build their Engine from."""
import dataclasses
import json
import warnings

import numpy as np
import pytest

from kinact.core.checkpoint import CheckpointMeta, read_meta
from kinact.core.errors import KinactError
from kinact.core.pipeline.live_settings import (
    LIVE_DEFAULTS, PARTIAL_LIVE_DEFAULTS, check_live, live_options, live_source,
)

from _training_data import tiny_config, write_fake_utd
from tiny_models import tiny_checkpoint, waving_recording


def _meta(**fields) -> CheckpointMeta:
    return CheckpointMeta(model={"name": "skeleton"}, classes=["a", "b"], **fields)


# --------------------------------------------------------------------------------------------- the checkpoint field

def test_meta_round_trips_with_and_without_live(tmp_path):
    plain = _meta()
    assert plain.live == {} and CheckpointMeta.from_json(plain.to_json()) == plain
    tuned = _meta(live=dict(PARTIAL_LIVE_DEFAULTS))
    assert CheckpointMeta.from_json(tuned.to_json()).live == PARTIAL_LIVE_DEFAULTS
    old = json.loads(plain.to_json())
    del old["live"]  # a checkpoint written before the field existed
    assert CheckpointMeta.from_json(json.dumps(old)).live == {}
    path = tiny_checkpoint(tmp_path / "t.safetensors", live={"stride": 2, "enter": 0.5, "exit": 0.2})
    assert read_meta(path).live == {"stride": 2, "enter": 0.5, "exit": 0.2}


def test_the_shipped_model_carries_the_settings_it_was_tuned_with():
    # the shipped model is the partial-action recipe (configs/utd_skeleton_ours_noaction_partial01r7.toml)
    import os

    from kinact.core import assets
    from kinact.core.training.config import load_config

    shipped = assets.shipped_model()
    if shipped is None:
        pytest.skip("no shipped model in this install")
    meta = read_meta(shipped)
    assert meta.trained_on.get("config") == "utd_skeleton_ours_noaction_partial01r7"
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
    recipe = load_config(os.path.join(root, "utd_skeleton_ours_noaction_partial01r7.toml"))
    assert live_source(meta) == "checkpoint" and live_options(meta) == recipe.live


# --------------------------------------------------------------------------------------------- live_options

def test_live_options_fall_back_to_the_defaults():
    assert live_options(None) == LIVE_DEFAULTS and live_options(_meta()) == LIVE_DEFAULTS
    assert live_options(object()) == LIVE_DEFAULTS  # a model's meta-like stand-in without the field
    opts = live_options(_meta())
    opts["stride"] = 99  # a copy: callers may change it
    assert LIVE_DEFAULTS["stride"] == 3
    meta = _meta(live=dict(PARTIAL_LIVE_DEFAULTS))
    assert live_options(meta) == PARTIAL_LIVE_DEFAULTS and live_source(meta) == "checkpoint"


def test_unknown_keys_are_ignored_with_a_warning():
    meta = _meta(live={"stride": 2, "enter": 0.5, "exit": 0.2, "from_the_future": 1, "mode": "primary"})
    with pytest.warns(UserWarning, match="from_the_future"):
        assert live_options(meta) == {"stride": 2, "enter": 0.5, "exit": 0.2}
    assert live_source(meta) == "checkpoint"
    with pytest.warns(UserWarning, match="no known keys"):
        assert live_options(_meta(live={"only": "strangers"})) == LIVE_DEFAULTS


@pytest.mark.parametrize("live", [
    {"enter": 0.3, "exit": 0.5},  # exit above enter: the event detector would refuse it
    {"stride": 0}, {"stride": 2.5}, {"stride": True}, {"stride": "3"}, {"alpha": 0.0}, {"alpha": 1.5},
    {"motion_threshold": float("nan")}, {"min_frames": -1}, {"fast_enter": 0.0}, {"smoothing": "median"},
    {"window_seconds": 0}, {"stride": None}, ["stride", 1],
])
def test_unusable_values_fall_back_to_the_defaults_without_crashing(live):
    meta = _meta(live=live)
    with pytest.warns(UserWarning, match="unusable"):
        assert live_options(meta) == LIVE_DEFAULTS
    assert live_source(meta) == "defaults"


def test_checked_values_are_what_the_engine_takes():
    from kinact.core.pipeline.engine import Engine
    from kinact.core.pipeline.fakes import RuleModel

    clean, unknown, errors = check_live({"stride": 2.0, "min_frames": 6, "end_frames": None, "fast_enter": None,
                                         "alpha": 1, "smoothing": "mean", "smooth_windows": 3})
    assert not unknown and not errors and clean["stride"] == 2 and isinstance(clean["stride"], int)
    assert isinstance(clean["alpha"], float)
    for opts in (clean, LIVE_DEFAULTS, PARTIAL_LIVE_DEFAULTS):
        e = Engine(RuleModel(), **opts)
        assert e.stride == opts["stride"]
    e = Engine(RuleModel(), **PARTIAL_LIVE_DEFAULTS)
    c = e.events.config
    assert (c.enter, c.exit, c.alpha, c.min_updates, c.end_updates, c.fast_enter) == (0.7, 0.3, 0.4, 9, 36, 0.5)


def test_stream_eval_keeps_its_names():
    from kinact.core.training import stream_eval

    assert stream_eval.DEFAULTS == LIVE_DEFAULTS and stream_eval.PARTIAL_DEFAULTS == PARTIAL_LIVE_DEFAULTS


def test_live_settings_import_nothing_of_training():
    import ast

    import kinact.core.pipeline.live_settings as mod

    with open(mod.__file__) as f:
        tree = ast.parse(f.read())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any("training" in n for n in names)


# --------------------------------------------------------------------------------------------- configs → checkpoint

def test_config_live_table_is_checked_strictly_and_kept_out_of_the_fingerprint():
    from kinact.core.training.config import config_from_dict

    plain = config_from_dict(tiny_config())
    tuned = config_from_dict(tiny_config(live=dict(PARTIAL_LIVE_DEFAULTS)))
    assert plain.live == {} and "live" not in plain.to_dict()
    assert tuned.live == PARTIAL_LIVE_DEFAULTS and tuned.to_dict()["live"] == PARTIAL_LIVE_DEFAULTS
    assert tuned.fingerprint() == plain.fingerprint()  # training never reads it: runs still resume
    assert config_from_dict(tuned.to_dict()).live == PARTIAL_LIVE_DEFAULTS  # history.json's form loads again
    with pytest.raises(KinactError, match="live.strid"):
        config_from_dict(tiny_config(live={"strid": 1}))
    with pytest.raises(KinactError, match="exit"):
        config_from_dict(tiny_config(live={"enter": 0.2, "exit": 0.4}))
    with pytest.raises(KinactError, match=r"\[live\] must be a table"):
        config_from_dict(tiny_config(live=3))


def test_shipped_configs_carry_the_settings_chosen_for_them():
    import os

    from kinact.core.training.config import load_config

    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
    assert load_config(os.path.join(root, "utd_skeleton_ours_noaction.toml")).live == LIVE_DEFAULTS
    assert load_config(os.path.join(root, "utd_skeleton_ours_noaction_partial.toml")).live == PARTIAL_LIVE_DEFAULTS


def test_a_config_live_table_reaches_the_saved_checkpoint(tmp_path):
    from kinact.core.training.config import config_from_dict
    from kinact.core.training.train import train

    data = write_fake_utd(tmp_path / "utd")
    live = {"stride": 2, "enter": 0.55, "exit": 0.25, "min_frames": 4}
    result = train(config_from_dict(tiny_config(**{"optim.epochs": 1}, live=live)), data, tmp_path / "run", seed=0,
                   progress=False)
    meta = read_meta(result["checkpoint"])
    assert meta.live == live and live_options(meta) == live


# --------------------------------------------------------------------------------------------- callers

def _headless(capsys, argv):
    from kinact.app.cli import main

    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return lines[0], [x for x in lines if x["type"] == "prediction"]


def test_kinact_run_takes_the_models_stride_unless_told(tmp_path, capsys):
    live = {"stride": 6, "enter": 0.5, "exit": 0.2}
    ckpt = tiny_checkpoint(tmp_path / "tuned.safetensors", live=live)
    rec = waving_recording(tmp_path / "one.kinrec")
    argv = ["run", "--headless", "--source", f"replay:{rec}", "--model", ckpt, "--speed", "0"]
    start, preds = _headless(capsys, argv)
    assert start["engine"] == {**live, "mode": "all"}
    start2, preds2 = _headless(capsys, argv + ["--stride", "2"])
    assert start2["engine"] == {**live, "stride": 2, "mode": "all"}
    assert 2.5 <= len(preds2) / len(preds) <= 3.5  # the engine really ran at those strides (90 frames)
    plain = tiny_checkpoint(tmp_path / "plain.safetensors")
    start3, _ = _headless(capsys, ["run", "--headless", "--source", f"replay:{rec}", "--model", plain, "--speed",
                                   "0", "--mode", "primary"])
    assert start3["engine"] == {**LIVE_DEFAULTS, "mode": "primary"}


def test_the_apps_engine_takes_the_models_settings_and_the_users_thresholds_over_them():
    from kinact.app.gui.controller import Controller
    from kinact.core.pipeline.fakes import RuleModel

    model = RuleModel()
    model.meta = dataclasses.replace(model.meta, live=dict(PARTIAL_LIVE_DEFAULTS))
    c = Controller()
    try:
        c.model = model
        assert c.thresholds == {} and c.thresholds_in_use() == {"enter": 0.7, "exit": 0.3, "alpha": 0.4}
        e = c._engine(model)
        assert e.stride == 1 and (e.events.config.enter, e.events.config.end_updates) == (0.7, 36)
        assert c._engine(None).stride == LIVE_DEFAULTS["stride"]  # no model yet: the defaults
        c.set_thresholds(0.8, 0.35, 0.6)
        assert c.thresholds_in_use() == {"enter": 0.8, "exit": 0.35, "alpha": 0.6}
        cfg = c._engine(model).events.config
        assert (cfg.enter, cfg.exit, cfg.alpha, cfg.fast_enter) == (0.8, 0.35, 0.6, 0.5)  # the rest stays the model's
        assert c.reset_thresholds() == {"enter": 0.7, "exit": 0.3, "alpha": 0.4} and c.thresholds == {}
        c.stride = 4
        assert c._engine(model).stride == 4
    finally:
        c.shutdown()


def test_settings_remember_thresholds_only_once_set(tmp_path):
    pytest.importorskip("PySide6")
    from kinact.app.gui.settings import Settings

    s = Settings.at(tmp_path / "s.ini")
    assert s.thresholds == {}
    s.thresholds = {"enter": 0.7, "exit": 0.3, "alpha": 0.25}
    s.sync()
    assert Settings.at(tmp_path / "s.ini").thresholds == {"enter": 0.7, "exit": 0.3, "alpha": 0.25}
    s.thresholds = {}  # back to the model's
    s.sync()
    assert Settings.at(tmp_path / "s.ini").thresholds == {}


def test_stream_eval_replays_with_the_checkpoints_settings(tmp_path):
    from kinact.core.datasets.utd_mhad import CLASS_NAMES
    from kinact.core.training.stream_eval import split_samples, stream_eval

    class Silent:  # never names an action; only the settings matter here
        def __init__(self, live):
            self.meta = CheckpointMeta(model={"name": "silent"}, classes=list(CLASS_NAMES), frames=16,
                                       window_seconds=1.0, features=["joint"], live=live)
            self.classes = list(CLASS_NAMES)

        def predict_skeleton(self, x):
            return np.full((len(x), len(self.classes)), 1.0 / len(self.classes), np.float32)

    data = write_fake_utd(tmp_path / "utd", classes=2, subjects=(2,), trials=(1,))
    samples = split_samples("utd_mhad", data, "test")
    r = stream_eval(model=Silent(dict(PARTIAL_LIVE_DEFAULTS)), samples=samples)
    assert r["engine"] == PARTIAL_LIVE_DEFAULTS and r["engine_base"] == "checkpoint"
    r = stream_eval(model=Silent(dict(PARTIAL_LIVE_DEFAULTS)), samples=samples, engine_options={"motion_threshold": 0},
                    stride=2)
    assert r["engine"] == {**PARTIAL_LIVE_DEFAULTS, "motion_threshold": 0, "stride": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = stream_eval(model=Silent({}), samples=samples)
    assert r["engine"] == LIVE_DEFAULTS and r["engine_base"] == "defaults"
