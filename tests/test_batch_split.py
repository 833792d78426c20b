"""Splitting a batch of bodies across cores: same numbers in the same order, chunks really in flight together,
errors reach the caller, and the ONNX Runtime predictor uses it by default only when threads are not pinned."""
import gc
import threading
import time

import numpy as np
import pytest

from kinact.core.batch_split import SplitBatchRun, chunk_bounds

from test_inference import CLASSES, _x, make_checkpoint, user_cache  # noqa: F401  (fixture)


@pytest.mark.parametrize("batch,chunks,want", [
    (1, 2, [(0, 1)]), (2, 2, [(0, 1), (1, 2)]), (5, 2, [(0, 3), (3, 5)]), (6, 4, [(0, 2), (2, 4), (4, 5), (5, 6)]),
    (3, 8, [(0, 1), (1, 2), (2, 3)]),
])
def test_chunks_cover_the_batch_in_order(batch, chunks, want):
    assert chunk_bounds(batch, chunks) == want


def _rows_times_ten(arrays):
    (x,) = arrays
    return x[:, :1] * 10.0


def test_split_run_returns_the_rows_of_one_call_in_order():
    seen = []

    def single(arrays):
        seen.append(len(arrays[0]))
        return _rows_times_ten(arrays)

    run = SplitBatchRun(single, _rows_times_ten, workers=3)
    x = np.arange(7 * 2, dtype=np.float32).reshape(7, 2)
    np.testing.assert_array_equal(run((x,)), _rows_times_ten((x,)))
    np.testing.assert_array_equal(run((x[:1],)), _rows_times_ten((x[:1],)))
    assert seen == [1]  # only the batch of one took the single-call path
    run.close()


def test_chunks_run_at_the_same_time_on_different_threads():
    barrier = threading.Barrier(2, timeout=5)  # breaks (and raises) if the second chunk never runs alongside
    names = set()

    def chunk(arrays):
        names.add(threading.current_thread().name)
        barrier.wait()
        return _rows_times_ten(arrays)

    run = SplitBatchRun(_rows_times_ten, chunk, workers=2)
    out = run((np.ones((4, 3), np.float32),))
    assert out.shape == (4, 1) and len(names) == 2
    run.close()


def test_a_failing_chunk_raises_in_the_caller_and_the_workers_go_on():
    def chunk(arrays):
        if arrays[0][0, 0] < 0:
            raise ValueError("bad chunk")
        return _rows_times_ten(arrays)

    run = SplitBatchRun(_rows_times_ten, chunk, workers=2)
    x = np.ones((4, 2), np.float32)
    x[2:] = -1
    with pytest.raises(ValueError, match="bad chunk"):
        run((x,))
    np.testing.assert_array_equal(run((np.abs(x),)), _rows_times_ten((np.abs(x),)))
    run.close()


def test_workers_end_when_the_runner_is_dropped():
    before = {t for t in threading.enumerate() if t.name.startswith("kinact-infer")}
    run = SplitBatchRun(_rows_times_ten, _rows_times_ten, workers=2)
    del run
    gc.collect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = {t for t in threading.enumerate() if t.name.startswith("kinact-infer")} - before
        if not alive:
            break
        time.sleep(0.01)
    assert not alive


def test_onnx_predictor_splits_by_default_and_matches_one_call(tmp_path):
    pytest.importorskip("onnxruntime")
    from kinact.core.inference import Predictor

    ckpt = make_checkpoint(tmp_path / "model.safetensors")
    split = Predictor.load(ckpt, backend="onnx", workers=2)
    whole = Predictor.load(ckpt, backend="onnx", workers=1)
    assert (split.workers, whole.workers) == (2, 1)
    assert Predictor.load(ckpt, backend="onnx", threads=1).workers == 1  # pinned threads: one call
    for batch in (1, 2, 5):
        x = {"skeleton": _x(batch, seed=batch)}
        np.testing.assert_allclose(split.predict(x), whole.predict(x), atol=1e-6)
    with pytest.raises(ValueError, match="workers"):
        Predictor.load(ckpt, backend="onnx", workers=0)
