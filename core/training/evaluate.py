"""Evaluating checkpoints: accuracy and confusion on a split, a no-training kNN baseline, and late score fusion.

A checkpoint carries everything needed to rebuild its input (norm recipe, features, frames, depth recipe,
dataset and subjects in `trained_on`), so evaluation reads nothing from the training config: what is measured
is exactly what a user of the file would get. The kNN baseline answers "is the network learning anything a
lookup would not?"; a network that does not clearly beat it on the same normalised joints is not worth its cost.

A checkpoint with a no-action class (`meta.no_action`, the last class) is also scored on no-action windows cut
from the split's own sequences (no_action.py, one per sequence, the same for every checkpoint). `accuracy`
stays over the action clips only, so it is comparable with published numbers and with models that have no
such class; the no-action numbers are reported beside it.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from kinact.core.checkpoint import build_model, load_checkpoint, read_meta
from kinact.core.errors import KinactError
from kinact.core.skeleton_norm import NormRecipe
from kinact.core.training.data import (
    ActionDataset, ItemRecipe, SequenceSet, class_names, flat_joints, load_sequences, model_inputs,
)

SPLITS = ("test", "train", "val", "all")


def modality_of(model) -> str:
    """'skeleton', 'depth' or 'fusion' from the model's declared inputs."""
    names = set(getattr(model, "input_spec", {}) or {})
    if names == {"skeleton"}:
        return "skeleton"
    if names == {"depth"}:
        return "depth"
    if names == {"skeleton", "depth"}:
        return "fusion"
    raise KinactError(f"model declares inputs {sorted(names)}; expected skeleton and/or depth")


@torch.no_grad()
def predict(model, dataset, modality: str, device=None, batch_size: int = 64, indices=None) -> torch.Tensor:
    """Logits (n, K) on CPU for the items `indices` (default all), in that order; no augmentation."""
    from torch.utils.data import DataLoader, Subset

    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    ds = dataset if indices is None else Subset(dataset, list(indices))
    out = []
    for batch in DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0):
        out.append(model(*model_inputs(batch, modality, device)).float().cpu())
    model.train(was_training)
    if not out:
        return torch.zeros(0, 0)
    return torch.cat(out)


def confusion_matrix(labels, preds, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (np.asarray(labels, np.int64), np.asarray(preds, np.int64)), 1)
    return cm


def split_subjects(meta, split: str):
    """Subjects of a named split as recorded in the checkpoint ("all" = None = every subject in the folder)."""
    if split == "all":
        return None
    if split not in SPLITS:
        raise KinactError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    key = {"test": "test_subjects", "train": "train_subjects", "val": "val_subjects"}[split]
    subjects = meta.trained_on.get(key)
    if not subjects:
        raise KinactError(f"the checkpoint records no {key} (it was trained without a {split} split)")
    return list(subjects)


def _load_for_eval(ckpt_path, data_root, split: str, dataset: str | None, device=None):
    """(model, modality, SequenceSet, meta): the checkpoint refuses a dataset whose classes differ."""
    meta = read_meta(ckpt_path)
    name = dataset or meta.trained_on.get("dataset")
    if not name:
        raise KinactError(f"{ckpt_path}: checkpoint does not say which dataset it was trained on; pass a dataset")
    expected = class_names(name) + ([meta.no_action] if meta.no_action else [])
    state, meta = load_checkpoint(ckpt_path, classes=expected)
    model = build_model(meta, state, ckpt_path)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(device)
    modality = modality_of(model)
    seqs = load_sequences(name, data_root, split_subjects(meta, split), NormRecipe.from_dict(meta.norm),
                          meta.depth or None)
    return model, modality, seqs, meta


def _probabilities(model, modality, seqs: SequenceSet, meta, no_action=None) -> torch.Tensor:
    ds = ActionDataset(seqs, ItemRecipe(modality=modality, features=list(meta.features), frames=int(meta.frames)),
                       no_action=no_action)
    return torch.softmax(predict(model, ds, modality), dim=1)


def no_action_metrics(probs: torch.Tensor, labels, no_action: int) -> dict:
    """What a live user feels of the no-action class, from predictions over action clips and no-action windows.

    no_action_recall: no-action windows called no-action. false_alarm_rate: no-action windows called an action
    (1 − recall: each would start a spurious event live). missed_action_rate: action clips called no-action.
    """
    labels = np.asarray(labels, np.int64)
    preds = probs.argmax(1).numpy() if len(labels) else np.zeros(0, np.int64)
    na, act = labels == no_action, labels != no_action
    recall = float((preds[na] == no_action).mean()) if na.any() else None
    return {"no_action_recall": recall, "false_alarm_rate": None if recall is None else 1.0 - recall,
            "missed_action_rate": float((preds[act] == no_action).mean()) if act.any() else None,
            "n_no_action": int(na.sum())}


def summarise(probs: torch.Tensor, labels, classes: list[str]) -> dict:
    """Accuracy (0..1), per-class accuracy (None for classes absent from the split), confusion, n."""
    labels = np.asarray(labels, np.int64)
    preds = probs.argmax(1).numpy() if len(labels) else np.zeros(0, np.int64)
    cm = confusion_matrix(labels, preds, len(classes))
    support = cm.sum(1)
    per_class = {c: (float(cm[i, i] / support[i]) if support[i] else None) for i, c in enumerate(classes)}
    return {"accuracy": float((preds == labels).mean()) if len(labels) else 0.0, "per_class": per_class,
            "confusion": cm.tolist(), "classes": list(classes), "n": int(len(labels))}


def evaluate_checkpoint(ckpt_path, data_root, split: str = "test", dataset: str | None = None,
                        device=None) -> dict:
    """Accuracy, per-class accuracy, confusion matrix (list of lists), class names and n on one split.

    With a no-action class, per-class and confusion include the no-action windows (its row shows false alarms,
    its column missed actions); accuracy and n stay over the action clips; see `no_action_metrics`.
    """
    model, modality, seqs, meta = _load_for_eval(ckpt_path, data_root, split, dataset, device)
    if not meta.no_action:
        out = summarise(_probabilities(model, modality, seqs, meta), seqs.labels, seqs.classes)
    else:
        from kinact.core.training.no_action import no_action_windows

        label = meta.classes.index(meta.no_action)
        windows = no_action_windows(seqs, len(seqs), meta.window_seconds, NormRecipe.from_dict(meta.norm), label)
        probs = _probabilities(model, modality, seqs, meta, windows)
        labels = np.concatenate([seqs.labels, np.full(len(windows), label, np.int64)])
        out = summarise(probs, labels, list(meta.classes))
        n = len(seqs)
        out.update(accuracy=float((probs[:n].argmax(1).numpy() == seqs.labels).mean()), n=n)
        out.update(no_action_metrics(probs, labels, label), no_action=meta.no_action)
    out.update(split=split, dataset=seqs.dataset, checkpoint=os.fspath(ckpt_path), modality=modality,
               subjects=sorted({int(s) for s in seqs.subjects}))
    return out


def _flat(arrays, frames: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(arrays, SequenceSet):
        return flat_joints(arrays, frames), np.asarray(arrays.labels)
    x, y = arrays
    if isinstance(x, (list, tuple)):  # variable-length (T, J, 3) sequences
        from kinact.core.skeleton_norm import resample

        x = np.stack([resample(np.asarray(a, np.float32), frames).reshape(-1) for a in x])
    x = np.asarray(x, np.float32)
    return x.reshape(len(x), -1), np.asarray(y)


def knn_baseline(train_arrays, test_arrays, frames: int = 32) -> float:
    """1-nearest-neighbour accuracy, Euclidean, on normalised joints resampled to `frames`; nothing is trained.

    Each argument is a SequenceSet or (X, y) with X an (n, ...) array or a list of (T, J, 3) sequences.
    """
    xtr, ytr = _flat(train_arrays, frames)
    xte, yte = _flat(test_arrays, frames)
    if not len(xtr) or not len(xte):
        raise KinactError("kNN baseline needs at least one training and one test sequence")
    sq_tr = (xtr.astype(np.float64) ** 2).sum(1)
    pred = np.empty(len(xte), ytr.dtype)
    for s in range(0, len(xte), 256):
        q = xte[s:s + 256].astype(np.float64)
        d = sq_tr[None] - 2.0 * q @ xtr.T.astype(np.float64)  # + |q|², which does not change the argmin
        pred[s:s + 256] = ytr[d.argmin(1)]
    return float((pred == yte).mean())


def knn_for_checkpoint(ckpt_path, data_root, dataset: str | None = None) -> float:
    """The kNN baseline on the checkpoint's own training and test subjects and normalisation."""
    meta = read_meta(ckpt_path)
    name = dataset or meta.trained_on.get("dataset")
    norm = NormRecipe.from_dict(meta.norm)
    train = load_sequences(name, data_root, split_subjects(meta, "train"), norm)
    test = load_sequences(name, data_root, split_subjects(meta, "test"), norm)
    return knn_baseline(train, test, frames=int(meta.frames))


def _shared_action_classes(runs, class_lists, no_actions):
    """Score every run over one class list: a model with a trailing no-action class may be fused with one
    without it (the shipped skeleton model with a depth model). Its no-action column is dropped and the rest
    renormalised, i.e. its scores given that some action is happening, which is what the evaluated clips are.
    Any other difference in the class lists is an error."""
    actions = [c[:-1] if na and c and c[-1] == na else c for c, na in zip(class_lists, no_actions)]
    if any(a != actions[0] for a in actions[1:]):
        raise KinactError("checkpoints to fuse must share one class list")
    if all(c == class_lists[0] for c in class_lists[1:]):
        return runs, class_lists[0]
    out = []
    for (seqs, probs), c, a in zip(runs, class_lists, actions):
        if len(c) != len(a):
            probs = probs[:, :len(a)]
            probs = probs / probs.sum(1, keepdim=True).clamp_min(1e-12)
        out.append((seqs, probs))
    return out, actions[0]


def fuse_checkpoints(ckpts, data_root, mode: str = "average", split: str = "test", dataset: str | None = None,
                     weights=None) -> dict:
    """Late fusion of separately trained models' softmax scores on the samples they all have."""
    from kinact.models.fusion import FUSION_MODES, score_fusion

    if mode not in FUSION_MODES:
        raise KinactError(f"unknown fusion mode {mode!r}; choose one of {', '.join(FUSION_MODES)}")
    if len(ckpts) < 2:
        raise KinactError("score fusion needs at least two checkpoints")
    runs, class_lists, extras = [], [], []
    for path in ckpts:
        model, modality, seqs, meta = _load_for_eval(path, data_root, split, dataset)
        runs.append((seqs, _probabilities(model, modality, seqs, meta)))
        class_lists.append(list(meta.classes))  # a no-action class, if any, included
        extras.append(meta.no_action)
    runs, classes = _shared_action_classes(runs, class_lists, extras)
    common = set(runs[0][0].keys)
    for seqs, _ in runs[1:]:
        common &= set(seqs.keys)
    keys = [k for k in runs[0][0].keys if k in common]
    if not keys:
        raise KinactError("the checkpoints share no evaluated samples")
    aligned, labels = [], None
    for seqs, probs in runs:
        pos = {k: i for i, k in enumerate(seqs.keys)}
        idx = [pos[k] for k in keys]
        aligned.append(probs[idx])
        lab = seqs.labels[idx]
        if labels is not None and not np.array_equal(labels, lab):
            raise KinactError("checkpoints disagree on the labels of the same samples")
        labels = lab
    fused = score_fusion(aligned, mode, weights)
    out = summarise(fused, labels, classes)
    out.update(mode=mode, split=split, checkpoints=[os.fspath(c) for c in ckpts],
               per_model=[float((p.argmax(1).numpy() == labels).mean()) for p in aligned])
    return out
