"""The threaded runner: results flow, nothing queues behind a slow model or disk, sensors come back, stop is quick."""
import threading
import time

import numpy as np
import pytest

from kinact.core.frames import Frame
from kinact.core.pipeline import batched
from kinact.core.pipeline.engine import Engine
from kinact.core.pipeline.events import ActionEvent
from kinact.core.pipeline.fakes import FakeLiveSource, ListSource, RuleModel, body, pose
from kinact.core.pipeline.runner import Runner
from kinact.core.pipeline.worker import Prediction

FPS = 30.0


def frames(seconds, hand=(1.0, 2.0)):
    rng = np.random.default_rng(0)
    return [Frame(i / FPS, [body(3, pose(hand_up=hand[0] <= i / FPS < hand[1]), noise=0.003, rng=rng)], index=i)
            for i in range(int(seconds * FPS))]


def live_frame(i, t):
    return Frame(t, [body(1, pose(-0.5, hand_up=(t % 2) > 1)), body(2, pose(0.5))], index=i)


def wait_for(cond, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_finite_source_results_flow_and_events_close_at_the_end():
    seen = []
    runner = Runner(ListSource(frames(3.0, hand=(1.0, 9.0))), Engine(RuleModel(), stride=3), speed=0)
    runner.on_result(seen.append)
    runner.on_result(lambda item: 1 / 0)  # a broken display callback must not stop anything
    runner.start()
    items = list(runner.results(timeout=5.0))
    assert runner.join(2.0)
    st = runner.status()
    assert st.state == "ended" and st.frames_seen == 90 and st.source == "memory"
    assert items == seen and runner.callback_errors == len(seen)
    ev = [(e.kind, e.label) for e in items if isinstance(e, ActionEvent)]
    assert ev == [("start", "hand_up"), ("end", "hand_up")]  # still running at the end: closed by finish
    assert isinstance(runner.latest(), Prediction) and runner.latest(person=runner.latest().person) is not None
    lat = runner.latency()
    assert lat["count"] > 0 and 0 <= lat["p50"] <= lat["p95"]
    # as fast as possible, a file waits for the model: nothing dropped, the same answers as the synchronous engine
    sync = Engine(RuleModel(), stride=3)
    expected = [o for f in frames(3.0, hand=(1.0, 9.0)) for o in sync.feed(f)] + sync.finish()
    assert st.dropped_windows == 0
    assert [(type(o).__name__, getattr(o, "label", None)) for o in items] == \
        [(type(o).__name__, getattr(o, "label", None)) for o in expected]


def test_finite_source_is_paced_by_its_timestamps_unless_it_paces_itself():
    clip = frames(1.0)
    t0 = time.monotonic()
    Runner(ListSource(clip), Engine(RuleModel(), stride=3), speed=4.0).start().join(3.0)
    paced = time.monotonic() - t0
    t0 = time.monotonic()
    Runner(ListSource(clip, paced=True), Engine(RuleModel(), stride=3), speed=0.25).start().join(3.0)
    self_paced = time.monotonic() - t0
    assert 0.2 <= paced < 0.8 and self_paced < 0.2
    with pytest.raises(Exception):
        Runner(ListSource(clip), Engine(RuleModel()), speed=20)


def test_live_source_results_flow_and_stop_is_quick():
    runner = Runner(FakeLiveSource(live_frame, fps=60), Engine(RuleModel(), stride=4)).start()
    assert wait_for(lambda: runner.latest() is not None)
    st = runner.status()
    assert st.state == "connected" and st.persons == 2 and st.capture_fps > 20
    t0 = time.monotonic()
    runner.stop()
    assert time.monotonic() - t0 < 1.0
    assert not any(th.is_alive() for th in runner._threads)


def test_a_source_notice_reaches_the_status():
    """A sensor that works with less than asked (k4a without its body tracker) says so through the status."""
    src = FakeLiveSource(live_frame, fps=60)
    src.notice = "body tracking unavailable: streaming depth only"
    runner = Runner(src, Engine(RuleModel(), stride=4))
    assert runner.status().notice == ""
    runner.start()
    try:
        assert wait_for(lambda: runner.status().state == "connected")
        assert runner.status().notice == "body tracking unavailable: streaming depth only"
    finally:
        runner.stop()


def test_stop_is_quick_on_a_dead_sensor():
    runner = Runner(FakeLiveSource(live_frame, hang=True), Engine(RuleModel())).start()
    time.sleep(0.2)
    t0 = time.monotonic()
    runner.stop()
    assert time.monotonic() - t0 < 1.0


def test_slow_model_drops_stale_windows_and_latest_result_is_fresh():
    model = RuleModel(delay=0.12)
    source = FakeLiveSource(live_frame, fps=60)
    runner = Runner(source, Engine(model, stride=1)).start()
    time.sleep(1.2)
    newest = runner.latest_frame()[0].t
    latest = runner.latest()
    runner.stop()
    st = runner.status()
    assert st.dropped_windows > 30  # ~60 requests a second against ~8 answers
    assert len(model.batches) <= 1.3 / 0.12 + 1  # no backlog worked off behind the scenes
    assert newest - latest.t_frame < 0.4  # a queue would lag further behind every second
    assert set(model.batches) == {2}


def test_slow_model_on_a_finite_source_still_answers_for_the_last_frame():
    model = RuleModel(delay=0.1)
    clip = frames(1.5)
    runner = Runner(ListSource(clip), Engine(model, stride=1), speed=2.0).start()
    items = list(runner.results(timeout=5.0))
    preds = [p for p in items if isinstance(p, Prediction)]
    assert runner.status().dropped_windows > 0
    assert preds[-1].t_frame == pytest.approx(clip[-1].t)


def test_source_lost_reconnects_with_backoff_and_resumes():
    source = FakeLiveSource(live_frame, fps=60, lose_at={20}, failed_opens=2)
    runner = Runner(source, Engine(RuleModel(), stride=3), backoff=(0.05, 0.2))
    states = []
    stop_polling = threading.Event()

    def poll():
        while not stop_polling.is_set():
            states.append(runner.status().state)
            time.sleep(0.005)

    poller = threading.Thread(target=poll)
    runner.start()
    poller.start()
    assert wait_for(lambda: runner.status().frames_seen > 50, timeout=4.0)
    stop_polling.set()
    poller.join()
    runner.stop()
    assert "reconnecting" in states and states[-1] == "connected"
    assert source.events[:6] == ["open", "lost", "close", "open-failed", "close", "open-failed"]
    assert source.events[6:9] == ["close", "open", "close"] or source.events[6:8] == ["close", "open"]
    assert runner.status().error == ""


def test_stop_during_long_backoff_is_quick():
    source = FakeLiveSource(live_frame, lose_at={0}, failed_opens=100)
    runner = Runner(source, Engine(RuleModel()), backoff=(8.0, 8.0)).start()
    assert wait_for(lambda: runner.status().state == "reconnecting")
    t0 = time.monotonic()
    runner.stop()
    assert time.monotonic() - t0 < 1.0


class SlowWriter:
    def __init__(self, delay):
        self.delay, self.written, self.closed = delay, 0, False

    def write_frame(self, frame):
        time.sleep(self.delay)
        self.written += 1

    def close(self):
        self.closed = True


def test_slow_recorder_never_blocks_capture_and_counts_drops():
    writer = SlowWriter(0.05)
    clip = frames(3.0)
    runner = Runner(ListSource(clip), Engine(RuleModel(), stride=3), speed=0, recorder=writer, recorder_queue=4)
    t0 = time.monotonic()
    runner.start()
    assert wait_for(lambda: runner.status().frames_seen == len(clip), timeout=2.0)
    assert time.monotonic() - t0 < 0.2 * len(clip) * writer.delay  # capture did not wait for the disk
    assert runner.wait_recorder(2.0) and writer.closed
    st = runner.status()
    assert st.dropped_recorder_frames > 0
    assert writer.written + st.dropped_recorder_frames == len(clip)


def test_bad_file_is_an_error_not_a_retry_loop():
    class Broken(ListSource):
        def open(self):
            from kinact.core.errors import BadInputError
            raise BadInputError("x.kinrec", "not a recording")

    runner = Runner(Broken([]), Engine(RuleModel())).start()
    assert runner.join(1.0)
    st = runner.status()
    assert st.state == "error" and "not a recording" in st.error


def test_layout_mismatch_is_an_error_not_a_reconnect_loop():
    source = FakeLiveSource(live_frame)
    source.layout = "kinect_v2"  # says 25 joints, delivers 20
    runner = Runner(source, Engine(RuleModel()), backoff=(0.01, 0.01)).start()
    assert runner.join(2.0)
    st = runner.status()
    assert st.state == "error" and "25" in st.error and source.opens == 1


def test_capture_thread_prepares_and_results_equal_the_synchronous_engine():
    """The inference thread gets requests already prepared (normalised, stacked, motion measured) by the capture
    thread, so it spends its time in the model; what comes out is exactly what Engine.feed gives."""
    engine = Engine(RuleModel(), stride=2)
    prepared_on, infer_got = [], []
    prepare, infer = engine.prepare, engine.infer

    def spy_prepare(req):
        prepared_on.append(threading.current_thread().name)
        return prepare(req)

    def spy_infer(req):
        infer_got.append((threading.current_thread().name, req.prepared))
        return infer(req)

    engine.prepare, engine.infer = spy_prepare, spy_infer
    runner = Runner(ListSource(frames(3.0)), engine, speed=0)
    runner.start()
    items = list(runner.results(timeout=5.0))
    assert runner.join(2.0)
    assert prepared_on and set(prepared_on) == {"kinact-capture"}
    assert infer_got and set(infer_got) == {("kinact-inference", True)}
    assert all(p.latency_ms > 0 for p in items if isinstance(p, Prediction))
    sync = Engine(RuleModel(), stride=2)
    expected = [o for f in frames(3.0) for o in sync.feed(f)] + sync.finish()

    def key(o):
        return (type(o).__name__, o.person, getattr(o, "label", None), getattr(o, "t_frame", getattr(o, "t", None)),
                getattr(o, "motion", None), None if getattr(o, "probs", None) is None else o.probs.tolist())

    assert [key(o) for o in items] == [key(o) for o in expected]


def test_a_request_the_capture_thread_could_not_prepare_is_reported_by_inference(monkeypatch):
    """Preparing on the capture thread must not turn a bad window into a dead capture loop: the inference thread
    meets the same error and reports it, as it did when it prepared everything itself."""
    engine = Engine(RuleModel(), stride=3)
    engine.worker.skeleton_input = lambda w: 1 / 0
    monkeypatch.setattr(batched, "skeleton_inputs", lambda *a: 1 / 0)  # where fully tracked windows go instead
    runner = Runner(ListSource(frames(1.5)), engine, speed=0)
    runner.start()
    assert runner.join(5.0)
    st = runner.status()
    assert st.state == "ended" and st.frames_seen == 45
    assert "inference failed: ZeroDivisionError" in st.error
