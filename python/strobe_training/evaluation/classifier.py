"""Attribute classifiers: one small CNN with one head per key of `ATTRIBUTE_VALUES`.

Input. Every image, whatever its aspect ratio, is resized (area averaging, no letterbox) to
64x64 and quantised to 8 bits, the way a generated PNG would be. Resizing keeps horizontal
fractions, so "left / centre / right thirds" stay thirds; letterboxing would waste most of the
64x64 grid on bars for the 9:21 and 21:9 sizes.

Training data. Renders only (never generated images): scenes from `sample_scene(rng,
allow_heldout=True)` — the judge must know the held-out combinations too — at a random one of the
nine aspect ratios, rendered at half the model's size (4x cheaper than full size) and resized to
64x64. Horizontal flips, with left and right swapped in the labels, double the data. Validation
uses fresh scenes rendered at the model's full sizes, the sizes generated images have.

Network (about 19M multiply-adds per image): five 3x3 convolutions with batch norm and ReLU,
64 → 32 → 16 → 8 → 4, then 2048 → 128 features (the penultimate layer used for the Fréchet
distance), then one linear head per attribute (booleans as two classes). Seeded and run on one
thread, training is deterministic.

Cost of the default recipe (16,000 training renders, 1,000 validation renders, 8 epochs) on one
core of the development machine: about 10 ms a half-size render, 35 ms a full-size one, 1.3 ms
an image-epoch of training; 5–6 minutes in all (more when the machine is busy). The result is
cached by recipe (`classifier-<hash>.pt` under the cache directory) and reused.

The committed judge. Training is deterministic on one machine but not across processors (other
SIMD widths round differently, and eight epochs amplify it): the same recipe trained on two
machines read the same edits 0.83 and 0.96. So the default recipe's classifier is committed
(`judges/classifier-<hash>.safetensors`, 2 MB) and every evaluation uses it, on any machine, unless
told to retrain; results name the weights they used (`weights_sha256`). `python -m
strobe_training.evaluation.classifier --commit` writes it from the cache (training it there first
if needed).
"""
from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from strobe_training.scenes import ASPECT_SIZES, ATTRIBUTE_VALUES, Scene, render, sample_scene

INPUT_SIZE = 64
FEATURES = 128
KEYS: tuple[str, ...] = tuple(ATTRIBUTE_VALUES)
ARCH_VERSION = 1          # bump when the network or the data recipe changes (cache key)


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "strobe", "evaluation")


# ---------------------------------------------------------------------------------------------
# Inputs and labels


def to_input(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Pixels [B, 3, H, W] (or [3, H, W]) in [0, 1] → uint8 [B, 3, 64, 64] (area resize, rounding)."""
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.dim() == 3:
        x = x[None]
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="area")
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def labels_of(scene: Scene) -> list[int]:
    """Class index per key of ATTRIBUTE_VALUES."""
    attrs = scene.attributes()
    return [ATTRIBUTE_VALUES[k].index(attrs[k]) for k in KEYS]


def _flip_permutation() -> list[torch.Tensor]:
    """Per key, the class permutation of a horizontal flip (left ↔ right)."""
    perms = []
    for key in KEYS:
        values = list(ATTRIBUTE_VALUES[key])
        swap = {"left": "right", "right": "left"}
        perms.append(torch.tensor([values.index(swap.get(v, v)) if isinstance(v, str) else i
                                   for i, v in enumerate(values)]))
    return perms


def render_set(n: int, seed: int, scale: float = 1.0, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """n random scenes (held-out combinations allowed) at random aspect ratios, rendered at
    `scale` times the model's size → (uint8 [n, 3, 64, 64], labels int64 [n, len(KEYS)])."""
    rng = np.random.default_rng(seed)
    ratios = sorted(ASPECT_SIZES)
    images = torch.empty(n, 3, INPUT_SIZE, INPUT_SIZE, dtype=torch.uint8)
    labels = torch.empty(n, len(KEYS), dtype=torch.long)
    start = time.time()
    for i in range(n):
        scene = sample_scene(rng, allow_heldout=True)
        w, h = ASPECT_SIZES[ratios[int(rng.integers(len(ratios)))]]
        image = render(scene, int(round(w * scale)), int(round(h * scale)), int(rng.integers(2**31)))
        images[i] = to_input(image)[0]
        labels[i] = torch.tensor(labels_of(scene))
        if progress and (i + 1) % 5000 == 0:
            print(f"  rendered {i + 1}/{n} ({time.time() - start:.0f} s)", flush=True)
    return images, labels


# ---------------------------------------------------------------------------------------------
# Network


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class AttributeClassifier(nn.Module):
    def __init__(self, width: int = 24):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            _conv(3, w, 2),             # 32x32
            _conv(w, 2 * w, 2),         # 16x16
            _conv(2 * w, 2 * w, 1),
            _conv(2 * w, 4 * w, 2),     # 8x8
            _conv(4 * w, 4 * w, 1),
            _conv(4 * w, 128, 2),       # 4x4
        )
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(128 * 16, FEATURES), nn.ReLU(inplace=True))
        self.heads = nn.ModuleList(nn.Linear(FEATURES, len(ATTRIBUTE_VALUES[k])) for k in KEYS)
        self.width = width

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, 64, 64] → penultimate features [B, 128]."""
        x = x.float() * (2 / 255) - 1
        return self.features(self.body(x))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f = self.embed(x)
        return [head(f) for head in self.heads]

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 [B, 3, 64, 64] → (class indices [B, len(KEYS)], features [B, 128]), eval mode."""
        was = self.training
        self.eval()
        preds, feats = [], []
        for i in range(0, len(x), batch):
            f = self.embed(x[i:i + batch])
            feats.append(f)
            preds.append(torch.stack([head(f).argmax(1) for head in self.heads], 1))
        self.train(was)
        if not preds:
            return torch.empty(0, len(KEYS), dtype=torch.long), torch.empty(0, FEATURES)
        return torch.cat(preds), torch.cat(feats)


def per_key_accuracy(pred: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    correct = (pred == labels).float().mean(0)
    return {k: round(float(c), 4) for k, c in zip(KEYS, correct)}


def train_classifier(images: torch.Tensor, labels: torch.Tensor, epochs: int = 6, batch: int = 128,
                     lr: float = 3e-3, seed: int = 0, width: int = 24, log=print) -> AttributeClassifier:
    """Trains on uint8 images [N, 3, 64, 64] with labels [N, K] (each batch half flipped)."""
    torch.manual_seed(seed)
    model = AttributeClassifier(width)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    n = len(images)
    steps = epochs * max(1, n // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    perms = _flip_permutation()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    step, start = 0, time.time()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n - batch + 1 if n >= batch else 1, batch):
            idx = order[i:i + batch]
            x, y = images[idx], labels[idx].clone()
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            for k, perm in enumerate(perms):
                y[flip, k] = perm[y[flip, k]]
            logits = model(x)
            loss = sum(F.cross_entropy(l, y[:, k]) for k, l in enumerate(logits)) / len(logits)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step < steps:
                sched.step()
            step += 1
            total += loss.item() * len(idx)
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / n:.4f} ({time.time() - start:.0f} s)")
    model.eval()
    return model


# ---------------------------------------------------------------------------------------------
# Cache


def recipe(n_train: int, n_val: int, epochs: int, seed: int) -> dict:
    return {"arch_version": ARCH_VERSION, "n_train": n_train, "n_val": n_val, "epochs": epochs, "seed": seed,
            "train_scale": 0.5, "input_size": INPUT_SIZE, "keys": list(KEYS),
            "values": {k: [str(v) for v in ATTRIBUTE_VALUES[k]] for k in KEYS}}


def recipe_digest(r: dict) -> str:
    """The 12 hex digits that name a recipe's classifier files."""
    return hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:12]


def classifier_difference(a: dict, b: dict) -> str | None:
    """How the classifiers of two results' infos (their meta["classifier"]) differ, or None when they
    are the same: another recipe, or the same recipe trained anew (told by the weights'
    fingerprints, or for results older than those by the validation accuracies)."""
    if a.get("recipe") != b.get("recipe"):
        return "the classifier recipe differs"
    if a.get("weights_sha256") and b.get("weights_sha256"):
        return None if a["weights_sha256"] == b["weights_sha256"] else \
            "the classifier's weights differ (it was trained anew in between)"
    if a.get("validation_accuracy") != b.get("validation_accuracy"):
        return "the classifier was trained anew in between (its validation accuracies differ)"
    return None


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 (12 hex digits) of the model's tensors in state-dict order: the same recipe trained on
    two machines gives two fingerprints, so results made with different classifiers are told apart."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


# The default recipe: the one the committed judge was trained with.
DEFAULT_TRAIN, DEFAULT_VAL, DEFAULT_EPOCHS = 16_000, 1_000, 8
JUDGES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "judges")


def save_judge(model: "AttributeClassifier", info: dict, path: str) -> None:
    """The classifier as safetensors: its tensors, and its width and info (JSON) as metadata."""
    from safetensors.torch import save_file
    tmp = path + ".tmp"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp,
              metadata={"width": str(model.width), "info": json.dumps(info, sort_keys=True)})
    os.replace(tmp, path)


def judge_path(r: dict) -> str:
    """Where the committed judge of recipe `r` lives."""
    return os.path.join(JUDGES_DIR, f"classifier-{recipe_digest(r)}.safetensors")


def load_judge(path: str) -> tuple["AttributeClassifier", dict]:
    """A classifier written by `save_judge`, in eval mode, and its info."""
    from safetensors import safe_open
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys()}
    model = AttributeClassifier(int(meta["width"]))
    model.load_state_dict(state)
    return model.eval(), json.loads(meta["info"])


def load_or_train(cache_dir: str | None = None, n_train: int = DEFAULT_TRAIN, n_val: int = DEFAULT_VAL,
                  epochs: int = DEFAULT_EPOCHS,
                  seed: int = 0, retrain: bool = False, log=print) -> tuple[AttributeClassifier, dict]:
    """The committed judge for this recipe (`JUDGES_DIR`), else the cached classifier, else a freshly
    trained one (then cached); with `retrain`, always a freshly trained one. Returns (model in eval
    mode, info with the validation accuracies, timings, the weights' fingerprint and "source":
    committed, cache or trained)."""
    cache_dir = cache_dir or default_cache_dir()
    r = recipe(n_train, n_val, epochs, seed)
    committed = judge_path(r)
    if os.path.exists(committed) and not retrain:
        model, info = load_judge(committed)
        log(f"classifier: the committed judge {os.path.basename(committed)}")
        return model, {**info, "weights_sha256": weights_fingerprint(model), "source": "committed"}
    path = os.path.join(cache_dir, f"classifier-{recipe_digest(r)}.pt")
    if os.path.exists(path) and not retrain:
        saved = torch.load(path, weights_only=False)
        model = AttributeClassifier(saved["width"])
        model.load_state_dict(saved["state"])
        model.eval()
        log(f"classifier: loaded {path}")
        return model, {**saved["info"], "weights_sha256": weights_fingerprint(model), "source": "cache"}
    torch.manual_seed(seed)
    log(f"classifier: rendering {n_train} training images (half size) and {n_val} validation images")
    t0 = time.time()
    images, labels = render_set(n_train, seed=seed * 1000 + 1, scale=0.5, progress=True)
    t_render = time.time() - t0
    val_images, val_labels = render_set(n_val, seed=seed * 1000 + 2, scale=1.0)
    t_val_render = time.time() - t0 - t_render
    log(f"classifier: rendered in {t_render:.0f} s + {t_val_render:.0f} s; training {epochs} epochs")
    t1 = time.time()
    model = train_classifier(images, labels, epochs=epochs, seed=seed, log=log)
    t_train = time.time() - t1
    pred, _ = model.predict(val_images)
    train_pred, _ = model.predict(images[:n_val])
    info = {
        "recipe": r,
        "validation_accuracy": per_key_accuracy(pred, val_labels),
        "validation_accuracy_mean": round(float((pred == val_labels).float().mean()), 4),
        "train_accuracy_mean": round(float((train_pred == labels[:n_val]).float().mean()), 4),
        "seconds": {"render_train": round(t_render, 1), "render_val": round(t_val_render, 1),
                    "train": round(t_train, 1)},
    }
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp"
    torch.save({"state": model.state_dict(), "width": model.width, "info": info}, tmp)
    os.replace(tmp, path)
    log(f"classifier: saved {path}; validation accuracy (full-size renders) "
        f"{info['validation_accuracy_mean']:.4f}")
    return model, {**info, "weights_sha256": weights_fingerprint(model), "source": "trained"}


def commit_judge(trained_on: str, log=print) -> str:
    """Writes the default recipe's classifier (from the cache, trained there first if missing) to
    `JUDGES_DIR`, with `trained_on` (the machine) in its info; returns the path."""
    path = judge_path(recipe(DEFAULT_TRAIN, DEFAULT_VAL, DEFAULT_EPOCHS, 0))
    if os.path.exists(path):
        raise SystemExit(f"{path} exists: evaluations made with it would no longer be comparable; "
                         "remove it first if a new judge is really meant")
    model, info = load_or_train(None, DEFAULT_TRAIN, DEFAULT_VAL, DEFAULT_EPOCHS, seed=0, log=log)
    info = {k: v for k, v in info.items() if k not in ("weights_sha256", "source")} | {"trained_on": trained_on}
    os.makedirs(JUDGES_DIR, exist_ok=True)
    save_judge(model, info, path)
    log(f"classifier: committed judge written to {path} (weights {weights_fingerprint(model)})")
    return path


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="The evaluation's attribute classifier.")
    parser.add_argument("--commit", metavar="MACHINE", required=True,
                        help="write the default recipe's classifier to the committed judges, noting the machine it was trained on")
    commit_judge(parser.parse_args().commit)
