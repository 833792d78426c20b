"""Record → label → train → use: `.kinrec` recordings as training data, fine-tuning, holdout, few-shot."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from kinact.app.cli import main
from kinact.core.checkpoint import load_checkpoint, read_meta
from kinact.core.errors import KinactError
from kinact.core.frames import Body, Frame
from kinact.core.layouts import CANONICAL, KINECT_V2
from kinact.core.pipeline.fakes import pose
from kinact.core.recording.kinrec import KinrecWriter
from kinact.core.skeleton_norm import NormRecipe
from kinact.core.training.augment import AugmentRecipe
from kinact.core.training.config import config_from_dict, load_config
from kinact.core.training.finetune import OURS, build_config, class_weights, head_keys, transfer_weights
from kinact.core.training.kinrec_data import (
    KinrecOptions, choose_holdout, class_order, draw_shots, is_recording_folder, load_recordings,
    prepare,
)
from kinact.core.training.train import train

from tiny_models import TINY_SKELETON, tiny_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORM = NormRecipe(frames=16)
RIGHT_ARM = [CANONICAL.index(j) for j in ("elbow_right", "wrist_right", "hand_right")]
UPPER = [CANONICAL.index(j) for j in CANONICAL.joints if not j.startswith(("knee", "ankle", "foot"))]


def motion(action: str | None, n: int, rng, x0: float = 0.0) -> np.ndarray:
    """(n, 20, 3) canonical metres: "up" raises the right hand, "side" swings it out, "down" squats; None stands."""
    x = np.repeat(pose(x=x0 + rng.uniform(-0.2, 0.2), z=rng.uniform(2.3, 2.7), scale=rng.uniform(0.9, 1.1))[None], n, 0)
    phase = np.sin(np.linspace(0, np.pi, n)).astype(np.float32)[:, None] * rng.uniform(0.8, 1.2)
    if action == "up":
        x[:, RIGHT_ARM, 1] += phase * np.array([0.3, 0.6, 0.7], np.float32)
    elif action == "side":
        x[:, RIGHT_ARM, 0] += phase * np.array([0.3, 0.55, 0.65], np.float32)
    elif action == "down":
        x[:, UPPER, 1] -= 0.35 * phase
    return (x + rng.normal(scale=0.004, size=x.shape)).astype(np.float32)


def write_recording(path, plan, fps=30.0, layout="kinect_v1", metadata=None, people=1, actor=1, seed=0) -> str:
    """plan: [(action or None, seconds)]; None stands still, "absent" leaves the scene empty. Each action is a
    labelled segment of body `actor`'s (given as body_id when there are several people)."""
    rng = np.random.default_rng(seed)
    t = 0
    with KinrecWriter(path, layout, fps, sensor="test", metadata=metadata) as w:
        for action, seconds in plan:
            n = int(round(seconds * fps))
            moves = {b: motion(action if b == actor and action != "absent" else None, n, rng, 0.9 * (b - 1))
                     for b in range(1, people + 1)}
            for i in range(n):
                bodies = []
                for b, x in moves.items():
                    if action == "absent":
                        continue
                    j = x[i]
                    if layout == "kinect_v2":
                        j = np.zeros((25, 3), np.float32)
                        j[list(KINECT_V2.canonical_index)] = x[i]
                    bodies.append(Body(b, j, np.ones(len(j), np.float32)))
                w.write_frame(Frame(t=(t + i) / fps, bodies=bodies, index=t + i))
            if action is not None:
                w.add_segment(t / fps, (t + n - 1) / fps, "side" if action == "absent" else action,
                              body_id=actor if people > 1 else None)
            t += n
    return str(path)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    root = tmp_path_factory.mktemp("recs")
    rest = (None, 2.0)
    write_recording(root / "a_alice.kinrec", [(None, 1.5), ("up", 1.2), rest, ("side", 1.2), rest, ("down", 1.2),
                                              rest, ("up", 0.3), rest, ("absent", 1.0), rest,
                                              ("down", 1.0), (None, 1.5)], metadata={"person": "alice"}, seed=1)
    write_recording(root / "b_bob.kinrec", [("up", 1.4), rest, ("side", 1.4), rest, ("down", 1.4), rest,
                                            ("up", 1.4), rest, ("side", 1.4), rest, ("down", 1.4)],
                    fps=15.0, metadata={"subject": "2", "trial": "1"}, seed=2)
    (root / "more").mkdir()
    write_recording(root / "more" / "c_carol.kinrec", [rest, ("down", 1.2), rest, ("up", 1.2), rest, ("side", 1.2),
                                                       rest, ("side", 1.1), rest, ("up", 1.1), rest, ("down", 1.1),
                                                       rest], layout="kinect_v2", people=2, actor=2,
                    metadata={"person": "carol"}, seed=3)
    return str(root)


@pytest.fixture(scope="module")
def data(recordings):
    return load_recordings(recordings, NORM)


def tiny_kinrec(**over) -> dict:
    cfg = {"name": "tiny_kinrec", "seeds": [0], "data": {"dataset": "kinrec"},
           "input": {"features": ["joint", "velocity"], "frames": 16},
           "model": {"name": "skeleton", "tarm": "none", "stcm": "temporal", "channels": [16], "blocks": [1],
                     "strides": [1]},
           "optim": {"optimizer": "adam", "lr": 0.01, "scheduler": "none", "epochs": 8, "batch_size": 8}}
    for key, value in over.items():
        section, name = key.split(".")
        cfg[section][name] = value
    return cfg


@pytest.fixture(scope="module")
def scratch(recordings, tmp_path_factory):
    """From scratch through train.train's hook: recording c_carol (the last) is the test part."""
    out = tmp_path_factory.mktemp("scratch")
    return train(config_from_dict(tiny_kinrec()), recordings, out, seed=0, progress=False)


# --------------------------------------------------------------------------------------------- data

def test_every_labelled_segment_is_a_sample(data, recordings):
    assert is_recording_folder(recordings) and not is_recording_folder(os.path.join(REPO, "configs"))
    assert [r.name for r in data.recordings] == ["a_alice.kinrec", "b_bob.kinrec", "more/c_carol.kinrec"]
    assert [r.person for r in data.recordings] == ["alice", "2", "carol"]
    per = {(c.recording, c.action): 0 for c in data.clips}
    for c in data.clips:
        per[(c.recording, c.action)] += 1
    assert per == {(0, "up"): 2, (0, "side"): 1, (0, "down"): 2, (1, "up"): 2, (1, "side"): 2, (1, "down"): 2,
                   (2, "up"): 2, (2, "side"): 2, (2, "down"): 2}
    assert len(data.skipped) == 1 and "'side'" in data.skipped[0] and "0 tracked frames" in data.skipped[0]
    assert class_order(data.actions()) == ["down", "side", "up"]
    assert class_order(data.actions(), ["jump", "up", "down"]) == ["up", "down", "side"]
    # seconds from the clock: a 1.4 s segment at 15 fps has half the frames of a 30 fps one, not half the time
    bob = [c for c in data.clips if c.recording == 1]
    assert all(len(c.joints) == 21 and c.seconds == pytest.approx(1.4, abs=0.01) for c in bob)
    alice = [c for c in data.clips if c.recording == 0 and c.action == "side"][0]
    assert len(alice.joints) == 36 and alice.seconds == pytest.approx(1.2, abs=0.01)
    # carol's segments name body 2 (the one moving) in a Kinect v2 recording: canonical, normalised, moving
    carol = [c for c in data.clips if c.recording == 2]
    assert {c.body_id for c in carol} == {2}
    for c in carol:
        assert c.joints.shape[1:] == (20, 3) and np.isfinite(c.joints).all()
        if c.action == "up":
            hand = c.joints[:, CANONICAL.index("hand_right"), 1]
            assert hand.max() - hand[0] > 0.8  # torso units: the hand goes up by more than a torso
    assert all(r.stretches for r in data.recordings)


def test_short_segments_stretched_idle_stretches_become_no_action(data):
    cfg = config_from_dict(tiny_kinrec(**{"data.no_action": True}))
    prep = prepare(data, cfg)
    assert prep.classes == ["down", "side", "up", "no action"]
    assert "1 segments shorter than the window were stretched" in " ".join(prep.notes)
    assert "1 segments with fewer than 8 tracked frames were skipped" in " ".join(prep.notes)
    assert prep.counts["train"] == {"down": 4, "side": 3, "up": 4, "no action": len(prep.train_windows)}
    assert prep.counts["test"] == {"down": 2, "side": 2, "up": 2, "no action": len(prep.test_windows)}
    assert len(prep.train_windows) == round(0.5 * 11) and len(prep.test_windows) >= 3
    assert prep.window_seconds == pytest.approx(np.mean(prep.train.durations), abs=1e-3)
    w = prep.train_windows.window(0, np.random.default_rng(0))
    assert w.shape[1:] == (20, 3) and len(w) in (round(prep.window_seconds * 30), round(prep.window_seconds * 15))
    assert np.abs(w - w[0]).max() < 0.1  # nobody moves in an unlabelled stretch
    assert prepare(data, config_from_dict(tiny_kinrec())).train_windows is None
    kept = [r.stretches for r in data.recordings]
    try:  # without idle stretches, the still edges of the segments stand in
        for r in data.recordings:
            r.stretches = []
        prep2 = prepare(data, cfg)
        assert len(prep2.train_windows) == len(prep.train_windows) and "still starts and ends" in " ".join(prep2.notes)
    finally:
        for r, x in zip(data.recordings, kept):
            r.stretches = x


def test_holdout_by_recording_by_person_and_none(data):
    h = choose_holdout(data)
    assert (h.by, h.value, h.train, h.test) == ("recording", "more/c_carol.kinrec", [0, 1], [2])
    assert choose_holdout(data, "recording", "a_alice").test == [0]
    assert choose_holdout(data, "recording", "b_bob.kinrec").test == [1]
    assert choose_holdout(data, "person", "2").test == [1]  # the importers' "subject"
    assert choose_holdout(data, "person").value == "carol"
    assert choose_holdout(data, "none").test == []
    with pytest.raises(KinactError, match="names 0 recordings"):
        choose_holdout(data, "recording", "zoe")
    with pytest.raises(KinactError, match="persons: 2, alice, carol"):
        choose_holdout(data, "person", "zoe")
    prep = prepare(data, config_from_dict(tiny_kinrec()), opts=KinrecOptions(holdout="person", holdout_value="alice"))
    assert prep.report["test_recordings"] == ["a_alice.kinrec"]
    assert prep.counts["test"] == {"down": 2, "side": 1, "up": 2}


def test_class_weights_balance_the_loss():
    w = class_weights([0, 0, 0, 1], 3)
    assert w == pytest.approx([4 / 6, 2.0, 0.0])
    assert 3 * w[0] == pytest.approx(1 * w[1])  # each present class weighs the same in total


def test_shots_draw_at_most_k_per_class(data):
    train_idx = data.clips_of([0, 1])
    one = draw_shots(data, train_idx, 1, draw=0)
    assert sorted(data.clips[i].action for i in one) == ["down", "side", "up"]
    assert one == draw_shots(data, train_idx, 1, draw=0)
    assert len({tuple(draw_shots(data, train_idx, 1, draw=d)) for d in range(8)}) > 1
    assert len(draw_shots(data, train_idx, 10)) == len(train_idx)


# --------------------------------------------------------------------------------------------- training

def test_ours_recipe_matches_the_shipped_config():
    raw = load_config(os.path.join(REPO, "configs", "utd_skeleton_ours.toml")).to_dict()
    cfg = config_from_dict({**OURS, "data": {"dataset": "kinrec"}}).to_dict()
    for section in ("input", "augment", "model", "optim"):
        assert cfg[section] == raw[section], section


def test_head_transfer_copies_shared_rows_and_every_other_layer(tmp_path):
    from kinact.models.registry import build_model

    src = tiny_checkpoint(tmp_path / "src.safetensors", classes=("up", "jump", "no_action"))
    state, meta = load_checkpoint(src)
    spec = dict(meta.model, num_classes=4)
    net = build_model(spec)
    heads = head_keys(net, spec)
    assert heads == {"stcm.fc.weight": 0, "stcm.fc.bias": 0}
    fresh = {k: v.clone() for k, v in net.state_dict().items()}
    shared = transfer_weights(net, heads, state, meta.classes, ["up", "down", "side", "nothing"],
                              {"no_action": "nothing"})
    assert shared == ["up", "nothing"]
    new = net.state_dict()
    for k in new:
        if k not in heads:
            assert torch.equal(new[k], state[k]), k
    w = new["stcm.fc.weight"]
    assert torch.equal(w[0], state["stcm.fc.weight"][0]) and torch.equal(w[3], state["stcm.fc.weight"][2])
    assert torch.equal(w[1], fresh["stcm.fc.weight"][1]) and torch.equal(w[2], fresh["stcm.fc.weight"][2])


def test_from_scratch_learns_the_toy_actions(scratch):
    assert scratch["test_accuracy"] > 0.9
    meta = read_meta(scratch["checkpoint"])
    assert meta.classes == ["down", "side", "up"] and meta.layout == "kinect_v1" and meta.no_action is None
    t = meta.trained_on
    assert t["dataset"] == "kinrec" and t["holdout"] == {"by": "recording", "value": "more/c_carol.kinrec"}
    assert t["recordings"] == ["a_alice.kinrec", "b_bob.kinrec"] and t["test_recordings"] == ["more/c_carol.kinrec"]
    assert t["class_balance"] is True and scratch["class_weights"] == pytest.approx([11 / 12, 11 / 9, 11 / 12])
    assert meta.window_seconds == pytest.approx(t["window_seconds"]) and 1.0 < meta.window_seconds < 1.4


def test_finetune_from_checkpoint_then_run_it(recordings, tmp_path, capsys):
    from kinact.core.inference import Predictor

    src = tiny_checkpoint(tmp_path / "src.safetensors", classes=("up", "jump", "no_action"))
    out = tmp_path / "ft"
    code = main(["train", "--data", recordings, "--from", src, "--out", str(out), "--epochs", "1",
                 "--set", "optim.body_lr_scale=0", "--quiet"])
    assert code == 0
    err = capsys.readouterr().err
    assert "class balance: on" in err and "stretched" in err
    ckpt = out / "seed0" / "model.safetensors"
    state, meta = load_checkpoint(ckpt)
    before, _ = load_checkpoint(src)
    assert meta.classes == ["up", "down", "side", "no_action"] and meta.no_action == "no_action"
    assert meta.model == dict(TINY_SKELETON, num_classes=4) and meta.frames == 16
    assert meta.features == ["joint", "bone", "velocity"]
    body = [k for k in state if not k.startswith("stcm.fc.")]
    assert body and all(torch.equal(state[k], before[k]) for k in body)  # body frozen: weights and BN stats
    assert not torch.equal(state["stcm.fc.bias"][:1], before["stcm.fc.bias"][:1])  # the head did train
    t = meta.trained_on
    assert t["init_from"]["classes_kept"] == ["up", "no_action"] and t["epochs"] == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == meta.classes and summary["class_balance"] is True
    assert summary["class_counts"]["train"]["side"] == 3 and 0 <= summary["knn_baseline"] <= 1

    p = Predictor.load(ckpt, backend="torch")
    assert p.classes == meta.classes and p.predict_skeleton(np.zeros((9, 16, 20), np.float32)).shape == (1, 4)
    rec = os.path.join(recordings, "b_bob.kinrec")
    capsys.readouterr()
    assert main(["run", "--headless", "--source", f"replay:{rec}", "--model", str(ckpt), "--speed", "0",
                 "--backend", "torch"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    preds = [x for x in lines if x["type"] == "prediction" and x["state"] != "unclassifiable"]
    assert lines[-1]["type"] == "end" and preds and all(p["top5"][0][0] in meta.classes for p in preds)


def test_shots_one_uses_one_segment_per_class(recordings, tmp_path):
    src = tiny_checkpoint(tmp_path / "src.safetensors", classes=("x", "y", "no_action"))
    out = tmp_path / "few"
    assert main(["train", "--data", recordings, "--from", src, "--out", str(out), "--epochs", "1", "--shots", "1",
                 "--draw", "3", "--holdout", "person", "--holdout-value", "2", "--quiet"]) == 0
    t = read_meta(out / "seed0" / "model.safetensors").trained_on
    assert t["segments"]["train"] == 3 and t["shots"] == 1 and t["draw"] == 3
    assert {c: t["class_counts"]["train"][c] for c in ("down", "side", "up")} == {"down": 1, "side": 1, "up": 1}
    assert t["test_recordings"] == ["b_bob.kinrec"] and t["segments"]["test"] == 6


def test_finetune_config_defaults(scratch, tmp_path):
    src = tiny_checkpoint(tmp_path / "src.safetensors", classes=("x", "y"))
    cfg = build_config(None, src)
    o = cfg.optim
    assert (o.optimizer, o.lr, o.body_lr_scale, o.epochs, cfg.data.dataset) == ("adamw", 1e-3, 1.0, 30, "kinrec")
    assert cfg.data.no_action is False and cfg.input.frames == 16 and cfg.model["in_channels"] == 9
    assert cfg.augment == AugmentRecipe.from_dict(OURS["augment"])  # nothing recorded: the ours recipe
    again = build_config(None, scratch["checkpoint"])  # a kinrec checkpoint records its augmentation
    assert again.augment.to_dict() == config_from_dict(tiny_kinrec()).augment.to_dict()
    with pytest.raises(KinactError, match="come from the checkpoint"):
        build_config(None, src, {"input.frames": 32})
    assert config_from_dict(tiny_kinrec()).optim.balanced("kinrec")
    assert not config_from_dict({"model": {"name": "skeleton"}}).optim.balanced("utd_mhad")
    with pytest.raises(KinactError, match="body_lr_scale"):
        config_from_dict({"model": {"name": "skeleton"}, "optim": {"body_lr_scale": 0.5}})


def test_eval_scores_a_folder_of_recordings(scratch, recordings, tmp_path, capsys):
    """`kinact eval CKPT --data DIR_OF_KINREC`: every labelled segment of known actions, one JSON object."""
    assert main(["eval", scratch["checkpoint"], "--data", recordings, "--json", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    data = load_recordings(recordings, NormRecipe.from_dict(read_meta(scratch["checkpoint"]).norm))
    assert out["dataset"] == "kinrec" and out["n"] == len(data.clips) == 17 and out["recordings"] == 3
    assert out["unknown_actions"] == [] and out["knn_baseline"] is None
    right = sum(s["action"] == s["predicted"] for s in out["per_segment"])
    assert out["accuracy"] == pytest.approx(right / out["n"]) and sum(map(sum, out["confusion"])) == out["n"]
    assert os.path.isfile(tmp_path / "model_confusion_all.png")


def test_eval_on_recordings_of_unknown_actions_is_one_clear_error(recordings, tmp_path, capsys):
    ckpt = tiny_checkpoint(tmp_path / "other.safetensors", classes=["jump", "sit"])
    assert main(["eval", str(ckpt), "--data", recordings, "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of the labelled segments' actions" in err[0] and "'down'" not in err[0]
