"""--threads N|auto: how many CPU threads a computing command uses.

Why not torch's default (one thread per core): torch's OpenMP threads spin-wait
between parallel regions, so on a core that another job is using they steal
its time and wait for each other; a small classifier trained 8x slower with two
threads than with one while a second job ran (issue 18 item 16). On an idle
machine two threads are 1.6-1.9x faster than one for the LM. So `auto` counts
the cores that are idle right now (a 0.1 s sample of /proc/stat, where the
load average would lag by a minute) and uses that many, at least one.
benchmarks/bench_threads.py measures the rule on an idle and a busy machine.

`SEQTOOL_THREADS` sets the default for every command (a fixed count also fixes
CPU results for a seed: floating-point sums depend on the thread count).
"""

from __future__ import annotations

import os
import time
from typing import Callable

from .errors import UsageError

ENV = "SEQTOOL_THREADS"


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies over all CPUs since boot, or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [float(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    return idle, sum(values[:8])  # guest time is already inside user time


def idle_cores(interval: float = 0.1, *, sample: Callable[[], tuple[float, float] | None] = _cpu_times,
               cpus: int | None = None) -> float | None:
    """How many cores were idle during `interval` seconds (None when it cannot be measured)."""
    cpus = cpus or os.cpu_count() or 1
    first = sample()
    if first is None:
        return None
    time.sleep(interval)
    second = sample()
    if second is None or second[1] <= first[1]:
        return None
    return cpus * (second[0] - first[0]) / (second[1] - first[1])


def choose_threads(cores: int, idle: float | None) -> int:
    """The rule: one thread per idle core (rounded, a core 60% free counts), within [1, cores]."""
    if idle is None:
        return cores
    return max(1, min(cores, int(idle + 0.4)))


def resolve_threads(spec: str | int | None = None) -> int:
    """--threads value (a count, 'auto' or None for SEQTOOL_THREADS or auto) -> a thread count."""
    if spec is None or spec == "":
        spec = os.environ.get(ENV, "auto")
    text = str(spec).strip().lower()
    cores = usable_cores()
    if text == "auto":
        return choose_threads(cores, idle_cores())
    try:
        count = int(text)
    except ValueError:
        raise UsageError(f"invalid --threads {spec!r} (a whole number of threads, or auto)") from None
    if count < 1:
        raise UsageError(f"--threads must be at least 1 (got {count})")
    return count


def apply_threads(spec: str | int | None = None) -> int:
    """Set torch's intra-op threads; returns the count."""
    count = resolve_threads(spec)
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def apply_blas_threads(spec: str | int | None = None) -> int:
    """Set the threads of numpy's BLAS (OpenBLAS, MKL) through threadpoolctl; returns the count.
    Without threadpoolctl, BLAS keeps its own default (its OPENBLAS_NUM_THREADS etc.)."""
    count = resolve_threads(spec)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return count
    threadpool_limits(count, user_api="blas")
    return count
