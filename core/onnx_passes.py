"""Rewrites of an exported ONNX graph that keep its maths exactly and let onnxruntime pick faster CPU kernels.

Why rewrite the file rather than the networks: the networks are written for training (Conv1d over time is the
natural layer there), while onnxruntime only gives its blocked-layout ("NCHWc") convolutions, with Conv+Add+Relu
fused, to 2-D convolutions. The same 1-D convolution written as a 2-D one over a (1, T) image gives identical
results and, for the temporal ResNet of the shipped skeleton model, about a fifth less time in its convolution
stack (measured with onnxruntime 1.32 on a 2-core AMD EPYC, bench/latency.json). Every export is still checked
against torch after the rewrite (core/onnx_export.py), so a rewrite that got something wrong cannot ship.
"""
from __future__ import annotations

import numpy as np

__all__ = ["conv1d_as_conv2d"]

# Ops through which the (N, C, T) -> (N, C, 1, T) change can travel unchanged: element-wise on their first input,
# with per-channel (BatchNormalization) or scalar (Clip, LeakyRelu's attribute) other inputs.
_UNARY = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "BatchNormalization", "Identity"}
# Element-wise on several inputs: only when every input is 4-D already or a single number, so broadcasting
# cannot change meaning.
_BINARY = {"Add", "Sub", "Mul", "Div"}


def conv1d_as_conv2d(model) -> int:
    """Run every 1-D Conv of `model` (an onnx.ModelProto, changed in place) as a 2-D Conv over (1, T).

    The region of 1-D convolutions and the element-wise ops between them becomes 4-D as a whole, so a chain of
    convolutions needs one Unsqueeze where it starts and one Squeeze where its result leaves, not one per layer.
    Returns how many convolutions were rewritten (0 leaves the model untouched).
    """
    from onnx import helper, numpy_helper

    g = model.graph
    all_nodes = list(g.node)  # node k is all_nodes[k]: indices, not protobuf wrappers, identify nodes below
    inits = {t.name: t for t in g.initializer}
    producer = {o: k for k, n in enumerate(all_nodes) for o in n.output}
    consumers: dict[str, list[int]] = {}
    for k, n in enumerate(all_nodes):
        for i in n.input:
            consumers.setdefault(i, []).append(k)

    def attrs(n) -> dict:
        return {a.name: helper.get_attribute_value(a) for a in n.attribute}

    def is_conv1d(n) -> bool:
        w = inits.get(n.input[1]) if n.op_type == "Conv" and len(n.input) > 1 else None
        auto_pad = attrs(n).get("auto_pad", b"NOTSET")
        return w is not None and len(w.dims) == 3 and auto_pad in (b"NOTSET", "NOTSET")

    def unit_constant(name: str) -> bool:  # one number, which broadcasts the same against 3-D and 4-D
        t = inits.get(name)
        if t is None and name in producer and all_nodes[producer[name]].op_type == "Constant":
            t = next((a.t for a in all_nodes[producer[name]].attribute if a.name == "value"), None)
        return t is not None and int(np.prod(t.dims)) == 1

    def data_inputs(n) -> list[str]:
        if n.op_type in _BINARY:
            return [i for i in n.input if not unit_constant(i)]
        return list(n.input[:1])

    region = {k for k, n in enumerate(all_nodes) if is_conv1d(n)}
    if not region:
        return 0
    changed = True
    while changed:  # grow through element-wise ops next to the region until nothing more joins
        changed = False
        for k, n in enumerate(all_nodes):
            if k in region or n.op_type not in _UNARY | _BINARY or len(n.output) != 1:
                continue
            ins = data_inputs(n)
            fed = [i in producer and producer[i] in region for i in ins]
            out = n.output[0]
            feeds = any(c in region and out in data_inputs(all_nodes[c]) for c in consumers.get(out, []))
            if (n.op_type in _BINARY and fed and all(fed)) or (n.op_type in _UNARY and (fed[0] or feeds)):
                region.add(k)
                changed = True

    nodes = [n for k, n in enumerate(all_nodes) if k in region]
    made_here = {o for n in nodes for o in n.output}
    fresh = _Names(g)
    axes = fresh("conv2d_axis")
    g.initializer.append(numpy_helper.from_array(np.array([2], np.int64), axes))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)

    def axis_node(op: str, src: str, dst: str):
        if opset >= 13:
            return helper.make_node(op, [src, axes], [dst])
        return helper.make_node(op, [src], [dst], axes=[2])

    old_weights = set()
    renamed = {o: fresh(o + "_2d") for n in nodes for o in n.output}  # region tensors become 4-D, renamed
    for n in nodes:
        if n.op_type != "Conv":
            continue
        w = inits[n.input[1]]
        old_weights.add(w.name)
        n.input[1] = fresh(w.name + "_2d")
        g.initializer.append(numpy_helper.from_array(numpy_helper.to_array(w)[:, :, None, :], n.input[1]))
        a = attrs(n)
        pads = a.get("pads", [0, 0])
        new = {"kernel_shape": [1, int(w.dims[2])], "strides": [1, a.get("strides", [1])[0]],
               "dilations": [1, a.get("dilations", [1])[0]], "pads": [0, pads[0], 0, pads[1]]}
        keep = [x for x in n.attribute if x.name not in new and x.name != "auto_pad"]
        del n.attribute[:]
        n.attribute.extend(keep + [helper.make_attribute(k, v) for k, v in new.items()])
    # New nodes go right after the node that makes their input, which keeps the graph's order topological.
    after: dict[int, list] = {}
    entered: dict[str, str] = {}
    for n in nodes:
        for idx, i in enumerate(n.input):
            if i in renamed:
                n.input[idx] = renamed[i]
            elif i in data_inputs(n) and i not in made_here:  # 3-D data entering the region
                if i not in entered:
                    entered[i] = fresh(i + "_2d")
                    after.setdefault(producer.get(i), []).append(axis_node("Unsqueeze", i, entered[i]))
                n.input[idx] = entered[i]
    graph_outputs = {o.name for o in g.output}
    for k in sorted(region):
        n = all_nodes[k]
        for o in n.output:  # results leaving the region get their 3-D form back under their old name
            if o in graph_outputs or any(c not in region for c in consumers.get(o, [])):
                after.setdefault(k, []).append(axis_node("Squeeze", renamed[o], o))
        n.output[:] = [renamed[o] for o in n.output]
    order = list(after.get(None, []))
    for k, n in enumerate(all_nodes):
        order.append(type(n)())
        order[-1].CopyFrom(n)  # a copy: the originals go away with the old node list
        order.extend(after.get(k, []))
    del g.node[:]
    g.node.extend(order)
    still_read = {i for n in g.node for i in n.input}
    for w in [t for t in g.initializer if t.name in old_weights and t.name not in still_read]:
        g.initializer.remove(w)
    for v in [v for v in g.value_info if v.name in made_here and v.name not in {o for n in g.node for o in n.output}]:
        g.value_info.remove(v)
    return sum(1 for n in nodes if n.op_type == "Conv")


class _Names:
    """Unused tensor names: neither in the graph nor handed out before."""

    def __init__(self, g) -> None:
        self.taken = {t.name for t in g.initializer} | {i.name for i in g.input} | {o.name for o in g.output}
        self.taken |= {x for n in g.node for x in (*n.input, *n.output)}

    def __call__(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name
