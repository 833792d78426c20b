"""`kinact export CHECKPOINT --onnx OUT.onnx`: ONNX for deployment, verified against torch before writing."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a kinact .safetensors checkpoint")
    p.add_argument("--onnx", required=True, help="output .onnx file")


def run(args) -> int:
    from kinact.core.training.export import export_onnx

    r = export_onnx(args.checkpoint, args.onnx)
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in r["max_abs_diff"].items())
    print(f"wrote {r['path']} ({r['size_bytes'] / 1e6:.1f} MB, opset {r['opset']}, recipe {r['recipe']}); "
          f"onnxruntime vs torch max abs difference: {diffs}")
    return 0
