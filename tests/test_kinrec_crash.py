"""A recorder killed with SIGKILL loses at most the last second: the promise the chunking is sized for."""
import os
import signal
import subprocess
import sys
import time

import pytest

from kinact.core.recording.kinrec import KinrecReader

RECORDER = r"""
import sys, time
import numpy as np
from kinact.core.frames import Body, Frame
from kinact.core.recording.kinrec import KinrecWriter

rng = np.random.default_rng(0)
w = KinrecWriter(sys.argv[1], "kinect_v2", 30)
print("ready", flush=True)
t0 = time.monotonic()
for i in range(100000):
    time.sleep(max(0.0, t0 + i / 30 - time.monotonic()))
    body = Body(7, rng.standard_normal((25, 3)).astype(np.float32), np.ones(25, np.float32))
    w.write_frame(Frame(i / 30, [body], rng.integers(500, 4000, (60, 80), dtype=np.uint16), index=i))
    print(i + 1, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_loses_at_most_the_last_second(tmp_path):
    path = tmp_path / "live.kinrec"
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGKILL)
        written = [int(line) for line in proc.stdout.read().split()]
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    n = written[-1]  # frames whose write_frame had returned when the kill came
    assert n >= 20
    with KinrecReader(path) as r:
        assert r.problems[0] == f"file was not closed cleanly (no summary): recovered {r.num_frames} frames"
        frames = list(r.iter_frames())
    got = [f.index for f in frames]
    assert got == list(range(len(got)))  # nothing missing in between, nothing out of order
    assert n - 30 <= len(got) <= n + 1  # +1: a frame written after its number was printed
    assert all(f.depth is not None and f.depth.shape == (60, 80) and len(f.bodies) == 1 for f in frames)
