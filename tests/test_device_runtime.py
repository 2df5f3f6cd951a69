import random

import numpy as np
import pytest

from seqtool.core.device import resolve_device
from seqtool.core.errors import UsageError


def probes(available, count=0):
    return dict(cuda_available=lambda: available, cuda_count=lambda: count)


@pytest.mark.parametrize("spec,available,count,expected", [
    ("auto", False, 0, "cpu"),
    ("auto", True, 2, "cuda"),
    ("cpu", True, 2, "cpu"),
    ("cuda", True, 1, "cuda"),
    ("cuda:1", True, 2, "cuda:1"),
    (" CUDA ", True, 1, "cuda"),
])
def test_device_selection(spec, available, count, expected):
    assert resolve_device(spec, **probes(available, count)) == expected


@pytest.mark.parametrize("spec,available,count,message", [
    ("cuda", False, 0, "CUDA is not available"),
    ("cuda:3", True, 2, "only 2 CUDA device"),
    ("gpu", True, 1, "invalid --device"),
])
def test_device_selection_errors(spec, available, count, message):
    with pytest.raises(UsageError, match=message):
        resolve_device(spec, **probes(available, count))


def test_real_probe_on_this_machine():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    import torch

    from seqtool.training.checkpoint import load_checkpoint, save_checkpoint
    from seqtool.training.runtime import rng_state, seed_everything, set_rng_state

    seed_everything(7)
    save_checkpoint(tmp_path, {"rng": rng_state()})
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    set_rng_state(load_checkpoint(tmp_path)["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_corrupted_checkpoint_is_a_model_error(tmp_path):
    from seqtool.core.errors import ModelError
    from seqtool.training.checkpoint import load_checkpoint

    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="corrupted"):
        load_checkpoint(tmp_path)
    assert load_checkpoint(tmp_path / "none") is None


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("10m", 600), ("1h30m", 5400), ("45", 45), ("1.5h", 5400)])
def test_durations(text, seconds):
    from seqtool.core.options import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["ten minutes", "10x", "m"])
def test_bad_durations(text):
    from seqtool.core.options import parse_duration

    with pytest.raises(UsageError):
        parse_duration(text)


def test_distributed_env_parsing():
    from seqtool.training.runtime import distributed_from_env

    assert not distributed_from_env({}).enabled
    d = distributed_from_env({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})
    assert d.enabled and not d.is_main and d.world_size == 2
