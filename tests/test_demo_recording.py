"""The bundled demo recording: reproducible from its seed, small, labelled with UTD-MHAD classes, marked synthetic."""
import numpy as np

from kinact.core import assets
from kinact.core.datasets.utd_mhad import CLASS_NAMES
from kinact.core.recording.kinrec import KinrecReader
from kinact.core.synthetic.demo import make_demo


def test_make_demo_is_reproducible_and_labelled(tmp_path):
    a, b = tmp_path / "a.kinrec", tmp_path / "b.kinrec"
    make_demo(a, seed=3, seconds=4.0)
    make_demo(b, seed=3, seconds=4.0)
    with KinrecReader(a) as ra, KinrecReader(b) as rb:
        assert ra.header.synthetic and ra.num_frames == rb.num_frames == 120
        for i in (0, 60, 119):
            fa, fb = ra.read_frame(i), rb.read_frame(i)
            np.testing.assert_array_equal(fa.depth, fb.depth)
            np.testing.assert_array_equal(fa.bodies[0].joints, fb.bodies[0].joints)
        for s in ra.segments:
            assert s.action in CLASS_NAMES and s.label == CLASS_NAMES.index(s.action)


def test_the_shipped_demo_is_small_synthetic_and_found_by_the_app():
    path = assets.demo_recording()
    assert path is not None and path.name == "demo.kinrec"
    assert path.stat().st_size <= 5 * 1024 * 1024
    with KinrecReader(path) as r:
        assert r.header.synthetic and r.duration >= 40 and len(r.segments) >= 8 and not r.problems


def test_replaying_a_synthetic_recording_says_so_in_the_source_name(tmp_path):
    from kinact.core.sources.replay import ReplaySource

    path = tmp_path / "s.kinrec"
    make_demo(path, seed=1, seconds=1.0)
    src = ReplaySource(str(path), speed=0)
    src.open()
    try:
        assert "SYNTHETIC" in src.describe()
    finally:
        src.close()
