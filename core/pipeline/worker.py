"""The inference step: all due windows of one stride → one batched model call → raw per-person predictions.

One call per stride, not one per person, because a network's cost barely grows with batch size at these
sizes while each call pays fixed overhead (Python, ONNX Runtime session, CUDA launch): three people cost
about what one does. Windows are normalised here with the checkpoint's own `NormRecipe` and features, the
same functions training used, so live input can never drift from what the model learnt.

Depth descriptors (for checkpoints with a `depth` recipe) are computed here too, off the capture thread:
they cost tens of milliseconds, which the capture thread cannot spend without missing frames. The scene's
depth is shared by everyone, so one descriptor per stride serves the whole batch. Computing it goes through
a hook (`depth_fn(frames (T, H, W), recipe) -> (C, H, W)`), by default the training code's own
`compute_descriptor` + `descriptor_image`, so tests and other descriptors can stand in.

Preparing a request (each window's normalisation, features and motion energy, the inputs stacked into the
batch) is numpy on small arrays: bound by Python, so it holds the GIL, whereas the model call (ONNX
Runtime, torch) releases it. Hence `prepare` apart from `run`: the threaded runner prepares each request
on the capture thread as it is cut, so the next request gets ready while the inference thread waits on the
model, rather than the two taking turns on one thread. `run` prepares a request nobody prepared, so the
predictions do not depend on who did it or when (the synchronous `Engine.feed` simply prepares in `run`).

The model is anything with `meta` (a CheckpointMeta), `classes` and `predict_skeleton(x) -> probs`, or
`predict({name: array}) -> probs` when it takes depth: `kinact.core.inference.Predictor` or a test fake.
"""
from __future__ import annotations

import dataclasses
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kinact.core.errors import KinactError
from kinact.core.pipeline import batched
from kinact.core.pipeline.buffer import BodyWindow
from kinact.core.pipeline.events import motion_energy
from kinact.core.skeleton_norm import NormRecipe, normalise
from kinact.core.training.features import make_features

DepthFn = Callable[[np.ndarray, dict], np.ndarray]
MOTION_MIN_CONFIDENCE = 0.5  # motion_energy's default: what a window's `all_usable` must mean (see `batched`)


@dataclass
class PersonWindow:
    person: int
    window: BodyWindow
    classifiable: bool
    motion: float | None = None  # the window's motion energy, once prepared


@dataclass
class Request:
    """Everything one stride's inference needs, copied out of the buffers so the capture thread can go on."""

    t_frame: float  # timestamp of the newest frame in the windows
    t_arrival: float  # engine clock when that frame arrived (frame-to-result latency starts here)
    windows: list[PersonWindow]
    depth: list[np.ndarray] | None = None  # the window's depth images, oldest first, not yet stacked
    frame_index: int = 0
    # filled in by `InferenceWorker.prepare`, on whichever thread runs it:
    prepared: bool = False
    skeleton: np.ndarray | None = None  # (B, C, T, N) model input of the windows the model classifies, in order
    prepare_ms: float = 0.0


@dataclass
class Prediction:
    """What the pipeline says about one person after one window.

    From the worker alone, label/confidence/top5 are the raw model output and state is "raw"; the engine
    replaces them with the smoothed, hysteresis-filtered decision (see events.Decision). `probs` stays raw.
    t_arrival and t_published are on the engine's clock (time.perf_counter by default); t_frame on the frames'.
    """

    t_frame: float
    t_published: float
    person: int
    label: str | None
    confidence: float
    top5: list[tuple[str, float]] = field(default_factory=list)
    probs: np.ndarray | None = None
    latency_ms: float = 0.0  # inference step of the whole batch (normalise, descriptors, model), wherever each ran
    classifiable: bool = True
    state: str = "raw"
    t_arrival: float = 0.0
    motion: float = 0.0

    @property
    def frame_to_result_ms(self) -> float:
        return (self.t_published - self.t_arrival) * 1000.0


def default_depth_fn(frames: np.ndarray, recipe: dict) -> np.ndarray:
    """The training pipeline's descriptor image, so live depth input matches what the model was trained on."""
    from kinact.core.training.data import compute_descriptor, descriptor_image

    return descriptor_image(compute_descriptor(frames, recipe), recipe)


def norm_recipe(meta) -> NormRecipe:
    """The checkpoint's recipe, with T taken from `meta.frames` (what the network's input really is)."""
    return dataclasses.replace(NormRecipe.from_dict(meta.norm or {}), frames=int(meta.frames))


def top_k(probs: np.ndarray, classes: list[str], k: int = 5) -> list[tuple[str, float]]:
    order = (-probs).argsort()[:k]
    return [(classes[i], v) for i, v in zip(order.tolist(), probs[order].tolist())]


class InferenceWorker:
    """Turns a Request into raw Predictions with one model call; holds no state between calls."""

    def __init__(self, model, depth_fn: DepthFn | None = None, clock: Callable[[], float] = time.perf_counter):
        self.model = model
        meta = model.meta
        self.classes = list(getattr(model, "classes", None) or meta.classes)
        self.recipe = norm_recipe(meta)
        self.features = tuple(meta.features or ("joint",))
        self.depth_recipe = dict(meta.depth or {})
        spec = getattr(model, "input_spec", None)
        self.inputs = list(spec) if spec else ["skeleton"] + (["depth"] if self.depth_recipe else [])
        if "depth" in self.inputs and not self.depth_recipe:
            raise KinactError("the model takes depth but its checkpoint has no depth descriptor recipe")
        self.depth_fn = depth_fn or default_depth_fn
        self.clock = clock
        self.calls = 0  # model calls made; tests and benchmarks check batching with it
        self._batchable = "skeleton" in self.inputs and batched.supported(self.recipe, self.features)

    @property
    def needs_depth(self) -> bool:
        return "depth" in self.inputs

    def skeleton_input(self, w: BodyWindow) -> np.ndarray:
        """(C, T, N) model input of one window."""
        return make_features(normalise(w.joints, self.recipe, w.confidence), self.features)

    def depth_input(self, frames: list[np.ndarray] | None) -> np.ndarray:
        """(C, H, W) descriptor of the window's depth; zeros when there is too little depth to describe."""
        if frames is not None and len(frames) >= 2:
            return np.asarray(self.depth_fn(np.stack(frames), self.depth_recipe), np.float32)
        h, w = (int(v) for v in self.depth_recipe.get("size", (224, 224)))
        return np.zeros((int(self.depth_recipe.get("channels", 1)), h, w), np.float32)

    def predict(self, skeleton: np.ndarray | None, depth: np.ndarray | None) -> np.ndarray:
        """(B, K) probabilities from one call."""
        self.calls += 1
        if self.inputs == ["skeleton"] and hasattr(self.model, "predict_skeleton"):
            probs = self.model.predict_skeleton(skeleton)
        else:
            given = {"skeleton": skeleton, "depth": depth}
            probs = self.model.predict({name: given[name] for name in self.inputs})
        probs = np.asarray(probs, np.float32)
        batch = skeleton.shape[0] if skeleton is not None else depth.shape[0]
        if probs.shape != (batch, len(self.classes)):
            raise KinactError(f"model returned scores of shape {probs.shape}, expected ({batch}, {len(self.classes)})")
        return probs

    def ready(self, w: PersonWindow) -> bool:
        """Whether the model classifies this window (else its prediction says "unclassifiable")."""
        return w.classifiable and len(w.window) >= 2

    def prepare(self, request: Request) -> Request:
        """Everything `run` needs besides the model and depth: the windows' motion energies and the stacked
        skeleton input. Done once per request (later calls return at once); the request is returned.

        A caller on another thread can do this ahead of `run` (see the module docstring); the stacking is done
        here too because a copy that large lets numpy release the GIL, and an inference thread that gives the
        GIL up just before the model waits for it behind the capture thread's work. Fully tracked windows of one
        length are done together (`batched`: the same numbers for a fraction of the calls); the rest one by one.
        """
        if request.prepared:
            return request
        t0 = self.clock()
        ready = [w for w in request.windows if self.ready(w)]
        rows, whole = self._batches(request.windows, ready)
        for w in request.windows:
            if w.motion is None:
                w.motion = motion_energy(w.window.joints, w.window.confidence) if len(w.window) else 0.0
        if ready and "skeleton" in self.inputs:
            if whole is not None:  # one batch made the whole input, in order
                request.skeleton = whole
            else:
                inputs = [rows[w.person] if w.person in rows else self.skeleton_input(w.window) for w in ready]
                request.skeleton = inputs[0][None] if len(inputs) == 1 else np.stack(inputs)
        request.prepared = True
        request.prepare_ms += (self.clock() - t0) * 1000.0
        return request

    def _batches(self, windows: list[PersonWindow], ready: list[PersonWindow]):
        """Motion energies (set on the windows) and model inputs of the fully tracked windows, one `batched` call
        per window length: ({person: input}, the input of all of `ready` when one batch is exactly that)."""
        groups: dict[int, list[PersonWindow]] = {}
        for w in windows:
            win = w.window
            if win.all_usable and w.motion is None and len(win) >= 2 and win.joints.dtype == np.float32:
                groups.setdefault(len(win), []).append(w)
        rows: dict[int, np.ndarray] = {}
        whole = None
        for group in groups.values():
            joints = np.stack([w.window.joints for w in group]) if len(group) > 1 else group[0].window.joints[None]
            for w, m in zip(group, batched.motion_energies(joints)):
                w.motion = m
            if self._batchable and all(map(self.ready, group)):
                x = batched.skeleton_inputs(joints, self.recipe, self.features)
                if x is not None:
                    rows.update(zip([w.person for w in group], x))
                    if len(group) == len(ready) and all(map(operator.is_, group, ready)):  # the same, in order
                        whole = x
        return rows, whole

    def run(self, request: Request, labels: bool = True) -> list[Prediction]:
        """Raw predictions for the request's windows, from one model call (preparing the request if need be).
        labels=False leaves the label, confidence and top-5 of classified windows empty (None, 0.0, []), for a
        caller that replaces them anyway: `Engine.decide` puts the smoothed decision there."""
        self.prepare(request)
        t0 = self.clock()
        ready = [w for w in request.windows if self.ready(w)]
        probs: dict[int, np.ndarray] = {}
        if ready:
            depth = None
            if self.needs_depth:
                img = self.depth_input(request.depth)
                depth = np.ascontiguousarray(np.broadcast_to(img, (len(ready), *img.shape)))
            out = self.predict(request.skeleton, depth)
            probs = {w.person: out[i] for i, w in enumerate(ready)}
        now = self.clock()
        latency = request.prepare_ms + (now - t0) * 1000.0
        preds = []
        for w in request.windows:
            p = probs.get(w.person)
            if p is None:
                preds.append(Prediction(request.t_frame, now, w.person, None, 0.0, [], None, latency, False,
                                        "unclassifiable", request.t_arrival, w.motion))
                continue
            if not labels:
                preds.append(Prediction(request.t_frame, now, w.person, None, 0.0, [], p, latency, True, "raw",
                                        request.t_arrival, w.motion))
                continue
            k = int(p.argmax())
            preds.append(Prediction(request.t_frame, now, w.person, self.classes[k], float(p[k]),
                                    top_k(p, self.classes), p, latency, True, "raw", request.t_arrival, w.motion))
        return preds
