"""The reference architecture of Strobe's default model family, `strobe-dit` (PyTorch).

This file is the specification the Swift engine must match: every hyperparameter is in
`ModelConfig` (exported as the `strobe.architecture` metadata), every parameter name is the
tensor name in the weights file (weights-format.md §5), and the math below is what the engine
computes. Training (strobe_training.train) and reference generation (strobe_reference.sampling) use it.

Shape legend
    B   batch                       L   text tokens (with the end-of-sequence token)
    C   image channels (3)          H, W  image height and width in pixels
    p   patch size                  N   image tokens = (H/p)·(W/p)
    P   patch features = C·p·p      D   denoiser width
    Dt  text encoder width          Hh  heads;  Dh = D/Hh  (text: Ht heads of Dk)
    E   sinusoid size of a scalar embedding (256)

Text encoder: T5 v1.1-style, computed as Hugging Face `T5EncoderModel` computes it (relative
position buckets shared from the first layer, RMSNorm "T5LayerNorm", gated-GELU (tanh)
feed-forward, no attention scaling, no biases).

Denoiser: a DiT in pixel space that predicts the clean image x̂ (JiT-style x-prediction) and is
conditioned on two times and the guidance input (TVM, arXiv 2511.19797):
    c = emb_t(t) + emb_gap(t − s) + emb_β(β) + Linear(masked mean of text)       [B, D]
    per block:  m = rms_chunks(Linear(SiLU(c)))  →  shift₁ scale₁ gate₁ shift₂ scale₂ gate₂
                x += gate₁ · SelfAttn(rms(x)·(1 + scale₁) + shift₁)   (QK-RMSNorm, 2-D RoPE)
                x += CrossAttn(rms(x), text)                         (QK-RMSNorm, key mask)
                x += gate₂ · MLP(rms(x)·(1 + scale₂) + shift₂)        (GELU tanh)
    tokens:     x = Linear(patchify(x_t)) + fixed 2-D sincos positions (fractions of the image)
    out:        x̂ = unpatchify(Linear(rms(x)·(1 + scale) + shift))
The velocity used by the samplers is u = (x_t − x̂) / max(t, t_min), which is w·F in the sampler
mathematics of docs/architecture.md: one jump from t to s is x_s = x_t + (s − t)·u(x_t, t, t − s, text, β = 1/w).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass(frozen=True)
class TextEncoderConfig:
    vocab_size: int
    d_model: int = 256
    num_heads: int = 4
    d_kv: int = 64
    d_ff: int = 768
    num_layers: int = 4
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    layer_norm_epsilon: float = 1e-6


@dataclasses.dataclass(frozen=True)
class DenoiserConfig:
    channels: int = 3
    patch_size: int = 16
    hidden_size: int = 256
    depth: int = 8
    num_heads: int = 4
    mlp_ratio: int = 4
    frequency_embedding_size: int = 256
    max_period: float = 10000.0
    rope_theta: float = 10000.0
    position_grid: float = 16.0
    norm_epsilon: float = 1e-6
    t_min: float = 0.05


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    text: TextEncoderConfig
    denoiser: DenoiserConfig
    family: str = "strobe-dit"
    prediction: str = "x"
    max_prompt_tokens: int = 1000

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "ModelConfig":
        raw = json.loads(text)
        return ModelConfig(text=TextEncoderConfig(**raw.pop("text")),
                           denoiser=DenoiserConfig(**raw.pop("denoiser")), **raw)


# ---------------------------------------------------------------------------------------------
# Shared pieces


def rms_norm(x: torch.Tensor, eps: float, weight: torch.Tensor | None = None) -> torch.Tensor:
    """x / sqrt(mean(x²) + eps) over the last axis, in fp32, times `weight` if given."""
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    if weight is not None:
        x = x * weight.float()
    return x.to(dtype)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate="tanh")


def attention(q, k, v, bias=None, key_mask=None, scale=None):
    """q [B, Hh, Lq, Dh], k/v [B, Hh, Lk, Dh]; bias [1, Hh, Lq, Lk]; key_mask [B, Lk] bool
    (True = attend; masked keys get finfo.min added, as T5 does). Returns [B, Hh, Lq, Dh]."""
    mask = bias
    if key_mask is not None:
        key_bias = torch.zeros(key_mask.shape, dtype=q.dtype, device=q.device)
        key_bias = key_bias.masked_fill(~key_mask, torch.finfo(q.dtype).min)[:, None, None, :]  # [B, 1, 1, Lk]
        mask = key_bias if mask is None else mask + key_bias
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = (q @ k.transpose(-1, -2)) * scale                               # [B, Hh, Lq, Lk]
    if mask is not None:
        scores = scores + mask
    # Written out rather than F.scaled_dot_product_attention: training needs forward-mode AD
    # (the TVM JVP), which PyTorch's fused CPU attention kernels do not implement.
    return torch.softmax(scores.float(), dim=-1).to(v.dtype) @ v


# ---------------------------------------------------------------------------------------------
# Text encoder (T5 v1.1 encoder)


def relative_position_bucket(relative_position: torch.Tensor, num_buckets: int, max_distance: int) -> torch.Tensor:
    """Bidirectional T5 buckets of `memory − query` positions."""
    num_buckets //= 2
    buckets = (relative_position > 0).long() * num_buckets
    n = relative_position.abs()
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).long()
    large = torch.minimum(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, n, large)


class NormWeight(nn.Module):
    """The weight of an RMSNorm, held as a module so that its tensor is named `….weight`."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))


class T5Attention(nn.Module):
    def __init__(self, cfg: TextEncoderConfig):
        super().__init__()
        inner = cfg.num_heads * cfg.d_kv
        self.cfg = cfg
        self.q = nn.Linear(cfg.d_model, inner, bias=False)
        self.k = nn.Linear(cfg.d_model, inner, bias=False)
        self.v = nn.Linear(cfg.d_model, inner, bias=False)
        self.o = nn.Linear(inner, cfg.d_model, bias=False)

    def forward(self, x, position_bias, key_mask):
        B, L, _ = x.shape
        h, d = self.cfg.num_heads, self.cfg.d_kv
        q = self.q(x).view(B, L, h, d).transpose(1, 2)                      # [B, Ht, L, Dk]
        k = self.k(x).view(B, L, h, d).transpose(1, 2)
        v = self.v(x).view(B, L, h, d).transpose(1, 2)
        out = attention(q, k, v, bias=position_bias, key_mask=key_mask, scale=1.0)  # T5: no scaling
        return self.o(out.transpose(1, 2).reshape(B, L, h * d))             # [B, L, Dt]


class T5Block(nn.Module):
    def __init__(self, cfg: TextEncoderConfig):
        super().__init__()
        self.eps = cfg.layer_norm_epsilon
        self.attn_norm = NormWeight(cfg.d_model)
        self.attn = T5Attention(cfg)
        self.ff_norm = NormWeight(cfg.d_model)
        self.wi_0 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wi_1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x, position_bias, key_mask):
        x = x + self.attn(rms_norm(x, self.eps, self.attn_norm.weight), position_bias, key_mask)
        h = rms_norm(x, self.eps, self.ff_norm.weight)
        return x + self.wo(gelu_tanh(self.wi_0(h)) * self.wi_1(h))         # [B, L, Dt]


class TextEncoder(nn.Module):
    def __init__(self, cfg: TextEncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.relative_bias = nn.Embedding(cfg.relative_attention_num_buckets, cfg.num_heads)
        self.blocks = nn.ModuleList(T5Block(cfg) for _ in range(cfg.num_layers))
        self.final_norm = NormWeight(cfg.d_model)

    def position_bias(self, length: int, device) -> torch.Tensor:
        pos = torch.arange(length, device=device)
        buckets = relative_position_bucket(pos[None, :] - pos[:, None], self.cfg.relative_attention_num_buckets,
                                           self.cfg.relative_attention_max_distance)  # [L, L]
        return self.relative_bias(buckets).permute(2, 0, 1)[None]             # [1, Ht, L, L]

    def forward(self, ids: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """ids [B, L] (int64), key_mask [B, L] bool → hidden states [B, L, Dt]."""
        x = self.embed(ids)
        bias = self.position_bias(ids.shape[1], ids.device).to(x.dtype)
        for block in self.blocks:
            x = block(x, bias, key_mask)
        return rms_norm(x, self.cfg.layer_norm_epsilon, self.final_norm.weight)


# ---------------------------------------------------------------------------------------------
# Denoiser


def plain_constant(make):
    """Decorates a function of hashable arguments that makes a constant tensor: the result is cached
    per arguments, and made outside autograd, inference mode and any torch.func transform (a table
    first made inside the TVM's JVP would otherwise be cached as that transform's wrapper)."""
    @functools.lru_cache(maxsize=32)
    @functools.wraps(make)
    def cached(*args):
        disable_transforms = getattr(torch._C, "_DisableFuncTorch", contextlib.nullcontext)
        with disable_transforms(), torch.inference_mode(False), torch.no_grad():
            return make(*args)
    return cached


@plain_constant
def _sinusoid_frequencies(half: int, max_period: float, device: torch.device) -> torch.Tensor:
    """f_i = max_period^(−i/half) [half] in fp64, computed on the CPU and kept on `device`: made once,
    so a forward pass on a GPU copies nothing from the host (each copy would wait for the GPU)."""
    return torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half).to(device)


def timestep_sinusoids(t: torch.Tensor, dim: int, max_period: float) -> torch.Tensor:
    """t [B] → [B, dim]: [cos(t·f_i), sin(t·f_i)], f_i = max_period^(−i/half), computed in fp64."""
    freqs = _sinusoid_frequencies(dim // 2, float(max_period), t.device)
    args = t.double()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).float()


class ScalarEmbedder(nn.Module):
    """A scalar (time, gap or β) → sinusoids → Linear → SiLU → Linear."""

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.cfg = cfg
        self.fc1 = nn.Linear(cfg.frequency_embedding_size, cfg.hidden_size)
        self.fc2 = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, t):
        e = timestep_sinusoids(t, self.cfg.frequency_embedding_size, self.cfg.max_period).to(self.fc1.weight.dtype)
        return self.fc2(F.silu(self.fc1(e)))                                # [B, D]


def position_embedding(rows: int, cols: int, dim: int, grid: float) -> torch.Tensor:
    """Fixed 2-D sincos absolute positions [rows·cols, dim], in fractions of the image so that every
    aspect ratio shares one frame: a token's coordinates are y = (i + ½)·grid/rows and
    x = (j + ½)·grid/cols; the first dim/2 features encode y and the last dim/2 encode x, each as
    [sin(v·ω_k) for k < dim/4] ++ [cos(v·ω_k) for k < dim/4], ω_k = 10000^(−k/(dim/4)); computed
    in float64, rounded to float32. (RoPE alone is relative: without this, a denoiser looking at
    pure noise could not tell the sky's rows from the ground's.)"""
    quarter = dim // 4
    omega = 10000.0 ** (-torch.arange(quarter, dtype=torch.float64) / quarter)          # [dim/4]

    def encode(v):
        angles = v[:, None] * omega[None]                                               # [n, dim/4]
        return torch.cat([angles.sin(), angles.cos()], dim=-1)                          # [n, dim/2]

    y = (torch.arange(rows, dtype=torch.float64) + 0.5) * grid / rows
    x = (torch.arange(cols, dtype=torch.float64) + 0.5) * grid / cols
    ey = encode(y).repeat_interleave(cols, dim=0)                                       # [N, dim/2]
    ex = encode(x).repeat(rows, 1)                                                      # [N, dim/2]
    return torch.cat([ey, ex], dim=-1).float()


def rope_2d(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, theta: float) -> torch.Tensor:
    """2-D rotary embedding on x [B, Hh, N, Dh]: the first Dh/2 features rotate by the token's
    row, the last Dh/2 by its column. Within each half of size d, the pair (x[2i], x[2i+1]) rotates
    by angle pos·theta^(−2i/d):  (a, b) → (a·cos − b·sin, a·sin + b·cos)."""
    dh = x.shape[-1]
    half = dh // 2

    def rotate(part, pos):
        i = torch.arange(0, half, 2, dtype=torch.float64, device=x.device)
        freqs = theta ** (-i / half)                                         # [half/2]
        angles = pos.double()[:, None] * freqs[None]                         # [N, half/2]
        cos, sin = angles.cos().to(part.dtype), angles.sin().to(part.dtype)
        a, b = part[..., 0::2], part[..., 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

    return torch.cat([rotate(x[..., :half], rows), rotate(x[..., half:], cols)], dim=-1)


class SelfAttention(nn.Module):
    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.heads, self.eps, self.theta = cfg.num_heads, cfg.norm_epsilon, cfg.rope_theta
        d = cfg.hidden_size
        self.qkv = nn.Linear(d, 3 * d)
        self.q_norm = NormWeight(d // cfg.num_heads)
        self.k_norm = NormWeight(d // cfg.num_heads)
        self.proj = nn.Linear(d, d)

    def forward(self, x, rows, cols):
        B, N, D = x.shape
        qkv = self.qkv(x).view(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # [3, B, Hh, N, Dh]
        q = rope_2d(rms_norm(qkv[0], self.eps, self.q_norm.weight), rows, cols, self.theta)
        k = rope_2d(rms_norm(qkv[1], self.eps, self.k_norm.weight), rows, cols, self.theta)
        out = attention(q, k, qkv[2])                                        # [B, Hh, N, Dh]
        return self.proj(out.transpose(1, 2).reshape(B, N, D))               # [B, N, D]


class CrossAttention(nn.Module):
    def __init__(self, cfg: DenoiserConfig, text_dim: int):
        super().__init__()
        self.heads, self.eps = cfg.num_heads, cfg.norm_epsilon
        d = cfg.hidden_size
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(text_dim, 2 * d)
        self.q_norm = NormWeight(d // cfg.num_heads)
        self.k_norm = NormWeight(d // cfg.num_heads)
        self.proj = nn.Linear(d, d)

    def forward(self, x, text, text_mask):
        B, N, D = x.shape
        L = text.shape[1]
        h, dh = self.heads, D // self.heads
        q = rms_norm(self.q(x).view(B, N, h, dh).transpose(1, 2), self.eps, self.q_norm.weight)  # [B, Hh, N, Dh]
        kv = self.kv(text).view(B, L, 2, h, dh).permute(2, 0, 3, 1, 4)                   # [2, B, Hh, L, Dh]
        k = rms_norm(kv[0], self.eps, self.k_norm.weight)
        out = attention(q, k, kv[1], key_mask=text_mask)                     # [B, Hh, N, Dh]
        return self.proj(out.transpose(1, 2).reshape(B, N, D))               # [B, N, D]


def modulation(linear: nn.Linear, c: torch.Tensor, chunks: int, eps: float) -> list[torch.Tensor]:
    """Linear(SiLU(c)) split into `chunks` vectors [B, 1, D], each RMS-normalised (no weight)."""
    m = linear(F.silu(c))                                                    # [B, chunks·D]
    m = rms_norm(m.view(m.shape[0], chunks, -1), eps)                        # [B, chunks, D]
    return [m[:, i, None, :] for i in range(chunks)]


class DiTBlock(nn.Module):
    def __init__(self, cfg: DenoiserConfig, text_dim: int):
        super().__init__()
        d = cfg.hidden_size
        self.eps = cfg.norm_epsilon
        self.mod = nn.Linear(d, 6 * d)
        self.attn = SelfAttention(cfg)
        self.cross = CrossAttention(cfg, text_dim)
        self.fc1 = nn.Linear(d, cfg.mlp_ratio * d)
        self.fc2 = nn.Linear(cfg.mlp_ratio * d, d)

    def forward(self, x, c, text, text_mask, rows, cols):
        shift1, scale1, gate1, shift2, scale2, gate2 = modulation(self.mod, c, 6, self.eps)
        x = x + gate1 * self.attn(rms_norm(x, self.eps) * (1 + scale1) + shift1, rows, cols)
        x = x + self.cross(rms_norm(x, self.eps), text, text_mask)
        h = rms_norm(x, self.eps) * (1 + scale2) + shift2
        return x + gate2 * self.fc2(gelu_tanh(self.fc1(h)))                  # [B, N, D]


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """[B, C, H, W] → [B, N, P]; tokens row-major over (h, w) patches, features (c, py, px)."""
    B, C, H, W = x.shape
    return x.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5).reshape(B, (H // p) * (W // p), C * p * p)


def unpatchify(tokens: torch.Tensor, p: int, channels: int, height: int, width: int) -> torch.Tensor:
    """[B, N, P] → [B, C, H, W] (inverse of `patchify`)."""
    B = tokens.shape[0]
    h, w = height // p, width // p
    return tokens.reshape(B, h, w, channels, p, p).permute(0, 3, 1, 4, 2, 5).reshape(B, channels, height, width)


class Denoiser(nn.Module):
    def __init__(self, cfg: DenoiserConfig, text_dim: int):
        super().__init__()
        self.cfg = cfg
        d, patch_features = cfg.hidden_size, cfg.channels * cfg.patch_size ** 2
        self.patch_embed = nn.Linear(patch_features, d)
        self.t_embed = ScalarEmbedder(cfg)
        self.gap_embed = ScalarEmbedder(cfg)
        self.guidance_embed = ScalarEmbedder(cfg)
        self.text_pool = nn.Linear(text_dim, d)
        self.blocks = nn.ModuleList(DiTBlock(cfg, text_dim) for _ in range(cfg.depth))
        self.final_mod = nn.Linear(d, 2 * d)
        self.final_linear = nn.Linear(d, patch_features)

    def forward(self, x_t, t, gap, beta, text, text_mask):
        """x_t [B, C, H, W]; t, gap, beta [B]; text [B, L, Dt]; text_mask [B, L] → x̂ [B, C, H, W]."""
        cfg = self.cfg
        B, C, H, W = x_t.shape
        p = cfg.patch_size
        rows = torch.arange(H // p, device=x_t.device).repeat_interleave(W // p)   # [N]
        cols = torch.arange(W // p, device=x_t.device).repeat(H // p)              # [N]
        mask = text_mask.to(text.dtype)[..., None]                                 # [B, L, 1]
        pooled = (text * mask).sum(1) / mask.sum(1).clamp(min=1)                    # [B, Dt]
        c = self.t_embed(t) + self.gap_embed(gap) + self.guidance_embed(beta) + self.text_pool(pooled)  # [B, D]
        x = self.patch_embed(patchify(x_t, p))                                     # [B, N, D]
        x = x + position_embedding(H // p, W // p, cfg.hidden_size, cfg.position_grid).to(x.device, x.dtype)
        for block in self.blocks:
            x = block(x, c, text, text_mask, rows, cols)
        shift, scale = modulation(self.final_mod, c, 2, cfg.norm_epsilon)
        out = self.final_linear(rms_norm(x, cfg.norm_epsilon) * (1 + scale) + shift)  # [B, N, P]
        return unpatchify(out, p, C, H, W)

    def velocity(self, x_t, t, gap, beta, text, text_mask):
        """u = (x_t − x̂) / max(t, t_min)  (= w·F of docs/architecture.md, the sampler mathematics), [B, C, H, W]."""
        x_hat = self(x_t, t, gap, beta, text, text_mask)
        return (x_t - x_hat) / t.clamp(min=self.cfg.t_min)[:, None, None, None]


class StrobeModel(nn.Module):
    """Text encoder and denoiser; parameter names are the weights file's tensor names."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.text_encoder = TextEncoder(cfg.text)
        self.denoiser = Denoiser(cfg.denoiser, cfg.text.d_model)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None, std: float = 0.02):
        """Denoiser: small random weights (`std`), norms one, the adaLN and output layers zero
        (adaLN-zero). Text encoder: `reset_text_encoder`."""
        for name, p in self.denoiser.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith("bias") and p.dim() == 1:
                p.zero_()
            else:
                p.normal_(0.0, std, generator=generator)
        for module in [*(b.mod for b in self.denoiser.blocks), self.denoiser.final_mod, self.denoiser.final_linear]:
            module.weight.zero_()
            module.bias.zero_()
        self.reset_text_encoder(generator)

    @torch.no_grad()
    def reset_text_encoder(self, generator: torch.Generator | None = None):
        """T5's own initialisation, scaled by fan-in: embeddings N(0, 1); q N(0, (Dt·Dk)^−½);
        k, v, wi N(0, Dt^−½); o N(0, (Ht·Dk)^−½); wo N(0, d_ff^−½); position buckets N(0, Dt^−½);
        norms one. Also used to restart the encoder of a teacher that had learned to ignore its
        captions (strobe_training.train --teacher-init), whose pooled captions had collapsed to nearly
        one direction."""
        cfg = self.cfg.text
        inner = cfg.num_heads * cfg.d_kv
        stds = {"embed.weight": 1.0, "relative_bias.weight": cfg.d_model ** -0.5,
                "attn.q.weight": (cfg.d_model * cfg.d_kv) ** -0.5, "attn.k.weight": cfg.d_model ** -0.5,
                "attn.v.weight": cfg.d_model ** -0.5, "attn.o.weight": inner ** -0.5,
                "wi_0.weight": cfg.d_model ** -0.5, "wi_1.weight": cfg.d_model ** -0.5, "wo.weight": cfg.d_ff ** -0.5}
        for name, p in self.text_encoder.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
                continue
            key = next(k for k in stds if name.endswith(k))
            p.normal_(0.0, stds[key], generator=generator)

    @torch.no_grad()
    def randomize(self, generator: torch.Generator, scale: float = 0.5):
        """Every parameter random (no zero init): for parity tests, so that every path matters."""
        for name, p in self.named_parameters():
            fan_in = p.shape[-1] if p.dim() > 1 else 1
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * scale / math.sqrt(fan_in))

    def encode_text(self, ids: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        return self.text_encoder(ids, key_mask)

    def tensor_shapes(self) -> dict[str, list[int]]:
        return {name: list(p.shape) for name, p in self.state_dict().items()}
