"""Raster helpers for the renderer: smooth noise, signed-distance coverage, alpha blending.

Images are float32 [H, W, 3] while drawing. Distances are in pixels, pixel centres at i + 0.5, so
`coverage(d) = clip(0.5 - d, 0, 1)` antialiases any edge whose signed distance is known.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

F32 = np.float32


@lru_cache(maxsize=256)
def _interp_matrix(n_out: int, cells: int) -> np.ndarray:
    """[n_out, cells + 1] weights that smoothly interpolate cells + 1 lattice values."""
    t = (np.arange(n_out, dtype=np.float64) + 0.5) / n_out * cells
    i = np.minimum(t.astype(np.int64), cells - 1)
    f = t - i
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: no visible lattice creases
    m = np.zeros((n_out, cells + 1), dtype=F32)
    m[np.arange(n_out), i] = 1.0 - f
    m[np.arange(n_out), i + 1] = f
    m.setflags(write=False)
    return m


def noise1d(rng: np.random.Generator, n: int, cells: int, octaves: int = 1,
            gain: float = 0.5) -> np.ndarray:
    """Smooth value noise [n] in about [0, 1]; `cells` lattice cells across n at octave 0."""
    out = np.zeros(n, dtype=F32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = max(1, int(cells * 2 ** o))
        out += amp * (_interp_matrix(n, c) @ rng.random(c + 1, dtype=F32))
        total += amp
        amp *= gain
    return out / F32(total)


def noise2d(rng: np.random.Generator, h: int, w: int, cells_y: float, cells_x: float,
            octaves: int = 1, gain: float = 0.5) -> np.ndarray:
    """Smooth fractal value noise [h, w] in about [0, 1]."""
    out = np.zeros((h, w), dtype=F32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cy, cx = max(1, int(round(cells_y * 2 ** o))), max(1, int(round(cells_x * 2 ** o)))
        lattice = rng.random((cy + 1, cx + 1), dtype=F32)
        out += amp * (_interp_matrix(h, cy) @ lattice @ _interp_matrix(w, cx).T)
        total += amp
        amp *= gain
    return out / F32(total)


def smoothstep(e0: float, e1: float, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def coverage(d: np.ndarray) -> np.ndarray:
    return np.clip(F32(0.5) - d, 0.0, 1.0)


class Region:
    """A clipped pixel box of the image with its pixel-centre coordinates."""

    def __init__(self, shape: tuple[int, int], x0: float, y0: float, x1: float, y1: float):
        h, w = shape
        self.ix0, self.iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        self.ix1, self.iy1 = min(w, int(np.ceil(x1)) + 1), min(h, int(np.ceil(y1)) + 1)
        self.empty = self.ix0 >= self.ix1 or self.iy0 >= self.iy1
        self.X = (np.arange(self.ix0, self.ix1, dtype=F32) + F32(0.5))[None, :]
        self.Y = (np.arange(self.iy0, self.iy1, dtype=F32) + F32(0.5))[:, None]

    @property
    def slices(self):
        return slice(self.iy0, self.iy1), slice(self.ix0, self.ix1)


def blend(img: np.ndarray, region: Region, alpha, colour) -> None:
    """Alpha-composite `colour` ([3] or [h, w, 3]) over img inside region."""
    if region.empty:
        return
    sy, sx = region.slices
    a = np.broadcast_to(np.asarray(alpha, dtype=F32), (sy.stop - sy.start, sx.stop - sx.start))
    patch = img[sy, sx]
    patch += a[..., None] * (np.asarray(colour, dtype=F32) - patch)


def add_light(img: np.ndarray, region: Region, intensity, colour) -> None:
    """Screen-blend a light (glow, beam) of the given intensity and colour."""
    if region.empty:
        return
    sy, sx = region.slices
    light = np.asarray(intensity, dtype=F32)[..., None] * np.asarray(colour, dtype=F32)
    patch = img[sy, sx]
    patch += light * (F32(1.0) - patch)


def sd_box(r: Region, cx: float, cy: float, hw: float, hh: float) -> np.ndarray:
    qx, qy = np.abs(r.X - F32(cx)) - F32(hw), np.abs(r.Y - F32(cy)) - F32(hh)
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0)


def sd_circle(r: Region, cx: float, cy: float, radius: float) -> np.ndarray:
    return np.sqrt((r.X - F32(cx)) ** 2 + (r.Y - F32(cy)) ** 2) - F32(radius)


def sd_polygon(r: Region, points) -> np.ndarray:
    """Signed distance (exact inside, close outside) of a convex polygon, any winding."""
    pts = np.asarray(points, dtype=np.float64)
    area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    sign = 1.0 if area > 0 else -1.0
    d = None
    for (x0, y0), (x1, y1) in zip(pts, np.roll(pts, -1, axis=0)):
        nx, ny = (y1 - y0) * sign, -(x1 - x0) * sign    # outward normal for this winding
        norm = np.hypot(nx, ny)
        e = ((r.X - F32(x0)) * F32(nx / norm) + (r.Y - F32(y0)) * F32(ny / norm))
        d = e if d is None else np.maximum(d, e)
    return d


def sd_segment(r: Region, ax: float, ay: float, bx: float, by: float) -> np.ndarray:
    """Unsigned distance to the segment a-b."""
    px, py = r.X - F32(ax), r.Y - F32(ay)
    dx, dy = F32(bx - ax), F32(by - ay)
    t = np.clip((px * dx + py * dy) / F32(dx * dx + dy * dy + 1e-9), 0.0, 1.0)
    return np.sqrt((px - t * dx) ** 2 + (py - t * dy) ** 2)


def fill_below(img: np.ndarray, top: np.ndarray, colour, y_end: float | None = None,
               shade=None) -> None:
    """Fill everything below the curve y = top[x] (a silhouette), antialiased along the curve.

    `colour` is [3] or a callable (Y [h,1], X [1,w], rows y0..y1) -> [h, w, 3]; `shade` an optional
    callable giving an [h, w] multiplier.
    """
    h, w = img.shape[:2]
    y0 = max(0, int(np.floor(top.min())))
    y1 = h if y_end is None else min(h, int(np.ceil(y_end)))
    if y0 >= y1:
        return
    r = Region((h, w), 0, y0, w - 1, y1 - 1)
    slope = np.gradient(top).astype(F32)
    d = (F32(top)[None, :] - r.Y) / np.sqrt(F32(1.0) + slope * slope)[None, :]
    a = coverage(d)
    if y_end is not None:
        a = a * coverage(r.Y - F32(y_end))
    col = colour(r) if callable(colour) else np.asarray(colour, dtype=F32)
    if shade is not None:
        col = col * shade(r)[..., None]
    blend(img, r, a, col)
