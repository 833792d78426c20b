"""Tiny fake datasets in the real file formats, for the training tests (never the real data)."""
from __future__ import annotations

import os

import numpy as np

from kinact.core.layouts import CANONICAL, UTD_MHAD
from kinact.core.pipeline.fakes import pose



def canonical_motion(cls: int, T: int, rng: np.random.Generator) -> np.ndarray:
    """(T, 20, 3) canonical metres: class 0 raises the right hand, 1 swings the left hand sideways, 2 squats."""
    x = pose()[None].repeat(T, 0)  # the pipeline fakes' standing person, 2.5 m in front of the sensor
    phase = np.sin(np.linspace(0, np.pi, T)).astype(np.float32)
    if cls % 3 == 0:
        for j, amp in (("wrist_right", 0.5), ("hand_right", 0.6), ("elbow_right", 0.25)):
            x[:, CANONICAL.index(j), 1] += amp * phase
    elif cls % 3 == 1:
        for j, amp in (("wrist_left", 0.4), ("hand_left", 0.5), ("elbow_left", 0.2)):
            x[:, CANONICAL.index(j), 0] -= amp * phase
    else:
        legs = ("knee", "ankle", "foot")
        upper = [j for j, n in enumerate(CANONICAL.joints) if not any(leg in n for leg in legs)]
        x[:, upper, 1] -= 0.3 * phase[:, None]
    scale = rng.uniform(0.9, 1.1)
    shift = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.1, 0.1), rng.uniform(-0.3, 0.3)], np.float32)
    return (x * scale + shift + rng.normal(scale=0.005, size=x.shape)).astype(np.float32)


def _depth_video(joints: np.ndarray) -> np.ndarray:
    """(240, 320, T) uint16 mm: a still torso block plus a 14-px 'hand' where the right/left hands are."""
    T = len(joints)
    depth = np.zeros((240, 320, T), np.uint16)
    depth[70:200, 140:180, :] = 2500
    for t in range(T):
        for name in ("hand_right", "hand_left", "head"):
            X, Y, Z = joints[t, CANONICAL.index(name)]
            col = int(np.clip(160 + 280 * X / Z, 8, 311))
            row = int(np.clip(120 - 280 * Y / Z, 8, 231))
            depth[row - 7:row + 7, col - 7:col + 7, t] = 2300
    return depth


def write_fake_utd(root, classes=3, subjects=(1, 2, 3, 4), trials=(1, 2), depth=False, seed=0) -> str:
    """UTD-MHAD-format files (`aA_sS_tT_skeleton.mat`, d_skel 20×3×T in UTD joint order) under root/Skeleton."""
    import scipy.io

    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "Skeleton"), exist_ok=True)
    if depth:
        os.makedirs(os.path.join(root, "Depth"), exist_ok=True)
    order = np.asarray(UTD_MHAD.canonical_index)
    for a in range(1, classes + 1):
        for s in subjects:
            for t in trials:
                T = 24 + 3 * t + s
                canon = canonical_motion(a - 1, T, rng)
                utd = np.zeros_like(canon)
                utd[:, order] = canon
                name = f"a{a}_s{s}_t{t}"
                scipy.io.savemat(os.path.join(root, "Skeleton", f"{name}_skeleton.mat"),
                                 {"d_skel": utd.transpose(1, 2, 0).astype(np.float64)})
                if depth:
                    scipy.io.savemat(os.path.join(root, "Depth", f"{name}_depth.mat"),
                                     {"d_depth": _depth_video(canon)}, do_compression=True)
    return os.fspath(root)


def tiny_config(**over) -> dict:
    """A config dict for a model that trains in about a second on the fake set."""
    cfg = {
        "name": "tiny", "seeds": [0],
        "data": {"dataset": "utd_mhad", "modality": "skeleton", "train_subjects": [1, 3],
                 "test_subjects": [2, 4], "val_subjects": []},
        "input": {"features": ["joint", "velocity"], "frames": 16},
        "model": {"name": "skeleton", "tarm": "per_axis", "hidden": 8, "stcm": "temporal", "channels": [16],
                  "blocks": [1], "strides": [1]},
        "optim": {"optimizer": "adam", "lr": 0.01, "scheduler": "none", "epochs": 2, "batch_size": 4},
    }
    for key, value in over.items():
        node = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return cfg
