"""Streaming evaluation: stitching tiny UTD-format sequences into a stream, and scoring it with fake models whose
right answers are known (an oracle with a fixed lag, a model that never fires)."""
import json

import numpy as np
import pytest

from kinact.core.checkpoint import CheckpointMeta
from kinact.core.datasets.utd_mhad import CLASS_NAMES
from kinact.core.layouts import UTD_MHAD
from kinact.core.pipeline.events import ActionEvent
from kinact.core.training.stream_eval import (
    Segment, build_streams, frames_of, match_events, score_person, split_samples, stitch_stream, stream_eval,
)
from _training_data import write_fake_utd

FPS = 30.0
HIP = UTD_MHAD.canonical_index[0]  # canonical joint 0 is the hip centre


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_fake_utd(tmp_path_factory.mktemp("utd"), classes=3, subjects=(1, 2, 3, 4), trials=(1, 2))


@pytest.fixture(scope="module")
def test_samples(data):
    return split_samples("utd_mhad", data, "test")


class Oracle:
    """Answers every window with the ground truth of `lag` frames ago (uniform scores, i.e. nothing, for a
    pause); `fires=False` never answers anything. It learns the truth from stream_eval's on_frame hook."""

    def __init__(self, lag_frames=0, fires=True):
        self.meta = CheckpointMeta(model={"name": "oracle"}, classes=list(CLASS_NAMES), frames=16,
                                   window_seconds=1.0, features=["joint"])
        self.classes = list(CLASS_NAMES)
        self.lag, self.fires = lag_frames, fires
        self.truth: list = []

    def observe(self, frame, labels):
        self.truth.append(labels.get(1))

    def predict_skeleton(self, x):
        i = len(self.truth) - 1 - self.lag
        label = self.truth[i] if i >= 0 and self.fires else None
        probs = np.full((len(x), len(self.classes)), 1.0 / len(self.classes), np.float32)
        if label is not None:
            probs[:] = 0.1 / (len(self.classes) - 1)
            probs[:, self.classes.index(label)] = 0.9
        return probs


def test_split_is_cross_subject(test_samples, data):
    assert {s.subject for s in test_samples} == {2, 4} and len(test_samples) == 12
    assert {s.subject for s in split_samples("utd_mhad", data, "train")} == {1, 3}


def test_stitched_stream_is_ordered_still_between_actions_and_continuous(test_samples):
    frames, segs = stitch_stream(test_samples, np.random.default_rng(0))
    assert len(segs) == len(test_samples)
    assert np.allclose(np.diff([f.t for f in frames]), 1 / FPS)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert {b.id for f in frames for b in f.bodies} == {1}
    joints = np.array([f.bodies[0].joints for f in frames])
    inside = np.zeros(len(frames), bool)
    prev_end = 0
    for seg in segs:
        assert isinstance(seg, Segment) and seg.label in CLASS_NAMES
        assert seg.start_frame - prev_end >= 0.5 * FPS - 1  # a real pause before every sequence
        assert seg.start == pytest.approx(seg.start_frame / FPS) and seg.end == pytest.approx((seg.end_frame - 1) / FPS)
        assert seg.start < seg.end
        inside[seg.start_frame:seg.end_frame] = True
        prev_end = seg.end_frame
    assert len(frames) - prev_end >= 0.5 * FPS - 1  # and one after the last
    steps = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(-1)
    pause_steps = steps[~inside[1:] & ~inside[:-1]]
    assert pause_steps.max() < 0.03  # still: no joint moves 3 cm between two pause frames
    pauses = _pauses(inside)
    assert len(pauses) == len(segs) + 1
    for a, b in (pauses[0], pauses[-1]):  # before the first and after the last: one pose held, jitter only
        assert joints[a:b].std(0).max() < 0.01
    # between two sequences: a slow glide from one standing pose to the next (the fake data gives every
    # sequence its own size and height, so this glide is larger here than between two real sequences)
    assert max(joints[a:b].std(0).max() for a, b in pauses) < 0.15
    assert steps.max() < 0.2  # no jumps anywhere, joins included
    for a, b in zip(segs, segs[1:]):  # floor position continues (pulled back towards home by <= 2 cm)
        end_hip, start_hip = joints[a.end_frame - 1, HIP], joints[b.start_frame, HIP]
        assert np.linalg.norm((end_hip - start_hip)[[0, 2]]) <= 0.02 + 1e-6


def _pauses(inside):
    edges = np.flatnonzero(np.diff(np.r_[0, (~inside).astype(int), 0]))
    return list(zip(edges[::2], edges[1::2]))


def test_two_people_are_different_subjects_side_by_side(test_samples):
    streams = build_streams(test_samples, 2, seed=0, classes=list(CLASS_NAMES))
    assert [s.body_id for s in streams] == [1, 2] and set(streams[0].subjects).isdisjoint(streams[1].subjects)
    frames = frames_of(streams)
    assert len(frames) == max(len(s) for s in streams)
    assert all([b.id for b in f.bodies] == [1, 2] for f in frames)
    dx = frames[0].bodies[1].joints[HIP, 0] - frames[0].bodies[0].joints[HIP, 0]
    assert dx == pytest.approx(1.0, abs=0.05)


def test_matching_is_one_to_one_and_by_class():
    segs = [Segment(1.0, 2.0, "a", 30, 61), Segment(3.0, 4.0, "b", 90, 121)]
    ev = [ActionEvent("start", 1, "a", 1.2, 0.9), ActionEvent("end", 1, "a", 1.5, 0.9),
          ActionEvent("start", 1, "a", 1.6, 0.9), ActionEvent("end", 1, "a", 2.1, 0.9),
          ActionEvent("start", 1, "a", 3.1, 0.9), ActionEvent("end", 1, "a", 4.0, 0.9)]
    s = score_person([None] * 10, [None] * 10, ev, segs)
    assert s["events"] == 3 and s["matched"] == 1 and s["recall"] == 0.5 and s["precision"] == pytest.approx(1 / 3)
    assert len(match_events([("a", 1.2, 1.5), ("a", 1.6, 2.1)], segs)) == 1


def test_a_perfect_predictor_scores_f1_one_with_its_lag_as_delay(test_samples):
    lag = 6
    oracle = Oracle(lag_frames=lag)
    r = stream_eval(model=oracle, samples=test_samples, engine_options={"stride": 1, "min_frames": 1, "alpha": 1.0},
                    on_frame=oracle.observe)
    assert r["people"] == 1 and r["segments"] == 12
    assert r["f1"] == 1.0 and r["precision"] == 1.0 and r["recall"] == 1.0
    assert r["mean_delay_s"] == pytest.approx(lag / FPS, abs=0.5 / FPS)
    assert r["frame_accuracy"] > 0.75 and r["mean_matched_iou"] > 0.6
    json.dumps(r)

    oracle = Oracle(lag_frames=lag)  # the app's defaults (stride 3, two updates to change) add a little delay
    r = stream_eval(model=oracle, samples=test_samples, on_frame=oracle.observe)
    assert r["f1"] == 1.0 and lag / FPS <= r["mean_delay_s"] <= lag / FPS + 0.35


def test_a_model_that_never_fires_has_no_recall(test_samples):
    oracle = Oracle(fires=False)
    r = stream_eval(model=oracle, samples=test_samples, on_frame=oracle.observe)
    assert r["events"] == 0 and r["recall"] == 0.0 and r["f1"] == 0.0 and r["mean_delay_s"] is None
    assert r["pause_frame_accuracy"] == 1.0 and r["action_frame_accuracy"] == 0.0


def test_two_people_are_scored_each_against_their_own_labels(test_samples):
    oracle = Oracle(fires=False)
    r = stream_eval(model=oracle, samples=test_samples, people=2, on_frame=oracle.observe)
    assert [p["body_id"] for p in r["persons"]] == [1, 2]
    assert set(r["persons"][0]["subjects"]).isdisjoint(r["persons"][1]["subjects"])
    for p in r["persons"]:
        assert p["segments"] == 6 and p["recall"] == 0.0 and "alone" in p
        assert p["difference"]["frame_accuracy"] == pytest.approx(p["frame_accuracy"] - p["alone"]["frame_accuracy"])
    assert r["pooled"]["segments"] == 12


def test_cli_prints_one_json_object(data, tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    from kinact.app import cli
    from kinact.core.bench.scene import random_checkpoint

    spec = {"name": "skeleton", "num_joints": 20, "num_classes": 27, "in_channels": 3, "num_frames": 12,
            "hidden": 8, "stcm": "temporal", "channels": [8], "blocks": [1], "strides": [1]}
    ckpt = random_checkpoint(tmp_path / "m.safetensors", spec, window_seconds=1.0)
    monkeypatch.setitem(cli.COMMANDS, "stream-eval", ("stream_eval", "streaming evaluation"))
    out = tmp_path / "se.json"
    assert cli.main(["stream-eval", ckpt, "--data", data, "--limit", "3", "--people", "2", "--json",
                     "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("\n") == 1
    r = json.loads(text)
    assert r["people"] == 2 and len(r["persons"]) == 2 and r["engine"]["stride"] == 3
    assert json.loads(out.read_text())["stream"]["frames"] == r["stream"]["frames"]
    assert cli.main(["stream-eval", ckpt, "--data", str(tmp_path / "nowhere")]) == 2


def test_a_checkpoint_with_a_no_action_class_is_accepted(data, tmp_path):
    pytest.importorskip("onnxruntime")
    from kinact.core.bench.scene import random_checkpoint

    spec = {"name": "skeleton", "num_joints": 20, "num_classes": 28, "in_channels": 3, "num_frames": 12,
            "hidden": 8, "stcm": "temporal", "channels": [8], "blocks": [1], "strides": [1]}
    ckpt = random_checkpoint(tmp_path / "na.safetensors", spec, window_seconds=1.0, no_action="no action")
    r = stream_eval(ckpt, data, limit=2)
    assert r["no_action_class"] == "no action" and r["segments"] == 2


def test_chosen_subjects_make_the_stream_whatever_their_split(data, capsys):
    from kinact.core.training.stream_eval import split_samples as pick

    assert {s.subject for s in pick("utd_mhad", data, subjects=[3, 2])} == {2, 3}
    with pytest.raises(Exception, match="subject"):
        pick("utd_mhad", data, subjects=[9])
    oracle = Oracle(fires=False)
    r = stream_eval(model=oracle, data_root=data, subjects=[3], on_frame=oracle.observe)
    assert r["subjects"] == [3] and r["split"] is None and r["segments"] == 6
