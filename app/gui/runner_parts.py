"""What the controller builds a Runner from, besides the source and the model: a stand-in model for running
without a checkpoint, the check that a checkpoint can be fed at all, and the source proxy that carries the
GUI's requests over to the capture thread.
"""
from __future__ import annotations

from kinact.core.checkpoint import CheckpointMeta
from kinact.core.errors import KinactError


class NoModel:
    """Lets the engine track people (colours, rows, side views) before any checkpoint is loaded. The engine is
    built with an unreachable coverage, so it never asks this for a prediction."""

    def __init__(self):
        self.meta = CheckpointMeta(model={"name": "none"}, classes=["none"])
        self.classes = ["none"]

    def predict_skeleton(self, x):
        raise KinactError("no model loaded")


def check_mappable(meta: CheckpointMeta, path) -> None:
    """Refuse a checkpoint the live pipeline could not feed: the engine hands models canonical joints only."""
    from kinact.core.errors import BadInputError
    from kinact.core.layouts import CANONICAL, get_layout

    lay = get_layout(meta.layout)  # an unknown layout name is a KinactError naming the known ones
    if lay.name != CANONICAL.name:
        raise BadInputError(path, f"the model expects joint layout {lay.name!r}, but the live pipeline feeds "
                                  f"the canonical {CANONICAL.name!r} joints")
    joints = meta.model.get("num_joints")
    if joints is not None and int(joints) != CANONICAL.num_joints:
        raise BadInputError(path, f"the model takes {joints} joints; layout {lay.name!r} has {CANONICAL.num_joints}")
    if not meta.classes:
        raise BadInputError(path, "the checkpoint names no classes")


class SourceProxy:
    """The Runner's source: the real one plus what must happen on the capture thread (engine resets) or just
    after it opens (restoring a pause). Everything else is forwarded."""

    def __init__(self, inner, engine, paused: bool = False):
        self.inner, self.engine = inner, engine
        self.want_paused = paused
        self.reset_pending = False
        self.is_open = False
        self._problems_seen = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def open(self) -> None:
        self.inner.open()
        if self.want_paused and hasattr(self.inner, "step"):
            self.inner.step(1)  # paused, showing where we are
        self.is_open = True

    def read(self, timeout: float = 1.0):
        if self.reset_pending:
            self.reset_pending = False
            self.engine.reset()
        return self.inner.read(timeout)

    def close(self) -> None:
        self.is_open = False
        self.inner.close()

    def describe(self) -> str:
        return self.inner.describe()

    def new_problems(self) -> list[str]:
        """Damage the source found since the last call: a replay lists damaged chunks as it reaches them."""
        problems = list(getattr(self.inner, "problems", None) or [])
        fresh, self._problems_seen = problems[self._problems_seen:], len(problems)
        return fresh
