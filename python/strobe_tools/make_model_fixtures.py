"""Makes the engine's parity fixtures: for a small random `strobe-dit` model, and (with
`--weights`) for a trained model such as the shipped default.

    python -m strobe_tools.make_model_fixtures
    python -m strobe_tools.make_model_fixtures --weights Models/strobe-scenes.safetensors \
        --out Tests/StrobeTests/Fixtures/default-model --width 256 --height 256 --full-width 128 --full-height 128

Without `--weights`, writes Tests/StrobeTests/Fixtures/model/:
- random.safetensors — a small strobe-dit with every weight random (no zero init, so every path
  matters), F32, with the tokenizer fixture's SentencePiece model inside; made with
  `StrobeModel.randomize(torch.Generator().manual_seed(1234))`.
- golden.safetensors — reference outputs of strobe_reference.model and strobe_reference.sampling in fp32:
  `text.{i}` text encoder hidden states [L, Dt] for each prompt; `forward.x` / `forward.x_hat` /
  `forward.velocity` for one denoiser call; `noise.{seed}` the initial noise [C, H, W];
  `flash4.{seed}` and `full100.{seed}` the sampled x₀ [C, H, W] for prompt 0.
- golden.json — prompts, their ids, seeds, image size, the forward call's t / gap / β, guidance.
With `--weights`, the model is read from that file (F16/BF16 converted to fp32 exactly, as the
engine does) and only golden.safetensors and golden.json are written to `--out`, without the
tensors a test can remake itself (the denoiser input `forward.x` is
`torch.manual_seed(5); torch.randn(1, 3, H, W)`, which Strobe's generator reproduces, and the
noise); the full sampler may run at a smaller size (`--full-width/--full-height`).
"""
import argparse
import base64
import json
import os

import sentencepiece as spm
import torch

from strobe_reference import weights as strobe_weights
from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig
from strobe_reference.paths import repository_path
from strobe_reference.sampling import encode_prompts, initial_noise, sample
from strobe_training.export import export

PROMPTS = [
    "a red hot-air balloon on the left above snowy mountains at night",
    "",
    "Snowy peaks at dusk with a lake, and a lighthouse on the right \u2603 \u65e5\u672c",
]
SEEDS = [0, 42]
WIDTH, HEIGHT = 48, 32
GUIDANCE = 2.0


def fixtures_dir() -> str:
    """Tests/StrobeTests/Fixtures of the checkout."""
    return repository_path("Tests", "StrobeTests", "Fixtures",
                           needed_by="strobe_tools.make_model_fixtures (reads and writes Tests/StrobeTests/Fixtures/)")


def random_model() -> tuple[StrobeModel, "spm.SentencePieceProcessor", float]:
    """The small random model, also written to Tests/StrobeTests/Fixtures/model/random.safetensors."""
    out = os.path.join(fixtures_dir(), "model")
    os.makedirs(out, exist_ok=True)
    tok_path = os.path.join(fixtures_dir(), "tokenizer", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    cfg = ModelConfig(
        text=TextEncoderConfig(vocab_size=sp.get_piece_size(), d_model=32, num_heads=2, d_kv=16, d_ff=64,
                               num_layers=2),
        denoiser=DenoiserConfig(patch_size=8, hidden_size=48, depth=2, num_heads=2))
    model = StrobeModel(cfg).eval()
    model.randomize(torch.Generator().manual_seed(1234))
    with open(tok_path, "rb") as f:
        export(model.state_dict(), cfg, f.read(), os.path.join(out, "random.safetensors"), dtype="F32",
               guidance=GUIDANCE, model_name="random-fixture",
               description="random weights for parity tests (strobe_tools.make_model_fixtures)")
    return model, sp, GUIDANCE


def trained_model(path: str) -> tuple[StrobeModel, "spm.SentencePieceProcessor", float]:
    """A model read from a Strobe weights file."""
    tensors, metadata = strobe_weights.load(path)
    cfg = ModelConfig.from_json(metadata["strobe.architecture"])
    model = StrobeModel(cfg).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    sp = spm.SentencePieceProcessor(model_proto=base64.b64decode(metadata["strobe.tokenizer"]))
    return model, sp, float(json.loads(metadata["strobe.sampler_defaults"])["guidance"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", help="a Strobe weights file (default: make the small random model)")
    parser.add_argument("--out", default=os.path.join(fixtures_dir(), "model"))
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--height", type=int, default=HEIGHT)
    parser.add_argument("--full-width", type=int)
    parser.add_argument("--full-height", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, sp, guidance = trained_model(args.weights) if args.weights else random_model()
    os.makedirs(args.out, exist_ok=True)
    width, height = args.width, args.height
    full_width, full_height = args.full_width or width, args.full_height or height
    golden, info = {}, {"prompts": PROMPTS, "ids": [], "seeds": SEEDS, "width": width, "height": height,
                        "full_width": full_width, "full_height": full_height, "guidance": guidance}
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            text, mask = encode_prompts(model, sp, [prompt])
            golden[f"text.{i}"] = text[0]
            info["ids"].append(sp.encode(prompt) + [sp.eos_id()])

        text, mask = encode_prompts(model, sp, [PROMPTS[0]])
        torch.manual_seed(5)
        x = torch.randn(1, 3, height, width)
        call = {"t": 0.75, "gap": 0.25, "beta": 0.5}
        times = [torch.tensor([call[k]]) for k in ("t", "gap", "beta")]
        golden["forward.x"] = x[0]
        golden["forward.x_hat"] = model.denoiser(x, *times, text, mask)[0]
        golden["forward.velocity"] = model.denoiser.velocity(x, *times, text, mask)[0]
        info["forward"] = call

        for seed in SEEDS:
            noise = initial_noise(seed, 3, height, width)
            golden[f"noise.{seed}"] = noise
            golden[f"flash4.{seed}"] = sample(model, text, mask, noise[None], 4, guidance, "flash")[0]
            full_noise = initial_noise(seed, 3, full_height, full_width)
            if (full_width, full_height) != (width, height):
                golden[f"full_noise.{seed}"] = full_noise
            golden[f"full100.{seed}"] = sample(model, text, mask, full_noise[None], 100, guidance, "full")[0]

    if args.weights:  # keep the fixture small: drop what the test remakes (see the docstring)
        golden = {k: v for k, v in golden.items()
                  if k not in ("forward.x", "forward.x_hat") and "noise." not in k}
    strobe_weights.save(os.path.join(args.out, "golden.safetensors"), {k: v.contiguous() for k, v in golden.items()}, {})
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(info, f, indent=1, ensure_ascii=False)
        f.write("\n")
    for key in ("forward.velocity", "flash4.0", "full100.0"):
        v = golden[key]
        print(f"{key}: mean {v.mean():.4f} std {v.std():.4f} max |{v.abs().max():.4f}|")


if __name__ == "__main__":
    main()
