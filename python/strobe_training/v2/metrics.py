"""Reconstruction PSNR and grid seams of images (numpy / torch, no model needed).

The seam ratio of an image at grid g is the mean absolute colour step across the lines between
pixel k·g − 1 and k·g (columns and rows, k ≥ 1) over the mean step everywhere else, on uint8
pixels, as `evaluate_edits` measures the v1 model's 16-px patch seams. A picture with no grid
scores about 1 (the renders: 0.79–1.15 at 16 px); v1's images score 2.5–3.1 at its patch grid.
`seam_ratio` and `seam_summary` live in `strobe_training.evaluation.metrics` (one definition for
the evaluation of every model) and are re-exported here.
"""
from __future__ import annotations

import torch

from strobe_training.evaluation.metrics import seam_ratio, seam_summary

__all__ = ["psnr", "psnr_tensor", "seam_ratio", "seam_summary"]


def psnr_tensor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """`psnr` as a 0-d float64 tensor on the images' device (inf for equal images): a training step
    reads nothing back."""
    mse = (a.clamp(0, 1) - b.clamp(0, 1)).double().pow(2).mean()
    return 10 * torch.log10(1.0 / mse)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two image batches in [0, 1], [N, 3, H, W], over all pixels at once."""
    return float(psnr_tensor(a, b))
