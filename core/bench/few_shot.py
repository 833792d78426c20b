"""Few-shot on real data: how many examples of a new action does a user need, and does the shipped model help?

The six MSR Action3D actions that UTD-MHAD has nothing close to (hammer, draw tick, bend, forward kick, side
kick, golf swing) stand in for "your own actions": every sequence is imported with `kinact import`'s code into
a `.kinrec` (one recording per sequence, its subject as the person, one labelled segment with the MSR class
name, 15 fps timestamps kept), then for each K and draw the same K shots per class from the training persons
(default the odd subjects) feed three learners, all tested on every segment of the test persons (the even
subjects):

* fine-tuning the checkpoint (`kinact train --from`, the `FINETUNE_OPTIM` recipe unchanged);
* the ours recipe from scratch (`kinact train` without `--from`) for `SCRATCH_EPOCHS` epochs: as many epochs,
  so as many optimiser steps, as fine-tuning, i.e. the same training budget; both reach ~100% training
  accuracy on the shots well before the end, so more epochs would mostly cost time;
* 1-nearest-neighbour on the same shots, with the checkpoint's normalisation and frame count.

The split is by person, not by sequence, because a user's new examples come from people the test never saw.
Draw d reuses seed d for the networks, so a draw is one reproducible experiment. Accuracy is over the action
segments; the fine-tuned model keeps the checkpoint's no-action class (as `kinact train --from` does) and may
also answer "no action" for a segment, which counts as wrong. The test part is scored only after the last
epoch (nothing here reads a curve, so nothing can be chosen on it). Finished runs are appended to
`WORK/runs.jsonl`; a rerun with the same work folder and settings skips them, since the CPU grid takes hours.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import shutil
import sys
import time

import numpy as np

#: MSR Action3D action numbers (1-based) with no UTD-MHAD counterpart.
FEW_SHOT_ACTIONS = (3, 8, 13, 14, 15, 19)
TRAIN_PERSONS = (1, 3, 5, 7, 9)
TEST_PERSONS = (2, 4, 6, 8, 10)
SHOTS = (1, 3, 5, 10)
DRAWS = 3
SCRATCH_EPOCHS = 30  # = FINETUNE_OPTIM["epochs"]: the same budget of steps (see the module docstring)
METHODS = ("finetune", "scratch", "knn")


def msr_files(data_dir, actions=FEW_SHOT_ACTIONS) -> list[str]:
    """MSR Action3D skeleton files of `actions` anywhere under `data_dir`, sorted by name."""
    from kinact.core.datasets.msr_action3d import NAME_RE

    found = []
    for folder, dirs, files in os.walk(os.fspath(data_dir)):
        dirs.sort()
        for f in files:
            m = NAME_RE.match(f)
            if m and int(m.group(1)) in actions:
                found.append(os.path.join(folder, f))
    return sorted(found, key=os.path.basename)


def import_msr(data_dir, folder, actions=FEW_SHOT_ACTIONS, say=lambda msg: None) -> dict:
    """Import every file of `actions` as `folder/aAA_sSS_eEE.kinrec`. Files already there are kept (the writer is
    atomic, so one that exists is complete); a file that cannot be read is listed, never silently dropped."""
    from kinact.core.errors import BadInputError, KinactError
    from kinact.core.recording.importers import import_file

    files = msr_files(data_dir, actions)
    if not files:
        raise KinactError(f"{data_dir}: no MSR Action3D files (aAA_sSS_eEE_skeleton3D.txt) of actions "
                          f"{', '.join(map(str, actions))}")
    os.makedirs(folder, exist_ok=True)
    new, failed = 0, []
    for src in files:
        out = os.path.join(folder, re.sub(r"_skeleton3D\.txt$", ".kinrec", os.path.basename(src), flags=re.I))
        if os.path.exists(out):
            continue
        try:
            import_file(src, out)
            new += 1
        except (BadInputError, KinactError) as exc:
            failed.append(f"{os.path.basename(src)}: {exc}")
            say(f"warning: {os.path.basename(src)} not imported ({exc})")
    return {"files": len(files), "imported_now": new, "failed": failed, "folder": os.fspath(folder)}


def _stats(values) -> dict:
    v = np.asarray([x for x in values if x is not None], float)
    if not len(v):
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "min": float(v.min()),
            "max": float(v.max()), "n": int(len(v))}


def summarise_runs(runs: list[dict], shots) -> dict:
    """{k: {method: accuracy stats + mean seconds}} over the draws."""
    out = {}
    for k in shots:
        row = {}
        for m in METHODS:
            mine = [r for r in runs if r["k"] == k and r["method"] == m]
            if mine:
                row[m] = {**_stats(r["accuracy"] for r in mine),
                          "seconds_mean": float(np.mean([r["seconds"] for r in mine]))}
        out[str(k)] = row
    return out


def _goals(summary: dict, shots) -> dict:
    mean = lambda k, m: (summary.get(str(k), {}).get(m) or {}).get("mean")  # noqa: E731
    beats = [None not in (mean(k, "finetune"), mean(k, "scratch")) and mean(k, "finetune") > mean(k, "scratch")
             for k in shots]
    ft5 = mean(5, "finetune")
    secs = [(summary[str(k)].get("finetune") or {}).get("seconds_mean") for k in shots if str(k) in summary]
    secs = [s for s in secs if s is not None]
    return {"finetune_beats_scratch_every_k": all(beats) if shots else None,
            "finetune_beats_scratch": {str(k): b for k, b in zip(shots, beats)},
            "finetune_k5_at_least_0.80": None if ft5 is None else ft5 >= 0.80,
            "finetune_under_120_s": None if not secs else max(secs) < 120.0}


def _environment() -> dict:
    import torch

    return {"torch_threads": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "cpu_count": os.cpu_count(), "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform()}


#: settings a method's result does not depend on, so changing them does not redo that method's runs
_IRRELEVANT = {"finetune": ("scratch_overrides", "scratch_epochs"), "scratch": ("finetune_overrides", "finetune_optim"),
               "knn": ("finetune_overrides", "finetune_optim", "scratch_overrides", "scratch_epochs")}


def _relevant(settings: dict, method: str) -> dict:
    return {k: v for k, v in settings.items() if k not in _IRRELEVANT.get(method, ())}


def _load_done(path: str, settings: dict) -> dict:
    """Finished runs of `path` whose settings match, per method: trying another fine-tuning recipe reuses the
    scratch and 1-NN runs, which it cannot change."""
    done = {}
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:  # a line cut by a kill: that run is simply redone
                    continue
                if isinstance(r.get("settings"), dict) and \
                        _relevant(r["settings"], r.get("method")) == _relevant(settings, r.get("method")):
                    done[(r["method"], r["k"], r["draw"])] = r["run"]
    return done


def run_few_shot(data_dir, checkpoint, work, shots=SHOTS, draws: int = DRAWS, train_persons=TRAIN_PERSONS,
                 test_persons=TEST_PERSONS, scratch_epochs: int = SCRATCH_EPOCHS, finetune_overrides=None,
                 scratch_overrides=None, methods=METHODS, say=None) -> dict:
    """The whole experiment (import, every K × draw × method); returns the report `kinact bench few-shot` prints.

    `finetune_overrides` / `scratch_overrides` (config keys, as `--set`) exist for tests that need a tiny run;
    the benchmark leaves them empty, so the recipes are exactly `kinact train`'s.
    """
    from kinact.core.checkpoint import read_meta
    from kinact.core.errors import KinactError
    from kinact.core.training.evaluate import knn_baseline
    from kinact.core.training.finetune import build_config, train_kinrec
    from kinact.core.training.kinrec_data import KinrecOptions, load_recordings, prepare

    say = say or (lambda msg: None)
    if set(map(str, train_persons)) & set(map(str, test_persons)):
        raise KinactError("a person cannot be both a training and a test person")
    checkpoint = os.path.abspath(os.fspath(checkpoint))
    meta = read_meta(checkpoint)
    ft_cfg = build_config(None, checkpoint, dict(finetune_overrides or {}))
    sc_cfg = build_config(None, None, {"optim.epochs": int(scratch_epochs), **dict(scratch_overrides or {})})
    env = _environment()
    folder = os.path.join(os.fspath(work), "recordings")
    imported = import_msr(data_dir, folder, say=say)
    say(f"[few-shot] {imported['files']} MSR files of actions {', '.join(map(str, FEW_SHOT_ACTIONS))} -> {folder}")
    data = load_recordings(folder, ft_cfg.input.norm(), say)
    sc_data = data if sc_cfg.input.norm() == ft_cfg.input.norm() else load_recordings(folder, sc_cfg.input.norm())
    persons = sorted({r.person for r in data.recordings}, key=lambda p: (len(p), p))
    train_p, test_p = [str(p) for p in train_persons], [str(p) for p in test_persons]
    # the run holds out the test persons and trains on the rest, so the rest must be exactly the training persons
    if other := [p for p in persons if p not in train_p and p not in test_p]:
        raise KinactError(f"persons {', '.join(other)} are in neither the training nor the test persons")
    settings = {"checkpoint": checkpoint, "checkpoint_bytes": os.path.getsize(checkpoint),
                "finetune_overrides": finetune_overrides or {}, "finetune_optim": dataclasses.asdict(ft_cfg.optim),
                "scratch_overrides": scratch_overrides or {},
                "scratch_epochs": int(scratch_epochs), "train_persons": train_p, "test_persons": test_p,
                "clips": len(data.clips)}
    actions = data.actions()
    log = os.path.join(os.fspath(work), "runs.jsonl")
    done = _load_done(log, settings)
    holdout = ",".join(test_p)
    runs = []
    for k in shots:
        for draw in range(draws):
            opts = KinrecOptions(None, "person", holdout, int(k), draw)
            prep = prepare(data, ft_cfg, meta.classes, opts)
            per_class = {a: n for a, n in prep.counts["train"].items() if a in actions}  # no no-action windows
            shot = {"train_segments": len(prep.train), "train_per_class": per_class,
                    "test_segments": len(prep.test), "train_keys": list(prep.train.keys),
                    "train_persons": sorted({data.recordings[i].person for i in prep.train.subjects.tolist()},
                                            key=lambda p: (len(p), p))}
            if unknown := set(shot["train_persons"]) - set(train_p):
                raise KinactError(f"persons {sorted(unknown)} would train although they are not training persons")
            for method in methods:
                if (method, k, draw) in done:
                    runs.append(done[(method, k, draw)])
                    continue
                t0 = time.perf_counter()
                run = {"method": method, "k": int(k), "draw": draw, **shot}
                if method == "knn":
                    run["accuracy"] = knn_baseline(prep.train, prep.test, frames=int(meta.frames))
                else:
                    cfg, d = (ft_cfg, data) if method == "finetune" else (sc_cfg, sc_data)
                    o = KinrecOptions(checkpoint if method == "finetune" else None, "person", holdout, int(k), draw)
                    out = os.path.join(os.fspath(work), "runs", f"{method}_k{k}_d{draw}")
                    r = train_kinrec(cfg, folder, out, draw, o, "cpu", False, d, eval_each_epoch=False)
                    if {a: r["data"]["class_counts"]["train"].get(a) for a in per_class} != per_class:
                        raise KinactError("the training run drew other shots than the benchmark recorded")
                    run.update(accuracy=r["test_accuracy"], train_accuracy=r["train_accuracy"], epochs=r["epochs"],
                               train_seconds=r["train_seconds"], no_action_recall=r.get("no_action_recall"),
                               per_class=r.get("per_class"))
                    shutil.rmtree(out, ignore_errors=True)  # 5 MB a run; the numbers are what is kept
                run["seconds"] = time.perf_counter() - t0
                runs.append(run)
                with open(log, "a") as f:
                    f.write(json.dumps({"settings": settings, "method": method, "k": int(k), "draw": draw,
                                        "run": run}) + "\n")
                say(f"[few-shot] k={k} draw {draw} {method:8s} accuracy {run['accuracy']:.3f}  "
                    f"{run['seconds']:.1f} s  (load {os.getloadavg()[0]:.1f})")
    summary = summarise_runs(runs, shots)
    env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    ft_recipe = "FINETUNE_OPTIM" + (" with overrides" if finetune_overrides else "")
    return {
        "benchmark": "few_shot", "data": os.path.abspath(os.fspath(data_dir)),
        "work": os.path.abspath(os.fspath(work)), "checkpoint": checkpoint,
        "checkpoint_dataset": meta.trained_on.get("dataset"),
        "actions": sorted(data.actions()), "msr_action_numbers": list(FEW_SHOT_ACTIONS), "import": imported,
        "recordings": len(data.recordings), "segments": len(data.clips), "skipped": list(data.skipped),
        "train_persons": train_p, "test_persons": test_p, "shots": [int(k) for k in shots], "draws": int(draws),
        "recipes": {"finetune": {"optim": ft_cfg.to_dict()["optim"], "recipe": ft_recipe,
                                 "no_action": bool(ft_cfg.data.no_action), "overrides": finetune_overrides or {}},
                    "scratch": {"config": sc_cfg.name, "optim": sc_cfg.to_dict()["optim"],
                                "epochs": int(sc_cfg.optim.epochs), "overrides": scratch_overrides or {}},
                    "knn": {"frames": int(meta.frames), "norm": dict(meta.norm)}},
        "device": "cpu", "environment": env, "runs": runs, "summary": summary,
        "goals": _goals(summary, list(shots)),
    }


def table_lines(report: dict) -> list[str]:
    """The human table: mean ± sd over the draws per K, and seconds per run."""
    s = report["summary"]
    env = report["environment"]
    lines = [f"few-shot on {len(report['actions'])} new actions ({', '.join(report['actions'])}); train persons "
             f"{','.join(report['train_persons'])}, test persons {','.join(report['test_persons'])}; "
             f"{report['draws']} draws; torch threads {env['torch_threads']}, load average "
             f"{(env['loadavg_start'] or [float('nan')])[0]:.1f}",
             "     k   fine-tune          scratch            1-NN               fine-tune s  scratch s"]
    cell = lambda m: "n/a" if not m or m["mean"] is None else f"{100 * m['mean']:5.1f}% ± {100 * m['sd']:4.1f}"  # noqa
    secs = lambda m: (m or {}).get("seconds_mean", float("nan"))  # noqa: E731
    for k in report["shots"]:
        row = s.get(str(k), {})
        ft, sc, kn = row.get("finetune"), row.get("scratch"), row.get("knn")
        lines.append(f"  {k:4d}   {cell(ft):17s}  {cell(sc):17s}  {cell(kn):17s}  {secs(ft):11.1f}  {secs(sc):9.1f}")
    g = report["goals"]
    lines.append(f"  goals: fine-tune beats scratch at every k: {g['finetune_beats_scratch_every_k']}; "
                 f">= 80% at k=5: {g['finetune_k5_at_least_0.80']}; under 120 s per fine-tune: "
                 f"{g['finetune_under_120_s']}")
    return lines


def progress_printer(quiet: bool):
    return (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
