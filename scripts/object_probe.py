"""Does a model know where a prompt's object goes? Compares x̂ at t = 1 with the renders' mean.

    .venv/bin/python scripts/object_probe.py --checkpoint RUN_DIR/teacher.ckpt --tokenizer RUN_DIR/tokenizer.model
    .venv/bin/python scripts/object_probe.py --weights-file Models/strobe-scenes.safetensors

At t = 1 a denoiser sees pure noise, so its best x̂ is the mean picture of the caption. For each
probe ("a red hot-air balloon on the left, rolling hills at noon" against the same prompt without
the object) it prints the mean |difference| of x̂ (batch of noises, gap 0, β = 1) in each third of
the width, beside the same figure for the renders' means (--renders scenes each). An object the
model places shows up in its own third only, as in the renders; an object it knows but cannot place
shows up equally in all three.
"""
from __future__ import annotations

import argparse
import os
import sys
from functools import lru_cache

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluation.generate import load_checkpoint, load_weights_file  # noqa: E402
from scenes import Scene, SceneObject, render  # noqa: E402
from strobe_sampling import tokenize  # noqa: E402

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


if __name__ == "__main__":
    main()
