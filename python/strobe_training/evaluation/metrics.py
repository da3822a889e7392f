"""Attribute accuracy, the Fréchet distance, grid seams and seed variety (numpy only, no scipy).

Attribute accuracy of one image: the fraction of its scene's *specified* attributes that the
classifier reads correctly. A caption of the grammar determines every attribute (it names the
time of day, the terrain, every sky feature present — one not named is absent — and every object
with its colour and position), so the specified attributes of a scene are:
- time_of_day, terrain;
- the four sky flags clouds, sun, moon, stars (present or absent);
- the presence of each of the six object kinds (present or absent);
- for each object present: its position and, when the kind has colours, its colour.
That is 12 attributes for a scene without objects and up to 16 with two. The position and colour
heads of an absent kind (whose label is "none") are not counted. A scene's score is its fraction
correct; the reported accuracy is the mean over scenes.

Seam ratio of an image at grid g: the mean absolute colour step (mean over R, G, B of |Δ| on uint8
values) across the lines between pixel k·g − 1 and k·g (columns and rows, k ≥ 1) over the mean step
between all other neighbouring pixels. A picture without a grid scores about 1 (renders: about
0.98 at 16 px); an image drawn as a mosaic of g-pixel tiles scores well above 1 (v1: 2.5–3.1 at its
16-px patch grid). One function for every caller: the evaluation, `evaluate_edits` (its steps), the
v2 autoencoder's training and evaluation (`strobe_training.v2.metrics` re-exports it).

Seed variety of a set of images (the images of several seeds of one prompt, or renders of scenes
that match it): the mean over pairs of the RMS distance between two images, on the 0–255 scale.
The variety ratio of a model is its variety over the renders' on the same prompts (the mean over
prompts of each, then their quotient): 1 is as varied as the scenes the prompts describe.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch

from strobe_training.scenes import ATTRIBUTE_VALUES

from .classifier import KEYS

_PRESENCE_OF = {}   # key index of *_position / *_colour → key index of the kind's presence
for _i, _k in enumerate(KEYS):
    for _suffix in ("_position", "_colour"):
        if _k.endswith(_suffix):
            _PRESENCE_OF[_i] = KEYS.index(_k[: -len(_suffix)])
_TRUE = {i: ATTRIBUTE_VALUES[KEYS[i]].index(True) for i in set(_PRESENCE_OF.values())}


def specified(labels: torch.Tensor) -> torch.Tensor:
    """Labels [N, K] → bool [N, K]: which attributes count for each scene (see module doc)."""
    labels = torch.as_tensor(labels)
    mask = torch.ones(labels.shape, dtype=torch.bool)
    for i, kind in _PRESENCE_OF.items():
        mask[:, i] = labels[:, kind] == _TRUE[kind]
    return mask


def attribute_accuracy(pred: torch.Tensor, labels: torch.Tensor) -> dict:
    """Predicted and true class indices [N, K] → {"accuracy": mean over scenes of the fraction of
    specified attributes correct, "per_scene": [N], "per_attribute": {key: accuracy over the scenes
    where it counts (None when it never does)}, "groups": {...}}."""
    pred, labels = torch.as_tensor(pred), torch.as_tensor(labels)
    if len(labels) == 0:
        return {"accuracy": None, "per_scene": [], "per_attribute": {k: None for k in KEYS}, "groups": {}}
    mask = specified(labels)
    correct = (pred == labels) & mask
    per_scene = correct.sum(1).double() / mask.sum(1).double()
    per_attribute = {}
    for i, key in enumerate(KEYS):
        n = int(mask[:, i].sum())
        per_attribute[key] = round(float(correct[:, i].sum()) / n, 4) if n else None
    groups = {}
    for name, select in (("time_of_day", lambda k: k == "time_of_day"), ("terrain", lambda k: k == "terrain"),
                         ("sky", lambda k: k in ("clouds", "sun", "moon", "stars")),
                         ("presence", lambda k: k in {KEYS[j] for j in _TRUE}),
                         ("position", lambda k: k.endswith("_position")),
                         ("colour", lambda k: k.endswith("_colour"))):
        cols = [i for i, k in enumerate(KEYS) if select(k)]
        n = int(mask[:, cols].sum())
        groups[name] = round(float(correct[:, cols].sum()) / n, 4) if n else None
    return {"accuracy": float(per_scene.mean()), "per_scene": [round(float(v), 4) for v in per_scene],
            "per_attribute": per_attribute, "groups": groups}


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a [N, D] and b [M, D]:
        ‖μa − μb‖² + tr Σa + tr Σb − 2 tr (Σa Σb)^½,
    where tr (Σa Σb)^½ = Σ √λ over the eigenvalues λ of the symmetric PSD matrix Σa^½ Σb Σa^½
    (similar to Σa Σb, so the same eigenvalues). Covariances are unbiased (N − 1); float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"need two feature sets [N≥2, D] of the same D, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    values = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(values, 0, None)).sum()
    fd = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
    return max(fd, 0.0)


# ---------------------------------------------------------------------------------- seams


def _hwc_uint8(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """uint8 [H, W, 3] as is; a float [3, H, W] image in [0, 1] quantised to uint8 [H, W, 3]."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected uint8 [H, W, 3] or float [3, H, W], got {image.dtype} {image.shape}")
    return image


def colour_steps(image: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(steps_x [H, W−1], steps_y [H−1, W]): the mean over R, G, B of the absolute difference
    between horizontally (x, x + 1) and vertically (y, y + 1) neighbouring uint8 pixels. Takes
    uint8 [H, W, 3] or float [3, H, W] in [0, 1] (quantised to uint8 first)."""
    f = _hwc_uint8(image).astype(np.float64)
    return np.abs(np.diff(f, axis=1)).mean(-1), np.abs(np.diff(f, axis=0)).mean(-1)


def seam_ratio(image: np.ndarray | torch.Tensor, grid: int) -> float:
    """The seam ratio of one image at `grid` pixels (module doc): uint8 [H, W, 3] or float
    [3, H, W] in [0, 1]. An image smaller than the grid on both sides has no border: nan."""
    if grid < 2:
        raise ValueError(f"grid must be at least 2 pixels, got {grid}")
    steps_x, steps_y = colour_steps(image)
    on_x = (np.arange(steps_x.shape[1]) + 1) % grid == 0          # [W−1]: the step from k·g − 1 to k·g
    on_y = (np.arange(steps_y.shape[0]) + 1) % grid == 0          # [H−1]
    border = np.concatenate([steps_x[:, on_x].ravel(), steps_y[on_y, :].ravel()])
    rest = np.concatenate([steps_x[:, ~on_x].ravel(), steps_y[~on_y, :].ravel()])
    if border.size == 0:
        return float("nan")
    return float(border.mean() / max(rest.mean(), 1e-9))


def seam_summary(images: Iterable, grids: Sequence[int] = (2, 4, 8, 16, 32)) -> dict[int, dict]:
    """Images (each as `seam_ratio` takes them) → {grid: {"mean", "min", "max"}} of the
    per-image seam ratios, rounded to 3 decimals."""
    images = list(images)
    out = {}
    for g in grids:
        r = [seam_ratio(im, g) for im in images]
        out[g] = {"mean": round(float(np.mean(r)), 3), "min": round(float(np.min(r)), 3),
                  "max": round(float(np.max(r)), 3)}
    return out


# ---------------------------------------------------------------------------------- variety


def rms_distance(a: np.ndarray, b: np.ndarray) -> float:
    """RMS difference of two uint8 images of one shape, over pixels and channels (0–255 scale)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} and {b.shape}")
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.sqrt((d * d).mean()))


def mean_pairwise_rms(images: Sequence[np.ndarray]) -> float:
    """The variety of a set of ≥ 2 images of one shape: the mean RMS distance over all pairs."""
    if len(images) < 2:
        raise ValueError(f"need at least two images, got {len(images)}")
    pairs = [rms_distance(images[i], images[j]) for i in range(len(images)) for j in range(i + 1, len(images))]
    return float(np.mean(pairs))


def variety_ratio(model_variety: Sequence[float], render_variety: Sequence[float]) -> float:
    """Per-prompt varieties of a model's seeds and of the renders of the same prompts → the mean
    of the first over the mean of the second (prompts weigh by the renders' spread, so a prompt
    whose scenes barely vary does not dominate)."""
    if len(model_variety) != len(render_variety) or not len(model_variety):
        raise ValueError(f"need the same, non-zero number of prompts, got {len(model_variety)} and "
                         f"{len(render_variety)}")
    ref = float(np.mean(render_variety))
    if ref <= 0:
        raise ValueError("the renders do not vary: no reference")
    return float(np.mean(model_variety)) / ref
