"""Data-parallel training (2 gloo processes, half the batch each) must match one process with the same batch.

The model has no BatchNorm: on CPU each process would normalise its own half batch (SyncBatchNorm is
CUDA-only), which is a documented, expected difference and not what this test is about. Everything else
(sampler split, gradient averaging, summed metrics, plateau schedule on the summed loss, rank-0-only files)
has to be exact up to float summation order.
"""
from __future__ import annotations

import json
import os
import socket

import pytest
import torch
from _training_data import tiny_config, write_fake_utd
from torch import nn

import kinact.models.registry as registry
from kinact.core.checkpoint import load_checkpoint
from kinact.core.training.config import config_from_dict


class NoNormNet(nn.Module):
    """A 1-D conv over time with no BatchNorm or dropout, so data-parallel maths is exactly comparable."""

    def __init__(self, num_classes: int, in_channels: int = 3, num_joints: int = 20, num_frames: int = 16):
        super().__init__()
        self.in_channels, self.num_joints, self.num_frames, self.num_classes = in_channels, num_joints, num_frames, num_classes
        self.conv = nn.Conv1d(in_channels * num_joints, 16, 3, padding=1)
        self.fc = nn.Linear(16, num_classes)

    @property
    def input_spec(self):
        return {"skeleton": ("batch", self.in_channels, self.num_frames, self.num_joints)}

    def forward(self, x):
        b, c, t, n = x.shape
        return self.fc(torch.relu(self.conv(x.permute(0, 1, 3, 2).reshape(b, c * n, t))).mean(2))


def _register() -> None:
    """Add NoNormNet to the model registry (in this process; spawned workers call it themselves)."""
    registry._CLASSES.setdefault("nonorm", NoNormNet)
    if "nonorm" not in registry.MODEL_NAMES:
        registry.MODEL_NAMES = (*registry.MODEL_NAMES, "nonorm")


def _config():
    _register()
    return config_from_dict(tiny_config(**{
        "model": {"name": "nonorm"}, "optim.epochs": 3, "optim.batch_size": 4, "optim.optimizer": "adamw",
        "optim.scheduler": "plateau", "optim.plateau_patience": 0, "optim.plateau_factor": 0.5,
        "optim.grad_clip": 1.0, "optim.label_smoothing": 0.1,
        "augment": {"rotate_deg": 20.0, "crop": 0.8, "speed": 0.2, "noise": 0.01},
    }))


def _worker(rank: int, world: int, port: int, root: str, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    import torch.distributed as dist

    from kinact.core.training.train import train

    try:
        train(_config(), root, out, seed=0, progress=False, device="cpu")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one(tmp_path, monkeypatch):
    import torch.multiprocessing as mp

    from kinact.core.training.train import train

    monkeypatch.setitem(registry._CLASSES, "nonorm", NoNormNet)
    monkeypatch.setattr(registry, "MODEL_NAMES", (*registry.MODEL_NAMES, "nonorm"))
    root = write_fake_utd(tmp_path / "utd")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    single = train(_config(), root, tmp_path / "one", seed=0, progress=False, device="cpu")
    mp.spawn(_worker, args=(2, _free_port(), root, str(tmp_path / "two")), nprocs=2, join=True)

    a, meta_a = load_checkpoint(tmp_path / "one" / "seed0" / "model.safetensors")
    b, meta_b = load_checkpoint(tmp_path / "two" / "seed0" / "model.safetensors")
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4), k
    assert meta_b.trained_on["test_accuracy"] == pytest.approx(single["test_accuracy"])
    h1 = json.loads((tmp_path / "one" / "seed0" / "history.json").read_text())["history"]
    h2 = json.loads((tmp_path / "two" / "seed0" / "history.json").read_text())["history"]
    for x, y in zip(h1, h2, strict=True):
        assert x["train_loss"] == pytest.approx(y["train_loss"], rel=1e-4)
        assert x["lr"] == pytest.approx(y["lr"]) and x["test_acc"] == pytest.approx(y["test_acc"])
