"""Does a model know where a prompt's object goes? Compares x̂ at t = 1 with the renders' mean.

    python -m strobe_training.object_probe --checkpoint RUN_DIR/teacher.ckpt --tokenizer RUN_DIR/tokenizer.model
    python -m strobe_training.object_probe --weights-file Models/strobe-scenes.safetensors

At t = 1 a denoiser sees pure noise, so its best x̂ is the mean picture of the caption. For each
probe ("a red hot-air balloon on the left, rolling hills at noon" against the same prompt without
the object) it prints the mean |difference| of x̂ (batch of noises, gap 0, β = 1) in each third of
the width, beside the same figure for the renders' means (--renders scenes each). An object the
model places shows up in its own third only, as in the renders; an object it knows but cannot place
shows up equally in all three.

With --cross-attention it also asks why, block by block, for the balloon on the left against the
balloon on the right (`cross_attention_report`): how well a linear read-out of the cross-attention
queries tells a token's third of the width (is the position there to route by?), the norm of the
cross-attention output against its input's (is it used?), and the per-third mean |change| of its
output between the two prompts (does the position word reach its own third more than the others?).
"""
from __future__ import annotations

import argparse
from functools import lru_cache

import numpy as np
import torch

from strobe_reference.model import rms_norm
from strobe_reference.sampling import tokenize
from strobe_training.evaluation.generate import load_checkpoint, load_weights_file
from strobe_training.scenes import Scene, SceneObject, render

BASE = Scene(time="noon", terrain="hills")
BASE_PROMPT = "rolling hills at noon"
PROBES = [  # (object, prompt with it)
    (SceneObject("balloon", "red", "left"), "a red hot-air balloon on the left, rolling hills at noon"),
    (SceneObject("balloon", "red", "right"), "a red hot-air balloon on the right, rolling hills at noon"),
    (SceneObject("lighthouse", "white", "left"), "a white lighthouse on the left, rolling hills at noon"),
    (SceneObject("house", "yellow", "centre"), "a yellow house in the centre, rolling hills at noon"),
]
SIZE = 256


def thirds(diff: np.ndarray) -> list[float]:
    """Mean of diff [H, W] over each third of the width."""
    w = diff.shape[1]
    return [float(diff[:, i * w // 3:(i + 1) * w // 3].mean()) for i in range(3)]


@lru_cache(maxsize=8)
def mean_render(scene: Scene, count: int) -> np.ndarray:
    """Mean of `count` renders of scene (seeds 0…count−1) [3, H, W]; BASE's is shared by every probe."""
    return np.mean([render(scene, SIZE, SIZE, i) for i in range(count)], axis=0)


def render_thirds(obj: SceneObject, count: int) -> list[float]:
    """Per-third mean |mean render with obj − mean render without|, in [−1, 1] pixel units."""
    with_obj = mean_render(Scene(BASE.time, BASE.terrain, (obj,)), count)
    return thirds(2 * np.abs(with_obj - mean_render(BASE, count)).mean(axis=0))


@torch.no_grad()
def model_thirds(lm, prompt: str, noises: torch.Tensor) -> list[float]:
    """Per-third mean over noises of |x̂(prompt) − x̂(BASE_PROMPT)| at t = 1."""
    b = noises.shape[0]

    def x_hat(p):
        ids, mask = tokenize(lm.tokenizer, [p] * b)
        text = lm.model.encode_text(ids, mask)
        return lm.model.denoiser(noises, torch.ones(b), torch.zeros(b), torch.ones(b), text, mask)

    return thirds((x_hat(prompt) - x_hat(BASE_PROMPT)).abs().mean(dim=(0, 1)).numpy())


def third_of_columns(cols: int) -> torch.Tensor:
    """Each token column's third of the width (0, 1, 2) [cols]."""
    return torch.div(torch.arange(cols) * 3, cols, rounding_mode="floor")


@torch.no_grad()
def cross_attention_report(lm, noises: torch.Tensor, prompts: tuple[str, str]) -> list[dict]:
    """Per denoiser block, at t = 1 (gap 0, β = 1) on noises [B, 3, SIZE, SIZE] (B ≥ 2):
    `third_readout`, the accuracy on the last quarter of the noises (at least one) of a least-squares
    read-out of a token's width third from its normalised cross-attention queries, fitted on the
    others; `use`, mean |output| / mean |input| of the cross-attention under prompts[0]; and
    `change_by_third`, the mean |output(prompts[0]) − output(prompts[1])| over the tokens of each
    third."""
    model, b, p = lm.model, noises.shape[0], lm.model.cfg.denoiser.patch_size
    rows, cols = SIZE // p, SIZE // p
    captured: list[list] = [[] for _ in model.denoiser.blocks]
    hooks = [block.cross.register_forward_hook(lambda mod, inputs, out, i=i: captured[i].append((mod, inputs[0], out)))
             for i, block in enumerate(model.denoiser.blocks)]
    try:
        for prompt in prompts:
            ids, mask = tokenize(lm.tokenizer, [prompt] * b)
            text = model.encode_text(ids, mask)
            model.denoiser(noises, torch.ones(b), torch.zeros(b), torch.ones(b), text, mask)
    finally:
        for hook in hooks:
            hook.remove()
    third = third_of_columns(cols).repeat(rows)                                   # [N]
    fit = max(1, b - max(1, b // 4))
    target = torch.nn.functional.one_hot(third, 3).double().repeat(fit, 1)         # [fit·N, 3]
    report = []
    for (module, x, out_a), (_, _, out_b) in captured:
        q = module.q(x).view(b, rows * cols, module.heads, -1)
        q = rms_norm(q, module.eps, module.q_norm.weight).reshape(b, rows * cols, -1)  # [B, N, D]
        features = torch.cat([q, torch.ones(b, rows * cols, 1)], dim=-1).double()
        solution = torch.linalg.lstsq(features[:fit].reshape(-1, features.shape[-1]), target).solution
        guess = (features[fit:].reshape(-1, features.shape[-1]) @ solution).argmax(-1)
        readout = (guess == third.repeat(b - fit)).double().mean().item()
        change = (out_a - out_b).norm(dim=-1).mean(0)                             # [N]
        report.append({"third_readout": readout,
                       "use": (out_a.norm(dim=-1).mean() / x.norm(dim=-1).mean()).item(),
                       "change_by_third": [change[third == i].mean().item() for i in range(3)]})
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint")
    source.add_argument("--weights-file")
    parser.add_argument("--tokenizer", help="with --checkpoint")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema",
                        help="with --checkpoint: the EMA (exported) or the raw trained weights")
    parser.add_argument("--noises", type=int, default=8)
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--cross-attention", action="store_true",
                        help="also report, per block, what the cross-attention does with the position word")
    args = parser.parse_args()
    if args.checkpoint and not args.tokenizer:
        parser.error("--checkpoint needs --tokenizer")
    lm = load_checkpoint(args.checkpoint, args.tokenizer, args.weights) if args.checkpoint else load_weights_file(args.weights_file)
    noises = torch.randn(args.noises, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    print(f"{'probe':58s} {'model: left, centre, right':30s} renders: left, centre, right")
    for obj, prompt in PROBES:
        m = model_thirds(lm, prompt, noises)
        r = render_thirds(obj, args.renders)
        print(f"{prompt:58s} {', '.join(f'{v:.3f}' for v in m):30s} {', '.join(f'{v:.3f}' for v in r)}")
    if args.cross_attention:
        left, right = PROBES[0][1], PROBES[1][1]
        print(f"\ncross-attention at t = 1, {left!r} against {right!r}:")
        print(f"{'block':>5s} {'third read-out':>15s} {'|out|/|in|':>11s}  |change| by third: left, centre, right")
        for i, row in enumerate(cross_attention_report(lm, noises, (left, right))):
            print(f"{i:5d} {row['third_readout']:15.3f} {row['use']:11.3f}  "
                  + ", ".join(f"{v:.3f}" for v in row["change_by_third"]))


if __name__ == "__main__":
    main()
