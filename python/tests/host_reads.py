"""A spy for values read back from tensors by this repository's own code (not by PyTorch's).

On a GPU each such read (`loss.item()`, `float(t)`, `bool(t)`, a copy to the host) waits for every
queued kernel, so the CPU cannot queue the next ones meanwhile; the trainers' steps must do none.

    reads = spy_host_reads(monkeypatch)
    ... one training step ...
    monkeypatch.undo(); assert reads == []
"""
import sys

import torch

READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")
OURS = ("strobe_training", "strobe_reference")


def spy_host_reads(monkeypatch) -> list[str]:
    """Patches the reading methods of torch.Tensor; returns the list that collects "name in
    file:line" for each read whose caller is a file of this repository's Python packages."""
    reads: list[str] = []
    for name in READS:
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            caller = sys._getframe(1)
            if any(part in caller.f_code.co_filename for part in OURS):
                reads.append(f"{_name} in {caller.f_code.co_filename}:{caller.f_lineno}")
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, spy)
    return reads
