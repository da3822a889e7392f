"""Trains Strobe's default model from nothing, resumably (docs/architecture.md: the sampler
mathematics, and the default model's data, training and evaluation).

    python -m strobe_training.train --workdir RUN_DIR [--teacher-hours 2] [--tvm-hours 3] [--layout-hours 0.37] [--sky-hours 1]

Stages, each resumed from the newest checkpoint in RUN_DIR:
1. tokenizer: a SentencePiece unigram model trained on captions from the scene grammar.
2. teacher:   flow matching (gap 0, β = 1) with 10 % caption dropout — the "full" model, sampled
              with two-pass classifier-free guidance. A quarter of its times lie at the noise end
              (`near_noise`), where the caption decides the picture.
3. tvm:       Terminal Velocity Matching from the teacher's weights: a terminal-velocity term
              through a forward-mode JVP (gradients flow through it) against an EMA target
              (rate 0.99), plus a flow-matching term with the guided target w·v + (1 − w)·u_uncond,
              both weighted 1/w²; constant w; gap* time sampling; AdamW(1e-4, β = (0.9, 0.95)),
              the gap embedder at 10× that (`make_optimizer`).
4. layout:    from the TVM stage's EMA (--layout-before-tvm: from the teacher's, and TVM then
              starts from the layout stage's weights), only the cross-attention layers train
              (`make_layout_optimizer`, AdamW 1e-3), with the teacher's loss (gap 0, β = 1), half
              of the samples at exactly t = 1 (--layout-at-one); first on single-object scenes only
              (--layout-single-hours), then half the batches on any scene (--layout-single). Exported as trained (no average).
              Run before TVM, it gave the same flash 4 accuracy at a worse FD (docs/training-log.md, "the layout stage").
              Every earlier stage left objects at all three places: the denoiser had the position
              in its queries and the word in its keys but did not route one to the other. Where
              only the caption can say where a single object goes, the symmetry breaks after some
              hundreds of steps; the other half of the times keeps the rest of the path, and the
              scenes with two objects bring back their colours.
5. sky:       the TVM objective again, for --sky-hours, from the stage before it (the layout stage,
              or TVM with --layout-before-tvm), with the pixels the sun, moon and stars change
              weighted 1 + --sky-weight times as well (`pixel_weights`) and the gap embedder at
              the common learning rate. The earlier stages under-drew them (flash 4 drew the sun
              in 13 of 31 scenes that named it); after an hour of this stage 25 of 31, after 2.4 h
              28 of 31 (docs/training-log.md, "the sky stage"). The shipped file had 2.92 h more of it, begun from the 2.4 h
              file with --init-weights (a fresh optimizer) and resumed once: flash 4 0.890 → 0.897,
              held out 0.860 → 0.882, FD 788 → 685.
All stages' flow-matching terms weigh the pixels objects cover 1 + --object-weight times
(`pixel_weights`): objects are about 3 % of a picture and were not learned without it.
Checkpoints (RUN_DIR/teacher.ckpt, tvm.ckpt, layout.ckpt, sky.ckpt) are written every few minutes and at the
end of a stage; a killed run loses at most that much. Where the checkpoints are gone, a run goes on
from an exported weights file: --init-weights FILE starts the first stage of --stages from FILE's
tensors (model, EMA and TVM target alike; a fresh optimizer) and takes its tokenizer, e.g.
`--stages sky --sky-hours 1 --init-weights Models/strobe-scenes.safetensors --seed 1`. strobe_training.export turns a checkpoint into
the shipped weights file. Datasets are rendered on the fly; nothing here belongs in git.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from strobe_reference import weights as strobe_weights
from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig
from strobe_reference.sampling import tokenize
from strobe_training.scenes import ASPECT_SIZES, caption, render_with_masks, sample_scene

GUIDANCE = 2.0          # the constant w of the flash model (β = 1/w)
CAPTION_DROPOUT = 0.1


# ---------------------------------------------------------------------------------------------
# Data


def train_tokenizer(path: str, vocab_size: int, seed: int = 0) -> None:
    import sentencepiece as spm
    rng = np.random.default_rng(seed)
    captions = [caption(sample_scene(rng), rng) for _ in range(60_000)]
    tmp = path + ".corpus.txt"
    with open(tmp, "w") as f:
        f.write("\n".join(captions) + "\n")
    spm.SentencePieceTrainer.train(
        input=tmp, model_prefix=path[:-len(".model")], vocab_size=vocab_size, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, byte_fallback=True, character_coverage=1.0,
        hard_vocab_limit=False, num_threads=1, minloglevel=2)
    os.remove(tmp)


class Batches:
    """Endless batches of (pixels [B, 3, H, W] in [−1, 1], object masks [B, 1, H, W] bool, sun,
    moon and star masks [B, 1, H, W] bool, captions); one aspect ratio a batch."""

    def __init__(self, batch: int, seed: int, objects: int | None = None):
        """objects: only scenes with exactly this many objects (None: any, as the grammar draws them)."""
        self.batch = batch
        self.rng = np.random.default_rng(seed)
        self.ratios = sorted(ASPECT_SIZES)
        self.objects = objects

    def next(self):
        width, height = ASPECT_SIZES[self.ratios[self.rng.integers(len(self.ratios))]]
        images, masks, bodies, texts = [], [], [], []
        for _ in range(self.batch):
            scene = sample_scene(self.rng)
            while self.objects is not None and len(scene.objects) != self.objects:
                scene = sample_scene(self.rng)
            texts.append(caption(scene, self.rng))
            image, mask, body = render_with_masks(scene, width, height, int(self.rng.integers(2**31)))
            if not np.isfinite(image).all():
                raise ValueError(f"the renderer made non-finite pixels for {scene} at {width}x{height}")
            images.append(image)
            masks.append(mask)
            bodies.append(body)
        x = torch.from_numpy(np.stack(images)).float() * 2 - 1
        return x, torch.from_numpy(np.stack(masks))[:, None], torch.from_numpy(np.stack(bodies))[:, None], texts


# ---------------------------------------------------------------------------------------------
# Losses


def logit_normal(n: int, mean: float, std: float) -> torch.Tensor:
    return torch.sigmoid(torch.randn(n) * std + mean)


def near_noise(b: int, at_one: float = 0.10) -> tuple[torch.Tensor, torch.Tensor]:
    """Which of b samples are drawn at the noise end, and their t: a share `at_one` exactly 1,
    15 % U(0.9, 1).

    In pixel space a 256² image's global colours survive almost any noise (a sky's mean over
    ~10⁵ values is readable from x_t up to t ≈ 0.998), so only at t ≈ 1 does the caption decide
    them. Every sampler starts at exactly t = 1; a logit-normal t almost never goes there (under
    0.1 % above 0.97), and a teacher trained without this share ignored its captions."""
    u = torch.rand(b)
    t = torch.where(u < at_one, torch.ones(b), 1 - 0.1 * torch.rand(b))
    return u < at_one + 0.15, t


def teacher_times(b: int, t_mean: float, t_std: float, at_one: float = 0.10) -> torch.Tensor:
    """t ~ sigmoid(N(t_mean, t_std)), with a share at_one + 0.15 of the batch at the noise end
    (`near_noise`)."""
    chosen, t_noise = near_noise(b, at_one)
    return torch.where(chosen, t_noise, logit_normal(b, t_mean, t_std))


def pixel_weights(objects: torch.Tensor, object_weight: float, bodies: torch.Tensor | None = None,
                  sky_weight: float = 0.0) -> torch.Tensor:
    """Per-pixel loss weights [B, 1, H, W] from object masks [B, 1, H, W]: 1 + object_weight on
    pixels an object changed, 1 + sky_weight on those the sun, moon or stars changed (bodies,
    [B, 1, H, W]; objects win where both), 1 elsewhere.

    Objects cover about 3 % of a picture. Unweighted, a teacher trained on 39k samples learned
    skies and terrain but placed nothing: its x̂ at t = 1 for "a red balloon on the left" differed
    from the balloon-free prompt's equally in all three thirds of the image, where the renders'
    mean differs only in the left third. The price: the loss's optimum at t = 1 becomes a weighted
    mean, which shows an object at full strength wherever one may be, so a model that knows an
    object but not its place draws it at every place (strobe_training.object_probe shows which)."""
    weights = 1 + object_weight * objects.float()
    if bodies is not None and sky_weight:
        weights = torch.where(objects, weights, 1 + sky_weight * bodies.float())
    return weights


def weighted_mean(err: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Each sample's mean of err [B, C, H, W] under weights [B, 1, H, W] → [B], normalised so that
    uniform weights give the plain mean."""
    return (err * weights).sum((1, 2, 3)) / (weights.sum((1, 2, 3)) * err.shape[1])


def teacher_loss(model: StrobeModel, x0, weights, ids, mask, t_mean: float, t_std: float, at_one: float = 0.10):
    """Flow matching on u = (x_t − x̂)/max(t, t_min) against v = ε − x₀ (gap 0, β = 1), weighted per
    pixel (`pixel_weights`). t from `teacher_times`; pixel-space models need a noise-heavy t (JiT
    uses the equivalent of mean +0.8, std 0.8 at 256², where global structure is decided)."""
    b = x0.shape[0]
    t = teacher_times(b, t_mean, t_std, at_one)
    eps = torch.randn_like(x0)
    x_t = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * eps
    text = model.encode_text(ids, mask)
    u = model.denoiser.velocity(x_t, t, torch.zeros(b), torch.ones(b), text, mask)
    return weighted_mean((u.float() - (eps - x0)).pow(2), weights).mean()


def sample_gap_times(b: int, s_mean: float = -0.4):
    """TVM's gap*: gap = sigmoid(N(−0.8, 1)); s = sigmoid(N(s_mean, 1)) truncated to s ≤ 1 − gap;
    t = s + gap; and an independent s′ ~ sigmoid(N(s_mean, 1)) for the flow-matching term; each
    with a share at the noise end (below)."""
    gap = logit_normal(b, -0.8, 1.0)
    normal = torch.distributions.Normal(s_mean, 1.0)
    upper = normal.cdf(torch.logit(1 - gap))
    s = torch.sigmoid(normal.icdf((torch.rand(b) * upper).clamp(1e-6, 1 - 1e-6)))
    s = torch.minimum(s, 1 - gap)
    t = (s + gap).clamp(max=1.0)
    # A quarter of the jumps start at t = 1 with a flash sampler's first gap (1, ½, ¼ or ⅛), where
    # every image's layout and colours are decided; the flow-matching term gets the noise end too.
    first = torch.rand(b) < 0.25
    first_gap = torch.tensor([1.0, 0.5, 0.25, 0.125])[torch.randint(4, (b,))]
    t = torch.where(first, torch.ones(b), t)
    s = torch.where(first, 1 - first_gap, s)
    chosen, s2_noise = near_noise(b)
    s2 = torch.where(chosen, s2_noise, logit_normal(b, s_mean, 1.0))
    return t, s, s2


def tvm_loss(model: StrobeModel, target: StrobeModel, x0, weights, ids, mask, empty_ids, empty_mask, s_mean: float):
    """Terminal-velocity term plus the guided flow-matching term (weighted per pixel, as the
    teacher's loss), both scaled by 1/w²; returns (loss, terminal, fm)."""
    b = x0.shape[0]
    t, s, s2 = sample_gap_times(b, s_mean)
    beta = torch.full((b,), 1.0 / GUIDANCE)
    dropped = torch.rand(b) < CAPTION_DROPOUT
    beta[dropped] = 1.0
    ids = torch.where(dropped[:, None], _pad_empty(empty_ids, ids), ids)
    mask = torch.where(dropped[:, None], _pad_empty(empty_mask, mask), mask)
    eps = torch.randn_like(x0)
    x_t = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * eps
    x_s2 = (1 - s2)[:, None, None, None] * x0 + s2[:, None, None, None] * eps
    text = model.encode_text(ids, mask)

    # Terminal velocity: d/ds [ (s − t)·u(x_t, t, t − s) ] should equal the target's
    # instantaneous velocity at the jump's end point.
    def displacement(s_):
        return (s_ - t)[:, None, None, None] * model.denoiser.velocity(x_t, t, t - s_, beta, text, mask)

    f, df_ds = torch.func.jvp(displacement, (s,), (torch.ones_like(s),))
    with torch.no_grad():
        text_target = target.encode_text(ids, mask)
        empty_mask_b = _pad_empty(empty_mask, mask[:, :1])                   # [B, 1]
        empty_text = target.encode_text(_pad_empty(empty_ids, ids[:, :1]), empty_mask_b)
        u_end = target.denoiser.velocity(x_t + f.detach(), s, torch.zeros(b), beta, text_target, mask)
        u_uncond = target.denoiser.velocity(x_s2, s2, torch.zeros(b), torch.ones(b), empty_text, empty_mask_b)
    w = (1 / beta)[:, None, None, None]
    terminal = ((df_ds.float() - u_end) * beta[:, None, None, None]).pow(2).flatten(1).mean(1)

    # Flow matching at gap 0 against the guided velocity.
    u = model.denoiser.velocity(x_s2, s2, torch.zeros(b), beta, text, mask)
    v_target = w * (eps - x0) + (1 - w) * u_uncond
    fm = weighted_mean(((u.float() - v_target) * beta[:, None, None, None]).pow(2), weights)
    return (terminal + fm).mean(), terminal.mean().item(), fm.mean().item()


def _pad_empty(empty: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The empty prompt's [1, 1] ids/mask padded to like's [B, L] (padding id 0, mask False)."""
    out = torch.zeros_like(like)
    out[:, :1] = empty
    return out


# ---------------------------------------------------------------------------------------------
# Loop


def save(path, **state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def ema_update(ema: StrobeModel, model: StrobeModel, rate: float):
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1 - rate)


def make_optimizer(model: StrobeModel, lr: float, gap_lr_scale: float = 1.0) -> torch.optim.AdamW:
    """AdamW(lr, β = (0.9, 0.95), no weight decay); the gap embedder's learning rate is
    lr · gap_lr_scale, in a second parameter group (one group when the scale is 1, as the teacher's,
    whose checkpoints keep loading).

    The teacher only ever sees gap 0, so TVM starts with a gap embedder whose output hardly depends
    on the gap. At TVM's lr it barely moved in 567 steps (|emb(1) − emb(0)| = 0.72 against 85 for
    the time embedder between t = 1 and t = 0), and flash 4 drew what naive 4 drew. Every other
    weight keeps lr: they are already the teacher's good solution."""
    if gap_lr_scale == 1.0:
        return torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    gap = list(model.denoiser.gap_embed.parameters())
    gap_ids = {id(p) for p in gap}
    rest = [p for p in model.parameters() if id(p) not in gap_ids]
    return torch.optim.AdamW([{"params": rest, "lr": lr}, {"params": gap, "lr": lr * gap_lr_scale}],
                             lr=lr, betas=(0.9, 0.95), weight_decay=0.0)


def make_layout_optimizer(model: StrobeModel, lr: float) -> torch.optim.AdamW:
    """AdamW(lr, β = (0.9, 0.95)) over the denoiser's cross-attention layers only; every other
    weight is frozen (requires_grad off), so the layout stage changes nothing but how image tokens
    read the caption."""
    model.requires_grad_(False)
    cross = [p for block in model.denoiser.blocks for p in block.cross.parameters()]
    for p in cross:
        p.requires_grad_(True)
    return torch.optim.AdamW(cross, lr=lr, betas=(0.9, 0.95), weight_decay=0.0)


def single_object_share(stage: str, seconds: float, single_hours: float, share_after: float) -> float:
    """The share of a stage's batches drawn from single-object scenes: the layout stage's first
    single_hours all of them, then share_after; other stages none."""
    if stage != "layout":
        return 0.0
    return 1.0 if seconds < 3600 * single_hours else share_after


def stage_order(layout_before_tvm: bool) -> list[str]:
    """The stages in the order they run; each starts from the EMA of the one before it (the
    layout stage's EMA is its weights as trained)."""
    return ["teacher", "layout", "tvm", "sky"] if layout_before_tvm else ["teacher", "tvm", "layout", "sky"]


def weights_file_state(path: str, cfg: ModelConfig) -> dict:
    """An exported weights file's tensors as StrobeModel's state dict (F16/BF16 widened to F32),
    after checking that the file's architecture is this run's (ValueError naming both if not)."""
    tensors, meta = strobe_weights.load(path)
    theirs = ModelConfig.from_json(meta["strobe.architecture"])
    if theirs != cfg:
        raise ValueError(f"{path}: its architecture {theirs.to_json()} is not this run's {cfg.to_json()}")
    return {k: torch.from_numpy(v) for k, v in tensors.items()}


def weights_file_tokenizer(path: str, out: str) -> None:
    """Writes the SentencePiece model stored in an exported weights file to `out`."""
    import base64
    _, meta = strobe_weights.load(path)
    with open(out, "wb") as f:
        f.write(base64.b64decode(meta["strobe.tokenizer"]))


def data_seed(stage: str, step: int, run_seed: int) -> int:
    """The data seed of a stage (re)started at `step`: fresh data after a resume, and other data
    for another --seed (0 keeps the seeds of the runs made before the option)."""
    return zlib.crc32(f"{stage}:{step}".encode()) ^ run_seed


def run_stage(stage: str, args, cfg: ModelConfig, sp, init: dict | None):
    path = os.path.join(args.workdir, f"{stage}.ckpt")
    model = StrobeModel(cfg)
    if init is not None:
        model.load_state_dict(init)
    ema = copy.deepcopy(model).requires_grad_(False)          # for export (rate 0.999; layout: 0)
    target = copy.deepcopy(model).requires_grad_(False)       # TVM's target (rate 0.99)
    lr = {"teacher": args.teacher_lr, "tvm": args.tvm_lr, "layout": args.layout_lr, "sky": args.tvm_lr}[stage]
    opt = (make_layout_optimizer(model, lr) if stage == "layout"
           else make_optimizer(model, lr, args.gap_lr_scale if stage == "tvm" else 1.0))
    state = {"step": 0, "seconds": 0.0, "samples": 0}
    if os.path.exists(path):
        ck = torch.load(path, weights_only=False)
        model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); target.load_state_dict(ck["target"])
        groups = len(ck["opt"]["param_groups"])
        if groups != len(opt.param_groups):
            raise SystemExit(f"{path}: its optimizer has {groups} parameter group(s), this run's has "
                             f"{len(opt.param_groups)}; resume with the --gap-lr-scale it was trained with")
        opt.load_state_dict(ck["opt"]); state = ck["state"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"{stage}: resumed at step {state['step']} ({state['seconds'] / 3600:.2f} h)", flush=True)
    budget = 3600 * {"teacher": args.teacher_hours, "tvm": args.tvm_hours, "layout": args.layout_hours,
                     "sky": args.sky_hours}[stage]
    seed = data_seed(stage, state["step"], args.seed)
    data = Batches(args.batch, seed)
    single = Batches(args.batch, seed + 1, objects=1)                      # the layout stage's
    choose = np.random.default_rng(seed + 2)
    empty_ids, empty_mask = tokenize(sp, [""], cfg.max_prompt_tokens)
    log = open(os.path.join(args.workdir, f"{stage}.log.jsonl"), "a")
    last_save = time.time()
    while state["seconds"] < budget:
        start = time.time()
        share = single_object_share(stage, state["seconds"], args.layout_single_hours, args.layout_single)
        x0, objects, bodies, texts = (single if choose.random() < share else data).next()
        if stage == "teacher":
            texts = ["" if r < CAPTION_DROPOUT else c for r, c in zip(np.random.rand(len(texts)), texts)]
        ids, mask = tokenize(sp, texts, cfg.max_prompt_tokens)
        weights = pixel_weights(objects, args.object_weight, bodies, args.sky_weight if stage == "sky" else 0.0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            if stage in ("teacher", "layout"):
                at_one = args.teacher_at_one if stage == "teacher" else args.layout_at_one
                loss = teacher_loss(model, x0, weights, ids, mask, args.teacher_t_mean, args.teacher_t_std, at_one)
                parts = {}
            else:
                loss, terminal, fm = tvm_loss(model, target, x0, weights, ids, mask, empty_ids, empty_mask,
                                              args.tvm_s_mean)
                parts = {"terminal": terminal, "fm": fm}
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema_update(ema, model, 0.0 if stage == "layout" else 0.999)   # layout: short, exported as trained
        ema_update(target, model, 0.99)
        state["step"] += 1
        state["samples"] += len(texts)
        state["seconds"] += time.time() - start
        if state["step"] % args.log_every == 0:
            record = {"step": state["step"], "loss": loss.item(), **parts, "hours": state["seconds"] / 3600,
                      "samples_per_s": len(texts) / (time.time() - start)}
            log.write(json.dumps(record) + "\n"); log.flush()
            print(stage, record, flush=True)
        if time.time() - last_save > args.checkpoint_minutes * 60 or state["seconds"] >= budget:
            save(path, model=model.state_dict(), ema=ema.state_dict(), target=target.state_dict(),
                 opt=opt.state_dict(), state=state, torch_rng=torch.get_rng_state(), config=cfg.to_json())
            last_save = time.time()
    return ema.state_dict()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--teacher-hours", type=float, default=2.0)
    parser.add_argument("--tvm-hours", type=float, default=3.0)
    parser.add_argument("--layout-hours", type=float, default=0.37)
    parser.add_argument("--layout-single-hours", type=float, default=0.2,
                        help="the layout stage's first hours, on single-object scenes only")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--teacher-lr", type=float, default=3e-4)
    parser.add_argument("--tvm-lr", type=float, default=1e-4)
    parser.add_argument("--layout-lr", type=float, default=1e-3)
    parser.add_argument("--layout-before-tvm", action="store_true",
                        help="run the layout stage on the teacher and distil TVM from it (evaluated once: no better than the default order; docs/training-log.md)")
    parser.add_argument("--layout-single", type=float, default=0.5,
                        help="after --layout-single-hours, the share of batches of single-object scenes "
                             "(the rest: any scene)")
    parser.add_argument("--layout-at-one", type=float, default=0.5,
                        help="share of layout-stage samples at exactly t = 1 (the rest as the teacher's times)")
    parser.add_argument("--gap-lr-scale", type=float, default=10.0,
                        help="the gap embedder's TVM learning rate as a multiple of --tvm-lr (make_optimizer)")
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--no-bf16", dest="bf16", action="store_false")
    parser.add_argument("--stages", default="teacher,tvm,layout,sky")
    parser.add_argument("--teacher-init", metavar="CKPT",
                        help="start the teacher from CKPT's EMA denoiser with a freshly initialised text encoder "
                             "(used once, when RUN_DIR has no teacher checkpoint yet)")
    parser.add_argument("--init-weights", metavar="FILE",
                        help="start the first stage of --stages from an exported weights file's tensors (fresh "
                             "optimizer) and take its tokenizer; a stage that has a checkpoint resumes from it instead")
    parser.add_argument("--seed", type=int, default=0,
                        help="torch's seed and a change to the data seeds; a run continued from a weights file "
                             "wants one its earlier runs did not use")
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--object-weight", type=float, default=10.0,
                        help="extra loss weight of the pixels objects cover (flow-matching terms; 0: none)")
    parser.add_argument("--sky-hours", type=float, default=1.0)
    parser.add_argument("--sky-weight", type=float, default=5.0,
                        help="the sky stage's extra loss weight of the pixels the sun, moon and stars cover")
    parser.add_argument("--teacher-t-mean", type=float, default=0.8)
    parser.add_argument("--teacher-t-std", type=float, default=0.8)
    parser.add_argument("--teacher-at-one", type=float, default=0.10,
                        help="share of teacher samples at exactly t = 1, where a prompt alone decides the layout")
    parser.add_argument("--tvm-s-mean", type=float, default=0.4,
                        help="mean of logit(s); TVM's latent-space default is −0.4, pixels want more noise")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.workdir, exist_ok=True)

    import sentencepiece as spm
    tok_path = os.path.join(args.workdir, "tokenizer.model")
    if not os.path.exists(tok_path):
        if args.init_weights:
            weights_file_tokenizer(args.init_weights, tok_path)
        else:
            train_tokenizer(tok_path, args.vocab_size)
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=sp.get_piece_size()), denoiser=DenoiserConfig())
    torch.manual_seed(args.seed)

    weights = None          # the EMA of the stage just run, or None when it was not run now
    from_file = weights_file_state(args.init_weights, cfg) if args.init_weights else None
    order = stage_order(args.layout_before_tvm)
    for i, stage in enumerate(order):
        if stage not in args.stages:
            weights = None
            continue
        if from_file is not None:
            init, from_file = from_file, None          # the first stage run starts from the file
        elif stage == "teacher":
            init = None
            if args.teacher_init:
                # Keeps a previous teacher's image prior and starts its text encoder afresh.
                warm = StrobeModel(cfg)
                warm.load_state_dict(torch.load(args.teacher_init, weights_only=False)["ema"])
                warm.reset_text_encoder(torch.Generator().manual_seed(0))
                init = warm.state_dict()
        else:
            init = weights if weights is not None else torch.load(
                os.path.join(args.workdir, f"{order[i - 1]}.ckpt"), weights_only=False)["ema"]
        weights = run_stage(stage, args, cfg, sp, init)


if __name__ == "__main__":
    main()
