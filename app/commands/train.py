"""`kinact train CONFIG --data DIR --out RUNDIR`: every seed of an experiment config, then a summary.

`kinact train [CONFIG] --data DIR_OF_KINREC [--from CKPT] --out RUNDIR`: your own labelled recordings, trained
from scratch or fine-tuned from a checkpoint (training/finetune.py), with a held-out recording or person.

The summary puts the seeds' spread and a no-training kNN baseline next to the mean accuracy, because on a
dataset of 430 test sequences one seed's number alone cannot tell a real improvement from luck.
Launched under `torchrun --nproc_per_node N -m kinact.app.cli train ...` it trains data-parallel.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="experiment config (TOML, see configs/); optional for a folder of "
                   "recordings (default: the fine-tuning recipe with --from, else the ours recipe)")
    p.add_argument("--data", required=True, help="dataset folder, or a folder of labelled .kinrec/.mcap recordings")
    p.add_argument("--out", required=True, help="run folder (seed<k>/ subfolders and summary.json go here)")
    p.add_argument("--seed", type=int, action="append", help="train only this seed (repeatable); default: the "
                   "config's seeds")
    p.add_argument("--epochs", type=int, help="override optim.epochs")
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    p.add_argument("--no-resume", action="store_true", help="start from scratch even if seed<k>/state.pt exists")
    p.add_argument("--final", action="store_true", help="final run: no validation subjects (train on all "
                   "training subjects for the fixed epoch count)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set optim.lr=0.01 (TOML value syntax)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress on stderr")
    g = p.add_argument_group("your own recordings (--data holds .kinrec/.mcap files)")
    g.add_argument("--from", dest="init_from", metavar="CHECKPOINT", help="fine-tune this checkpoint on the "
                   "recordings' actions (its architecture and input recipe, a new classifier head)")
    g.add_argument("--holdout", choices=("recording", "person", "none"), help="test part: one whole recording, "
                   "one person's recordings, or none (default: the last recording when there are two or more)")
    g.add_argument("--holdout-value", metavar="X", help="which recording (file name) or person (metadata "
                   "'subject' or 'person') to hold out, or several persons separated by commas (e.g. 2,4,6,8,10); "
                   "default the last in sorted order")
    g.add_argument("--shots", type=int, metavar="K", help="train on at most K labelled segments per action")
    g.add_argument("--draw", type=int, default=0, metavar="N", help="seed of the --shots draw (default 0)")


def merge_earlier_seeds(path: str, seeds_now: dict, fingerprint: str, epochs: int) -> dict:
    """This run's seeds plus those an earlier `kinact train` of the same config wrote to the same summary.

    Seeds are often trained one command at a time (`--seed 0`, later `--seed 1`); each used to overwrite
    summary.json with its own seed only, losing the others from the table. An earlier seed is kept only when
    that summary records the same config fingerprint and epoch count (what changes a result) and its
    checkpoint is still there; a seed trained again now replaces its earlier entry.
    """
    try:
        with open(path) as f:
            earlier = json.load(f)
    except (OSError, ValueError):
        return dict(seeds_now)
    if earlier.get("config_fingerprint") != fingerprint or earlier.get("epochs") != epochs:
        return dict(seeds_now)
    kept = {k: v for k, v in (earlier.get("seeds") or {}).items()
            if k not in seeds_now and isinstance(v, dict) and os.path.isfile(str(v.get("checkpoint", "")))}
    return dict(sorted({**kept, **seeds_now}.items(), key=lambda kv: int(kv[0])))


def run(args) -> int:
    import numpy as np

    from kinact.core.errors import KinactError
    from kinact.core.training.config import load_config, parse_override
    from kinact.core.training.data import load_sequences
    from kinact.core.training.evaluate import knn_baseline
    from kinact.core.training.train import train

    overrides: dict = {}
    for text in args.set:
        overrides.update(parse_override(text))
    if args.epochs is not None:
        overrides["optim.epochs"] = args.epochs
    if args.final:
        overrides["data.val_subjects"] = []
    from kinact.core.training.kinrec_data import is_recording_folder

    if (args.init_from or args.config is None or is_recording_folder(args.data)
            or load_config(args.config).data.dataset == "kinrec"):
        from kinact.core.training.finetune import run_cli

        return run_cli(args, overrides)
    if args.holdout or args.holdout_value or args.shots:
        raise KinactError("--holdout, --holdout-value and --shots are for a folder of .kinrec recordings")
    cfg = load_config(args.config, overrides)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise KinactError("--device cuda: no CUDA device is available")
    seeds = args.seed or cfg.seeds
    os.makedirs(args.out, exist_ok=True)
    rank = int(os.environ.get("RANK", "0"))

    results = []
    try:
        for seed in seeds:
            t0 = time.perf_counter()
            r = train(cfg, args.data, args.out, seed, device=args.device, progress=not args.quiet,
                      resume=not args.no_resume)
            r["wall_seconds"] = time.perf_counter() - t0
            results.append(r)
    finally:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if rank != 0:
        return 0

    d = cfg.data
    norm = cfg.input.norm()
    if d.modality == "depth":  # the baseline sees what the network sees: the descriptor images
        depth = d.depth_recipe()
        train_set = load_sequences(d.dataset, args.data, d.fit_subjects, norm, depth)
        test_set = load_sequences(d.dataset, args.data, d.test_subjects, norm, depth)
        knn_on = "depth descriptors"
        knn = knn_baseline(*[(np.stack([np.asarray(x, np.float32).ravel() for x in s.descriptors]), s.labels)
                             for s in (train_set, test_set)])
    else:
        train_set = load_sequences(d.dataset, args.data, d.fit_subjects, norm)
        test_set = load_sequences(d.dataset, args.data, d.test_subjects, norm)
        knn_on = "normalised joints"
        knn = knn_baseline(train_set, test_set, frames=cfg.input.frames)
    path = os.path.join(args.out, "summary.json")
    seeds_now = {str(r["seed"]): {k: r[k] for k in ("test_accuracy", "val_accuracy", "train_accuracy",
                                                    "train_seconds", "wall_seconds", "checkpoint",
                                                    "no_action_recall") if k in r}
                 for r in results}
    seeds_all = merge_earlier_seeds(path, seeds_now, cfg.fingerprint(), cfg.optim.epochs)
    accs = np.array([s["test_accuracy"] for s in seeds_all.values()], dtype=float)
    summary = {
        "config": cfg.name, "config_path": os.path.abspath(args.config), "dataset": d.dataset,
        "modality": d.modality, "train_subjects": d.fit_subjects, "val_subjects": d.val_subjects,
        "test_subjects": d.test_subjects, "epochs": cfg.optim.epochs,
        "config_fingerprint": cfg.fingerprint(), "seeds": seeds_all,
        "test_accuracy_mean": float(accs.mean()),
        "test_accuracy_std": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
        "test_accuracy_min": float(accs.min()), "test_accuracy_max": float(accs.max()),
        "knn_baseline": knn, "knn_on": knn_on, "num_parameters": results[0]["num_parameters"],
        "train_seconds_total": float(sum(s["train_seconds"] for s in seeds_all.values())),
        "overrides": overrides,
    }
    with open(path + ".partial", "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(path + ".partial", path)
    spread = f" ± {summary['test_accuracy_std']:.4f}" if len(accs) > 1 else ""
    print(f"{cfg.name}: test accuracy {summary['test_accuracy_mean']:.4f}{spread} over {len(accs)} seed(s) "
          f"(kNN baseline {knn:.4f}); summary: {path}", file=sys.stderr)
    return 0
