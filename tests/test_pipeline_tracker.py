"""Person ids must follow people, not sensor slots: through crossings, exits and returns, and newcomers."""
import numpy as np
import pytest

from kinact.core.pipeline.fakes import body, pose
from kinact.core.pipeline.tracker import Tracker

FPS = 30.0


def run(tracker, frames):
    """frames: list of (t, [Body]) → list of {sensor id or list position: person} per frame."""
    out = []
    for t, bodies in frames:
        upd = tracker.update(t, bodies)
        out.append(upd)
    return out


def crossing(ids: bool, same_depth: bool, occlude_b=False, new_id_after_occlusion=False, seed=0):
    """A walks left→right, B right→left (B a smaller person), crossing at frame 30; bodies arrive in random order."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(61):
        t = i / FPS
        xa, xb = -1.0 + i / 30, 1.0 - i / 30
        a = body(10 if ids else -1, pose(xa, 2.5), noise=0.005, rng=rng)
        b_id = (21 if (new_id_after_occlusion and i > 33) else 20) if ids else -1
        b = body(b_id, pose(xb, 2.5 if same_depth else 2.9, scale=0.85), noise=0.005, rng=rng)
        hidden = occlude_b and 27 <= i <= 33
        bodies = [a] if hidden else [a, b]
        rng.shuffle(bodies)
        frames.append((t, bodies, hidden))
    return frames


def identities(tracker, frames):
    """Person id of A and of B per frame, told apart by size (A is the taller)."""
    pa, pb = [], []
    for t, bodies, hidden in frames:
        upd = tracker.update(t, bodies)
        for tb in upd.bodies:
            tall = np.ptp(tb.joints[:, 1]) > 1.55
            (pa if tall else pb).append(tb.person)
    return pa, pb


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("same_depth", [True, False])
def test_crossing_keeps_ids(ids, same_depth):
    pa, pb = identities(Tracker(), crossing(ids, same_depth))
    assert len(set(pa)) == 1 and len(set(pb)) == 1 and pa[0] != pb[0]


@pytest.mark.parametrize("ids", [True, False])
def test_crossing_with_occlusion_and_a_new_sensor_id_relinks(ids):
    """B is hidden behind A for 7 frames; with ids the sensor then gives B a new tracking id (as Kinects do)."""
    pa, pb = identities(Tracker(), crossing(ids, same_depth=False, occlude_b=True, new_id_after_occlusion=True))
    assert set(pa) == {pa[0]} and set(pb) == {pb[0]} and pa[0] != pb[0]


@pytest.mark.parametrize("ids", [True, False])
@pytest.mark.parametrize("gap, same", [(2.0, True), (4.0, False)])
def test_leave_and_return(ids, gap, same):
    tr = Tracker(relink_seconds=3.0)
    t, first = 0.0, None
    for i in range(30):
        first = tr.update(i / FPS, [body(5 if ids else -1, pose(0.5, 2.5))]).bodies[0].person
    t = 29 / FPS
    dropped = []
    for k in range(1, int(gap * FPS)):  # nobody in view; frames keep coming
        dropped += tr.update(t + k / FPS, []).dropped
    back = tr.update(t + gap, [body(6 if ids else -1, pose(0.6, 2.6))])  # a new tracking id, a step further
    dropped += back.dropped
    assert (back.bodies[0].person == first) is same
    assert (first in dropped) is (not same)
    if not same:
        assert back.new == [back.bodies[0].person]


def test_slot_order_reshuffles_while_tracking_ids_stay():
    """SDKs list bodies by slot; the slot order changes as people come and go but tracking ids do not."""
    tr = Tracker()
    seen = {}
    for i in range(40):
        a = body(72057594037928000, pose(-0.8, 2.5))  # Kinect v2 ids are large 64-bit numbers
        b = body(72057594037928111, pose(0.8, 2.5, scale=0.9))
        bodies = [a, b] if i % 3 else [b, a]
        for tb in tr.update(i / FPS, bodies).bodies:
            seen.setdefault(tb.sensor_id, set()).add(tb.person)
    assert all(len(v) == 1 for v in seen.values()) and len({next(iter(v)) for v in seen.values()}) == 2


def test_reused_slot_index_is_not_trusted_across_a_jump():
    """A source that reuses slot 0 for the next person must not hand them the previous person's id."""
    tr = Tracker()
    for i in range(10):
        p0 = tr.update(i / FPS, [body(0, pose(-1.0, 2.5))]).bodies[0].person
    newcomer = tr.update(10 / FPS, [body(0, pose(1.2, 3.0, scale=0.8))]).bodies[0].person
    assert newcomer != p0
    assert Tracker(trust_ids=False).update(0.0, [body(0, pose())]).bodies[0].sensor_id == 0


@pytest.mark.parametrize("ids", [True, False])
def test_third_person_walking_in_does_not_disturb_the_others(ids):
    tr = Tracker()
    persons = {"a": set(), "b": set(), "c": set()}
    for i in range(90):
        t = i / FPS
        bodies = [body(1 if ids else -1, pose(-0.6, 2.5)), body(2 if ids else -1, pose(0.6, 2.5, scale=0.9))]
        if i >= 30:  # C walks in from the right, between and behind A and B, and stops in the middle
            bodies.append(body(3 if ids else -1, pose(max(0.0, 2.0 - (i - 30) / 20), 3.0, scale=0.8)))
        upd = tr.update(t, bodies)
        for name, tb in zip("abc", upd.bodies):
            persons[name].add(tb.person)
        if i == 30:
            assert len(upd.new) == 1 and upd.new[0] == upd.bodies[2].person
    assert all(len(v) == 1 for v in persons.values())
    assert len(set.union(*persons.values())) == 3


def test_too_few_confident_joints_is_tracked_but_not_classifiable():
    tr = Tracker(min_joints=12)
    conf = np.zeros(20, np.float32)
    conf[:11] = 1.0
    upd = tr.update(0.0, [body(1, pose(), conf), body(2, pose(1.0))])
    half, whole = upd.bodies
    assert not half.classifiable and whole.classifiable
    assert half.person != whole.person
    conf[:12] = 1.0
    assert tr.update(0.1, [body(1, pose(), conf)]).bodies[0].classifiable


@pytest.mark.parametrize("how, expected", [("closest", "near"), ("central", "middle")])
def test_primary_choice(how, expected):
    tr = Tracker(primary=how)
    upd = tr.update(0.0, [body(1, pose(0.0, 3.5)), body(2, pose(1.2, 2.0))])
    names = {upd.bodies[0].person: "middle", upd.bodies[1].person: "near"}
    assert names[upd.primary] == expected
    assert [tb.primary for tb in upd.bodies].count(True) == 1


def test_primary_is_held_while_visible_and_repicked_when_lost():
    tr = Tracker(primary="closest", primary_hold_seconds=0.5)
    first = tr.update(0.0, [body(1, pose(0.0, 2.0)), body(2, pose(1.0, 3.0))]).primary
    for i in range(1, 30):  # the other person walks much closer: the chosen user is kept
        upd = tr.update(i / FPS, [body(1, pose(0.0, 2.0)), body(2, pose(1.0, 3.0 - i / 15))])
        assert upd.primary == first
    other = upd.bodies[1].person
    upd = tr.update(1.1, [body(2, pose(1.0, 1.0))])  # primary gone, but only for a moment
    assert upd.primary == first and not upd.bodies[0].primary
    upd = tr.update(1.7, [body(2, pose(1.0, 1.0))])  # gone for longer than the hold: re-pick
    assert upd.primary == other and upd.bodies[0].primary


def test_time_going_back_drops_everyone():
    tr = Tracker()
    p = tr.update(5.0, [body(1, pose())]).bodies[0].person
    upd = tr.update(1.0, [body(1, pose())])
    assert upd.dropped == [p] and upd.bodies[0].person != p


def test_new_tracking_id_next_to_a_just_lost_person_is_linked_only_if_the_body_fits():
    """The sensor drops A for a frame and reports a new id beside where A was: the same A (relink) or someone
    else entering (different bone lengths, new person)."""
    for scale, same in ((1.0, True), (0.75, False)):
        tr = Tracker()
        for i in range(10):
            a = tr.update(i / FPS, [body(1, pose(0.0, 2.5))]).bodies[0].person
        b = tr.update(10 / FPS, [body(2, pose(0.1, 2.5, scale=scale))]).bodies[0].person
        assert (a == b) is same
