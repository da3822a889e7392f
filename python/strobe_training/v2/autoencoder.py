"""The v2 autoencoder: RGB images ↔ latents at 1/16 of the side, 16 channels, convolutions only.

Shape legend:
    B  batch                 H, W  image height and width (multiples of 16; 512² at 1:1)
    C  latent channels (16)  h, w  latent height and width = H/16, W/16 (32² at 1:1)
    c  feature channels of a level (encoder 32, 64, 128, 192; decoder 192, 128, 64, 32, 16)

    encode: image [B, 3, H, W] in [0, 1] → latent mean [B, C, h, w]     (raw, not normalised)
    decode: latent [B, C, h, w] → image [B, 3, H, W] (about [0, 1]; clamp for pixels)

The ops are the ones the Swift engine is to gain: 3×3 convolutions (stride 1, or stride 2 to go
down), 1×1 convolutions, an RMS norm over the channels of each pixel with a learned weight, SiLU,
and 2× upsampling, bilinear (half-pixel centres, edges repeated: along each axis an output pixel
is 3/4 of its nearest input and 1/4 of the next) or nearest-neighbour. Nearest-neighbour
upsampling left a 2-px grid in the reconstructions (seam ratio 1.21 at 2 px after 730 steps,
renders 1.01); bilinear upsampling keeps a linear ramp linear, so it adds no grid of its own. There is no attention and no norm over pixels, so a crop of
the image gives the same features as the whole image away from the crop's edge: the network
trained on crops is the network run at 512², and a decoder may run in tiles.

The latent DiT works on normalised latents (z − mean) / std per channel; the statistics are
measured on renders by the trainer and stored with the model (`latent_mean`, `latent_std`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class AutoencoderConfig:
    """Widths of the encoder (from the image down) and decoder (from the latent up) levels."""
    latent_channels: int = 16
    encoder_channels: tuple[int, ...] = (32, 64, 128, 192)   # at H/2, H/4, H/8, H/16
    encoder_blocks: tuple[int, ...] = (0, 1, 1, 1)           # residual blocks per level
    decoder_channels: tuple[int, ...] = (192, 128, 64, 32, 16)  # at H/16, H/8, H/4, H/2, H
    decoder_blocks: tuple[int, ...] = (2, 1, 1, 0, 0)
    upsample: str = "bilinear"                                   # or "nearest"
    eps: float = 1e-6

    def __post_init__(self):
        if len(self.encoder_channels) != 4 or len(self.encoder_blocks) != 4:
            raise ValueError(f"the encoder has 4 levels (H/2 … H/16): got channels {self.encoder_channels}, "
                             f"blocks {self.encoder_blocks}")
        if len(self.decoder_channels) != 5 or len(self.decoder_blocks) != 5:
            raise ValueError(f"the decoder has 5 levels (H/16 … H): got channels {self.decoder_channels}, "
                             f"blocks {self.decoder_blocks}")
        if self.upsample not in ("bilinear", "nearest"):
            raise ValueError(f"upsample must be 'bilinear' or 'nearest', got {self.upsample!r}")
        if self.latent_channels < 1:
            raise ValueError(f"latent_channels must be positive, got {self.latent_channels}")

    @property
    def factor(self) -> int:
        """Image pixels per latent pixel along a side."""
        return 16

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(d: dict) -> "AutoencoderConfig":
        return AutoencoderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class ChannelRMSNorm(nn.Module):
    """x / rms over channels, per pixel, times a learned weight per channel: [B, c, H, W] → same."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.rsqrt(x.float().pow(2).mean(1, keepdim=True) + self.eps)   # [B, 1, H, W]
        return (x.float() * rms).to(x.dtype) * self.weight[None, :, None, None]  # [B, c, H, W]


class ResBlock(nn.Module):
    """x + conv3(silu(norm(conv3(silu(norm(x)))))); the second conv starts at zero."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.norm1 = ChannelRMSNorm(channels, eps)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = ChannelRMSNorm(channels, eps)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:             # [B, c, H, W]
        y = self.conv1(F.silu(self.norm1(x)))                         # [B, c, H, W]
        return x + self.conv2(F.silu(self.norm2(y)))                  # [B, c, H, W]


class Encoder(nn.Module):
    """[B, 3, H, W] → latent mean [B, C, H/16, W/16]. Each level starts with a 3×3 stride-2 conv."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        levels, prev = [], 3
        for ch, n in zip(cfg.encoder_channels, cfg.encoder_blocks):
            levels.append(nn.Sequential(nn.Conv2d(prev, ch, 3, stride=2, padding=1),
                                        *[ResBlock(ch, cfg.eps) for _ in range(n)]))
            prev = ch
        self.levels = nn.ModuleList(levels)
        self.norm_out = ChannelRMSNorm(prev, cfg.eps)
        self.conv_out = nn.Conv2d(prev, cfg.latent_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # [B, 3, H, W] in [0, 1]
        x = x * 2 - 1                                       # [B, 3, H, W] in [-1, 1]
        for level in self.levels:
            x = level(x)                                    # [B, c, H/2 … H/16, W/2 … W/16]
        return self.conv_out(F.silu(self.norm_out(x)))      # [B, C, h, w]


class Decoder(nn.Module):
    """Latent [B, C, h, w] → image [B, 3, 16h, 16w]. A level above the first: 2× up, then a 3×3 conv
    to its width, then its residual blocks."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        chans = cfg.decoder_channels
        self.conv_in = nn.Conv2d(cfg.latent_channels, chans[0], 3, padding=1)
        self.blocks0 = nn.Sequential(*[ResBlock(chans[0], cfg.eps) for _ in range(cfg.decoder_blocks[0])])
        ups = []
        for i in range(1, len(chans)):
            ups.append(nn.ModuleDict({
                "conv": nn.Conv2d(chans[i - 1], chans[i], 3, padding=1),
                "blocks": nn.Sequential(*[ResBlock(chans[i], cfg.eps) for _ in range(cfg.decoder_blocks[i])]),
            }))
        self.ups = nn.ModuleList(ups)
        self.upsample = cfg.upsample
        self.norm_out = ChannelRMSNorm(chans[-1], cfg.eps)
        self.conv_out = nn.Conv2d(chans[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:   # [B, C, h, w]
        x = self.blocks0(self.conv_in(z))                   # [B, 192, h, w]
        for up in self.ups:
            x = upsample2x(x, self.upsample)                          # [B, c_prev, 2·, 2·]
            x = up["blocks"](up["conv"](x))                           # [B, c, 2·, 2·]
        x = self.conv_out(F.silu(self.norm_out(x)))         # [B, 3, H, W] in about [-1, 1]
        return (x + 1) / 2                                  # [B, 3, H, W] in about [0, 1]


def upsample2x(x: torch.Tensor, mode: str) -> torch.Tensor:
    """[B, c, H, W] → [B, c, 2H, 2W]; bilinear with half-pixel centres (align_corners=False)."""
    if mode == "nearest":
        return F.interpolate(x, scale_factor=2.0, mode="nearest")
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class Autoencoder(nn.Module):
    """Encoder + decoder, with the latent statistics (buffers, filled in by the trainer)."""

    def __init__(self, cfg: AutoencoderConfig = AutoencoderConfig()):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.register_buffer("latent_mean", torch.zeros(cfg.latent_channels))   # [C]
        self.register_buffer("latent_std", torch.ones(cfg.latent_channels))     # [C]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [0, 1] → raw latent [B, C, H/16, W/16]."""
        if x.shape[-1] % 16 or x.shape[-2] % 16:
            raise ValueError(f"image sides must be multiples of 16, got {tuple(x.shape[-2:])}")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw latent [B, C, h, w] → image [B, 3, 16h, 16w] (unclamped)."""
        return self.decoder(z)

    def normalise(self, z: torch.Tensor) -> torch.Tensor:
        """Raw latent → the DiT's latent: (z − mean) / std per channel. [B, C, h, w] → same."""
        return (z - self.latent_mean[None, :, None, None]) / self.latent_std[None, :, None, None]

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        """The DiT's latent → raw latent. [B, C, h, w] → same."""
        return z * self.latent_std[None, :, None, None] + self.latent_mean[None, :, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # [B, 3, H, W] → [B, 3, H, W]
        return self.decode(self.encode(x))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
