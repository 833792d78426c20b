"""`kinact stream-eval CKPT --data DIR`: the live pipeline on the split's sequences stitched into one stream.

Frame accuracy, event precision/recall/F1 and detection delay of the real engine (see
`kinact.core.training.stream_eval`). Engine settings are the model's (the checkpoint's own `live`, else the
defaults), chosen on a validation subject's stream (`--subjects 7` with a model that did not train on
subject 7; see `training.stream_tune`), never on the test stream. With `--json` stdout holds exactly one
JSON object.
"""
from __future__ import annotations

import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("checkpoint", help="a kinact .safetensors checkpoint trained on the dataset's classes")
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--dataset", default="utd_mhad", help="dataset name (default utd_mhad)")
    p.add_argument("--people", type=int, choices=(1, 2), default=1,
                   help="1, or 2 streams of different subjects side by side, scored per person (default 1)")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="cross-subject split to stitch; tune settings on 'train' only (default test)")
    p.add_argument("--subjects", help="comma-separated subjects to stitch instead of the split (e.g. 7: a "
                                      "validation subject)")
    p.add_argument("--seed", type=int, default=0, help="order of sequences and pause lengths (default 0)")
    p.add_argument("--stride", type=int, help="frames between inferences (default: the model's, as the app)")
    p.add_argument("--motion-threshold", type=float,
                   help="metres; windows moving less are 'no action' (default: the model's, 0.03; 0 disables)")
    p.add_argument("--limit", type=int, help="at most this many sequences per person (quick runs)")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("--out", help="also write the JSON result to this file")


def _pct(x) -> str:
    return "  n/a" if x is None else f"{100 * x:5.1f}%"


def _delay(x) -> str:
    return "n/a" if x is None else f"{x:+.2f} s"


def run(args) -> int:
    from kinact.app.commands.common import dumps, print_json
    from kinact.core.training.stream_eval import stream_eval

    options = {}
    if args.motion_threshold is not None:
        options["motion_threshold"] = args.motion_threshold
    r = stream_eval(args.checkpoint, args.data, dataset=args.dataset, people=args.people, seed=args.seed,
                    stride=args.stride, backend=args.backend, split=args.split, limit=args.limit,
                    engine_options=options,
                    subjects=[int(x) for x in args.subjects.split(",")] if args.subjects else None)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(dumps(r) + "\n")
    if args.json:
        print_json(r)
        return 0
    s = r["stream"]
    what = r["split"] or f"subjects {','.join(map(str, r['subjects']))}"
    print(f"{args.checkpoint} on a {s['seconds'] / 60:.1f}-minute {r['dataset']} {what} stream "
          f"({r['people']} {'person' if r['people'] == 1 else 'people'}, seed {r['seed']}, stride "
          f"{r['engine']['stride']}, window {r['window_seconds']:.2f} s; replayed at {r['replay_fps']:.0f} frames/s)")
    for p in r["persons"]:
        print(f"  person {p['body_id']} (subjects {p['subjects']}, {p['sequences']} sequences): frame accuracy "
              f"{_pct(p['frame_accuracy'])} (actions {_pct(p['action_frame_accuracy'])}, pauses "
              f"{_pct(p['pause_frame_accuracy'])})  events P {_pct(p['precision'])} R {_pct(p['recall'])} "
              f"F1 {_pct(p['f1'])}  delay {_delay(p['mean_delay_s'])}")
        if "difference" in p:
            d = p["difference"]
            print(f"    vs alone: frame accuracy {100 * d.get('frame_accuracy', 0):+.1f} pts, F1 "
                  f"{100 * d.get('f1', 0):+.1f} pts, delay {_delay(d.get('mean_delay_s'))}")
    if r["people"] > 1:
        q = r["pooled"]
        print(f"  pooled: P {_pct(q['precision'])} R {_pct(q['recall'])} F1 {_pct(q['f1'])}", file=sys.stdout)
    return 0
