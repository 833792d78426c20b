"""Run one window's call of a model with several independent recurrent nodes on all cores at once.

Why: ONNX Runtime runs a GRU node on one thread, and the shipped skeleton model spends about 2 of its 2.7 ms
per window in the nine BiGRU memories of its per-axis TARMs (64 sequential steps per direction each). Those
nine are independent of each other, but ONNX Runtime's parallel executor did not run them side by side any
faster (measured on the 2-core development machine), so a batch of one left the second core idle through the
recurrence. Here the exported graph is cut at the recurrent nodes' outputs into parts, each computing its
share of those nodes from the model's inputs, and a tail that takes the inputs plus every cut tensor to the
logits. Part 0 runs on the caller's thread while the others run on pinned worker threads (batch_split's
`CoreWorkers`), then the tail runs; each part recomputes the few cheap nodes in front of its GRUs.

The cut is made with `onnx.utils.Extractor` on the model the Predictor already loaded, so it cannot drift
from the export, and it is checked once at build time against the whole graph on random inputs: any
mismatch, a missing `onnx` package or a graph whose recurrent nodes feed each other means no split, and the
caller keeps the whole-graph call.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kinact.core.batch_split import CoreWorkers, collect

RECURRENT_OPS = ("GRU", "LSTM", "RNN")
PARITY_ATOL = 1e-4


@dataclass
class SplitPlan:
    """The cut graph: `parts[i]` computes `part_outputs[i]` from the model's inputs; `tail` computes the
    model's output from the inputs plus every part output."""

    parts: list  # onnx.ModelProto
    part_outputs: list[list[str]]
    tail: object  # onnx.ModelProto


def _ancestors(model, names: set[str]) -> set[int]:
    """Indices of the nodes whose outputs `names` depend on."""
    producer = {out: i for i, node in enumerate(model.graph.node) for out in node.output if out}
    seen: set[int] = set()
    stack = [producer[n] for n in names if n in producer]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        stack.extend(producer[x] for x in model.graph.node[i].input if x in producer)
    return seen


def _used_outputs(model, node) -> list[str]:
    consumed = {x for n in model.graph.node for x in n.input} | {o.name for o in model.graph.output}
    return [o for o in node.output if o and o in consumed]


def _balanced(costs: Sequence[float], parts: int) -> list[list[int]]:
    """Contiguous groups of node indices with near-equal summed cost (the graph order keeps related nodes
    together); the heaviest group first, since part 0 runs on the caller's thread while the rest are handed off."""
    total, groups, current, acc = float(sum(costs)), [], [], 0.0
    for i, c in enumerate(costs):
        current.append(i)
        acc += c
        if len(groups) < parts - 1 and acc >= total * (len(groups) + 1) / parts - 1e-9:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return sorted(groups, key=lambda g: -sum(costs[i] for i in g))


def plan_split(model, parts: int = 2) -> SplitPlan | None:
    """Cut `model` (an onnx.ModelProto with inferred shapes) into `parts` parts plus a tail, or None where it
    does not pay or cannot be done: fewer recurrent nodes than parts, or a recurrent node that depends on
    another one."""
    from onnx.utils import Extractor

    recurrent = [n for n in model.graph.node if n.op_type in RECURRENT_OPS]
    if parts < 2 or len(recurrent) < parts:
        return None
    index = {id(n): i for i, n in enumerate(model.graph.node)}
    for node in recurrent:
        upstream = _ancestors(model, set(node.input)) - {index[id(node)]}
        if any(index[id(other)] in upstream for other in recurrent if other is not node):
            return None
    cuts = [_used_outputs(model, n) for n in recurrent]
    costs = []
    for n in recurrent:
        attrs = {a.name: a for a in n.attribute}
        hidden = attrs["hidden_size"].i if "hidden_size" in attrs else 1
        both = 2 if "direction" in attrs and attrs["direction"].s == b"bidirectional" else 1
        costs.append(float(hidden * hidden * both))
    inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    outputs = [o.name for o in model.graph.output]
    extractor = Extractor(model)
    part_outputs = [[o for i in group for o in cuts[i]] for group in _balanced(costs, parts)]
    every_cut = [o for outs in part_outputs for o in outs]
    return SplitPlan(parts=[extractor.extract_model(inputs, outs) for outs in part_outputs],
                     part_outputs=part_outputs, tail=extractor.extract_model(inputs + every_cut, outputs))


def session_call(session, direct: bool = True) -> Callable[[list, dict], list]:
    """(output names, feeds) -> outputs of `session`. direct: the C++ session under onnxruntime's Python `run`,
    skipping that wrapper's re-check of the input names and its GPU-provider fallback (a few microseconds a
    call); False (a GPU session) keeps the wrapper."""
    fast = getattr(getattr(session, "_sess", None), "run", None) if direct else None
    if fast is not None:
        return lambda outs, feeds: fast(outs, feeds, None)
    return session.run


class GraphSplitRun:
    """A `run` callable for one window: part 0 on the caller's thread, part i on worker i, then the tail."""

    def __init__(self, parts: Sequence, part_outputs: Sequence[Sequence[str]], tail, input_names: Sequence[str],
                 workers: CoreWorkers) -> None:
        if len(parts) < 2 or len(parts) != len(part_outputs):
            raise ValueError("a graph split needs at least 2 parts, each with its output names")
        self.input_names = list(input_names)
        self._parts = [self._runner(s) for s in parts]
        self._part_outputs = [list(o) for o in part_outputs]
        self._tail = self._runner(tail, [tail.get_outputs()[0].name])
        self.workers = workers

    @property
    def parts(self) -> int:
        return len(self._parts)

    @staticmethod
    def _runner(session, outs: list[str] | None = None) -> Callable[[dict], list]:
        """feeds (a dict holding at least the session's inputs) -> the session's outputs `outs` (default all)."""
        wanted = [i.name for i in session.get_inputs()]
        outs = outs or [o.name for o in session.get_outputs()]
        call = session_call(session)
        return lambda feeds: call(outs, {n: feeds[n] for n in wanted})

    def __call__(self, arrays: tuple) -> np.ndarray:
        feeds = dict(zip(self.input_names, arrays))
        replies = [self.workers.submit(i, run, feeds) for i, run in enumerate(self._parts) if i > 0]
        try:
            first = self._parts[0](feeds)
        finally:
            rest = collect(replies)  # always drained, so no reply is left for a later call
        for names, values in zip(self._part_outputs, [first, *rest]):
            feeds.update(zip(names, values))
        return self._tail(feeds)[0]


def build_graph_split(onnx_path: str | os.PathLike, whole, ort, part_options, tail_options, providers,
                      workers: CoreWorkers, seed: int = 0) -> GraphSplitRun | None:
    """A checked GraphSplitRun for the model at `onnx_path` with one part per worker, or None (see module doc).

    whole: the session of the whole graph, the reference the split must reproduce on random inputs.
    part_options: session options for the parts (single-threaded: each part has its own core);
    tail_options: for the tail (the convolutions may use the intra-op pool).
    """
    try:
        import onnx
    except ImportError:
        return None
    try:  # the cut tensors need shapes for the pieces' inputs and outputs
        model = onnx.shape_inference.infer_shapes(onnx.load(os.fspath(onnx_path)))
        plan = plan_split(model, workers.count)
        if plan is None:
            return None
        parts = [ort.InferenceSession(p.SerializeToString(), part_options, providers=providers) for p in plan.parts]
        tail = ort.InferenceSession(plan.tail.SerializeToString(), tail_options, providers=providers)
    except Exception:  # a graph the extractor or the pieces' planning cannot handle: keep the whole graph
        return None
    names = [i.name for i in whole.get_inputs()]
    run = GraphSplitRun(parts, plan.part_outputs, tail, names, workers)
    rng = np.random.default_rng(seed)
    feeds = {i.name: rng.standard_normal([d if isinstance(d, int) and d > 0 else 1 for d in i.shape])
             .astype(np.float32) for i in whole.get_inputs()}  # symbolic (batch) axes as 1: one window
    want = whole.run([whole.get_outputs()[0].name], feeds)[0]
    got = run(tuple(feeds[n] for n in names))
    if got.shape != want.shape or not np.allclose(got, want, atol=PARITY_ATOL, rtol=PARITY_ATOL):
        return None
    return run
