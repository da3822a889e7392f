"""Tests of the v2 autoencoder, its trainer and the seam measure; needs torch, runs in seconds.

    python -m pytest python/tests/test_v2_autoencoder.py
"""
from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from host_reads import spy_host_reads  # noqa: E402

from strobe_training.v2.autoencoder import Autoencoder, AutoencoderConfig  # noqa: E402
from strobe_training.v2.data import V2_SIZES, RenderCache  # noqa: E402
from strobe_training.v2.metrics import psnr, seam_ratio  # noqa: E402
from strobe_training.v2.train_autoencoder import parser, reconstruction_loss, train, training_step  # noqa: E402

TINY = AutoencoderConfig(latent_channels=4, encoder_channels=(8, 8, 16, 16), encoder_blocks=(0, 1, 0, 1),
                         decoder_channels=(16, 16, 8, 8, 8), decoder_blocks=(1, 1, 0, 0, 0))


@pytest.fixture(autouse=True)
def few_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def scrambled(cfg: AutoencoderConfig, seed: int = 0) -> Autoencoder:
    """A model whose zero-initialised layers are random too, so every layer acts."""
    torch.manual_seed(seed)
    model = Autoencoder(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def test_shapes_and_factor():
    model = Autoencoder(TINY)
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        z = model.encode(x)
        assert z.shape == (2, 4, 4, 6)
        assert model.decode(z).shape == (2, 3, 64, 96)
        assert torch.allclose(model.denormalise(model.normalise(z)), z, atol=1e-6)
    with pytest.raises(ValueError, match="multiples of 16"):
        model.encode(torch.rand(1, 3, 40, 64))


def test_default_model_sizes():
    model = Autoencoder()
    decoder = sum(p.numel() for p in model.decoder.parameters())
    assert decoder * 2 <= 8 * 2**20, f"decoder {decoder} parameters is over 8 MiB in F16"
    assert all(w % 32 == 0 and h % 32 == 0 for w, h in V2_SIZES.values())
    assert V2_SIZES["1:1"] == (512, 512)


def test_deterministic():
    a, b = scrambled(TINY, 3), scrambled(TINY, 3)
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
        assert torch.equal(a(x), a(x))


def test_decoder_is_local():
    """No norm over pixels: decoding a window of the latent gives the whole decode's pixels away
    from the window's edge, so training on crops trains the model run at full size."""
    model = scrambled(TINY, 4)
    z = torch.randn(1, 4, 24, 24, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        whole = model.decode(z)                  # [1, 3, 384, 384]
        part = model.decode(z[..., 4:20, 4:20])  # [1, 3, 256, 256]: latents 4..19
    # The tiny decoder sees about 5 latents each way; latents 10..13 are 6 from the window's edge:
    # pixels 160..223 of the whole, 96..159 of the part.
    diff = (whole[..., 160:224, 160:224] - part[..., 96:160, 96:160]).abs().max().item()
    assert diff < 1e-5, diff


def test_tiny_overfit_reduces_loss():
    torch.manual_seed(0)
    model = Autoencoder(TINY)
    ramp = torch.linspace(0, 1, 64)
    x = torch.stack([torch.stack([ramp[None, :].expand(64, 64), ramp[:, None].expand(64, 64),
                                  (ramp[None, :] * ramp[:, None])]), 1 - torch.ones(3, 64, 64) * 0.3])  # [2, 3, 64, 64]
    w = torch.ones(2, 1, 64, 64)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = reconstruction_loss(model(x), x, w, 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.4 * losses[0], losses[::10]


def test_a_training_step_reads_nothing_back_from_the_device(monkeypatch):
    model = scrambled(TINY).train()
    args = parser().parse_args(["--no-bf16"])
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    mask = (x[:, :1] > 0.9).float()
    reads = spy_host_reads(monkeypatch)
    out = training_step(model, x, mask, args, torch.Generator().manual_seed(1))
    out["loss"].backward()
    monkeypatch.undo()
    assert reads == []
    assert all(isinstance(out[k], torch.Tensor) and not out[k].requires_grad for k in ("rec", "z2", "train_psnr"))
    assert 0 < float(out["train_psnr"]) < 60 and float(out["rec"]) > 0


def test_checkpoint_resume_round_trip(tmp_path):
    work, data = str(tmp_path / "ck"), str(tmp_path / "data")
    common = ["--workdir", work, "--data", data, "--batch", "2", "--crop", "64", "--cache-images", "3",
              "--min-cache", "2", "--eval-images", "1", "--stats-images", "1", "--threads", "1",
              "--log-every", "1", "--warmup", "1"]
    first = train(parser().parse_args(common + ["--max-steps", "2"]))
    assert 0 < first["psnr"] < 60
    saved = torch.load(os.path.join(work, "ae.ckpt"), weights_only=False)
    assert saved["state"]["step"] == 2
    assert saved["ema"]["latent_std"].shape == (16,) and (saved["ema"]["latent_std"] > 0).all()
    train(parser().parse_args(common + ["--max-steps", "3"]))
    resumed = torch.load(os.path.join(work, "ae.ckpt"), weights_only=False)
    assert resumed["state"]["step"] == 3
    assert resumed["opt"]["state"][0]["step"].item() == 3      # the optimizer went on, not restarted
    prev = torch.load(os.path.join(work, "ae-prev.ckpt"), weights_only=False)
    assert all(torch.equal(prev["model"][k], saved["model"][k]) for k in saved["model"])
    assert sorted(os.listdir(data))[0].endswith(".npz")


def test_render_cache_is_reproducible(tmp_path):
    a, b = RenderCache(str(tmp_path / "a"), 2, seed=5), RenderCache(str(tmp_path / "b"), 2, seed=5)
    assert a.grow(5) == 2 and b.grow(5) == 2 and a.full
    pa, ma = a.load(1)
    pb, mb = b.load(1)
    assert np.array_equal(pa, pb) and np.array_equal(ma, mb)
    assert (pa.shape[1], pa.shape[0]) in V2_SIZES.values()
    x, m = a.crops(np.random.default_rng(0), 3, 32)
    assert x.shape == (3, 3, 32, 32) and m.shape == (3, 1, 32, 32) and 0 <= x.min() and x.max() <= 1


def test_render_cache_made_by_processes_is_the_same_cache(tmp_path):
    serial, pooled = RenderCache(str(tmp_path / "s"), 3, seed=5), RenderCache(str(tmp_path / "p"), 3, seed=5, in_memory=True)
    assert serial.grow(3) == 3 and pooled.grow_parallel(3, 2) == 3 and pooled.full
    assert pooled.grow(1) == 0                                          # nothing left to render
    for i in range(3):
        assert all(np.array_equal(a, b) for a, b in zip(serial.load(i), pooled.load(i)))
    assert pooled.load(2)[0] is pooled.load(2)[0]                       # kept in memory after one read
    assert RenderCache(str(tmp_path / "p"), 3, seed=5).ready == [0, 1, 2]   # and on disk for a new run


def test_seam_ratio_sees_a_grid_and_not_a_gradient():
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    smooth = np.stack([np.add.outer(ramp, ramp) / 2] * 3)              # [3, 64, 64]
    assert abs(seam_ratio(smooth, 16) - 1) < 0.1
    blocks = np.repeat(np.repeat(np.random.default_rng(0).random((3, 4, 4)), 16, 1), 16, 2)
    noisy = np.clip(blocks + np.random.default_rng(1).normal(0, 0.01, blocks.shape), 0, 1)
    assert seam_ratio(noisy, 16) > 3
    assert psnr(torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.1)) == pytest.approx(20.0)


def test_bf16_is_the_default_only_where_it_pays(monkeypatch):
    from strobe_training.v2 import precision
    assert precision.resolve_bf16(True, "cpu") and not precision.resolve_bf16(False, "cuda")   # a choice wins
    assert precision.resolve_bf16(None, "cuda")
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "fma"})
    assert not precision.resolve_bf16(None, "cpu")                  # emulated: about 30× slower
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert precision.resolve_bf16(None, "cpu")
