"""Moving tensors to the training device without making the CPU wait for the GPU."""
from __future__ import annotations

import torch


def to_device(x: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """x on `device`. From the host to a GPU through pinned memory, without waiting: a copy from
    ordinary (pageable) memory waits until the GPU has run everything queued before it, so the CPU
    could not queue the next kernels meanwhile."""
    device = torch.device(device)
    if device.type != "cuda" or x.device.type != "cpu":
        return x.to(device)
    return x.pin_memory().to(device, non_blocking=True)
