"""Dataset samples → training arrays, once; then a torch Dataset that augments and resamples per item.

Why two stages: reading files, mapping to canonical joints and normalising is deterministic and the same for
every epoch and seed, so it runs once per run (a second or two for UTD-MHAD). What must differ per item and
epoch (augmentation, which changes the length) happens in `__getitem__`, *before* resampling to the model's T,
which is why `SequenceSet` keeps variable-length sequences.

Depth descriptors cost seconds per sequence (the raw depth of UTD-MHAD is ~10 GB), so they are computed once
and cached as .npz under `~/.cache/kinact/descriptors/<dataset>/<settings hash>/` (or $KINACT_CACHE_DIR),
never next to the data or in the repository. The cache holds the descriptor as computed; resizing and
normalising to the network's image is cheap and done on load, by `descriptor_image`, which live inference
should call too.

Every item draws its random augmentation from a generator seeded by (seed, epoch, index): results then do not
depend on the order items are visited, on resuming mid-run, or on how DistributedDataParallel splits them.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import sys
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from kinact.core.errors import KinactError
from kinact.core.layouts import to_canonical
from kinact.core.skeleton_norm import NormRecipe, centre, face_camera, fill_untracked, resample, scale_by_torso
from kinact.core.training.augment import AugmentRecipe, augment
from kinact.core.training.features import make_features

CACHE_VERSION = 1  # bump when the way descriptors are computed or stored changes


@dataclass
class SequenceSet:
    """Normalised canonical sequences of one split, variable length, in a fixed (sorted) order."""

    joints: list[np.ndarray]  # each (T_i, 20, 3) float32
    labels: np.ndarray  # (n,) int64, 0-based
    subjects: np.ndarray  # (n,) int64
    keys: list[str]  # stable per-sample ids (file stems): fusion matches models' predictions on them
    durations: np.ndarray  # (n,) seconds
    classes: list[str]
    descriptors: list[np.ndarray] | None = None  # each (C, H, W) float32 in 0..1, when depth is used
    dataset: str = ""

    def __len__(self) -> int:
        return len(self.joints)

    def subset(self, subjects) -> "SequenceSet":
        wanted = {int(s) for s in subjects}
        idx = [i for i, s in enumerate(self.subjects) if int(s) in wanted]
        return SequenceSet(
            joints=[self.joints[i] for i in idx], labels=self.labels[idx], subjects=self.subjects[idx],
            keys=[self.keys[i] for i in idx], durations=self.durations[idx], classes=self.classes,
            descriptors=None if self.descriptors is None else [self.descriptors[i] for i in idx],
            dataset=self.dataset,
        )


# --------------------------------------------------------------------------------------------- datasets

def dataset_module(name: str):
    """The reader module of a dataset; anything with `load_dataset` and `CLASS_NAMES` can be trained on."""
    try:
        mod = importlib.import_module(f"kinact.core.datasets.{name}")
    except ModuleNotFoundError:
        raise KinactError(f"dataset {name!r} has no reader (kinact.core.datasets.{name})") from None
    if not hasattr(mod, "load_dataset") or not hasattr(mod, "CLASS_NAMES"):
        raise KinactError(f"dataset reader kinact.core.datasets.{name} has no load_dataset/CLASS_NAMES")
    return mod


def class_names(name: str) -> list[str]:
    return list(dataset_module(name).CLASS_NAMES)


def prepare_skeleton(sample, norm: NormRecipe, main_actor=None) -> np.ndarray:
    """One Sample → (T, 20, 3) canonical joints, repaired, centred, scaled and turned as `norm` says.

    Not resampled: augmentation (crop, speed) must see the real frames first.
    """
    m = 0
    if sample.num_bodies > 1 and main_actor is not None:
        m = int(main_actor(sample))
    joints, conf = to_canonical(sample.skeleton[m], sample.layout, sample.confidence[m])
    x = fill_untracked(joints, conf)
    x = centre(x, norm.centre)
    if norm.scale:
        x = scale_by_torso(x)
    if norm.face_camera:
        x = face_camera(x)
    return np.ascontiguousarray(x, dtype=np.float32)


def _sample_key(sample) -> str:
    if sample.path:
        return os.path.splitext(os.path.basename(sample.path))[0]
    return f"a{sample.label + 1}_s{sample.subject}_t{sample.trial}"


def load_sequences(dataset: str, root, subjects, norm: NormRecipe, depth: dict | None = None,
                   progress: bool = False) -> SequenceSet:
    """Read, map to canonical joints and normalise every sample of `subjects` (None: all); add descriptor
    images if a `depth` recipe is given."""
    mod = dataset_module(dataset)
    if not os.path.isdir(root):
        raise KinactError(f"{root}: data folder not found")
    subjects = None if subjects is None else sorted({int(s) for s in subjects})
    samples = mod.load_dataset(root, subjects=subjects)
    if not samples:
        raise KinactError(f"{root}: no {dataset} samples of subjects {subjects or 'any'}")
    samples.sort(key=lambda s: (s.subject, s.label, s.trial, _sample_key(s)))
    main_actor = getattr(mod, "main_actor_index", None)
    classes = list(mod.CLASS_NAMES)
    seqs = SequenceSet(
        joints=[prepare_skeleton(s, norm, main_actor) for s in samples],
        labels=np.array([s.label for s in samples], np.int64),
        subjects=np.array([s.subject for s in samples], np.int64),
        keys=[_sample_key(s) for s in samples],
        durations=np.array([s.num_frames / float(s.fps or 30.0) for s in samples], np.float64),
        classes=classes, dataset=dataset,
    )
    if int(seqs.labels.max()) >= len(classes) or int(seqs.labels.min()) < 0:
        raise KinactError(f"{root}: labels outside the {len(classes)} classes of {dataset}")
    if depth:
        raw = cached_descriptors(mod, dataset, root, samples, depth, progress)
        seqs.descriptors = [descriptor_image(raw[k], depth) for k in seqs.keys]
    return seqs


# --------------------------------------------------------------------------------------------- depth

def cache_dir(dataset: str, depth: dict) -> str:
    """Descriptor cache folder; the hash covers every setting that changes the descriptor itself."""
    settings = {"descriptor": depth["descriptor"], "args": _descriptor_args(depth), "version": CACHE_VERSION}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    base = os.environ.get("KINACT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "kinact")
    return os.path.join(base, "descriptors", dataset, f"{depth['descriptor']}-{digest}")


def compute_descriptor(depth_frames: np.ndarray, depth: dict):
    """(T, H, W) depth → the raw descriptor of `depth['descriptor']` (what the cache stores)."""
    from kinact.core import depth_views, descriptors

    known = {"dmi": descriptors.dmi, "dmm": descriptors.dmm, "dmm_rot": depth_views.dmm_rot}
    fn = known.get(depth["descriptor"])
    if fn is None:
        raise KinactError(f"unknown depth descriptor {depth['descriptor']!r} (known: {', '.join(known)})")
    try:
        return fn(depth_frames, **_descriptor_args(depth))
    except TypeError as exc:
        raise KinactError(f"data.descriptor_args do not fit descriptors.{depth['descriptor']} ({exc})") from None


def _descriptor_args(depth: dict) -> dict:
    """The descriptor's keyword arguments; it crops to the body before resizing, so it gets the size itself."""
    args = dict(depth.get("args", {}))
    args.setdefault("size", [int(v) for v in depth["size"]])
    if isinstance(args["size"], list):
        args["size"] = tuple(args["size"])
    return args


def _as_arrays(raw) -> list[np.ndarray]:
    if isinstance(raw, dict):
        return [np.asarray(v) for v in raw.values()]
    if isinstance(raw, (list, tuple)):
        return [np.asarray(v) for v in raw]
    return [np.asarray(raw)]


def cached_descriptors(mod, dataset, root, samples, depth: dict, progress: bool = False) -> dict:
    """{sample key: list of arrays}, computing (and caching) only the ones not cached yet."""
    folder = cache_dir(dataset, depth)
    out, missing = {}, []
    for s in samples:
        key = _sample_key(s)
        path = os.path.join(folder, key + ".npz")
        try:
            with np.load(path) as z:
                out[key] = [z[f"arr_{i}"] for i in range(len(z.files))]
        except Exception:  # absent, or a damaged entry (BadZipFile, EOFError...): compute it again
            missing.append(s)
    if not missing:
        return out
    if "depth_transform" not in inspect.signature(mod.load_dataset).parameters:
        raise KinactError(f"dataset {dataset!r} has no depth data (its reader takes no depth_transform)")
    os.makedirs(folder, exist_ok=True)
    count = [0]

    def transform(frames):
        count[0] += 1
        if progress and (count[0] % 25 == 0):
            print(f"  depth descriptors: {count[0]} computed", file=sys.stderr, flush=True)
        return compute_descriptor(frames, depth)

    subjects = sorted({s.subject for s in missing})
    if progress:
        print(f"computing {depth['descriptor']} descriptors for {len(missing)} sequences once "
              f"(cache: {folder})", file=sys.stderr, flush=True)
    for s in mod.load_dataset(root, subjects=subjects, depth_transform=transform):
        key = _sample_key(s)
        arrays = _as_arrays(s.depth)
        tmp = os.path.join(folder, f".{key}.{os.getpid()}.npz")
        np.savez_compressed(tmp, *arrays)
        os.replace(tmp, os.path.join(folder, key + ".npz"))
        out[key] = arrays
    lost = [_sample_key(s) for s in missing if _sample_key(s) not in out]
    if lost:
        raise KinactError(f"{root}: no depth for {lost[:3]}")
    return out


def descriptor_image(raw, depth: dict) -> np.ndarray:
    """Raw descriptor (one map, a stack, or a list of views) → (C, H, W) float32, each channel min-max to 0..1.

    Views of different sizes (DMM front/side/top) are each resized to `depth['size']` and stacked.
    """
    h, w = (int(v) for v in depth["size"])
    chans = []
    for a in _as_arrays(raw):
        a = np.asarray(a, np.float32)
        a = a[None] if a.ndim == 2 else a
        t = torch.from_numpy(np.ascontiguousarray(a))[None]
        if t.shape[-2:] != (h, w):
            t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        for c in t[0]:
            lo, hi = float(c.min()), float(c.max())
            chans.append((c - lo) / (hi - lo) if hi > lo else torch.zeros_like(c))
    img = torch.stack(chans).numpy().astype(np.float32)
    want = depth.get("channels")
    if want is not None and img.shape[0] != int(want):
        raise KinactError(f"descriptor {depth['descriptor']!r} gave {img.shape[0]} channels, recipe says {want}")
    return img


def shift_scale(img: np.ndarray, shift: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Random translation (± shift of the image size) and zoom (1 ± scale) of a (C, H, W) image, zero padded.

    Like the person standing a little elsewhere or nearer: the descriptor's content moves, its meaning does not.
    """
    zoom = rng.uniform(1 - scale, 1 + scale) if scale > 0 else 1.0
    tx, ty = (rng.uniform(-2 * shift, 2 * shift, size=2) if shift > 0 else (0.0, 0.0))
    theta = torch.tensor([[[1 / zoom, 0.0, tx], [0.0, 1 / zoom, ty]]], dtype=torch.float32)
    t = torch.from_numpy(np.ascontiguousarray(img))[None]
    grid = F.affine_grid(theta, list(t.shape), align_corners=False)
    return F.grid_sample(t, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0].numpy()


# --------------------------------------------------------------------------------------------- torch side

def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch), int(index)])


@dataclass
class ItemRecipe:
    """What turns one stored sequence into network input; the same for training and evaluation except `train`."""

    modality: str = "skeleton"
    features: list[str] = field(default_factory=lambda: ["joint"])
    frames: int = 64
    augment: AugmentRecipe = field(default_factory=AugmentRecipe)
    depth_shift: float = 0.0
    depth_scale: float = 0.0
    # Views stacked in each descriptor image (the sensor's first, then virtual cameras: depth_views.py); a
    # training item draws one of them, evaluation takes the sensor's.
    depth_views: int = 1
    # The live window in frames and the normalisation, for `augment.partial` (partial.py); 0: no partial windows.
    window_frames: int = 0
    norm: NormRecipe | None = None


class ActionDataset(Dataset):
    """Items are dicts {"skeleton": (C, T, N), "depth": (C, H, W), "label": int}, keys as the modality needs.

    With `no_action` windows (see no_action.py), items [0, n) are the split's sequences and the next
    len(no_action) are no-action windows labelled `no_action.label`. Outside training those windows still
    need randomness; they take a generator fixed per index, so every epoch and checkpoint sees the same ones.
    """

    def __init__(self, seqs: SequenceSet, recipe: ItemRecipe, train: bool = False, seed: int = 0, no_action=None):
        if recipe.modality in ("depth", "fusion") and seqs.descriptors is None:
            raise KinactError("depth modality needs descriptor images (load_sequences(..., depth=...))")
        if no_action is not None and recipe.modality != "skeleton":
            raise KinactError("no-action windows are skeleton only")
        self.seqs, self.recipe, self.train, self.seed, self.epoch = seqs, recipe, train, seed, 0
        self.no_action = no_action
        self._still: dict[int, int] = {}  # still-prefix length per clip, for partial windows

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def num_actions(self) -> int:
        return len(self.seqs)

    @property
    def labels(self) -> np.ndarray:
        """Every item's label in item order, no-action windows included."""
        extra = len(self.no_action) if self.no_action is not None else 0
        na = np.full(extra, self.no_action.label if extra else 0, np.int64)
        return np.concatenate([np.asarray(self.seqs.labels, np.int64), na])

    def __len__(self) -> int:
        return len(self.seqs) + (len(self.no_action) if self.no_action is not None else 0)

    def __getitem__(self, i: int) -> dict:
        r = self.recipe
        rng = item_rng(self.seed, self.epoch, i) if self.train else None
        if i >= len(self.seqs):
            rng = rng if rng is not None else item_rng(0, 0, i)
            x = self.no_action.window(i - len(self.seqs), rng)
            if self.train and r.augment.active:
                x = augment(x, r.augment, rng)
            return {"label": torch.tensor(int(self.no_action.label)),
                    "skeleton": torch.from_numpy(make_features(resample(x, r.frames), r.features))}
        item = {"label": torch.tensor(int(self.seqs.labels[i]))}
        if r.modality in ("skeleton", "fusion"):
            x, aug = self.seqs.joints[i], r.augment
            if rng is not None and aug.partial > 0 and r.window_frames > 0 and rng.random() < aug.partial:
                x = self._partial(i, rng)
                aug = dataclasses.replace(aug, crop=1.0)  # the window is already the cut live would see
            if rng is not None and aug.active:
                x = augment(x, aug, rng)
            item["skeleton"] = torch.from_numpy(make_features(resample(x, r.frames), r.features))
        if r.modality in ("depth", "fusion"):
            img = self.seqs.descriptors[i]
            if r.depth_views > 1:
                per = img.shape[0] // r.depth_views
                k = int(rng.integers(r.depth_views)) if rng is not None else 0
                img = img[k * per:(k + 1) * per]
            if rng is not None and (r.depth_shift > 0 or r.depth_scale > 0):
                img = shift_scale(img, r.depth_shift, r.depth_scale, rng)
            item["depth"] = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
        return item


    def _partial(self, i: int, rng: np.random.Generator) -> np.ndarray:
        from kinact.core.training.no_action import still_edges
        from kinact.core.training.partial import partial_window

        if i not in self._still:
            self._still[i] = still_edges(self.seqs.joints[i])[0]
        r = self.recipe
        return partial_window(self.seqs.joints[i], r.window_frames, r.norm or NormRecipe(), rng,
                              r.augment.partial_min, self._still[i])


def model_inputs(batch: dict, modality: str, device=None) -> tuple:
    """The forward arguments in the models' order (skeleton first, then depth)."""
    names = {"skeleton": ("skeleton",), "depth": ("depth",), "fusion": ("skeleton", "depth")}[modality]
    return tuple(batch[n].to(device) if device is not None else batch[n] for n in names)


def flat_joints(seqs: SequenceSet, frames: int) -> np.ndarray:
    """(n, frames·20·3) resampled joint positions: the representation the kNN baseline compares."""
    return np.stack([resample(x, frames).reshape(-1) for x in seqs.joints]).astype(np.float32)
