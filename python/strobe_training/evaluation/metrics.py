"""Attribute accuracy and the Fréchet distance (numpy only, no scipy).

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
"""
from __future__ import annotations

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
