"""Makes the golden fixtures of the tensor core's convolutional ops (Swift: Ops.conv2d,
Ops.channelRMSNorm, Ops.upsampleNearest, Ops.upsampleBilinear2x, Ops.silu), from the v2 autoencoder's reference modules
(strobe_training/v2/autoencoder.py) where they exist, else torch.nn.functional.

    python -m strobe_tools.make_conv_fixtures      (packages installed with `pip install -e python`)

Writes Tests/StrobeTensorTests/Fixtures/conv/:
- golden.safetensors (F32), in fp32 on one torch thread, every input random with its own seed:
  - `conv.{name}.x` [B, Ci, H, W], `.weight` [Co, Ci, k, k], `.bias` [Co] (absent for a case
    without bias), `.out` = torch.nn.functional.conv2d(x, weight, bias, stride, padding);
  - `norm.{name}.x`, `.weight` [C], `.out` = ChannelRMSNorm(C, eps) with that weight;
  - `up.x`, `up.out` = F.interpolate(x, scale_factor=2.0, mode="nearest");
  - `bilinear.{name}.x`, `.out` = F.interpolate(x, scale_factor=2.0, mode="bilinear",
    align_corners=False) (as the Decoder upsamples), for odd and even sides and a 1×1 image;
  - `silu.x`, `silu.out` = F.silu(x);
  - `decoder.z` [1, 4, 3, 2], `decoder.out` [1, 3, 48, 32] = a small Decoder (bilinear
    upsampling) with every parameter random (no zero init), and its parameters as
    `decoder.param.<state_dict name>`.
  The header's `__metadata__` key `strobe.conv_fixtures` holds JSON: each conv case's stride,
  padding and whether it has a bias; each norm's eps; the decoder's AutoencoderConfig (with its
  `upsample` mode).
- README.md is written by hand (how the file was made, with versions); update it when remaking.
"""
import json
import os

import torch
import torch.nn.functional as F

from strobe_reference import weights as strobe_weights
from strobe_reference.paths import repository_path
from strobe_training.v2.autoencoder import AutoencoderConfig, ChannelRMSNorm, Decoder

# name: (B, Ci, Co, H, W, k, stride, padding, bias)
CONV_CASES = {
    "k3s1": (2, 5, 7, 13, 11, 3, 1, 1, True),
    "k3s2": (2, 5, 7, 13, 11, 3, 2, 1, True),
    "k3s2_even": (1, 4, 6, 16, 12, 3, 2, 1, True),
    "k1s1": (2, 5, 7, 13, 11, 1, 1, 0, True),
    "k1s2": (1, 5, 7, 13, 11, 1, 2, 0, False),
    "k3s1_wide": (1, 32, 16, 7, 8, 3, 1, 1, True),
    "k5s1_nobias": (1, 3, 4, 8, 7, 5, 1, 2, False),
}
# name: (B, C, H, W, eps); 40 channels exercise torch's blocks of 16 in the channel sum
NORM_CASES = {"c5": (2, 5, 13, 11, 1e-6), "c40": (1, 40, 8, 8, 1e-6), "c7_eps": (1, 7, 9, 8, 1e-2)}
# name: (B, C, H, W)
BILINEAR_CASES = {"odd": (2, 3, 5, 7), "even": (1, 2, 6, 4), "one": (1, 2, 1, 1)}
DECODER = AutoencoderConfig(latent_channels=4, decoder_channels=(12, 10, 8, 6, 5), decoder_blocks=(1, 1, 0, 0, 1),
                            upsample="bilinear")


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def conv_cases(golden: dict, meta: dict) -> None:
    for i, (name, (b, ci, co, h, w, k, s, p, has_bias)) in enumerate(CONV_CASES.items()):
        g = generator(100 + i)
        x = torch.randn(b, ci, h, w, generator=g)                             # [B, Ci, H, W]
        weight = torch.randn(co, ci, k, k, generator=g) / (ci * k * k) ** 0.5  # [Co, Ci, k, k]
        bias = torch.randn(co, generator=g) if has_bias else None              # [Co]
        golden[f"conv.{name}.x"], golden[f"conv.{name}.weight"] = x, weight
        if bias is not None:
            golden[f"conv.{name}.bias"] = bias
        golden[f"conv.{name}.out"] = F.conv2d(x, weight, bias, stride=s, padding=p)
        meta["conv"][name] = {"stride": s, "padding": p, "bias": has_bias}


def norm_cases(golden: dict, meta: dict) -> None:
    for i, (name, (b, c, h, w, eps)) in enumerate(NORM_CASES.items()):
        g = generator(200 + i)
        x = torch.randn(b, c, h, w, generator=g) * 2                           # [B, C, H, W]
        norm = ChannelRMSNorm(c, eps)
        with torch.no_grad():
            norm.weight.copy_(1 + 0.5 * torch.randn(c, generator=g))
            golden[f"norm.{name}.out"] = norm(x)
        golden[f"norm.{name}.x"], golden[f"norm.{name}.weight"] = x, norm.weight.detach().clone()
        meta["norm"][name] = {"eps": eps}


def decoder_case(golden: dict, meta: dict) -> None:
    g = generator(300)
    decoder = Decoder(DECODER).eval()
    with torch.no_grad():
        for name, param in decoder.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.startswith("norm_out"):
                param.copy_(1 + 0.3 * torch.randn(param.shape, generator=g))
            elif name.endswith(".weight"):                                     # conv [Co, Ci, k, k]
                param.copy_(torch.randn(param.shape, generator=g) / param[0].numel() ** 0.5)
            else:                                                              # conv bias [Co]
                param.copy_(0.2 * torch.randn(param.shape, generator=g))
        z = torch.randn(1, DECODER.latent_channels, 3, 2, generator=g)         # [1, C, h, w]
        golden["decoder.z"], golden["decoder.out"] = z, decoder(z)             # [1, 3, 48, 32]
    for name, tensor in decoder.state_dict().items():
        golden[f"decoder.param.{name}"] = tensor
    meta["decoder"] = DECODER.to_json()


def main() -> None:
    torch.set_num_threads(1)
    golden: dict[str, torch.Tensor] = {}
    meta: dict = {"conv": {}, "norm": {}}
    conv_cases(golden, meta)
    norm_cases(golden, meta)
    x = torch.randn(2, 3, 5, 7, generator=generator(400))                     # [B, C, H, W]
    golden["up.x"], golden["up.out"] = x, F.interpolate(x, scale_factor=2.0, mode="nearest")
    for i, (name, shape) in enumerate(BILINEAR_CASES.items()):
        x = torch.randn(*shape, generator=generator(600 + i)) * 3                # [B, C, H, W]
        golden[f"bilinear.{name}.x"] = x
        golden[f"bilinear.{name}.out"] = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    x = torch.randn(1, 5, 13, 11, generator=generator(500)) * 4
    golden["silu.x"], golden["silu.out"] = x, F.silu(x)
    decoder_case(golden, meta)
    out = repository_path("Tests", "StrobeTensorTests", "Fixtures", "conv",
                          needed_by="strobe_tools.make_conv_fixtures (writes Tests/StrobeTensorTests/Fixtures/conv/)")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "golden.safetensors")
    strobe_weights.save(path, {k: v.detach().float().contiguous() for k, v in golden.items()},
                        {"strobe.conv_fixtures": json.dumps(meta, sort_keys=True)})
    print(f"wrote {path}: {len(golden)} tensors, {os.path.getsize(path)} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    main()
