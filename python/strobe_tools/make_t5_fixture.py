"""Makes Tests/StrobeTests/Fixtures/t5/: a randomly initialised small Hugging Face T5EncoderModel,
converted by strobe_tools.convert_t5, and the hidden states that `transformers` itself computes.

    python -m strobe_tools.make_t5_fixture

- t5_random.safetensors: the converted model (a strobe-dit whose text encoder is the HF model;
  tiny random denoiser), with the tokenizer fixture inside.
- golden.safetensors: `hidden.{i}` = T5EncoderModel(input_ids).last_hidden_state[0] for each prompt.
- golden.json: the prompts and their ids (SentencePiece ids + EOS).
"""
import argparse
import json
import os

import sentencepiece as spm
import torch
from transformers import T5Config, T5EncoderModel

from strobe_reference import weights as strobe_weights
from strobe_reference.model import DenoiserConfig
from strobe_reference.paths import repository_path
from strobe_tools.convert_t5 import convert

PROMPTS = [
    "snowy peaks at dusk with a lake",
    "",
    "A red hot-air balloon on the left above desert dunes at night, birds in the centre " * 12,
    "un phare \u00e0 gauche au coucher du soleil \U0001F305",
]


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    fixtures = repository_path("Tests", "StrobeTests", "Fixtures",
                               needed_by="strobe_tools.make_t5_fixture (writes Tests/StrobeTests/Fixtures/t5/)")
    torch.set_num_threads(1)
    out = os.path.join(fixtures, "t5")
    os.makedirs(out, exist_ok=True)
    tok_path = os.path.join(fixtures, "tokenizer", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    torch.manual_seed(2024)
    config = T5Config(vocab_size=sp.get_piece_size(), d_model=48, d_kv=16, d_ff=96, num_layers=3, num_heads=3,
                      feed_forward_proj="gated-gelu", relative_attention_num_buckets=32,
                      relative_attention_max_distance=128, dropout_rate=0.0, initializer_factor=1.0)
    hf = T5EncoderModel(config).eval()
    with open(tok_path, "rb") as f:
        convert(hf, f.read(), os.path.join(out, "t5_random.safetensors"),
                DenoiserConfig(patch_size=8, hidden_size=16, depth=1, num_heads=2, frequency_embedding_size=16))
    golden, ids_list = {}, []
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            ids = sp.encode(prompt) + [sp.eos_id()]
            ids_list.append(ids)
            golden[f"hidden.{i}"] = hf(input_ids=torch.tensor([ids])).last_hidden_state[0]
    strobe_weights.save(os.path.join(out, "golden.safetensors"), golden, {})
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "ids": ids_list}, f, ensure_ascii=False)
        f.write("\n")
    for k, v in golden.items():
        print(k, tuple(v.shape), f"max |{v.abs().max():.3f}|")


if __name__ == "__main__":
    main()
