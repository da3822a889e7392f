"""Tests of strobe_tools.compare_pytorch's pieces (no timing, no Strobe build); needs torch.

    python -m pytest python/tests/test_compare_pytorch.py
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from strobe_reference import model as strobe_model  # noqa: E402
from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig  # noqa: E402
from strobe_reference.paths import repository_path  # noqa: E402
from strobe_tools import compare_pytorch  # noqa: E402


def test_sdpa_attention_matches_the_reference():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    bias = torch.randn(1, 3, 5, 5, generator=g)
    key_mask = torch.tensor([[True] * 5, [True, True, False, True, False]])
    for kwargs in ({}, {"bias": bias}, {"key_mask": key_mask}, {"bias": bias, "key_mask": key_mask, "scale": 1.0}):
        expected = compare_pytorch.REFERENCE_ATTENTION(q, k, v, **kwargs)
        got = compare_pytorch.sdpa_attention(q, k, v, **kwargs)
        assert torch.allclose(got, expected, atol=1e-5), kwargs


def test_psnr_and_finite():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255
    assert compare_pytorch.psnr(a, a) == float("inf")
    assert abs(compare_pytorch.psnr(a, b) - 10 * np.log10(48)) < 1e-9
    assert compare_pytorch.finite({"x": [float("inf"), 1.5], "y": float("nan")}) == {"x": [None, 1.5], "y": None}


def test_pipelines_give_the_same_image_in_fp32(tmp_path):
    """A small random model: eager, inference_mode and SDPA make the same PNG-ready pixels."""
    import sentencepiece as spm
    tokenizer = repository_path("Tests", "StrobeTests", "Fixtures", "tokenizer", "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=tokenizer)
    cfg = ModelConfig(
        text=TextEncoderConfig(vocab_size=sp.get_piece_size(), d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
        denoiser=DenoiserConfig(patch_size=8, hidden_size=48, depth=1, num_heads=2))
    model = StrobeModel(cfg).eval()
    model.randomize(torch.Generator().manual_seed(3))
    images = {}
    for name in ("eager", "inference_mode", "sdpa"):
        pipe = compare_pytorch.Pipeline(name, model, sp, 2.0, (32, 16))
        png, pixels = pipe.generate("snowy peaks at dusk", 7, "flash", 2)
        assert png.startswith(b"\x89PNG") and pixels.shape == (16, 32, 3)
        assert len(pipe.calls) == 2
        images[name] = pixels
    assert strobe_model.attention is compare_pytorch.REFERENCE_ATTENTION
    assert np.array_equal(images["eager"], images["inference_mode"])
    assert compare_pytorch.psnr(images["eager"], images["sdpa"]) > 60
