"""ONNX export of a checkpoint, checked against PyTorch before the file is published.

An exported model that silently disagrees with its checkpoint (an op exported with other semantics, a
batch dimension baked in) is worse than none, so the file is only renamed into place after onnxruntime
reproduces torch's logits on random inputs at batch 1 and batch 4. The legacy TorchScript exporter
(`dynamo=False`) is used because it handles the GRUs in the TARMs with a dynamic batch axis.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from kinact.core.checkpoint import build_model, load_checkpoint
from kinact.core.errors import KinactError

TOLERANCE = 1e-4
OPSET = 17


def input_shapes(model, meta) -> dict[str, tuple]:
    """{input name: ("batch", ...)} from the model's `input_spec`, or from the checkpoint recipe if it has none."""
    spec = getattr(model, "input_spec", None)
    if spec:
        return dict(spec)
    shapes = {}
    if meta.features:
        shapes["skeleton"] = ("batch", 3 * len(meta.features), int(meta.frames), 20)
    if meta.depth:
        shapes["depth"] = ("batch", int(meta.depth.get("channels", 1)), *[int(s) for s in meta.depth["size"]])
    return shapes


def _inputs(shapes: dict, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    return tuple(torch.randn(batch, *shape[1:], generator=gen) for shape in shapes.values())


def export_onnx(ckpt_path, out_path) -> dict:
    """Write `out_path` (atomically) and return {"max_abs_diff": {"batch1": .., "batch4": ..}, ...}."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise KinactError("ONNX export needs onnx and onnxruntime (pip install 'kinact[onnx]')") from None
    state, meta = load_checkpoint(ckpt_path)
    model = build_model(meta, state, ckpt_path).cpu().eval()
    shapes = input_shapes(model, meta)
    names = list(shapes)
    gen = torch.Generator().manual_seed(0)
    out_path = os.fspath(out_path)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    dynamic = {n: {0: "batch"} for n in names}
    dynamic["logits"] = {0: "batch"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # Tracer warnings about the models' shape checks, and the GRU batch-size note, are expected:
            # the parity check below at batch 1 and 4 is what decides whether the export is right.
            warnings.simplefilter("ignore")
            torch.onnx.export(model, _inputs(shapes, 1, gen), tmp, dynamo=False, opset_version=OPSET,
                              input_names=names, output_names=["logits"], dynamic_axes=dynamic)
        session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        diffs = {}
        for batch in (1, 4):
            xs = _inputs(shapes, batch, gen)
            with torch.no_grad():
                ref = model(*xs).numpy()
            got = session.run(["logits"], {n: x.numpy() for n, x in zip(names, xs)})[0]
            if got.shape != ref.shape:
                raise KinactError(f"{ckpt_path}: ONNX output shape {got.shape} differs from torch {ref.shape}")
            diffs[f"batch{batch}"] = float(np.max(np.abs(got - ref)))
        worst = max(diffs.values())
        if not np.isfinite(worst) or worst >= TOLERANCE:
            raise KinactError(f"{ckpt_path}: ONNX disagrees with torch (max abs difference {worst:.2e} "
                              f">= {TOLERANCE:g}); not written")
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {"path": out_path, "inputs": {n: list(s) for n, s in shapes.items()}, "opset": OPSET,
            "max_abs_diff": diffs, "size_bytes": os.path.getsize(out_path)}
