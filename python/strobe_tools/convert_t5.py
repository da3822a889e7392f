"""Converts a Hugging Face `T5EncoderModel` (T5 v1.1: gated-GELU, no biases) into the text encoder
of a Strobe `strobe-dit` weights file.

    python -m strobe_tools.convert_t5 --hf-model DIR --tokenizer spiece.model --output OUT.safetensors

DIR is a directory saved by `T5EncoderModel.save_pretrained`. The denoiser of the output file is
freshly initialised (small random weights): the file is for checking the text encoder, or for
training a denoiser on top of a pretrained encoder. The name mapping lives in `t5_to_strobe`.
"""
from __future__ import annotations

import argparse

import torch

from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig
from strobe_training.export import export


def text_config(hf_config) -> TextEncoderConfig:
    """The Strobe text-encoder config of a HF `T5Config`; refuses what Strobe does not compute."""
    if hf_config.feed_forward_proj != "gated-gelu":
        raise ValueError(f"only gated-gelu T5 (v1.1) is supported, got {hf_config.feed_forward_proj!r}")
    return TextEncoderConfig(
        vocab_size=hf_config.vocab_size, d_model=hf_config.d_model, num_heads=hf_config.num_heads,
        d_kv=hf_config.d_kv, d_ff=hf_config.d_ff, num_layers=hf_config.num_layers,
        relative_attention_num_buckets=hf_config.relative_attention_num_buckets,
        relative_attention_max_distance=hf_config.relative_attention_max_distance,
        layer_norm_epsilon=hf_config.layer_norm_epsilon)


def t5_to_strobe(hf_state: dict, num_layers: int) -> dict:
    """HF T5EncoderModel tensor names → Strobe's `text_encoder.*` names."""
    out = {
        "text_encoder.embed.weight": hf_state["shared.weight"],
        "text_encoder.relative_bias.weight":
            hf_state["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
        "text_encoder.final_norm.weight": hf_state["encoder.final_layer_norm.weight"],
    }
    for i in range(num_layers):
        hf, st = f"encoder.block.{i}.layer.", f"text_encoder.blocks.{i}."
        for n in "qkvo":
            out[st + f"attn.{n}.weight"] = hf_state[hf + f"0.SelfAttention.{n}.weight"]
        out[st + "attn_norm.weight"] = hf_state[hf + "0.layer_norm.weight"]
        out[st + "ff_norm.weight"] = hf_state[hf + "1.layer_norm.weight"]
        for n in ("wi_0", "wi_1", "wo"):
            out[st + f"{n}.weight"] = hf_state[hf + f"1.DenseReluDense.{n}.weight"]
    return out


def convert(hf_model, tokenizer_model: bytes, output: str, denoiser: DenoiserConfig, seed: int = 0,
            dtype: str = "F32", model_name: str = "converted-t5") -> StrobeModel:
    cfg = ModelConfig(text=text_config(hf_model.config), denoiser=denoiser)
    model = StrobeModel(cfg)
    model.reset_parameters(torch.Generator().manual_seed(seed))
    state = model.state_dict()
    state.update(t5_to_strobe(hf_model.state_dict(), cfg.text.num_layers))
    model.load_state_dict(state)
    export(state, cfg, tokenizer_model, output, dtype=dtype, model_name=model_name,
           description="text encoder converted from a Hugging Face T5EncoderModel (strobe_tools.convert_t5)")
    return model


def main() -> None:
    from transformers import T5EncoderModel
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf-model", required=True)
    parser.add_argument("--tokenizer", required=True, help="the SentencePiece .model file of the T5 model")
    parser.add_argument("--output", required=True)
    parser.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    args = parser.parse_args()
    hf = T5EncoderModel.from_pretrained(args.hf_model).eval()
    with open(args.tokenizer, "rb") as f:
        convert(hf, f.read(), args.output, DenoiserConfig(), dtype=args.dtype)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
