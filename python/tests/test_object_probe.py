"""Tests of strobe_training.object_probe (needs torch)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig  # noqa: E402
from strobe_training.evaluation.generate import LoadedModel  # noqa: E402
from strobe_training.object_probe import (PROBES, cross_attention_report, model_thirds, render_thirds,  # noqa: E402
                                          third_of_columns)


def test_renders_change_only_the_objects_third():
    for (obj, _), third in zip(PROBES, (0, 2, 0, 1)):
        figures = render_thirds(obj, 3)
        assert figures[third] > 0.01
        assert all(v < 0.2 * figures[third] for i, v in enumerate(figures) if i != third), (obj, figures)


class _Letters:
    """A stand-in tokenizer: one id per character."""
    def encode(self, text):
        return [3 + ord(c) % 20 for c in text]

    def eos_id(self):
        return 1


def _tiny_model(depth: int) -> LoadedModel:
    """A small random model with the stand-in tokenizer."""
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=32, d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
                      denoiser=DenoiserConfig(hidden_size=32, depth=depth, num_heads=2))
    model = StrobeModel(cfg)
    model.randomize(torch.Generator().manual_seed(0))
    return LoadedModel(model.eval(), _Letters(), 2.0, {})


def test_model_figures_are_zero_for_the_same_prompt_and_not_for_another():
    lm = _tiny_model(depth=1)
    noises = torch.randn(2, 3, 256, 256, generator=torch.Generator().manual_seed(1))
    assert model_thirds(lm, "rolling hills at noon", noises) == [0.0, 0.0, 0.0]
    assert min(model_thirds(lm, PROBES[0][1], noises)) > 0


def test_third_of_columns_splits_the_width_in_order():
    assert third_of_columns(16).tolist() == [0] * 6 + [1] * 5 + [2] * 5
    assert third_of_columns(3).tolist() == [0, 1, 2]


def test_cross_attention_report_has_a_row_per_block_and_no_change_for_the_same_prompt():
    lm = _tiny_model(depth=2)
    noises = torch.randn(4, 3, 256, 256, generator=torch.Generator().manual_seed(1))
    same = cross_attention_report(lm, noises, (PROBES[0][1], PROBES[0][1]))
    other = cross_attention_report(lm, noises, (PROBES[0][1], PROBES[1][1]))
    assert len(same) == len(other) == 2
    for row_same, row_other in zip(same, other):
        assert row_same["change_by_third"] == [0.0, 0.0, 0.0]
        assert min(row_other["change_by_third"]) > 0
        assert row_same["use"] > 0
        # The queries carry the sincos positions, so even a random model's read-out beats chance.
        assert 1 / 3 < row_same["third_readout"] <= 1
