#!/usr/bin/env python3
"""How long a full training run of a config takes on this machine: bench/train_time.json.

Runs `kinact train CONFIG --data DATA --out RUN --final --seed 0` in a child process with `--threads` torch
threads (OMP_NUM_THREADS) and writes its wall time, the training time and final-epoch test accuracy from
the run's own summary.json. Meant for an idle machine: anything else running inflates the time.

Usage: python bench/train_time.py configs/NAME.toml --data ../shared/data/utd-mhad --out bench/train_time.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MINUTES = 15


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="the JSON to write")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--run", help="run folder to keep (default: a temporary one)")
    a = p.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads)}
    with tempfile.TemporaryDirectory(prefix="kinact-train-time-") as tmp:
        run = Path(a.run or tmp)
        cmd = [sys.executable, "-m", "kinact.app.cli", "train", a.config, "--data", a.data, "--out", str(run),
               "--final", "--seed", "0"]
        load = os.getloadavg()
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        summary = json.loads((run / "summary.json").read_text())
    seed = summary["seeds"]["0"]
    result = {
        "command": f"OMP_NUM_THREADS={a.threads} kinact train {a.config} --data DATA --out RUN --final --seed 0",
        "config": summary["config"], "threads": a.threads, "epochs": summary["epochs"],
        "train_minutes": seed["train_seconds"] / 60, "wall_minutes": wall / 60, "goal_minutes": GOAL_MINUTES,
        "meets_goal": wall / 60 <= GOAL_MINUTES, "test_accuracy": seed["test_accuracy"],
        "load_average_before": [round(x, 2) for x in load],
        "what": "a full cross-subject run (all training subjects, the config's epochs) timed by bench/train_time.py",
    }
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
