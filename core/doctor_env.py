"""The doctor's checks of the machine itself: Python, the numerical stack, the GPU, and kinact's own assets.

Each `check_*` returns a `Check` (or a list, or None when the row would only repeat another row's fix) and
may raise: `kinact.core.doctor.guarded` turns an exception into a "fail" row. Packages are imported inside
the checks (a missing one is the finding, not a crash). Versions come from the imported module, so a test can
stand in any version by putting a module into `sys.modules`. The desktop stack (PySide6, Qt, the display)
is checked in `doctor_qt`, the sensors in `doctor_sensors`.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path

from kinact.core.doctor import Check

TORCH_PIN = "pip install torch==2.13.0"
TORCH_CUDA = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 (or the CUDA " \
             "version your driver supports, see pytorch.org/get-started)"
ONNX_EXTRA = 'pip install "kinact[onnx]"'


def vtuple(version) -> tuple[int, ...]:
    """'6.12.0' → (6, 12, 0); '2.13.0+cpu' → (2, 13, 0); the leading dotted numbers only."""
    m = re.match(r"\d+(\.\d+)*", str(version or "").strip())
    return tuple(int(p) for p in m.group(0).split(".")) if m else ()


def _version(module, *dists: str) -> str:
    v = getattr(module, "__version__", None)
    if v:
        return str(v)
    from importlib import metadata

    for dist in dists:
        try:
            return metadata.version(dist)
        except Exception:  # noqa: BLE001 - PackageNotFoundError, broken metadata
            continue
    return "version unknown"


def _linux() -> bool:
    return sys.platform.startswith("linux")


# ------------------------------------------------------------------------------------------- Python, packages
def check_python() -> Check:
    v = sys.version_info
    bits = 64 if sys.maxsize > 2 ** 32 else 32
    detail = f"{platform.python_version()} ({platform.python_implementation()}, {bits}-bit) on " \
             f"{platform.system()} {platform.release()} {platform.machine()}"
    if v < (3, 10):
        return Check("python", "fail", f"{detail}: kinact needs Python >= 3.10",
                     "install Python 3.11 (python.org, or apt-get install python3.11 python3.11-venv) and recreate "
                     "the venv: python3.11 -m venv .venv")
    if bits != 64:
        return Check("python", "warn", f"{detail}: the Kinect and Azure Kinect SDKs are 64-bit only",
                     "install 64-bit Python 3.11 (python.org, Windows installer (64-bit)) and recreate the venv")
    return Check("python", "ok", detail + (", virtual environment" if sys.prefix != sys.base_prefix else ""))


def check_kinact() -> Check:
    import kinact.core

    where = Path(kinact.core.__file__).resolve().parent.parent
    return Check("kinact", "ok", f"{_version(None, 'kinact')} from {where}")


def check_numpy() -> Check:
    try:
        import numpy
    except ImportError as exc:
        return Check("numpy", "fail", f"not importable ({exc})", 'pip install "numpy>=1.24"')
    return at_least("numpy", _version(numpy, "numpy"), "1.24")


def at_least(name: str, version: str, minimum: str) -> Check:
    """The row for an importable package: ok, or a warning with the upgrade command when it is older than needed."""
    if vtuple(version) < vtuple(minimum):
        return Check(name, "warn", f"{version}: kinact needs {name} >= {minimum}", f'pip install -U "{name}>={minimum}"')
    return Check(name, "ok", version)


def check_torch() -> Check:
    try:
        import torch
    except ImportError as exc:
        return Check("torch", "fail", f"not importable ({exc}): training and torch inference cannot run",
                     f"{TORCH_PIN} (CPU) or {TORCH_CUDA}")
    v = _version(torch, "torch")
    cuda = getattr(getattr(torch, "version", None), "cuda", None)
    build = f"CUDA {cuda} build" if cuda else "CPU-only build"
    if vtuple(v) < (2, 1):
        return Check("torch", "warn", f"{v} ({build}): kinact needs torch >= 2.1", TORCH_PIN)
    return Check("torch", "ok", f"{v} ({build})")


def _nvidia_driver() -> str | None:
    """The NVIDIA driver version when a driver is installed (Linux: /proc; elsewhere: nvidia-smi on PATH)."""
    proc = Path("/proc/driver/nvidia/version")
    if proc.is_file():
        m = re.search(r"Kernel Module\s+(?:for \S+\s+)?([\d.]+)", proc.read_text(errors="replace"))
        return m.group(1) if m else "installed"
    return "installed (nvidia-smi found)" if shutil.which("nvidia-smi") else None


def gpu_matmul(torch, device: str) -> float:
    """A 256×256 matmul on `device` checked against the CPU; the time it took in ms (first call: CUDA init)."""
    t0 = time.perf_counter()
    a = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
    got = (a.to(device) @ a.to(device)).cpu()
    if not torch.allclose(got, a @ a, rtol=1e-2, atol=1e-2):
        raise RuntimeError("the GPU's matmul differs from the CPU's")
    return (time.perf_counter() - t0) * 1000


def check_gpu() -> Check | None:
    try:
        import torch
    except ImportError:
        return None  # the torch row says what to install
    cuda = getattr(torch.version, "cuda", None)
    driver = _nvidia_driver()
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        p = torch.cuda.get_device_properties(0)
        head = f"{p.name}, {p.total_memory / 2 ** 30:.1f} GiB, CUDA {cuda}" + (f", {n} GPUs" if n > 1 else "")
        try:
            ms = gpu_matmul(torch, "cuda:0")
        except Exception as exc:  # noqa: BLE001 - e.g. "no kernel image is available for execution on the device"
            return Check("gpu", "fail", f"{head}; a matmul on it failed ({type(exc).__name__}: {exc})",
                         f"this torch build does not run on this GPU: {TORCH_CUDA}; or update the NVIDIA driver")
        return Check("gpu", "ok", f"{head}; 256×256 matmul matches the CPU ({ms:.0f} ms incl. CUDA start-up)")
    if driver and cuda:
        return Check("gpu", "warn", f"NVIDIA driver {driver}, torch built for CUDA {cuda}, but CUDA is unusable "
                                    "(driver too old for this CUDA?): inference runs on the CPU",
                     f"update the NVIDIA driver to one that supports CUDA {cuda} (nvidia-smi shows the highest it "
                     f"supports) or install a torch for an older CUDA: {TORCH_CUDA}")
    if driver:
        return Check("gpu", "warn", f"NVIDIA driver {driver} present but torch {torch.__version__} is a CPU-only "
                                    "build: inference runs on the CPU", TORCH_CUDA)
    return Check("gpu", "skip", "no NVIDIA GPU or driver: inference runs on the CPU (ONNX Runtime when installed)",
                 f"nothing to do for the CPU; for GPU inference install an NVIDIA GPU with its driver "
                 f"(Ubuntu: apt-get install nvidia-driver-570), then {TORCH_CUDA}")


def check_onnxruntime() -> Check:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        return Check("onnxruntime", "warn", f"not importable ({exc}): CPU inference falls back to torch eager, "
                                            "several times slower at batch 1", ONNX_EXTRA)
    v = _version(ort, "onnxruntime", "onnxruntime-gpu")
    providers = list(ort.get_available_providers())
    detail = f"{v}; providers: {', '.join(p.replace('ExecutionProvider', '') for p in providers)}"
    if vtuple(v) < (1, 16):
        return Check("onnxruntime", "warn", f"{detail}: kinact needs onnxruntime >= 1.16",
                     'pip install -U "onnxruntime>=1.16"')
    return Check("onnxruntime", "ok", detail)


def check_onnx() -> Check:
    try:
        import onnx
    except ImportError as exc:
        return Check("onnx", "warn", f"not importable ({exc}): `kinact export` and the ONNX model cache cannot "
                                     "write metadata, and one window no longer runs split across the cores "
                                     "(graph_split)", 'pip install "onnx>=1.15"')
    v = _version(onnx, "onnx")
    if vtuple(v) < (1, 15):
        return Check("onnx", "warn", f"{v}: kinact needs onnx >= 1.15", 'pip install -U "onnx>=1.15"')
    return Check("onnx", "ok", v)


# ----------------------------------------------------------------------------------------------------- assets
REINSTALL = "pip install --force-reinstall --no-deps kinact (a release wheel ships it)"


def check_demo() -> Check:
    from kinact.core import assets

    env = os.environ.get("KINACT_DEMO")
    path = assets.demo_recording()
    if path is None:
        if env:
            return Check("demo recording", "warn", f"KINACT_DEMO={env} is not a file",
                         "unset KINACT_DEMO or point it at an existing .kinrec")
        return Check("demo recording", "warn", "this install has no kinact/recordings/demo.kinrec: `kinact` "
                                               "starts on the synthetic performer instead",
                     f"python -m kinact.core.synthetic.demo (rebuilds it) or {REINSTALL}")
    from kinact.core.recording.kinrec_reader import KinrecReader

    try:
        with KinrecReader(path) as r:
            r.read_frame(0)
            detail = f"{path.name}: {r.num_frames} frames, {r.duration:.0f} s, {r.header.layout}"
            problems = list(r.problems)
    except Exception as exc:  # noqa: BLE001 - BadInputError and whatever a damaged file raises
        return Check("demo recording", "fail", f"{path} cannot be read ({exc})",
                     f"python -m kinact.core.synthetic.demo (rebuilds it) or {REINSTALL}")
    if problems:
        return Check("demo recording", "warn", f"{detail}; damaged: {problems[0]}",
                     f"python -m kinact.core.synthetic.demo (rebuilds it) or {REINSTALL}")
    return Check("demo recording", "ok", detail)


def check_model() -> Check:
    from kinact.core import assets

    env = os.environ.get("KINACT_MODEL")
    path = assets.shipped_model()
    train = "kinact train configs/utd_skeleton_ours.toml --data UTD-MHAD --out runs/utd, then pass --model " \
            "runs/utd/seed0/model.safetensors or set KINACT_MODEL"
    if path is None:
        if env:
            return Check("shipped model", "warn", f"KINACT_MODEL={env} is not a file",
                         "unset KINACT_MODEL or point it at an existing .safetensors checkpoint")
        return Check("shipped model", "warn", f"this install has no kinact/models/pretrained/"
                                              f"{assets.SKELETON_MODEL_NAME}: live recognition needs --model",
                     f"{REINSTALL}; or train one: {train}")
    from kinact.core.checkpoint import read_meta

    try:
        meta = read_meta(path)
    except Exception as exc:  # noqa: BLE001
        return Check("shipped model", "fail", f"{path} cannot be read ({exc})", f"{REINSTALL}; or train one: {train}")
    acc = meta.trained_on.get("accuracy") if isinstance(meta.trained_on, dict) else None
    return Check("shipped model", "ok", f"{path.name}: {len(meta.classes)} classes, layout {meta.layout}"
                                        + (f", test accuracy {acc:.1%}" if isinstance(acc, (int, float)) else ""))
