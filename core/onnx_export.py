"""Export a network to ONNX with a dynamic batch axis, checked against PyTorch before the file appears.

The exporter for the Predictor's ONNX cache and the latency bench (`kinact export` goes through
core/training/export.py, which uses the same exporter settings and gets the GRU formulation from the model
but not the graph rewrite below): the legacy TorchScript exporter (`dynamo=False`) at opset 17, which
handles the TARMs' GRUs with a dynamic batch; inputs named after the model's `input_spec` ({name: ("batch",
*dims)}, in forward-argument order), one output "logits", axis 0 of every input and of the output named
"batch" so several bodies go through in one call. The file is written to a temporary name in the target
folder and renamed into place only after onnxruntime reproduced torch's logits (when `verify`), so a reader
never sees a half-written or a silently wrong model, and two processes exporting the same file cannot
corrupt it.

The recipe is tuned for onnxruntime on the CPU (profile and measurements: bench/latency.json): each grouped
BiGRU becomes one native ONNX GRU node per channel with no shape glue around it (models/grouped.py, impl
"onnx"), and the 1-D convolutions are rewritten as 2-D ones (core/onnx_passes.py) so onnxruntime uses its
blocked-layout kernels. `EXPORT_RECIPE` names that recipe and is stored in every file: the Predictor's cache
exports again when it differs, so a changed recipe reaches existing installs without anyone deleting files.
"""
from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from kinact.core.errors import KinactError

__all__ = ["export_onnx_model", "OPSET", "TOLERANCE", "OUTPUT_NAME", "EXPORT_RECIPE", "RECIPE_KEY"]

OPSET = 17
TOLERANCE = 1e-4  # max |onnx - torch| on logits
OUTPUT_NAME = "logits"
# Bump whenever what lands in the file changes (graph formulation, rewrites, opset), so caches re-export.
EXPORT_RECIPE = "2:onnx-gru-nodes+conv1d-as-conv2d"
RECIPE_KEY = "kinact.export_recipe"


def _random_inputs(shapes: Mapping[str, tuple], batch: int, gen: torch.Generator, device) -> tuple[torch.Tensor, ...]:
    return tuple(torch.randn(batch, *[int(d) for d in s[1:]], generator=gen).to(device) for s in shapes.values())


def export_onnx_model(
    model: torch.nn.Module,
    path: str | os.PathLike,
    input_spec: Mapping[str, Sequence] | None = None,
    *,
    opset: int = OPSET,
    verify: bool = True,
    verify_batches: Sequence[int] = (1, 4),
    tolerance: float = TOLERANCE,
    metadata: Mapping[str, str] | None = None,
    rewrite: bool = True,
) -> dict:
    """Write `model` to `path` as ONNX (atomically) and return what was written.

    input_spec: {input name: ("batch", *dims)} in forward-argument order; None takes `model.input_spec`.
    verify: run the file in onnxruntime (CPU) at each of `verify_batches` on random inputs and refuse to
    publish it (KinactError, nothing written) if the logits differ from torch's by `tolerance` or more;
    needs onnxruntime. metadata: strings stored in the ONNX file's metadata_props, readable later through
    onnxruntime's `get_modelmeta().custom_metadata_map`; `RECIPE_KEY` is always added. rewrite: apply
    core/onnx_passes.py (False gives the exporter's plain graph, for comparisons). Needs the onnx package.
    The model is exported in eval mode on its own device and left in the mode it came in.

    OSError (an unwritable folder, a full disk) propagates unchanged; other failures raise KinactError.

    Returns {"path", "inputs": {name: [dims]}, "output": "logits", "opset", "recipe", "convs_as_2d",
    "max_abs_diff": {"batch1": ..} (empty without verify), "size_bytes"}.
    """
    shapes = dict(input_spec if input_spec is not None else getattr(model, "input_spec", None) or {})
    if not shapes:
        raise KinactError(f"{type(model).__name__} has no input_spec; pass input_spec={{name: ('batch', ...)}}")
    for name, shape in shapes.items():
        if len(shape) < 2 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in shape[1:]):
            raise KinactError(f"input {name!r}: expected ('batch', positive dims...), got {tuple(shape)}")
    ort = None
    if verify:
        try:
            import onnxruntime as ort
        except ImportError:
            raise KinactError("checking an ONNX export needs onnxruntime (pip install 'kinact[onnx]')") from None
    names = list(shapes)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    dynamic = {n: {0: "batch"} for n in names}
    dynamic[OUTPUT_NAME] = {0: "batch"}
    was_training = model.training
    model.eval()
    # A unique name beside the target (same file system, so the rename is atomic); created by the exporter
    # with the usual umask permissions, unlike mkstemp's owner-only file.
    tmp = f"{path}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    try:
        try:
            with torch.no_grad(), warnings.catch_warnings():
                # Tracer warnings about the models' shape checks and the GRU "batch size other than 1" note are
                # expected; the parity check below is what decides whether the export is right.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model, _random_inputs(shapes, 1, gen, device), tmp, dynamo=False, opset_version=opset,
                    input_names=names, output_names=[OUTPUT_NAME], dynamic_axes=dynamic,
                )
        except OSError:
            raise  # the folder is not writable, the disk is full: the caller may try elsewhere
        except Exception as exc:  # the exporter raises many types for an unsupported op or shape
            raise KinactError(f"ONNX export of {type(model).__name__} failed: {exc}") from exc
        recipe = EXPORT_RECIPE if rewrite else EXPORT_RECIPE + "-plain"
        convs_2d = _finish(tmp, {**(metadata or {}), RECIPE_KEY: recipe}, rewrite)
        diffs: dict[str, float] = {}
        if verify:
            session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
            for batch in verify_batches:
                xs = _random_inputs(shapes, int(batch), gen, device)
                with torch.no_grad():
                    ref = model(*xs).float().cpu().numpy()
                got = session.run([OUTPUT_NAME], {n: x.cpu().numpy() for n, x in zip(names, xs)})[0]
                if got.shape != ref.shape:
                    raise KinactError(f"ONNX output shape {got.shape} differs from torch's {ref.shape} (batch {batch})")
                diffs[f"batch{batch}"] = float(np.max(np.abs(got - ref))) if ref.size else 0.0
            worst = max(diffs.values(), default=0.0)
            if not np.isfinite(worst) or worst >= tolerance:
                raise KinactError(
                    f"ONNX export disagrees with torch (max abs difference {worst:.2e} >= {tolerance:g}); not written"
                )
        os.replace(tmp, path)
    finally:
        model.train(was_training)
        if os.path.exists(tmp):
            os.remove(tmp)
    return {
        "path": path, "inputs": {n: list(s) for n, s in shapes.items()}, "output": OUTPUT_NAME, "opset": opset,
        "recipe": recipe, "convs_as_2d": convs_2d, "max_abs_diff": diffs, "size_bytes": os.path.getsize(path),
    }


def _finish(path: str, metadata: Mapping[str, str], rewrite: bool) -> int:
    """Rewrite the exported file in place (passes, then metadata); returns how many convolutions became 2-D."""
    try:
        import onnx
    except ImportError:
        raise KinactError("ONNX export needs the onnx package (pip install 'kinact[onnx]')") from None
    from kinact.core.onnx_passes import conv1d_as_conv2d

    proto = onnx.load(path)
    try:
        convs = conv1d_as_conv2d(proto) if rewrite else 0
    except Exception as exc:  # a graph shape the pass does not know: a bug to report, not a wrong file
        raise KinactError(f"rewriting the exported ONNX graph failed: {exc}") from exc
    existing = {p.key: p for p in proto.metadata_props}
    for key, value in metadata.items():
        if key in existing:
            existing[key].value = str(value)
        else:
            proto.metadata_props.add(key=str(key), value=str(value))
    onnx.save(proto, path)
    return convs
