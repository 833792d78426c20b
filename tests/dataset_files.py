"""Tiny files in the exact on-disk formats of the datasets, shared by every test that needs one.

Tests never read ../shared/data: these builders make a few-frame UTD-MHAD .mat, MSR Action3D text or NTU
.skeleton file in tmp_path, so the suite runs anywhere in seconds.
"""
import numpy as np
import scipy.io


def utd_skel(path, t=3):
    scipy.io.savemat(path, {"d_skel": np.random.default_rng(t).normal(size=(20, 3, t))}, do_compression=True)
    return path


def utd_depth(path, t=3):
    scipy.io.savemat(path, {"d_depth": np.full((240, 320, t), 2500, np.uint16)}, do_compression=True)
    return path


def msr_file(path, t=2):
    path.write_text("0.1 0.2 2.5 1.000000\n" * (20 * t))
    return path


def ntu_file(path, bodies_per_frame=(1, 1)):
    out = [str(len(bodies_per_frame))]
    for n in bodies_per_frame:
        out.append(str(n))
        for b in range(n):
            out += [f"{1000 + b} 0 1 1 1 1 0 0 0 2", "25"]
            out += [f"{0.1 * j} {0.1 * j} 3 1 1 1 1 0 0 0 0 2" for j in range(25)]
    path.write_text("\n".join(out) + "\n")
    return path


def utd_tree(root):
    (root / "Skeleton").mkdir(parents=True)
    (root / "Depth").mkdir()
    for a, s, t in [(1, 1, 1), (1, 2, 1), (2, 1, 1), (3, 3, 2)]:
        utd_skel(root / "Skeleton" / f"a{a}_s{s}_t{t}_skeleton.mat", t=3 + a)
    for a, s, t in [(1, 1, 1), (1, 2, 1)]:
        utd_depth(root / "Depth" / f"a{a}_s{s}_t{t}_depth.mat", t=3 + a)
    utd_depth(root / "Depth" / "a2_s1_t1_depth.mat", t=9)  # frame count mismatch
    utd_depth(root / "Depth" / "a5_s5_t1_depth.mat", t=3)  # no skeleton
    (root / "Skeleton" / "Skeleton_joint_order.txt").write_text("1. head;\n")
    return root
