"""`kinact eval CHECKPOINT --data DIR`: accuracy, per-class accuracy and a confusion-matrix figure.

Several checkpoints (`kinact eval SKELETON.safetensors DEPTH.safetensors --fusion average`) are scored by late
score fusion, the paper's second way of combining skeleton and depth: each model's softmax on the samples they
all have, combined by average, product or max. Separately trained streams can be fused without retraining.

With `--json` stdout holds exactly one JSON object (everything else goes to stderr), so scripts and CI can
pipe it straight into a parser.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", nargs="+", help="a kinact .safetensors checkpoint; two or more: score fusion")
    p.add_argument("--data", required=True,
                   help="dataset folder, or a folder of labelled .kinrec recordings (every segment is scored)")
    p.add_argument("--split", default="test", choices=("test", "train", "val", "all"),
                   help="subjects recorded in the checkpoint (default: test)")
    p.add_argument("--dataset", help="dataset name if the checkpoint does not record it")
    p.add_argument("--out", help="folder for the PNG figures (default: the checkpoint's folder)")
    p.add_argument("--no-plots", action="store_true", help="write no figures")
    p.add_argument("--no-knn", action="store_true", help="skip the kNN baseline")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.add_argument("--fusion", default="average", choices=("average", "product", "max"),
                   help="how several checkpoints' scores are combined (default: average)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _fused(args) -> int:
    from kinact.core.training.evaluate import fuse_checkpoints

    result = fuse_checkpoints(args.checkpoint, args.data, mode=args.fusion, split=args.split, dataset=args.dataset)
    if args.json:
        print(json.dumps(result))
        return 0
    for path, acc in zip(args.checkpoint, result["per_model"]):
        print(f"{path}: accuracy {acc:.4f}")
    print(f"score fusion ({args.fusion}) on {args.split}: accuracy {result['accuracy']:.4f} (n = {result['n']})")
    return 0


def _recordings_folder(path) -> bool:
    from kinact.core.training.kinrec_data import is_recording_folder

    return os.path.isdir(path) and is_recording_folder(path)


def run(args) -> int:
    from kinact.core.training.evaluate import evaluate_checkpoint, knn_for_checkpoint

    if len(args.checkpoint) > 1:
        return _fused(args)
    args.checkpoint = args.checkpoint[0]
    if _recordings_folder(args.data):
        from kinact.core.training.evaluate_kinrec import evaluate_recordings

        args.split = "all"
        result = evaluate_recordings(args.checkpoint, args.data, device=args.device)
        result["knn_baseline"] = None
    else:
        result = evaluate_checkpoint(args.checkpoint, args.data, split=args.split, dataset=args.dataset,
                                     device=args.device)
        result["knn_baseline"] = None if args.no_knn else knn_for_checkpoint(args.checkpoint, args.data,
                                                                             args.dataset)
    figures = []
    if not args.no_plots:
        from kinact.core.training.plots import plot_confusion, plot_curves

        out = args.out or os.path.dirname(os.path.abspath(args.checkpoint))
        stem = os.path.splitext(os.path.basename(args.checkpoint))[0]
        path = os.path.join(out, f"{stem}_confusion_{args.split}.png")
        plot_confusion(result["confusion"], result["classes"], path,
                       title=f"{stem} on {result['dataset']} {args.split}: accuracy {result['accuracy']:.1%} "
                             f"(n = {result['n']})")
        figures.append(path)
        history = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "history.json")
        if os.path.isfile(history):
            with open(history) as f:
                hist = json.load(f)
            path = os.path.join(out, f"{stem}_curves.png")
            plot_curves(hist, path, title=stem)
            figures.append(path)
    result["figures"] = figures
    if args.json:
        print(json.dumps(result))
        return 0
    where = (f"{result['recordings']} recordings" if result["dataset"] == "kinrec"
             else f"{args.split} subjects {result['subjects']}")
    print(f"{args.checkpoint}: {result['dataset']} {where}: accuracy {result['accuracy']:.4f} (n = {result['n']})")
    if result.get("unknown_actions"):
        print(f"not scored: {result['n_unknown']} segments of actions the model does not know: "
              f"{', '.join(result['unknown_actions'])}")
    if result.get("no_action"):
        print(f"no action ({result['n_no_action']} windows): recall {result['no_action_recall']:.4f}, "
              f"false alarms {result['false_alarm_rate']:.4f}; action clips called no action "
              f"{result['missed_action_rate']:.4f}")
    if result["knn_baseline"] is not None:
        print(f"kNN baseline (1-NN on normalised joints): {result['knn_baseline']:.4f}")
    width = max(len(c) for c in result["classes"])
    for name, acc in result["per_class"].items():
        if acc is not None:
            print(f"  {name:<{width}}  {acc:.3f}")
    for path in figures:
        print(f"wrote {path}", file=sys.stderr)
    return 0
