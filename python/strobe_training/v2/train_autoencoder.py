"""Trains the v2 autoencoder (`autoencoder.py`) on random crops of cached renders, resumably.

    python -m strobe_training.v2.train_autoencoder [--workdir DIR] [--data DIR] [--hours 12]

The folders default to v2-ae and v2-ae-renders in the training state folder (`paths.py`).

Every run resumes from WORKDIR/ae.ckpt when it exists (model, EMA, optimizer, step, seconds
trained, data position), so the same command starts and continues a training; --hours counts the
seconds of all runs together. A checkpoint is written every --checkpoint-minutes, at the end and
on SIGTERM / SIGINT (after the step in progress, before any evaluation); the one before it is kept
as ae-prev.ckpt, and the EMA weights once per --snapshot-hours of training as ae-<hours>h.ckpt.
Progress goes to stdout and, as JSON lines, to WORKDIR/metrics.jsonl.

Loss, per crop: L1 of the pixels plus --grad-weight × L1 of their horizontal and vertical steps
(edges stay crisp), each pixel weighted 1 + --detail-weight where objects, the sun, the moon or
stars are (they are small and carry the captions' meaning), plus --latent-weight × mean(z²). The
decoder sees the latent with Gaussian noise of --latent-noise × U(0, 1) times the batch's latent
standard deviation added (half of the samples), so small errors of the latent DiT decode
gracefully and the latent stays smooth enough to diffuse.

Evaluation every --eval-minutes, with the EMA weights: PSNR and seam ratios of --eval-images
held-out 512² renders reconstructed at full size, and the per-channel mean and standard deviation
of the latents of cached renders at their full sizes (stored in the model's buffers).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import time

import numpy as np
import torch
import torch.nn.functional as F

from .autoencoder import Autoencoder, AutoencoderConfig, parameter_count
from .data import RenderCache, heldout_renders
from .device import to_device
from .metrics import psnr, psnr_tensor, seam_summary
from .paths import training_dir
from .precision import resolve_bf16


def weighted_l1(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Mean of w·|a − b| over all elements divided by the mean of w. [B, c, H, W] (w broadcasts)."""
    w = w.expand_as(a)
    return (w * (a - b).abs()).sum() / w.sum()


def reconstruction_loss(y: torch.Tensor, x: torch.Tensor, weights: torch.Tensor, grad_weight: float) -> torch.Tensor:
    """y, x [B, 3, H, W]; weights [B, 1, H, W] → L1 + grad_weight × L1 of the pixel steps."""
    loss = weighted_l1(y, x, weights)
    dy_x, dx_x = y[..., :, 1:] - y[..., :, :-1], x[..., :, 1:] - x[..., :, :-1]     # [B, 3, H, W-1]
    dy_y, dx_y = y[..., 1:, :] - y[..., :-1, :], x[..., 1:, :] - x[..., :-1, :]     # [B, 3, H-1, W]
    loss = loss + grad_weight * (weighted_l1(dy_x, dx_x, weights[..., :, 1:])
                                 + weighted_l1(dy_y, dx_y, weights[..., 1:, :]))
    return loss


def training_step(model: Autoencoder, x: torch.Tensor, mask: torch.Tensor, args, gen: torch.Generator) -> dict:
    """One forward pass with the loss; returns {"loss": tensor, and detached tensors for the log:
    "rec", "z2", "train_psnr"}. Nothing here reads a value back from the device (tested). The noise
    is drawn on the CPU from `gen` (the same numbers on every device)."""
    dev = x.device
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.bf16):
        z = model.encode(x).float()                                          # [B, C, h, w]
        std = z.detach().std()
        noisy = to_device(torch.rand(z.shape[0], 1, 1, 1, generator=gen) < 0.5, dev)  # [B, 1, 1, 1]
        level = to_device(torch.rand(z.shape[0], 1, 1, 1, generator=gen), dev) * args.latent_noise * std
        z_in = z + noisy * level * to_device(torch.randn(z.shape, generator=gen), dev)  # [B, C, h, w]
        y = model.decode(z_in).float()                                       # [B, 3, H, W]
    weights = 1 + args.detail_weight * mask                                  # [B, 1, H, W]
    rec = reconstruction_loss(y, x, weights, args.grad_weight)
    reg = z.pow(2).mean()
    return {"loss": rec + args.latent_weight * reg, "rec": rec.detach(), "z2": reg.detach(),
            "train_psnr": psnr_tensor(y.detach(), x)}


@torch.no_grad()
def ema_update(ema: Autoencoder, model: Autoencoder, rate: float) -> None:
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - rate)   # one fused update


@torch.no_grad()
def latent_statistics(model: Autoencoder, cache: RenderCache, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std [C] of the latents of the first n cached renders at full size."""
    zs = []
    for i in cache.ready[:n]:
        pixels, _ = cache.load(i)
        x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float().to(model.latent_mean.device) / 255  # [1, 3, H, W]
        zs.append(model.encode(x)[0].flatten(1))                            # [C, h·w]
    z = torch.cat(zs, 1)                                                     # [C, N·h·w]
    return z.mean(1), z.std(1)


@torch.no_grad()
def evaluate(model: Autoencoder, heldout: torch.Tensor, cache: RenderCache, stats_images: int) -> dict:
    """PSNR and seams of the held-out reconstructions; refreshes the model's latent statistics."""
    model.eval()
    heldout = heldout.to(model.latent_mean.device)
    recon = torch.cat([model(heldout[i:i + 1]).clamp(0, 1) for i in range(len(heldout))])
    recon = torch.round(recon * 255) / 255                                   # as a PNG would hold it
    mean, std = latent_statistics(model, cache, stats_images)
    model.latent_mean.copy_(mean)
    model.latent_std.copy_(std)
    return {"psnr": round(psnr(recon, heldout), 3),
            "seams": {str(g): v for g, v in seam_summary(recon.cpu()).items()},
            "latent_std_min": round(std.min().item(), 4), "latent_std_max": round(std.max().item(), 4),
            "latent_mean_abs_max": round(mean.abs().max().item(), 4)}


def save_checkpoint(path: str, state: dict) -> None:
    """Atomic write; the previous file is kept as <name>-prev.ckpt."""
    tmp = path + ".tmp"
    torch.save(state, tmp)
    if os.path.exists(path):
        os.replace(path, path.replace(".ckpt", "-prev.ckpt"))
    os.replace(tmp, path)


def build(args, device: torch.device) -> tuple[Autoencoder, Autoencoder, torch.optim.Optimizer]:
    model = Autoencoder(AutoencoderConfig()).to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=args.weight_decay)
    return model, ema, opt


def log(workdir: str, record: dict) -> None:
    print(json.dumps(record), flush=True)
    with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")


def train(args) -> dict:
    torch.set_num_threads(args.threads)
    args.bf16 = resolve_bf16(args.bf16, args.device)
    os.makedirs(args.workdir, exist_ok=True)
    path = os.path.join(args.workdir, "ae.ckpt")
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model, ema, opt = build(args, device)
    state = {"step": 0, "seconds": 0.0, "snapshots": 0}
    gen = torch.Generator().manual_seed(args.seed)
    if os.path.exists(path):
        ck = torch.load(path, weights_only=False, map_location=device)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        gen.set_state(ck["gen"].cpu())     # map_location moved it to the device
        print(f"resumed from {path} at step {state['step']}, {state['seconds'] / 3600:.2f} h", flush=True)
        if ck["config"] != model.cfg.to_json():   # e.g. the upsampling mode changed, same tensors
            print(f"note: configuration {ck['config']} continues as {model.cfg.to_json()}", flush=True)
    else:
        print(f"new autoencoder: encoder {parameter_count(model.encoder):,}, decoder "
              f"{parameter_count(model.decoder):,} parameters", flush=True)
    for g in opt.param_groups:
        g["lr"] = args.lr
    rng = np.random.default_rng([args.seed, state["step"]])
    cache = RenderCache(args.data, args.cache_images, seed=args.seed, in_memory=args.in_memory)
    if args.workers > 1:             # the whole cache first, from a pool of processes
        t0 = time.time()
        made = cache.grow_parallel(args.cache_images, args.workers, 60 * args.render_minutes)
        print(f"rendered {made} images in {time.time() - t0:.1f} s with {args.workers} processes", flush=True)
    cache.grow(max(0, args.min_cache - len(cache.ready)))
    heldout = heldout_renders(args.eval_images, 512, 512, seed=args.seed)

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def checkpoint():
        hours = state["seconds"] / 3600
        if args.snapshot_hours > 0 and hours >= (state["snapshots"] + 1) * args.snapshot_hours:
            state["snapshots"] += 1
            torch.save({"ema": ema.state_dict(), "state": state, "config": model.cfg.to_json()},
                       os.path.join(args.workdir, f"ae-{state['snapshots'] * args.snapshot_hours:g}h.ckpt"))
        save_checkpoint(path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                               "state": state, "gen": gen.get_state(), "config": model.cfg.to_json(),
                               "args": vars(args)})

    last_save = last_eval = time.time()
    window = {"rec": 0.0, "train_psnr": 0.0, "z2": 0.0, "n": 0, "t": 0.0}
    budget = args.hours * 3600
    result = {}
    while state["seconds"] < budget and not stop["now"] and (args.max_steps <= 0 or state["step"] < args.max_steps):
        t0 = time.time()
        if not cache.full:
            cache.grow(args.grow_per_step)
        x, mask = cache.crops(rng, args.batch, args.crop, device)
        warm = min(1.0, (state["step"] + 1) / args.warmup)
        for g in opt.param_groups:
            g["lr"] = args.lr * warm
        model.train()
        out = training_step(model, x, mask, args, gen)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema_update(ema, model, args.ema if state["step"] > args.warmup else 0.0)
        state["step"] += 1
        for k in ("rec", "train_psnr", "z2"):
            window[k] += out[k]
        window["n"] += 1
        logging = state["step"] % args.log_every == 0
        if logging:                           # the read waits for the device: before the clock, so counted
            means = {k: float(window[k]) / window["n"] for k in ("rec", "train_psnr", "z2")}
        dt = time.time() - t0
        state["seconds"] += dt
        window["t"] += dt
        if logging:
            n = window["n"]
            log(args.workdir, {"step": state["step"], "hours": round(state["seconds"] / 3600, 4),
                               "loss": round(means["rec"], 5), "train_psnr": round(means["train_psnr"], 2),
                               "z2": round(means["z2"], 4), "s_per_step": round(window["t"] / n, 3),
                               "cached": len(cache.ready)})
            window = {k: 0.0 for k in window} | {"n": 0}
        now = time.time()
        if now - last_eval > args.eval_minutes * 60:
            result = evaluate(ema, heldout, cache, args.stats_images)
            log(args.workdir, {"step": state["step"], "hours": round(state["seconds"] / 3600, 4), "eval": result})
            last_eval = time.time()
        if now - last_save > args.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.time()
    if stop["now"]:                 # a signal: save first, the evaluation can wait for the next run
        checkpoint()
        print(f"stopped by a signal; checkpoint written at step {state['step']}", flush=True)
        return result
    result = evaluate(ema, heldout, cache, args.stats_images)
    log(args.workdir, {"step": state["step"], "hours": round(state["seconds"] / 3600, 4), "eval": result, "final": True})
    checkpoint()
    print(f"checkpoint written at step {state['step']}", flush=True)
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", default=training_dir("v2-ae"))
    p.add_argument("--data", default=training_dir("v2-ae-renders"), help="render cache folder")
    p.add_argument("--hours", type=float, default=12.0, help="training time of all runs together")
    p.add_argument("--max-steps", type=int, default=0, help="stop at this step (0: no limit)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--grad-weight", type=float, default=0.5)
    p.add_argument("--detail-weight", type=float, default=3.0)
    p.add_argument("--latent-weight", type=float, default=1e-5)
    p.add_argument("--latent-noise", type=float, default=0.2)
    p.add_argument("--cache-images", type=int, default=3000)
    p.add_argument("--min-cache", type=int, default=32, help="renders made before the first step")
    p.add_argument("--grow-per-step", type=int, default=1)
    p.add_argument("--eval-images", type=int, default=6)
    p.add_argument("--stats-images", type=int, default=16)
    p.add_argument("--eval-minutes", type=float, default=10.0)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--snapshot-hours", type=float, default=1.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 …")
    p.add_argument("--workers", type=int, default=0,
                   help="render the whole cache first with this many processes (0: one image per step)")
    p.add_argument("--render-minutes", type=float, default=0, help="with --workers: stop rendering after this time (0: no limit)")
    p.add_argument("--in-memory", action="store_true", help="keep the cached renders in memory once read")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", dest="bf16", action="store_true", default=None,
                   help="bf16 autocast (default: where it pays, precision.py)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in float32")
    return p


def main():
    train(parser().parse_args())


if __name__ == "__main__":
    main()
