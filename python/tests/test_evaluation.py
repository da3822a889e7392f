"""Tests of the evaluation (classifier, metrics, strobe_training.evaluate end to end); needs torch.

    python -m pytest python/tests/test_evaluation.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from strobe_reference.paths import repository_path  # noqa: E402
from strobe_training.evaluation.classifier import (KEYS, commit_judge, labels_of, load_judge,  # noqa: E402
                                                   load_or_train, per_key_accuracy, render_set, save_judge,
                                                   to_input, train_classifier, weights_fingerprint)
from strobe_training.evaluation.generate import (evaluation_items, generate, load_checkpoint,  # noqa: E402
                                                 load_weights_file)
from strobe_training.evaluation.metrics import (attribute_accuracy, colour_steps, frechet_distance,  # noqa: E402
                                                mean_pairwise_rms, rms_distance, seam_ratio, seam_summary,
                                                specified, variety_ratio)
from strobe_training.evaluation.variety import (SHORT_PROMPTS, measure_variety, reference_scenes,  # noqa: E402
                                                reference_variety, scene_sampler, variety_items, variety_prompts)
from strobe_training.scenes import ATTRIBUTE_VALUES, Scene, SceneObject, parse_caption, render  # noqa: E402
from strobe_training.scenes.png import to_uint8  # noqa: E402

TOKENIZER = repository_path("Tests", "StrobeTests", "Fixtures", "tokenizer", "tokenizer.model")
EVALUATE = [sys.executable, "-m", "strobe_training.evaluate"]

torch.set_num_threads(1)


# ---------------------------------------------------------------------------------- classifier


@pytest.fixture(scope="module")
def tiny_data():
    return render_set(384, seed=5, scale=0.25), render_set(128, seed=6, scale=0.25)


def test_classifier_trains_and_beats_chance(tiny_data):
    (x, y), (xv, yv) = tiny_data
    model = train_classifier(x, y, epochs=4, batch=32, seed=0, log=lambda *a: None)
    pred, feats = model.predict(xv)
    assert pred.shape == yv.shape and feats.shape == (len(xv), 128)
    acc = per_key_accuracy(pred, yv)
    assert acc["time_of_day"] > 2 / len(ATTRIBUTE_VALUES["time_of_day"]), acc
    assert acc["terrain"] > 2 / len(ATTRIBUTE_VALUES["terrain"]), acc
    # Better than always answering the most frequent class, on average over the heads.
    majority = np.mean([np.bincount(yv[:, k].numpy()).max() / len(yv) for k in range(len(KEYS))])
    assert float((pred == yv).float().mean()) > majority, (acc, majority)


def test_training_is_deterministic(tiny_data):
    (x, y), _ = tiny_data
    a = train_classifier(x[:128], y[:128], epochs=1, batch=32, seed=3, log=lambda *a: None)
    b = train_classifier(x[:128], y[:128], epochs=1, batch=32, seed=3, log=lambda *a: None)
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb), na


def test_a_judge_round_trips_through_safetensors(tiny_data, tmp_path):
    (x, y), (xv, _) = tiny_data
    model = train_classifier(x[:64], y[:64], epochs=1, batch=32, seed=1, log=lambda *a: None)
    info = {"recipe": {"n_train": 64}, "validation_accuracy_mean": 0.5}
    save_judge(model, info, str(tmp_path / "judge.safetensors"))
    back, back_info = load_judge(str(tmp_path / "judge.safetensors"))
    assert back_info == info and weights_fingerprint(back) == weights_fingerprint(model)
    assert torch.equal(back.predict(xv)[1], model.predict(xv)[1])


def test_evaluations_use_the_committed_judge_whatever_the_cache(tmp_path):
    # The default recipe's classifier is committed; an empty cache does not retrain it, and it
    # is the classifier the recent results name (quality-v1-sitting2-classifier.json).
    messages = []
    model, info = load_or_train(str(tmp_path / "empty-cache"), log=messages.append)
    assert info["source"] == "committed" and messages == ["classifier: the committed judge "
                                                           "classifier-366ad0829275.safetensors"]
    assert info["weights_sha256"] == "dff0f8ea9e75" and info["validation_accuracy_mean"] > 0.99
    assert not (tmp_path / "empty-cache").exists()
    with pytest.raises(SystemExit, match="exists"):
        commit_judge("this machine", log=messages.append)
    # It reads renders of the evaluation's kind: the time of day and terrain of full-size renders.
    scenes = [Scene("noon", "hills"), Scene("night", "sea"), Scene("sunset", "desert")]
    pred, _ = model.predict(torch.cat([to_input(render(s, 512, 512, seed=3)) for s in scenes]))
    assert [KEYS[0], KEYS[1]] == ["time_of_day", "terrain"]
    assert [(ATTRIBUTE_VALUES["time_of_day"][int(p[0])], ATTRIBUTE_VALUES["terrain"][int(p[1])]) for p in pred] == \
        [(s.time, s.terrain) for s in scenes]


def test_to_input_shape_and_range():
    image = render(Scene("noon", "hills"), 336, 192, seed=1)
    x = to_input(image)
    assert x.shape == (1, 3, 64, 64) and x.dtype == torch.uint8
    flat = to_input(np.full((3, 160, 384), 0.5, np.float32))
    assert int(flat.min()) == int(flat.max()) == 128


# ---------------------------------------------------------------------------------- accuracy


def _judge_input(image: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, 3] → the classifier input, as evaluate.judge computes it."""
    return to_input(torch.from_numpy(image).permute(2, 0, 1).float() / 255)


class OracleStub:
    """Knows the renders it was given: returns their true labels; anything else gets labels
    drawn at random (seeded). Features: the first 128 input values."""

    def __init__(self, items):
        self.known = {}
        for it in items:
            image = to_uint8(render(it.scene, it.width, it.height, it.render_seed))
            self.known[_judge_input(image).numpy().tobytes()] = labels_of(it.scene)
        self.rng = np.random.default_rng(0)

    def predict(self, x):
        preds = []
        for row in x:
            key = row[None].numpy().tobytes()
            if key in self.known:
                preds.append(self.known[key])
            else:
                preds.append([int(self.rng.integers(len(ATTRIBUTE_VALUES[k]))) for k in KEYS])
        return torch.tensor(preds), x.reshape(len(x), -1)[:, :128].float() / 255


def test_accuracy_is_one_for_renders_and_low_for_noise():
    from strobe_training.evaluate import score
    items = evaluation_items(6, 1, seed=2)[:9]   # 6 in-distribution, 3 held-out
    stub = OracleStub(items)
    labels = {it.index: labels_of(it.scene) for it in items}
    renders = {it.index: to_uint8(render(it.scene, it.width, it.height, it.render_seed)) for it in items}
    feats = stub.predict(torch.cat([_judge_input(renders[it.index]) for it in items]))[1]
    ref = {it.index: f.numpy().astype(np.float64) for it, f in zip(items, feats)}
    s = score(items, renders, stub, labels, ref)
    assert s["accuracy"] == 1.0 and s["accuracy_heldout"] == 1.0
    assert s["fd"] == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(1)
    noise = {k: rng.integers(0, 256, v.shape, dtype=np.uint8) for k, v in renders.items()}
    n = score(items, noise, stub, labels, ref)
    assert n["accuracy"] < 0.6 and n["accuracy_heldout"] < 0.6, n
    assert n["fd"] > 0.01


def test_specified_attributes():
    objects = (SceneObject("sailboat", "red", "left"), SceneObject("birds", None, "right"))
    scene = Scene("noon", "sea", objects, sun=True)
    labels = torch.tensor([labels_of(scene)])
    mask = dict(zip(KEYS, specified(labels)[0].tolist()))
    assert mask["time_of_day"] and mask["terrain"] and mask["clouds"] and mask["stars"]
    assert all(mask[k] for k in ("house", "lighthouse", "sailboat", "tree", "balloon", "birds"))
    assert mask["sailboat_position"] and mask["sailboat_colour"] and mask["birds_position"]
    assert not mask["house_position"] and not mask["house_colour"] and not mask["tree_colour"]
    assert int(specified(labels).sum()) == 2 + 4 + 6 + 2 + 1
    # One wrong answer out of 15 counted ones; an error in an uncounted head changes nothing.
    pred = labels.clone()
    pred[0, KEYS.index("sailboat_colour")] = 0
    pred[0, KEYS.index("house_colour")] = 3
    acc = attribute_accuracy(pred, labels)
    assert acc["accuracy"] == pytest.approx(14 / 15)
    assert acc["per_attribute"]["house_colour"] is None and acc["per_attribute"]["sailboat_colour"] == 0.0


# ---------------------------------------------------------------------------------- Fréchet


def _fd_reference(a, b):
    """Independent formula: tr (Σa Σb)^½ from the eigenvalues of the non-symmetric product."""
    mu = a.mean(0) - b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(ca @ cb)
    return float(mu @ mu + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.clip(eig.real, 0, None)).sum())


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    b = rng.normal(size=(250, 8)) @ rng.normal(size=(8, 8)) + 0.5
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    fd = frechet_distance(a, b)
    assert fd > 0.1
    assert fd == pytest.approx(_fd_reference(a, b), rel=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    # A pure shift: the distance is the squared shift.
    assert frechet_distance(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-9)
    # Diagonal covariances: Σ (σa − σb)² on top of the means.
    x = rng.normal(size=(4000, 3))
    sa, sb = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    xa, xb = x * sa, x * sb
    expected = ((np.sqrt(np.var(xa, 0, ddof=1)) - np.sqrt(np.var(xb, 0, ddof=1))) ** 2).sum()
    assert frechet_distance(xa, xb) == pytest.approx(expected, rel=1e-2)
    # Rank-deficient covariances (fewer samples than dimensions) stay finite and non-negative.
    c, d = rng.normal(size=(10, 32)), rng.normal(size=(10, 32))
    assert frechet_distance(c, c) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(c, d) == pytest.approx(_fd_reference(c, d), rel=1e-4)


# ---------------------------------------------------------------------------------- seams


def _mosaic(tile: int, size: int = 128, seed: int = 0, noise: float = 2.0) -> np.ndarray:
    """uint8 [size, size, 3]: flat tiles of random colours, `tile` pixels square, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = -(-size // tile)
    blocks = rng.integers(0, 256, (n, n, 3)).astype(np.float64)
    image = np.repeat(np.repeat(blocks, tile, 0), tile, 1)[:size, :size] + rng.normal(0, noise, (size, size, 3))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def test_seam_ratio_sees_the_grid_of_a_mosaic_and_no_other():
    mosaic = _mosaic(16)
    assert seam_ratio(mosaic, 16) > 5                     # every border line a tile edge
    assert seam_ratio(mosaic, 32) > 5                     # a coarser grid of the same edges
    assert seam_ratio(mosaic, 8) > 1.5                    # half its lines are tile edges
    # A grid unrelated to the tiles: at a size of n·lcm(g, 16) + 1 pixels, tile edges are as
    # frequent among its lines (1 in 16) as among the other steps, so it sees no seams.
    for unrelated in (7, 11, 13):
        big = _mosaic(16, size=16 * unrelated * 3 + 1, seed=unrelated)
        assert abs(seam_ratio(big, unrelated) - 1) < 0.15, unrelated
        assert seam_ratio(big, 16) > 5
    # The same picture shifted by 8 pixels has its edges between the 16-px lines.
    assert seam_ratio(np.roll(mosaic, 8, axis=(0, 1)), 16) < 0.5


def test_seam_ratio_is_about_one_without_a_grid():
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    smooth = np.stack([np.add.outer(ramp, ramp) / 2] * 3)              # float [3, 64, 64]
    assert abs(seam_ratio(smooth, 16) - 1) < 0.1
    noise = np.random.default_rng(2).integers(0, 256, (96, 160, 3), dtype=np.uint8)
    assert abs(seam_ratio(noise, 16) - 1) < 0.05
    scene = Scene("noon", "mountains", (SceneObject("house", "red", "left"),), clouds=True, sun=True)
    r = seam_ratio(to_uint8(render(scene, 256, 256, seed=3)), 16)
    assert 0.6 < r < 1.5, r                                             # renders: about 0.98 on average


def test_seam_ratio_inputs_steps_and_summary():
    mosaic = _mosaic(16, size=64, seed=1)
    as_float = torch.from_numpy(mosaic).permute(2, 0, 1).float() / 255     # [3, H, W] in [0, 1]
    assert seam_ratio(as_float, 16) == seam_ratio(mosaic, 16)
    sx, sy = colour_steps(np.array([[[0, 0, 0], [30, 60, 90]], [[0, 0, 0], [0, 0, 0]]], np.uint8))
    assert sx.shape == (2, 1) and sy.shape == (1, 2)
    assert sx[0, 0] == 60 and sx[1, 0] == 0 and sy[0, 1] == 60 and sy[0, 0] == 0
    with pytest.raises(ValueError):
        seam_ratio(mosaic, 1)
    with pytest.raises(ValueError):
        seam_ratio(mosaic[..., :2], 16)
    summary = seam_summary([mosaic, np.roll(mosaic, 8, axis=(0, 1))], (16, 7))
    assert set(summary) == {16, 7} and summary[16]["min"] < 0.5 < 5 < summary[16]["max"]
    assert summary[16]["mean"] == pytest.approx((summary[16]["min"] + summary[16]["max"]) / 2, abs=2e-3)
    # The v2 package measures with the same function.
    from strobe_training.v2 import metrics as v2_metrics
    assert v2_metrics.seam_ratio is seam_ratio and v2_metrics.seam_summary is seam_summary


# ---------------------------------------------------------------------------------- variety


def test_rms_distance_and_pairwise_variety():
    black, white = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    assert rms_distance(black, white) == 255.0 and rms_distance(white, white) == 0.0
    half = black.copy()
    half[:, :4] = 255
    assert rms_distance(black, half) == pytest.approx(255 / np.sqrt(2))
    assert mean_pairwise_rms([half, half, half, half]) == 0.0               # identical seeds: no variety
    assert mean_pairwise_rms([black, black, white]) == pytest.approx(2 * 255 / 3)
    assert mean_pairwise_rms([black, white, half]) == pytest.approx((255 + 2 * 255 / np.sqrt(2)) / 3)
    with pytest.raises(ValueError):
        mean_pairwise_rms([black])
    with pytest.raises(ValueError):
        rms_distance(black, white[:4])
    assert variety_ratio([10.0, 20.0], [20.0, 40.0]) == pytest.approx(0.5)
    assert variety_ratio([0.0, 0.0], [20.0, 40.0]) == 0.0
    with pytest.raises(ValueError):
        variety_ratio([1.0], [1.0, 2.0])


def test_variety_prompts_and_their_reference_scenes():
    prompts = variety_prompts(3, seed=0)
    assert [vp.set for vp in prompts] == ["long"] * 3 + ["short"] * len(SHORT_PROMPTS)
    assert prompts == variety_prompts(3, seed=0)                               # fixed
    for i, vp in enumerate(prompts[:3]):
        assert parse_caption(vp.prompt) == vp.scene.attributes()               # every attribute named
        refs = reference_scenes(vp, i, 4)
        assert {scene for scene, _ in refs} == {vp.scene} and len({s for _, s in refs}) == 4
    # Short prompts: what they name is kept; the grammar policy leaves unnamed sky and objects out.
    draw = scene_sampler("a lighthouse on the left at golden hour")
    scenes = [draw(np.random.default_rng(k)) for k in range(24)]
    for scene in scenes:
        assert scene.time == "golden_hour" and [o.kind for o in scene.objects] == ["lighthouse"]
        assert scene.object("lighthouse").position == "left" and not (scene.clouds or scene.sun)
    assert len({s.terrain for s in scenes}) > 3 and len({s.object("lighthouse").colour for s in scenes}) > 2
    sunset = scene_sampler("A beautiful sunset over mountains")
    assert {sunset(np.random.default_rng(k)) for k in range(8)} == {Scene("sunset", "mountains")}
    # The all_open policy also draws unnamed sky features and objects.
    wide = [scene_sampler("A beautiful sunset over mountains", "all_open")(np.random.default_rng(k)) for k in range(24)]
    assert all(s.time == "sunset" and s.terrain == "mountains" for s in wide)
    assert any(s.objects for s in wide) and any(s.clouds or s.sun for s in wide)
    with pytest.raises(ValueError):
        scene_sampler("a lake", "anything")
    # Renders of what a prompt leaves open differ from one another.
    small = reference_variety(prompts[:1] + prompts[-2:], 64, 48, samples=3)
    assert len(small) == 3 and all(v > 1 for v in small)


class StubModel:
    """An ImageModel that draws one image per prompt, the same for every seed (`vary=False`), or
    uniform noise per seed."""
    guidance, info, seam_grids = 2.0, {"source": "stub"}, (16,)

    def __init__(self, vary: bool):
        self.vary = vary

    def generate(self, items, mode, steps, batch=8, log=None):
        out = {}
        for it in items:
            key = (it.prompt, it.noise_seed if self.vary else 0)
            rng = np.random.default_rng(abs(hash(key)) % 2**32)
            out[it.index] = rng.integers(0, 256, (it.height, it.width, 3), dtype=np.uint8)
        return out


def test_measure_variety_with_a_stub_model():
    prompts = variety_prompts(1, seed=0, short=SHORT_PROMPTS[:2])
    items = variety_items(prompts, seeds=(1, 2, 3), size=(32, 32))
    assert [it.index for it in items] == list(range(9)) and {it.noise_seed for it in items} == {1, 2, 3}
    collapsed = measure_variety(StubModel(False), {"flash_4": ("flash", 4)}, prompts, seeds=(1, 2, 3),
                                size=(32, 32), samples=3)
    assert collapsed["results"] == {"flash_4": {"long": 0.0, "short": 0.0, "all": 0.0}}
    meta = collapsed["meta"]
    assert meta["seeds"] == [1, 2, 3] and meta["size"] == "32x32" and len(meta["prompts"]) == 3
    assert all(p["renders"] > 0 and p["modes"] == {"flash_4": 0.0} for p in meta["prompts"])
    assert "renders_all_open" in meta["prompts"][1] and "renders_all_open" not in meta["prompts"][0]
    noisy = measure_variety(StubModel(True), {"flash_4": ("flash", 4), "full_100": ("full", 100)}, prompts,
                            seeds=(1, 2, 3), size=(32, 32), samples=3)
    r = noisy["results"]["flash_4"]
    assert r["all"] > 1 and r["long"] > 1 and r["short"] > 1                   # noise varies more than scenes
    assert noisy["meta"]["renders"] == meta["renders"]                          # the reference is fixed
    # The ratio is the mean of the model's per-prompt distances over the mean of the renders'.
    v = [p["modes"]["flash_4"] for p in noisy["meta"]["prompts"]]
    ref = [p["renders"] for p in noisy["meta"]["prompts"]]
    assert r["all"] == pytest.approx(np.mean(v) / np.mean(ref), abs=1e-3)


# ---------------------------------------------------------------------------------- end to end


def _tiny_checkpoint(path):
    import sentencepiece as spm

    from strobe_reference.model import DenoiserConfig, ModelConfig, StrobeModel, TextEncoderConfig
    sp = spm.SentencePieceProcessor(model_file=TOKENIZER)
    cfg = ModelConfig(text=TextEncoderConfig(vocab_size=sp.get_piece_size(), d_model=32, num_heads=2, d_kv=16,
                                             d_ff=64, num_layers=1),
                      denoiser=DenoiserConfig(hidden_size=32, depth=1, num_heads=2, frequency_embedding_size=32))
    model = StrobeModel(cfg)
    model.randomize(torch.Generator().manual_seed(0), 0.5)
    sd = model.state_dict()
    torch.save({"model": sd, "ema": sd, "target": sd, "state": {"step": 7, "seconds": 36.0, "samples": 56},
                "config": cfg.to_json()}, path)
    return cfg, sd


def test_weights_file_matches_checkpoint(tmp_path):
    from strobe_training.export import export
    cfg, sd = _tiny_checkpoint(str(tmp_path / "tvm.ckpt"))
    with open(TOKENIZER, "rb") as f:
        export(sd, cfg, f.read(), str(tmp_path / "m.safetensors"), dtype="F32", guidance=3.0)
    a = load_checkpoint(str(tmp_path / "tvm.ckpt"), TOKENIZER)
    b = load_weights_file(str(tmp_path / "m.safetensors"))
    assert a.guidance == 2.0 and b.guidance == 3.0 and a.info["step"] == 7
    b.guidance = a.guidance
    items = evaluation_items(2, 0, seed=0)
    ia, ib = generate(a, items, "flash", 2), generate(b, items, "flash", 2)
    for it in items:
        assert ia[it.index].shape == (it.height, it.width, 3)
        assert np.array_equal(ia[it.index], ib[it.index])


V2_FILE = repository_path("Tests", "StrobeTests", "Fixtures", "mmdit", "random.safetensors")
V2_GOLDEN = repository_path("Tests", "StrobeTests", "Fixtures", "mmdit", "golden.safetensors")


def test_a_v2_file_is_an_image_model_that_reproduces_the_reference():
    from strobe_reference import weights as strobe_weights
    from strobe_training.evaluation.generate import EvalItem, LoadedV2Model
    lm = load_weights_file(V2_FILE)
    assert isinstance(lm, LoadedV2Model) and lm.info["family"] == "strobe-mmdit" and lm.guidance == 2.0
    assert lm.scale == 2 and lm.seam_grids == (2, 4, 8, 16, 32)
    golden = json.loads(open(repository_path("Tests", "StrobeTests", "Fixtures", "mmdit", "golden.json")).read())
    ref = strobe_weights.load(V2_GOLDEN)[0]
    items = [EvalItem(k, Scene("night", "snowy_mountains"), golden["prompts"][0], golden["width"], golden["height"], seed)
             for k, seed in enumerate(golden["seeds"])]
    images = generate(lm, items, "flash", 4)
    for it in items:
        expected = np.round(np.asarray(ref[f"image.{it.noise_seed}"]).transpose(1, 2, 0) * 255)
        assert images[it.index].shape == (golden["height"], golden["width"], 3)
        assert np.abs(images[it.index].astype(float) - expected).max() <= 1
    assert lm.time_forward(64, 64) > 0


def test_evaluate_refuses_a_sheet_whose_captions_would_overwrite_the_results(tmp_path):
    out = tmp_path / "x.json"
    out.write_text("kept")
    cmd = EVALUATE + ["--weights-file", "unused.safetensors",
           "--out", str(out), "--sheet", str(tmp_path / "x.png")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--out" in proc.stderr, proc.stdout + proc.stderr
    assert out.read_text() == "kept"


def test_evaluate_end_to_end(tmp_path):
    _tiny_checkpoint(str(tmp_path / "tvm.ckpt"))
    _tiny_checkpoint(str(tmp_path / "teacher.ckpt"))
    out, sheet = tmp_path / "quality.json", tmp_path / "sheet.png"
    cmd = EVALUATE + ["--checkpoint", str(tmp_path / "tvm.ckpt"),
           "--teacher", str(tmp_path / "teacher.ckpt"), "--tokenizer", TOKENIZER, "--scenes", "2",
           "--heldout-scenes", "2", "--full-scenes", "2", "--max-steps", "1", "--out", str(out),
           "--sheet", str(sheet), "--cache-dir", str(tmp_path / "cache"), "--classifier-train", "64",
           "--classifier-val", "16", "--classifier-epochs", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    q = json.loads(out.read_text())
    modes = ["flash_1", "flash_2", "flash_4", "flash_8", "naive_4", "full_100", "teacher_100"]
    assert list(q) == modes + ["meta"]
    for m in modes:
        assert set(q[m]) == {"accuracy", "accuracy_heldout", "fd", "seam_ratio", "variety_ratio"}
        assert 0 <= q[m]["accuracy"] <= 1 and 0 <= q[m]["accuracy_heldout"] <= 1 and q[m]["fd"] >= 0
        assert q["meta"]["per_mode"][m]["steps"] == 1
        assert q["meta"]["timing"]["seconds_per_image_256_batch1"][m] > 0
        assert list(q[m]["seam_ratio"]) == ["16"] and q[m]["seam_ratio"]["16"] > 0   # the tiny model's patches
        assert set(q["meta"]["per_mode"][m]["seams"]["16"]) == {"mean", "min", "max", "renders_mean"}
        assert (q[m]["variety_ratio"] is None) == (m != "flash_4")                    # --variety-modes flash_4
    assert set(q["flash_4"]["variety_ratio"]) == {"long", "short", "all"}
    meta = q["meta"]
    assert 0.7 < meta["ceiling"]["seam_ratio"]["16"] < 1.3
    assert set(meta["definitions"]) >= {"accuracy", "fd", "seam_ratio", "variety_ratio"}
    assert meta["variety"]["seeds"] == [11, 12, 13, 14] and len(meta["variety"]["prompts"]) == 8
    assert meta["scenes"] == 2 and meta["heldout_scenes"] == 2 and meta["model"]["step"] == 7
    assert set(meta["classifier"]["validation_accuracy"]) == set(KEYS)
    assert meta["ceiling"]["accuracy"] is not None
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    side = json.loads((tmp_path / "sheet.json").read_text())
    assert len(side["rows"]) == 4 and side["columns"][0] == "RENDER"
    # The classifier was cached: the same recipe loads it.
    messages = []
    _, info = load_or_train(str(tmp_path / "cache"), 64, 16, 1, log=messages.append)
    assert messages and messages[0].startswith("classifier: loaded"), messages
    # The result names the classifier's weights, and the cached copy has the same ones.
    assert len(meta["classifier"]["weights_sha256"]) == 12
    assert info["weights_sha256"] == meta["classifier"]["weights_sha256"]

    # A later run without the teacher carries its figures from this one; a run on other scenes cannot.
    later = tmp_path / "later.json"
    base = EVALUATE + ["--checkpoint", str(tmp_path / "tvm.ckpt"),
            "--tokenizer", TOKENIZER, "--heldout-scenes", "2", "--full-scenes", "2", "--max-steps", "1",
            "--modes", "flash_1,teacher_100", "--variety-modes", "", "--no-time-256", "--carry", str(out),
            "--out", str(later),
            "--cache-dir", str(tmp_path / "cache"), "--classifier-train", "64", "--classifier-val", "16",
            "--classifier-epochs", "1"]
    proc = subprocess.run(base + ["--scenes", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(later.read_text())
    assert r["teacher_100"] == q["teacher_100"] and r["flash_1"]["accuracy"] is not None
    assert r["flash_2"] == {"accuracy": None, "accuracy_heldout": None, "fd": None, "seam_ratio": None,
                            "variety_ratio": None}
    assert r["flash_4"]["variety_ratio"] is None and r["meta"]["variety"] is None     # --variety-modes ""
    assert r["meta"]["carried"]["modes"] == ["teacher_100"] and r["meta"]["carried"]["from"] == "quality.json"
    assert r["meta"]["per_mode"]["teacher_100"]["carried_from"] == "quality.json"
    assert r["meta"]["teacher"] == meta["teacher"]
    later.unlink()
    proc = subprocess.run(base + ["--scenes", "3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "differs from this run in scenes" in proc.stderr, proc.stdout + proc.stderr
    assert not later.exists()

    # --only merges new seams and variety into the file and keeps everything else.
    only = EVALUATE + ["--checkpoint", str(tmp_path / "tvm.ckpt"), "--tokenizer", TOKENIZER, "--scenes", "2",
            "--heldout-scenes", "2", "--full-scenes", "2", "--max-steps", "1", "--out", str(out),
            "--only", "seams,variety", "--modes", "flash_2", "--seam-grids", "8,16", "--variety-modes", "naive_4",
            "--variety-long", "1", "--variety-seeds", "1,2", "--variety-renders", "2"]
    proc = subprocess.run(only, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = json.loads(out.read_text())
    for mode in modes:
        assert {k: m[mode][k] for k in ("accuracy", "accuracy_heldout", "fd")} == \
            {k: q[mode][k] for k in ("accuracy", "accuracy_heldout", "fd")}
    assert list(m["flash_2"]["seam_ratio"]) == ["8", "16"] and m["flash_1"]["seam_ratio"] == q["flash_1"]["seam_ratio"]
    assert set(m["naive_4"]["variety_ratio"]) == {"long", "short", "all"}
    assert m["flash_4"]["variety_ratio"] is None            # another prompt set: the old variety is replaced
    assert m["meta"]["common_subset"] == q["meta"]["common_subset"] and m["meta"]["classifier"] == meta["classifier"]
    assert m["meta"]["merged_runs"][0]["parts"] == ["seams", "variety"]
    # ... a second --only with the same variety settings adds a mode beside the first.
    again = list(only)
    again[again.index("--only") + 1], again[again.index("--variety-modes") + 1] = "variety", "flash_1"
    proc = subprocess.run(again, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m2 = json.loads(out.read_text())
    assert m2["naive_4"]["variety_ratio"] == m["naive_4"]["variety_ratio"] and m2["flash_1"]["variety_ratio"]
    assert set(m2["meta"]["variety"]["modes"]) == {"naive_4", "flash_1"}
    # ... and refuses a file made on other scenes, or by another model.
    other = list(only)
    other[other.index("--scenes") + 1] = "3"
    proc = subprocess.run(other, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "other scenes" in proc.stderr, proc.stdout + proc.stderr
    proc = subprocess.run(only + ["--guidance", "3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "another model" in proc.stderr, proc.stdout + proc.stderr
    assert json.loads(out.read_text()) == m2


def test_evaluate_a_v2_file(tmp_path):
    out = tmp_path / "quality-v2.json"
    cmd = EVALUATE + ["--weights-file", V2_FILE, "--scenes", "1", "--heldout-scenes", "0", "--modes", "flash_1",
                      "--max-steps", "1", "--no-time-256", "--variety-long", "1", "--variety-seeds", "1,2",
                      "--variety-renders", "2", "--variety-modes", "flash_1", "--out", str(out),
                      "--cache-dir", str(tmp_path / "cache"), "--classifier-train", "64", "--classifier-val", "16",
                      "--classifier-epochs", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    q = json.loads(out.read_text())
    assert list(q["flash_1"]["seam_ratio"]) == ["2", "4", "8", "16", "32"]
    assert list(q["meta"]["ceiling"]["seam_ratio"]) == ["2", "4", "8", "16", "32"]
    assert set(q["flash_1"]["variety_ratio"]) == {"long", "short", "all"}
    assert q["meta"]["variety"]["size"] == "512x512" and q["meta"]["sizes"].endswith("sizes x 2")
    assert q["meta"]["model"]["family"] == "strobe-mmdit"


def test_edit_evaluation_geometry_follows_the_model_family():
    """evaluate_edits works at the model's size: v1 files 256² with 16-px patches, v2 files 512²
    with 32-px latent patches (and 16-px cells); the mask and the reframe canvases scale with it,
    the canvases as the engine makes them (sides rounded up to the model's multiple)."""
    from strobe_reference.paths import repository_path
    from strobe_training import evaluate_edits as ee

    fixtures = repository_path("Tests", "StrobeTests", "Fixtures", needed_by="this test")
    assert ee.model_geometry(os.path.join(fixtures, "model", "random.safetensors")) == (256, 8, (8,))
    assert ee.model_geometry(os.path.join(fixtures, "mmdit", "random.safetensors")) == (512, 32, (32, 16))
    assert ee.mask_slices(256) == (slice(16, 128), slice(160, 256))
    assert ee.mask_slices(512) == (slice(32, 256), slice(320, 512))
    assert ee.canvas_size("21:9", 256, 16) == (608, 256)
    assert ee.canvas_size("21:9", 512, 32) == (1216, 512)
    assert ee.canvas_size("9:16", 512, 32) == (512, 928)
    # v1's reframe pad (ReframeLayout.swift): the original's borders mid-patch on the sampler's canvas.
    assert ee.grid_pad(176, 256, 608, 16) == 8          # 21:9 centred: on the grid without it
    assert ee.grid_pad(104, 256, 464, 16) == 0          # 16:9 centred: mid-patch already
    assert ee.grid_pad(0, 256, 464, 16) == 8            # anchored left: the border at 256
    assert ee.grid_pad(0, 256, 256, 16) == 0            # no border on this axis
    assert all((o + ee.grid_pad(o, 256, 1024, 16)) % 16 == 8 for o in range(1, 700))
    assert ee.grid_pad(176, 256, 4096, 16) == 0         # no pad past the engine's longest side


def test_compare_sheet_of_a_v1_and_a_v2_file(tmp_path):
    """compare_sheet (issue 22's v1–v2 contact sheet) on the random fixtures: v1 at 256², v2 at 512²,
    a render column then one column per model and seed, the JSON beside it."""
    from strobe_training.evaluation import compare_sheet
    from strobe_training.scenes.png import read_png
    v1 = repository_path("Tests", "StrobeTests", "Fixtures", "model", "random.safetensors")
    out = tmp_path / "sheet.png"
    compare_sheet.main(["--models", v1, V2_FILE, "--labels", "v1", "v2", "--out", str(out), "--prompts", "2",
                        "--seeds", "11,12", "--steps", "1", "--threads", "1"])
    columns = ["RENDER", "V1 S11", "V1 S12", "V2 S11", "V2 S12"]
    box, pad, label_width, header = 160, 6, 44, 7 * 2 + 2 * 6          # sheet.contact_sheet's defaults
    image = read_png(str(out))
    assert image.shape == (header + 2 * (box + pad) + pad, label_width + len(columns) * (box + pad) + pad, 3)
    side = json.loads((tmp_path / "sheet.json").read_text())
    assert side["columns"] == columns
    assert [(r["label"], r["set"]) for r in side["rows"]] == [("L1", "long"), ("S1", "short")]
    assert side["rows"][1]["prompt"] == SHORT_PROMPTS[0] and side["rows"][0]["render_size"] == "512x512"
    models = side["models"]
    assert [(m["label"], m["family"], m["size"], m["steps"], m["seeds"]) for m in models] == \
        [("v1", "strobe-dit", "256x256", 1, [11, 12]), ("v2", "strobe-mmdit", "512x512", 1, [11, 12])]
    assert models[0]["path"] == v1 and models[1]["path"] == V2_FILE
    assert all(len(m["sha256"]) == 64 for m in models) and models[0]["sha256"] != models[1]["sha256"]
    # The model columns hold pictures (noise here), not the blank cell with its cross.
    y0 = header + box // 2
    for c in range(1, len(columns)):
        x0 = label_width + pad + c * (box + pad)
        assert image[y0 - 20:y0 + 20, x0 + 20:x0 + box - 20].std() > 1, columns[c]


def test_carried_figures_must_come_from_the_same_classifier():
    from strobe_training.evaluate import carry_problem
    identity = {"scenes": 2, "seeds": {"scenes": 0}}
    judge = {"recipe": {"epochs": 8}, "weights_sha256": "0123456789ab"}
    old = {"meta": {**identity, "classifier": judge}, "teacher_100": {"accuracy": 0.9}}
    assert carry_problem(old, identity, judge, ["teacher_100"]) is None
    retrained = {**judge, "weights_sha256": "ba9876543210"}
    assert "weights differ" in carry_problem(old, identity, retrained, ["teacher_100"])
    assert "recipe" in carry_problem(old, identity, {**judge, "recipe": {"epochs": 4}}, ["teacher_100"])
