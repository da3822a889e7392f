"""The v2 denoiser `strobe-mmdit`: a DiT on the autoencoder's normalised latents with joint
text–image attention, TVM's time/gap/guidance conditioning and fill conditioning
(docs/training-v2.md, stage 2).

Shape legend
    B   batch                        L   text tokens (with end-of-sequence; padding masked)
    C   latent channels (16)         h, w  latent height and width = H/16, W/16 (32² at 512²)
    p   latent patch (2)             N   image tokens = (h/p)·(w/p)  (256 at 512², 24×10 at 21:9)
    P   patch features = C·p² (64)   Pf  fill patch features = (C + 1)·p² (68)
    D   width                        Dt  text encoder width
    Hh  heads; Dh = D/Hh             T   joint tokens = L + N
    E   sinusoid size of a scalar embedding (256)

Conditioning (as v1, strobe_reference/model.py):
    c = emb_t(t) + emb_gap(t − s) + emb_β(β) + Linear(masked mean of text states)          [B, D]
Streams:
    image  x = Linear(patchify(z_t)) + Linear₀(patchify(fill)) + sincos positions            [B, N, D]
    text   y = Linear(text states)                                                           [B, L, D]
Joint block (MMDiT, SD3-style: two streams, one attention; each stream its own modulation,
projections, q/k RMSNorms and MLP):
    m_x = rms_chunks(Linear(SiLU(c))) → shift₁ scale₁ gate₁ shift₂ scale₂ gate₂   (m_y: the same for text)
    q, k, v = [qkv_y(rms(y)·(1 + scale₁ʸ) + shift₁ʸ) ; qkv_x(rms(x)·(1 + scale₁ˣ) + shift₁ˣ)]
              per-head RMSNorm on q, k; 2-D RoPE on the image tokens only       [B, Hh, T, Dh]
    a = softmax(q kᵀ/√Dh + padding mask) v
    x += gate₁ˣ · proj_x(a_x);  x += gate₂ˣ · MLP_x(rms(x)·(1 + scale₂ˣ) + shift₂ˣ)
    y += gate₁ʸ · proj_y(a_y);  y += gate₂ʸ · MLP_y(rms(y)·(1 + scale₂ʸ) + shift₂ʸ)
    The last block's text stream only gives keys and values (two modulation chunks, `txt_kv`).
Out:
    ẑ = unpatchify(Linear(rms(x)·(1 + scale) + shift))          x-prediction of the clean latent
    u = (z_t − ẑ) / max(t, t_min)                                the samplers' velocity, as v1

Fill: `fill` [B, C + 1, h, w] = (the known image's normalised latent × keep, keep), keep = 1 on
latent cells whose content is given, 0 where the model draws. Its projection has no bias and
starts at zero, so keep = 0 everywhere (fill all zero, or None) is exactly text to image, at
initialisation and after training.

Ops: linear, RMS norm (over features, with or without weight), SiLU, GELU (tanh), softmax
attention with a key mask, 2-D RoPE, sincos embeddings, patchify: all in the engine's v1 set.
"""
from __future__ import annotations

import dataclasses
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from strobe_reference.model import (NormWeight, ScalarEmbedder, StrobeModel, TextEncoder, TextEncoderConfig,
                                    attention, gelu_tanh, modulation, patchify, plain_constant,
                                    position_embedding, rms_norm, rope_2d, unpatchify)


@dataclasses.dataclass(frozen=True)
class MMDiTConfig:
    latent_channels: int = 16
    patch_size: int = 2
    hidden_size: int = 256
    depth: int = 10
    num_heads: int = 4
    mlp_ratio: int = 4
    text_mlp_ratio: int = 2
    fill: bool = True
    frequency_embedding_size: int = 256
    max_period: float = 10000.0
    rope_theta: float = 10000.0
    position_grid: float = 16.0
    norm_epsilon: float = 1e-6
    t_min: float = 0.05

    def __post_init__(self):
        if self.hidden_size % self.num_heads or (self.hidden_size // self.num_heads) % 4:
            raise ValueError(f"hidden_size {self.hidden_size} must split into {self.num_heads} heads whose "
                             "size is a multiple of 4 (2-D RoPE)")
        if self.hidden_size % 4:
            raise ValueError(f"hidden_size {self.hidden_size} must be a multiple of 4 (2-D sincos positions)")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")

    @property
    def patch_features(self) -> int:
        return self.latent_channels * self.patch_size ** 2

    @property
    def fill_features(self) -> int:
        return (self.latent_channels + 1) * self.patch_size ** 2


@dataclasses.dataclass(frozen=True)
class V2ModelConfig:
    text: TextEncoderConfig
    denoiser: MMDiTConfig
    family: str = "strobe-mmdit"
    prediction: str = "x"
    latent_factor: int = 16
    max_prompt_tokens: int = 1000

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "V2ModelConfig":
        raw = json.loads(text)
        return V2ModelConfig(text=TextEncoderConfig(**raw.pop("text")),
                             denoiser=MMDiTConfig(**raw.pop("denoiser")), **raw)


class Stream(nn.Module):
    """One stream's weights in a joint block: modulation, qkv (or kv), q/k norms, out projection, MLP."""

    def __init__(self, cfg: MMDiTConfig, mlp_ratio: int, context_only: bool = False):
        super().__init__()
        d, dh = cfg.hidden_size, cfg.hidden_size // cfg.num_heads
        self.context_only = context_only
        self.mod = nn.Linear(d, (2 if context_only else 6) * d)
        if context_only:
            self.kv = nn.Linear(d, 2 * d)
        else:
            self.qkv = nn.Linear(d, 3 * d)
            self.q_norm = NormWeight(dh)
            self.proj = nn.Linear(d, d)
            self.fc1 = nn.Linear(d, mlp_ratio * d)
            self.fc2 = nn.Linear(mlp_ratio * d, d)
        self.k_norm = NormWeight(dh)


class JointBlock(nn.Module):
    def __init__(self, cfg: MMDiTConfig, last: bool):
        super().__init__()
        self.cfg = cfg
        self.img = Stream(cfg, cfg.mlp_ratio)
        self.txt = Stream(cfg, cfg.text_mlp_ratio, context_only=last)

    def _heads(self, t: torch.Tensor, parts: int) -> list[torch.Tensor]:
        B, n, _ = t.shape
        h = self.cfg.num_heads
        t = t.view(B, n, parts, h, -1).permute(2, 0, 3, 1, 4)                # [parts, B, Hh, n, Dh]
        return list(t)

    def forward(self, x, y, c, key_mask, rows, cols):
        """x [B, N, D], y [B, L, D], c [B, D], key_mask [B, L + N] bool → (x, y) (y None after the last block)."""
        eps, theta = self.cfg.norm_epsilon, self.cfg.rope_theta
        B, N, D = x.shape
        L = y.shape[1]
        sx1, cx1, gx1, sx2, cx2, gx2 = modulation(self.img.mod, c, 6, eps)           # each [B, 1, D]
        hx = rms_norm(x, eps) * (1 + cx1) + sx1                                        # [B, N, D]
        qx, kx, vx = self._heads(self.img.qkv(hx), 3)                                  # [B, Hh, N, Dh]
        qx = rope_2d(rms_norm(qx, eps, self.img.q_norm.weight), rows, cols, theta)
        kx = rope_2d(rms_norm(kx, eps, self.img.k_norm.weight), rows, cols, theta)
        if self.txt.context_only:
            sy1, cy1 = modulation(self.txt.mod, c, 2, eps)
            hy = rms_norm(y, eps) * (1 + cy1) + sy1                                    # [B, L, D]
            ky, vy = self._heads(self.txt.kv(hy), 2)                                   # [B, Hh, L, Dh]
            q = qx                                                                     # [B, Hh, N, Dh]
        else:
            sy1, cy1, gy1, sy2, cy2, gy2 = modulation(self.txt.mod, c, 6, eps)
            hy = rms_norm(y, eps) * (1 + cy1) + sy1                                    # [B, L, D]
            qy, ky, vy = self._heads(self.txt.qkv(hy), 3)                              # [B, Hh, L, Dh]
            q = torch.cat([rms_norm(qy, eps, self.txt.q_norm.weight), qx], dim=2)      # [B, Hh, L + N, Dh]
        k = torch.cat([rms_norm(ky, eps, self.txt.k_norm.weight), kx], dim=2)          # [B, Hh, T, Dh]
        v = torch.cat([vy, vx], dim=2)                                                 # [B, Hh, T, Dh]
        a = attention(q, k, v, key_mask=key_mask)                                      # [B, Hh, L + N or N, Dh]
        a = a.transpose(1, 2).reshape(B, a.shape[2], D)                                # [B, ·, D]
        ax = a[:, -N:]                                                                 # [B, N, D]
        x = x + gx1 * self.img.proj(ax)
        x = x + gx2 * self.img.fc2(gelu_tanh(self.img.fc1(rms_norm(x, eps) * (1 + cx2) + sx2)))
        if self.txt.context_only:
            return x, None
        ay = a[:, :L]                                                                  # [B, L, D]
        y = y + gy1 * self.txt.proj(ay)
        y = y + gy2 * self.txt.fc2(gelu_tanh(self.txt.fc1(rms_norm(y, eps) * (1 + cy2) + sy2)))
        return x, y


class MMDiT(nn.Module):
    def __init__(self, cfg: MMDiTConfig, text_dim: int):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden_size
        self.patch_embed = nn.Linear(cfg.patch_features, d)
        self.fill_embed = nn.Linear(cfg.fill_features, d, bias=False) if cfg.fill else None
        self.context_embed = nn.Linear(text_dim, d)
        self.t_embed = ScalarEmbedder(cfg)
        self.gap_embed = ScalarEmbedder(cfg)
        self.guidance_embed = ScalarEmbedder(cfg)
        self.text_pool = nn.Linear(text_dim, d)
        self.blocks = nn.ModuleList(JointBlock(cfg, last=i == cfg.depth - 1) for i in range(cfg.depth))
        self.final_mod = nn.Linear(d, 2 * d)
        self.final_linear = nn.Linear(d, cfg.patch_features)

    def forward(self, z_t, t, gap, beta, text, text_mask, fill=None):
        """z_t [B, C, h, w]; t, gap, beta [B]; text [B, L, Dt]; text_mask [B, L] bool;
        fill [B, C + 1, h, w] or None → ẑ [B, C, h, w]."""
        cfg = self.cfg
        B, C, h, w = z_t.shape
        p = cfg.patch_size
        if h % p or w % p:
            raise ValueError(f"latent sides must be multiples of the patch {p}, got {h}×{w}")
        rows = torch.arange(h // p, device=z_t.device).repeat_interleave(w // p)       # [N]
        cols = torch.arange(w // p, device=z_t.device).repeat(h // p)                  # [N]
        m = text_mask.to(text.dtype)[..., None]                                        # [B, L, 1]
        pooled = (text * m).sum(1) / m.sum(1).clamp(min=1)                             # [B, Dt]
        c = self.t_embed(t) + self.gap_embed(gap) + self.guidance_embed(beta) + self.text_pool(pooled)  # [B, D]
        x = self.patch_embed(patchify(z_t, p))                                         # [B, N, D]
        if fill is not None and self.fill_embed is not None:
            x = x + self.fill_embed(patchify(fill.to(x.dtype), p))                     # [B, N, D]
        x = x + _positions(h // p, w // p, cfg.hidden_size, float(cfg.position_grid), x.device, x.dtype)  # [B, N, D]
        y = self.context_embed(text)                                                   # [B, L, D]
        N = x.shape[1]
        key_mask = torch.cat([text_mask, torch.ones(B, N, dtype=torch.bool, device=x.device)], dim=1)  # [B, T]
        for block in self.blocks:
            x, y = block(x, y, c, key_mask, rows, cols)
        shift, scale = modulation(self.final_mod, c, 2, cfg.norm_epsilon)
        out = self.final_linear(rms_norm(x, cfg.norm_epsilon) * (1 + scale) + shift)   # [B, N, P]
        return unpatchify(out, p, C, h, w)                                             # [B, C, h, w]

    def velocity(self, z_t, t, gap, beta, text, text_mask, fill=None):
        """u = (z_t − ẑ) / max(t, t_min), [B, C, h, w]."""
        z_hat = self(z_t, t, gap, beta, text, text_mask, fill)
        return (z_t - z_hat) / t.clamp(min=self.cfg.t_min)[:, None, None, None]


@plain_constant
def _positions(rows: int, cols: int, dim: int, grid: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """`position_embedding` [rows·cols, dim] on `device` in `dtype`, made once per size: a copy from
    the host in every forward pass would make the CPU wait for the GPU each time."""
    return position_embedding(rows, cols, dim, grid).to(device, dtype)


class V2Model(nn.Module):
    """Text encoder (v1's T5-style encoder) and the MMDiT; parameter names are the future weights
    file's tensor names."""

    def __init__(self, cfg: V2ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.text_encoder = TextEncoder(cfg.text)
        self.denoiser = MMDiT(cfg.denoiser, cfg.text.d_model)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None, std: float = 0.02):
        """Denoiser: N(0, std) weights, zero biases, norms one; the modulations, the output layer and
        the fill projection zero. Text encoder: T5's initialisation (v1's `reset_text_encoder`)."""
        for name, p in self.denoiser.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, std, generator=generator)
        d = self.denoiser
        zero = [d.final_mod, d.final_linear, *(s.mod for b in d.blocks for s in (b.img, b.txt))]
        if d.fill_embed is not None:
            zero.append(d.fill_embed)
        for module in zero:
            module.weight.zero_()
            if module.bias is not None:
                module.bias.zero_()
        self.reset_text_encoder(generator)

    reset_text_encoder = StrobeModel.reset_text_encoder

    def encode_text(self, ids: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(ids, key_mask)                                        # [B, L, Dt]


# ---------------------------------------------------------------------------------------------
# Sizes and cost


def parameter_counts(model: V2Model) -> dict[str, int]:
    d = model.denoiser
    fill = d.fill_embed.weight.numel() if d.fill_embed is not None else 0
    return {"text_encoder": sum(p.numel() for p in model.text_encoder.parameters()),
            "denoiser": sum(p.numel() for p in d.parameters()), "of which fill": fill}


def flops_per_call(cfg: MMDiTConfig, width: int, height: int, text_tokens: int, text_dim: int = 256) -> int:
    """Multiply–adds × 2 of one denoiser call on an image of width × height pixels (the per-sample
    conditioning vector and elementwise ops left out: under 1 %)."""
    d, n, L = cfg.hidden_size, (width // 16 // cfg.patch_size) * (height // 16 // cfg.patch_size), text_tokens
    macs = n * (cfg.patch_features + (cfg.fill_features if cfg.fill else 0)) * d + L * text_dim * d
    for i in range(cfg.depth):
        last = i == cfg.depth - 1
        macs += n * (4 + 2 * cfg.mlp_ratio) * d * d                                   # image qkv, proj, MLP
        macs += L * (2 if last else 4 + 2 * cfg.text_mlp_ratio) * d * d               # text (k, v only at the end)
        queries = n if last else n + L
        macs += 2 * queries * (n + L) * d                                              # q kᵀ and a v
    macs += n * d * cfg.patch_features                                                 # output
    return 2 * macs


def v1_flops_per_call(width: int = 256, height: int = 256, text_tokens: int = 24, d: int = 256, depth: int = 8,
                      patch: int = 16, mlp_ratio: int = 4) -> int:
    """The same count for v1's pixel DiT (strobe_reference.model; its text keys/values are per prompt)."""
    n, pf = (width // patch) * (height // patch), 3 * patch * patch
    macs = 2 * n * pf * d
    macs += depth * (n * (4 + 2 + 2 * mlp_ratio) * d * d + 2 * n * n * d + 2 * n * text_tokens * d)
    return 2 * macs
