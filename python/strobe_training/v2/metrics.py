"""Reconstruction PSNR and grid seams of images (numpy / torch, no model needed).

The seam ratio of an image at grid g is the mean absolute colour step across the lines between
pixel k·g − 1 and k·g (columns and rows, k ≥ 1) over the mean step everywhere else, on uint8
pixels, as `evaluate_edits` measures the v1 model's 16-px patch seams. A picture with no grid
scores about 1 (the renders: 0.79–1.15 at 16 px); v1's images score 2.5–3.1 at its patch grid.
`seam_ratio` and `seam_summary` live in `strobe_training.evaluation.metrics` (one definition for
the evaluation of every model) and are re-exported here.
"""
from __future__ import annotations

import numpy as np
import torch

from strobe_training.evaluation.metrics import seam_ratio, seam_summary

__all__ = ["psnr", "seam_ratio", "seam_summary"]


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two image batches in [0, 1], [N, 3, H, W], over all pixels at once."""
    mse = (a.clamp(0, 1) - b.clamp(0, 1)).double().pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)
