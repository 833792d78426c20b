"""`kinact bench few-shot`: the person split, the shot draws, the report's shape and resuming, on tiny MSR files.

The files are in the exact MSR Action3D text format; each action moves a different joint group, so the
1-nearest-neighbour check also catches labels scrambled between import and training.
"""
from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest

from kinact.app.cli import main
from kinact.core.bench import few_shot as fs
from kinact.core.errors import KinactError
from kinact.core.layouts import CANONICAL, get_layout
from kinact.core.pipeline.fakes import pose
from kinact.core.skeleton_norm import NormRecipe
from kinact.core.training.kinrec_data import choose_holdout, load_recordings, person_list

from tiny_models import tiny_checkpoint

SUBJECTS = (1, 2, 3, 4)
EXECUTIONS = (1, 2)
FT = {"optim.epochs": 1, "optim.batch_size": 8}
SCRATCH = {"optim.batch_size": 8, "input.frames": 16, "input.features": ["joint", "bone", "velocity"],
           "model.tarm": "none", "model.channels": [8], "model.blocks": [1], "model.strides": [1]}


def write_msr(path, action: int, seed: int, frames: int = 12) -> None:
    """One aAA_sSS_eEE_skeleton3D.txt: a standing person moving the joint group of `action`, 20 lines a frame."""
    rng = np.random.default_rng(seed)
    x = np.repeat(pose(z=rng.uniform(2.3, 2.7))[None], frames, 0)
    i = fs.FEW_SHOT_ACTIONS.index(action) if action in fs.FEW_SHOT_ACTIONS else 6
    group = [j for j in range(len(CANONICAL.joints)) if j % 7 == i]
    phase = np.sin(np.linspace(0, np.pi, frames))[:, None]
    x[:, group, i % 3] += 0.4 * phase
    x += rng.normal(scale=0.003, size=x.shape)
    msr = np.zeros_like(x)
    msr[:, list(get_layout("msr_action3d").canonical_index)] = x
    path.write_text("".join(f"{a:.5f} {b:.5f} {c:.5f} 1.000000\n" for a, b, c in msr.reshape(-1, 3)))


@pytest.fixture(scope="module")
def msr_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("msr") / "skeleton"
    root.mkdir()
    n = 0
    for a in fs.FEW_SHOT_ACTIONS + (1,):  # action 1 (high arm wave) is not one of the six: never imported
        for s in SUBJECTS:
            for e in EXECUTIONS:
                write_msr(root / f"a{a:02d}_s{s:02d}_e{e:02d}_skeleton3D.txt", a, n)
                n += 1
    return root.parent


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", classes=("x", "y", "no_action"))


@pytest.fixture(scope="module")
def report(msr_dir, checkpoint, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    return fs.run_few_shot(msr_dir, checkpoint, work, shots=(1, 3), draws=2, train_persons=(1, 3),
                           test_persons=(2, 4), scratch_epochs=2, finetune_overrides=FT, scratch_overrides=SCRATCH)


def _subject(key: str) -> int:
    return int(re.match(r"a\d+_s(\d+)_e\d+\.kinrec@", key).group(1))


def test_only_the_six_actions_are_imported_one_recording_per_sequence(report):
    assert report["import"]["files"] == 6 * len(SUBJECTS) * len(EXECUTIONS)
    assert report["recordings"] == report["segments"] == 48
    assert report["actions"] == sorted(["hammer", "draw tick", "bend", "forward kick", "side kick", "golf swing"])


def test_no_test_person_trains_and_shots_per_class(report):
    assert len(report["runs"]) == 2 * 2 * 3
    for run in report["runs"]:
        subjects = {_subject(k) for k in run["train_keys"]}
        assert subjects <= {1, 3}, run
        assert run["train_persons"] == sorted(run["train_persons"]) and set(run["train_persons"]) <= {"1", "3"}
        # 2 training subjects x 2 executions = 4 segments of each action available
        assert set(run["train_per_class"].values()) == {min(run["k"], 4)}
        assert run["train_segments"] == 6 * min(run["k"], 4) == len(run["train_keys"])
        assert run["test_segments"] == 6 * 2 * 2  # every segment of subjects 2 and 4
    k1 = [r for r in report["runs"] if r["k"] == 1 and r["method"] == "knn"]
    assert k1[0]["train_keys"] != k1[1]["train_keys"]  # a draw is a different set of shots


def test_the_methods_share_each_draw_and_knn_recognises_the_actions(report):
    by = {(r["k"], r["draw"], r["method"]): r for r in report["runs"]}
    for k in (1, 3):
        for d in (0, 1):
            keys = {tuple(by[(k, d, m)]["train_keys"]) for m in fs.METHODS}
            assert len(keys) == 1
            assert by[(k, d, "knn")]["accuracy"] >= 0.9
            assert by[(k, d, "finetune")]["epochs"] == 1 and by[(k, d, "scratch")]["epochs"] == 2
            assert by[(k, d, "finetune")]["no_action_recall"] is not None  # the checkpoint's class kept
            assert by[(k, d, "scratch")]["no_action_recall"] is None


def test_summary_is_mean_and_sd_over_the_draws(report):
    runs = [r["accuracy"] for r in report["runs"] if r["k"] == 3 and r["method"] == "knn"]
    cell = report["summary"]["3"]["knn"]
    assert cell["n"] == 2 and cell["mean"] == pytest.approx(np.mean(runs))
    assert cell["sd"] == pytest.approx(np.std(runs, ddof=1))
    assert set(report["summary"]) == {"1", "3"} and set(report["summary"]["1"]) == set(fs.METHODS)
    assert report["summary"]["1"]["finetune"]["seconds_mean"] > 0
    assert set(report["goals"]["finetune_beats_scratch"]) == {"1", "3"}
    assert report["environment"]["torch_threads"] >= 1
    lines = fs.table_lines(report)
    assert len(lines) == 2 + 2 + 1 and "±" in lines[2]


def test_a_person_in_neither_part_is_refused(msr_dir, checkpoint, tmp_path):
    with pytest.raises(KinactError, match="neither"):
        fs.run_few_shot(msr_dir, checkpoint, tmp_path, shots=(1,), draws=1, train_persons=(1,),
                        test_persons=(2, 4), finetune_overrides=FT, scratch_overrides=SCRATCH)


def test_cli_prints_one_json_object_and_a_rerun_resumes(msr_dir, checkpoint, tmp_path, monkeypatch, capsys):
    from kinact.core.training import finetune

    tiny = functools.partial(fs.run_few_shot, train_persons=(1, 3), test_persons=(2, 4),
                             finetune_overrides=FT, scratch_overrides=SCRATCH)
    monkeypatch.setattr(fs, "run_few_shot", tiny)
    args = ["bench", "few-shot", "--data", str(msr_dir), "--from", checkpoint, "--shots", "2", "--draws", "1",
            "--scratch-epochs", "2", "--work", str(tmp_path / "work"),
            "--json", "--out", str(tmp_path / "fs.json"), "--quiet"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)  # exactly one object: json.loads fails on anything extra
    assert out["benchmark"] == "few_shot" and out["shots"] == [2] and out["draws"] == 1
    assert json.loads((tmp_path / "fs.json").read_text())["summary"] == out["summary"]
    assert {"finetune", "scratch", "knn"} == set(out["summary"]["2"])
    assert out["recipes"]["scratch"]["epochs"] == 2 and out["recipes"]["finetune"]["optim"]["epochs"] == 1

    def refuse(*a, **k):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(finetune, "train_kinrec", refuse)
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["summary"] == out["summary"]
    assert main(args[:-4] + ["--quiet"]) == 0  # the human table
    text = capsys.readouterr().out
    assert "fine-tune" in text and "goals" in text and not text.lstrip().startswith("{")


def test_holdout_of_several_persons(msr_dir, checkpoint, tmp_path):
    fs.import_msr(msr_dir, tmp_path / "recs")
    data = load_recordings(tmp_path / "recs", NormRecipe(frames=16))
    h = choose_holdout(data, "person", "2,4")
    assert h.value == "2,4"
    assert {data.recordings[i].person for i in h.test} == {"2", "4"}
    assert {data.recordings[i].person for i in h.train} == {"1", "3"}
    assert len(h.test) == len(h.train) == 24
    assert choose_holdout(data, "person", " 4, 2 ,4").test == sorted(h.test)  # spaces and repeats
    assert {data.recordings[i].person for i in choose_holdout(data, "person", "3").test} == {"3"}
    with pytest.raises(KinactError, match="'7'"):
        choose_holdout(data, "person", "2,7")
    with pytest.raises(KinactError, match="nothing would be left"):
        choose_holdout(data, "person", "1,2,3,4")
    assert person_list("a,b", ["a,b", "a"]) == ["a,b"]  # a name with a comma is taken whole
    assert person_list(None, ["1", "2"]) == ["2"]


def test_results_page_table_from_the_json(report, tmp_path):
    import importlib.util
    import os

    from kinact.app.commands.common import dumps

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "make_results.py")
    spec = importlib.util.spec_from_file_location("make_results", path)
    mr = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mr)
    assert mr.fewshot_section(tmp_path) == []  # no JSON yet: no section
    (tmp_path / "fewshot_msr.json").write_text(dumps(report))
    lines = mr.fewshot_section(tmp_path)
    assert lines[0] == "## Few-shot: your own actions (MSR Action3D, 6 actions new to the shipped model)"
    rows = [line for line in lines if line.startswith("| 1 |") or line.startswith("| 3 |")]
    knn = report["summary"]["3"]["knn"]
    assert len(rows) == 2 and f"{100 * knn['mean']:.1f}% ± {100 * knn['sd']:.1f}" in rows[1]


def test_a_new_fine_tuning_recipe_reuses_only_the_runs_it_cannot_change(tmp_path):
    import json

    from kinact.core.bench.few_shot import _load_done

    base = {"checkpoint": "m.safetensors", "checkpoint_bytes": 1, "finetune_overrides": {}, "scratch_overrides": {},
            "scratch_epochs": 30, "train_persons": ["1"], "test_persons": ["2"], "clips": 4}
    log = tmp_path / "runs.jsonl"
    log.write_text("".join(json.dumps({"settings": base, "method": m, "k": 1, "draw": 0, "run": {"method": m}}) + "\n"
                           for m in ("finetune", "scratch", "knn")) + "{cut by a kill\n")
    assert set(_load_done(str(log), base)) == {("finetune", 1, 0), ("scratch", 1, 0), ("knn", 1, 0)}
    new_ft = {**base, "finetune_overrides": {"optim.body_lr_scale": 1.0}}
    assert set(_load_done(str(log), new_ft)) == {("scratch", 1, 0), ("knn", 1, 0)}
    new_default = {**base, "finetune_optim": {"body_lr_scale": 1.0}}  # the default recipe itself changed
    assert set(_load_done(str(log), new_default)) == {("scratch", 1, 0), ("knn", 1, 0)}
    new_scratch = {**base, "scratch_epochs": 60}
    assert set(_load_done(str(log), new_scratch)) == {("finetune", 1, 0), ("knn", 1, 0)}
    assert _load_done(str(log), {**base, "clips": 5}) == {}  # other data: nothing is reused
