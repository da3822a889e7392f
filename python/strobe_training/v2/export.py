"""Exports a v2 model (`strobe-mmdit`: text encoder, latent MMDiT and the autoencoder) to one
Strobe weights file, and reads such a file back (weights-format.md §5.2).

    python -m strobe_training.v2.export --dit TRAINING_DIR/v2-dit/tvm.ckpt \
        --tokenizer TRAINING_DIR/v2-dit/tokenizer.model --autoencoder TRAINING_DIR/v2-ae/ae-final.ckpt \
        --output Models/strobe-scenes-v2.safetensors [--dtype F16] [--guidance 1.5]

    python -m strobe_training.v2.export --random-dit --tokenizer TOKENIZER.model \
        --autoencoder TRAINING_DIR/v2-ae/ae-final.ckpt --output /tmp/v2-timing.safetensors

(TRAINING_DIR: the training state folder, `paths.py`.)

The file holds the DiT checkpoint's EMA weights (or, with `--weights model`, its raw ones) under their V2Model names (`text_encoder.…`,
`denoiser.…`) and the autoencoder's EMA under `autoencoder.` + its state_dict names (its latent
statistics included), with `strobe.architecture` = the V2ModelConfig's JSON plus the key
`autoencoder` (AutoencoderConfig), the sampler defaults and the tokenizer. The latent statistics
stay F32 whatever --dtype says (they scale every latent).

`load` reads a file back into (V2Model, Autoencoder, SentencePiece processor, sampler defaults);
the PyTorch samplers (`strobe_reference.sampling.sample`) run on a V2Model unchanged, on
normalised latents `[B, 16, H/16, W/16]`, and `decode` turns their result into pixels.

`--random-dit` writes the default v2 configuration (train_dit's) with random DiT weights instead
of a checkpoint's: a stand-in of the final file's size and cost, to time the engine (`strobe
bench --model`) before the DiT is trained. Its pictures are noise.
"""
from __future__ import annotations

import argparse
import base64
import json

import torch

from strobe_reference import weights as strobe_weights

from .autoencoder import Autoencoder, AutoencoderConfig
from .dit import V2Model, V2ModelConfig
from .latents import load_encoder

AUTOENCODER_PREFIX = "autoencoder."
FAMILY = "strobe-mmdit"


def architecture(cfg: V2ModelConfig, ae_cfg: AutoencoderConfig) -> dict:
    """`strobe.architecture` of a v2 file: the model's configuration and the autoencoder's."""
    arch = json.loads(cfg.to_json())
    arch["autoencoder"] = ae_cfg.to_json()
    return arch


def tensors(model: V2Model, ae: Autoencoder) -> dict[str, torch.Tensor]:
    """Every tensor of the file, by name (the model's parameters and the autoencoder's state)."""
    out = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    for k, v in ae.state_dict().items():
        out[AUTOENCODER_PREFIX + k] = v.detach().float().contiguous()
    return out


def export(model: V2Model, ae: Autoencoder, tokenizer_model: bytes, path: str, dtype: str = "F16",
           guidance: float = 2.0, flash_steps: int = 4, full_steps: int = 100,
           model_name: str = "strobe-scenes-v2", description: str | None = None) -> None:
    """Writes `model` and `ae` to `path` (atomically)."""
    if model.cfg.denoiser.latent_channels != ae.cfg.latent_channels:
        raise ValueError(f"the denoiser samples {model.cfg.denoiser.latent_channels} latent channels, the "
                         f"autoencoder has {ae.cfg.latent_channels}")
    state = tensors(model, ae)
    dtypes = {k: "F32" for k in state if k.startswith(AUTOENCODER_PREFIX + "latent_")}
    metadata = strobe_weights.strobe_metadata(
        architecture=architecture(model.cfg, ae.cfg),
        sampler_defaults={"flash_steps": flash_steps, "full_steps": full_steps, "guidance": guidance},
        tokenizer_model=tokenizer_model, model_name=model_name, description=description)
    strobe_weights.save(path, state, metadata, dtypes=dtypes, default_dtype=dtype)


def load(path: str):
    """(V2Model, Autoencoder, SentencePieceProcessor, sampler defaults dict) from a v2 file, in fp32."""
    import sentencepiece as spm
    arrays, metadata = strobe_weights.load(path)
    arch = json.loads(metadata["strobe.architecture"])
    if arch.get("family") != FAMILY:
        raise ValueError(f"{path}: family {arch.get('family')!r} is not {FAMILY!r}")
    ae_cfg = AutoencoderConfig.from_json(arch.pop("autoencoder"))
    cfg = V2ModelConfig.from_json(json.dumps(arch))
    model, ae = V2Model(cfg).eval(), Autoencoder(ae_cfg).eval()
    state = {k: torch.from_numpy(v).float() for k, v in arrays.items()}
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith(AUTOENCODER_PREFIX)})
    ae.load_state_dict({k[len(AUTOENCODER_PREFIX):]: v for k, v in state.items() if k.startswith(AUTOENCODER_PREFIX)})
    sp = spm.SentencePieceProcessor(model_proto=base64.b64decode(metadata["strobe.tokenizer"]))
    return model, ae, sp, json.loads(metadata["strobe.sampler_defaults"])


@torch.no_grad()
def decode(ae: Autoencoder, z0: torch.Tensor) -> torch.Tensor:
    """Normalised latents [B, C, h, w] → pixels [B, 3, 16h, 16w] in [0, 1] (the engine's LatentDecoder)."""
    return ae.decode(ae.denormalise(z0)).clamp(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dit", help="a train_dit checkpoint (teacher.ckpt or tvm.ckpt)")
    source.add_argument("--random-dit", action="store_true",
                        help="the default configuration with random weights (a timing stand-in)")
    parser.add_argument("--tokenizer", required=True, help="the run's tokenizer.model")
    parser.add_argument("--autoencoder", required=True, help="the autoencoder checkpoint the latents came from")
    parser.add_argument("--output", required=True)
    parser.add_argument("--dtype", default="F16", choices=sorted(strobe_weights.DTYPE_SIZES))
    parser.add_argument("--guidance", type=float, default=2.0, help="the default guidance w of the file")
    parser.add_argument("--weights", default="ema", choices=["ema", "model"],
                        help="the checkpoint's EMA (default) or its raw weights (early in a run the EMA lags)")
    args = parser.parse_args()
    with open(args.tokenizer, "rb") as f:
        tokenizer_model = f.read()
    ae, ident = load_encoder(args.autoencoder)
    if args.random_dit:
        import sentencepiece as spm
        from .train_dit import model_config, parser as train_parser
        vocab = spm.SentencePieceProcessor(model_proto=tokenizer_model).get_piece_size()
        model = V2Model(model_config(train_parser().parse_args([]), vocab)).eval()
        with torch.no_grad():
            for p in model.parameters():                # every path live, as after training
                p.normal_(0.0, 0.02)
        description = "random DiT weights: a timing stand-in, not a model"
    else:
        ck = torch.load(args.dit, weights_only=False, map_location="cpu")
        model = V2Model(V2ModelConfig.from_json(ck["config"])).eval()
        model.load_state_dict(ck[args.weights])
        description = (f"v2 {ck.get('stage', '?')} step {ck['state']['step']} ({args.weights} weights), "
                       f"autoencoder step {ident['ae_step']}")
    export(model, ae, tokenizer_model, args.output, dtype=args.dtype, guidance=args.guidance, description=description)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
