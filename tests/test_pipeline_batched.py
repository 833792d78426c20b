"""Batched window preparation must give the per-window functions' numbers to the bit, and the engine the same outputs.

`pipeline.batched` redoes `skeleton_norm.normalise` + `features.make_features` and `events.motion_energy` for
several fully tracked windows at once. The per-window functions are the reference: they are what training uses,
so any difference, however small, would be live input the model never saw.
"""
import numpy as np
import pytest

from kinact.core.bench.scene import SceneSource, synthetic_motion
from kinact.core.checkpoint import CheckpointMeta
from kinact.core.frames import Body, Frame
from kinact.core.pipeline import batched
from kinact.core.pipeline.engine import Engine
from kinact.core.pipeline.events import motion_energy
from kinact.core.pipeline.fakes import pose
from kinact.core.pipeline.worker import Prediction
from kinact.core.skeleton_norm import SHOULDER_CENTRE, NormRecipe, normalise
from kinact.core.training.features import make_features

FEATURE_SETS = [("joint",), ("joint", "bone", "velocity"), ("velocity", "bone"), ("bone", "joint")]


def _windows(rng, B, T):
    """B fully tracked (T, 20, 3) windows: a waving person at random places, a standing one, random joints."""
    wave = synthetic_motion(seconds=5.0, seed=int(rng.integers(1000)))
    out = []
    for _ in range(B):
        kind = rng.integers(3)
        if kind == 0:
            start = int(rng.integers(0, len(wave) - T)) if len(wave) > T else 0
            w = np.resize(wave[start:], (T, 20, 3)) + rng.normal(size=3).astype(np.float32)
        elif kind == 1:
            w = pose(float(rng.uniform(-1, 1)), float(rng.uniform(1.5, 4)))[None].repeat(T, 0)
            w = w + rng.normal(scale=0.003, size=w.shape)
        else:
            w = rng.normal(size=(T, 20, 3)) * rng.uniform(0.05, 3) + rng.normal(size=3)
        out.append(np.asarray(w, np.float32))
    return np.stack(out)


def _bits(a):
    a = np.asarray(a)
    return a.dtype, a.shape, a.tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_batched_inputs_and_motion_are_the_per_window_numbers(seed):
    rng = np.random.default_rng(seed)
    for _ in range(12):
        B, T = int(rng.integers(1, 7)), int(rng.integers(2, 140))
        joints = _windows(rng, B, T)
        conf = np.ones((T, 20), np.float32)
        recipes = [NormRecipe(), NormRecipe(frames=int(rng.integers(2, 90))), NormRecipe(frames=T),
                   NormRecipe(centre="per_frame", scale=False), NormRecipe(centre="none", face_camera=False),
                   NormRecipe(centre="none", scale=True, face_camera=True, frames=32)]
        for recipe in recipes:
            for features in FEATURE_SETS:
                assert batched.supported(recipe, features)
                got = batched.skeleton_inputs(joints, recipe, features)
                want = np.stack([make_features(normalise(w, recipe, conf), features) for w in joints])
                assert _bits(got) == _bits(want), (B, T, recipe, features)
        assert batched.motion_energies(joints) == [motion_energy(w, conf) for w in joints]


def test_windows_the_batch_cannot_reproduce_are_left_to_the_per_window_functions():
    joints = _windows(np.random.default_rng(0), 2, 30)
    assert batched.skeleton_inputs(joints.astype(np.float64), NormRecipe(), ("joint",)) is None
    huge = joints.copy()
    huge[1, :, SHOULDER_CENTRE] = 1e30  # a torso length that overflows float32
    with np.errstate(over="ignore"):
        assert batched.skeleton_inputs(huge, NormRecipe(), ("joint",)) is None
    assert not batched.supported(NormRecipe(centre="sideways"), ("joint",))
    assert not batched.supported(NormRecipe(), ("joint", "acceleration"))


class _ProjectionModel:
    """Scores that move with every bit of the input: a fixed random projection, softmaxed in float64."""

    def __init__(self, frames=24, features=("joint", "bone", "velocity")):
        self.classes = ["no_action", "a", "b", "c"]
        self.meta = CheckpointMeta(model={"name": "projection"}, classes=self.classes, frames=frames,
                                   window_seconds=1.0, features=list(features), no_action="no_action")
        self.w = np.random.default_rng(0).normal(size=(3 * len(features) * frames * 20, len(self.classes)))

    def predict_skeleton(self, x):
        z = np.asarray(x, np.float64).reshape(len(x), -1) @ self.w
        z = np.exp(z - z.max(-1, keepdims=True))
        return (z / z.sum(-1, keepdims=True)).astype(np.float32)


def _frames(people, n, messy):
    """A scene of `people`; messy: now and then a NaN joint, a low-confidence joint or a person out of view."""
    src = SceneSource(synthetic_motion(seconds=3.0), people, 30.0)
    rng = np.random.default_rng(people)
    frames = []
    for i in range(n):
        f = src.frame(i)
        bodies = []
        for b in f.bodies:
            j, c = b.joints.copy(), b.confidence.copy()
            if messy and rng.random() < 0.1:
                j[rng.integers(20)] = np.nan
            if messy and rng.random() < 0.1:
                c[rng.integers(20)] = 0.3
            if messy and (i // 20 + b.id) % 5 == 0:
                continue
            bodies.append(Body(b.id, j, c))
        frames.append(Frame(t=f.t, bodies=bodies, index=i))
    return frames


def _run(frames, batching, **options):
    engine = Engine(_ProjectionModel(), motion_threshold=0.03, fast_enter=0.6, no_action_margin=0.1, **options)
    if not batching:
        engine.worker._batches = lambda windows, ready: ({}, None)  # every window through the per-window functions
    out = [o for f in frames for o in engine.feed(f)] + engine.finish()

    def key(o):
        if isinstance(o, Prediction):
            return ("P", o.person, o.t_frame, o.label, o.confidence, o.top5, o.state, o.classifiable, o.motion,
                    None if o.probs is None else o.probs.tobytes())
        return ("E", o.kind, o.person, o.label, o.t, o.confidence)

    return [key(o) for o in out]


@pytest.mark.parametrize("people,messy,stride", [(1, False, 1), (3, False, 2), (3, True, 1), (6, True, 3)])
def test_the_engine_says_the_same_with_and_without_batching(people, messy, stride):
    frames = _frames(people, 90, messy)
    got = _run(frames, True, stride=stride)
    assert any(k[0] == "P" and k[7] for k in got)
    assert got == _run(frames, False, stride=stride)
