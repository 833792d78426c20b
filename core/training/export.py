"""`kinact export`: a checkpoint's ONNX file for deployment, the same file the Predictor would cache.

There is one exporter (core/onnx_export.py): same opset, the same graph rewrites (one native GRU node per
TARM channel, 1-D convolutions as 2-D), and the same guarantee that the file is only renamed into place after
onnxruntime reproduced torch's logits at batch 1 and 4. A second exporter here would drift from it, and a
user's deployed file would then be slower than, or differ from, what `kinact run` measured. The checkpoint's
metadata is stored in the file so a deployment can check which weights and recipe it holds.
"""
from __future__ import annotations

import os

from kinact.core.checkpoint import build_model, load_checkpoint
from kinact.core.errors import KinactError

TOLERANCE = 1e-4  # max |onnx - torch| on logits, as the Predictor's cache uses


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


def export_onnx(ckpt_path, out_path) -> dict:
    """Write `out_path` (atomically) and return core.onnx_export's report (max_abs_diff per batch, size, recipe)."""
    from kinact.core.inference import META_KEY, SHA_KEY, checkpoint_sha256
    from kinact.core.onnx_export import export_onnx_model

    state, meta = load_checkpoint(ckpt_path)
    model = build_model(meta, state, ckpt_path).cpu().eval()
    metadata = {SHA_KEY: checkpoint_sha256(ckpt_path), META_KEY: meta.to_json()}
    try:
        return export_onnx_model(model, os.fspath(out_path), input_shapes(model, meta), metadata=metadata,
                                 tolerance=TOLERANCE)
    except KinactError as exc:
        raise KinactError(f"{ckpt_path}: {exc}") from None
