"""One event per action: no flicker on noisy scores, a clear "no action", and clean ends."""
import numpy as np
import pytest

from kinact.core.pipeline.events import ActionEvent, EventConfig, EventDetector, motion_energy
from kinact.core.pipeline.fakes import pose

CLASSES = ["no_action", "wave", "clap"]


def scores(p_wave, p_clap=0.05):
    return np.array([max(0.0, 1 - p_wave - p_clap), p_wave, p_clap])


def run(det, seq, person=1, motion=None):
    events, decisions = [], []
    for i, s in enumerate(seq):
        d = det.update(person, i * 0.1, s, motion)
        events += d.events
        decisions.append(d)
    return events, decisions


def test_noisy_scores_around_the_threshold_give_one_event():
    rng = np.random.default_rng(0)
    # 20 quiet windows, 40 windows of a wave whose score wobbles between 0.45 and 0.95, 20 quiet windows
    seq = [scores(rng.uniform(0.0, 0.3)) for _ in range(20)]
    seq += [scores(rng.uniform(0.45, 0.95), 0.02) for _ in range(40)]
    seq += [scores(rng.uniform(0.0, 0.3)) for _ in range(20)]
    det = EventDetector(CLASSES, EventConfig(enter=0.6, exit=0.4, min_updates=2, no_action="no_action"))
    events, decisions = run(det, seq)
    assert [(e.kind, e.label) for e in events] == [("start", "wave"), ("end", "wave")]
    start, end = events
    assert 2.0 <= start.t <= 2.6 and 6.0 <= end.t <= 6.6
    assert end.confidence >= start.confidence  # the end carries the peak
    labels = [d.label for d in decisions]
    changes = sum(a != b for a, b in zip(labels, labels[1:]))
    assert changes == 2


def test_raw_argmax_would_have_flickered():
    """The same kind of sequence without hysteresis and smoothing flickers: the test above is not trivial."""
    rng = np.random.default_rng(0)
    seq = [scores(rng.uniform(0.3, 0.7)) for _ in range(40)]
    raw = [int(np.argmax(s)) for s in seq]
    assert sum(a != b for a, b in zip(raw, raw[1:])) > 5
    det = EventDetector(CLASSES, EventConfig(enter=0.6, exit=0.4, min_updates=3, no_action="no_action"))
    events, _ = run(det, seq)
    assert len(events) <= 2


def test_single_spike_does_not_start_an_event():
    det = EventDetector(CLASSES, EventConfig(min_updates=2, alpha=1.0, no_action="no_action"))
    seq = [scores(0.1)] * 5 + [scores(0.95)] + [scores(0.1)] * 5
    events, decisions = run(det, seq)
    assert events == []
    assert all(d.label is None for d in decisions)


def test_no_action_class_low_motion_and_uncertain_are_no_action():
    cfg = EventConfig(enter=0.6, exit=0.4, min_updates=1, alpha=1.0, motion_threshold=0.02, no_action="no_action")
    det = EventDetector(CLASSES, cfg)
    assert det.update(1, 0.0, np.array([0.8, 0.1, 0.1]), motion=0.1).state == "no_action"
    assert det.update(2, 0.0, np.array([0.1, 0.8, 0.1]), motion=0.001).state == "low_motion"
    assert det.update(3, 0.0, np.array([0.3, 0.4, 0.3]), motion=0.1).state == "uncertain"
    d = det.update(4, 0.0, np.array([0.1, 0.8, 0.1]), motion=0.1)
    assert d.state == "action" and d.label == "wave" and d.events[0].kind == "start"
    assert d.top5[0] == ("wave", pytest.approx(0.8))
    # the no-action class taking over ends a running action
    d = det.update(4, 0.1, np.array([0.9, 0.05, 0.05]), motion=0.1)
    assert [(e.kind, e.label) for e in d.events] == [("end", "wave")] and d.label is None


def test_a_stronger_action_takes_over_with_an_end_and_a_start():
    det = EventDetector(CLASSES, EventConfig(min_updates=2, alpha=1.0, no_action="no_action"))
    events, _ = run(det, [scores(0.9)] * 4 + [scores(0.1, 0.85)] * 4)
    assert [(e.kind, e.label) for e in events] == [("start", "wave"), ("end", "wave"), ("start", "clap")]
    assert events[1].t == events[2].t


def test_vanishing_person_ends_the_event_and_forgets_history():
    det = EventDetector(CLASSES, EventConfig(min_updates=1, alpha=1.0, no_action="no_action"))
    det.update(7, 1.0, scores(0.9))
    det.update(8, 1.0, scores(0.9))
    assert det.active(7) == "wave"
    assert det.vanish(7, 1.5) == [ActionEvent("end", 7, "wave", 1.5, pytest.approx(0.9))]
    assert det.vanish(7, 1.6) == [] and det.active(7) is None
    assert det.active(8) == "wave"  # the other person is untouched
    assert [e.person for e in det.finish(2.0)] == [8]


def test_unclassifiable_windows_end_an_action_after_min_updates():
    det = EventDetector(CLASSES, EventConfig(min_updates=2, alpha=1.0, no_action="no_action"))
    run(det, [scores(0.9)] * 3)
    d1 = det.update(1, 1.0, None)
    assert d1.label == "wave" and not d1.events
    d2 = det.update(1, 1.1, None)
    assert d2.state == "unclassifiable" and d2.events[0].kind == "end"


def test_mean_smoothing_and_config_validation():
    det = EventDetector(CLASSES, EventConfig(smoothing="mean", window=4, min_updates=1, no_action="no_action"))
    for s in [scores(0.1)] * 4:
        det.update(1, 0.0, s)
    d = det.update(1, 0.1, scores(0.9))
    assert d.scores[1] == pytest.approx((0.1 * 3 + 0.9) / 4)
    with pytest.raises(ValueError):
        EventConfig(enter=0.3, exit=0.5)
    with pytest.raises(ValueError):
        EventDetector(CLASSES, EventConfig(no_action="idle"))


def test_motion_energy_separates_waving_from_standing():
    rng = np.random.default_rng(1)
    still = np.stack([pose() for _ in range(30)]) + rng.normal(scale=0.004, size=(30, 20, 3))
    wave = still.copy()
    wave[:, 11, 0] += 0.25 * np.sin(np.linspace(0, 4 * np.pi, 30))  # right hand
    wave[:, 10, 0] += 0.2 * np.sin(np.linspace(0, 4 * np.pi, 30))  # right wrist
    assert motion_energy(still) < 0.015 < 0.1 < motion_energy(wave)
    conf = np.ones((30, 20))
    conf[:, 10:12] = 0.0  # the moving joints untracked: no motion evidence left
    assert motion_energy(wave, conf) < 0.015
    assert motion_energy(still[:1]) == 0.0


def test_one_flickering_joint_is_not_motion():
    rng = np.random.default_rng(2)
    still = np.stack([pose() for _ in range(30)]) + rng.normal(scale=0.004, size=(30, 20, 3))
    still[::2, 15] += 0.3  # a foot jumping between two estimates every other frame
    assert motion_energy(still) < 0.015


def test_fast_enter_starts_on_one_decisive_window_and_restarts_smoothing():
    cfg = EventConfig(min_updates=3, alpha=0.3, fast_enter=0.8, no_action="no_action")
    det = EventDetector(CLASSES, cfg)
    run(det, [scores(0.0)] * 5)
    d = det.update(1, 1.0, scores(0.75))  # below fast_enter: smoothing and min_updates as usual
    assert d.label is None and not d.events
    d = det.update(1, 1.1, scores(0.9))
    assert [(e.kind, e.label, e.t) for e in d.events] == [("start", "wave", 1.1)]
    assert d.scores[1] == pytest.approx(0.9)  # the smoothed scores restart at the decisive window
    d = det.update(1, 1.2, scores(0.6))  # and the stale pause scores do not end it again straight away
    assert d.label == "wave" and not d.events
    # without the rule the same windows need three updates of smoothed scores
    slow = EventDetector(CLASSES, EventConfig(min_updates=3, alpha=0.3, no_action="no_action"))
    run(slow, [scores(0.0)] * 5)
    assert not slow.update(1, 1.1, scores(0.9)).events


def test_fast_enter_respects_low_motion_and_a_confident_no_action():
    det = EventDetector(CLASSES, EventConfig(fast_enter=0.5, motion_threshold=0.02, no_action="no_action"))
    assert det.update(1, 0.0, scores(0.9), motion=0.001).label is None
    det = EventDetector(CLASSES, EventConfig(enter=0.9, fast_enter=0.3, no_action="no_action"))
    assert det.update(2, 0.0, np.array([0.6, 0.35, 0.05])).label is None  # no action still scores higher


def test_end_updates_lets_an_end_wait_longer_than_a_start():
    det = EventDetector(CLASSES, EventConfig(min_updates=1, end_updates=3, alpha=1.0, no_action="no_action"))
    events, decisions = run(det, [scores(0.0)] + [scores(0.9)] + [scores(0.0)] * 4)
    assert [(e.kind, e.t) for e in events] == [("start", pytest.approx(0.1)), ("end", pytest.approx(0.4))]
    # while the end waits, the action still runs but says it is ending (a display fades it)
    assert [(d.label, d.state) for d in decisions[1:5]] == [
        ("wave", "action"), ("wave", "ending"), ("wave", "ending"), (None, "no_action")]


def test_no_action_margin_lets_a_rising_action_start_before_no_action_has_decayed():
    s = np.array([0.5, 0.45, 0.05])
    plain = EventDetector(CLASSES, EventConfig(enter=0.4, min_updates=1, alpha=1.0, no_action="no_action"))
    assert plain.update(1, 0.0, s).state == "no_action"
    lenient = EventDetector(CLASSES, EventConfig(enter=0.4, min_updates=1, alpha=1.0, no_action="no_action",
                                                 no_action_margin=0.1))
    assert lenient.update(1, 0.0, s).label == "wave"
    strict = EventDetector(CLASSES, EventConfig(enter=0.4, min_updates=1, alpha=1.0, no_action="no_action",
                                                no_action_margin=-0.1))
    assert strict.update(1, 0.0, np.array([0.45, 0.5, 0.05])).state == "no_action"


def test_min_duration_holds_a_started_action_but_not_past_a_vanish():
    det = EventDetector(CLASSES, EventConfig(min_updates=1, alpha=1.0, min_duration=0.5, no_action="no_action"))
    events, _ = run(det, [scores(0.9)] + [scores(0.0)] * 8)  # windows every 0.1 s
    assert [(e.kind, e.t) for e in events] == [("start", 0.0), ("end", pytest.approx(0.5))]
    det.update(2, 0.0, scores(0.9))
    assert [e.kind for e in det.vanish(2, 0.1)] == ["end"]


def test_new_rule_settings_are_validated():
    for bad in ({"end_updates": 0}, {"fast_enter": 0.0}, {"fast_enter": 1.5}, {"min_duration": -1.0}):
        with pytest.raises(ValueError):
            EventConfig(**bad)
