"""The --threads rule: one thread per idle core, within [1, cores]; explicit counts win."""

from __future__ import annotations

import pytest

from seqtool.core import threads
from seqtool.core.errors import UsageError


@pytest.mark.parametrize("cores, idle, expected", [
    (2, 2.0, 2),     # idle machine: both cores
    (2, 1.05, 1),    # another job holds one core: one thread, no spin-waiting on the busy core
    (2, 1.7, 2),     # a core 70% free counts
    (2, 0.0, 1),     # fully loaded: still one thread
    (8, 5.5, 5),
    (2, 9.0, 2),     # never more than the usable cores
    (4, None, 4),    # no /proc/stat: every usable core
])
def test_rule(cores, idle, expected):
    assert threads.choose_threads(cores, idle) == expected


def test_idle_cores_from_two_samples():
    samples = iter([(100.0, 400.0), (150.0, 500.0)])  # 50 of 100 jiffies idle
    assert threads.idle_cores(0.0, sample=lambda: next(samples), cpus=2) == pytest.approx(1.0)
    assert threads.idle_cores(0.0, sample=lambda: None, cpus=2) is None


def test_idle_cores_on_this_machine_is_within_range():
    idle = threads.idle_cores(0.05)
    if idle is not None:
        assert 0.0 <= idle <= (threads.os.cpu_count() or 1) + 0.01


def test_explicit_counts_and_the_environment(monkeypatch):
    assert threads.resolve_threads(3) == 3
    assert threads.resolve_threads("1") == 1
    monkeypatch.setenv(threads.ENV, "2")
    assert threads.resolve_threads(None) == 2
    monkeypatch.setattr(threads, "idle_cores", lambda: 0.2)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    assert threads.resolve_threads("auto") == 1
    for bad in ("0", "-1", "many"):
        with pytest.raises(UsageError):
            threads.resolve_threads(bad)
