"""Tests of the evaluation (classifier, metrics, strobe_training.evaluate end to end); needs torch.

    python -m pytest python/tests/test_evaluation.py
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from strobe_reference.paths import repository_path  # noqa: E402
from strobe_training.evaluation.classifier import (KEYS, labels_of, load_or_train, per_key_accuracy,  # noqa: E402
                                                   render_set, to_input, train_classifier)
from strobe_training.evaluation.generate import (evaluation_items, generate, load_checkpoint,  # noqa: E402
                                                 load_weights_file)
from strobe_training.evaluation.metrics import attribute_accuracy, frechet_distance, specified  # noqa: E402
from strobe_training.scenes import ATTRIBUTE_VALUES, Scene, SceneObject, render  # noqa: E402
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
        assert set(q[m]) == {"accuracy", "accuracy_heldout", "fd"}
        assert 0 <= q[m]["accuracy"] <= 1 and 0 <= q[m]["accuracy_heldout"] <= 1 and q[m]["fd"] >= 0
        assert q["meta"]["per_mode"][m]["steps"] == 1
        assert q["meta"]["timing"]["seconds_per_image_256_batch1"][m] > 0
    meta = q["meta"]
    assert meta["scenes"] == 2 and meta["heldout_scenes"] == 2 and meta["model"]["step"] == 7
    assert set(meta["classifier"]["validation_accuracy"]) == set(KEYS)
    assert meta["ceiling"]["accuracy"] is not None
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    side = json.loads((tmp_path / "sheet.json").read_text())
    assert len(side["rows"]) == 4 and side["columns"][0] == "RENDER"
    # The classifier was cached: the same recipe loads it.
    messages = []
    load_or_train(str(tmp_path / "cache"), 64, 16, 1, log=messages.append)
    assert messages and messages[0].startswith("classifier: loaded"), messages

    # A later run without the teacher carries its figures from this one; a run on other scenes cannot.
    later = tmp_path / "later.json"
    base = EVALUATE + ["--checkpoint", str(tmp_path / "tvm.ckpt"),
            "--tokenizer", TOKENIZER, "--heldout-scenes", "2", "--full-scenes", "2", "--max-steps", "1",
            "--modes", "flash_1,teacher_100", "--no-time-256", "--carry", str(out), "--out", str(later),
            "--cache-dir", str(tmp_path / "cache"), "--classifier-train", "64", "--classifier-val", "16",
            "--classifier-epochs", "1"]
    proc = subprocess.run(base + ["--scenes", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(later.read_text())
    assert r["teacher_100"] == q["teacher_100"] and r["flash_1"]["accuracy"] is not None
    assert r["flash_2"] == {"accuracy": None, "accuracy_heldout": None, "fd": None}
    assert r["meta"]["carried"]["modes"] == ["teacher_100"] and r["meta"]["carried"]["from"] == "quality.json"
    assert r["meta"]["per_mode"]["teacher_100"]["carried_from"] == "quality.json"
    assert r["meta"]["teacher"] == meta["teacher"]
    later.unlink()
    proc = subprocess.run(base + ["--scenes", "3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "differs from this run in scenes" in proc.stderr, proc.stdout + proc.stderr
    assert not later.exists()
