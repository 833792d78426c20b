#!/usr/bin/env python3
"""How human does the synthetic performer look to the shipped model? Per action, over many performances.

The bundled demo has only about ten segments, too few to tell a bad keyframe from bad luck, so this check performs
every synthetic action that has a UTD-MHAD counterpart N times (each time another body, speed, amplitude,
repetition count, key timing and idle motion, with still standing before and after, as in the dataset), writes
each performance to a depth-free `.kinrec` and reads its labelled segment back with `read_recording`, then
classifies it exactly like `bench/ship_model.py`'s demo check (same normalisation, the segment resampled to
the model's window, "no action" left out of the arg-max). The model never sees synthetic data in training;
this measures the performer, not the model.

Usage: python bench/performer_check.py [--n 8] [--seed 0] [--actions NAME ...] [--json] [--out FILE.json]
       [--baseline OLD.json] [--demo RECORDING.kinrec | --demo '']
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CKPT = ROOT / "models" / "pretrained" / "utd_skeleton.safetensors"
DEMO = ROOT / "recordings" / "demo.kinrec"


def performances(action, n: int, seed: int):
    """N one-action scenes: random body and standing spot, the action drawn like a script draws it."""
    from kinact.core.synthetic.actions import draw_item
    from kinact.core.synthetic.scene import Performer, Scene
    from kinact.core.synthetic.skeleton import BodyParams

    rng = np.random.default_rng([seed, sum(map(ord, action.key))])
    for _ in range(n):
        body = BodyParams.random(rng)
        lead = float(rng.uniform(0.8, 1.6))
        item = draw_item(rng, action, lead)
        jitter = rng.uniform(-1, 1, 2)
        spot = (0.25 * jitter[0], 2.9 + 0.3 * jitter[1])  # where Scene.random puts one person
        perf = Performer([item], body, spot, float(rng.uniform(-15, 15)), int(rng.integers(2**31)), 1)
        yield Scene([perf], seed=int(rng.integers(2**31)), duration=item.t_end + float(rng.uniform(0.8, 1.4)),
                    depth=False)


def write_scene(scene, path: Path) -> None:
    from kinact.core.recording.kinrec_writer import KinrecWriter

    with KinrecWriter(path, "kinect_v1", scene.fps, intrinsics=scene.intrinsics, sensor="synthetic performer",
                      synthetic=True) as w:
        for i in range(scene.num_frames):
            w.write_frame(scene.frame_at(i)[0])
        for s in scene.segments:
            w.add_segment(s.start_s, s.end_s, s.action, body_id=s.body_id)


def check(n: int = 8, seed: int = 0, only=None, ckpt: Path = CKPT) -> dict:
    from kinact.core.checkpoint import read_meta
    from kinact.core.inference import Predictor
    from kinact.core.skeleton_norm import NormRecipe, resample
    from kinact.core.synthetic.actions import all_actions, get
    from kinact.core.training.features import make_features
    from kinact.core.training.kinrec_data import read_recording

    meta = read_meta(ckpt)
    norm = NormRecipe.from_dict(meta.norm)
    predictor = Predictor.load(ckpt, backend="torch", device="cpu", threads=1)
    classes = predictor.classes
    keep = [i for i, c in enumerate(classes) if c != meta.no_action]
    acts = [get(a) for a in only] if only else [a for a in all_actions() if a.utd in classes]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for a in acts:
            x = []
            for k, scene in enumerate(performances(a, n, seed)):
                path = Path(tmp) / f"{a.key}_{k}.kinrec"
                write_scene(scene, path)
                _, clips, _ = read_recording(str(path), path.name, norm)
                x.append(make_features(resample(clips[0].joints, meta.frames), meta.features))
            probs = predictor.predict_skeleton(np.stack(x))[:, keep]
            order = np.argsort(-probs, axis=1)
            top1 = [classes[keep[o[0]]] for o in order]
            top3 = [[classes[keep[j]] for j in o[:3]] for o in order]
            wrong = Counter(t for t in top1 if t != a.utd).most_common(1)
            rows[a.utd] = {"top1": float(np.mean([t == a.utd for t in top1])),
                           "top3": float(np.mean([a.utd in t for t in top3])),
                           "p_true": float(np.mean(probs[:, keep.index(classes.index(a.utd))])),
                           "most_common_wrong": wrong[0][0] if wrong else None,
                           "predicted": top1}
    return {"checkpoint": str(ckpt.relative_to(ROOT)) if ckpt.is_relative_to(ROOT) else str(ckpt),
            "performances_per_action": n, "seed": seed,
            "mean_top1": float(np.mean([r["top1"] for r in rows.values()])),
            "mean_top3": float(np.mean([r["top3"] for r in rows.values()])),
            "mean_p_true": float(np.mean([r["p_true"] for r in rows.values()])),
            "actions_top1_majority": int(sum(r["top1"] > 0.5 for r in rows.values())),
            "actions": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8, help="performances per action")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--actions", nargs="*", help="action keys or class names (default: every UTD-MHAD one)")
    p.add_argument("--ckpt", default=str(CKPT))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", help="also write the JSON here (with --baseline's rows merged in, if given)")
    p.add_argument("--baseline", help="a previous --out file whose rates are kept as 'before' (default: the "
                                      "'before' already in --out)")
    p.add_argument("--demo", default=str(DEMO), help="also run bench/ship_model.py's demo check on this recording "
                                                    "('' to skip; default: the bundled demo)")
    a = p.parse_args(argv)
    res = check(a.n, a.seed, a.actions, Path(a.ckpt))
    if a.demo:
        sys.path.insert(0, str(ROOT / "bench"))
        from ship_model import demo_checks

        demo = Path(a.demo)
        name = str(demo.relative_to(ROOT)) if demo.resolve().is_relative_to(ROOT) else a.demo
        res["demo"] = {"recording": name, "bytes": demo.stat().st_size, **demo_checks(Path(a.ckpt), demo)}
    old = Path(a.baseline or a.out or "")
    if old.is_file() and (a.baseline or "before" in json.loads(old.read_text())):  # rerunning keeps the "before"
        before = json.loads(old.read_text())
        before = before.get("before", before)
        res["before"] = {k: before[k] for k in ("mean_top1", "mean_top3", "mean_p_true", "actions_top1_majority",
                                                "note", "demo") if k in before}
        res["before"]["actions"] = {k: {m: v[m] for m in ("top1", "top3", "p_true", "most_common_wrong")}
                                    for k, v in before["actions"].items()}
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, default=float) + "\n")
    if a.json:
        print(json.dumps(res, default=float))
        return 0
    print(f"{'action':45s} top1  top3  p(true) most common wrong")
    for k, r in res["actions"].items():
        print(f"{k:45s} {r['top1']:.2f}  {r['top3']:.2f}  {r['p_true']:.2f}    {r['most_common_wrong'] or ''}")
    if "demo" in res:
        d = res["demo"]
        print(f"demo {d['recording']}: {sum(x['action'] == x['predicted'] for x in d['per_segment'])}/{d['segments']}"
              f" segments, stream F1 {d['stream']['f1']:.2f}")
    print(f"mean top-1 {res['mean_top1']:.3f}, top-3 {res['mean_top3']:.3f}, p(true) {res['mean_p_true']:.3f}, "
          f"{res['actions_top1_majority']}/{len(res['actions'])} actions top-1 in most performances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
