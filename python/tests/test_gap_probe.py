"""Tests of strobe_training.gap_probe (needs torch)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig  # noqa: E402
from strobe_training.evaluation.generate import LoadedModel  # noqa: E402
from strobe_training.gap_probe import GAPS, embedder_distances, output_changes  # noqa: E402


class _Letters:
    """A stand-in tokenizer: one id per character."""
    def encode(self, text):
        return [3 + ord(c) % 20 for c in text]

    def eos_id(self):
        return 1


def _model() -> StrobeModel:
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=32, d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
                      denoiser=DenoiserConfig(hidden_size=32, depth=1, num_heads=2))
    model = StrobeModel(cfg)
    model.randomize(torch.Generator().manual_seed(0))
    return model.eval()


def test_a_gap_embedder_that_ignores_the_gap_measures_zero():
    model = _model()
    with torch.no_grad():
        model.denoiser.gap_embed.fc2.weight.zero_()
    lm = LoadedModel(model, _Letters(), 2.0, {})
    gaps, t_scale = embedder_distances(model)
    assert gaps == [0.0] * len(GAPS) and t_scale > 0
    assert output_changes(lm, torch.randn(1, 3, 32, 32)) == [0.0] * len(GAPS)


def test_a_random_gap_embedder_changes_the_output_more_for_larger_gaps():
    model = _model()
    gaps, _ = embedder_distances(model)
    changes = output_changes(LoadedModel(model, _Letters(), 2.0, {}), torch.randn(1, 3, 32, 32))
    assert all(a < b for a, b in zip(gaps, gaps[1:]))
    assert min(changes) > 0
