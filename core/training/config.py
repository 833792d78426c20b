"""Experiment configs: one plain TOML file per experiment in `configs/`, loaded into typed dataclasses.

Why TOML and dataclasses rather than argparse flags or Python files: a results table is only reproducible if
each row is one small file that can be diffed, and a typo in a key must stop the run before an hour of training
rather than silently fall back to a default. So every unknown key is an error that names the file and the key.

Subject protocol: `val_subjects` are carved *out of* `train_subjects` (never from the test subjects). Runs that
choose hyper-parameters or epoch counts look at the validation curve; the final run sets `val_subjects = []`
(`kinact train --final`) and trains on every training subject for the chosen fixed number of epochs. The test
subjects are evaluated for the curve and the report, never used to choose anything.

An optional `[live]` table holds the live engine's post-processing settings chosen for this recipe on a
validation stream (Engine keywords: stride, alpha, enter, exit, ...; see pipeline.live_settings). Training
does not read them: they are copied into the checkpoint (`CheckpointMeta.live`), so `kinact run`, the app and
stream-eval use them with the model, and they are left out of the fingerprint, so setting them never blocks
a resume.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field

from kinact.core.errors import KinactError
from kinact.core.pipeline.live_settings import KEYS as LIVE_KEYS, check_live
from kinact.core.skeleton_norm import NormRecipe
from kinact.core.training.augment import AugmentRecipe
from kinact.core.training.features import FEATURES, num_channels

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser as a package
    import tomli as tomllib

DATASETS = ("utd_mhad", "msr_action3d", "ntu", "kinrec")
MODALITIES = ("skeleton", "depth", "fusion")
DESCRIPTORS = {"dmi": 1, "dmm": 3, "dmm_rot": 3}  # descriptor -> image channels (one view)
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("plateau", "cosine", "none")
MONITORS = ("train_loss", "val_loss")
NUM_JOINTS = 20  # models always see the canonical (Kinect v1) joints
NO_ACTION_KEYS = ("no_action", "no_action_name", "no_action_ratio")
NEUTRAL_OPTIM = {"class_balance": None, "body_lr_scale": 1.0, "init_from": ""}


@dataclass
class DataConfig:
    dataset: str = "utd_mhad"
    modality: str = "skeleton"
    train_subjects: list[int] = field(default_factory=lambda: [1, 3, 5, 7])
    test_subjects: list[int] = field(default_factory=lambda: [2, 4, 6, 8])
    val_subjects: list[int] = field(default_factory=list)
    split: str = "cross_subject"  # the protocol's name, recorded in the model card
    descriptor: str = "dmi"  # depth motion descriptor, used when modality is depth or fusion
    descriptor_size: list[int] = field(default_factory=lambda: [224, 224])  # (H, W) the network sees
    descriptor_args: dict = field(default_factory=dict)  # keyword arguments of descriptors.dmi / dmm
    # An extra "nothing happening" class (last index) trained on still windows cut from the recordings
    # (training/no_action.py), so the live app can say "nothing" instead of forcing an action; skeleton only.
    no_action: bool = False
    no_action_name: str = "no action"
    no_action_ratio: float = 0.5  # no-action training windows per action sequence

    @property
    def fit_subjects(self) -> list[int]:
        """The subjects whose samples the network is actually fitted on (training minus validation)."""
        return [s for s in self.train_subjects if s not in set(self.val_subjects)]

    @property
    def uses_depth(self) -> bool:
        return self.modality in ("depth", "fusion")

    def training_depth_recipe(self, angles) -> dict:
        """The recipe that computes the sensor's view and then each virtual camera angle, stacked (C·(1+K))."""
        recipe = self.depth_recipe()
        if angles:
            recipe["args"] = {**recipe["args"], "angles": [0.0, *[float(a) for a in angles]]}
            recipe["channels"] = self.depth_channels * (1 + len(angles))
        return recipe

    def depth_recipe(self) -> dict:
        """What a checkpoint must carry for live inference to rebuild the descriptor image; empty without depth."""
        if not self.uses_depth:
            return {}
        return {"descriptor": self.descriptor, "size": list(self.descriptor_size),
                "args": dict(self.descriptor_args), "normalise": "minmax", "channels": self.depth_channels}

    @property
    def depth_channels(self) -> int:
        """1 for a DMI; 3 for DMM front/side/top, 9 when each view also has its two temporal halves."""
        per_view = 3 if self.descriptor_args.get("temporal_halves") else 1
        return DESCRIPTORS[self.descriptor] * per_view


@dataclass
class InputConfig:
    features: list[str] = field(default_factory=lambda: ["joint"])
    frames: int = 64
    centre: str = "first_frame"
    scale: bool = True
    face_camera: bool = True

    def norm(self) -> NormRecipe:
        return NormRecipe(centre=self.centre, scale=self.scale, face_camera=self.face_camera, frames=self.frames)

    @property
    def channels(self) -> int:
        return num_channels(self.features)


@dataclass
class DepthAugment:
    """Random shift (fraction of the image size) and zoom (1 ± scale) of the descriptor image; with the
    `dmm_rot` descriptor also virtual camera angles (degrees about the vertical axis, core/depth_views.py): each
    training item is drawn from the sensor's own view or one of these, evaluation always sees the sensor's."""

    shift: float = 0.0
    scale: float = 0.0
    angles: list[float] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.shift > 0 or self.scale > 0


@dataclass
class OptimConfig:
    optimizer: str = "adamw"
    lr: float = 1e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.9  # sgd only
    scheduler: str = "cosine"
    plateau_factor: float = 0.2
    plateau_patience: int = 10
    plateau_threshold: float = 1e-4  # relative improvement that counts, as torch's ReduceLROnPlateau
    plateau_monitor: str = "train_loss"
    min_lr: float = 0.0
    warmup_epochs: int = 0
    epochs: int = 100
    batch_size: int = 32
    label_smoothing: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    # Loss weights n / (K·n_c) against class imbalance; unset: on for dataset "kinrec" (your own recordings,
    # whose classes are rarely balanced), off for the published datasets.
    class_balance: bool | None = None
    body_lr_scale: float = 1.0  # lr factor for everything but the classifier head (fine-tuning; 0 freezes it)
    # Start from another run's weights (pretraining on one dataset, training on another): a checkpoint path,
    # relative to the config file's folder when not absolute; every layer but the classifier head is loaded.
    init_from: str = ""

    def balanced(self, dataset: str) -> bool:
        return self.class_balance if self.class_balance is not None else dataset == "kinrec"


@dataclass
class ExperimentConfig:
    name: str = ""
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    data: DataConfig = field(default_factory=DataConfig)
    input: InputConfig = field(default_factory=InputConfig)
    augment: AugmentRecipe = field(default_factory=AugmentRecipe)
    depth_augment: DepthAugment = field(default_factory=DepthAugment)
    model: dict = field(default_factory=dict)
    optim: OptimConfig = field(default_factory=OptimConfig)
    live: dict = field(default_factory=dict)  # the live engine's settings for this model, copied into checkpoints
    path: str = ""

    def to_dict(self) -> dict:
        """The config as plain data in file form (the [augment] table holds the depth keys too)."""
        aug = self.augment.to_dict()
        aug.update(depth_shift=self.depth_augment.shift, depth_scale=self.depth_augment.scale)
        if self.depth_augment.angles:  # only when set, so configs from before the key keep their fingerprint
            aug["depth_angles"] = list(self.depth_augment.angles)
        d = {"name": self.name, "description": self.description, "seeds": list(self.seeds),
             "data": dataclasses.asdict(self.data), "input": dataclasses.asdict(self.input), "augment": aug,
             "model": copy.deepcopy(self.model), "optim": dataclasses.asdict(self.optim)}
        if self.live:
            d["live"] = dict(self.live)
        return d

    def fingerprint(self, ignore=("optim.epochs", "seeds", "name", "description")) -> str:
        """Hash of everything that changes what a run computes; resuming is refused when it differs.

        The epoch count is left out on purpose: extending a finished run by more epochs is a resume. The
        no-action keys are left out while the class is off, so runs started before they existed still resume.
        [live] is left out: training never reads it.
        """
        d = self.to_dict()
        d.pop("live", None)
        if not self.data.no_action:
            for key in NO_ACTION_KEYS:
                d["data"].pop(key, None)
        for key, unset in NEUTRAL_OPTIM.items():  # keys added later: runs that never set them still resume
            if d["optim"].get(key) == unset:
                d["optim"].pop(key)
        for key in ignore:
            parts = key.split(".")
            node = d
            for p in parts[:-1]:
                node = node.get(p, {})
            node.pop(parts[-1], None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def model_spec(self, num_classes: int) -> dict:
        """The registry spec with the sizes the data decides (classes, joints, channels, frames) filled in."""
        return fill_model_spec(self.model, num_classes, self.input.channels, self.input.frames,
                               self.data.depth_channels, self.data.descriptor_size)


def fill_model_spec(spec: dict, num_classes: int, channels: int, frames: int, depth_channels: int,
                    depth_size) -> dict:
    """Fill sizes a config should not have to repeat, only for keys the named model accepts and only if absent."""
    from kinact.models.registry import spec_keys

    spec = copy.deepcopy(spec)
    name = spec.get("name")
    if name == "two_stream":
        spec.setdefault("num_classes", num_classes)
        for sub in ("skeleton", "depth"):
            if isinstance(spec.get(sub), dict):
                spec[sub].setdefault("name", sub)
                spec[sub] = fill_model_spec(spec[sub], num_classes, channels, frames, depth_channels, depth_size)
        return spec
    try:
        keys = set(spec_keys(name))
    except ValueError as exc:
        raise KinactError(f"[model] {exc}") from None
    values = {"num_classes": num_classes, "num_joints": NUM_JOINTS, "num_frames": frames,
              "skeleton_channels": channels, "depth_channels": depth_channels, "depth_size": list(depth_size),
              "image_size": list(depth_size), "in_channels": depth_channels if name == "depth" else channels}
    for k, v in values.items():
        if k in keys and k not in spec:
            spec[k] = v
    return spec


# --------------------------------------------------------------------------------------------- loading

_SECTIONS = {"data": DataConfig, "input": InputConfig, "optim": OptimConfig}
_TOP = {"name", "description", "seeds", "data", "input", "augment", "model", "optim", "live"}


def _merge(raw: dict, overrides: dict) -> None:
    """Apply overrides given as nested dicts or dotted keys ("optim.epochs": 2)."""
    for key, value in overrides.items():
        parts = key.split(".")
        node = raw
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise KinactError(f"override {key!r}: {p!r} is not a table")
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            _merge(node[parts[-1]], value)
        else:
            node[parts[-1]] = value


def _coerce(where: str, key: str, value, default):
    """Check a value against the type of its default; ints are accepted where floats are expected."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, (list, tuple))
        value = list(value) if ok else value
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise KinactError(f"{where}: {key} = {value!r} should be a {type(default).__name__}")
    return value


def _section(where: str, name: str, cls, table) -> object:
    if not isinstance(table, dict):
        raise KinactError(f"{where}: [{name}] must be a table")
    defaults = cls()
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in table.items():
        if key not in known:
            raise KinactError(f"{where}: unknown key {name}.{key} (known: {', '.join(sorted(known))})")
        kwargs[key] = _coerce(where, f"{name}.{key}", value, getattr(defaults, key))
    return cls(**kwargs)


def _augment(where: str, table) -> tuple[AugmentRecipe, DepthAugment]:
    if not isinstance(table, dict):
        raise KinactError(f"{where}: [augment] must be a table")
    skel_keys = set(AugmentRecipe.__dataclass_fields__)
    skel, depth = {}, {}
    for key, value in table.items():
        if key in ("depth_shift", "depth_scale"):
            depth[key[6:]] = _coerce(where, f"augment.{key}", value, 0.0)
        elif key == "depth_angles":
            if not isinstance(value, list) or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                                      and -90 <= a <= 90 and a != 0 for a in value):
                raise KinactError(f"{where}: augment.depth_angles must be a list of non-zero angles in degrees "
                                  "(-90..90), e.g. [-30, -15, 15, 30]")
            depth["angles"] = [float(a) for a in value]
        elif key in skel_keys:
            skel[key] = _coerce(where, f"augment.{key}", value, getattr(AugmentRecipe(), key))
        else:
            known = sorted(skel_keys | {"depth_shift", "depth_scale", "depth_angles"})
            raise KinactError(f"{where}: unknown key augment.{key} (known: {', '.join(known)})")
    return AugmentRecipe(**skel), DepthAugment(**depth)


def _live(where: str, table) -> dict:
    """[live]: Engine keywords only, each in its range (unlike a checkpoint's, which falls back quietly)."""
    if not isinstance(table, dict):
        raise KinactError(f"{where}: [live] must be a table")
    clean, unknown, errors = check_live(table)
    if unknown:
        raise KinactError(f"{where}: unknown key live.{unknown[0]} (known: {', '.join(sorted(LIVE_KEYS))})")
    if errors:
        raise KinactError(f"{where}: [live] {errors[0]}")
    return clean


def config_from_dict(raw: dict, where: str = "<config>") -> ExperimentConfig:
    for key in raw:
        if key not in _TOP:
            raise KinactError(f"{where}: unknown key {key} (known: {', '.join(sorted(_TOP))})")
    cfg = ExperimentConfig(path=where)
    for name, cls in _SECTIONS.items():
        if name in raw:
            setattr(cfg, name, _section(where, name, cls, raw[name]))
    if "augment" in raw:
        cfg.augment, cfg.depth_augment = _augment(where, raw["augment"])
    if "model" in raw:
        if not isinstance(raw["model"], dict):
            raise KinactError(f"{where}: [model] must be a table")
        cfg.model = copy.deepcopy(raw["model"])
    if "live" in raw:
        cfg.live = _live(where, raw["live"])
    cfg.name = _coerce(where, "name", raw.get("name", ""), "") or os.path.splitext(os.path.basename(where))[0]
    cfg.description = _coerce(where, "description", raw.get("description", ""), "")
    cfg.seeds = [int(s) for s in _coerce(where, "seeds", raw.get("seeds", [0, 1]), [])]
    validate(cfg, where)
    return cfg


def validate(cfg: ExperimentConfig, where: str) -> None:
    """Reject settings that would only fail (or silently mislead) after data loading."""
    d, i, o = cfg.data, cfg.input, cfg.optim

    def choice(key, value, options):
        if value not in options:
            raise KinactError(f"{where}: {key} = {value!r}; choose one of {', '.join(options)}")

    choice("data.dataset", d.dataset, DATASETS)
    choice("data.modality", d.modality, MODALITIES)
    choice("data.descriptor", d.descriptor, tuple(DESCRIPTORS))
    choice("input.centre", i.centre, ("first_frame", "per_frame", "none"))
    choice("optim.optimizer", o.optimizer, OPTIMIZERS)
    choice("optim.scheduler", o.scheduler, SCHEDULERS)
    choice("optim.plateau_monitor", o.plateau_monitor, MONITORS)
    bad = [f for f in i.features if f not in FEATURES]
    if bad or not i.features:
        raise KinactError(f"{where}: input.features = {i.features}; choose from {', '.join(FEATURES)}")
    if cfg.depth_augment.angles and (not d.uses_depth or d.descriptor != "dmm_rot"):
        raise KinactError(f"{where}: augment.depth_angles needs data.descriptor = 'dmm_rot' (virtual cameras)")
    if len(d.descriptor_size) != 2 or min(d.descriptor_size) < 8:
        raise KinactError(f"{where}: data.descriptor_size must be [H, W] of at least 8 pixels")
    if not d.train_subjects or not d.test_subjects:
        raise KinactError(f"{where}: data.train_subjects and data.test_subjects must not be empty")
    if set(d.train_subjects) & set(d.test_subjects):
        raise KinactError(f"{where}: subjects {sorted(set(d.train_subjects) & set(d.test_subjects))} are in both "
                          "the training and the test subjects")
    if not set(d.val_subjects) <= set(d.train_subjects):
        raise KinactError(f"{where}: data.val_subjects must be carved out of data.train_subjects "
                          f"(not {sorted(set(d.val_subjects) - set(d.train_subjects))})")
    if not d.fit_subjects:
        raise KinactError(f"{where}: no training subjects left once val_subjects are taken out")
    if o.plateau_monitor == "val_loss" and o.scheduler == "plateau" and not d.val_subjects:
        raise KinactError(f"{where}: optim.plateau_monitor = 'val_loss' needs data.val_subjects")
    if i.frames < 4 or o.epochs < 1 or o.batch_size < 1 or o.lr <= 0 or len(o.betas) != 2:
        raise KinactError(f"{where}: need input.frames >= 4, optim.epochs >= 1, optim.batch_size >= 1, "
                          "optim.lr > 0 and two optim.betas")
    if not (o.class_balance is None or isinstance(o.class_balance, bool)) or not 0.0 <= o.body_lr_scale <= 10.0:
        raise KinactError(f"{where}: optim.class_balance must be true or false, optim.body_lr_scale in [0, 10]")
    if o.body_lr_scale != 1.0 and d.dataset != "kinrec":
        raise KinactError(f"{where}: optim.body_lr_scale is for fine-tuning on recordings (data.dataset = 'kinrec')")
    if not 0.0 <= o.label_smoothing < 1.0 or not 0.0 < o.plateau_factor < 1.0:
        raise KinactError(f"{where}: optim.label_smoothing must be in [0, 1) and optim.plateau_factor in (0, 1)")
    if not cfg.model.get("name"):
        raise KinactError(f"{where}: [model] needs a name (skeleton, depth, fusion_e2e or two_stream)")
    expects = {"skeleton": ("skeleton",), "depth": ("depth",), "fusion": ("fusion_e2e", "two_stream")}
    known = {n for names in expects.values() for n in names}
    if cfg.model["name"] in known and cfg.model["name"] not in expects[d.modality]:
        raise KinactError(f"{where}: model {cfg.model['name']!r} does not take {d.modality!r} input "
                          f"(use {' or '.join(expects[d.modality])})")
    if not cfg.seeds:
        raise KinactError(f"{where}: seeds must list at least one seed")
    if d.no_action:
        if d.modality != "skeleton":
            raise KinactError(f"{where}: data.no_action needs data.modality = 'skeleton' (no depth for still windows)")
        if not d.no_action_name.strip() or not 0.0 < d.no_action_ratio <= 10.0:
            raise KinactError(f"{where}: data.no_action_name must not be empty and data.no_action_ratio in (0, 10]")


def load_config(path: str | os.PathLike, overrides: dict | None = None) -> ExperimentConfig:
    """Read a TOML experiment config; `overrides` (nested or dotted keys) win over the file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise KinactError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise KinactError(f"{path}: not valid TOML ({exc})") from None
    if overrides:
        _merge(raw, overrides)
    return config_from_dict(raw, path)


def parse_override(text: str) -> dict:
    """'optim.lr=0.01' -> {'optim.lr': 0.01}; the value is read as TOML, falling back to a plain string."""
    if "=" not in text:
        raise KinactError(f"override {text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return {key.strip(): parsed}
