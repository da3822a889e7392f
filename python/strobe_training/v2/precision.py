"""Whether bf16 autocast pays on a device: the trainers' default for --bf16 / --no-bf16.

On a CUDA device it does. On a CPU it does only where the CPU multiplies bf16 natively
(AVX512-BF16 or AMX): elsewhere PyTorch emulates it, and a 2-core AVX2 machine trained the
autoencoder about 30 times slower in bf16 than in float32 (48 s against 1.7 s for a step of 4 crops).
"""
from __future__ import annotations

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def bf16_pays(device: str | torch.device) -> bool:
    """True on CUDA, and on a CPU with native bf16 arithmetic."""
    if torch.device(device).type == "cuda":
        return True
    return any(flag in cpu_flags() for flag in NATIVE_BF16_FLAGS)


def resolve_bf16(choice: bool | None, device: str | torch.device) -> bool:
    """--bf16 (True), --no-bf16 (False) or neither (None: `bf16_pays`)."""
    return bf16_pays(device) if choice is None else choice
