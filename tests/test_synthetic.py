"""The synthetic performer is only worth having if its people are kinematically sound, do what their labels say,
sit on their own depth pixels and obey the Source contract: test exactly that."""
import time

import numpy as np
import pytest

from kinact.core.errors import KinactError
from kinact.core.layouts import CANONICAL_JOINTS
from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED, KINECT_V1_DEPTH, KINECT_V2_DEPTH
from kinact.core.sources.base import EndOfStream
from kinact.core.sources.registry import open_source
from kinact.core.sources.synthetic import SyntheticSource, parse_arg
from kinact.core.synthetic.actions import ScriptItem, all_actions, get, make_script, perform
from kinact.core.synthetic.scene import Performer, Scene
from kinact.core.synthetic.skeleton import (DOF, LIMITS, NEUTRAL, BodyParams, bone_lengths, flexion,
                                            forward_kinematics, mirror_pose)

J = {n: i for i, n in enumerate(CANONICAL_JOINTS)}
FPS = 30.0
UTD = ["right arm swipe to the left", "right arm swipe to the right", "right hand wave", "two hand front clap",
       "right arm throw", "cross arms in the chest", "basketball shoot", "right hand draw x",
       "right hand draw circle (clockwise)", "right hand draw circle (counter clockwise)", "draw triangle",
       "bowling (right hand)", "front boxing", "baseball swing from right", "tennis right hand forehand swing",
       "arm curl (two arms)", "tennis serve", "two hand push", "right hand knock on door",
       "right hand catch an object", "right hand pick up and throw", "jogging in place", "walking in place",
       "sit to stand", "stand to sit", "forward lunge (left foot forward)", "squat (two arms stretch out)"]
MSR = ["high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch", "high throw", "draw x",
       "draw tick", "draw circle", "hand clap", "two hand wave", "side-boxing", "bend", "forward kick", "side kick",
       "jogging", "tennis swing", "tennis serve", "golf swing", "pick up & throw"]


def _every_action_once():
    """Every action once, at nominal speed and size, 1.2 s apart, for one average person."""
    items, t = [], 1.0
    for k, a in enumerate(all_actions()):
        d = a.duration(a.reps[0])
        items.append(ScriptItem(a, t, t + d, a.reps[0], 1.0, 1.0, False, k))
        t += d + 1.2
    return items, t + 1.0


@pytest.fixture(scope="module")
def every_action():
    items, duration = _every_action_once()
    body = BodyParams()
    times = np.arange(int(duration * FPS)) / FPS
    q = perform(items, body, times, seed=1)
    joints = forward_kinematics(q, body, (0.0, 2.9), 0.0, -1.05)
    return items, times, q, joints


def test_every_dataset_class_has_an_action_with_its_exact_name():
    assert {a.utd for a in all_actions()} >= set(UTD)
    assert {a.msr for a in all_actions()} >= set(MSR)
    assert len({a.key for a in all_actions()}) == len(all_actions())
    assert get("right hand wave").msr == "high arm wave" and get("JOGGING").key == "jogging"
    with pytest.raises(KinactError):
        get("moonwalk")


def test_bones_keep_their_length_through_every_action(every_action):
    _, _, _, joints = every_action
    bl = bone_lengths(joints)
    assert np.abs(bl - bl[0]).max() < 1e-9
    assert bl.min() > 0.05


def test_joint_angles_stay_inside_their_limits(every_action):
    _, _, q, joints = every_action
    assert (q >= LIMITS[:, 0] - 1e-9).all() and (q <= LIMITS[:, 1] + 1e-9).all()
    for s in ("left", "right"):
        el = flexion(joints, f"shoulder_{s}", f"elbow_{s}", f"wrist_{s}")
        kn = flexion(joints, f"hip_{s}", f"knee_{s}", f"ankle_{s}")
        assert el.min() >= -1e-6 and el.max() <= 150.5
        assert kn.min() >= -1e-6 and kn.max() <= 150.5


def test_feet_stay_on_the_floor_and_the_body_stays_upright(every_action):
    _, _, q, joints = every_action
    floor = -1.05
    lowest = np.minimum(joints[:, J["foot_left"], 1], joints[:, J["foot_right"], 1])
    rise = q[:, DOF["root_up"]] * BodyParams().height  # up on the toes to reach high (shoot, catch)
    assert np.all(lowest > floor) and np.all(lowest < floor + 0.06 + rise)  # one foot always carries the weight
    assert rise.max() < 0.12
    assert np.all(joints[:, J["head"], 1] > joints[:, J["hip_center"], 1])


def _path(joints, sl, name, relative=True):
    p = joints[sl, J[name]] - (joints[sl, J["hip_center"]] if relative else 0)
    return float(np.linalg.norm(np.diff(p, axis=0), axis=-1).sum())


def test_each_action_moves_the_body_part_it_is_named_after(every_action):
    items, times, _, joints = every_action
    for it in items:
        sl = slice(int(it.t_start * FPS), int(it.t_end * FPS))
        a = it.action
        moved = max(np.linalg.norm(joints[sl, J[n]] - joints[sl.start, J[n]], axis=-1).max() for n in a.moves)
        assert moved > 0.2, (a.key, moved)
        one_sided = all("right" in n for n in a.moves) or all("left" in n for n in a.moves)
        if one_sided:
            for n in a.moves:
                twin = n.replace("right", "#").replace("left", "right").replace("#", "left")
                assert _path(joints, sl, n) > 1.4 * _path(joints, sl, twin), a.key  # twists move both
    seg = {it.action.key: slice(int(it.t_start * FPS), int(it.t_end * FPS)) for it in items}
    assert _path(joints, seg["right_hand_wave"], "hand_right") > 4 * _path(joints, seg["right_hand_wave"], "hand_left")
    for kick, foot in (("forward_kick", "foot_right"), ("side_kick", "foot_right")):
        assert joints[seg[kick], J[foot], 1].max() - joints[seg[kick].start, J[foot], 1] > 0.35
    for knee in ("knee_left", "knee_right"):
        assert np.ptp(joints[seg["jogging"], J[knee], 1]) > 0.15
        assert np.ptp(joints[seg["walking"], J[knee], 1]) > 0.05
    hip = joints[:, J["hip_center"], 1]
    assert hip[seg["squat"].start] - hip[seg["squat"]].min() > 0.3
    assert hip[seg["stand_to_sit"].start] - hip[seg["stand_to_sit"].stop] > 0.3
    head = joints[:, J["head"], 1]
    assert head[seg["bend"].start] - head[seg["bend"]].min() > 0.3
    lunge = joints[seg["forward_lunge"], J["foot_left"], 2]  # the left foot steps toward the sensor
    assert lunge[0] - lunge.min() > 0.4
    both = seg["clap"]
    gap = np.linalg.norm(joints[both, J["hand_left"]] - joints[both, J["hand_right"]], axis=-1)
    assert gap.min() < 0.15 and gap.max() > 0.35


def test_clockwise_circle_turns_clockwise_as_the_performer_sees_it(every_action):
    items, _, _, joints = every_action
    for key, sign in (("draw_circle_cw", -1), ("draw_circle_ccw", 1)):
        it = next(i for i in items if i.action.key == key)
        h = joints[int(it.t_start * FPS) + 20:int(it.t_end * FPS) - 20, J["hand_right"]]
        # the performer faces -z, so their right is +x; seen from behind them, clockwise is negative area in
        # the (x, y) plane
        x, y = h[:, 0] - h[:, 0].mean(), h[:, 1] - h[:, 1].mean()
        area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
        assert np.sign(area) == sign, key


def test_a_performance_stands_still_at_both_ends_of_its_labelled_span(every_action):
    """Dataset clips start and end standing; a model reading a whole span expects the motion inside it."""
    items, times, _, joints = every_action
    for it in items:
        a, b = np.searchsorted(times, [it.t_start, it.t_end])
        lead, tail = (int(s * FPS / 2) for s in it.action.still)  # the outer halves: key timing varies
        for sl in (slice(a, a + lead), slice(b - tail, b)):
            drift = np.linalg.norm(joints[sl] - joints[sl][:1], axis=-1).max()
            assert drift < 0.05, (it.action.key, drift)  # idle sway and breathing only
        assert np.linalg.norm(joints[a:b] - joints[a], axis=-1).max() > 0.2, it.action.key


def test_drawn_figures_put_the_hand_where_the_figure_is():
    from kinact.core.synthetic.reach import reach
    from kinact.core.synthetic.skeleton import DOF, body_frame_joints

    body = BodyParams()
    arm = sum(body.length(n) for n in ("upper_arm", "forearm", "hand"))
    points = [(0.45, 0.5, 0.63), (-0.55, -0.35, 0.55), (0.0, -0.45, 0.7), (-0.5, 0.5, 0.45)]
    for side, name, sign in (("r", "right", 1.0), ("l", "left", -1.0)):
        rest = body_frame_joints(NEUTRAL, body)[J[f"shoulder_{name}"]]
        for (x, y, z), (_, pose) in zip(points, reach(points, 0.2, side)):
            q = NEUTRAL.copy()
            for k, v in pose.items():
                q[DOF[k]] = v
            hand = body_frame_joints(q, body)[J[f"hand_{name}"]]
            assert np.abs(hand - rest - arm * np.array([sign * x, y, z])).max() < 0.01
    with pytest.raises(ValueError):
        reach([(0.9, 0.0, 0.9)], 0.2)  # beyond arm's length


def test_mirrored_performance_uses_the_other_hand():
    a = get("hammer")
    assert a.mirrorable and not get("right hand wave").mirrorable
    body = BodyParams()
    times = np.arange(0, a.duration(2) + 2.0, 1 / FPS)
    for mirrored, busy, idle in ((False, "hand_right", "hand_left"), (True, "hand_left", "hand_right")):
        item = ScriptItem(a, 0.5, 0.5 + a.duration(2), 2, 1.0, 1.0, mirrored, 0)
        j = forward_kinematics(perform([item], body, times, 0), body)
        assert _path(j, slice(None), busy) > 3 * _path(j, slice(None), idle)
    assert np.allclose(mirror_pose(mirror_pose(NEUTRAL + 3.0)), NEUTRAL + 3.0)


def test_scripts_are_reproducible_and_start_and_end_standing():
    a, b, c = make_script(4, 60.0), make_script(4, 60.0), make_script(5, 60.0)
    assert a == b and a != c
    for script in (a, c, make_script(1, 40.0, ["sit to stand"]), make_script(2, 30.0, ["stand to sit", "squat"])):
        assert script and script[0].t_start >= 0.8
        assert script[-1].t_end <= (40.0 if len(script) else 0) + 20.0
        state = "stand"
        for prev, it in zip([None] + script[:-1], script):
            assert it.action.start == state and it.t_end > it.t_start
            assert prev is None or it.t_start > prev.t_end
            assert 0.8 <= it.speed <= 1.2
            state = it.action.end
        assert state == "stand"
    assert make_script(0, 2.0) == []


def test_scene_frames_are_deterministic_and_random_access():
    s1 = Scene.random(seed=3, people=2, duration=6.0)
    s2 = Scene.random(seed=3, people=2, duration=6.0)
    f_late, _ = s1.frame_at(120)
    f_early, _ = s1.frame_at(10)
    assert np.array_equal(f_late.depth, s2.frame_at(120)[0].depth)
    assert np.array_equal(f_late.depth, s1.frame_at(120)[0].depth)
    assert np.array_equal(f_early.bodies[1].joints, s2.frame_at(10)[0].bodies[1].joints)
    other = Scene.random(seed=4, people=2, duration=6.0).frame_at(120)[0]
    assert not np.array_equal(f_late.bodies[0].joints, other.bodies[0].joints)


def test_segments_match_labels_and_pauses_are_still():
    scene = Scene.random(seed=11, people=2, duration=40.0, depth=False)
    segs = scene.segments
    assert {s.body_id for s in segs} == {1, 2} and all(len(s) == 4 for s in segs)
    for bid in (1, 2):
        mine = [s for s in segs if s.body_id == bid]
        assert all(0 < s.start_s < s.end_s <= scene.duration for s in mine)
        assert all(b.start_s > a.end_s for a, b in zip(mine, mine[1:]))
        active = np.zeros(scene.num_frames, bool)
        for s in mine:
            idx = np.arange(int(np.ceil(s.start_s * FPS)), int(np.ceil(s.end_s * FPS)))
            assert all(scene.labels_at(i)[bid] == s.action for i in idx[::7])
            active[idx] = True
        assert all(scene.labels_at(i)[bid] is None for i in np.flatnonzero(~active)[::5])
        j = scene.joints[bid]
        speed = np.linalg.norm(np.diff(j, axis=0), axis=-1).max(-1) * FPS  # fastest joint, m/s
        quiet = ~np.convolve(active, np.ones(15), mode="same").astype(bool)[1:]  # pauses minus 0.25 s margins
        assert quiet.sum() > 60
        assert np.percentile(speed[quiet], 95) < 0.25
        assert np.median(speed[active[1:]]) > 3 * np.median(speed[quiet])


@pytest.mark.parametrize("intrinsics,sensor", [(KINECT_V1_DEPTH, "kinect_v1"), (KINECT_V2_DEPTH, "kinect_v2"),
                                               (AZURE_NFOV_UNBINNED, "kinect_v2")])
def test_projected_joints_land_on_their_own_body(intrinsics, sensor):
    for noise, background in ((False, "full"), (True, "removed")):
        scene = Scene.random(seed=2, people=2, duration=15.0, intrinsics=intrinsics, sensor=sensor,
                             background=background, noise=noise)
        checked = 0
        for i in range(0, scene.num_frames, 37):
            frame, _ = scene.frame_at(i)
            assert frame.depth.shape == intrinsics.shape and frame.depth.dtype == np.uint16
            _, ids = scene.renderer.render_z([(p.id, scene.joints[p.id][i], p.body) for p in scene.performers])
            for body in frame.bodies:
                for name in ("head", "hand_left", "hand_right", "spine", "knee_left", "foot_right"):
                    if body.confidence[J[name]] < 1:
                        continue  # hidden behind the other person or out of view
                    z = body.joints[J[name], 2]
                    u, v = np.rint(intrinsics.project(body.joints[J[name]])).astype(int)
                    assert ids[v, u] == body.id, (name, i)  # the pixel shows this person (maybe their arm)
                    patch = frame.depth[max(v - 1, 0):v + 2, max(u - 1, 0):u + 2].astype(float)
                    patch = patch[patch > 0] / 1000
                    assert patch.size, (name, i)
                    # the joint is inside the body: the surface seen there is in front of it, but not far
                    assert patch.min() < z + 0.05 and patch.max() > z - 0.6, (name, i)
                    if not noise and name in ("head", "hand_left", "hand_right"):
                        assert z - 0.15 < patch.min() < z, (name, i)
                    checked += 1
            if background == "removed":
                assert (frame.depth > 0).mean() < 0.2
        assert checked > 50


def test_people_keep_their_ids_stay_apart_and_occlude_correctly():
    for people in (2, 3):
        scene = Scene.random(seed=people, people=people, duration=20.0)
        assert scene.min_separation() > 0.3
        for i in (0, 200, 599):
            frame, labels = scene.frame_at(i)
            ids = list(range(1, people + 1))
            assert [b.id for b in frame.bodies] == ids and sorted(labels) == ids
    # one person straight behind another: the one in front owns the pixels, the one behind has inferred joints
    script = make_script(1, 6.0, ["squat"])
    scene = Scene([Performer([], BodyParams(1.5), (0.0, 2.6)), Performer(script, BodyParams(1.95), (0.05, 3.4))],
                  noise=False)
    frame, _ = scene.frame_at(0)
    front, back = frame.bodies
    assert front.confidence.min() == 1.0
    assert back.confidence[J["spine"]] == 0.5 and back.confidence[J["head"]] == 1.0  # head shows above
    zf, ids = scene.renderer.render_z([(b.id, b.joints, p.body) for b, p in zip(frame.bodies, scene.performers)])
    u, v = np.rint(KINECT_V1_DEPTH.project(front.joints[J["spine"]])).astype(int)
    assert ids[v, u] == 1 and abs(zf[v, u] - front.joints[J["spine"], 2]) < 0.15


def test_source_obeys_the_source_contract():
    src = SyntheticSource(duration=2.0, fps=15.0, seed=1)
    assert src.name == "synthetic" and src.synthetic and not src.live and src.layout == "kinect_v1"
    assert src.intrinsics == KINECT_V1_DEPTH and SyntheticSource.is_available()
    with pytest.raises(KinactError):
        src.read()
    frames = []
    with src:
        while True:
            try:
                frames.append(src.read(timeout=0.1))
            except EndOfStream:
                break
    src.close()
    assert len(frames) == 30 and [f.index for f in frames] == list(range(30))
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))
    f = frames[3]
    assert f.depth.shape == (240, 320) and [b.id for b in f.bodies] == [1]
    assert f.bodies[0].joints.shape == (20, 3) and f.bodies[0].confidence.shape == (20,)
    assert isinstance(src.segments, list)


def test_source_options_spec_loop_and_pacing():
    assert parse_arg("people=2, seed=3,actions=squat+right hand wave") == {
        "people": 2, "seed": 3, "actions": ["squat", "right hand wave"]}
    assert parse_arg("7") == {"seed": 7}
    for bad in ("people", "colour=red", "people=two", "loop=maybe"):
        with pytest.raises(KinactError):
            parse_arg(bad)
    with pytest.raises(KinactError):
        SyntheticSource("people=4")
    src = open_source("synthetic:people=3,seed=2,sensor=kinect_v2,duration=1,loop=1,actions=clap", depth=False)
    assert src.intrinsics == KINECT_V2_DEPTH and src.options["actions"] == ["clap"]
    src.open()
    frames = [src.read() for _ in range(2 * src.num_frames + 3)]
    src.close()
    assert frames[-1].index == 2 * src.num_frames + 2 and frames[-1].depth is None
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))
    assert np.array_equal(frames[1].bodies[2].joints, frames[src.num_frames + 1].bodies[2].joints)
    wide = SyntheticSource("sensor=kinect_v2,duration=1")
    with wide:
        assert wide.read().depth.shape == (424, 512)
    paced = SyntheticSource(duration=3.0, fps=10.0, paced=True, depth=False)
    with paced:
        assert paced.read() is not None
        assert paced.read(timeout=0.0) is None  # the next frame is not due for 0.1 s
        t = time.monotonic()
        assert paced.read(timeout=1.0).index == 1
        assert time.monotonic() - t < 0.5
        paced.seek(25)
        assert paced.read(timeout=1.0).index == 25
