"""Tests of the training recipe's time sampling and initialisation; needs torch.

    python -m pytest python/tests/test_training.py
"""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig  # noqa: E402
from strobe_training.scenes import KINDS, parse_caption  # noqa: E402
from strobe_training.train import (Batches, make_layout_optimizer, make_optimizer, near_noise,  # noqa: E402
                                   pixel_weights, sample_gap_times, single_object_share, stage_order,
                                   teacher_loss, teacher_times, tvm_loss, weighted_mean)

N = 40_000


def test_teacher_times_put_a_quarter_at_the_noise_end():
    torch.manual_seed(0)
    t = teacher_times(N, 0.8, 0.8)
    assert ((t > 0) & (t <= 1)).all()
    exact = (t == 1).float().mean().item()
    assert 0.09 < exact < 0.11
    # The logit-normal part alone puts under 3 % above 0.9; with the share, about 27 %.
    assert 0.24 < (t >= 0.9).float().mean().item() < 0.31


def test_near_noise_times_lie_in_the_last_tenth():
    torch.manual_seed(1)
    chosen, t = near_noise(N)
    assert 0.23 < chosen.float().mean().item() < 0.27
    assert ((t >= 0.9) & (t <= 1)).all()


def test_near_noise_share_at_one_is_a_parameter():
    torch.manual_seed(3)
    chosen, t = near_noise(N, at_one=0.4)
    assert 0.38 < (t == 1).float().mean().item() < 0.42
    assert 0.53 < chosen.float().mean().item() < 0.57
    assert 0.38 < (teacher_times(N, 0.8, 0.8, at_one=0.4) == 1).float().mean().item() < 0.42


def test_optimizer_gives_the_gap_embedder_its_own_learning_rate():
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=64), denoiser=DenoiserConfig(depth=1))
    model = StrobeModel(cfg)
    opt = make_optimizer(model, 1e-4, 10.0)
    rest, gap = opt.param_groups
    assert gap["lr"] == pytest.approx(1e-3) and rest["lr"] == pytest.approx(1e-4)
    gap_ids = {id(p) for p in model.denoiser.gap_embed.parameters()}
    assert {id(p) for p in gap["params"]} == gap_ids
    assert len(rest["params"]) + len(gap["params"]) == len(list(model.parameters()))
    assert not gap_ids & {id(p) for p in rest["params"]}
    assert len(make_optimizer(model, 3e-4, 1.0).param_groups) == 1   # the teacher's: old checkpoints load


def test_layout_optimizer_trains_the_cross_attention_alone():
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=64), denoiser=DenoiserConfig(depth=2))
    model = StrobeModel(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = make_layout_optimizer(model, 1e-3)
    cross = {id(p) for b in model.denoiser.blocks for p in b.cross.parameters()}
    assert {id(p) for p in opt.param_groups[0]["params"]} == cross
    assert {id(p) for p in model.parameters() if p.requires_grad} == cross
    for p in model.parameters():
        p.grad = torch.ones_like(p) if p.requires_grad else None
    opt.step()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(".cross." in k for k in changed), changed


def test_batches_can_hold_single_object_scenes_only():
    def objects_named(text):
        parsed = parse_caption(text)
        return sum(parsed[kind] is True for kind in KINDS)

    single = Batches(3, seed=0, objects=1)
    for _ in range(3):
        _, masks, _, texts = single.next()
        assert [objects_named(t) for t in texts] == [1, 1, 1], texts
        assert masks.flatten(1).any(1).all(), texts      # and every image has object pixels
    counts = [objects_named(t) for _ in range(4) for t in Batches(8, seed=1).next()[3]]
    assert len(set(counts)) > 1, counts                  # unfiltered batches mix 0, 1 and 2 objects


def test_layout_stage_starts_on_single_object_scenes_then_mixes():
    assert single_object_share("layout", 0.0, 0.2, 0.5) == 1.0
    assert single_object_share("layout", 0.2 * 3600 - 1, 0.2, 0.5) == 1.0
    assert single_object_share("layout", 0.2 * 3600, 0.2, 0.5) == 0.5
    assert single_object_share("teacher", 0.0, 0.2, 0.5) == 0.0
    assert single_object_share("tvm", 10.0, 0.2, 0.5) == 0.0


def test_stage_order_puts_layout_after_tvm_unless_asked_before_it_and_sky_last():
    assert stage_order(False) == ["teacher", "tvm", "layout", "sky"]
    assert stage_order(True) == ["teacher", "layout", "tvm", "sky"]


def test_gap_times_are_ordered_and_include_first_flash_jumps():
    torch.manual_seed(2)
    t, s, s2 = sample_gap_times(N)
    assert (s <= t).all() and (s >= 0).all() and (t <= 1).all()
    assert ((s2 > 0) & (s2 <= 1)).all()
    at_one = t == 1
    assert 0.24 < at_one.float().mean().item() < 0.30
    gaps = set(torch.round((t - s)[at_one] * 1000).int().tolist())
    assert {1000, 500, 250, 125} <= gaps
    assert 0.09 < (s2 == 1).float().mean().item() < 0.11


def test_text_encoder_init_keeps_captions_apart():
    """T5's initialisation: unit-variance embeddings, and different token sequences pool to
    different directions (a collapsed encoder gives cosines of 0.98 and more)."""
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=64), denoiser=DenoiserConfig(depth=1))
    model = StrobeModel(cfg)
    model.reset_parameters(torch.Generator().manual_seed(0))
    ids = torch.tensor([[5, 6, 7, 1], [8, 9, 10, 1], [11, 12, 13, 1], [20, 30, 40, 1]])
    mask = torch.ones_like(ids, dtype=torch.bool)
    with torch.no_grad():
        pooled = torch.nn.functional.normalize(model.encode_text(ids, mask).mean(1), dim=-1)
    cosine = pooled @ pooled.T
    off_diagonal = cosine[~torch.eye(4, dtype=torch.bool)]
    assert off_diagonal.max().item() < 0.9
    assert model.text_encoder.embed.weight.std().item() > 0.9


def test_object_pixels_weigh_more():
    objects = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    objects[0, 0, 1, 2] = True
    weights = pixel_weights(objects, 9.0)
    assert weights[0, 0, 1, 2].item() == 10.0 and weights.sum().item() == 32 + 9
    err = torch.rand(2, 3, 4, 4)
    assert torch.allclose(weighted_mean(err, pixel_weights(objects, 0.0)), err.mean((1, 2, 3)))
    # Error only on the object pixel: its share of the first sample's loss is 10 / 25.
    only = torch.zeros(2, 3, 4, 4)
    only[0, :, 1, 2] = 1.0
    assert torch.allclose(weighted_mean(only, weights), torch.tensor([10 / 25, 0.0]))


def test_sky_body_pixels_weigh_more_where_no_object_is():
    objects = torch.zeros(1, 1, 2, 2, dtype=torch.bool)
    bodies = torch.zeros(1, 1, 2, 2, dtype=torch.bool)
    objects[0, 0, 0, 0] = True
    bodies[0, 0, 0, :] = True                      # one pixel shared with the object, one alone
    weights = pixel_weights(objects, 9.0, bodies, 4.0)
    assert weights.flatten().tolist() == [10.0, 5.0, 1.0, 1.0]
    assert torch.equal(pixel_weights(objects, 9.0, bodies, 0.0), pixel_weights(objects, 9.0))


def test_losses_run_and_weigh_objects():
    """One step of each stage's loss on a tiny model: finite, differentiable, and an object mask
    changes the value (so the weights reach the loss)."""
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=32, d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
                      denoiser=DenoiserConfig(patch_size=8, hidden_size=32, depth=1, num_heads=2))
    model = StrobeModel(cfg)
    model.randomize(torch.Generator().manual_seed(3))
    x0 = torch.rand(2, 3, 16, 24) * 2 - 1
    ids, mask = torch.tensor([[5, 6, 1], [7, 1, 0]]), torch.tensor([[True, True, True], [True, True, False]])
    empty_ids, empty_mask = torch.tensor([[1]]), torch.tensor([[True]])
    objects = torch.zeros(2, 1, 16, 24, dtype=torch.bool)
    objects[:, :, 4:10, 2:9] = True

    def teacher(weights):
        torch.manual_seed(0)
        return teacher_loss(model, x0, weights, ids, mask, 0.8, 0.8)

    plain = teacher(pixel_weights(objects, 0.0))
    weighted = teacher(pixel_weights(objects, 10.0))
    assert plain.item() == teacher(pixel_weights(torch.zeros_like(objects), 10.0)).item()
    assert weighted.item() != plain.item()
    torch.manual_seed(0)
    loss, terminal, fm = tvm_loss(model, model, x0, pixel_weights(objects, 10.0), ids, mask, empty_ids, empty_mask, 0.4)
    assert all(math.isfinite(v) for v in (plain.item(), weighted.item(), loss.item(), terminal, fm))
    (weighted + loss).backward()
    assert all(p.grad is not None for p in model.denoiser.parameters())


def test_a_stage_starts_from_an_exported_weights_file(tmp_path):
    from strobe_training.export import export
    from strobe_training.train import weights_file_state, weights_file_tokenizer
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=32, d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
                      denoiser=DenoiserConfig(patch_size=8, hidden_size=32, depth=1, num_heads=2))
    model = StrobeModel(cfg)
    model.randomize(torch.Generator().manual_seed(3))
    path = str(tmp_path / "model.safetensors")
    export(model.state_dict(), cfg, b"a tokenizer proto", path, dtype="F16")

    state = weights_file_state(path, cfg)
    assert state.keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        assert state[name].dtype == torch.float32
        assert torch.equal(state[name], value.half().float()), name       # F16 widened, nothing else
    StrobeModel(cfg).load_state_dict(state, strict=True)

    out = str(tmp_path / "tokenizer.model")
    weights_file_tokenizer(path, out)
    assert open(out, "rb").read() == b"a tokenizer proto"

    other = ModelConfig(text=cfg.text, denoiser=DenoiserConfig(patch_size=8, hidden_size=32, depth=2, num_heads=2))
    with pytest.raises(ValueError, match="is not this run's") as err:
        weights_file_state(path, other)
    assert '"depth":1' in str(err.value) and '"depth":2' in str(err.value)


def test_data_seeds_change_with_the_step_and_the_run_seed():
    import zlib
    from strobe_training.train import data_seed
    assert data_seed("sky", 0, 0) == zlib.crc32(b"sky:0")          # the seeds of earlier runs
    seeds = {data_seed(stage, step, run) for stage in ("tvm", "sky") for step in (0, 1068) for run in (0, 1)}
    assert len(seeds) == 8
