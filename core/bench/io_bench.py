"""How fast and how big .kinrec recordings are, measured against plain np.save in the same run.

The claim to check is that a recording keeps up with a live sensor (30 fps of 512×424 depth plus a
skeleton, on one core, with room to spare) and costs less disk than raw arrays. Measuring against np.save
on the same machine in the same run makes the numbers comparable across machines: the ratios matter more
than the absolute frame rates. The reference stores, per frame, one depth .npy and one skeleton .npy
(bodies × joints × [x, y, z, confidence] float32), which is what "just dump the arrays" looks like
for a streaming recorder.

Synthetic depth is built to compress like the real thing rather than perfectly: a back wall and a floor
plane, a box, a moving person-shaped blob with rounded depth, depth-dependent sensor noise, dropout holes,
an IR shadow beside the person and the invalid corners of a Kinect v2 image. An all-random image is
measured too, as the worst case for compression. Files are read back while still in the page cache, for
both formats alike: this measures decoding, not the disk.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from kinact.core.frames import Body, Frame
from kinact.core.layouts import KINECT_V1, KINECT_V2, LAYOUTS


def synthetic_depth(n: int, shape=(424, 512), fps: float = 30.0, seed: int = 0):
    """Yield n (H, W) uint16 depth images (millimetres) of a person moving in a room."""
    rng = np.random.default_rng(seed)
    h, w = shape
    f = 0.714 * w  # Kinect v2's focal length relative to the image width
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    horizon = 0.45 * h
    with np.errstate(divide="ignore"):
        floor = np.where(v > horizon + 1, 1000.0 * f / (v - horizon), np.inf)
    room = np.minimum(np.float32(4200) - 0.3 * np.abs(u - w / 2), floor).astype(np.float32)
    box = (u > 0.05 * w) & (u < 0.25 * w) & (v > 0.5 * h) & (v < 0.8 * h)
    room[box] = 2900 + 0.5 * (u[box] - 0.05 * w)
    r = np.hypot((u - w / 2) / (w / 2), (v - h / 2) / (h / 2))
    corners = r > 1.25
    for k in range(n):
        ph = 2 * np.pi * k / (fps * 4)  # a 4-second sway
        cx, cy, z0 = w * (0.5 + 0.2 * np.sin(ph)), h * 0.5, 2200.0 + 300 * np.cos(ph)
        s = 1000.0 * f / z0 / 6  # pixels per ~17 cm at the person's distance
        torso = ((u - cx) / (1.1 * s)) ** 2 + ((v - cy) / (2.2 * s)) ** 2
        head = ((u - cx) / (0.6 * s)) ** 2 + ((v - cy + 3.0 * s) / (0.7 * s)) ** 2
        arm_y = cy - 1.2 * s + 1.5 * s * np.sin(3 * ph)
        arms = (np.abs(v - arm_y) < 0.35 * s) & (np.abs(u - cx) < 3.2 * s)
        legs = (np.abs(np.abs(u - cx) - 0.5 * s) < 0.35 * s) & (v > cy + 1.5 * s) & (v < cy + 5.5 * s)
        body = (torso < 1) | (head < 1) | arms | legs
        depth = room.copy()
        depth[body] = z0 + 120 * np.minimum(torso[body], 1.0)
        depth += rng.standard_normal(shape, dtype=np.float32) * (1.5 + 2.5e-7 * depth * depth)
        shadow = np.roll(body, int(0.15 * s) + 1, axis=1) & ~body
        holes = corners | shadow | (rng.random(shape, dtype=np.float32) < 0.01) | ~np.isfinite(depth)
        depth[holes] = 0
        yield np.clip(depth, 0, 8000).astype(np.uint16)


def synthetic_bodies(k: int, joints: int, bodies: int, fps: float) -> list[Body]:
    t = k / fps
    out = []
    for b in range(bodies):
        base = np.linspace([-0.3, -0.8, 2.2], [0.3, 0.8, 2.4], joints, dtype=np.float32) + [0.8 * b, 0, 0]
        wobble = 0.05 * np.sin(2 * np.pi * (t + np.arange(joints) / joints))[:, None].astype(np.float32)
        out.append(Body(100 + b, (base + wobble).astype(np.float32), np.ones(joints, np.float32)))
    return out


def _layout_for(joints: int) -> str:
    for lay in (KINECT_V2, KINECT_V1, *LAYOUTS.values()):
        if lay.num_joints == joints:
            return lay.name
    raise ValueError(f"no layout has {joints} joints")


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir())


def _bench_kinrec(frames, path, fps, layout):
    from kinact.core.recording.kinrec import KinrecReader, KinrecWriter

    t0, c0 = time.perf_counter(), time.process_time()
    with KinrecWriter(path, layout, fps, synthetic=True) as w:
        for fr in frames:
            w.write_frame(fr)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    with KinrecReader(path) as r:
        n = sum(1 for _ in r.iter_frames())
    read = time.perf_counter() - t0
    order = np.random.default_rng(1).permutation(len(frames))[:200]
    t0 = time.perf_counter()
    with KinrecReader(path) as r:
        for i in order:
            r.read_frame(int(i))
    rand = time.perf_counter() - t0
    assert n == len(frames)
    return len(frames) / wall, len(frames) / cpu, n / read, len(order) / rand, os.path.getsize(path)


def _bench_npy(frames, folder: Path):
    folder.mkdir()
    t0 = time.perf_counter()
    for k, fr in enumerate(frames):
        np.save(folder / f"{k:06d}_depth.npy", fr.depth)
        np.save(folder / f"{k:06d}_skel.npy",
                np.stack([np.concatenate([b.joints, b.confidence[:, None]], 1) for b in fr.bodies]))
    write = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(len(frames)):
        np.load(folder / f"{k:06d}_depth.npy"), np.load(folder / f"{k:06d}_skel.npy")
    read = time.perf_counter() - t0
    order = np.random.default_rng(1).permutation(len(frames))[:200]
    t0 = time.perf_counter()
    for k in order:
        np.load(folder / f"{k:06d}_depth.npy"), np.load(folder / f"{k:06d}_skel.npy")
    rand = time.perf_counter() - t0
    return len(frames) / write, len(frames) / read, len(order) / rand, _dir_size(folder)


def run_io_bench(seconds: float = 10, fps: float = 30, depth_shape=(424, 512), joints: int = 25, bodies: int = 1,
                 workdir: str | os.PathLike | None = None) -> dict:
    """Write and read `seconds` of synthetic frames as .kinrec and as np.save files; frame rates, sizes
    (MB per minute of recording, MB = 10^6 bytes) and kinrec/np.save ratios (> 1 = kinrec faster/bigger)."""
    n = max(2, int(round(seconds * fps)))
    layout = _layout_for(joints)
    frames = [Frame(k / fps, synthetic_bodies(k, joints, bodies, fps), d, k)
              for k, d in enumerate(synthetic_depth(n, depth_shape, fps))]
    minutes = n / fps / 60
    with tempfile.TemporaryDirectory(dir=workdir, prefix="kinact-iobench-") as tmp:
        tmp = Path(tmp)
        kw, kcpu, kr, krand, ksize = _bench_kinrec(frames, tmp / "bench.kinrec", fps, layout)
        nw, nr, nrand, nsize = _bench_npy(frames, tmp / "npy")
        # Worst case for compression: every pixel random. A couple of seconds is enough to see the rate.
        m = max(2, min(n, int(2 * fps)))
        rng = np.random.default_rng(2)
        noise = [Frame(k / fps, f.bodies, rng.integers(0, 65536, depth_shape, dtype=np.uint16), k)
                 for k, f in enumerate(frames[:m])]
        rw, _, _, _, rsize = _bench_kinrec(noise, tmp / "random.kinrec", fps, layout)
    return {
        "frames": n, "fps": fps, "depth_shape": tuple(depth_shape), "joints": joints, "bodies": bodies,
        "reference": "np.save, one depth .npy + one skeleton .npy per frame",
        "kinrec_write_fps": kw, "kinrec_write_cpu_fps": kcpu, "kinrec_read_fps": kr,
        "kinrec_random_read_fps": krand, "kinrec_mb_per_min": ksize / 1e6 / minutes,
        "npy_write_fps": nw, "npy_read_fps": nr, "npy_random_read_fps": nrand, "npy_mb_per_min": nsize / 1e6 / minutes,
        "write_speed_ratio": kw / nw, "read_speed_ratio": kr / nr, "random_read_ratio": krand / nrand,
        "size_ratio": ksize / nsize, "realtime_headroom": kw / fps,
        "random_depth_write_fps": rw, "random_depth_mb_per_min": rsize / 1e6 / (m / fps / 60),
        "random_depth_realtime_headroom": rw / fps,
    }


if __name__ == "__main__":
    for key, value in run_io_bench().items():
        print(f"{key:32s} {value:.2f}" if isinstance(value, float) else f"{key:32s} {value}")
