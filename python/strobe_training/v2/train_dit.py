"""Trains the v2 latent DiT (`dit.py`) on encoded renders (`latents.py`), resumably.

    python -m strobe_training.v2.train_dit [--workdir DIR] [--latents DIR] \
        [--teacher-hours 6] [--tvm-hours 4] [--device cuda --batch 256 --loader-workers 8]

The folders default to v2-dit and v2-latents in the training state folder (`paths.py`).

Stages, each in its own checkpoint (WORKDIR/teacher.ckpt, tvm.ckpt), each resumed when its
checkpoint exists; the same command starts and continues a training:
0. tokenizer: SentencePiece BPE on grammar captions, case-folded, 1,024 pieces (256 of them
   byte fallback): every word of the grammar is one piece but three hyphenated ones (v1's unigram
   model split "red", "on", "the" into two or three pieces).
1. teacher: flow matching on the straight path (gap 0, β = 1), x-prediction, v1's recipe:
   noise-end times (10 % at t = 1, 15 % in [0.9, 1]), object and sun/moon/star cells weighted
   (shares of each latent cell, `cell_weights`), 10 % of captions dropped; plus fill conditioning.
2. tvm: Terminal Velocity Matching from the teacher's EMA, as v1 (JVP terminal term against an
   EMA target at 0.99, guided flow-matching term, gap* times with a quarter of the jumps at t = 1,
   the gap embedder at 10× the learning rate), with the variety fix (docs/training-v2.md,
   "variety"): captioned samples are trained at several guidance weights (--guidance 1,2: β = 1/w
   fed; v1 trained one, and its β input is dead), and the guidance is baked in only for
   t ≤ --guidance-until (0.8): above it the target is the plain conditional velocity, so the
   first jump from noise is not pulled to the guided mode of what the prompt leaves open.
Fill conditioning in both stages: --fill-share (30 %) of the samples get a keep mask (boxes, brush
strokes or a Reframe band) and the masked latent as extra input; the rest none (text to image).

A checkpoint is written every --checkpoint-minutes, at the end of a stage and on SIGTERM/SIGINT
(the step in progress finishes first); the one before is kept as <stage>-prev.ckpt. --hours per
stage count the time of all runs together; --*-steps limits are for fast devices. Progress goes
to stdout and WORKDIR/metrics.jsonl, with a validation loss (EMA weights, fixed latents, noise
and times) every --eval-minutes.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import time
import zlib

import numpy as np
import torch

from strobe_reference.model import TextEncoderConfig
from strobe_reference.sampling import tokenize
from strobe_training.scenes import caption, sample_scene

from .device import to_device
from .dit import MMDiTConfig, V2Model, V2ModelConfig, flops_per_call, parameter_counts
from .latents import LatentSet
from .paths import training_dir
from .precision import resolve_bf16

STAGES = ("teacher", "tvm")


# ---------------------------------------------------------------------------------------------
# Tokenizer


def train_tokenizer(path: str, vocab_size: int, captions: int = 60_000, seed: int = 0, model_type: str = "bpe") -> None:
    """A SentencePiece model (BPE, case-folded) of up to `vocab_size` pieces, byte fallback included,
    on grammar captions."""
    import sentencepiece as spm
    rng = np.random.default_rng(seed)
    texts = [caption(sample_scene(rng), rng) for _ in range(captions)]
    prefix = path[:-len(".model")]
    corpus = prefix + ".corpus.txt"
    with open(corpus, "w") as f:
        f.write("\n".join(texts) + "\n")
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, vocab_size=vocab_size, model_type=model_type, pad_id=0, eos_id=1,
        unk_id=2, bos_id=-1, byte_fallback=True, character_coverage=1.0, hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc_cf", num_threads=1, minloglevel=2)
    os.remove(corpus)


def split_words(sp, captions: list[str]) -> list[str]:
    """The words of `captions` the tokenizer cuts into more than one piece."""
    words = {w.strip(".,;:!?").lower() for c in captions for w in c.split()} - {""}
    return sorted(w for w in words if len(sp.encode(w)) > 1)


# ---------------------------------------------------------------------------------------------
# Times, weights, masks


def logit_normal(n: int, mean: float, std: float) -> torch.Tensor:
    return torch.sigmoid(torch.randn(n) * std + mean)


def near_noise(b: int, at_one: float = 0.10) -> tuple[torch.Tensor, torch.Tensor]:
    """v1's noise-end share: which of b samples, and their t (a share at_one exactly 1, 15 % U(0.9, 1))."""
    u = torch.rand(b)
    t = torch.where(u < at_one, torch.ones(b), 1 - 0.1 * torch.rand(b))
    return u < at_one + 0.15, t


def teacher_times(b: int, mean: float, std: float, at_one: float = 0.10) -> torch.Tensor:
    chosen, t_noise = near_noise(b, at_one)
    return torch.where(chosen, t_noise, logit_normal(b, mean, std))


def sample_gap_times(b: int, s_mean: float):
    """v1's gap* times (train.sample_gap_times): gap ~ sigmoid(N(−0.8, 1)), s ~ sigmoid(N(s_mean, 1))
    truncated to s ≤ 1 − gap, t = s + gap; a quarter of the jumps from t = 1 with a flash sampler's
    first gap (1, ½, ¼, ⅛); s′ for the flow-matching term with the noise-end share."""
    gap = logit_normal(b, -0.8, 1.0)
    normal = torch.distributions.Normal(s_mean, 1.0)
    upper = normal.cdf(torch.logit(1 - gap))
    s = torch.sigmoid(normal.icdf((torch.rand(b) * upper).clamp(1e-6, 1 - 1e-6)))
    s = torch.minimum(s, 1 - gap)
    t = (s + gap).clamp(max=1.0)
    first = torch.rand(b) < 0.25
    first_gap = torch.tensor([1.0, 0.5, 0.25, 0.125])[torch.randint(4, (b,))]
    t = torch.where(first, torch.ones(b), t)
    s = torch.where(first, 1 - first_gap, s)
    chosen, s2_noise = near_noise(b)
    s2 = torch.where(chosen, s2_noise, logit_normal(b, s_mean, 1.0))
    return t, s, s2


def cell_weights(objects: torch.Tensor, bodies: torch.Tensor, object_weight: float, sky_weight: float) -> torch.Tensor:
    """Loss weights per latent cell [B, 1, h, w] from the shares of its pixels that objects and the
    sun, moon or stars changed ([B, 1, h, w] in [0, 1]): 1 + object_weight·objects +
    sky_weight·bodies·(1 − objects). Mean-pooled shares keep v1's per-pixel weighting's total
    (a cell half covered by a balloon weighs as its pixels did)."""
    return 1 + object_weight * objects + sky_weight * bodies * (1 - objects)


def weighted_mean(err: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Each sample's mean of err [B, C, h, w] under weights [B, 1, h, w] → [B]."""
    return (err * weights).sum((1, 2, 3)) / (weights.sum((1, 2, 3)) * err.shape[1])


def keep_masks(b: int, h: int, w: int, share: float, gen: torch.Generator) -> torch.Tensor:
    """Fill conditioning's keep masks [B, 1, h, w] on the latent grid (1 = the image is given there).
    A share `share` of the samples gets one: 35 % boxes (1–2 rectangles of 20–60 % of each side to
    draw), 25 % brush strokes (2–5 random walks 1–3 cells thick), 40 % a Reframe band (the
    original covers 35–85 % of the width or height, anchored at the start, centre or end, and the
    outer bands are drawn); the rest keep nothing (0: text to image)."""
    keep = torch.zeros(b, 1, h, w)

    def r(lo, hi):          # uniform float
        return lo + (hi - lo) * torch.rand((), generator=gen).item()

    def ri(lo, hi):         # integer in [lo, hi]
        return int(torch.randint(lo, hi + 1, (), generator=gen))

    for i in range(b):
        if torch.rand((), generator=gen).item() >= share:
            continue
        kind = r(0, 1)
        m = torch.ones(h, w)
        if kind < 0.35:
            for _ in range(ri(1, 2)):
                bh, bw = max(1, round(h * r(0.2, 0.6))), max(1, round(w * r(0.2, 0.6)))
                y0, x0 = ri(0, h - bh), ri(0, w - bw)
                m[y0:y0 + bh, x0:x0 + bw] = 0
        elif kind < 0.60:
            for _ in range(ri(2, 5)):
                y, x, thick = ri(0, h - 1), ri(0, w - 1), ri(1, 3)
                for _ in range(ri(4, 12)):
                    m[max(0, y - thick // 2):y + (thick + 1) // 2, max(0, x - thick // 2):x + (thick + 1) // 2] = 0
                    y = min(h - 1, max(0, y + ri(-2, 2)))
                    x = min(w - 1, max(0, x + ri(-2, 2)))
        else:
            horizontal = r(0, 1) < 0.5
            side = w if horizontal else h
            n = max(1, min(side - 1, round(side * r(0.35, 0.85))))
            start = [0, (side - n) // 2, side - n][ri(0, 2)]
            m.zero_()
            if horizontal:
                m[:, start:start + n] = 1
            else:
                m[start:start + n, :] = 1
        keep[i, 0] = m
    return keep


def fill_input(z0: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """[B, C, h, w], [B, 1, h, w] → the DiT's fill input [B, C + 1, h, w]: (z0·keep, keep)."""
    return torch.cat([z0 * keep, keep], dim=1)


# ---------------------------------------------------------------------------------------------
# Losses


def teacher_loss(model: V2Model, z0, weights, ids, mask, fill, t_mean, t_std, at_one):
    """Flow matching at gap 0, β = 1: |u(z_t, t) − (ε − z0)|², weighted per latent cell."""
    b = z0.shape[0]
    t = to_device(teacher_times(b, t_mean, t_std, at_one), z0.device)
    eps = torch.randn_like(z0)
    z_t = (1 - t)[:, None, None, None] * z0 + t[:, None, None, None] * eps
    text = model.encode_text(ids, mask)
    u = model.denoiser.velocity(z_t, t, torch.zeros_like(t), torch.ones_like(t), text, mask, fill)
    return weighted_mean((u.float() - (eps - z0)).pow(2), weights).mean()


def guidance_at(time: torch.Tensor, w, until: float) -> torch.Tensor:
    """The guidance weight the distilled field has at each time [B]: w (a number or [B]) for
    t ≤ until, 1 above."""
    return torch.where(time <= until, torch.as_tensor(w, dtype=time.dtype).expand_as(time), torch.ones_like(time))


def tvm_loss(model: V2Model, target: V2Model, z0, weights, ids, mask, fill, empty_ids, empty_mask, args):
    """v1's TVM objective on latents (train.tvm_loss), with fill inputs and the guidance interval.
    Returns (loss, terminal, fm), the last two detached: nothing here waits for the device."""
    dev = z0.device
    b = z0.shape[0]
    t, s, s2 = (to_device(v, dev) for v in sample_gap_times(b, args.tvm_s_mean))
    weights_w = to_device(torch.tensor(args.guidance), dev)
    w_nominal = weights_w[torch.randint(len(weights_w), (b,), device=dev)]               # [B]
    dropped = torch.rand(b, device=dev) < args.caption_dropout
    beta = torch.where(dropped, 1.0, 1.0 / w_nominal)
    ids = torch.where(dropped[:, None], _pad_empty(empty_ids, ids), ids)
    mask = torch.where(dropped[:, None], _pad_empty(empty_mask, mask), mask)
    eps = torch.randn_like(z0)
    z_t = (1 - t)[:, None, None, None] * z0 + t[:, None, None, None] * eps
    z_s2 = (1 - s2)[:, None, None, None] * z0 + s2[:, None, None, None] * eps
    text = model.encode_text(ids, mask)

    def displacement(s_):
        return (s_ - t)[:, None, None, None] * model.denoiser.velocity(z_t, t, t - s_, beta, text, mask, fill)

    f, df_ds = torch.func.jvp(displacement, (s,), (torch.ones_like(s),))
    with torch.no_grad():
        text_target = target.encode_text(ids, mask)
        empty_mask_b = _pad_empty(empty_mask, mask[:, :1])
        empty_text = target.encode_text(_pad_empty(empty_ids, ids[:, :1]), empty_mask_b)
        u_end = target.denoiser.velocity(z_t + f.detach(), s, torch.zeros_like(s), beta, text_target, mask, fill)
        u_uncond = target.denoiser.velocity(z_s2, s2, torch.zeros_like(s2), torch.ones_like(s2), empty_text,
                                            empty_mask_b, fill)
    scale = beta[:, None, None, None]
    terminal = ((df_ds.float() - u_end.float()) * scale).pow(2).flatten(1).mean(1)
    # Flow matching at gap 0 against the guided velocity, guided only for s′ ≤ --guidance-until;
    # dropped captions (β = 1) are unguided everywhere.
    w = torch.where(dropped, torch.ones_like(s2), guidance_at(s2, w_nominal, args.guidance_until))
    w = w[:, None, None, None]
    u = model.denoiser.velocity(z_s2, s2, torch.zeros_like(s2), beta, text, mask, fill)
    v_target = w * (eps - z0) + (1 - w) * u_uncond.float()
    fm = weighted_mean(((u.float() - v_target) * scale).pow(2), weights)
    return (terminal + fm).mean(), terminal.mean().detach(), fm.mean().detach()


def _pad_empty(empty: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(like)
    out[:, :1] = empty.to(like.device)
    return out


# ---------------------------------------------------------------------------------------------
# Model, optimizer, checkpoints


def model_config(args, vocab_size: int) -> V2ModelConfig:
    text = TextEncoderConfig(vocab_size=vocab_size, d_model=args.text_width, num_heads=args.text_heads,
                             d_kv=args.text_width // args.text_heads, d_ff=3 * args.text_width,
                             num_layers=args.text_layers)
    den = MMDiTConfig(hidden_size=args.width, depth=args.depth, num_heads=args.heads)
    return V2ModelConfig(text=text, denoiser=den)


def make_optimizer(model: V2Model, lr: float, gap_lr_scale: float = 1.0) -> torch.optim.AdamW:
    """AdamW(lr, β = (0.9, 0.95)), the gap embedder at lr·gap_lr_scale (v1's `make_optimizer`:
    the teacher never sees a gap, so at the common rate TVM hardly moves its embedder)."""
    gap = list(model.denoiser.gap_embed.parameters())
    ids = {id(p) for p in gap}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.AdamW([{"params": rest, "lr": lr}, {"params": gap, "lr": lr * gap_lr_scale}],
                             lr=lr, betas=(0.9, 0.95), weight_decay=0.0)


@torch.no_grad()
def ema_update(ema: V2Model, model: V2Model, rate: float) -> None:
    # One fused update of every parameter (a loop of lerp_ launches one kernel each: on a GPU that
    # launch overhead was a large share of a small model's step).
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - rate)


def save_checkpoint(path: str, state: dict) -> None:
    """Atomic write; the previous file is kept as <name>-prev.ckpt."""
    tmp = path + ".tmp"
    torch.save(state, tmp)
    if os.path.exists(path):
        os.replace(path, path.replace(".ckpt", "-prev.ckpt"))
    os.replace(tmp, path)


def log(workdir: str, record: dict) -> None:
    print(json.dumps(record), flush=True)
    with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")


class Captions:
    """Tokenized captions of a batch's scenes, a fresh wording each time, `dropout` of them empty."""

    def __init__(self, sp, max_tokens: int, seed: int):
        self.sp, self.max_tokens = sp, max_tokens
        self.rng = np.random.default_rng(seed)

    def __call__(self, scenes, dropout: float):
        texts = ["" if self.rng.random() < dropout else caption(s, self.rng) for s in scenes]
        return tokenize(self.sp, texts, self.max_tokens)


def stage_batch(args, stage: str) -> int:
    """A stage's batch size: --batch, or for TVM --tvm-batch where given."""
    return args.tvm_batch if stage == "tvm" and args.tvm_batch else args.batch


class Batches:
    """A stage's training batches on the CPU: (z0 [B, C, h, w], keep [B, 1, h, w], ids [B, L],
    mask [B, L], cell weights [B, 1, h, w]), drawn from `seed`."""

    def __init__(self, data: LatentSet, sp, args, max_tokens: int, stage: str, seed: int):
        self.data, self.args = data, args
        self.rng = np.random.default_rng(seed)
        self.captions = Captions(sp, max_tokens, seed + 1)
        self.mask_gen = torch.Generator().manual_seed(seed + 2)
        self.dropout = args.caption_dropout if stage == "teacher" else 0.0     # TVM drops its own
        self.size = stage_batch(args, stage)

    def __call__(self):
        z0, objects, bodies, scenes = self.data.batch(self.rng, self.size)
        b, _, h, w = z0.shape
        keep = keep_masks(b, h, w, self.args.fill_share, self.mask_gen)
        ids, mask = self.captions(scenes, self.dropout)
        weights = cell_weights(objects, bodies, self.args.object_weight, self.args.sky_weight)
        return z0, keep, ids, mask, weights


class _BatchStream(torch.utils.data.IterableDataset):
    """`Batches` in DataLoader workers, each drawing from its own seed."""

    def __init__(self, make):
        self.make = make

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        batches = self.make(worker.id if worker is not None else 0)
        while True:
            yield batches()


def _quiet_worker(_):
    # SIGTERM and Ctrl-C, also when sent to the whole process group, are for the main process,
    # which finishes its step and writes its checkpoint; the loader then ends its workers itself.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def batch_source(data: LatentSet, sp, args, max_tokens: int, stage: str, seed: int, device):
    """A function returning the next batch: made here, or with --loader-workers N by N processes
    ahead of the training step (a fast device outruns one process's batches)."""
    if args.loader_workers <= 0:
        return Batches(data, sp, args, max_tokens, stage, seed)

    def make(worker_id: int) -> Batches:
        return Batches(data, sp, args, max_tokens, stage, seed + 7919 * (worker_id + 1))
    loader = torch.utils.data.DataLoader(
        _BatchStream(make), batch_size=None, num_workers=args.loader_workers, prefetch_factor=4,
        pin_memory=device.type == "cuda", worker_init_fn=_quiet_worker, multiprocessing_context="fork")
    it = iter(loader)
    return lambda: next(it)


@torch.no_grad()
def validation_loss(model: V2Model, val: dict, device, bf16: bool) -> float:
    """The teacher loss (unweighted, no fill) of fixed latents at fixed noise and times."""
    model.eval()
    z0, eps, t, ids, mask = (val[k].to(device) for k in ("z0", "eps", "t", "ids", "mask"))
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        z_t = (1 - t)[:, None, None, None] * z0 + t[:, None, None, None] * eps
        u = model.denoiser.velocity(z_t, t, torch.zeros_like(t), torch.ones_like(t), model.encode_text(ids, mask), mask)
    model.train()
    return ((u.float() - (eps - z0)) ** 2).mean().item()


def validation_set(data: LatentSet, sp, max_tokens: int, n: int = 16) -> dict:
    """n latents of the most common size, captions, noise and t = linspace(0.05, 1) fixed by seed 0."""
    rng = np.random.default_rng(12345)
    size = max(data.sizes, key=lambda s: len(data.z[s]))
    idx = rng.choice(len(data.z[size]), size=min(n, len(data.z[size])), replace=False)
    z0 = torch.from_numpy(data.z[size][idx].astype(np.float32))
    gen = torch.Generator().manual_seed(0)
    ids, mask = tokenize(sp, [caption(data.scenes[size][i], rng) for i in idx], max_tokens)
    return {"z0": z0, "eps": torch.randn(z0.shape, generator=gen), "t": torch.linspace(0.05, 1.0, len(idx)),
            "ids": ids, "mask": mask}


# ---------------------------------------------------------------------------------------------
# Loop


def training_step(stage: str, args, model: V2Model, ema: V2Model, target: V2Model, opt, batch: tuple, lr: float,
                  step: int, empty_ids: torch.Tensor, empty_mask: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """One optimiser step of `stage` on a batch (z0, keep, ids, mask, cell weights) already on the
    device, with the warm-up, clipping and both EMA updates. Returns the loss and, for TVM, its
    terminal and flow-matching parts, as tensors on the device: nothing here reads a value back
    (tested), so on a GPU the CPU queues the next step's kernels while this one runs."""
    z0, keep, ids, mask, weights = batch
    fill = fill_input(z0, keep)
    with torch.autocast(z0.device.type, dtype=torch.bfloat16, enabled=args.bf16):
        if stage == "teacher":
            loss = teacher_loss(model, z0, weights, ids, mask, fill, args.teacher_t_mean, args.teacher_t_std,
                                args.teacher_at_one)
            parts = {}
        else:
            loss, terminal, fm = tvm_loss(model, target, z0, weights, ids, mask, fill, empty_ids, empty_mask, args)
            parts = {"terminal": terminal, "fm": fm}
    warm = min(1.0, (step + 1) / args.warmup)
    for g, base in zip(opt.param_groups, (lr, lr * (args.gap_lr_scale if stage == "tvm" else 1.0))):
        g["lr"] = base * warm
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    rate = args.ema if stage == "teacher" or args.tvm_ema is None else args.tvm_ema
    ema_update(ema, model, rate if step >= args.warmup else 0.0)
    ema_update(target, model, 0.99)
    return loss.detach(), parts


def run_stage(stage: str, args, cfg: V2ModelConfig, sp, data: LatentSet, init: dict | None, device) -> dict:
    """Trains one stage to its budget (or a signal); returns its EMA state dict and whether it finished."""
    path = os.path.join(args.workdir, f"{stage}.ckpt")
    model = V2Model(cfg)
    if init is not None:
        model.load_state_dict(init)
    model.to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    target = copy.deepcopy(model).requires_grad_(False)       # TVM's target (rate 0.99)
    lr = args.teacher_lr if stage == "teacher" else args.tvm_lr
    opt = make_optimizer(model, lr, args.gap_lr_scale if stage == "tvm" else 1.0)
    state = {"step": 0, "seconds": 0.0, "samples": 0}
    if os.path.exists(path):
        ck = torch.load(path, weights_only=False, map_location=device)
        if ck["config"] != cfg.to_json():
            raise SystemExit(f"{path} holds another architecture:\n  {ck['config']}\nthis run's:\n  {cfg.to_json()}")
        model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); target.load_state_dict(ck["target"])
        opt.load_state_dict(ck["opt"]); state = ck["state"]
        torch.set_rng_state(ck["torch_rng"].cpu())     # map_location moved it to the device
        print(f"{stage}: resumed at step {state['step']} ({state['seconds'] / 3600:.3f} h)", flush=True)
    budget = 3600 * (args.teacher_hours if stage == "teacher" else args.tvm_hours)
    max_steps = args.teacher_steps if stage == "teacher" else args.tvm_steps
    seed = zlib.crc32(f"v2-{stage}:{state['step']}".encode()) ^ args.seed
    next_batch = batch_source(data, sp, args, cfg.max_prompt_tokens, stage, seed, device)
    empty_ids, empty_mask = (v.to(device) for v in tokenize(sp, [""], cfg.max_prompt_tokens))
    val = validation_set(data, sp, cfg.max_prompt_tokens)

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    def checkpoint():
        save_checkpoint(path, {"model": model.state_dict(), "ema": ema.state_dict(), "target": target.state_dict(),
                               "opt": opt.state_dict(), "state": state, "torch_rng": torch.get_rng_state(),
                               "config": cfg.to_json(), "stage": stage, "args": vars(args)})

    def done():
        return state["seconds"] >= budget or (max_steps > 0 and state["step"] >= max_steps)

    last_save = last_eval = time.time()
    window = {"loss": 0.0, "terminal": 0.0, "fm": 0.0, "n": 0, "t": 0.0}
    sync_debug = args.sync_debug and device.type == "cuda"     # warn, with a stack, at each wait in a step
    model.train()
    while not done() and not stop["now"]:
        t0 = time.time()
        batch = tuple(to_device(v, device) for v in next_batch())
        if sync_debug:
            torch.cuda.set_sync_debug_mode("warn")
        loss, parts = training_step(stage, args, model, ema, target, opt, batch, lr, state["step"], empty_ids, empty_mask)
        if sync_debug:
            torch.cuda.set_sync_debug_mode("default")
        state["step"] += 1
        state["samples"] += batch[0].shape[0]
        window["loss"] += loss                # read at the log line: a read per step waits for the device
        for k, v in parts.items():
            window[k] += v
        window["n"] += 1
        logging = state["step"] % args.log_every == 0
        if logging:                           # the read waits for the device: before the clock, so counted
            means = {k: float(window[k]) / window["n"] for k in ("loss", *parts)}
        dt = time.time() - t0
        state["seconds"] += dt
        window["t"] += dt
        if logging:
            n = window["n"]
            record = {"stage": stage, "step": state["step"], "hours": round(state["seconds"] / 3600, 4),
                      "loss": round(means["loss"], 5), "s_per_step": round(window["t"] / n, 3),
                      "samples_per_s": round(stage_batch(args, stage) * n / window["t"], 2)}
            record |= {k: round(means[k], 5) for k in parts}
            log(args.workdir, record)
            window = {k: 0.0 for k in window} | {"n": 0}
        now = time.time()
        if now - last_eval > args.eval_minutes * 60:
            log(args.workdir, {"stage": stage, "step": state["step"], "hours": round(state["seconds"] / 3600, 4),
                               "val_loss_ema": round(validation_loss(ema, val, device, args.bf16), 5),
                               "val_loss_raw": round(validation_loss(model, val, device, args.bf16), 5)})
            last_eval = time.time()
        if now - last_save > args.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.time()
    finished = done()
    if finished:
        log(args.workdir, {"stage": stage, "step": state["step"], "hours": round(state["seconds"] / 3600, 4),
                           "val_loss_ema": round(validation_loss(ema, val, device, args.bf16), 5),
                           "val_loss_raw": round(validation_loss(model, val, device, args.bf16), 5), "end": True})
    checkpoint()
    print(f"{stage}: checkpoint written at step {state['step']}" + ("" if finished else " (stopped by a signal)"),
          flush=True)
    for s, h in old_handlers.items():
        signal.signal(s, h)
    return {"ema": {k: v.cpu() for k, v in ema.state_dict().items()},
            "model": {k: v.cpu() for k, v in model.state_dict().items()}, "finished": finished}


def initial_weights(path: str, cfg: V2ModelConfig, sp=None) -> dict:
    """The V2Model weights of a v2 weights file (`export.py`) or a train_dit checkpoint (its EMA),
    to start a teacher from (--init); refused unless the architecture is this run's, and for a
    weights file, unless its tokenizer is `sp` (when given)."""
    if path.endswith(".safetensors"):
        from .export import load
        model, _, file_sp, _ = load(path)
        if sp is not None and file_sp.serialized_model_proto() != sp.serialized_model_proto():
            raise SystemExit(f"{path} holds another tokenizer than this run's tokenizer.model")
        found, weights = model.cfg.to_json(), model.state_dict()
    else:
        ck = torch.load(path, weights_only=False, map_location="cpu")
        found, weights = ck["config"], ck["ema"]
    if found != cfg.to_json():
        raise SystemExit(f"{path} holds another architecture:\n  {found}\nthis run's:\n  {cfg.to_json()}")
    return weights


def train(args) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    args.bf16 = resolve_bf16(args.bf16, device)
    os.makedirs(args.workdir, exist_ok=True)
    import sentencepiece as spm
    tok_path = os.path.join(args.workdir, "tokenizer.model")
    if not os.path.exists(tok_path):
        train_tokenizer(tok_path, args.vocab_size, args.tokenizer_captions)
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    cfg = model_config(args, sp.get_piece_size())
    data = LatentSet(args.latents, args.max_chunks)
    probe = V2Model(cfg)
    counts = parameter_counts(probe)
    print(json.dumps({"parameters": counts, "latents": len(data), "sizes": data.sizes,
                      "gflop_per_call_512": round(flops_per_call(cfg.denoiser, 512, 512, 24, cfg.text.d_model) / 1e9, 3),
                      "autoencoder_step": data.meta.get("ae_step"), "device": str(device)}), flush=True)
    del probe
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise SystemExit(f"unknown stage(s) {unknown}; the stages are {list(STAGES)}")
    result: dict = {}
    for stage in STAGES:
        if stage not in stages:
            continue
        init = None
        if stage == "teacher" and args.init and not os.path.exists(os.path.join(args.workdir, "teacher.ckpt")):
            init = initial_weights(args.init, cfg, sp)
        if stage == "tvm":
            key = "model" if args.tvm_init == "raw" else "ema"    # which of the teacher's weights
            teacher = result.get(key)
            if teacher is None:
                teacher_path = os.path.join(args.workdir, "teacher.ckpt")
                if not os.path.exists(os.path.join(args.workdir, "tvm.ckpt")) and not os.path.exists(teacher_path):
                    raise SystemExit(f"the tvm stage starts from the teacher: {teacher_path} is missing")
                if os.path.exists(teacher_path):
                    teacher = torch.load(teacher_path, weights_only=False, map_location="cpu")[key]
            init = teacher
        result = run_stage(stage, args, cfg, sp, data, init, device)
        if not result["finished"]:
            break
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", default=training_dir("v2-dit"))
    p.add_argument("--latents", default=training_dir("v2-latents"))
    p.add_argument("--max-chunks", type=int, default=None, help="read only the first N latent chunks")
    p.add_argument("--stages", default="teacher,tvm")
    p.add_argument("--init", default=None,
                   help="a v2 weights file or train_dit checkpoint that starts the teacher (unless teacher.ckpt exists)")
    p.add_argument("--teacher-hours", type=float, default=6.0)
    p.add_argument("--tvm-hours", type=float, default=4.0)
    p.add_argument("--teacher-steps", type=int, default=0, help="also stop the teacher at this step (0: no limit)")
    p.add_argument("--tvm-steps", type=int, default=0, help="also stop TVM at this step (0: no limit)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 …")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--tvm-init", choices=["ema", "raw"], default="ema",
                   help="TVM starts from the teacher's EMA or its raw weights (a run of a few hundred steps: "
                        "the EMA still lags)")
    p.add_argument("--tvm-batch", type=int, default=0, help="TVM's batch, when not --batch (a TVM step costs several teacher steps)")
    p.add_argument("--teacher-lr", type=float, default=3e-4)
    p.add_argument("--tvm-lr", type=float, default=1e-4)
    p.add_argument("--gap-lr-scale", type=float, default=10.0)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--sync-debug", action="store_true",
                   help="on CUDA, warn at every point where a training step waits for the GPU (the smoke run's check)")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--tvm-ema", type=float, default=None,
                   help="TVM's EMA rate (default --ema; a short TVM run wants a shorter average)")
    p.add_argument("--caption-dropout", type=float, default=0.1)
    p.add_argument("--guidance", type=lambda v: [float(x) for x in v.split(",")], default=[1.0, 2.0],
                   help="guidance weights w trained in TVM, comma-separated, one drawn per sample (β = 1/w is fed)")
    p.add_argument("--guidance-until", type=float, default=0.8,
                   help="the baked guidance applies for t ≤ this; above, the plain conditional velocity (1: v1)")
    p.add_argument("--fill-share", type=float, default=0.3, help="share of samples with a keep mask")
    p.add_argument("--object-weight", type=float, default=10.0)
    p.add_argument("--sky-weight", type=float, default=5.0)
    p.add_argument("--teacher-t-mean", type=float, default=0.0, help="logit-normal mean of the teacher's t")
    p.add_argument("--teacher-t-std", type=float, default=1.0)
    p.add_argument("--teacher-at-one", type=float, default=0.10)
    p.add_argument("--tvm-s-mean", type=float, default=-0.4)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--text-width", type=int, default=256)
    p.add_argument("--text-heads", type=int, default=4)
    p.add_argument("--text-layers", type=int, default=4)
    p.add_argument("--vocab-size", type=int, default=1024)
    p.add_argument("--tokenizer-captions", type=int, default=60_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--loader-workers", type=int, default=0,
                   help="processes that prepare batches ahead of the step (0: the training process)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--eval-minutes", type=float, default=10.0)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--bf16", dest="bf16", action="store_true", default=None,
                   help="bf16 autocast (default: where it pays, precision.py)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in float32")
    return p


def main():
    train(parser().parse_args())


if __name__ == "__main__":
    main()
