"""Makes the fuzzers' seed corpora under FuzzTesting/corpus/ (FuzzTesting/corpus/README.md).

    python -m strobe_tools.make_fuzz_seeds

weights/:
- tiny-model.safetensors — a complete, loadable `strobe-dit` as small as the architecture rules
  allow (text width 4, denoiser width 4, one layer each, patch 1), random F16 weights
  (`StrobeModel.randomize`, generator seed 7), with a real (about 28-piece) SentencePiece tokenizer
  trained on a few captions. It opens as an engine, so the fuzzer starts from inputs that reach
  the architecture, tensor and tokenizer checks.
- tiny-v2-model.safetensors — the same for the v2 family (`strobe-mmdit`): text width 4, MMDiT
  width 4 with one joint block and latent patch 1, an autoencoder of one channel per level, one
  latent channel; random F16 weights (seed 8), the same tokenizer; the latent statistics F32.
- strobe-writer.safetensors, torch-safetensors.safetensors — copies of the weights-format
  fixtures (Strobe's metadata with a fake tokenizer; the same tensors written by the
  `safetensors` package), which open as weights files but not as models.

png/:
- text-chunks.png — a 3x2 RGB image written by hand with a tEXt, a zTXt, an uncompressed and a
  compressed iTXt chunk (UTF-8), and a tIME chunk.
- palette-trns.png — a 4x1 palette image with a transparency (tRNS) chunk.
- copies of five PNG fixtures (Tests/StrobeTests/Fixtures/png): 1-bit grey, 16-bit grey,
  interlaced 2-bit palette, 8-bit RGB and interlaced 16-bit RGBA.
"""
import argparse
import io
import os
import shutil
import struct
import zlib

import sentencepiece as spm
import torch

from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig
from strobe_reference.paths import repository_root
from strobe_training.export import export

CAPTIONS = ["a lake at dusk", "a red balloon", "snowy peaks at noon", "a tree on a hill", "birds at sea"]


def tiny_tokenizer() -> bytes:
    """A unigram SentencePiece model, no byte fallback, identity normalisation."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CAPTIONS * 20), model_writer=model, vocab_size=28, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, normalization_rule_name="identity",
        hard_vocab_limit=False, num_threads=1, minloglevel=2)
    return model.getvalue()


def tiny_model(path: str) -> None:
    tokenizer = tiny_tokenizer()
    vocab = spm.SentencePieceProcessor(model_proto=tokenizer).get_piece_size()
    cfg = ModelConfig(
        text=TextEncoderConfig(vocab_size=vocab, d_model=4, num_heads=1, d_kv=4, d_ff=4, num_layers=1,
                               relative_attention_num_buckets=4, relative_attention_max_distance=8),
        denoiser=DenoiserConfig(patch_size=1, hidden_size=4, depth=1, num_heads=1, mlp_ratio=1,
                                frequency_embedding_size=2),
        max_prompt_tokens=16)
    model = StrobeModel(cfg).eval()
    model.randomize(torch.Generator().manual_seed(7))
    export(model.state_dict(), cfg, tokenizer, path, dtype="F16", model_name="tiny",
           description="fuzzing seed (strobe_tools.make_fuzz_seeds)")


def tiny_v2_model(path: str) -> None:
    from strobe_training.v2.autoencoder import Autoencoder, AutoencoderConfig
    from strobe_training.v2.dit import MMDiTConfig, V2Model, V2ModelConfig
    from strobe_training.v2.export import export as export_v2

    tokenizer = tiny_tokenizer()
    vocab = spm.SentencePieceProcessor(model_proto=tokenizer).get_piece_size()
    cfg = V2ModelConfig(
        text=TextEncoderConfig(vocab_size=vocab, d_model=4, num_heads=1, d_kv=4, d_ff=4, num_layers=1,
                               relative_attention_num_buckets=4, relative_attention_max_distance=8),
        denoiser=MMDiTConfig(latent_channels=1, patch_size=1, hidden_size=4, depth=1, num_heads=1, mlp_ratio=1,
                             text_mlp_ratio=1, frequency_embedding_size=2),
        max_prompt_tokens=16)
    ae_cfg = AutoencoderConfig(latent_channels=1, encoder_channels=(1, 1, 1, 1), encoder_blocks=(0, 0, 0, 0),
                               decoder_channels=(1, 1, 1, 1, 1), decoder_blocks=(0, 0, 0, 0, 0))
    g = torch.Generator().manual_seed(8)
    model, ae = V2Model(cfg).eval(), Autoencoder(ae_cfg).eval()
    with torch.no_grad():
        for p in list(model.parameters()) + list(ae.parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    export_v2(model, ae, tokenizer, path, dtype="F16", model_name="tiny-v2",
              description="fuzzing seed (strobe_tools.make_fuzz_seeds)")


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, colour_type: int, rows: list[bytes], extra_before: list[bytes],
        extra_after: list[bytes]) -> bytes:
    """An 8-bit PNG, rows unfiltered (filter byte 0 added here)."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"".join(extra_before)
            + png_chunk(b"IDAT", data) + b"".join(extra_after) + png_chunk(b"IEND", b""))


def text_png() -> bytes:
    rows = [bytes([255, 0, 0, 0, 255, 0, 0, 0, 255]), bytes([0, 0, 0, 128, 128, 128, 255, 255, 255])]
    before = [
        png_chunk(b"tEXt", b"parameters\x00a lake\nSteps: 4, Sampler: flash, Seed: 1, Size: 3x2"),
        png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress("caf\xe9 Latin-1".encode("latin-1"))),
        png_chunk(b"iTXt", b"strobe\x00\x00\x00en\x00strobe\x00" + '{"prompt":"\u65e5\u672c \u2603"}'.encode()),
    ]
    after = [
        png_chunk(b"iTXt", b"Description\x00\x01\x00\x00\x00" + zlib.compress("\u00e9t\u00e9 ".encode() * 8)),
        png_chunk(b"tIME", struct.pack(">HBBBBB", 2025, 1, 2, 3, 4, 5)),
    ]
    return png(3, 2, 2, rows, before, after)


def palette_png() -> bytes:
    plte = png_chunk(b"PLTE", bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]))
    trns = png_chunk(b"tRNS", bytes([0, 128]))
    return png(4, 1, 3, [bytes([0, 1, 2, 3])], [plte, trns], [])


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    root = repository_root("strobe_tools.make_fuzz_seeds (writes FuzzTesting/corpus/ from Tests/StrobeTests/Fixtures/)")
    corpus = os.path.join(root, "FuzzTesting", "corpus")
    fixtures = os.path.join(root, "Tests", "StrobeTests", "Fixtures")
    weights, pngs = os.path.join(corpus, "weights"), os.path.join(corpus, "png")
    os.makedirs(weights, exist_ok=True)
    os.makedirs(pngs, exist_ok=True)
    tiny_model(os.path.join(weights, "tiny-model.safetensors"))
    tiny_v2_model(os.path.join(weights, "tiny-v2-model.safetensors"))
    for name in ("strobe_writer", "torch_safetensors"):
        shutil.copyfile(os.path.join(fixtures, "weights", f"{name}.safetensors"),
                        os.path.join(weights, name.replace("_", "-") + ".safetensors"))
    with open(os.path.join(pngs, "text-chunks.png"), "wb") as f:
        f.write(text_png())
    with open(os.path.join(pngs, "palette-trns.png"), "wb") as f:
        f.write(palette_png())
    for name in ("grey1", "grey16", "palette2_interlaced", "rgb8", "rgba16_interlaced"):
        shutil.copyfile(os.path.join(fixtures, "png", f"{name}.png"),
                        os.path.join(pngs, name.replace("_", "-") + ".png"))


if __name__ == "__main__":
    main()
