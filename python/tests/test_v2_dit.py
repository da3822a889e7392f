"""The v2 latent DiT (strobe_training.v2.dit), its latents (latents.py) and trainer (train_dit.py):
shapes at the aspect ratios, the fill path's zero start, padding, a tiny overfit, masks, the
latent chunks and the checkpoint round trip. A few seconds on 1–2 threads."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from host_reads import spy_host_reads

from strobe_reference.model import TextEncoderConfig
from strobe_training.scenes import is_heldout, sample_scene
from strobe_training.v2 import latents as latents_mod
from strobe_training.v2 import train_dit
from strobe_training.v2.autoencoder import Autoencoder, AutoencoderConfig, parameter_count
from strobe_training.v2.data import V2_SIZES
from strobe_training.v2.dit import (MMDiTConfig, V2Model, V2ModelConfig, flops_per_call, parameter_counts,
                                    v1_flops_per_call)

torch.set_num_threads(2)


def tiny_config(fill: bool = True) -> V2ModelConfig:
    return V2ModelConfig(text=TextEncoderConfig(vocab_size=64, d_model=32, num_heads=2, d_kv=16, d_ff=64, num_layers=1),
                         denoiser=MMDiTConfig(hidden_size=32, depth=2, num_heads=2, fill=fill))


def randomized(cfg: V2ModelConfig, seed: int = 0) -> V2Model:
    """Every weight random (no zero starts), so every path matters."""
    model = V2Model(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (0.2 if p.dim() < 2 else p.shape[-1] ** -0.5))
    return model.eval()


def inputs(b: int, h: int, w: int, length: int = 7, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(b, 16, h, w, generator=gen)
    ids = torch.randint(3, 64, (b, length), generator=gen)
    mask = torch.ones(b, length, dtype=torch.bool)
    mask[0, length - 2:] = False
    t = torch.rand(b, generator=gen)
    return z, ids, mask, t


@pytest.mark.parametrize("ratio", ["1:1", "21:9", "9:21", "3:4", "16:9"])
def test_shapes_at_aspect_ratios(ratio):
    width, height = V2_SIZES[ratio]
    h, w = height // 16, width // 16
    model = randomized(tiny_config())
    z, ids, mask, t = inputs(2, h, w)
    text = model.encode_text(ids, mask)
    keep = torch.zeros(2, 1, h, w)
    keep[:, :, :, : w // 2] = 1
    out = model.denoiser(z, t, 0.25 * t, torch.full((2,), 0.5), text, mask, train_dit.fill_input(z, keep))
    assert out.shape == (2, 16, h, w)
    assert torch.isfinite(out).all()
    u = model.denoiser.velocity(z, t, torch.zeros(2), torch.ones(2), text, mask)
    assert u.shape == z.shape


def test_latent_sides_must_fit_the_patch():
    model = randomized(tiny_config())
    z, ids, mask, t = inputs(1, 5, 4)
    with pytest.raises(ValueError, match="multiples of the patch"):
        model.denoiser(z, t, t, t, model.encode_text(ids, mask), mask)


def test_fill_path_starts_at_zero_and_keep_zero_is_text_to_image():
    # At initialisation the fill projection is zero: any fill input changes nothing.
    model = V2Model(tiny_config())
    with torch.no_grad():     # wake the zero-initialised layers, except the fill projection
        for name, p in model.denoiser.named_parameters():
            if "fill_embed" not in name and not name.endswith("norm.weight"):
                p.add_(torch.randn(p.shape) * 0.05)
    assert model.denoiser.fill_embed.bias is None and model.denoiser.fill_embed.weight.abs().max() == 0
    z, ids, mask, t = inputs(2, 8, 8)
    text = model.encode_text(ids, mask)
    keep = (torch.rand(2, 1, 8, 8) < 0.5).float()
    args = (z, t, torch.zeros(2), torch.ones(2), text, mask)
    assert torch.equal(model.denoiser(*args), model.denoiser(*args, fill=train_dit.fill_input(z, keep)))
    # Trained (random) fill weights: keep = 0 everywhere is still exactly text to image (no bias) …
    model = randomized(tiny_config())
    text = model.encode_text(ids, mask)
    args = (z, t, torch.zeros(2), torch.ones(2), text, mask)
    plain = model.denoiser(*args)
    assert torch.equal(plain, model.denoiser(*args, fill=train_dit.fill_input(z, torch.zeros(2, 1, 8, 8))))
    # … and a keep mask does change the output.
    assert (plain - model.denoiser(*args, fill=train_dit.fill_input(z, keep))).abs().max() > 1e-3


def test_text_padding_is_ignored():
    model = randomized(tiny_config())
    z, ids, mask, t = inputs(1, 8, 6, length=5)
    mask[:] = True
    padded_ids = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
    padded_mask = torch.cat([mask, torch.zeros(1, 4, dtype=torch.bool)], 1)
    beta = torch.full((1,), 0.5)
    a = model.denoiser(z, t, t / 2, beta, model.encode_text(ids, mask), mask)
    b = model.denoiser(z, t, t / 2, beta, model.encode_text(padded_ids, padded_mask), padded_mask)
    torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-5)


def test_text_reaches_the_image_through_joint_attention():
    model = randomized(tiny_config())
    with torch.no_grad():
        model.denoiser.text_pool.weight.zero_()     # no pooled path: only the joint attention carries text
        model.denoiser.text_pool.bias.zero_()
    z, ids, mask, t = inputs(1, 8, 8)
    beta = torch.ones(1)
    a = model.denoiser(z, t, t, beta, model.encode_text(ids, mask), mask)
    other = (ids + 5) % 60 + 3
    b = model.denoiser(z, t, t, beta, model.encode_text(other, mask), mask)
    assert (a - b).abs().max() > 1e-3


def test_tiny_overfit_reduces_the_loss():
    torch.manual_seed(0)
    model = V2Model(tiny_config())
    z0, ids, mask, _ = inputs(4, 8, 8)
    gen = torch.Generator().manual_seed(1)
    eps = torch.randn(z0.shape, generator=gen)
    t = torch.tensor([0.3, 0.5, 0.7, 0.9])
    z_t = (1 - t)[:, None, None, None] * z0 + t[:, None, None, None] * eps
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, betas=(0.9, 0.95))
    losses = []
    for _ in range(40):
        u = model.denoiser.velocity(z_t, t, torch.zeros(4), torch.ones(4), model.encode_text(ids, mask), mask)
        loss = (u - (eps - z0)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_keep_masks():
    gen = torch.Generator().manual_seed(0)
    none = train_dit.keep_masks(16, 8, 12, 0.0, gen)
    assert none.abs().sum() == 0
    masks = train_dit.keep_masks(200, 16, 24, 1.0, gen)
    assert masks.shape == (200, 1, 16, 24)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    share = masks.mean((1, 2, 3))
    assert (share > 0).all() and (share < 1).all()         # something given, something to draw
    half = train_dit.keep_masks(400, 8, 8, 0.3, gen)
    assert 0.2 < (half.sum((1, 2, 3)) > 0).float().mean() < 0.4


def test_cell_weights_and_guidance_interval():
    objects = torch.tensor([0.0, 1.0, 0.5, 0.0]).view(1, 1, 2, 2)
    bodies = torch.tensor([0.0, 1.0, 0.0, 1.0]).view(1, 1, 2, 2)
    w = train_dit.cell_weights(objects, bodies, 10.0, 5.0)
    assert w.flatten().tolist() == [1.0, 11.0, 6.0, 6.0]
    g = train_dit.guidance_at(torch.tensor([0.1, 0.8, 0.81, 1.0]), 2.0, 0.8)
    assert g.tolist() == [2.0, 2.0, 1.0, 1.0]


def test_budget_params_and_flops():
    cfg = V2ModelConfig(text=TextEncoderConfig(vocab_size=1024), denoiser=MMDiTConfig())
    counts = parameter_counts(V2Model(cfg))
    ae = parameter_count(Autoencoder(AutoencoderConfig()))
    total_bytes = 2 * (counts["text_encoder"] + counts["denoiser"] + ae)
    assert total_bytes <= 64 * 2**20, total_bytes
    ratio = flops_per_call(cfg.denoiser, 512, 512, 24) / v1_flops_per_call(256, 256, 24)
    assert ratio < 1.3, ratio


def test_latent_chunk_and_mirror(tmp_path):
    scene = next(s for s in (sample_scene(np.random.default_rng(i)) for i in range(200))
                 if any(o.position != "centre" for o in s.objects))
    flipped = latents_mod.mirrored(scene)
    assert latents_mod.mirrored(flipped) == scene
    assert latents_mod.scene_from_json(json.loads(json.dumps(latents_mod.scene_to_json(scene)))) == scene
    mask = np.zeros((32, 48), dtype=bool)
    mask[:16, :8] = True
    share = latents_mod.pool_share(mask)
    assert share.shape == (2, 3) and share[0, 0] == 128 and share[1, 2] == 0
    ae = Autoencoder(AutoencoderConfig(encoder_channels=(8, 8, 8, 8), decoder_channels=(8, 8, 8, 8, 8)))
    arrays = latents_mod.make_chunk(ae.eval(), [latents_mod.render_image(0, i, True) for i in range(2)])
    n = 0
    for key, z in arrays.items():
        if key.startswith("z_"):
            size = key[2:]
            w, h = map(int, size.split("x"))
            assert z.dtype == np.float16 and z.shape[1:] == (16, h // 16, w // 16)
            assert arrays[f"objects_{size}"].shape == (len(z), h // 16, w // 16)
            scenes = json.loads(str(arrays[f"scenes_{size}"]))
            assert len(scenes) == len(z)
            n += len(z)
    assert 2 <= n <= 4
    np.savez(tmp_path / latents_mod.chunk_name(0), **arrays)
    data = latents_mod.LatentSet(str(tmp_path))
    assert len(data) == n
    z, objects, bodies, scenes = data.batch(np.random.default_rng(0), 3)
    assert z.shape[0] == 3 and objects.shape[1] == 1 and len(scenes) == 3
    assert not any(is_heldout(s) for s in scenes)


def synthetic_latents(root, n: int = 12) -> None:
    """A chunk of random latents at two sizes with real scenes (the trainer's input format)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for size, (h, w) in {"128x128": (8, 8), "192x128": (8, 12)}.items():
        arrays[f"z_{size}"] = rng.standard_normal((n, 16, h, w)).astype(np.float16)
        arrays[f"objects_{size}"] = (rng.random((n, h, w)) < 0.1).astype(np.uint8) * 255
        arrays[f"bodies_{size}"] = np.zeros((n, h, w), np.uint8)
        arrays[f"scenes_{size}"] = np.array(json.dumps([latents_mod.scene_to_json(sample_scene(rng)) for _ in range(n)]))
    np.savez(os.path.join(root, latents_mod.chunk_name(0)), **arrays)


def trainer_args(workdir, latents, **over):
    args = train_dit.parser().parse_args([
        "--workdir", str(workdir), "--latents", str(latents), "--width", "32", "--depth", "2", "--heads", "2",
        "--text-width", "32", "--text-heads", "2", "--text-layers", "1", "--tokenizer-captions", "2000",
        "--batch", "3", "--threads", "2", "--warmup", "2", "--log-every", "2", "--no-bf16"])
    for k, v in over.items():
        setattr(args, k, v)
    return args


def test_checkpoint_round_trip_and_resume(tmp_path):
    latents = tmp_path / "latents"
    latents.mkdir()
    synthetic_latents(latents)
    work = tmp_path / "run"
    first = train_dit.train(trainer_args(work, latents, stages="teacher", teacher_steps=3))
    assert first["finished"]
    ck = torch.load(work / "teacher.ckpt", weights_only=False)
    assert ck["state"]["step"] == 3
    saved = {k: v.clone() for k, v in ck["model"].items()}
    # The same command with a larger budget resumes from step 3, from the saved weights.
    resumed_from = {}
    original = train_dit.V2Model.load_state_dict

    def spy(self, state, *a, **kw):
        if "weights" not in resumed_from and any(k.startswith("denoiser.") for k in state):
            resumed_from["weights"] = {k: v.clone() for k, v in state.items()}
        return original(self, state, *a, **kw)
    train_dit.V2Model.load_state_dict = spy
    try:
        second = train_dit.train(trainer_args(work, latents, stages="teacher,tvm", teacher_steps=5, tvm_steps=2))
    finally:
        train_dit.V2Model.load_state_dict = original
    assert all(torch.equal(resumed_from["weights"][k], saved[k]) for k in saved)
    assert torch.load(work / "teacher.ckpt", weights_only=False)["state"]["step"] == 5
    assert (work / "teacher-prev.ckpt").exists()
    tvm = torch.load(work / "tvm.ckpt", weights_only=False)
    assert tvm["state"]["step"] == 2 and second["finished"]
    records = [json.loads(line) for line in open(work / "metrics.jsonl")]
    assert any(r.get("stage") == "tvm" and "terminal" in r for r in records)
    sp_words = train_dit.split_words(__import__("sentencepiece").SentencePieceProcessor(
        model_file=str(work / "tokenizer.model")), ["a red balloon on the left at night"])
    assert sp_words == []


def test_export_round_trip_and_refusals(tmp_path):
    """A v2 file holds the model and the autoencoder exactly (F32), its architecture names the
    family and the autoencoder; a mismatched latent width is refused before writing."""
    from strobe_tools.make_mmdit_fixtures import AE_CONFIG
    from strobe_training.v2.export import decode, export, load

    cfg = V2ModelConfig(text=tiny_config().text,
                        denoiser=MMDiTConfig(latent_channels=AE_CONFIG.latent_channels, hidden_size=32, depth=2, num_heads=2))
    model, ae = randomized(cfg), Autoencoder(AE_CONFIG).eval()
    sp_path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "StrobeTests", "Fixtures", "tokenizer",
                           "tokenizer.model")
    with open(sp_path, "rb") as f:
        tokenizer = f.read()
    path = str(tmp_path / "v2.safetensors")
    export(model, ae, tokenizer, path, dtype="F32", guidance=1.5)
    back, ae_back, sp, defaults = load(path)
    assert defaults == {"flash_steps": 4, "full_steps": 100, "guidance": 1.5}
    assert back.cfg == cfg and ae_back.cfg == AE_CONFIG and sp.get_piece_size() > 0
    for (k, v), (k2, v2) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    for (k, v), (k2, v2) in zip(ae.state_dict().items(), ae_back.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    z = torch.randn(1, AE_CONFIG.latent_channels, 2, 3)
    image = decode(ae_back, z)
    assert image.shape == (1, 3, 32, 48) and image.min() >= 0 and image.max() <= 1

    wrong = V2Model(V2ModelConfig(text=cfg.text, denoiser=MMDiTConfig(hidden_size=32, depth=2, num_heads=2)))
    with pytest.raises(ValueError, match="latent channels"):
        export(wrong, ae, tokenizer, str(tmp_path / "wrong.safetensors"))
    assert not os.path.exists(tmp_path / "wrong.safetensors")


def test_init_from_a_weights_file_or_checkpoint(tmp_path):
    """--init starts the teacher from an exported v2 file's weights or a checkpoint's EMA; another
    architecture, or a file with another tokenizer, is refused."""
    from strobe_tools.make_mmdit_fixtures import AE_CONFIG
    from strobe_training.v2.export import export

    cfg = V2ModelConfig(text=tiny_config().text,
                        denoiser=MMDiTConfig(latent_channels=AE_CONFIG.latent_channels, hidden_size=32, depth=2, num_heads=2))
    model = randomized(cfg, seed=3)
    sp_path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "StrobeTests", "Fixtures", "tokenizer",
                           "tokenizer.model")
    path = str(tmp_path / "v2.safetensors")
    export(model, Autoencoder(AE_CONFIG).eval(), open(sp_path, "rb").read(), path, dtype="F32")
    import sentencepiece as spm
    same = spm.SentencePieceProcessor(model_file=sp_path)
    weights = train_dit.initial_weights(path, cfg, same)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    train_dit.train_tokenizer(str(tmp_path / "other.model"), 300, captions=400)
    with pytest.raises(SystemExit, match="another tokenizer"):
        train_dit.initial_weights(path, cfg, spm.SentencePieceProcessor(model_file=str(tmp_path / "other.model")))
    ck = tmp_path / "teacher.ckpt"
    torch.save({"config": cfg.to_json(), "ema": model.state_dict()}, ck)
    assert all(torch.equal(train_dit.initial_weights(str(ck), cfg)[k], v) for k, v in model.state_dict().items())
    other = V2ModelConfig(text=cfg.text, denoiser=MMDiTConfig(latent_channels=AE_CONFIG.latent_channels,
                                                              hidden_size=32, depth=3, num_heads=2))
    for source in (path, str(ck)):
        with pytest.raises(SystemExit, match="another architecture"):
            train_dit.initial_weights(source, other)


def tiny_autoencoder(tmp_path):
    """An 8-channel autoencoder with measured-looking latent statistics, saved as a checkpoint
    `latents` accepts: (config, model, path)."""
    cfg = AutoencoderConfig(encoder_channels=(8, 8, 8, 8), decoder_channels=(8, 8, 8, 8, 8))
    ae = Autoencoder(cfg)
    with torch.no_grad():
        ae.latent_std.fill_(2.0)
    ck = tmp_path / "ae.ckpt"
    torch.save({"config": cfg.to_json(), "ema": ae.state_dict(), "state": {"step": 3, "seconds": 1.0}}, ck)
    return cfg, ae, ck


def test_latents_folder_resumes(tmp_path):
    """A second run of latents.build on the same folder adds nothing and does not refuse it (its
    meta.json, read back from JSON, equals the run's own); another autoencoder is refused."""
    cfg, ae, ck = tiny_autoencoder(tmp_path)
    out = tmp_path / "latents"
    args = latents_mod.parser().parse_args(["--ae", str(ck), "--out", str(out), "--images", "2", "--chunk", "1",
                                            "--threads", "1"])
    latents_mod.build(args)
    chunks = sorted(p.name for p in out.iterdir() if p.name.startswith("chunk-"))
    assert len(chunks) == 2
    stamps = {p: (out / p).stat().st_mtime_ns for p in chunks}
    latents_mod.build(args)                                                  # resumes: nothing new
    assert {p: (out / p).stat().st_mtime_ns for p in chunks} == stamps
    with torch.no_grad():
        ae.latent_std.fill_(3.0)
    torch.save({"config": cfg.to_json(), "ema": ae.state_dict(), "state": {"step": 4, "seconds": 2.0}}, ck)
    with pytest.raises(SystemExit, match="made otherwise"):
        latents_mod.build(args)


def test_latents_from_a_render_pool_match_one_process(tmp_path):
    """--workers N renders in a process pool ahead of the encoder: the chunks hold the same
    latents, masks and scenes as one process makes; --max-minutes stops before a chunk."""
    ck = tiny_autoencoder(tmp_path)[2]

    def build(name: str, *extra: str):
        out = tmp_path / name
        latents_mod.build(latents_mod.parser().parse_args(
            ["--ae", str(ck), "--out", str(out), "--images", "5", "--chunk", "2", "--threads", "1", *extra]))
        return out

    one, pool = build("one"), build("pool", "--workers", "2")
    names = sorted(p.name for p in one.iterdir() if p.name.startswith("chunk-"))
    assert len(names) == 3 and names == sorted(p.name for p in pool.iterdir() if p.name.startswith("chunk-"))
    for name in names:
        with np.load(one / name) as a, np.load(pool / name) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                assert np.array_equal(a[key], b[key]), (name, key)
    stopped = build("stopped", "--workers", "2", "--max-minutes", "1e-9")
    assert not any(p.name.startswith("chunk-") for p in stopped.iterdir())


def test_tvm_starts_from_the_teachers_raw_weights_when_asked(tmp_path, monkeypatch):
    latents = tmp_path / "latents"
    latents.mkdir()
    synthetic_latents(latents)
    work = tmp_path / "run"
    train_dit.train(trainer_args(work, latents, stages="teacher", teacher_steps=3))
    teacher = torch.load(work / "teacher.ckpt", weights_only=False)
    assert any(not torch.equal(teacher["model"][k], teacher["ema"][k]) for k in teacher["model"])
    inits = {}
    original = train_dit.run_stage

    def spy(stage, args, cfg, sp, data, init, device):
        inits[stage] = init
        return original(stage, args, cfg, sp, data, init, device)
    monkeypatch.setattr(train_dit, "run_stage", spy)
    train_dit.train(trainer_args(work, latents, stages="tvm", tvm_steps=1, tvm_init="raw"))
    assert all(torch.equal(inits["tvm"][k], teacher["model"][k]) for k in teacher["model"])


def test_a_training_step_reads_nothing_back_from_the_device(monkeypatch):
    # PyTorch's optimiser reads its CPU step counters; the step's own code reads nothing.
    import copy
    cfg = tiny_config()
    model = randomized(cfg).train()
    ema, target = copy.deepcopy(model), copy.deepcopy(model)
    opt = train_dit.make_optimizer(model, 1e-3)
    args = train_dit.parser().parse_args(["--no-bf16", "--warmup", "2"])
    z0, ids, mask, _ = inputs(3, 8, 8)
    keep = torch.zeros(3, 1, 8, 8)
    keep[1, :, :, :4] = 1
    batch = (z0, keep, ids, mask, torch.ones(3, 1, 8, 8))
    empty_ids, empty_mask = ids[:1, :1].clone(), torch.ones(1, 1, dtype=torch.bool)     # an empty caption: one token
    reads = spy_host_reads(monkeypatch)
    for stage in ("teacher", "tvm"):
        loss, parts = train_dit.training_step(stage, args, model, ema, target, opt, batch, 1e-3, 0,
                                              empty_ids, empty_mask)
        assert isinstance(loss, torch.Tensor) and all(isinstance(v, torch.Tensor) for v in parts.values())
    monkeypatch.undo()
    assert reads == []
    assert torch.isfinite(loss) and set(parts) == {"terminal", "fm"}


def test_tables_first_made_inside_the_tvm_jvp_are_cached_as_plain_tensors():
    # TVM's first forward pass runs inside torch.func.jvp: a table cached there must not be the
    # transform's wrapper (it would outlive the transform).
    import copy
    from strobe_reference import model as reference
    from strobe_training.v2 import dit
    reference._sinusoid_frequencies.cache_clear()
    dit._positions.cache_clear()
    cfg = tiny_config()
    model = randomized(cfg).train()
    ema, target = copy.deepcopy(model), copy.deepcopy(model)
    args = train_dit.parser().parse_args(["--no-bf16"])
    z0, ids, mask, _ = inputs(2, 8, 8)
    batch = (z0, torch.zeros(2, 1, 8, 8), ids, mask, torch.ones(2, 1, 8, 8))
    train_dit.training_step("tvm", args, model, ema, target, train_dit.make_optimizer(model, 1e-3), batch, 1e-3, 0,
                            ids[:1, :1].clone(), torch.ones(1, 1, dtype=torch.bool))
    d, cpu = cfg.denoiser, torch.device("cpu")
    sizes = reference._sinusoid_frequencies.cache_info().currsize, dit._positions.cache_info().currsize
    tables = [reference._sinusoid_frequencies(d.frequency_embedding_size // 2, float(d.max_period), cpu),
              dit._positions(4, 4, d.hidden_size, float(d.position_grid), cpu, torch.float32)]
    assert sizes == (1, 1) and (reference._sinusoid_frequencies.cache_info().currsize,
                                dit._positions.cache_info().currsize) == sizes      # the cached ones
    assert not any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tables)
    assert not any(t.requires_grad or t.is_inference() for t in tables)
