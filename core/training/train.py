"""Training one seed of one experiment config: resumable, reproducible, single process or DDP.

Resuming: after every epoch `seed<k>/state.pt` holds model, optimiser, schedule, history and RNG states, written
atomically, so killing the process loses at most the running epoch. It is loaded with `weights_only=True`
(nothing is unpickled beyond tensors and plain containers), which is why RNG states are stored as lists.

Reproducibility: python, numpy and torch are seeded, augmentation randomness comes from (seed, epoch, item)
(see data.py), and shuffling from the DistributedSampler's (seed + epoch) permutation, also in one process.
With DDP, rank r gets every world-th item of the same permutation, so one global batch holds the same samples
as in a single process with the same total batch size, and DDP's gradient averaging makes the step the same.
The exception is BatchNorm: CUDA runs convert it to SyncBatchNorm; on CPU (gloo) each process normalises its
own half batch, which is close but not identical.

The test split is evaluated every epoch for the learning curve only; nothing (no epoch, no learning rate) is
chosen on it. The reported accuracy is the final epoch's.

With `data.no_action`, the class list gains the no-action class (last) and the training set gains no-action
windows (no_action.py). Validation and test accuracy stay over the dataset's action clips only, so they remain
comparable with published numbers (a clip called "no action" counts as wrong); the no-action windows of those
splits, one per sequence, are scored separately as no-action recall.
"""
from __future__ import annotations

import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from kinact.core.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from kinact.core.errors import KinactError
from kinact.core.training.config import ExperimentConfig, OptimConfig, load_config
from kinact.core.training.data import ActionDataset, ItemRecipe, load_sequences, model_inputs
from kinact.core.training.evaluate import predict
from kinact.core.training.no_action import frame_rate, no_action_windows


# --------------------------------------------------------------------------------------------- schedule

class Schedule:
    """Learning rate per step: linear warmup, then cosine or constant, times a plateau factor.

    The plateau rule is torch's ReduceLROnPlateau (mode "min", relative threshold, no cooldown) re-implemented
    so that it composes with warmup and its state is three numbers.
    """

    def __init__(self, o: OptimConfig):
        self.o, self.factor, self.best, self.bad = o, 1.0, math.inf, 0

    def lr(self, epoch: int, step: int, steps: int) -> float:
        o = self.o
        t = epoch + step / max(steps, 1)
        base = o.lr * self.factor
        if o.warmup_epochs > 0 and t < o.warmup_epochs:
            return base * (epoch * steps + step + 1) / (o.warmup_epochs * max(steps, 1))
        if o.scheduler == "cosine":
            span = max(o.epochs - o.warmup_epochs, 1)
            p = min(max(t - o.warmup_epochs, 0.0) / span, 1.0)
            return o.min_lr + (base - o.min_lr) * 0.5 * (1 + math.cos(math.pi * p))
        return max(base, o.min_lr)

    def epoch_end(self, metric: float) -> None:
        if self.o.scheduler != "plateau" or not math.isfinite(metric):
            return
        if metric < self.best * (1 - self.o.plateau_threshold):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
            if self.bad > self.o.plateau_patience:
                self.factor *= self.o.plateau_factor
                self.bad = 0

    def state_dict(self) -> dict:
        return {"factor": self.factor, "best": self.best, "bad": self.bad}

    def load_state_dict(self, d: dict) -> None:
        self.factor, self.best, self.bad = float(d["factor"]), float(d["best"]), int(d["bad"])


def make_optimizer(params, o: OptimConfig) -> torch.optim.Optimizer:
    if o.optimizer == "adam":
        return torch.optim.Adam(params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)
    if o.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


# --------------------------------------------------------------------------------------------- seeds, RNG

def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def seeded_model(cfg: ExperimentConfig, num_classes: int, seed: int) -> tuple[dict, torch.nn.Module]:
    """(spec, network) of `cfg` for `num_classes`, its weights drawn from `seed`; a bad [model] table is one
    line naming the config. Shared by dataset training and fine-tuning on recordings so both start alike."""
    from kinact.models.registry import build_model

    set_seed(seed)
    spec = cfg.model_spec(num_classes)
    try:
        return spec, build_model(spec)
    except (ValueError, TypeError) as exc:
        raise KinactError(f"{cfg.path}: [model] {exc}") from None


def init_path(cfg: ExperimentConfig) -> str:
    """optim.init_from as a path: absolute, or relative to the config file's folder (so a config in configs/
    can name ../models/pretrained/... from any working directory), else to the working directory."""
    p = os.path.expanduser(cfg.optim.init_from)
    if not os.path.isabs(p) and cfg.path:
        beside = os.path.join(os.path.dirname(os.path.abspath(cfg.path)), p)
        if os.path.exists(beside):
            return beside
    return p


def init_weights(cfg: ExperimentConfig, net, spec: dict, classes: list[str]) -> str:
    """Load `optim.init_from` into `net`: every tensor but the classifier head, which keeps its fresh rows
    except for classes both know. Why: a small dataset (MSR Action3D: 284 training clips) may learn more from a
    body already trained on another dataset's motion than from random weights (for MSR: +3.3 points on
    validation, within seed noise on the test subjects; docs/results.md). The input recipe must match,
    or the loaded filters would read other channels; the frame count may differ (the STCM convolves over
    time). Returns a line for the log."""
    from kinact.core.training.finetune import head_keys, transfer_weights

    path = init_path(cfg)
    if not os.path.isfile(path):
        raise KinactError(f"{cfg.path}: optim.init_from {cfg.optim.init_from!r}: no such checkpoint")
    state, meta = load_checkpoint(path)
    if bool(meta.depth) != cfg.data.uses_depth:
        raise KinactError(f"{path}: optim.init_from must take the same inputs as {cfg.path} "
                          f"({'depth' if meta.depth else 'skeleton only'} against {cfg.data.modality})")
    mine, theirs = list(cfg.input.features), list(meta.features)
    if cfg.data.modality != "depth" and mine != theirs:
        raise KinactError(f"{path}: optim.init_from has input features {theirs}, {cfg.path} uses {mine}")
    shared = transfer_weights(net, head_keys(net, spec), state, meta.classes, classes, where=path)
    return (f"weights from {path} (head rebuilt for {len(classes)} classes, {len(shared)} known: "
            f"{', '.join(shared) or 'none'})")


def rng_state() -> dict:
    """Every global RNG state as tensors and lists, so `torch.load(weights_only=True)` accepts it."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {"torch": torch.get_rng_state(), "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
             "python": [version, list(internal), gauss_next]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------------------------- distributed

class Dist:
    """World size, rank and helpers; a plain single process unless launched by torchrun (WORLD_SIZE > 1)."""

    def __init__(self, device: torch.device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank, self.device = 0, device
        if self.world > 1:
            import torch.distributed as dist

            if device.type == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            self.rank = dist.get_rank()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return t.tolist()


# --------------------------------------------------------------------------------------------- loop

def _evaluate(model, dataset, modality, dist: Dist, batch_size: int) -> tuple[float, float, float | None]:
    """(mean loss, accuracy) over the action clips and the recall on no-action windows (None without them);
    ranks split the items and sum their counts."""
    idx = np.arange(dist.rank, len(dataset), dist.world)
    logits = predict(model, dataset, modality, dist.device, batch_size, idx.tolist())
    loss = correct = n = na_hit = na_n = 0.0
    if len(idx):
        labels = torch.as_tensor(dataset.labels[idx])
        act = torch.as_tensor(idx < dataset.num_actions)
        hit = logits.argmax(1) == labels
        loss = float(F.cross_entropy(logits[act], labels[act], reduction="sum")) if act.any() else 0.0
        correct, n = float(hit[act].sum()), float(act.sum())
        na_hit, na_n = float(hit[~act].sum()), float((~act).sum())
    loss, correct, n, na_hit, na_n = dist.sum([loss, correct, n, na_hit, na_n])
    return loss / max(n, 1), correct / max(n, 1), (na_hit / na_n if na_n else None)


def _bar(epoch: int, epochs: int, step: int, steps: int) -> None:
    filled = int(20 * step / max(steps, 1))
    print(f"\r  epoch {epoch}/{epochs} [{'#' * filled}{'.' * (20 - filled)}] {step}/{steps}", end="",
          file=sys.stderr, flush=True)


def _fmt(h: dict, epochs: int) -> str:
    parts = [f"epoch {h['epoch']:>3}/{epochs}", f"lr {h['lr']:.2e}", f"train {h['train_loss']:.3f}/{h['train_acc']:.3f}"]
    if h.get("val_acc") is not None:
        parts.append(f"val {h['val_loss']:.3f}/{h['val_acc']:.3f}")
    parts.append(f"test {h['test_loss']:.3f}/{h['test_acc']:.3f}")
    if h.get("test_na_recall") is not None:
        parts.append(f"no-action recall {h['test_na_recall']:.3f}")
    parts.append(f"{h['seconds']:.1f}s")
    return "  ".join(parts)


def _atomic_torch_save(obj, path: str) -> None:
    tmp = path + ".partial"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _atomic_json(obj, path: str) -> None:
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def fit_batch(logits, labels, loss_fn, optimizer, params, grad_clip: float) -> tuple[float, float]:
    """One optimiser step on a batch's logits; (summed loss, correct count) for the epoch's running totals.

    Dataset training and fine-tuning on recordings share it, so both clip and count the same way.
    """
    loss = loss_fn(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return float(loss.detach()) * len(labels), float((logits.argmax(1) == labels).sum())


def train(config, data_root, out_dir, seed: int, device=None, progress: bool = True, resume: bool = True) -> dict:
    """Train one seed of `config` (an ExperimentConfig or a TOML path); files go to `out_dir/seed<seed>/`."""
    cfg: ExperimentConfig = config if isinstance(config, ExperimentConfig) else load_config(config)
    if cfg.data.dataset == "kinrec":  # your own recordings: segments, holdout and fine-tuning (finetune.py)
        from kinact.core.training.finetune import train_kinrec

        return train_kinrec(cfg, data_root, out_dir, seed, device=device, progress=progress)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dist = Dist(device)
    device = dist.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if (progress and dist.main) else (lambda msg: None)
    run_dir = os.path.join(os.fspath(out_dir), f"seed{seed}")
    state_path = os.path.join(run_dir, "state.pt")
    d, o = cfg.data, cfg.optim

    # Data: rank 0 first, so a missing descriptor cache is filled once rather than by every process.
    if not dist.main:
        dist.barrier()
    angles = cfg.depth_augment.angles if d.uses_depth else []
    seqs = load_sequences(d.dataset, data_root, d.fit_subjects + d.val_subjects + d.test_subjects,
                          cfg.input.norm(), d.training_depth_recipe(angles), progress=progress and dist.main)
    if dist.main:
        dist.barrier()
    parts = {"train": seqs.subset(d.fit_subjects), "val": seqs.subset(d.val_subjects) if d.val_subjects else None,
             "test": seqs.subset(d.test_subjects)}
    for name, part in parts.items():
        if part is not None and not len(part):
            raise KinactError(f"{cfg.path}: no samples for the {name} subjects in {data_root}")
    # The live window is the mean training clip; no-action and partial windows are cut to that length.
    window_seconds = round(float(np.mean(parts["train"].durations)), 3)
    recipe = ItemRecipe(modality=d.modality, features=list(cfg.input.features), frames=cfg.input.frames,
                        augment=cfg.augment, depth_shift=cfg.depth_augment.shift,
                        depth_scale=cfg.depth_augment.scale, norm=cfg.input.norm(), depth_views=1 + len(angles),
                        window_frames=max(4, int(round(window_seconds * frame_rate(parts["train"])))))
    classes = list(seqs.classes) + ([d.no_action_name] if d.no_action else [])
    if d.no_action and d.no_action_name in seqs.classes:
        raise KinactError(f"{cfg.path}: data.no_action_name {d.no_action_name!r} is already a class of {d.dataset}")

    def windows(part, ratio):
        if not d.no_action:
            return None
        return no_action_windows(part, int(round(ratio * len(part))), window_seconds, cfg.input.norm(),
                                 len(seqs.classes))

    train_ds = ActionDataset(parts["train"], recipe, train=True, seed=seed,
                             no_action=windows(parts["train"], d.no_action_ratio))
    eval_ds = {k: ActionDataset(v, recipe, no_action=windows(v, 1.0))
               for k, v in parts.items() if k != "train" and v is not None}

    # Model and optimiser, seeded so every rank (and every rerun) starts from the same weights.
    from kinact.models.registry import count_parameters

    spec, net = seeded_model(cfg, len(classes), seed)
    if o.init_from:
        say(f"[seed {seed}] " + init_weights(cfg, net, spec, classes))
    if dist.world > 1 and device.type == "cuda":
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    net.to(device)
    model = net
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(net.parameters(), o)
    schedule = Schedule(o)
    history: list[dict] = []
    start = 0
    if resume and os.path.isfile(state_path):
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        if st.get("fingerprint") != cfg.fingerprint():
            raise KinactError(f"{run_dir}: holds a run of a different config; use another --out or --no-resume")
        net.load_state_dict(st["model"])
        optimizer.load_state_dict(st["optimizer"])
        schedule.load_state_dict(st["schedule"])
        history, start = list(st["history"]), int(st["epoch"])
        set_rng_state(st["rng"])
        say(f"[seed {seed}] resuming after epoch {start} from {state_path}" if start < o.epochs else
            f"[seed {seed}] already trained for {start} epochs (>= {o.epochs}); rewriting the final files only")
    say(f"[seed {seed}] {cfg.name}: {len(parts['train'])} train / "
        f"{len(parts['val']) if parts['val'] else 0} val / {len(parts['test'])} test sequences, "
        + (f"+{len(train_ds) - len(parts['train'])} no-action windows, " if d.no_action else "") +
        f"{count_parameters(net):,} parameters, {device}, world {dist.world}")

    from torch.utils.data import DataLoader, DistributedSampler

    per_rank = max(1, o.batch_size // dist.world)
    if per_rank * dist.world != o.batch_size:
        say(f"warning: batch {o.batch_size} is not divisible by {dist.world} processes; using {per_rank} each")
    sampler = DistributedSampler(train_ds, num_replicas=dist.world, rank=dist.rank, shuffle=True, seed=seed)
    loader = DataLoader(train_ds, batch_size=per_rank, sampler=sampler, num_workers=0,
                        drop_last=sampler.num_samples % per_rank == 1,  # a lone item breaks BatchNorm
                        pin_memory=device.type == "cuda")
    steps = len(loader)
    weight = None
    if o.balanced(d.dataset):
        from kinact.core.training.finetune import class_weights

        weight = torch.as_tensor(class_weights(train_ds.labels, len(classes)), dtype=torch.float32, device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=o.label_smoothing)
    bar = progress and dist.main and sys.stderr.isatty()
    if dist.main:
        os.makedirs(run_dir, exist_ok=True)

    for epoch in range(start, o.epochs):
        t0 = time.perf_counter()
        model.train()
        train_ds.set_epoch(epoch)
        sampler.set_epoch(epoch)
        lr0 = schedule.lr(epoch, 0, steps)
        loss_sum = correct = n = 0.0
        for step, batch in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = schedule.lr(epoch, step, steps)
            labels = batch["label"].to(device)
            batch_loss, batch_correct = fit_batch(model(*model_inputs(batch, d.modality, device)), labels,
                                                  loss_fn, optimizer, net.parameters(), o.grad_clip)
            loss_sum += batch_loss
            correct += batch_correct
            n += len(labels)
            if bar:
                _bar(epoch + 1, o.epochs, step + 1, steps)
        if bar:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
        loss_sum, correct, n = dist.sum([loss_sum, correct, n])
        h = {"epoch": epoch + 1, "lr": lr0, "train_loss": loss_sum / max(n, 1), "train_acc": correct / max(n, 1),
             "val_loss": None, "val_acc": None}
        if "val" in eval_ds:
            h["val_loss"], h["val_acc"], na = _evaluate(net, eval_ds["val"], d.modality, dist, o.batch_size)
            if na is not None:
                h["val_na_recall"] = na
        h["test_loss"], h["test_acc"], na = _evaluate(net, eval_ds["test"], d.modality, dist, o.batch_size)
        if na is not None:
            h["test_na_recall"] = na
        schedule.epoch_end(h["train_loss"] if o.plateau_monitor == "train_loss" else h["val_loss"])
        h["seconds"] = time.perf_counter() - t0
        history.append(h)
        say(f"[seed {seed}] {_fmt(h, o.epochs)}")
        if dist.main:
            _atomic_torch_save({"epoch": epoch + 1, "model": net.state_dict(), "optimizer": optimizer.state_dict(),
                                "schedule": schedule.state_dict(), "history": history, "rng": rng_state(),
                                "seed": seed, "fingerprint": cfg.fingerprint()}, state_path)
        dist.barrier()

    last = history[-1] if history else {}
    result = {"seed": seed, "epochs": len(history), "test_accuracy": last.get("test_acc"),
              "val_accuracy": last.get("val_acc"), "train_accuracy": last.get("train_acc"),
              "train_seconds": float(sum(h["seconds"] for h in history)), "resumed_from": start,
              "num_parameters": count_parameters(net), "run_dir": run_dir,
              "checkpoint": os.path.join(run_dir, "model.safetensors")}
    if d.no_action:
        result["no_action_recall"] = last.get("test_na_recall")
    if dist.main:
        trained_on = {"dataset": d.dataset, "split": d.split, "modality": d.modality,
                      "train_subjects": d.fit_subjects, "val_subjects": list(d.val_subjects),
                      "test_subjects": list(d.test_subjects), "seed": seed, "epochs": len(history),
                      "test_accuracy": result["test_accuracy"], "val_accuracy": result["val_accuracy"],
                      "config": cfg.name, "config_fingerprint": cfg.fingerprint()}
        if d.no_action:
            trained_on["no_action_recall"] = result["no_action_recall"]
        meta = CheckpointMeta(
            model=spec, classes=classes, layout="kinect_v1", frames=cfg.input.frames,
            window_seconds=window_seconds, norm=cfg.input.norm().to_dict(),
            features=list(cfg.input.features) if d.modality != "depth" else [], depth=d.depth_recipe(),
            no_action=d.no_action_name if d.no_action else None, trained_on=trained_on, live=dict(cfg.live))
        save_checkpoint(result["checkpoint"], net.state_dict(), meta)
        _atomic_json({"seed": seed, "config": cfg.to_dict(), "history": history}, os.path.join(run_dir, "history.json"))
        say(f"[seed {seed}] final test accuracy {result['test_accuracy']:.4f} -> {result['checkpoint']}")
    dist.barrier()
    return result
