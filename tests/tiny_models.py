"""A tiny real checkpoint for tests that need one: a registry model small enough to build in milliseconds."""
import numpy as np

from kinact.core.checkpoint import CheckpointMeta, save_checkpoint

TINY_SKELETON = {"name": "skeleton", "num_joints": 20, "num_classes": 3, "in_channels": 9, "num_frames": 16,
                 "tarm": "per_axis", "hidden": 4, "stcm": "temporal", "channels": [8, 8, 8], "blocks": [1, 1, 1]}


def tiny_checkpoint(path, classes=("x", "y", "no_action"), seed=0, spec=None, **meta) -> str:
    """Untrained weights of `spec` (seeded) saved with a 16-frame, 1 s window; `meta` overrides CheckpointMeta fields.

    One builder for every test that needs a loadable checkpoint, so a change to the checkpoint format or the
    registry is met in one place.
    """
    import torch
    from kinact.models.registry import build_model

    torch.manual_seed(seed)
    spec = dict(spec or TINY_SKELETON, num_classes=len(classes))
    fields = {"frames": 16, "window_seconds": 1.0, "features": ["joint", "bone", "velocity"],
              "no_action": "no_action" if "no_action" in classes else None, **meta}
    save_checkpoint(path, build_model(spec).state_dict(), CheckpointMeta(model=spec, classes=list(classes), **fields))
    return str(path)


def waving_recording(path, seconds=3.0, fps=30.0, people=1, depth_shape=(48, 64)):
    """A small .kinrec: people standing side by side, the first waving its right hand, with small depth images."""
    from kinact.core.frames import Body, Frame
    from kinact.core.pipeline.fakes import pose
    from kinact.core.recording.intrinsics import KINECT_V1_DEPTH
    from kinact.core.recording.kinrec import KinrecWriter

    intr = KINECT_V1_DEPTH.scaled(depth_shape[1], depth_shape[0])
    with KinrecWriter(path, "kinect_v1", fps, intrinsics=intr, sensor="test") as w:
        for i in range(int(seconds * fps)):
            bodies = [Body(10 + p, pose(x=0.8 * p, hand_up=(p == 0 and (i // 15) % 2 == 1)),
                           np.ones(20, np.float32)) for p in range(people)]
            depth = np.full(depth_shape, 2500 + i, np.uint16)
            w.write_frame(Frame(t=i / fps, bodies=bodies, depth=depth, index=i))
        w.add_segment(0.5, 2.5, "x", body_id=10)
    return str(path)
