"""UTD-MHAD reader: `aA_sS_tT_skeleton.mat` (d_skel, 20×3×T m) and `aA_sS_tT_depth.mat` (d_depth, 240×320×T mm).

The originals are MATLAB v5 files, but anyone who re-saves them from MATLAB today gets v7.3 (HDF5), where every
array comes back transposed (h5py sees T×3×20). Both are read here, and the orientation is decided by the
shape rather than trusted, because HDF5 files written from Python keep the MATLAB order.

All of the depth is about 10 GB raw, so `load_dataset` never has to keep it: a `depth_transform` (a descriptor,
say) is applied per sample and only its output is kept. `mat_shape` answers "how big is this variable" from
the file header alone, which is what `kinact info` needs to check 861 depth files in about a second.
"""
from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from kinact.core.errors import BadInputError
from kinact.core.frames import Sample

LAYOUT = "utd_mhad"
FPS = 30.0
NUM_JOINTS = 20
DEPTH_SHAPE = (240, 320)

#: Action names, index = 0-based label = action number - 1 (from the dataset's own list).
CLASS_NAMES: tuple[str, ...] = (
    "right arm swipe to the left", "right arm swipe to the right", "right hand wave", "two hand front clap",
    "right arm throw", "cross arms in the chest", "basketball shoot", "right hand draw x",
    "right hand draw circle (clockwise)", "right hand draw circle (counter clockwise)", "draw triangle",
    "bowling (right hand)", "front boxing", "baseball swing from right", "tennis right hand forehand swing",
    "arm curl (two arms)", "tennis serve", "two hand push", "right hand knock on door",
    "right hand catch an object", "right hand pick up and throw", "jogging in place", "walking in place",
    "sit to stand", "stand to sit", "forward lunge (left foot forward)", "squat (two arms stretch out)",
)

NAME_RE = re.compile(r"^a(\d+)_s(\d+)_t(\d+)_(skeleton|depth)\.mat$", re.IGNORECASE)


def parse_name(path: str | os.PathLike) -> tuple[int, int, int]:
    """(action, subject, trial), all 1-based, from a UTD-MHAD file name: the label lives only in the name."""
    m = NAME_RE.match(Path(path).name)
    if not m:
        raise BadInputError(path, "not a UTD-MHAD file name (expected aA_sS_tT_skeleton.mat or aA_sS_tT_depth.mat)")
    action, subject, trial = (int(g) for g in m.groups()[:3])
    if not 1 <= action <= len(CLASS_NAMES):
        raise BadInputError(path, f"action {action} is not one of UTD-MHAD's {len(CLASS_NAMES)} actions")
    return action, subject, trial


# --------------------------------------------------------------------------------------------- MAT access

def _is_hdf5(path) -> bool:
    import h5py

    try:
        return bool(h5py.is_hdf5(os.fspath(path)))
    except OSError as exc:
        raise BadInputError(path, f"cannot open ({exc.strerror or exc})") from None


def _load_var(path, key: str) -> tuple[np.ndarray, bool]:
    """The raw array of one MATLAB variable and whether it came from HDF5 (i.e. is probably transposed)."""
    if not os.path.isfile(path):
        raise BadInputError(path, "no such file")
    if _is_hdf5(path):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                if key not in f:
                    names = ", ".join(k for k in f.keys() if not k.startswith("#")) or "none"
                    raise BadInputError(path, f"no variable {key!r} in this MAT file (variables: {names})")
                node = f[key]
                if not isinstance(node, h5py.Dataset):
                    raise BadInputError(path, f"{key!r} is not a numeric array")
                return np.asarray(node[()]), True
        except BadInputError:
            raise
        except Exception as exc:  # h5py raises OSError/KeyError/RuntimeError on damaged files
            raise BadInputError(path, f"damaged MATLAB v7.3 (HDF5) file ({type(exc).__name__}: {exc})") from None
    import scipy.io

    try:
        data = scipy.io.loadmat(path, variable_names=[key])
    except MemoryError:
        raise
    except Exception as exc:  # scipy raises a zoo of types (ValueError, MatReadError, zlib.error, ...)
        try:  # the header walk names the usual causes (empty, not MAT, truncated) better than scipy does
            _v5_header_shapes(path)
        except BadInputError as better:
            raise better from None
        except Exception:
            pass
        raise BadInputError(path, f"not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    if key not in data:
        raise BadInputError(path, f"no variable {key!r} in this MAT file (variables: {_v5_names(path)})")
    return np.asarray(data[key]), False


def _v5_names(path) -> str:
    import scipy.io

    try:
        return ", ".join(name for name, _, _ in scipy.io.whosmat(path)) or "none"
    except Exception:
        return "unreadable"


def _v5_header_shapes(path) -> dict[str, tuple[int, ...]]:
    """Variable name -> MATLAB shape of a v5 MAT file, decompressing only each variable's first bytes.

    `scipy.io.whosmat` inflates whole compressed variables (25 ms per UTD depth file); the shape sits in the
    first 64 bytes of each, so this is ~100× faster. A declared size that runs past the end of the file is
    reported as truncation, which is the usual way these files break.
    """
    with open(path, "rb") as f:
        data = f.read(128)
        if not data:
            raise BadInputError(path, "empty file")
        if len(data) < 128 or data[126:128] not in (b"IM", b"MI"):
            raise BadInputError(path, "not a MATLAB v5 MAT file (bad 128-byte header)")
        end = "<" if data[126:128] == b"IM" else ">"
        size = os.fstat(f.fileno()).st_size
        shapes, pos = {}, 128
        while pos + 8 <= size:
            f.seek(pos)
            dtype, nbytes = struct.unpack(end + "II", f.read(8))
            if pos + 8 + nbytes > size:
                raise BadInputError(path, f"truncated: a variable needs {nbytes} bytes at offset {pos}, "
                                          f"file has {size}")
            head = f.read(min(nbytes, 4096))
            if dtype == 15:  # miCOMPRESSED: the zlib stream holds one miMATRIX element
                try:
                    head = zlib.decompressobj().decompress(head, 512)
                except zlib.error as exc:
                    raise BadInputError(path, f"corrupt compressed variable at offset {pos} ({exc})") from None
                dtype, _ = struct.unpack(end + "II", head[:8])
                head = head[8:]
            if dtype == 14:
                name, shape = _parse_matrix_header(head, end)
                shapes[name] = shape
            pos += 8 + nbytes + ((-nbytes) % 8 if dtype != 15 else 0)
    return shapes


def _parse_matrix_header(head: bytes, end: str) -> tuple[str, tuple[int, ...]]:
    """(name, dims) from the start of a miMATRIX element: array flags, dimensions, then the name."""
    _, pos = _subelement(head, 0, end)  # array flags
    dims, pos = _subelement(head, pos, end)
    name, _ = _subelement(head, pos, end)
    return name.decode("latin-1"), struct.unpack(end + f"{len(dims) // 4}i", dims)


def _subelement(buf: bytes, pos: int, end: str) -> tuple[bytes, int]:
    """(data, next position) of one tagged sub-element, in either the normal or the 4-byte 'small' format."""
    tag, nbytes = struct.unpack(end + "II", buf[pos:pos + 8])
    if tag >> 16:  # small element: length in the tag's upper half, data in the next 4 bytes
        return buf[pos + 4:pos + 4 + (tag >> 16)], pos + 8
    return buf[pos + 8:pos + 8 + nbytes], pos + 8 + nbytes + (-nbytes) % 8


def mat_shape(path: str | os.PathLike, key: str) -> tuple[tuple[int, ...], bool]:
    """(shape as stored, is_hdf5) of one variable without reading its data."""
    if not os.path.isfile(path):
        raise BadInputError(path, "no such file")
    if _is_hdf5(path):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                if key not in f or not isinstance(f[key], h5py.Dataset):
                    raise BadInputError(path, f"no numeric variable {key!r} in this MAT file")
                return tuple(f[key].shape), True
        except BadInputError:
            raise
        except Exception as exc:
            raise BadInputError(path, f"damaged MATLAB v7.3 (HDF5) file ({type(exc).__name__}: {exc})") from None
    try:
        shapes = _v5_header_shapes(path)
    except BadInputError:
        raise
    except (struct.error, UnicodeDecodeError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    if key not in shapes:
        raise BadInputError(path, f"no variable {key!r} in this MAT file (variables: {', '.join(shapes) or 'none'})")
    return shapes[key], False


def _orient(shape: tuple[int, ...], hdf5: bool, ok: Callable[[tuple], bool]) -> bool | None:
    """Whether to transpose: True/False, or None when neither orientation fits.

    MATLAB v7.3 stores column-major arrays as row-major HDF5, so the transposed view is tried first there.
    """
    order = (True, False) if hdf5 else (False, True)
    for transpose in order:
        if ok(shape[::-1] if transpose else shape):
            return transpose
    return None


def _skel_ok(shape) -> bool:
    return shape[:2] == (NUM_JOINTS, 3) and len(shape) in (2, 3)


def _depth_ok(shape) -> bool:
    return len(shape) in (2, 3) and shape[:2] == DEPTH_SHAPE


def _depth_any(shape) -> bool:
    return len(shape) == 3


def _depth_transpose(shape, hdf5) -> bool | None:
    """Prefer the orientation that gives 240×320 images; accept other image sizes in the natural orientation."""
    t = _orient(shape, hdf5, _depth_ok)
    return t if t is not None else _orient(shape, hdf5, _depth_any)


def skeleton_frames(path: str | os.PathLike) -> int:
    """T of a skeleton file from its header (no data read)."""
    shape, hdf5 = mat_shape(path, "d_skel")
    t = _orient(shape, hdf5, _skel_ok)
    if t is None:
        raise BadInputError(path, f"d_skel has shape {shape}; expected 20×3×T")
    s = shape[::-1] if t else shape
    return s[2] if len(s) == 3 else 1


def depth_frames(path: str | os.PathLike) -> tuple[int, tuple[int, int]]:
    """(T, (H, W)) of a depth file from its header (no data read)."""
    shape, hdf5 = mat_shape(path, "d_depth")
    t = _depth_transpose(shape, hdf5)
    if t is None:
        raise BadInputError(path, f"d_depth has shape {shape}; expected H×W×T (240×320×T)")
    s = shape[::-1] if t else shape
    return (s[2] if len(s) == 3 else 1), (s[0], s[1])


# --------------------------------------------------------------------------------------------- reading

def read_skeleton_array(path: str | os.PathLike) -> np.ndarray:
    """(T, 20, 3) float32 metres in UTD-MHAD joint order."""
    arr, hdf5 = _load_var(path, "d_skel")
    t = _orient(arr.shape, hdf5, _skel_ok)
    if t is None or not np.issubdtype(arr.dtype, np.number):
        raise BadInputError(path, f"d_skel has shape {arr.shape} ({arr.dtype}); expected a numeric 20×3×T array")
    arr = arr.T if t else arr
    if arr.ndim == 2:  # MATLAB drops a trailing singleton: a one-frame sequence is 20×3
        arr = arr[:, :, None]
    if arr.shape[2] == 0:
        raise BadInputError(path, "d_skel has no frames")
    return np.ascontiguousarray(np.transpose(arr, (2, 0, 1)), dtype=np.float32)


def read_depth(path: str | os.PathLike) -> np.ndarray:
    """(T, H, W) uint16 millimetres."""
    arr, hdf5 = _load_var(path, "d_depth")
    t = _depth_transpose(arr.shape, hdf5) if arr.ndim in (2, 3) else None
    if t is None or not np.issubdtype(arr.dtype, np.number):
        raise BadInputError(path, f"d_depth has shape {arr.shape} ({arr.dtype}); expected a numeric H×W×T array")
    arr = arr.T if t else arr
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.dtype != np.uint16:
        if not np.isfinite(arr).all() or arr.min(initial=0) < 0 or arr.max(initial=0) > 65535:
            raise BadInputError(path, "d_depth values are not millimetres in 0..65535")
        arr = np.rint(arr)
    return np.ascontiguousarray(np.transpose(arr, (2, 0, 1)), dtype=np.uint16)


def read_skeleton(path: str | os.PathLike) -> Sample:
    """One skeleton file as a single-body Sample (1, T, 20, 3); NaN joints get confidence 0."""
    action, subject, trial = parse_name(path)
    joints = read_skeleton_array(path)[None]
    confidence = np.isfinite(joints).all(-1).astype(np.float32)
    return Sample(skeleton=joints, confidence=confidence, layout=LAYOUT, label=action - 1,
                  action=CLASS_NAMES[action - 1], subject=subject, trial=trial, fps=FPS,
                  path=os.fspath(path), body_ids=[0])


def read_sample(skeleton_path: str | os.PathLike, depth_path: str | os.PathLike | None = None,
                depth_transform: Callable[[np.ndarray], object] | None = None) -> Sample:
    """Skeleton plus, if given, its depth; `depth_transform(depth)` replaces the raw depth in `Sample.depth`."""
    sample = read_skeleton(skeleton_path)
    if depth_path is not None:
        depth = read_depth(depth_path)
        if len(depth) != sample.num_frames:
            raise BadInputError(depth_path, f"has {len(depth)} depth frames but {Path(skeleton_path).name} "
                                            f"has {sample.num_frames} skeleton frames")
        sample.depth = depth_transform(depth) if depth_transform is not None else depth
    return sample


# --------------------------------------------------------------------------------------------- folders

def find_files(root: str | os.PathLike) -> tuple[dict, dict]:
    """({(a, s, t): skeleton path}, {(a, s, t): depth path}) for every UTD-MHAD file under root, any depth.

    Walking the whole tree covers both the official Skeleton/ + Depth/ folders and a flat folder. Two files
    for the same sequence are refused rather than one silently winning.
    """
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "not a directory")
    found: tuple[dict, dict] = ({}, {})
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            m = NAME_RE.match(name)
            if not m:
                continue
            key = tuple(int(g) for g in m.groups()[:3])
            table = found[0] if m.group(4).lower() == "skeleton" else found[1]
            path = Path(dirpath) / name
            if key in table:
                raise BadInputError(path, f"duplicate of {table[key]} (same action, subject and trial)")
            table[key] = path
    return found


def list_pairs(root: str | os.PathLike) -> list[tuple[Path, Path | None]]:
    """(skeleton, depth or None) for every skeleton file under root, in (action, subject, trial) order."""
    skels, depths = find_files(root)
    return [(skels[k], depths.get(k)) for k in sorted(skels)]


def load_dataset(root: str | os.PathLike, with_depth: bool = False, subjects=None,
                 depth_transform: Callable[[np.ndarray], object] | None = None) -> list[Sample]:
    """Every sequence under root (optionally only some subjects).

    with_depth=True keeps raw depth (about 12 MB per sequence, 10 GB for all 861): pass a `depth_transform`
    to keep only its output; giving one implies with_depth. A missing depth file is an error then.
    """
    with_depth = with_depth or depth_transform is not None
    pairs = list_pairs(root)
    if not pairs:
        raise BadInputError(root, "no UTD-MHAD skeleton files (aA_sS_tT_skeleton.mat) found")
    wanted = None if subjects is None else {int(s) for s in subjects}
    samples = []
    for skel, depth in pairs:
        if wanted is not None and parse_name(skel)[1] not in wanted:
            continue
        if with_depth and depth is None:
            raise BadInputError(skel, "has no matching aA_sS_tT_depth.mat")
        samples.append(read_sample(skel, depth if with_depth else None, depth_transform))
    return samples


TRAIN_SUBJECTS = (1, 3, 5, 7)


def cross_subject_split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """The paper's protocol: odd subjects (1, 3, 5, 7) train, even subjects test."""
    train = [s for s in samples if s.subject % 2 == 1]
    test = [s for s in samples if s.subject % 2 == 0]
    return train, test
