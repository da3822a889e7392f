"""Exports a trained `strobe-dit` checkpoint to a Strobe weights file (weights-format.md).

    python -m strobe_training.export --checkpoint RUN_DIR/sky.ckpt --tokenizer RUN_DIR/tokenizer.model \
        [--output Models/strobe-scenes.safetensors] [--dtype F16]

The shipped file comes from the last stage, sky (strobe_training.train); teacher.ckpt, tvm.ckpt or
layout.ckpt (whose "EMA" is its trained weights) export the same way. The EMA weights are written
(F16 by default; F32 or BF16 on request) with the architecture, the
sampler defaults (flash 4 steps, full 100 steps, the guidance w the model was trained with) and
the tokenizer inside. `Models/strobe-scenes.safetensors` is where the CLI looks by default.
"""
from __future__ import annotations

import argparse
import os

from strobe_reference import weights as strobe_weights
from strobe_reference.model import ModelConfig, StrobeModel
from strobe_reference.paths import find_repository_root


def export(state_dict: dict, cfg: ModelConfig, tokenizer_model: bytes, path: str, dtype: str = "F16",
           guidance: float = 2.0, flash_steps: int = 4, full_steps: int = 100,
           model_name: str = "strobe-scenes", description: str | None = None) -> None:
    """Writes `state_dict` (names as StrobeModel's) after checking them against the architecture."""
    expected = StrobeModel(cfg).tensor_shapes()
    got = {k: list(v.shape) for k, v in state_dict.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
        raise ValueError(f"state dict does not match the architecture: missing {missing}, unexpected {extra}, "
                         f"wrong shapes {wrong}")
    metadata = strobe_weights.strobe_metadata(
        architecture=__import__("json").loads(cfg.to_json()),
        sampler_defaults={"flash_steps": flash_steps, "full_steps": full_steps, "guidance": guidance},
        tokenizer_model=tokenizer_model, model_name=model_name, description=description)
    strobe_weights.save(path, state_dict, metadata, default_dtype=dtype)


def default_output() -> str | None:
    """Models/strobe-scenes.safetensors of the checkout, where the CLI looks by default (None
    outside a checkout: then --output is needed)."""
    root = find_repository_root()
    return os.path.join(root, "Models", "strobe-scenes.safetensors") if root else None


def main() -> None:
    import torch
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--output", default=default_output())
    parser.add_argument("--dtype", default="F16", choices=sorted(strobe_weights.DTYPE_SIZES))
    parser.add_argument("--weights", default="ema", choices=["ema", "model"])
    args = parser.parse_args()
    if args.output is None:
        parser.error("--output is needed outside a Strobe checkout (the default is the checkout's "
                     "Models/strobe-scenes.safetensors)")
    ck = torch.load(args.checkpoint, weights_only=False)
    cfg = ModelConfig.from_json(ck["config"])
    with open(args.tokenizer, "rb") as f:
        tokenizer = f.read()
    state = ck["state"]
    description = (f"trained by strobe_training.train: {state['step']} steps, {state['samples']} samples, "
                   f"{state['seconds'] / 3600:.2f} h in this stage")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    export(ck[args.weights], cfg, tokenizer, args.output, args.dtype, description=description)
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
