"""The synchronous engine: events at the right times, one batched call per stride, depth off the capture path."""
import numpy as np
import pytest

from kinact.core.frames import Frame
from kinact.core.pipeline.engine import Engine
from kinact.core.pipeline.events import ActionEvent
from kinact.core.pipeline.fakes import RuleModel, body, pose
from kinact.core.pipeline.worker import Prediction

from tiny_models import tiny_checkpoint

FPS = 30.0


def feed_all(engine, frames):
    out = []
    for f in frames:
        out += engine.feed(f)
    return out + engine.finish()


def events_of(out, person=None):
    return [(e.kind, e.label, e.person, e.t) for e in out
            if isinstance(e, ActionEvent) and (person is None or e.person == person)]


def scene(seconds, people, rng):
    """people: list of (sensor id, fn(t) → joints or None when not in view)."""
    frames = []
    for i in range(int(seconds * FPS)):
        t = i / FPS
        bodies = [body(sid, j, noise=0.003, rng=rng) for sid, fn in people if (j := fn(t)) is not None]
        frames.append(Frame(t, bodies, index=i))
    return frames


def test_hand_up_starts_and_ends_an_event_at_the_right_times():
    rng = np.random.default_rng(0)
    model = RuleModel(frames=16, window_seconds=1.0)
    engine = Engine(model, stride=3)
    out = feed_all(engine, scene(6.0, [(7, lambda t: pose(hand_up=2.0 <= t < 4.0))], rng))
    ev = events_of(out)
    assert [(k, lab) for k, lab, _, _ in ev] == [("start", "hand_up"), ("end", "hand_up")]
    assert 2.0 < ev[0][3] < 2.8 and 4.0 < ev[1][3] < 4.8
    preds = [p for p in out if isinstance(p, Prediction)]
    assert all(p.person == ev[0][2] for p in preds)
    assert preds[-1].label is None and preds[-1].state == "no_action"
    during = [p for p in preds if 3.0 < p.t_frame < 3.9]
    assert during and all(p.label == "hand_up" and p.state == "action" for p in during)
    assert during[0].top5[0][0] == "hand_up" and during[0].probs.shape == (3,)
    # nobody is judged on a sliver of a window: the first prediction comes once half a window is seen
    assert preds[0].t_frame >= 0.5 * model.meta.window_seconds


def test_three_people_one_batched_call_per_stride():
    rng = np.random.default_rng(1)
    model = RuleModel()
    engine = Engine(model, stride=5)
    people = [(1, lambda t: pose(-1.0, 2.5)), (2, lambda t: pose(0.0, 3.0, hand_up=t > 2)),
              (3, lambda t: pose(1.0, 2.5))]
    out = feed_all(engine, scene(4.0, people, rng))
    preds = [p for p in out if isinstance(p, Prediction)]
    assert set(model.batches) == {3}
    assert len(model.batches) == len({p.t_frame for p in preds}) == len(preds) // 3
    assert engine.worker.calls == len(model.batches)
    ev = events_of(out)
    assert [(k, lab) for k, lab, _, _ in ev] == [("start", "hand_up"), ("end", "hand_up")]
    assert ev[0][2] == next(p.person for p in preds if p.t_frame > 2.5 and p.label == "hand_up")


def test_third_person_walking_in_mid_action_changes_nothing_for_the_others():
    rng = np.random.default_rng(2)
    model = RuleModel()

    def walker(t):
        return None if t < 2.0 else pose(max(0.0, 2.5 - (t - 2.0)), 3.2, scale=0.8)

    base = [(11, lambda t: pose(-0.7, 2.5, hand_up=1.0 <= t < 4.0)), (12, lambda t: pose(0.7, 2.5))]
    alone = feed_all(Engine(model, stride=3), scene(5.0, base, np.random.default_rng(2)))
    crowd = feed_all(Engine(model, stride=3), scene(5.0, base + [(13, walker)], rng))
    a, b = events_of(alone), events_of(crowd)
    assert [(k, lab, p) for k, lab, p, _ in a] == [(k, lab, p) for k, lab, p, _ in b]
    assert [t for *_, t in a] == pytest.approx([t for *_, t in b], abs=0.11)
    walker_preds = [p for p in crowd if isinstance(p, Prediction) and p.person not in {e[2] for e in a}]
    assert len({p.person for p in walker_preds if p.t_frame > 3}) == 2  # B and the walker, each one id


def test_person_leaving_mid_action_ends_the_event_when_last_seen():
    model = RuleModel()
    engine = Engine(model, stride=3, vanish_seconds=0.5)
    frames = scene(5.0, [(4, lambda t: pose(hand_up=t >= 1.0) if t < 3.0 else None)], np.random.default_rng(3))
    out = []
    for f in frames:
        out += engine.feed(f)
        if f.t > 3.6:
            break
    ev = events_of(out)
    assert [k for k, *_ in ev] == ["start", "end"]
    assert ev[1][3] == pytest.approx(frames[89].t)  # the last frame the person was in
    assert engine.finish() == []


def test_primary_mode_classifies_only_the_primary_user():
    model = RuleModel()
    engine = Engine(model, stride=3, mode="primary", primary="closest")
    people = [(1, lambda t: pose(0.5, 3.5, hand_up=True)), (2, lambda t: pose(-0.5, 2.0))]
    out = feed_all(engine, scene(2.0, people, np.random.default_rng(4)))
    preds = [p for p in out if isinstance(p, Prediction)]
    assert set(model.batches) == {1}
    assert {p.person for p in preds} == {engine.last_update.primary}
    assert events_of(out) == []  # the person raising a hand is not the primary user
    assert len(engine.persons) == 2


def test_unclassifiable_body_is_reported_but_not_sent_to_the_model():
    model = RuleModel()
    engine = Engine(model, stride=3, min_joints=12)
    conf = np.zeros(20, np.float32)
    conf[:8] = 1.0
    out = []
    for i in range(60):
        f = Frame(i / FPS, [body(1, pose(-0.6)), body(2, pose(0.6), conf)])
        out += engine.feed(f)
    preds = [p for p in out if isinstance(p, Prediction)]
    assert set(model.batches) == {1}
    half = [p for p in preds if not p.classifiable]
    assert half and all(p.state == "unclassifiable" and p.probs is None and p.label is None for p in half)


def test_fused_checkpoint_gets_one_depth_descriptor_per_stride_from_the_hook():
    recipe = {"descriptor": "dmi", "size": [8, 6], "channels": 1}
    model = RuleModel(frames=16, window_seconds=1.0, depth=recipe)
    calls = []

    def fake_descriptor(frames, rec):
        calls.append((frames.shape, rec["descriptor"]))
        return np.full((1, 8, 6), frames.mean() / 1000, np.float32)

    engine = Engine(model, stride=6, depth_fn=fake_descriptor)
    for i in range(60):
        depth = np.full((24, 32), 1000 + i, np.uint16)
        engine.feed(Frame(i / FPS, [body(1, pose(-0.6)), body(2, pose(0.6))], depth=depth))
    assert len(calls) == len(model.inputs) > 0  # one descriptor per batched call, shared by both people
    assert all(shape[1:] == (24, 32) and shape[0] <= 31 for shape, _ in calls)
    assert calls[-1][0][0] == 30  # a full window of depth at 30 fps
    assert model.inputs[-1] == {"skeleton": (2, 3, 16, 20), "depth": (2, 1, 8, 6)}
    assert engine.depth is not None and len(engine.depth) <= engine.depth.capacity


def test_skeleton_only_model_keeps_no_depth():
    engine = Engine(RuleModel(), stride=3)
    engine.feed(Frame(0.0, [body(1, pose())], depth=np.zeros((4, 4), np.uint16)))
    assert engine.depth is None


TINY_SKELETON = {"name": "skeleton", "num_joints": 20, "num_classes": 3, "in_channels": 9, "num_frames": 16,
                 "hidden": 8, "width": 0.125, "stcm": "temporal", "channels": [8, 8], "blocks": [1, 1],
                 "strides": [1, 2]}
TINY_FUSION = {"name": "fusion_e2e", "num_joints": 20, "num_classes": 3, "num_frames": 16, "depth_size": [16, 12],
               "size": 16, "hidden": 8, "width": 0.125, "depth_channels": 1, "skeleton_channels": 9}


@pytest.mark.parametrize("kind, backend", [("skeleton", "torch"), ("skeleton", "onnx"), ("fusion", "torch")])
def test_through_a_real_checkpoint_and_predictor(tmp_path, kind, backend):
    """End to end through `kinact.core.inference.Predictor` and a tiny real network: shapes and names fit."""
    inference = pytest.importorskip("kinact.core.inference")
    pytest.importorskip("torch")
    if backend == "onnx":
        pytest.importorskip("onnxruntime")
    spec = TINY_SKELETON if kind == "skeleton" else TINY_FUSION
    depth = {"descriptor": "dmi", "size": [16, 12], "channels": 1} if kind == "fusion" else {}
    path = tiny_checkpoint(tmp_path / "tiny.safetensors", spec=spec, depth=depth)
    predictor = inference.Predictor.load(path, backend=backend)
    descriptors = []

    def fake_descriptor(frames, recipe):
        descriptors.append(frames.shape)
        return np.zeros((1, 16, 12), np.float32)

    engine = Engine(predictor, stride=10, depth_fn=fake_descriptor)
    rng = np.random.default_rng(6)
    out = []
    for f in scene(2.0, [(1, lambda t: pose(-0.6)), (2, lambda t: pose(0.6, hand_up=True))], rng):
        f.depth = np.full((24, 32), 2000, np.uint16)
        out += engine.feed(f)
    preds = [p for p in out if isinstance(p, Prediction)]
    assert preds and all(p.probs.shape == (3,) and np.isclose(p.probs.sum(), 1.0, atol=1e-4) for p in preds)
    assert engine.worker.calls == len({p.t_frame for p in preds}) == len(preds) // 2
    assert len(descriptors) == (engine.worker.calls if kind == "fusion" else 0)


def test_default_depth_hook_is_the_training_descriptor():
    from kinact.core.pipeline.worker import default_depth_fn
    from kinact.core.training.data import compute_descriptor, descriptor_image

    rng = np.random.default_rng(7)
    depth = np.zeros((12, 40, 30), np.uint16)
    depth[:, 10:30, 8:22] = 2000
    for t in range(12):  # an "arm" sweeping across the body
        depth[t, 12:16, 2 + t:6 + t] = 1800
    depth += rng.integers(0, 3, depth.shape, dtype=np.uint16) * (depth > 0)
    recipe = {"descriptor": "dmi", "size": [16, 12], "args": {}, "normalise": "minmax", "channels": 1}
    img = default_depth_fn(depth, recipe)
    np.testing.assert_array_equal(img, descriptor_image(compute_descriptor(depth, recipe), recipe))
    assert img.shape == (1, 16, 12) and img.max() > 0


def test_event_rule_options_reach_the_detector_in_strides():
    engine = Engine(RuleModel(), stride=3, min_frames=4, end_frames=7, fast_enter=0.8, no_action_margin=0.1,
                    min_duration=0.4)
    c = engine.events.config
    assert (c.min_updates, c.end_updates, c.fast_enter, c.no_action_margin, c.min_duration) == (2, 3, 0.8, 0.1, 0.4)
    assert Engine(RuleModel()).events.config.end_updates is None


class _RecordingModel(RuleModel):
    """RuleModel that keeps every input batch and whose scores move with every number of the input."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def predict_skeleton(self, x):
        x = np.asarray(x)
        self.seen.append(x.copy())
        s = x.reshape(len(x), -1).astype(np.float64) @ np.linspace(-1, 1, x[0].size)
        e = np.exp(np.stack([s, -s, 0 * s], 1) / (1 + np.abs(s)[:, None]))
        return (e / e.sum(1, keepdims=True)).astype(np.float32)


def _mixed_scene():
    rng = np.random.default_rng(4)
    half = np.zeros(20, np.float32)
    half[:8] = 1.0  # too few joints: reported, never classified
    frames = []
    for i in range(75):
        t = i / FPS
        bodies = [body(1, pose(-0.6, hand_up=t > 1.2), noise=0.004, rng=rng), body(2, pose(0.6), half)]
        if 0.5 < t < 1.8:
            j = pose(0.1, 3.0)
            j[3] = np.nan if i % 4 else 0.0  # a flickering joint
            bodies.append(body(3, j, noise=0.004, rng=rng))
        frames.append(Frame(t, bodies, index=i))
    return frames


def _fingerprint(out):
    return [(type(o).__name__, o.person, getattr(o, "label", None), getattr(o, "state", None),
             getattr(o, "t_frame", getattr(o, "t", None)), getattr(o, "motion", None),
             None if getattr(o, "probs", None) is None else o.probs.tolist()) for o in out]


def test_preparing_ahead_changes_nothing_and_is_done_once():
    """What the runner does (ingest, prepare on the capture thread, infer on another) gives exactly what feed does."""
    a, b = _RecordingModel(), _RecordingModel()
    sync, split = Engine(a, stride=2), Engine(b, stride=2)
    out_sync, out_split = [], []
    for f in _mixed_scene():
        out_sync += sync.feed(f)
        ing = split.ingest(f)
        out_split += ing.events
        if ing.request is not None:
            req = split.prepare(ing.request)
            assert req is ing.request and req.prepared
            ready = [w for w in req.windows if split.worker.ready(w)]
            assert (req.skeleton is None) == (not ready)
            if ready:
                assert req.skeleton.shape == (len(ready), 3, 16, 20) and req.skeleton.flags.c_contiguous
            assert all(w.motion is not None for w in req.windows)
            skeleton, prepare_ms = req.skeleton, req.prepare_ms
            split.prepare(req)  # a second time: nothing is redone
            assert req.skeleton is skeleton and req.prepare_ms == prepare_ms
            preds = split.infer(req)
            assert all(p.latency_ms >= prepare_ms for p in preds if isinstance(p, Prediction))
            out_split += preds
    out_sync += sync.finish()
    out_split += split.finish()
    assert _fingerprint(out_sync) == _fingerprint(out_split)
    assert len(a.seen) == len(b.seen) > 10 and all(np.array_equal(x, y) for x, y in zip(a.seen, b.seen))
    assert {len(x) for x in a.seen} == {1, 2}  # person 2 is never classified, person 3 only while in view
    assert any(isinstance(o, Prediction) and o.state == "unclassifiable" for o in out_sync)


def test_canonical_mapping_is_the_plain_formula_for_every_layout():
    """to_canonical skips the steps that change nothing (the engine maps every body of every frame); the result
    is still the full formula's, as new arrays."""
    from kinact.core.errors import KinactError
    from kinact.core.layouts import LAYOUTS, to_canonical

    def reference(joints, lay, conf):
        idx = np.asarray(lay.canonical_index)
        out = joints[..., idx, :].astype(np.float32) * np.float32(lay.metres_per_unit)
        out *= np.asarray(lay.axis_signs, dtype=np.float32)
        return out, np.asarray(conf)[..., idx]

    rng = np.random.default_rng(2)
    for name, lay in LAYOUTS.items():
        joints = rng.normal(size=(lay.num_joints, 3)) * 100
        conf = rng.uniform(size=lay.num_joints)
        got, want = to_canonical(joints, name, conf), reference(joints, lay, conf)
        assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])
        assert not np.shares_memory(got[1], conf) and not np.shares_memory(got[0], joints)
        with pytest.raises(KinactError):
            to_canonical(np.zeros((lay.num_joints + 1, 3)), name, np.ones(lay.num_joints + 1))
