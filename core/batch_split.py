"""Run one batch of windows as a few chunks at once, one per CPU core.

Why: ONNX Runtime runs a GRU node on one thread whatever intra_op_num_threads says, and the per-axis TARM
memories of the skeleton models spend most of a call there (64 sequential steps per direction and axis). So a
batch of six bodies cost about 3.4 times one body on 2 cores while the second core idled through the
recurrence. Two half-batches in flight at once, each on a single-threaded session, keep both cores busy: on
the 2-core development machine six bodies then cost about 2.3 times one body instead of 3.4 (issue 9). ONNX
Runtime releases the GIL inside `run` and an InferenceSession may be run from several threads at once, so
plain Python threads suffice.

A batch of one still goes through the caller's own call (its session may use several intra-op threads, which
convolution-heavy depth models need), so single-person latency is unchanged.
"""
from __future__ import annotations

import os
import queue
import threading
import weakref
from collections.abc import Callable

import numpy as np

Run = Callable[[tuple], np.ndarray]  # tuple of (B, ...) float32 arrays -> (B, K) logits


def allowed_cores() -> list[int]:
    """The cores this process may run on (its affinity mask); empty where the OS does not say."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def usable_cores() -> int:
    """How many cores this process may run on."""
    return len(allowed_cores()) or max(1, os.cpu_count() or 1)


def chunk_bounds(batch: int, chunks: int) -> list[tuple[int, int]]:
    """(start, stop) of `min(chunks, batch)` contiguous, near-equal parts of a batch, larger parts first."""
    n = max(1, min(int(chunks), int(batch)))
    size, extra = divmod(int(batch), n)
    bounds, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class _Stop:
    """Sentinel: the worker thread ends."""


def _worker(core: int | None, jobs: queue.SimpleQueue) -> None:
    if core is not None:
        try:
            os.sched_setaffinity(0, {core})  # on Linux, 0 is the calling thread
        except OSError:
            pass
    while True:
        job = jobs.get()
        if job is _Stop:
            return
        fn, arg, reply = job
        try:
            reply.put((True, fn(arg)))
        except BaseException as exc:  # handed to the caller, who raises it
            reply.put((False, exc))


def _stop_workers(inboxes: list) -> None:
    for q in inboxes:
        q.put(_Stop)


def collect(replies: list[queue.SimpleQueue]) -> list:
    """The values of submitted jobs, in order; waits for every reply, even after a failed one, so none is left
    behind to be read by a later call, then raises the first failure."""
    outs = [reply.get() for reply in replies]
    for ok, value in outs:
        if not ok:
            raise value
    return [value for _, value in outs]


class CoreWorkers:
    """`count` threads, each pinned to one core of the process's affinity mask, each running the jobs of its own
    inbox in order.

    Pinned because, unpinned, a worker woken after the ~100 ms between two strides was often placed on the
    waking thread's core and the two jobs shared it: on the 2-core development machine six bodies then took
    8-13 ms instead of 7 (a single call: 12). The threads end when this object is garbage-collected or closed.
    """

    def __init__(self, count: int) -> None:
        if int(count) < 1:
            raise ValueError(f"CoreWorkers needs at least 1 worker, got {count}")
        self.count = int(count)
        cores = allowed_cores()
        self._inboxes = [queue.SimpleQueue() for _ in range(self.count)]
        for i, inbox in enumerate(self._inboxes):
            core = cores[i % len(cores)] if cores else None
            threading.Thread(target=_worker, args=(core, inbox), name=f"kinact-infer-{i}", daemon=True).start()
        self._finalizer = weakref.finalize(self, _stop_workers, list(self._inboxes))

    def submit(self, index: int, fn: Callable, arg) -> queue.SimpleQueue:
        """Run fn(arg) on worker `index`; the returned queue receives (True, value) or (False, exception)."""
        reply: queue.SimpleQueue = queue.SimpleQueue()
        self._inboxes[index % self.count].put((fn, arg, reply))
        return reply

    def close(self) -> None:
        self._finalizer()


class SplitBatchRun:
    """A `run` callable: batches of 1 go to `single` on the caller's thread; larger ones are cut into up to
    `workers` chunks, each run through `chunk` on its own pinned worker thread (`CoreWorkers`), then put back
    in order.

    workers: a count, or a `CoreWorkers` shared with `single` (graph_split runs the parts of a batch-1 call on
    the same threads). Safe to call from several threads at once (each call waits on its own replies).
    """

    def __init__(self, single: Run, chunk: Run, workers: "int | CoreWorkers") -> None:
        pool = workers if isinstance(workers, CoreWorkers) else None
        count = pool.count if pool is not None else int(workers)
        if count < 2:
            raise ValueError(f"splitting a batch needs at least 2 workers, got {count}")
        self.workers = count
        self._single = single
        self._chunk = chunk
        self.pool = pool if pool is not None else CoreWorkers(count)

    def __call__(self, arrays: tuple) -> np.ndarray:
        batch = arrays[0].shape[0]
        if batch < 2:
            return self._single(arrays)
        replies = [self.pool.submit(i, self._chunk, tuple(a[start:stop] for a in arrays))
                   for i, (start, stop) in enumerate(chunk_bounds(batch, self.workers))]
        return np.concatenate([np.asarray(v) for v in collect(replies)], axis=0)

    def close(self) -> None:
        self.pool.close()
