"""Reference samplers for `strobe-dit` models (docs/architecture.md, the sampler mathematics), in PyTorch.

The Swift engine's samplers must reproduce these: the same time grids (computed in float64, then
rounded to float32), the same noise (`torch.manual_seed(seed); torch.randn(C, H, W)`), the same
updates in float32.

    flash  K steps:  t_i = (K − i)/K;  x ← x + (s − t)·u(x, t, t − s, β = 1/w)      (TVM jumps)
    full   N steps:  the same grid with gap 0 (Euler on the instantaneous velocity)
    naive  K steps:  `full` with K steps (what few steps give without TVM)
    cfg    N steps:  a teacher trained at β = 1, two passes: u = w·u(text) + (1 − w)·u(empty);
                     with `guidance_until` g, w only at steps with t ≤ g, the plain u(text) above
"""
from __future__ import annotations

import numpy as np
import torch

from strobe_reference.model import StrobeModel


def time_grid(steps: int) -> list[float]:
    """[1, (K−1)/K, …, 0] as float32 values (computed in float64, then rounded)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return [float(np.float32((steps - i) / steps)) for i in range(steps + 1)]


def initial_noise(seed: int, channels: int, height: int, width: int) -> torch.Tensor:
    """x₁ [C, H, W]: `torch.manual_seed(seed); torch.randn(C, H, W)`."""
    torch.manual_seed(seed)
    return torch.randn(channels, height, width)


def tokenize(tokenizer, prompts: list[str], max_tokens: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (cut to `max_tokens` if given) plus EOS, right-padded with id 0 →
    (ids [B, L] int64, mask [B, L] bool)."""
    ids = [tokenizer.encode(p)[:max_tokens] + [tokenizer.eos_id()] for p in prompts]
    length = max(len(i) for i in ids)
    batch = torch.zeros(len(ids), length, dtype=torch.long)
    mask = torch.zeros(len(ids), length, dtype=torch.bool)
    for row, seq in enumerate(ids):
        batch[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = True
    return batch, mask


def encode_prompts(model: StrobeModel, tokenizer, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenizes and encodes → (text [B, L, Dt], mask [B, L])."""
    ids, mask = tokenize(tokenizer, prompts)
    return model.encode_text(ids, mask), mask


def guidance_schedule(steps: int, guidance: float, guidance_until: float | None = None) -> list[float]:
    """The cfg sampler's weight w at each of its `steps` steps (by the step's start time t): `guidance`
    everywhere without `guidance_until`, else `guidance` for t ≤ guidance_until and 1 above (t and
    the bound compared as float32, as `train_dit.guidance_at` compares its float32 times)."""
    grid = time_grid(steps)[:-1]
    if guidance_until is None:
        return [guidance] * steps
    return [guidance if np.float32(t) <= np.float32(guidance_until) else 1.0 for t in grid]


@torch.no_grad()
def sample(model: StrobeModel, text: torch.Tensor, mask: torch.Tensor, noise: torch.Tensor, steps: int,
           guidance: float, mode: str = "flash", uncond: tuple[torch.Tensor, torch.Tensor] | None = None,
           trajectory: list | None = None, guidance_until: float | None = None) -> torch.Tensor:
    """Runs one sampler from noise [B, C, H, W] to x₀ [B, C, H, W] (values about [−1, 1]).
    mode: "flash" (TVM jumps), "full"/"naive" (gap 0), "cfg" (two passes, needs `uncond`).
    `guidance_until` (cfg only): guidance only at steps with t ≤ it (`guidance_schedule`), the way
    `train_dit --guidance-until` bakes it into the distilled field; a step whose weight is then 1
    makes one pass, u(text). None (the default): w at every step, two passes each."""
    if guidance_until is not None and mode != "cfg":
        raise ValueError(f"guidance_until applies to the cfg sampler only, not {mode!r}")
    x = noise.clone()
    grid = time_grid(steps)
    weights = guidance_schedule(steps, guidance, guidance_until)
    batch = x.shape[0]
    beta = torch.full((batch,), np.float32(1.0 / guidance))
    for t, s, w in zip(grid[:-1], grid[1:], weights):
        tt = torch.full((batch,), t)
        delta = np.float32(s) - np.float32(t)                                 # float32 arithmetic
        gap = torch.full((batch,), -delta if mode == "flash" else np.float32(0))
        if mode == "cfg":
            ones = torch.ones(batch)
            u_c = model.denoiser.velocity(x, tt, gap, ones, text, mask)
            if guidance_until is not None and w == 1:
                u = u_c                                                       # unguided step: one pass
            else:
                u_u = model.denoiser.velocity(x, tt, gap, ones, *uncond)
                u = w * u_c + (1 - w) * u_u
        else:
            u = model.denoiser.velocity(x, tt, gap, beta, text, mask)
        x = x + torch.tensor(delta) * u
        if trajectory is not None:
            trajectory.append(x.clone())
    return x


def to_pixels(x0: torch.Tensor) -> torch.Tensor:
    """x₀ in about [−1, 1] → pixels in [0, 1] (the pixel-space model's decoder)."""
    return ((x0 + 1) / 2).clamp(0, 1)
