"""The rings must stay bounded however long the stream runs, and cut windows by time, not by count."""
import numpy as np
import pytest

from kinact.core.pipeline.buffer import BodyBuffer, DepthRing


def _sample(i):
    return np.full((20, 3), i, np.float32), np.full(20, 0.9, np.float32)


def test_body_buffer_is_bounded_and_keeps_the_newest():
    buf = BodyBuffer(capacity=10)
    for i in range(1000):
        buf.append(i / 30, *_sample(i))
    assert len(buf) == 10
    w = buf.window(100.0)
    assert len(w) == 10
    np.testing.assert_allclose(w.joints[:, 0, 0], np.arange(990, 1000))
    assert np.all(np.diff(w.times) > 0)
    assert buf.last_t == pytest.approx(999 / 30)


def test_window_is_cut_by_time_and_now():
    buf = BodyBuffer(capacity=200)
    for i in range(90):  # 3 s at 30 fps
        buf.append(i / 30, *_sample(i))
    w = buf.window(1.0)  # newest sample is t = 89/30
    assert len(w) == 30 and w.times[-1] == pytest.approx(89 / 30)
    assert w.times[0] > 89 / 30 - 1.0
    assert w.span == pytest.approx(29 / 30)
    mid = buf.window(0.5, now=1.0)  # an earlier moment: samples with 0.5 < t <= 1.0
    assert mid.times[0] > 0.5 and mid.times[-1] == pytest.approx(1.0)
    assert len(mid) == 15
    # the window is a copy: the ring overwriting itself must not change it
    before = w.joints.copy()
    for i in range(90, 400):
        buf.append(i / 30, *_sample(i))
    np.testing.assert_array_equal(w.joints, before)


def test_window_of_an_empty_buffer_and_time_going_back():
    buf = BodyBuffer(capacity=5)
    assert len(buf.window(1.0)) == 0
    for i in range(5):
        buf.append(10 + i, *_sample(i))
    buf.append(1.0, *_sample(99))  # a replay seeked back: old samples must not join the new ones
    w = buf.window(100.0)
    assert len(w) == 1 and w.times[0] == 1.0
    with pytest.raises(ValueError):
        BodyBuffer(0)


def test_depth_ring_is_bounded_shared_and_windowed():
    ring = DepthRing(capacity=8)
    frames = [np.full((4, 5), i, np.uint16) for i in range(50)]
    for i, d in enumerate(frames):
        ring.append(i / 10, d)
    assert len(ring) == 8
    times, imgs = ring.window(0.35)  # newest t = 4.9: frames 4.6, 4.7, 4.8, 4.9
    assert len(imgs) == 4 and times[-1] == pytest.approx(4.9)
    assert imgs[-1] is frames[-1]  # references, never copies: depth frames are large
    times, imgs = ring.window(10.0, now=4.5)
    assert times[-1] == pytest.approx(4.5) and len(imgs) == 4  # only 4.2..4.5 are still in the ring
    ring.clear()
    assert ring.window(1.0)[1] == []


def test_windows_match_a_plain_list_of_samples_however_the_ring_wraps():
    """The ring is stored twice over so a window is one slice; whatever it has wrapped, been cleared or restarted
    by time going back, a window must hold exactly the samples a plain list would give."""
    rng = np.random.default_rng(3)
    for capacity in (1, 2, 7, 64):
        buf, kept, t = BodyBuffer(capacity), [], 0.0
        for step in range(400):
            r = rng.uniform()
            if r < 0.01:
                buf.clear()
                kept = []
            t = t - rng.uniform(0, 2) if r > 0.99 else t + rng.choice([1 / 30, 1 / 15, 0.0])
            if kept and t < kept[-1][0]:  # a replay seeked back: the ring restarts
                kept = []
            j = rng.normal(size=(20, 3)).astype(np.float32)
            c = rng.uniform(size=20).astype(np.float32)
            buf.append(t, j, c)
            kept = (kept + [(t, j, c)])[-capacity:]
            assert len(buf) == len(kept) and buf.last_t == pytest.approx(kept[-1][0])
            seconds = rng.choice([0.2, 1.0, 100.0])
            now = None if rng.uniform() < 0.5 else t - rng.uniform(0, 1)
            w = buf.window(seconds, now=now)
            ref_now = kept[-1][0] if now is None else now
            sel = [s for s in kept if ref_now - seconds + 1e-6 < s[0] <= ref_now]
            assert len(w) == len(sel)
            if sel:
                np.testing.assert_array_equal(w.times, [s[0] for s in sel])
                np.testing.assert_array_equal(w.joints, np.stack([s[1] for s in sel]))
                np.testing.assert_array_equal(w.confidence, np.stack([s[2] for s in sel]))
                assert w.joints.flags.owndata and w.joints.flags.c_contiguous  # copies, not views of the ring


def test_a_window_is_all_usable_only_when_every_sample_in_it_was():
    buf = BodyBuffer(capacity=50)
    for i in range(60):
        buf.append(i / 30, *_sample(i), usable=i != 20)  # one sample the tracker found lacking
    assert buf.window(1.0).all_usable  # t in (29/30, 59/30]: the lacking sample is older
    assert not buf.window(2.0).all_usable and not buf.window(0.5, now=0.7).all_usable
    buf.append(59 / 30, *_sample(59))  # not said usable (the default: unknown)
    assert not buf.window(0.5).all_usable
    buf.append(0.0, *_sample(0), usable=True)  # a seek back restarts the ring, and what it knew
    assert buf.window(1.0).all_usable
