"""`kinact info DIR`: what a dataset folder holds, whether it is complete, and what is broken in it.

The point is to answer "can I train on this?" in about a second, before anyone waits an hour for a training
run to die on file 700. So the summary reads every skeleton (they are small, and a bad one must be named) but
only the *header* of every depth file: its frame count has to match the skeleton's, and that is known
without inflating 10 GB of depth. Problems are collected, not raised, so one broken file does not hide the
state of the other 860.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from kinact.core.errors import BadInputError

from . import msr_action3d, ntu, utd_mhad
from .detect import detect_format, scan_dir, utd_partner

TITLES = {"utd_mhad": "UTD-MHAD", "msr_action3d": "MSR Action3D", "ntu": "NTU RGB+D", "azure_json":
          "Azure Kinect body-tracking JSON", "azure_mkv": "Azure Kinect MKV", "kinrec": "kinact recording"}


def summarize(root: str | os.PathLike) -> dict:
    """A plain dict (JSON-friendly apart from tuples) describing a dataset folder or a single dataset file."""
    root = Path(root)
    if root.is_dir():
        files = scan_dir(root)
    elif root.is_file():
        files = {detect_format(root): [root]}
    else:
        raise BadInputError(root, "no such file or directory")
    if not files:
        raise BadInputError(root, "no dataset files found (UTD-MHAD .mat, MSR *_skeleton3D.txt, NTU .skeleton, "
                                  "Azure .json/.mkv, .kinrec)")
    fmt = max(files, key=lambda f: len(files[f]))
    if fmt == "utd_mhad":
        out = _utd(root, files[fmt])
    elif fmt == "msr_action3d":
        out = _skeleton_files(files[fmt], msr_action3d, lambda p: (msr_action3d.parse_name(p)[1],
                                                                 len(msr_action3d.read_array(p))))
    elif fmt == "ntu":
        out = _ntu(files[fmt])
    else:
        out = {"sequences": len(files[fmt]), "files": [str(p) for p in files[fmt]], "problems": []}
    out = {"root": str(root), "format": fmt, "title": TITLES[fmt], **out}
    others = {f: len(p) for f, p in files.items() if f != fmt}
    if others:
        out["other_formats"] = others
    return out


def _frame_stats(lengths) -> dict:
    if not lengths:
        return {}
    return {"min": int(min(lengths)), "median": float(np.median(lengths)), "max": int(max(lengths)),
            "total": int(sum(lengths))}


def _histograms(module, labels, subjects, lengths) -> dict:
    classes = Counter(labels)
    return {
        "layout": module.LAYOUT, "fps": module.FPS, "sequences": len(labels),
        "num_classes": len(module.CLASS_NAMES),
        "classes": {module.CLASS_NAMES[a - 1]: classes[a] for a in sorted(classes)},
        "subjects": dict(sorted(Counter(subjects).items())),
        "frames": _frame_stats(lengths),
    }


def _skeleton_files(paths, module, read) -> dict:
    """Shared loop for the one-file-per-sequence formats: read, tally, collect problems."""
    labels, subjects, lengths, problems = [], [], [], []
    for p in paths:
        try:
            subject, length = read(p)
            action = module.parse_name(p)
            action = action["action"] if isinstance(action, dict) else action[0]
        except BadInputError as exc:
            problems.append(str(exc))
            continue
        labels.append(action)
        subjects.append(subject)
        lengths.append(length)
    return {**_histograms(module, labels, subjects, lengths), "problems": problems}


def _ntu(paths) -> dict:
    multi = []
    empty = []

    def read(p):
        num_frames, ids = ntu.scan(p)
        if not ids:
            empty.append(p.name)
            raise BadInputError(p, f"no body tracked in any of its {num_frames} frames")
        if len(ids) > 1:
            multi.append(p.name)
        return ntu.parse_name(p)["subject"], num_frames

    out = _skeleton_files(paths, ntu, read)
    out["multi_body_files"] = len(multi)
    out["empty_files"] = len(empty)
    return out


def _utd(root: Path, skeleton_paths) -> dict:
    """Pairs skeleton and depth files; checks every depth header against its skeleton's frame count."""
    if root.is_dir():
        skels, depths = utd_mhad.find_files(root)
    else:  # a single file: pair it with its partner, if any
        key = utd_mhad.parse_name(root)
        is_depth = root.name.lower().endswith("_depth.mat")
        partner = utd_partner(root, "skeleton" if is_depth else "depth")
        skel, depth = (partner, root) if is_depth else (root, partner)
        skels = {key: skel} if skel else {}
        depths = {key: depth} if depth else {}
    labels, subjects, lengths, problems, depth_sizes = [], [], [], [], Counter()
    pairs = 0
    for key in sorted(skels):
        try:
            num_frames = len(utd_mhad.read_skeleton_array(skels[key]))
        except BadInputError as exc:
            problems.append(str(exc))
            continue
        labels.append(key[0])
        subjects.append(key[1])
        lengths.append(num_frames)
        if key not in depths:
            continue
        try:
            depth_frames, size = utd_mhad.depth_frames(depths[key])
        except BadInputError as exc:
            problems.append(str(exc))
            continue
        depth_sizes[size] += 1
        if depth_frames != num_frames:
            problems.append(f"{depths[key]}: {depth_frames} depth frames but its skeleton has {num_frames}")
            continue
        pairs += 1
    out = _histograms(utd_mhad, labels, subjects, lengths)
    out.update({
        "pairs": pairs,
        "skeleton_only": [skels[k].name for k in sorted(set(skels) - set(depths))],
        "depth_only": [depths[k].name for k in sorted(set(depths) - set(skels))],
        "depth_sizes": {f"{h}x{w}": n for (h, w), n in depth_sizes.items()},
        "problems": problems,
    })
    return out


def _histogram_lines(hist: dict, width: int = 84) -> list[str]:
    """Two columns when long, so 27 UTD classes (or 60 NTU ones) stay on one screen."""
    items = [f"{_clip(name, 34):<34} {count:>4}" for name, count in hist.items()]
    if len(items) <= 14:
        return ["    " + s for s in items]
    half = (len(items) + 1) // 2
    left, right = items[:half], items[half:] + [""]
    return [f"    {a}  {b}".rstrip()[:width] for a, b in zip(left, right)]


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def format_summary(d: dict) -> str:
    """A readable one-screen text of `summarize`'s dict."""
    lines = [f"{d.get('title', d.get('format'))} at {d.get('root')}"]
    if "pairs" in d:
        lines.append(f"  sequences: {d['sequences']} skeleton files, {d['pairs']} complete skeleton+depth pairs"
                     f" ({len(d['skeleton_only'])} skeleton only, {len(d['depth_only'])} depth only)")
        if d.get("depth_sizes"):
            lines.append("  depth: " + ", ".join(f"{n} × {s}" for s, n in d["depth_sizes"].items()))
    else:
        lines.append(f"  sequences: {d.get('sequences', 0)}")
    if "layout" in d:
        lines.append(f"  layout: {d['layout']}, {d['fps']:g} fps")
    f = d.get("frames")
    if f:
        lines.append(f"  frames per sequence: min {f['min']}, median {f['median']:g}, max {f['max']} "
                     f"({f['total']} in total)")
    if "multi_body_files" in d:
        lines.append(f"  files with more than one body: {d['multi_body_files']}; with no body: {d['empty_files']}")
    if d.get("subjects"):
        lines.append(f"  subjects ({len(d['subjects'])}): "
                     + "  ".join(f"{s}:{n}" for s, n in d["subjects"].items()))
    if d.get("classes"):
        lines.append(f"  classes ({len(d['classes'])} of {d['num_classes']}):")
        lines += _histogram_lines(d["classes"])
    for key, label in (("skeleton_only", "skeleton without depth"), ("depth_only", "depth without skeleton")):
        if d.get(key):
            shown = ", ".join(d[key][:5]) + (f", … ({len(d[key])} in all)" if len(d[key]) > 5 else "")
            lines.append(f"  {label}: {shown}")
    if d.get("other_formats"):
        lines.append("  also found: " + ", ".join(f"{n} {TITLES.get(k, k)}" for k, n in d["other_formats"].items()))
    problems = d.get("problems", [])
    lines.append(f"  problems: {len(problems) or 'none'}")
    lines += [f"    {p}" for p in problems[:10]]
    if len(problems) > 10:
        lines.append(f"    … and {len(problems) - 10} more")
    return "\n".join(lines)
