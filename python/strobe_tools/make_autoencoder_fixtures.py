"""Makes the golden fixture of the Swift engine's v2 latent autoencoder (Swift: LatentAutoencoder,
AutoencoderEncoder, AutoencoderDecoder, LatentDecoder) from the reference `Autoencoder`
(strobe_training/v2/autoencoder.py), small and random, with a fixed seed.

    python -m strobe_tools.make_autoencoder_fixtures      (packages installed with `pip install -e python`)
    PYTHONPATH=python python3 -m strobe_tools.make_autoencoder_fixtures   (from the repository root)

Writes Tests/StrobeTests/Fixtures/autoencoder/:
- weights.safetensors: the state_dict of a small `Autoencoder` (CONFIG: latent 4 channels,
  encoder 8, 12, 16, 20 with 0, 1, 1, 2 blocks, decoder 20, 16, 12, 8, 6 with 2, 1, 1, 0, 1
  blocks, bilinear upsampling), every tensor named `autoencoder.` + its state_dict name, the way
  the engine reads an autoencoder inside a model file. Every parameter is random (no zero init:
  the second conv of each residual block would otherwise hide the block), conv weights scaled
  by 1/√fan-in; `latent_mean` and `latent_std` random too (std in [0.5, 1.5]). Conv weights
  are rounded to float16 and stored as F16 (the outputs below are computed with the rounded
  values), the norms, biases and statistics as F32, so both storage types are read.
  `__metadata__` key `autoencoder_config` holds the AutoencoderConfig as JSON (to_json()).
- golden.safetensors (F32), computed in fp32 on one torch thread:
  - `encode.image` [1, 3, 48, 80] uniform in [0, 1]; `encode.raw` = model.encode(image) [1, 4, 3, 5];
    `encode.latent` = model.normalise(encode.raw);
  - `decode.latent` [1, 4, 3, 5] standard normal (a normalised latent, as the DiT samples);
    `decode.image` = model.decode(model.denormalise(decode.latent)) [1, 3, 48, 80], unclamped.
- README.md is written by hand (how the files were made, with versions); update it when remaking.
"""
import json
import os

import torch

from strobe_reference import weights as strobe_weights
from strobe_reference.paths import repository_path
from strobe_training.v2.autoencoder import Autoencoder, AutoencoderConfig

CONFIG = AutoencoderConfig(latent_channels=4, encoder_channels=(8, 12, 16, 20), encoder_blocks=(0, 1, 1, 2),
                           decoder_channels=(20, 16, 12, 8, 6), decoder_blocks=(2, 1, 1, 0, 1), upsample="bilinear")
PREFIX = "autoencoder."
SEED = 2201
HEIGHT, WIDTH = 48, 80


def randomise(model: Autoencoder, g: torch.Generator) -> None:
    """Every parameter and statistic random; conv weights rounded to float16 values."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:                                                  # channel RMS norm [c]
                param.copy_(1 + 0.3 * torch.randn(param.shape, generator=g))
            elif name.endswith(".weight"):                                      # conv [Co, Ci, k, k]
                w = torch.randn(param.shape, generator=g) / param[0].numel() ** 0.5
                param.copy_(w.half().float())
            else:                                                               # conv bias [Co]
                param.copy_(0.2 * torch.randn(param.shape, generator=g))
        c = CONFIG.latent_channels
        model.latent_mean.copy_(0.5 * torch.randn(c, generator=g))
        model.latent_std.copy_(0.5 + torch.rand(c, generator=g))


def main() -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    model = Autoencoder(CONFIG).eval()
    randomise(model, g)
    golden: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        image = torch.rand(1, 3, HEIGHT, WIDTH, generator=g)                    # [1, 3, H, W]
        raw = model.encode(image)                                               # [1, C, H/16, W/16]
        golden["encode.image"], golden["encode.raw"], golden["encode.latent"] = image, raw, model.normalise(raw)
        z = torch.randn(1, CONFIG.latent_channels, HEIGHT // 16, WIDTH // 16, generator=g)
        golden["decode.latent"] = z
        golden["decode.image"] = model.decode(model.denormalise(z))            # [1, 3, H, W]

    out = repository_path("Tests", "StrobeTests", "Fixtures", "autoencoder",
                          needed_by="strobe_tools.make_autoencoder_fixtures (writes Tests/StrobeTests/Fixtures/autoencoder/)")
    os.makedirs(out, exist_ok=True)
    state = {PREFIX + k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    dtypes = {k: "F16" for k, v in state.items() if v.dim() == 4}
    for name in dtypes:                                                         # F16 storage is exact
        assert torch.equal(state[name].half().float(), state[name]), name
    weights_path = os.path.join(out, "weights.safetensors")
    strobe_weights.save(weights_path, state, {"autoencoder_config": json.dumps(CONFIG.to_json(), sort_keys=True)}, dtypes)
    golden_path = os.path.join(out, "golden.safetensors")
    strobe_weights.save(golden_path, {k: v.float().contiguous() for k, v in golden.items()}, {})

    loaded, _ = strobe_weights.load(weights_path)                               # round trip
    assert all(torch.equal(torch.from_numpy(loaded[k].astype("float32")), v) for k, v in state.items())
    for path in (weights_path, golden_path):
        print(f"wrote {path}: {os.path.getsize(path)} bytes")
    print(f"torch {torch.__version__}; {len(state)} weight tensors, "
          f"{sum(v.numel() for v in state.values())} values; decode.image in "
          f"[{golden['decode.image'].min():.3f}, {golden['decode.image'].max():.3f}]")


if __name__ == "__main__":
    main()
