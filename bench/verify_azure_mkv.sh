#!/usr/bin/env bash
# Checks that `kinact import` of an Azure Kinect MKV stores depth bit-identical to the official SDK's reader.
# pyk4a-bundle (the SDK for Linux) needs numpy<2, so it lives in its own throwaway venv beside kinact's.
# Usage: bash bench/verify_azure_mkv.sh [MKV]   (default ../shared/data/azure-kinect/recording.mkv)
set -euo pipefail
mkv=$(realpath "${1:-../shared/data/azure-kinect/recording.mkv}")
ref_venv=${K4A_VENV:-/tmp/kinact-k4a-venv}
work=$(mktemp -d)
[ -x "$ref_venv/bin/python" ] || { python3 -m venv "$ref_venv" && "$ref_venv/bin/pip" -q install 'numpy<2' pyk4a-bundle; }
"$ref_venv/bin/python" - "$mkv" "$work/ref.npz" <<'PY'
import sys, numpy as np, pyk4a
from pyk4a import PyK4APlayback
pb = PyK4APlayback(sys.argv[1]); pb.open()
depth, ts = [], []
while True:
    try:
        cap = pb.get_next_capture()
    except EOFError:
        break
    if cap.depth is not None:
        depth.append(cap.depth.copy()); ts.append(cap.depth_timestamp_usec)
pb.close()
np.savez(sys.argv[2], depth=np.stack(depth), ts=np.array(ts))
from importlib.metadata import version
print(f"pyk4a-bundle {version('pyk4a-bundle')}, numpy {np.__version__}: {len(depth)} depth frames {depth[0].shape}")
PY
kinact import "$mkv" --out "$work/rec.kinrec"
python - "$work/ref.npz" "$work/rec.kinrec" <<'PY'
import sys, numpy as np
from kinact.core.recording.kinrec import KinrecReader
ref = np.load(sys.argv[1])
with KinrecReader(sys.argv[2]) as r:
    ours = [f for f in r.iter_frames()]
same = len(ours) == len(ref["depth"]) and all(np.array_equal(f.depth, d) for f, d in zip(ours, ref["depth"]))
ts_same = all(round(f.t * 1e6) == t for f, t in zip(ours, ref["ts"]))
print(f"frames: kinrec {len(ours)}, pyk4a {len(ref['depth'])}; depth bit-identical: {same}; timestamps identical: {ts_same}")
sys.exit(0 if same and ts_same else 1)
PY
rm -rf "$work"
