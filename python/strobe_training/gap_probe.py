"""Does a model's output depend on the jump it is asked to make? Measures the gap input.

    python -m strobe_training.gap_probe --checkpoint RUN_DIR/tvm.ckpt --tokenizer RUN_DIR/tokenizer.model
    python -m strobe_training.gap_probe --weights-file Models/strobe-scenes.safetensors

Flash sampling asks the denoiser for a jump from t to s = t − gap; naive Euler asks for gap 0 at
the same times. If the gap embedder's output hardly depends on the gap, both draw the same picture.
It prints, for each gap of a flash sampler's first jump (⅛, ¼, ½, 1):
  embedder   |emb_gap(gap) − emb_gap(0)|, beside |emb_t(1) − emb_t(0)| for scale;
  x̂ change   mean |x̂(t = 1, gap) − x̂(t = 1, 0)| / mean |x̂(t = 1, 0)| over a batch of noises and
             the probe prompts (β = 1/w, the flash sampler's guidance input).
"""
from __future__ import annotations

import argparse

import torch

from strobe_reference.sampling import tokenize
from strobe_training.evaluation.generate import load_checkpoint, load_weights_file

GAPS = (0.125, 0.25, 0.5, 1.0)
PROMPTS = ("a red hot-air balloon on the left, rolling hills at noon",
           "a lighthouse on the right, golden hour, calm sea",
           "snowy peaks at night under a full moon")
SIZE = 128


@torch.no_grad()
def embedder_distances(model) -> tuple[list[float], float]:
    """(|emb_gap(g) − emb_gap(0)| for g in GAPS, |emb_t(1) − emb_t(0)|)."""
    d = model.denoiser
    zero = d.gap_embed(torch.zeros(1))
    gaps = [float((d.gap_embed(torch.tensor([g])) - zero).norm()) for g in GAPS]
    return gaps, float((d.t_embed(torch.ones(1)) - d.t_embed(torch.zeros(1))).norm())


@torch.no_grad()
def output_changes(lm, noises: torch.Tensor) -> list[float]:
    """For each gap, mean |x̂(gap) − x̂(0)| / mean |x̂(0)| at t = 1 over noises × PROMPTS."""
    b = noises.shape[0]
    beta = torch.full((b,), 1.0 / lm.guidance)
    num, den = torch.zeros(len(GAPS)), torch.zeros(())
    for prompt in PROMPTS:
        ids, mask = tokenize(lm.tokenizer, [prompt] * b)
        text = lm.model.encode_text(ids, mask)

        def x_hat(gap):
            return lm.model.denoiser(noises, torch.ones(b), torch.full((b,), gap), beta, text, mask)

        base = x_hat(0.0)
        den += base.abs().mean()
        for i, g in enumerate(GAPS):
            num[i] += (x_hat(g) - base).abs().mean()
    return (num / den).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint")
    source.add_argument("--weights-file")
    parser.add_argument("--tokenizer", help="with --checkpoint")
    parser.add_argument("--weights", choices=("ema", "model"), default="ema",
                        help="with --checkpoint: the EMA (exported) or the raw trained weights")
    parser.add_argument("--noises", type=int, default=4)
    args = parser.parse_args()
    if args.checkpoint and not args.tokenizer:
        parser.error("--checkpoint needs --tokenizer")
    lm = load_checkpoint(args.checkpoint, args.tokenizer, args.weights) if args.checkpoint else load_weights_file(args.weights_file)
    gaps, t_scale = embedder_distances(lm.model)
    changes = output_changes(lm, torch.randn(args.noises, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0)))
    print(f"|emb_t(1) - emb_t(0)| = {t_scale:.2f}")
    print(f"{'gap':>6s} {'|emb_gap(gap) - emb_gap(0)|':>28s} {'x̂ change at t = 1':>20s}")
    for g, e, c in zip(GAPS, gaps, changes):
        print(f"{g:6.3f} {e:28.2f} {100 * c:19.2f}%")


if __name__ == "__main__":
    main()
