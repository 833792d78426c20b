"""Splitting one window's independent GRU nodes across cores: the cut graph gives the whole graph's numbers,
both parts really run at once, dependent recurrences are left whole, and the Predictor uses it by default."""
import threading

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from kinact.core.batch_split import CoreWorkers  # noqa: E402
from kinact.core.graph_split import GraphSplitRun, build_graph_split, plan_split  # noqa: E402
from kinact.core.inference import Predictor, session_options  # noqa: E402

from test_inference import _x, make_checkpoint, user_cache  # noqa: F401,E402  (fixture)

T, D, H = 7, 5, 4


def _gru_model(path, grus: int = 3, chained: bool = False):
    """x (T, B, D) -> `grus` bidirectional GRUs on x (or each on the previous one's output when chained) ->
    their outputs concatenated and averaged over time: a stand-in for the per-axis TARM memories."""
    rng = np.random.default_rng(0)
    inits, nodes, ys = [], [], []
    src = "x"
    for g in range(grus):
        d_in = D if (g == 0 or not chained) else 2 * H
        for name, shape in ((f"W{g}", (2, 3 * H, d_in)), (f"R{g}", (2, 3 * H, H)), (f"B{g}", (2, 6 * H))):
            inits.append(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.5, name))
        nodes.append(helper.make_node("GRU", [src, f"W{g}", f"R{g}", f"B{g}"], [f"y{g}"], hidden_size=H,
                                      direction="bidirectional", linear_before_reset=1, name=f"gru{g}"))
        # (T, 2, B, H) -> (T, B, 2, H) -> (T, B, 2H)
        nodes.append(helper.make_node("Transpose", [f"y{g}"], [f"t{g}"], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"t{g}", "shape"], [f"r{g}"]))
        ys.append(f"r{g}")
        if chained:
            src = f"r{g}"
    inits.append(numpy_helper.from_array(np.array([T, -1, 2 * H], np.int64), "shape"))
    nodes.append(helper.make_node("Concat", ys, ["cat"], axis=2))
    nodes.append(helper.make_node("ReduceMean", ["cat"], ["out"], axes=[0], keepdims=0))
    graph = helper.make_graph(nodes, "grus", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, "b", D])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", 2 * H * grus])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _session(path, threads=1):
    return ort.InferenceSession(str(path), session_options(ort, threads), providers=["CPUExecutionProvider"])


def _split(path, pool):
    """(whole-graph session, checked GraphSplitRun or None) for the model at path, parts on `pool`."""
    whole = _session(path)
    return whole, build_graph_split(path, whole, ort, session_options(ort, 1), session_options(ort, 1),
                                    ["CPUExecutionProvider"], pool)


def test_the_recurrences_are_shared_out_and_the_parts_rebuild_the_whole_graph(tmp_path):
    model = onnx.shape_inference.infer_shapes(onnx.load(str(_gru_model(tmp_path / "m.onnx", grus=3))))
    plan = plan_split(model, 2)
    assert plan.part_outputs == [["y0", "y1"], ["y2"]]  # contiguous, heaviest part first (the caller's)
    for part, outs in zip(plan.parts, plan.part_outputs):
        assert sorted(n.name for n in part.graph.node if n.op_type == "GRU") == [f"gru{o[1]}" for o in outs]
    assert not [n for n in plan.tail.graph.node if n.op_type == "GRU"]
    assert plan_split(model, 4) is None  # fewer recurrences than parts


def test_chained_recurrences_are_not_split(tmp_path):
    model = onnx.shape_inference.infer_shapes(onnx.load(str(_gru_model(tmp_path / "m.onnx", chained=True))))
    assert plan_split(model, 2) is None


def test_split_run_matches_the_whole_graph_and_runs_its_parts_at_once(tmp_path):
    pool = CoreWorkers(2)
    whole, run = _split(_gru_model(tmp_path / "m.onnx", grus=4), pool)
    assert isinstance(run, GraphSplitRun)
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((T, 1, D)).astype(np.float32)
        np.testing.assert_array_equal(run((x,)), whole.run(None, {"x": x})[0])

    barrier = threading.Barrier(2, timeout=5)  # breaks (and raises) unless part 1 runs while part 0 does
    threads = set()
    parts = run._parts

    def waiting(part):
        def go(feeds):
            threads.add(threading.current_thread().name)
            barrier.wait()
            return part(feeds)
        return go

    run._parts = [waiting(p) for p in parts]
    x = np.ones((T, 1, D), np.float32)
    np.testing.assert_array_equal(run((x,)), whole.run(None, {"x": x})[0])
    assert len(threads) == 2
    pool.close()


def test_a_failing_part_raises_in_the_caller_and_leaves_no_reply_behind(tmp_path):
    pool = CoreWorkers(2)
    whole, run = _split(_gru_model(tmp_path / "m.onnx", grus=2), pool)
    good = list(run._parts)

    def broken(feeds):
        raise RuntimeError("part 1 failed")

    run._parts = [good[0], broken]
    x = np.ones((T, 1, D), np.float32)
    with pytest.raises(RuntimeError, match="part 1 failed"):
        run((x,))
    run._parts = good
    np.testing.assert_array_equal(run((x,)), whole.run(None, {"x": x})[0])
    pool.close()


def test_one_recurrence_means_no_split(tmp_path):
    pool = CoreWorkers(2)
    assert _split(_gru_model(tmp_path / "m.onnx", grus=1), pool)[1] is None
    pool.close()


def test_predictor_splits_one_window_by_default_and_matches_the_whole_graph(tmp_path):
    ckpt = make_checkpoint(tmp_path / "model.safetensors")  # per-axis TARMs: 3 independent BiGRUs
    split = Predictor.load(ckpt, backend="onnx", workers=2)
    whole = Predictor.load(ckpt, backend="onnx", workers=1)
    assert (split.graph_split, whole.graph_split) == (True, False)
    assert Predictor.load(ckpt, backend="onnx", threads=1).graph_split is False  # pinned threads: one call
    for batch in (1, 3):
        x = {"skeleton": _x(batch, seed=batch)}
        np.testing.assert_allclose(split.logits(x), whole.logits(x), atol=1e-5)
    x = {"skeleton": _x(1)}
    want = whole.logits(x)
    for _ in range(40):  # one window at a time: faster_of tries both ways, the numbers never change
        np.testing.assert_allclose(split.logits(x), want, atol=1e-5)
    assert min(split.single_run.calls) >= 2 and whole.single_run is None
