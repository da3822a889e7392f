"""A spy for values read back from tensors by this repository's own code (not by PyTorch's).

On a GPU each such read (`loss.item()`, `float(t)`, `bool(t)`, formatting, a copy to the host, an
index or assignment through a boolean mask, `nonzero`) waits for every queued kernel, so the CPU
cannot queue the next ones meanwhile; the trainers' steps must do none. A copy to the GPU from
ordinary host memory waits too, and a CPU cannot see it: the trainers send theirs through
`v2/device.py`, and a GPU run can check all of it with `torch.cuda.set_sync_debug_mode("error")`.

    reads = spy_host_reads(monkeypatch)
    ... one training step ...
    monkeypatch.undo(); assert reads == []
"""
import sys

import torch

READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__", "__format__",
         "__array__")
OURS = ("strobe_training", "strobe_reference")


def _ours(depth: int = 2) -> str | None:
    caller = sys._getframe(depth)
    name = caller.f_code.co_filename
    return f"{name}:{caller.f_lineno}" if any(part in name for part in OURS) else None


def _has_mask(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, torch.Tensor) and p.dtype == torch.bool for p in parts)


def spy_host_reads(monkeypatch) -> list[str]:
    """Patches torch.Tensor's reading methods, boolean-mask indexing and torch.nonzero; returns the
    list that collects "what in file:line" for each use whose caller is one of this repository's
    Python packages."""
    reads: list[str] = []

    def spy(name, original, when=lambda *a, **k: True):
        def wrapper(*args, **kwargs):
            where = _ours()
            if where and when(*args, **kwargs):
                reads.append(f"{name} in {where}")
            return original(*args, **kwargs)
        return wrapper

    for name in READS:
        monkeypatch.setattr(torch.Tensor, name, spy(name, getattr(torch.Tensor, name)))
    for name in ("__getitem__", "__setitem__"):
        monkeypatch.setattr(torch.Tensor, name, spy(f"{name} with a mask", getattr(torch.Tensor, name),
                                                    lambda self, index, *a: _has_mask(index)))
    monkeypatch.setattr(torch, "nonzero", spy("nonzero", torch.nonzero))
    monkeypatch.setattr(torch.Tensor, "nonzero", spy("nonzero", torch.Tensor.nonzero))
    return reads
