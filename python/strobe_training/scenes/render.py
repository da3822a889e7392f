"""render(scene, width, height, seed) -> float32 [3, H, W] in [0, 1], deterministic.

Order: composition (horizon, object places), terrain plan (silhouettes), sun or moon placed above
them, sky, terrain, objects, vignette.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .frame import Frame
from .objects import draw_objects
from .palette import TIMES, sky_rows
from .raster import F32
from .scene import SKY_KINDS, WATER_TERRAINS, Scene
from .sky import draw_sky, place_celestial
from .terrain import plan_terrain


def horizon_fraction(width: int, height: int, terrain: str) -> float:
    """Horizon height as a fraction of the image height, adapted to the aspect ratio."""
    aspect = width / height
    hf = 0.62
    if aspect < 0.8:
        hf = 0.64       # tall frames: more sky above the land
    elif aspect > 1.6:
        hf = 0.60
    if terrain in WATER_TERRAINS:
        hf -= 0.05
    return hf


@lru_cache(maxsize=32)
def _vignette(width: int, height: int) -> np.ndarray:
    y = (np.arange(height, dtype=F32) + 0.5) / height - 0.5
    x = (np.arange(width, dtype=F32) + 0.5) / width - 0.5
    v = 1.0 - 0.28 * (x[None, :] ** 2 + y[:, None] ** 2)
    v.setflags(write=False)
    return v.astype(F32)


def render(scene: Scene, width: int, height: int, seed: int) -> np.ndarray:
    return _render(scene, width, height, seed, want_mask=False)[0]


def render_with_object_mask(scene: Scene, width: int, height: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`render` plus a bool mask [H, W] of the pixels the objects changed (bodies, lit windows,
    beams, reflections): training weights them up (strobe_training.train --object-weight)."""
    return _render(scene, width, height, seed, want_mask=True)[:2]  # type: ignore[return-value]


def render_with_masks(scene: Scene, width: int, height: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`render_with_object_mask` plus a bool mask [H, W] of the pixels the sun, moon and stars
    changed (`sky.draw_sky`): training weights them up too (strobe_training.train --sky-weight)."""
    return _render(scene, width, height, seed, want_mask=True)  # type: ignore[return-value]


def _render(scene: Scene, width: int, height: int, seed: int,
            want_mask: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    if width < 16 or height < 16:
        raise ValueError(f"image size {width}x{height} too small (at least 16x16)")
    rng = np.random.default_rng(seed)
    palette = TIMES[scene.time]
    horizon = height * (horizon_fraction(width, height, scene.terrain) + rng.uniform(-0.02, 0.02))
    f = Frame(scene=scene, width=width, height=height, rng=rng, palette=palette,
              horizon=float(horizon), sky=sky_rows(palette, horizon, height))
    # Object places come from their own stream, so adding or removing an object leaves the
    # rest of the picture as it was (useful for attribute checks).
    place_rng = np.random.default_rng([seed, 1])
    for o in sorted(scene.objects, key=lambda o: o.kind):
        jitter = place_rng.uniform(-0.06, 0.06) * width
        f.object_x[o.kind] = f.third_x(o.position) + jitter
    steps = plan_terrain(f)
    place_celestial(f, avoid={o.position for o in scene.objects if o.kind in SKY_KINDS}
                    | ({o.position for o in scene.objects} if len(scene.objects) < 3 else set()))
    img = np.empty((height, width, 3), dtype=F32)
    bodies = draw_sky(img, f, want_bodies=want_mask)
    for step in steps:
        step(img)
    before = img.copy() if want_mask else None
    draw_objects(img, f)
    mask = None if before is None else np.abs(img - before).max(axis=2) > 1e-3
    img *= _vignette(width, height)[..., None]
    np.clip(img, 0.0, 1.0, out=img)
    return np.ascontiguousarray(img.transpose(2, 0, 1)), mask, bodies
