"""The I/O benchmark runs end to end at toy size and reports every number it promises."""
import os

from kinact.core.bench.io_bench import run_io_bench, synthetic_depth


def test_io_bench_tiny(tmp_path):
    res = run_io_bench(seconds=0.5, fps=30, depth_shape=(48, 64), joints=20, bodies=2, workdir=tmp_path)
    numbers = ["kinrec_write_fps", "kinrec_write_cpu_fps", "kinrec_read_fps", "kinrec_random_read_fps",
               "kinrec_mb_per_min", "npy_write_fps", "npy_read_fps", "npy_random_read_fps", "npy_mb_per_min",
               "write_speed_ratio", "read_speed_ratio", "random_read_ratio", "size_ratio", "realtime_headroom",
               "random_depth_write_fps", "random_depth_mb_per_min"]
    for key in numbers:
        assert isinstance(res[key], float) and res[key] > 0, key
    assert res["frames"] == 15 and res["depth_shape"] == (48, 64)
    assert os.listdir(tmp_path) == []  # cleans up after itself


def test_synthetic_depth_is_plausible():
    a, b = list(synthetic_depth(2, (106, 128)))
    assert a.dtype.name == "uint16" and a.shape == (106, 128)
    valid = a[a > 0]
    assert 0.8 < valid.size / a.size < 1.0 and 500 < valid.min() and valid.max() < 8000
    assert (a != b).any()  # noise and motion: frames differ
