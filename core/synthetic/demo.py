"""The bundled demo recording, made from the synthetic performer by one reproducible command.

`kinact make-demo` (or `python -m kinact.core.synthetic.demo`) rebuilds `recordings/demo.kinrec` from a seed,
so the shipped file can always be checked against its recipe. The performer does only actions that UTD-MHAD
also has, so the shipped UTD-MHAD model has something to recognise, and every segment is labelled with the
UTD-MHAD class name. The recording is marked synthetic in its header. Depth uses the background-removed style
of UTD-MHAD (only the person is non-zero), which is what keeps a minute of depth within a few megabytes.
"""
from __future__ import annotations

import argparse
import os

from kinact.core.recording.kinrec_writer import KinrecWriter
from kinact.core.synthetic import actions as action_lib
from kinact.core.synthetic.scene import Scene


def demo_actions() -> list[str]:
    """The synthetic actions that have a UTD-MHAD counterpart, by their UTD-MHAD names."""
    return [a.utd for a in action_lib.all_actions() if a.utd]


def make_demo(out: str | os.PathLike, seed: int = 0, seconds: float = 45.0, people: int = 1,
              background: str = "removed", actions: list[str] | None = None) -> dict:
    """Render a scripted scene into a .kinrec with ground-truth segments; written atomically."""
    from kinact.core.datasets.utd_mhad import CLASS_NAMES

    scene = Scene.random(seed=seed, people=people, duration=seconds, actions=actions or demo_actions(),
                         background=background)
    meta = {"generator": "kinact.core.synthetic.demo", "seed": str(seed), "seconds": str(seconds),
            "people": str(people), "background": background,
            "note": "SYNTHETIC: a procedural performer, not a person; labels are the script"}
    with KinrecWriter(out, "kinect_v1", scene.fps, intrinsics=scene.intrinsics, sensor="synthetic performer",
                      metadata=meta, synthetic=True, atomic=True) as w:
        for i in range(scene.num_frames):
            frame, _ = scene.frame_at(i)
            w.write_frame(frame)
        for s in scene.segments:
            label = CLASS_NAMES.index(s.action) if s.action in CLASS_NAMES else None
            w.add_segment(s.start_s, s.end_s, s.action, body_id=s.body_id, label=label)
    return {"out": os.fspath(out), "frames": scene.num_frames, "segments": len(scene.segments),
            "bytes": os.path.getsize(out)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="recordings/demo.kinrec")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seconds", type=float, default=45.0)
    p.add_argument("--people", type=int, default=1)
    a = p.parse_args(argv)
    print(make_demo(a.out, a.seed, a.seconds, a.people))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
