"""What every training run needs besides the model: seeds, RNG state capture
for exact resume, distributed (torchrun) set-up, and Ctrl-C handling."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch



def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def rng_state() -> dict:
    """All random states, as tensors and plain data (loadable with weights_only=True)."""
    state = {
        "python": _encode_python_state(random.getstate()),
        "numpy": _encode_numpy_state(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(_decode_python_state(state["python"]))
    np.random.set_state(_decode_numpy_state(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _encode_python_state(st: tuple) -> dict:
    version, internal, gauss = st
    return {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss}


def _decode_python_state(d: dict) -> tuple:
    return (d["version"], tuple(int(x) for x in d["internal"].tolist()), d["gauss"])


def _encode_numpy_state(st: tuple) -> dict:
    name, keys, pos, has_gauss, cached = st
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _decode_numpy_state(d: dict) -> tuple:
    return (d["name"], d["keys"].numpy().astype(np.uint32), d["pos"], d["has_gauss"], d["cached"])


@dataclass(frozen=True)
class Distributed:
    """Where this process sits in a torchrun job (world_size 1 when not under torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def distributed_from_env(env: dict | None = None) -> Distributed:
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env or int(env.get("WORLD_SIZE", "1")) <= 1:
        return Distributed()
    return Distributed(int(env.get("RANK", "0")), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", "0")))


@contextlib.contextmanager
def distributed_session(device: str) -> Iterator[Distributed]:
    """Initialise torch.distributed under torchrun (gloo on CPU, nccl on CUDA)."""
    dist_info = distributed_from_env()
    if not dist_info.enabled:
        yield dist_info
        return
    import torch.distributed as dist

    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(dist_info.local_rank)
    dist.init_process_group(backend=backend)
    finished = False
    try:
        yield dist_info
        finished = True
    finally:
        # A DistributedDataParallel wrapper left in a reference cycle (the loop's callbacks
        # hold the trainer) is freed only by the collector: let that happen while its group
        # exists, not at interpreter shutdown, where gloo's threads can abort the process.
        gc.collect()
        if finished:
            # Rank 0 still writes the model while the others are done; a rank that tears its
            # connections down first can make gloo abort a peer that has not (SIGABRT).
            dist.barrier()
        dist.destroy_process_group()


def device_for_rank(device: str, dist_info: Distributed) -> str:
    """Under torchrun each rank takes its own GPU."""
    if dist_info.enabled and device.startswith("cuda"):
        return f"cuda:{dist_info.local_rank}"
    return device


class StopFlag:
    """Set by the first Ctrl-C (SIGINT) or SIGTERM so the training loop can save and stop
    at the next batch boundary; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""

    def _handler(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopFlag"]:
        try:
            old_int = signal.signal(signal.SIGINT, self._handler)
            old_term = signal.signal(signal.SIGTERM, self._handler)
        except ValueError:  # not in the main thread: no handlers, Ctrl-C behaves as usual
            yield self
            return
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, old_int)
            signal.signal(signal.SIGTERM, old_term)
