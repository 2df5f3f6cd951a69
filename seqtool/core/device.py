"""--device auto|cpu|cuda[:N]: pick where tensors live."""

from __future__ import annotations

import re
from typing import Callable

from .errors import UsageError

_SPEC = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str = "auto", *, cuda_available: Callable[[], bool] | None = None,
                   cuda_count: Callable[[], int] | None = None) -> str:
    """Return a torch device string for `spec`.

    auto -> "cuda" when a GPU is usable, else "cpu"; cuda[:N] fails with a clear
    message when no such GPU exists. The CUDA probes are injectable for tests.
    """
    spec = (spec or "auto").strip().lower()
    if not _SPEC.match(spec):
        raise UsageError(f"invalid --device {spec!r} (choose auto, cpu, cuda or cuda:N)")
    if spec == "cpu":
        return "cpu"
    if cuda_available is None or cuda_count is None:
        import torch

        cuda_available = cuda_available or torch.cuda.is_available
        cuda_count = cuda_count or torch.cuda.device_count
    available = cuda_available()
    if spec == "auto":
        return "cuda" if available else "cpu"
    if not available:
        raise UsageError(f"--device {spec}: CUDA is not available on this machine (use --device cpu or auto)")
    index = int(spec.split(":")[1]) if ":" in spec else 0
    if index >= cuda_count():
        raise UsageError(f"--device {spec}: only {cuda_count()} CUDA device(s) present")
    return spec


def torch_device(spec: str = "auto"):
    import torch

    return torch.device(resolve_device(spec))
