"""Training on your own recordings: `kinact train --data DIR_OF_KINREC [--from CHECKPOINT] --out RUNDIR`.

With `--from`, the checkpoint is fine-tuned: same architecture and input recipe (features, frames, norm:
read from its meta, so no config is needed), every weight loaded except the classifier head, which is rebuilt
for the recordings' classes with the rows of classes the checkpoint already knows copied over. The default
fine-tuning recipe (`FINETUNE_OPTIM`) trains the new head and the body at lr 1e-3 (`optim.body_lr_scale`
1.0; smaller values slow the body down, 0 freezes it, BatchNorm statistics included) for 30 epochs, with the
checkpoint's own augmentation when its run recorded it, else the ours recipe. Without `--from` the config
(default: the ours recipe, `OURS`, as configs/utd_skeleton_ours.toml) trains from scratch.

Class order: the recordings' action names sorted, except that names the `--from` checkpoint knows come
first, in its order (their head rows are copied); the no-action class, when on, is last as everywhere.
Imbalance: with `optim.class_balance` (default on here) the loss weighs class c by n / (K·n_c); a weighted
loss rather than a resampler, so every epoch still sees every segment once per pass and runs stay
deterministic. Small sets are repeated within an epoch (each copy with its own augmentation) so that an
epoch is at least `MIN_BATCHES` batches: "30 epochs" then means enough steps even for 2 shots per class.
The live window (`window_seconds`) is the mean training segment's duration in seconds, like train.py's.

Single process: the sets are small and runs short, so there is no DDP and no resume (each run starts over).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time

import numpy as np
import torch

from kinact.core.checkpoint import CheckpointMeta, load_checkpoint, read_meta, save_checkpoint
from kinact.core.errors import KinactError
from kinact.core.training.config import ExperimentConfig, _merge, config_from_dict, load_config
from kinact.core.training.data import ActionDataset, ItemRecipe
from kinact.core.training.kinrec_data import KinrecData, KinrecOptions, load_recordings, prepare

#: configs/utd_skeleton_ours.toml without its [data] table (tests check the two agree).
OURS = {
    "input": {"features": ["joint", "bone", "velocity"], "frames": 64, "centre": "first_frame", "scale": True,
              "face_camera": True},
    "augment": {"rotate_deg": 30.0, "tilt_deg": 10.0, "scale": 0.15, "crop": 0.8, "speed": 0.2, "noise": 0.01},
    "model": {"name": "skeleton", "tarm": "per_axis", "memory": "bigru", "stcm": "temporal",
              "channels": [64, 128, 256], "blocks": [2, 2, 2], "strides": [1, 2, 2], "dropout": 0.3},
    "optim": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 1e-2, "scheduler": "cosine", "warmup_epochs": 5,
              "epochs": 80, "batch_size": 32, "label_smoothing": 0.1, "grad_clip": 5.0},
}
# body_lr_scale: 1.0 since 2026-11-25, chosen on the odd MSR Action3D subjects only (shots from 1, 3, 5, tested on
# 7 and 9; k = 3, 3 draws): 86.7% against 83.8% with 0.1, better or equal in every draw (docs/few_shot.md).
FINETUNE_OPTIM = {"optimizer": "adamw", "lr": 1e-3, "body_lr_scale": 1.0, "weight_decay": 1e-2,
                  "scheduler": "cosine", "warmup_epochs": 2, "epochs": 30, "batch_size": 32,
                  "label_smoothing": 0.1, "grad_clip": 5.0}
MIN_BATCHES = 8


# --------------------------------------------------------------------------------------------- config

def recorded_augment(path, meta: CheckpointMeta) -> dict | None:
    """The augmentation the checkpoint was trained with: from its meta, or from the history.json its run wrote
    beside it (trusted only when that run's config fingerprint is the checkpoint's)."""
    aug = meta.trained_on.get("augment")
    if isinstance(aug, dict):
        return dict(aug)
    try:
        with open(os.path.join(os.path.dirname(os.fspath(path)), "history.json")) as f:
            raw = json.load(f)["config"]
        if config_from_dict(raw).fingerprint() == meta.trained_on.get("config_fingerprint"):
            return dict(raw["augment"])
    except Exception:  # absent, unreadable, another run's: fall back to the ours recipe
        pass
    return None


def build_config(config_path=None, init_from=None, overrides: dict | None = None) -> ExperimentConfig:
    """The experiment config of a run on recordings (data.dataset = "kinrec").

    CONFIG given: its settings. `--from` without CONFIG: the fine-tuning recipe. Neither: the ours recipe from
    scratch. With `--from`, [model] and [input] always come from the checkpoint (its weights need them), and
    the no-action class is on when the checkpoint has one (unless CONFIG says otherwise).
    """
    overrides = dict(overrides or {})
    meta = read_meta(init_from) if init_from else None
    if config_path:
        raw, where = load_config(config_path).to_dict(), os.fspath(config_path)
    elif meta is not None:
        stem = meta.trained_on.get("config") or os.path.splitext(os.path.basename(os.fspath(init_from)))[0]
        raw = {"name": f"finetune_{stem}", "seeds": [0], "optim": dict(FINETUNE_OPTIM),
               "augment": recorded_augment(init_from, meta) or dict(OURS["augment"]),
               "data": {"no_action": bool(meta.no_action), "no_action_name": meta.no_action or "no action"}}
        where = "<fine-tuning recipe>"
    else:
        raw = {"name": "kinrec_ours", "seeds": [0], **{k: dict(v) for k, v in OURS.items()}}
        where = "<ours recipe>"
    raw.setdefault("data", {}).update(dataset="kinrec", modality="skeleton")
    if meta is not None:
        fixed = [k for k in overrides if k.split(".")[0] in ("model", "input")]
        if fixed:
            raise KinactError(f"--from {init_from}: the model and input recipe come from the checkpoint; "
                              f"cannot override {', '.join(fixed)}")
        raw["model"] = {k: v for k, v in meta.model.items() if k != "num_classes"}
        raw["input"] = {"features": list(meta.features), "frames": int(meta.frames),
                        **{k: meta.norm[k] for k in ("centre", "scale", "face_camera") if k in meta.norm}}
    _merge(raw, overrides)
    return config_from_dict(raw, where)


def class_weights(labels, num_classes: int) -> np.ndarray:
    """Loss weight n / (K·n_c) of every class present (K: how many are present), 0 for absent ones:
    each class then weighs as much in the loss as if the classes were balanced."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes, np.float32)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


# --------------------------------------------------------------------------------------------- weights

def head_keys(net, spec: dict) -> dict[str, int]:
    """{state key: class axis} of the tensors whose shape depends on the class count (the classifier head),
    found by building the same spec with one class more, so no layer name is hard-coded."""
    from kinact.models.registry import build_model

    other = build_model({**spec, "num_classes": int(spec["num_classes"]) + 1}).state_dict()
    out = {}
    for key, t in net.state_dict().items():
        if key in other and t.shape != other[key].shape:
            out[key] = next(i for i, (a, b) in enumerate(zip(t.shape, other[key].shape)) if a != b)
    return out


def transfer_weights(net, heads: dict[str, int], state: dict, src_classes, classes, rename=None, where="") -> list[str]:
    """Load every non-head tensor of `state` into `net` (all must fit) and the head rows of the classes both
    lists share; the other rows keep their fresh initialisation. Returns the shared class names."""
    rename = rename or {}
    src = {rename.get(c, c): j for j, c in enumerate(src_classes)}
    with torch.no_grad():
        for key, t in net.state_dict().items():
            s = state.get(key)
            if key in heads:
                ax = heads[key]
                if s is None or s.dim() != t.dim() or s.shape[ax] != len(src_classes):
                    raise KinactError(f"--from {where}: its head {key} does not match its {len(src_classes)} classes")
                for i, c in enumerate(classes):
                    if c in src:
                        t.select(ax, i).copy_(s.select(ax, src[c]))
            elif s is None or s.shape != t.shape:
                raise KinactError(f"--from {where}: weight {key} does not fit the model its meta describes")
            else:
                t.copy_(s)
    return [c for c in classes if c in src]


class _Repeated(torch.utils.data.Dataset):
    """Copies of one training set, each with its own augmentation seed: an epoch of at least MIN_BATCHES."""

    def __init__(self, copies: list[ActionDataset]):
        self.copies, self.n = copies, len(copies[0])

    def set_epoch(self, epoch: int) -> None:
        for c in self.copies:
            c.set_epoch(epoch)

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([c.labels for c in self.copies])

    def __len__(self) -> int:
        return self.n * len(self.copies)

    def __getitem__(self, i: int) -> dict:
        return self.copies[i // self.n][i % self.n]


# --------------------------------------------------------------------------------------------- training

def train_kinrec(cfg: ExperimentConfig, data_root, out_dir, seed: int, opts: KinrecOptions | None = None,
                 device=None, progress: bool = True, data: KinrecData | None = None,
                 eval_each_epoch: bool = True) -> dict:
    """Train (or with `opts.init_from` fine-tune) one seed on a folder of recordings; files go to
    `out_dir/seed<seed>/` (model.safetensors, history.json) as train.train's do. `eval_each_epoch=False` scores
    the test part after the last epoch only: nothing reads the curve then (benchmarks), so it would only cost time."""
    from torch.utils.data import DataLoader, RandomSampler

    from kinact.core.training.evaluate import no_action_metrics, predict, summarise
    from kinact.core.training.train import (Dist, Schedule, _atomic_json, _evaluate, fit_batch, make_optimizer,
                                             seeded_model)
    from kinact.models.registry import count_parameters

    opts = opts or KinrecOptions()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise KinactError("training on recordings runs in one process; start it without torchrun")
    if cfg.data.modality != "skeleton":
        raise KinactError("recordings train skeleton models only (data.modality = 'skeleton')")
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    d, o, norm = cfg.data, cfg.optim, cfg.input.norm()
    init_state = init_meta = None
    if opts.init_from:
        init_state, init_meta = load_checkpoint(opts.init_from)
        if init_meta.depth:
            raise KinactError(f"--from {opts.init_from}: a depth model; recordings fine-tune skeleton models")
        mine = (list(cfg.input.features), cfg.input.frames, norm.to_dict())
        theirs = (list(init_meta.features), int(init_meta.frames), {**norm.to_dict(), **init_meta.norm})
        if mine != theirs:
            raise KinactError(f"--from {opts.init_from}: the config's input recipe {mine} differs from the "
                              f"checkpoint's {theirs}")
    data = data or load_recordings(data_root, norm, say)
    prep = prepare(data, cfg, init_meta.classes if init_meta else None, opts)
    for note in prep.notes:
        say(note)
    classes = prep.classes
    recipe = ItemRecipe(modality="skeleton", features=list(cfg.input.features), frames=cfg.input.frames,
                        augment=cfg.augment)
    n_items = len(prep.train) + (len(prep.train_windows) if prep.train_windows is not None else 0)
    copies = max(1, math.ceil(MIN_BATCHES * o.batch_size / n_items)) if n_items < MIN_BATCHES * o.batch_size else 1
    train_ds = _Repeated([ActionDataset(prep.train, recipe, train=True, seed=seed + 7919 * k,
                                        no_action=prep.train_windows) for k in range(copies)])
    test_ds = ActionDataset(prep.test, recipe, no_action=prep.test_windows) if prep.test is not None else None

    spec, net = seeded_model(cfg, len(classes), seed)
    heads = head_keys(net, spec)
    shared: list[str] = []
    if init_meta is not None:
        rename = {init_meta.no_action: d.no_action_name} if (init_meta.no_action and d.no_action) else {}
        shared = transfer_weights(net, heads, init_state, init_meta.classes, classes, rename, opts.init_from)
        say(f"[seed {seed}] from {opts.init_from}: every layer loaded, head rebuilt for {len(classes)} classes "
            f"({len(shared)} known: {', '.join(shared) or 'none'})")
    net.to(device)
    named = list(net.named_parameters())
    head = [p for n, p in named if n in heads]
    body = [p for n, p in named if n not in heads]
    frozen = o.body_lr_scale == 0
    for p in body:
        p.requires_grad_(not frozen)
    groups = [{"params": head, "lr_scale": 1.0}] + ([] if frozen else [{"params": body, "lr_scale": o.body_lr_scale}])
    optimizer = make_optimizer(groups, o)
    schedule = Schedule(o)
    balance = o.balanced(d.dataset)
    weights = class_weights(train_ds.copies[0].labels, len(classes)) if balance else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=None if weights is None else torch.as_tensor(weights).to(device),
                                        label_smoothing=o.label_smoothing)
    counts = ", ".join(f"{c} {prep.counts['train'].get(c, 0)}/{prep.counts['test'].get(c, 0)}" for c in classes)
    say(f"[seed {seed}] {cfg.name}: {len(data.recordings)} recordings, {prep.holdout.describe()}; "
        f"segments per class (train/test): {counts}; class balance {'on (loss weights)' if balance else 'off'}; "
        f"window {prep.window_seconds:.2f} s; {count_parameters(net):,} parameters, {device}")

    per_epoch = torch.Generator()
    loader_kw = dict(batch_size=o.batch_size, num_workers=0, drop_last=len(train_ds) % o.batch_size == 1,
                     pin_memory=device.type == "cuda")
    steps = max(1, len(train_ds) // o.batch_size if loader_kw["drop_last"] else math.ceil(len(train_ds) / o.batch_size))
    dist, history = Dist(device), []
    for epoch in range(o.epochs):
        t0 = time.perf_counter()
        net.train()
        if frozen:  # a frozen body keeps its BatchNorm statistics too
            for m in net.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.eval()
        train_ds.set_epoch(epoch)
        per_epoch.manual_seed(seed * 100_003 + epoch)
        loader = DataLoader(train_ds, sampler=RandomSampler(train_ds, generator=per_epoch), **loader_kw)
        lr0, loss_sum, correct, n = schedule.lr(epoch, 0, steps), 0.0, 0.0, 0
        for step, batch in enumerate(loader):
            for g in optimizer.param_groups:
                g["lr"] = schedule.lr(epoch, step, steps) * g["lr_scale"]
            labels = batch["label"].to(device)
            batch_loss, batch_correct = fit_batch(net(batch["skeleton"].to(device)), labels, loss_fn, optimizer,
                                                  net.parameters(), o.grad_clip)
            loss_sum += batch_loss
            correct += batch_correct
            n += len(labels)
        h = {"epoch": epoch + 1, "lr": lr0, "train_loss": loss_sum / max(n, 1), "train_acc": correct / max(n, 1),
             "test_loss": None, "test_acc": None}
        if test_ds is not None and (eval_each_epoch or epoch == o.epochs - 1):
            h["test_loss"], h["test_acc"], na = _evaluate(net, test_ds, "skeleton", dist, o.batch_size)
            if na is not None:
                h["test_na_recall"] = na
        schedule.epoch_end(h["train_loss"])
        h["seconds"] = time.perf_counter() - t0
        history.append(h)
        test = f"  test {h['test_loss']:.3f}/{h['test_acc']:.3f}" if h["test_acc"] is not None else ""
        say(f"[seed {seed}] epoch {h['epoch']:>3}/{o.epochs}  lr {lr0:.2e}  train {h['train_loss']:.3f}/"
            f"{h['train_acc']:.3f}{test}  {h['seconds']:.1f}s")

    run_dir = os.path.join(os.fspath(out_dir), f"seed{seed}")
    os.makedirs(run_dir, exist_ok=True)
    last = history[-1]
    result = {"seed": seed, "epochs": len(history), "test_accuracy": last["test_acc"], "val_accuracy": None,
              "train_accuracy": last["train_acc"], "train_seconds": float(sum(x["seconds"] for x in history)),
              "resumed_from": 0, "num_parameters": count_parameters(net), "run_dir": run_dir,
              "checkpoint": os.path.join(run_dir, "model.safetensors"), "classes": classes,
              "class_balance": balance, "class_weights": None if weights is None else weights.tolist(),
              "notes": prep.notes, "data": prep.report}
    if test_ds is not None:
        probs = torch.softmax(predict(net, test_ds, "skeleton", device, o.batch_size), dim=1)
        ev = summarise(probs, test_ds.labels, classes)
        result.update(per_class=ev["per_class"], confusion=ev["confusion"])
        if d.no_action:
            result["no_action_recall"] = no_action_metrics(probs, test_ds.labels, len(classes) - 1)["no_action_recall"]
    trained_on = {**prep.report, "seed": seed, "epochs": len(history), "test_accuracy": result["test_accuracy"],
                  "class_balance": balance, "config": cfg.name, "config_fingerprint": cfg.fingerprint(),
                  "augment": cfg.augment.to_dict()}
    if init_meta is not None:
        trained_on["init_from"] = {"checkpoint": os.fspath(opts.init_from),
                                   "dataset": init_meta.trained_on.get("dataset"), "classes_kept": shared,
                                   "body_lr_scale": o.body_lr_scale}
    if d.no_action:
        trained_on["no_action_recall"] = result.get("no_action_recall")
    meta = CheckpointMeta(model=spec, classes=classes, layout="kinect_v1", frames=cfg.input.frames,
                          window_seconds=prep.window_seconds, norm=norm.to_dict(), features=list(cfg.input.features),
                          depth={}, no_action=d.no_action_name if d.no_action else None, trained_on=trained_on,
                          live=dict(cfg.live))
    save_checkpoint(result["checkpoint"], net.state_dict(), meta)
    _atomic_json({"seed": seed, "config": cfg.to_dict(), "history": history, "kinrec": dataclasses.asdict(opts),
                  "data": prep.report}, os.path.join(run_dir, "history.json"))
    if result["test_accuracy"] is not None:
        say(f"[seed {seed}] final test accuracy {result['test_accuracy']:.4f} -> {result['checkpoint']}")
    else:
        say(f"[seed {seed}] trained (no test part) -> {result['checkpoint']}")
    return result


# --------------------------------------------------------------------------------------------- command

def run_cli(args, overrides: dict) -> int:
    """`kinact train` on a folder of recordings: every seed, then summary.json and a short report on stderr."""
    from kinact.core.training.evaluate import knn_baseline

    if args.device == "cuda" and not torch.cuda.is_available():
        raise KinactError("--device cuda: no CUDA device is available")
    cfg = build_config(args.config, args.init_from, overrides)
    opts = KinrecOptions(args.init_from, args.holdout, args.holdout_value, args.shots, args.draw)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.config and load_config(args.config).data.dataset != "kinrec":
        say(f"{args.data} holds recordings: training on them (data.dataset = 'kinrec')")
    data = load_recordings(args.data, cfg.input.norm(), say)
    os.makedirs(args.out, exist_ok=True)
    results = [train_kinrec(cfg, args.data, args.out, seed, opts, args.device, not args.quiet, data)
               for seed in (args.seed or cfg.seeds)]
    prep = prepare(data, cfg, read_meta(args.init_from).classes if args.init_from else None, opts)
    knn = knn_baseline(prep.train, prep.test, frames=cfg.input.frames) if prep.test is not None else None
    accs = np.array([r["test_accuracy"] for r in results if r["test_accuracy"] is not None], float)
    first = results[0]
    summary = {
        "config": cfg.name, "config_path": os.path.abspath(args.config) if args.config else None,
        "dataset": "kinrec", "data": os.path.abspath(args.data), "init_from": args.init_from,
        "classes": first["classes"], **prep.report, "class_balance": first["class_balance"],
        "class_weights": first["class_weights"], "notes": prep.notes, "epochs": cfg.optim.epochs,
        "seeds": {str(r["seed"]): {k: r.get(k) for k in ("test_accuracy", "train_accuracy", "train_seconds",
                                                         "checkpoint", "per_class", "no_action_recall")}
                  for r in results},
        "test_accuracy_mean": float(accs.mean()) if len(accs) else None,
        "test_accuracy_std": float(accs.std(ddof=1)) if len(accs) > 1 else (0.0 if len(accs) else None),
        "knn_baseline": knn, "num_parameters": first["num_parameters"], "overrides": overrides,
    }
    path = os.path.join(args.out, "summary.json")
    with open(path + ".partial", "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(path + ".partial", path)
    counts = ", ".join(f"{c} {prep.counts['train'].get(c, 0)}/{prep.counts['test'].get(c, 0)}" for c in prep.classes)
    lines = [f"{cfg.name}: {len(data.recordings)} recordings, {prep.holdout.describe()}; segments per class "
             f"(train/test): {counts}"]
    if first["class_balance"]:
        lines.append("class balance: on, loss weights " + ", ".join(
            f"{c} {w:.2f}" for c, w in zip(prep.classes, first["class_weights"])))
    else:
        lines.append("class balance: off (optim.class_balance = false)")
    lines += prep.notes
    if len(accs):
        spread = f" ± {summary['test_accuracy_std']:.4f}" if len(accs) > 1 else ""
        lines.append(f"test accuracy {summary['test_accuracy_mean']:.4f}{spread} over {len(accs)} seed(s) "
                     f"(kNN baseline {knn:.4f})")
    lines.append(f"checkpoint: {first['checkpoint']}; summary: {path}")
    print("\n".join(lines), file=sys.stderr)
    return 0
