"""How long would a config take to train here? Times a few real optimiser steps and extrapolates.

Some rows of the paper's tables (the depth models on 224x224 DMIs: ResNet-18, ResNet-50, AlexNet, TARM +
ResNet-18) are too slow to train on the 2-core development CPU. Rather than guess, this measures it: the
config's own network (random weights, its batch size, its optimiser family) runs `--steps` forward +
backward + Adam steps on random inputs of the config's shape, and the best step time is multiplied by the
steps of a full run (training sequences / batch size, rounded up, times the config's epochs). Data loading
and evaluation are left out, so the estimate is a lower bound.

    python bench/train_cost.py configs/utd_depth_paper_resnet18.toml ... --train 431 --threads 1 \
        --json --out bench/train_cost.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time


def measure(config_path: str, train_items: int, steps: int, num_classes: int) -> dict:
    import torch

    from kinact.core.training.config import load_config
    from kinact.core.training.train import seeded_model
    from kinact.models.registry import count_parameters, dummy_inputs

    cfg = load_config(config_path)
    spec, net = seeded_model(cfg, num_classes, 0)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = int(cfg.optim.batch_size)
    inputs = dummy_inputs(net, batch=batch)
    target = torch.randint(0, num_classes, (batch,))
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(*inputs), target).backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    per_epoch = math.ceil(train_items / batch)
    best = min(times)
    return {"config": cfg.name, "path": config_path, "parameters": count_parameters(net), "batch": batch,
            "epochs": int(cfg.optim.epochs), "steps_per_epoch": per_epoch, "step_seconds": times,
            "estimated_minutes_per_seed": best * per_epoch * int(cfg.optim.epochs) / 60.0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--train", type=int, default=431, help="training sequences (UTD-MHAD final run: 431)")
    p.add_argument("--classes", type=int, default=27)
    p.add_argument("--steps", type=int, default=3, help="timed steps per config (the best one is used)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for path in args.configs:
        row = measure(path, args.train, args.steps, args.classes)
        rows.append(row)
        if not args.json:
            print(f"{row['config']}: {row['parameters'] / 1e6:.2f} M parameters, best step "
                  f"{min(row['step_seconds']):.2f} s -> about {row['estimated_minutes_per_seed']:.0f} min per seed",
                  flush=True)
    report = {"rows": rows, "threads": torch.get_num_threads(), "train_items": args.train,
              "environment": {"python": platform.python_version(), "machine": platform.machine(),
                              "cpu_count": os.cpu_count(), "torch": torch.__version__,
                              "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
