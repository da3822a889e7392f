"""Makes the engine's parity fixtures for the v2 architecture (`strobe-mmdit`: latent MMDiT with
joint text–image attention, fill conditioning and the latent autoencoder), from the PyTorch
reference (strobe_training/v2/dit.py, autoencoder.py, export.py; strobe_reference/sampling.py).

    PYTHONPATH=python python -m strobe_tools.make_mmdit_fixtures      (from the repository root)

Writes Tests/StrobeTests/Fixtures/mmdit/:
- random.safetensors: a small v2 model file (`strobe_training.v2.export.export`, F32): text
  encoder 2 layers of width 32 over the tokenizer fixture; MMDiT depth 2 (one full joint block
  and the last, keys-and-values-only, text stream), width 48, 2 heads, 4 latent channels, patch 2,
  fill on; the autoencoder of the autoencoder fixture's shape (4 latent channels). Every weight
  random (`randomise`, seed 2202; no zero init, so the modulations, the fill path and the output
  layer all matter).
- golden.safetensors (F32, one torch thread):
  - `text.{i}`: text states [L, Dt] of each prompt;
  - `forward.z` [2, 4, 4, 6] standard normal, `forward.fill` [2, 5, 4, 6] (latent × keep, keep;
    image 0 keeps a random half of its cells, image 1 none), `forward.x_hat` [2, 4, 4, 6]: one call
    on prompts 0 and 2 together (padding masked) at t, gap, β of golden.json;
    `forward.x_hat_nofill` [1, 4, 4, 6]: image 0 with prompt 0 and no fill;
  - `flash4.{seed}`, `full100.{seed}` [4, 4, 6]: the samplers' normalised latents for prompt 0
    from `initial_noise(seed, 4, 4, 6)`; `image.{seed}` [3, 64, 96]: flash4 decoded and clamped.
- golden.json: prompts, ids, seeds, sizes, the call's t / gap / β, guidance.
"""
import json
import os

import sentencepiece as spm
import torch

from strobe_reference import weights as strobe_weights
from strobe_reference.model import TextEncoderConfig
from strobe_reference.paths import repository_path
from strobe_reference.sampling import encode_prompts, initial_noise, sample
from strobe_training.v2.autoencoder import Autoencoder
from strobe_training.v2.dit import MMDiTConfig, V2Model, V2ModelConfig
from strobe_training.v2.export import decode, export
from strobe_tools.make_autoencoder_fixtures import CONFIG as AE_CONFIG
from strobe_tools.make_autoencoder_fixtures import randomise as randomise_autoencoder

PROMPTS = ["a red hot-air balloon on the left above snowy mountains at night", "",
           "Snowy peaks at dusk with a lake, and a lighthouse on the right"]
SEEDS = [0, 42]
WIDTH, HEIGHT = 96, 64                      # latent 6 × 4, 3 × 2 tokens of 2 × 2 latent cells
GUIDANCE = 2.0
SEED = 2202


def randomise(model: V2Model, g: torch.Generator) -> None:
    """Every parameter random: norms 1 + 0.3·N, biases 0.1·N, weights N / √fan-in."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.copy_(1 + 0.3 * torch.randn(param.shape, generator=g))
            elif name.endswith("bias"):
                param.copy_(0.1 * torch.randn(param.shape, generator=g))
            else:
                param.copy_(torch.randn(param.shape, generator=g) / param.shape[-1] ** 0.5)


def main() -> None:
    torch.set_num_threads(1)
    fixtures = repository_path("Tests", "StrobeTests", "Fixtures",
                               needed_by="strobe_tools.make_mmdit_fixtures (writes Tests/StrobeTests/Fixtures/mmdit/)")
    out = os.path.join(fixtures, "mmdit")
    os.makedirs(out, exist_ok=True)
    tok_path = os.path.join(fixtures, "tokenizer", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    c = AE_CONFIG.latent_channels
    cfg = V2ModelConfig(
        text=TextEncoderConfig(vocab_size=sp.get_piece_size(), d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=2),
        denoiser=MMDiTConfig(latent_channels=c, hidden_size=48, depth=2, num_heads=2, mlp_ratio=3, text_mlp_ratio=2))
    g = torch.Generator().manual_seed(SEED)
    model = V2Model(cfg).eval()
    randomise(model, g)
    ae = Autoencoder(AE_CONFIG).eval()
    randomise_autoencoder(ae, g)
    with open(tok_path, "rb") as f:
        export(model, ae, f.read(), os.path.join(out, "random.safetensors"), dtype="F32", guidance=GUIDANCE,
               model_name="random-mmdit-fixture",
               description="random weights for v2 parity tests (strobe_tools.make_mmdit_fixtures)")

    h, w = HEIGHT // 16, WIDTH // 16
    golden: dict[str, torch.Tensor] = {}
    info = {"prompts": PROMPTS, "ids": [], "seeds": SEEDS, "width": WIDTH, "height": HEIGHT, "guidance": GUIDANCE}
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            text, _ = encode_prompts(model, sp, [prompt])
            golden[f"text.{i}"] = text[0]
            info["ids"].append(sp.encode(prompt) + [sp.eos_id()])

        call = {"t": 0.75, "gap": 0.25, "beta": 0.5}
        z = torch.randn(2, c, h, w, generator=g)                                       # [2, C, h, w]
        keep = torch.zeros(2, 1, h, w)
        keep[0] = (torch.rand(1, h, w, generator=g) < 0.5).float()
        known = torch.randn(2, c, h, w, generator=g)
        fill = torch.cat([known * keep, keep], dim=1)                                  # [2, C + 1, h, w]
        text, mask = encode_prompts(model, sp, [PROMPTS[0], PROMPTS[2]])               # padded, masked
        times = [torch.full((2,), call[k]) for k in ("t", "gap", "beta")]
        golden["forward.z"], golden["forward.fill"] = z, fill
        golden["forward.x_hat"] = model.denoiser(z, *times, text, mask, fill)
        text0, mask0 = encode_prompts(model, sp, [PROMPTS[0]])
        golden["forward.x_hat_nofill"] = model.denoiser(z[:1], *(t[:1] for t in times), text0, mask0)
        info["forward"] = call

        for seed in SEEDS:
            noise = initial_noise(seed, c, h, w)[None]                                 # [1, C, h, w]
            z0 = sample(model, text0, mask0, noise, 4, GUIDANCE, "flash")
            golden[f"flash4.{seed}"] = z0[0]
            golden[f"full100.{seed}"] = sample(model, text0, mask0, noise, 100, GUIDANCE, "full")[0]
            golden[f"image.{seed}"] = decode(ae, z0)[0]

    strobe_weights.save(os.path.join(out, "golden.safetensors"), {k: v.contiguous() for k, v in golden.items()}, {})
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(info, f, indent=1, ensure_ascii=False)
        f.write("\n")
    for key in ("forward.x_hat", "flash4.0", "image.0"):
        v = golden[key]
        print(f"{key}: mean {v.mean():.4f} std {v.std():.4f} max |{v.abs().max():.4f}|")


if __name__ == "__main__":
    main()
