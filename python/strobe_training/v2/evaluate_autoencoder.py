"""Measures a v2 autoencoder checkpoint on held-out renders: PSNR and seam ratios.

    python -m strobe_training.v2.evaluate_autoencoder TRAINING_DIR/v2-ae/ae.ckpt [--images 24] [--json out.json]

Scenes come from the held-out stream of `data.heldout_renders` (never in the training cache),
rendered at 512² and, one per ratio, at the nine v2 sizes. Reconstructions are quantised to uint8
as a PNG holds them. Seam ratios (`metrics.seam_ratio`) are given at the grids of the model: 16 px
(the latent), 32 px (the latent DiT's 2×2 patches) and 2, 4, 8 px (the decoder's upsamplings), for
the reconstructions and for the renders themselves.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from .autoencoder import Autoencoder, AutoencoderConfig
from .data import V2_SIZES, heldout_renders
from .metrics import psnr, seam_ratio, seam_summary

GRIDS = (2, 4, 8, 16, 32)


def load(path: str, weights: str = "ema") -> Autoencoder:
    ck = torch.load(path, weights_only=False, map_location="cpu")
    model = Autoencoder(AutoencoderConfig.from_json(ck["config"]))
    model.load_state_dict(ck[weights])
    return model.eval()


@torch.no_grad()
def reconstruct(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] → uint8-quantised reconstructions [N, 3, H, W] in [0, 1], one image at a time."""
    out = torch.cat([model(x[i:i + 1]).clamp(0, 1) for i in range(len(x))])
    return torch.round(out * 255) / 255


def seams(images: torch.Tensor) -> dict:
    return {str(g): v for g, v in seam_summary(images, GRIDS).items()}


def measure(model: Autoencoder, images: int, seed: int) -> dict:
    x = heldout_renders(images, 512, 512, seed=seed)                   # [N, 3, 512, 512]
    t0 = time.time()
    y = reconstruct(model, x)
    seconds = (time.time() - t0) / images
    per_image = [psnr(y[i:i + 1], x[i:i + 1]) for i in range(images)]
    ratios = {}
    for k, (r, (w, h)) in enumerate(V2_SIZES.items()):
        xr = heldout_renders(1, w, h, seed=seed + 1 + k)
        ratios[r] = round(psnr(reconstruct(model, xr), xr), 2)
    ratio_recon = {str(g): round(float(np.mean([seam_ratio(y[i], g) / seam_ratio(x[i], g) for i in range(images)])), 3)
                   for g in GRIDS}
    return {"images_512": images, "psnr_512": round(psnr(y, x), 2),
            "psnr_512_per_image_min": round(min(per_image), 2), "psnr_512_per_image_max": round(max(per_image), 2),
            "psnr_by_ratio": ratios, "seams_reconstructions": seams(y), "seams_renders": seams(x),
            "seam_ratio_recon_over_render_mean": ratio_recon,
            "seconds_per_512_image_encode_decode_fp32": round(seconds, 3)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="ema", choices=("ema", "model"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load(args.checkpoint, args.weights)
    ck_state = torch.load(args.checkpoint, weights_only=False, map_location="cpu")["state"]
    result = {"step": ck_state["step"], "hours": round(ck_state["seconds"] / 3600, 3)} | measure(model, args.images, args.seed)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
