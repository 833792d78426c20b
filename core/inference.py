"""One object that turns model inputs into class probabilities for a checkpoint, on the fastest backend at hand.

    p = Predictor.load("runs/utd/model.safetensors")        # backend="auto"
    probs = p.predict({"skeleton": x})                        # x (B, C, T, N) float32 -> (B, K) float32
    probs = p.predict_skeleton(x)                             # the same for skeleton-only models

Backends: "torch" (eager PyTorch under `torch.inference_mode()`, CPU or CUDA) and "onnx" (ONNX Runtime).
"auto" takes torch on CUDA when a GPU is there; otherwise ONNX Runtime on the CPU when onnxruntime is
installed, because for these small networks it is several times faster than torch eager at batch 1 (see
`kinact.core.bench.latency`); otherwise torch on the CPU. If the ONNX export of a model fails, "auto" warns
and falls back to torch; an explicit backend="onnx" raises.

The ONNX file is made from the checkpoint on first use and cached: `<checkpoint>.onnx` beside the
checkpoint (e.g. `model.safetensors.onnx`) when that folder is writable, else
`~/.cache/kinact/onnx/<sha256 of the checkpoint>.onnx` ($XDG_CACHE_HOME respected). The file records the
checkpoint's sha256 and the export recipe (`onnx_export.EXPORT_RECIPE`) in its metadata, and is exported
again when the checkpoint's content differs, the checkpoint is newer than the file, or the recipe changed, so
neither a retrained checkpoint copied over the old one (even with its mtime preserved) nor an older, slower
export ever runs. Every export is checked against torch before it is used.

Inputs follow the model's `input_spec` ({name: ("batch", *dims)}): skeleton (B, C, T, N), depth (B, C, H, W);
numpy or torch, any float dtype; an input with the batch axis left out is one sample. The batch axis is
dynamic in both backends, so all tracked bodies go through in one call. On the CPU, ONNX Runtime splits such a
batch into one chunk per core run at the same time (`batch_split`: its GRU nodes use one thread per call),
and a single window of a model with several independent GRU nodes runs them split across the cores
(`graph_split`) whenever that has lately been faster than one whole-graph call (`faster_of`).
"""
from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kinact.core.batch_split import CoreWorkers, SplitBatchRun, usable_cores
from kinact.core.faster_of import FasterOf
from kinact.core.graph_split import build_graph_split, session_call
from kinact.core.checkpoint import CheckpointMeta, build_model, load_checkpoint
from kinact.core.errors import BadInputError, KinactError

__all__ = ["Predictor", "BACKENDS", "onnx_cache_paths", "checkpoint_sha256", "softmax", "session_options"]

BACKENDS = ("auto", "torch", "onnx")
SHA_KEY = "kinact.checkpoint_sha256"
META_KEY = "kinact.meta"


def softmax(logits: np.ndarray) -> np.ndarray:
    # the ufuncs' own reductions: what z.max / z.sum call, without their Python wrappers (runs every inference)
    z = np.asarray(logits, dtype=np.float32)
    z = z - np.maximum.reduce(z, axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= np.add.reduce(z, axis=-1, keepdims=True)
    return z


def checkpoint_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kinact" / "onnx"


def onnx_cache_paths(ckpt_path: str | os.PathLike, sha: str) -> list[Path]:
    """Where the ONNX file of a checkpoint may live, in order of preference."""
    return [Path(os.fspath(ckpt_path) + ".onnx"), _user_cache_dir() / f"{sha}.onnx"]


class Predictor:
    """predict(inputs) -> (B, K) float32 probabilities for one checkpoint. Build it with `Predictor.load`.

    Attributes: meta (CheckpointMeta), classes, input_spec ({name: ("batch", *dims)}), backend (what
    actually runs: "onnxruntime-cpu", "onnxruntime-cuda", "torch-cpu", "torch-cuda"), onnx_path (the ONNX
    file in use, else None), path (the checkpoint). Thread-safe for concurrent predict calls.
    """

    def __init__(self, meta: CheckpointMeta, input_spec: Mapping[str, tuple], backend: str, run, path=None,
                 onnx_path=None, model=None) -> None:
        self.meta = meta
        self.classes = list(meta.classes)
        self.input_spec = {k: tuple(v) for k, v in input_spec.items()}
        self.backend = backend
        self.path = None if path is None else os.fspath(path)
        self.onnx_path = None if onnx_path is None else os.fspath(onnx_path)
        self.model = model  # the torch module for torch backends, None for onnxruntime
        self.session = None  # the onnxruntime.InferenceSession for onnx backends
        self.workers = 1  # chunks a batch of several windows is split into (batch_split), ONNX on the CPU
        self.graph_split = False  # whether one window's GRU nodes may run split across those workers (graph_split)
        self.single_run = None  # the FasterOf choosing between split and whole graph for one window, if any
        self._run = run  # tuple of float32 arrays in input_spec order -> (B, K) logits as numpy
        # what `_arrays` checks every call, worked out once: the input names and each input's shape without batch
        self._shapes = {n: tuple(int(d) for d in s[1:]) for n, s in self.input_spec.items()}
        self._skeleton_only = list(self.input_spec) == ["skeleton"]

    # ------------------------------------------------------------------------------------------ building

    @classmethod
    def load(cls, ckpt_path: str | os.PathLike, backend: str = "auto", device: str | None = None,
             threads: int | None = None, *, layout: str | None = None,
             classes: list[str] | None = None, workers: int | None = None) -> "Predictor":
        """Load a checkpoint for inference.

        backend: "auto", "torch" or "onnx" (see the module docstring). device: None (auto: "cuda" if
        available for torch, the CPU for onnx), "cpu", "cuda" or "cuda:N". threads: ONNX Runtime's
        intra_op_num_threads, or for torch on the CPU `torch.set_num_threads` (process-wide); None leaves
        the library default. workers: ONNX Runtime on the CPU only: a batch of several windows runs as up to
        this many chunks at once on single-threaded sessions (`batch_split`), and a single window's independent
        GRU nodes are split across as many parts (`graph_split`) while that is faster (`faster_of`); None: one
        per usable core when threads is None, else 1 (no splitting: the pinned thread count is what runs).
        layout/classes: refuse a checkpoint made for another joint layout or class list (BadInputError). A
        missing, damaged or inconsistent checkpoint raises BadInputError/KinactError.
        """
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if threads is not None and int(threads) < 1:
            raise ValueError("threads must be >= 1 (or None for the library default)")
        if workers is not None and int(workers) < 1:
            raise ValueError("workers must be >= 1 (or None: one per core unless threads is set)")
        state, meta = load_checkpoint(ckpt_path, layout=layout, classes=classes)
        model = build_model(meta, state, ckpt_path)
        del state
        spec = getattr(model, "input_spec", None)
        if not spec:
            raise KinactError(f"{ckpt_path}: model {meta.model.get('name')!r} has no input_spec")
        n_out = getattr(model, "num_classes", None)
        if n_out is not None and n_out != len(meta.classes):
            raise BadInputError(ckpt_path, f"the model outputs {n_out} scores but the checkpoint names "
                                           f"{len(meta.classes)} classes")
        import torch

        want_cuda = device is not None and str(device).startswith("cuda")
        if device is not None and not want_cuda and str(device) != "cpu":
            raise ValueError(f"device must be None, 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        if backend == "auto":
            if want_cuda or (device is None and torch.cuda.is_available()):
                backend = "torch"
            elif _onnxruntime_available():
                try:
                    return cls._load_onnx(ckpt_path, meta, model, spec, "cpu", threads, workers)
                except KinactError as exc:
                    warnings.warn(f"{ckpt_path}: ONNX Runtime unavailable for this model, using torch ({exc})",
                                  RuntimeWarning, stacklevel=2)
                backend = "torch"
            else:
                backend = "torch"
        if backend == "onnx":
            return cls._load_onnx(ckpt_path, meta, model, spec, device or "cpu", threads, workers)
        return cls._load_torch(ckpt_path, meta, model, spec, device, threads)

    @classmethod
    def _load_torch(cls, path, meta, model, spec, device, threads) -> "Predictor":
        import torch

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise KinactError(f"device {device!r} requested but CUDA is not available")
        if threads is not None and dev.type == "cpu":
            torch.set_num_threads(int(threads))
        model = model.to(dev).eval()

        def run(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
            with torch.inference_mode():
                xs = [torch.from_numpy(a).to(dev, non_blocking=True) for a in arrays]
                return model(*xs).float().cpu().numpy()

        return cls(meta, spec, f"torch-{dev.type}", run, path=path, model=model)

    @classmethod
    def _load_onnx(cls, path, meta, model, spec, device, threads, workers=None) -> "Predictor":
        try:
            import onnxruntime as ort
        except ImportError:
            raise KinactError("the onnx backend needs onnxruntime (pip install 'kinact[onnx]')") from None
        if str(device).startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise KinactError("device 'cuda' needs onnxruntime-gpu (CUDAExecutionProvider is not available)")
            index = str(device).partition(":")[2] or "0"
            providers: list[Any] = [("CUDAExecutionProvider", {"device_id": int(index)}), "CPUExecutionProvider"]
            name = "onnxruntime-cuda"
        else:
            providers, name = ["CPUExecutionProvider"], "onnxruntime-cpu"
        options = session_options(ort, threads)
        session, onnx_path = _onnx_session(path, meta, model, spec, options, providers)
        names = list(spec)
        output = [session.get_outputs()[0].name]
        run = _session_run(session, names, output, direct=name == "onnxruntime-cpu")
        if workers is None:
            workers = usable_cores() if threads is None else 1
        split = graph = None
        if name == "onnxruntime-cpu" and int(workers) > 1:
            # chunks run on their own single-threaded session: two chunks each asking for the intra-op pool
            # would only queue behind each other (measured slower than one big call)
            single_threaded = ort.InferenceSession(str(onnx_path), session_options(ort, 1), providers=providers)
            pool = CoreWorkers(int(workers))
            # one window: its independent GRU nodes split across the same workers (graph_split), when it has them
            graph = build_graph_split(onnx_path, session, ort, session_options(ort, 1), options, providers, pool)
            # ... but only while that is faster than the whole graph (faster_of: it is not after idle pauses)
            single = FasterOf(graph, run) if graph is not None else run
            split = SplitBatchRun(single, _session_run(single_threaded, names, output, direct=True), pool)
            run = split

        p = cls(meta, spec, name, run, path=path, onnx_path=onnx_path)
        p.session = session
        p.workers = split.workers if split is not None else 1
        p.graph_split = graph is not None
        p.single_run = single if graph is not None else None
        return p

    # ------------------------------------------------------------------------------------------ running

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def _arrays(self, inputs: Mapping[str, Any]) -> tuple[np.ndarray, ...] | None:
        if not isinstance(inputs, Mapping):
            raise TypeError(f"predict takes a dict {{input name: array}} with {list(self.input_spec)}")
        if inputs.keys() != self._shapes.keys():
            missing = [n for n in self.input_spec if n not in inputs]
            extra = [n for n in inputs if n not in self.input_spec]
            raise BadInputError(self.path, f"the model takes inputs {list(self.input_spec)}; missing {missing}, "
                                           f"unexpected {extra}")
        arrays, batch = [], None
        for name, want in self._shapes.items():
            x = inputs[name]
            if type(x) is not np.ndarray:
                if hasattr(x, "detach"):  # a torch tensor
                    x = x.detach().cpu().numpy()
                x = np.asarray(x)
            if x.ndim == len(want):
                x = x[None]
            if x.ndim != len(want) + 1 or tuple(x.shape[1:]) != want:
                raise BadInputError(self.path, f"input {name!r} must be (B, {', '.join(map(str, want))}), "
                                               f"got {tuple(x.shape)}")
            if batch is not None and x.shape[0] != batch:
                raise BadInputError(self.path, f"inputs have different batch sizes ({batch} and {x.shape[0]})")
            batch = x.shape[0]
            arrays.append(np.ascontiguousarray(x, dtype=np.float32))
        return tuple(arrays) if batch else None

    def logits(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """(B, K) float32 raw scores, before the softmax."""
        arrays = self._arrays(inputs)
        if arrays is None:  # an empty batch
            return np.zeros((0, self.num_classes), np.float32)
        return np.asarray(self._run(arrays), dtype=np.float32)

    def predict(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """(B, K) float32 class probabilities (softmax over the K classes of `classes`)."""
        return softmax(self.logits(inputs))

    __call__ = predict

    def predict_skeleton(self, x) -> np.ndarray:
        """predict({"skeleton": x}) for models whose only input is the skeleton window (B, C, T, N)."""
        if not self._skeleton_only:
            raise KinactError(f"{self.path}: the model takes {list(self.input_spec)}, not a skeleton alone; "
                              "use predict({name: array})")
        return self.predict({"skeleton": x})

    def dummy_inputs(self, batch: int = 1) -> dict[str, np.ndarray]:
        """Zero inputs of the right shapes: for warm-up and smoke tests."""
        return {n: np.zeros((batch, *[int(d) for d in s[1:]]), np.float32) for n, s in self.input_spec.items()}

    def warmup(self, batch: int = 1, repeats: int = 2) -> None:
        """Run a few dummy batches: the first calls of either backend allocate and plan, and are slow."""
        for _ in range(repeats):
            self.logits(self.dummy_inputs(batch))

    def __repr__(self) -> str:
        return (f"Predictor({self.path!r}, backend={self.backend!r}, inputs={self.input_spec}, "
                f"classes={len(self.classes)})")


# ---------------------------------------------------------------------------------------------- ONNX cache


def session_options(ort, threads: int | None = None):
    """The onnxruntime settings every kinact session uses (the latency bench times these same settings).

    All graph optimisations (they fuse Conv+Add+Relu and pick the blocked-layout convolutions the export
    recipe sets up), one node at a time (running the per-axis GRU nodes side by side on a parallel executor
    was slower on 2 shared cores), and intra-op workers that sleep instead of spin-waiting between parallel
    sections: on 2 cores that also run the capture and GUI threads, a spinning worker doubled the CPU time of
    a batch-1 call and made a 6-body call about twice as slow as one thread whenever other work ran (measured
    on the 2-core development machine, issue 8). threads: intra-op threads, None for onnxruntime's default.
    """
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads is not None:
        options.intra_op_num_threads = int(threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _session_run(session, names: list[str], output: list[str], direct: bool):
    """tuple of arrays -> logits through `session`; direct=True on the CPU (`graph_split.session_call`: the
    input names were already checked by `Predictor._arrays`)."""
    call = session_call(session, direct)

    def run(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
        return call(output, dict(zip(names, arrays)))[0]
    return run


def _onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _session_matches(session, sha: str, spec: Mapping[str, tuple]) -> bool:
    """Made from these exact checkpoint bytes by today's export recipe, with the inputs the model declares."""
    from kinact.core.onnx_export import EXPORT_RECIPE, RECIPE_KEY

    meta = session.get_modelmeta().custom_metadata_map
    if meta.get(SHA_KEY) != sha or meta.get(RECIPE_KEY) != EXPORT_RECIPE:
        return False
    got = {i.name: list(i.shape) for i in session.get_inputs()}
    want = {n: list(s) for n, s in spec.items()}
    return list(got) == list(want) and all(got[n][1:] == want[n][1:] for n in want)


def _onnx_session(ckpt_path, meta: CheckpointMeta, model, spec: Mapping[str, tuple], options, providers):
    """(session, path) for an up-to-date ONNX export of the checkpoint, exporting it first if needed."""
    import onnxruntime as ort

    from kinact.core.onnx_export import export_onnx_model

    sha = checkpoint_sha256(ckpt_path)
    candidates = onnx_cache_paths(ckpt_path, sha)
    ckpt_mtime = os.path.getmtime(ckpt_path)
    for p in candidates:
        try:
            if os.path.getmtime(p) < ckpt_mtime:
                continue  # the checkpoint is newer
            session = ort.InferenceSession(str(p), options, providers=providers)
        except Exception:  # absent, damaged, truncated, or from an opset this onnxruntime does not know
            continue
        if _session_matches(session, sha, spec):
            return session, p
    metadata = {SHA_KEY: sha, META_KEY: meta.to_json()}
    errors = []
    for p in candidates:
        try:
            export_onnx_model(model.cpu(), p, spec, metadata=metadata)
        except OSError as exc:  # read-only folder, full disk: try the next place
            errors.append(f"{p.parent}: {exc.strerror or exc}")
            continue
        except KinactError as exc:
            raise KinactError(f"{ckpt_path}: {exc}") from None
        try:
            return ort.InferenceSession(str(p), options, providers=providers), p
        except Exception as exc:
            raise KinactError(f"{p}: onnxruntime cannot load the exported model ({exc})") from None
    raise KinactError(f"{ckpt_path}: cannot write the ONNX export anywhere ({'; '.join(errors)})")
