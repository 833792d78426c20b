"""ScoreAverage: several networks of one input recipe as one network whose scores are their averaged scores.

Why a network and not a loop in the engine: the live pipeline, the ONNX export (one graph, the members' GRUs
split across cores by core/graph_split.py like any other), the stream evaluation and the app all take one
checkpoint. Wrapping the members keeps every one of them unchanged.

The output is log(mean of the members' softmax), not logits: softmax of it is exactly the averaged
probability, and its argmax is the averaged vote, so code that applies softmax to a model's output (the
inference worker, `kinact eval`) needs no special case.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ScoreAverage"]


class ScoreAverage(nn.Module):
    """Members take the same inputs and predict the same classes; forward returns log of their mean softmax."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        members = list(members)
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        specs = [dict(getattr(m, "input_spec", {}) or {}) for m in members]
        if any(s != specs[0] for s in specs[1:]):
            raise ValueError(f"ensemble members take different inputs: {specs}")
        classes = {int(m.num_classes) for m in members}
        if len(classes) != 1:
            raise ValueError(f"ensemble members predict different numbers of classes: {sorted(classes)}")
        self.members = nn.ModuleList(members)
        self.num_classes = classes.pop()
        self._input_spec = specs[0]

    @property
    def input_spec(self) -> dict[str, tuple]:
        return dict(self._input_spec)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        probs = torch.stack([torch.softmax(m(*inputs), dim=-1) for m in self.members]).mean(0)
        return torch.log(probs.clamp_min(1e-12))
