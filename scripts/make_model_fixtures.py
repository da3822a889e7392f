"""Makes the engine's parity fixtures for a small random `strobe-dit` model.

    .venv/bin/python scripts/make_model_fixtures.py

Writes Tests/StrobeTests/Fixtures/model/:
- random.safetensors — a small strobe-dit with every weight random (no zero init, so every path
  matters), F32, with the tokenizer fixture's SentencePiece model inside; made with
  `StrobeModel.randomize(torch.Generator().manual_seed(1234))`.
- golden.safetensors — reference outputs of scripts/strobe_model.py and strobe_sampling.py in fp32:
  `text.{i}` text encoder hidden states [L, Dt] for each prompt; `forward.x` / `forward.x_hat` /
  `forward.velocity` for one denoiser call; `noise.{seed}` the initial noise [C, H, W];
  `flash4.{seed}` and `full100.{seed}` the sampled x₀ [C, H, W] for prompt 0.
- golden.json — prompts, their ids, seeds, image size, the forward call's t / gap / β, guidance.
"""
import json
import os
import sys

import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strobe_weights  # noqa: E402
from export import export  # noqa: E402
from strobe_model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig  # noqa: E402
from strobe_sampling import encode_prompts, initial_noise, sample  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "Tests", "StrobeTests", "Fixtures")
OUT = os.path.join(FIXTURES, "model")
PROMPTS = [
    "a red hot-air balloon on the left above snowy mountains at night",
    "",
    "Snowy peaks at dusk with a lake, and a lighthouse on the right \u2603 \u65e5\u672c",
]
SEEDS = [0, 42]
WIDTH, HEIGHT = 48, 32
GUIDANCE = 2.0


def main() -> None:
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tok_path = os.path.join(FIXTURES, "tokenizer", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    cfg = ModelConfig(
        text=TextEncoderConfig(vocab_size=sp.get_piece_size(), d_model=32, num_heads=2, d_kv=16, d_ff=64,
                               num_layers=2),
        denoiser=DenoiserConfig(patch_size=8, hidden_size=48, depth=2, num_heads=2))
    model = StrobeModel(cfg).eval()
    model.randomize(torch.Generator().manual_seed(1234))
    with open(tok_path, "rb") as f:
        export(model.state_dict(), cfg, f.read(), os.path.join(OUT, "random.safetensors"), dtype="F32",
               guidance=GUIDANCE, model_name="random-fixture",
               description="random weights for parity tests (scripts/make_model_fixtures.py)")

    golden, info = {}, {"prompts": PROMPTS, "ids": [], "seeds": SEEDS, "width": WIDTH, "height": HEIGHT,
                        "guidance": GUIDANCE}
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            text, mask = encode_prompts(model, sp, [prompt])
            golden[f"text.{i}"] = text[0]
            info["ids"].append(sp.encode(prompt) + [sp.eos_id()])

        text, mask = encode_prompts(model, sp, [PROMPTS[0]])
        x = torch.randn(1, 3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(5))
        call = {"t": 0.75, "gap": 0.25, "beta": 0.5}
        args = [torch.tensor([call[k]]) for k in ("t", "gap", "beta")]
        golden["forward.x"] = x[0]
        golden["forward.x_hat"] = model.denoiser(x, *args, text, mask)[0]
        golden["forward.velocity"] = model.denoiser.velocity(x, *args, text, mask)[0]
        info["forward"] = call

        for seed in SEEDS:
            noise = initial_noise(seed, 3, HEIGHT, WIDTH)
            golden[f"noise.{seed}"] = noise
            golden[f"flash4.{seed}"] = sample(model, text, mask, noise[None], 4, GUIDANCE, "flash")[0]
            golden[f"full100.{seed}"] = sample(model, text, mask, noise[None], 100, GUIDANCE, "full")[0]

    strobe_weights.save(os.path.join(OUT, "golden.safetensors"), {k: v.contiguous() for k, v in golden.items()}, {})
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(info, f, indent=1, ensure_ascii=False)
        f.write("\n")
    for key in ("forward.x_hat", "flash4.0", "full100.0"):
        v = golden[key]
        print(f"{key}: mean {v.mean():.4f} std {v.std():.4f} max |{v.abs().max():.4f}|")


if __name__ == "__main__":
    main()
