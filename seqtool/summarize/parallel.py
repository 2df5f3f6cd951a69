"""Run a per-item function over worker processes, results back in input order."""

from __future__ import annotations

import os
import signal
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..core.locking import die_with_parent, release_inherited_locks

_state: dict[str, Any] = {}


def _init_worker(state: dict, parent: int) -> None:
    # A worker must neither outlive its parent nor keep the parent's lock alive
    # (a forked child shares the lock's open file); Ctrl-C is the parent's to handle.
    release_inherited_locks()
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init(state)
    _one_blas_thread()


def _init(state: dict) -> None:
    _state.clear()
    _state.update(state)
    # Each worker is one core's worth of work; BLAS threads would only fight each other.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _one_blas_thread() -> None:
    """A forked worker's BLAS, already loaded with the parent's thread count (the CLI starts it
    with one; a library caller may not have): one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; BLAS then keeps its own count
        return
    threadpool_limits(1, user_api="blas")


def worker_state() -> dict:
    return _state


def _run_chunk(fn: Callable, chunk: Sequence) -> list:
    return [fn(item) for item in chunk]


def resolve_jobs(jobs: int) -> int:
    if jobs == 0:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return max(1, jobs)


def ordered_map(fn: Callable, items: Iterable, *, jobs: int, state: dict, chunk: int = 16) -> Iterator:
    """fn(item) for every item, in order. jobs=1 runs in this process (no pickling at all).

    `state` is what fn finds in worker_state(): with the fork start method it is
    inherited, not pickled, so large word vectors cost nothing to share.
    """
    if jobs <= 1:
        _init(state)
        for item in items:
            yield fn(item)
        return
    import multiprocessing  # only here: --jobs 1 pays no process-pool import
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pending = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                             initargs=(state, os.getpid())) as pool:
        batch: list = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) == chunk:
                    pending.append(pool.submit(_run_chunk, fn, batch))
                    batch = []
                    # Bounded read-ahead keeps memory flat on huge inputs.
                    while len(pending) > 4 * jobs:
                        yield from pending.pop(0).result()
            if batch:
                pending.append(pool.submit(_run_chunk, fn, batch))
            while pending:
                yield from pending.pop(0).result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
