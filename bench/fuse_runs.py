"""Late score fusion of the skeleton and depth runs, seed by seed: `python bench/fuse_runs.py --runs RUNS --data UTD`.

The paper fuses skeleton and depth two ways: end to end (one network, `configs/utd_fusion_*.toml`) and by
score fusion of separately trained streams (average, multiply, max). This script does the second for every
seed both runs have, with `kinact eval SKELETON DEPTH --fusion MODE --json` underneath (no retraining), and
writes one JSON (default bench/fusion_utd.json) that bench/make_results.py turns into table rows.

All three modes are reported; "average" is the one we call ours, chosen before any fused number was seen
(it is the paper's first option and needs no calibration), so the table never picks the best mode on test.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MODES = ("average", "product", "max")


def fuse(skeleton: Path, depth: Path, data: str, mode: str) -> dict:
    cmd = [sys.executable, "-m", "kinact.app.cli", "eval", str(skeleton), str(depth), "--data", data,
           "--fusion", mode, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="folder with one run folder per config")
    p.add_argument("--data", required=True, help="the UTD-MHAD folder")
    p.add_argument("--skeleton", default="utd_skeleton_ours")
    p.add_argument("--depth", default="utd_depth_ours")
    p.add_argument("--out", default="bench/fusion_utd.json")
    a = p.parse_args()
    runs = Path(a.runs)
    seeds = sorted(
        int(d.name[4:]) for d in (runs / a.skeleton).glob("seed*")
        if (d / "model.safetensors").is_file() and (runs / a.depth / d.name / "model.safetensors").is_file())
    if not seeds:
        print(f"{runs}: no seed has both {a.skeleton} and {a.depth} checkpoints", file=sys.stderr)
        return 2
    result = {"skeleton": a.skeleton, "depth": a.depth, "seeds": seeds, "primary_mode": "average", "modes": {}}
    for mode in MODES:
        per_seed = []
        for s in seeds:
            r = fuse(runs / a.skeleton / f"seed{s}" / "model.safetensors",
                     runs / a.depth / f"seed{s}" / "model.safetensors", a.data, mode)
            per_seed.append({"seed": s, "accuracy": r["accuracy"], "skeleton": r["per_model"][0],
                             "depth": r["per_model"][1], "n": r["n"]})
            print(f"{mode} seed {s}: fused {r['accuracy']:.4f} (skeleton {r['per_model'][0]:.4f}, "
                  f"depth {r['per_model'][1]:.4f}, n = {r['n']})", file=sys.stderr)
        accs = [x["accuracy"] for x in per_seed]
        mean = sum(accs) / len(accs)
        sd = (sum((x - mean) ** 2 for x in accs) / max(1, len(accs) - 1)) ** 0.5 if len(accs) > 1 else 0.0
        result["modes"][mode] = {"mean": mean, "std": sd, "per_seed": per_seed}
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
