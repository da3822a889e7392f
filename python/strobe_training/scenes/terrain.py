"""Terrains: layered silhouettes with atmospheric perspective, water with reflections.

`plan_terrain(f)` decides the silhouettes (so the sun can be placed above them) and returns the
drawing steps; it sets f.skyline, f.ground and f.water_y.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .frame import Frame
from .palette import WINDOW_LIT, lit
from .raster import (F32, Region, add_light, blend, coverage, fill_below, noise1d, noise2d,
                     smoothstep)

Step = Callable[[np.ndarray], None]
LAND_KINDS = ("house", "lighthouse", "tree")


def plan_terrain(f: Frame) -> list[Step]:
    build = {"mountains": _mountains, "snowy_mountains": _mountains, "hills": _hills,
             "desert": _desert, "sea": _sea, "lake": _lake, "forest": _forest, "city": _city}
    return build[f.scene.terrain](f)


# ------------------------------------------------------------------------------ shared pieces

def _xs(f: Frame) -> np.ndarray:
    return np.arange(f.width, dtype=F32) + F32(0.5)


def _aerial(f: Frame, colour, fog: float, floor: float = 0.0) -> np.ndarray:
    """Colour under the time's light, faded toward the horizon haze by `fog` (0 near, 1 far)."""
    c = lit(colour, f.palette, floor)
    return (c + F32(fog) * (f.haze - c)).astype(F32)


def _light_dir(f: Frame) -> float:
    """+1 when light comes from the right, -1 from the left."""
    if f.sun_xy is not None and f.scene.sun:
        return 1.0 if f.sun_xy[0] > f.width / 2 else -1.0
    return -1.0


def _texture(f: Frame, r: Region, cells: float, amount: float) -> np.ndarray:
    h, w = r.Y.shape[0], r.X.shape[1]
    return 1.0 + amount * (noise2d(f.rng, h, w, h / cells, w / cells, octaves=2) - 0.5)


def _foreground(f: Frame, colour, depth: float = 0.55, amp: float = 0.05,
                flatten: bool = True) -> tuple[np.ndarray, Step]:
    """The ground strip objects stand on; sets f.ground."""
    H, hz = f.height, f.horizon
    base = hz + depth * (H - hz)
    top = base + amp * (H - hz) * (noise1d(f.rng, f.width, max(1, f.width / (0.4 * f.unit)), 2) - 0.5)
    if flatten:   # level ground where objects stand, so they do not float or sink
        for x in f.object_x.values():
            lo, hi = int(max(0, x - 0.12 * f.unit)), int(min(f.width, x + 0.12 * f.unit))
            top[lo:hi] = top[lo:hi].mean() if hi > lo else top[lo:hi]
        top = np.convolve(np.pad(top, 4, mode="edge"), np.ones(9, F32) / 9, "valid").astype(F32)
    f.ground = top.astype(F32)
    col = _aerial(f, colour, 0.0, floor=0.1)
    seed_tex = int(f.rng.integers(1 << 30))

    def draw(img):
        def shade(r):
            tex = _texture_seeded(seed_tex, r, 0.05 * f.unit, 0.16)
            return tex * (1.0 - 0.28 * np.clip((r.Y - base) / (H - base + 1), 0, 1))
        fill_below(img, f.ground, col, shade=shade)
    return top, draw


def _texture_seeded(seed: int, r: Region, cells: float, amount: float) -> np.ndarray:
    h, w = r.Y.shape[0], r.X.shape[1]
    rng = np.random.default_rng(seed)
    return 1.0 + amount * (noise2d(rng, h, w, h / cells, w / cells, octaves=2) - 0.5)


def _merge_skyline(f: Frame, top: np.ndarray) -> None:
    f.skyline = top.copy() if f.skyline is None else np.minimum(f.skyline, top)


# ------------------------------------------------------------------------------ mountains

def _peaks(f: Frame, base: float, amp: float, slope: tuple[float, float], jag: float):
    """Ridge line made of cones; returns top [W] and, per column, its peak's x, y."""
    rng, W, x = f.rng, f.width, _xs(f)
    mean_half = amp / np.mean(slope)
    n = int(np.ceil(1.3 * W / mean_half)) + 2
    px = rng.uniform(-0.15 * W, 1.15 * W, n).astype(F32)
    ph = (amp * rng.uniform(0.45, 1.0, n)).astype(F32)
    s = rng.uniform(*slope, n).astype(F32)
    cones = ph[:, None] - np.abs(x[None, :] - px[:, None]) * s[:, None]       # [n, W]
    idx = np.argmax(cones, axis=0)
    h = np.maximum(cones[idx, np.arange(W)], 0.0)
    rough = noise1d(rng, W, max(2, W / (0.025 * f.unit)), octaves=3) - 0.5
    h = h + jag * f.unit * rough * np.clip(h / (0.2 * amp + 1e-6), 0, 1)
    k = rng.uniform(-0.35, 0.35, n).astype(F32)        # lean of each peak's shading ridge
    return (base - h).astype(F32), px[idx], (base - ph[idx]).astype(F32), ph[idx], k[idx]


def _mountains(f: Frame) -> list[Step]:
    snowy = f.scene.terrain == "snowy_mountains"
    H, hz, rng = f.height, f.horizon, f.rng
    layers = [  # (base y, amplitude, rock colour, fog, snow depth)
        (hz, 0.62 * f.relief, (0.46, 0.50, 0.62), 0.55, 0.55),
        (hz + 0.10 * (H - hz), 0.42 * f.relief, (0.36, 0.38, 0.44), 0.3, 0.42),
        (hz + 0.25 * (H - hz), 0.24 * f.relief, (0.30, 0.34, 0.26) if not snowy else (0.34, 0.34, 0.40),
         0.1, 0.3),
    ]
    steps: list[Step] = []
    plans = []
    for base, amp, colour, fog, snow_depth in layers:
        amp = min(amp, 0.75 * f.width)
        top, px, py, ph, k = _peaks(f, base, amp, (0.55, 1.05), 0.025)
        _merge_skyline(f, top)
        snow_noise = noise1d(rng, f.width, max(2, f.width / (0.04 * f.unit)), octaves=2)
        snowline = py + ph * snow_depth * (0.55 + 0.9 * snow_noise)
        plans.append((top, px, py, k, snowline, colour, fog, base))
    fg_colour = (0.93, 0.95, 0.99) if snowy else (0.30, 0.44, 0.20)
    _, fg_draw = _foreground(f, fg_colour, depth=0.62)

    def draw(img):
        ldir = _light_dir(f)
        strength = 0.45 if f.scene.time in ("golden_hour", "sunset", "dawn") else 0.32
        for top, px, py, k, snowline, colour, fog, base in plans:
            rock = _aerial(f, colour, fog, floor=0.1)
            snow_lit = _aerial(f, (0.96, 0.97, 1.0), fog * 0.6, floor=0.4)
            snow_dark = _aerial(f, (0.60, 0.68, 0.84), fog * 0.6, floor=0.3)
            haze = f.haze

            def col(r, top=top, px=px, py=py, k=k, snowline=snowline, rock=rock, fog=fog,
                    base=base, snow_lit=snow_lit, snow_dark=snow_dark):
                ridge_x = px[None, :] + k[None, :] * (r.Y - py[None, :])
                side = smoothstep(-1.5, 1.5, (r.X - ridge_x) * ldir)        # 1: faces the light
                # Faces read near the ridges and merge lower down, hiding the valley seams.
                fade = np.exp(-(r.Y - top[None, :]) / (0.35 * (base - py[None, :]) + 4.0))
                side = 0.5 + (side - 0.5) * fade
                shade = (1.0 - strength) + strength * side
                tex = _texture(f, r, 0.03 * f.unit, 0.12)
                out = rock[None, None, :] * (shade * tex)[..., None]
                if snowy:
                    s = coverage(r.Y - snowline[None, :])
                    snow = snow_dark + side[..., None] * (snow_lit - snow_dark)
                    out = out + s[..., None] * (snow - out)
                mist = 0.5 * smoothstep(float(top.min()), base + 1.0, r.Y) * (0.4 + fog)
                return out + mist[..., None] * (haze - out)
            fill_below(img, top, col)
        fg_draw(img)
    steps.append(draw)
    return steps


# ------------------------------------------------------------------------------ hills, dunes

def _rolling(f: Frame, base: float, amp: float, scale: float, octaves: int = 2) -> np.ndarray:
    n = noise1d(f.rng, f.width, max(1, f.width / (scale * f.unit)), octaves)
    return (base - amp * (0.25 + 0.75 * n)).astype(F32)


def _hills(f: Frame) -> list[Step]:
    H, hz = f.height, f.horizon
    specs = [(hz + 0.02 * (H - hz), 0.20 * f.relief, 0.7, (0.42, 0.58, 0.40), 0.5),
             (hz + 0.15 * (H - hz), 0.16 * f.relief, 0.55, (0.36, 0.58, 0.24), 0.25),
             (hz + 0.32 * (H - hz), 0.12 * f.relief, 0.45, (0.40, 0.62, 0.22), 0.08)]
    tops = [_rolling(f, b, a, s) for b, a, s, _, _ in specs]
    for t in tops:
        _merge_skyline(f, t)
    _, fg_draw = _foreground(f, (0.33, 0.55, 0.19), depth=0.62)

    def draw(img):
        ldir = _light_dir(f)
        for top, (_, _, _, colour, fog) in zip(tops, specs):
            c = _aerial(f, colour, fog, floor=0.1)
            slope = np.gradient(top)
            col_shade = (1.0 + np.clip(slope * ldir * 2.5, -0.25, 0.25)).astype(F32)

            def shade(r, col_shade=col_shade, top=top):
                depth = np.clip((r.Y - top[None, :]) / (0.25 * f.unit), 0, 1)
                return col_shade[None, :] * (1.0 - 0.15 * depth) * _texture(f, r, 0.03 * f.unit, 0.12)
            fill_below(img, top, c, shade=shade)
        fg_draw(img)
    return [draw]


def _desert(f: Frame) -> list[Step]:
    H, hz = f.height, f.horizon
    specs = [(hz + 0.02 * (H - hz), 0.16 * f.relief, 0.55, 0.45),
             (hz + 0.18 * (H - hz), 0.14 * f.relief, 0.45, 0.22),
             (hz + 0.36 * (H - hz), 0.12 * f.relief, 0.4, 0.06)]
    tops = []
    for base, amp, scale, _ in specs:
        n = noise1d(f.rng, f.width, max(1, f.width / (scale * f.unit)), 2)
        crest = n ** 1.8                       # sharper crests, wide troughs
        tops.append((base - amp * (0.1 + 1.1 * crest)).astype(F32))
    for t in tops:
        _merge_skyline(f, t)
    _, fg_draw = _foreground(f, (0.90, 0.72, 0.46), depth=0.64)
    ripple_phase = float(f.rng.uniform(0, 6.3))

    def draw(img):
        ldir = _light_dir(f)
        for top, (_, _, _, fog) in zip(tops, specs):
            lit_c = _aerial(f, (0.95, 0.76, 0.50), fog, floor=0.1)
            dark_c = _aerial(f, (0.70, 0.48, 0.32), fog, floor=0.1)
            slope = np.gradient(top).astype(F32)

            def col(r, top=top, slope=slope, lit_c=lit_c, dark_c=dark_c):
                # The face toward the light is lit; the other side of the crest in shadow,
                # fading out down the slope.
                face = smoothstep(-0.08, 0.08, slope * ldir)[None, :]
                below = np.clip((r.Y - top[None, :]) / (0.12 * f.unit), 0, 1)
                t = np.clip(face + below * 0.6, 0, 1)
                ripples = 1.0 + 0.035 * np.sin(r.Y * 0.9 + r.X * 0.12 + ripple_phase
                                               + 4 * np.sin(r.X * 0.03))
                out = dark_c + t[..., None] * (lit_c - dark_c)
                return out * ripples[..., None]
            fill_below(img, top, col)
        fg_draw(img)
    return [draw]


# ------------------------------------------------------------------------------ forest

def _pines(f: Frame, base: float, height: float, jitter: float) -> np.ndarray:
    rng, W, x = f.rng, f.width, _xs(f)
    half = 0.32 * height
    n = int(W / (1.1 * half)) + 3
    cx = (np.arange(n) - 1) * 1.1 * half + rng.uniform(-0.4, 0.4, n) * half
    th = height * rng.uniform(1 - jitter, 1 + jitter, n)
    hw = th * rng.uniform(0.26, 0.36, n)
    v = 1.0 - np.abs(x[None, :] - cx[:, None]) / hw[:, None]                # [n, W]
    tiers = 0.10 * ((v * 3.0) % 1.0)                                         # ragged branch tiers
    prof = np.where(v > 0, th[:, None] * (v - tiers), 0.0).max(axis=0)
    return (base - prof).astype(F32)


def _forest(f: Frame) -> list[Step]:
    H, hz, u = f.height, f.horizon, f.unit
    hill = _rolling(f, hz + 0.02 * (H - hz), 0.18 * f.relief, 0.7)
    rows = [(hz + 0.06 * (H - hz), 0.09 * u, (0.20, 0.36, 0.30), 0.5),
            (hz + 0.26 * (H - hz), 0.12 * u, (0.13, 0.32, 0.18), 0.25),
            (hz + 0.46 * (H - hz), 0.15 * u, (0.09, 0.25, 0.12), 0.08)]
    tops = [_pines(f, b, h, 0.3) for b, h, _, _ in rows]
    _merge_skyline(f, hill)
    for t in tops:
        _merge_skyline(f, t)
    _, fg_draw = _foreground(f, (0.26, 0.42, 0.18), depth=0.70)

    def draw(img):
        fill_below(img, hill, _aerial(f, (0.30, 0.45, 0.36), 0.6, floor=0.1))
        for top, (base, h, colour, fog) in zip(tops, rows):
            c = _aerial(f, colour, fog, floor=0.1)
            haze = f.haze

            def col(r, c=c, base=base, fog=fog, top=top):
                mist = 0.35 * smoothstep(base - 0.8 * h, base + 0.05 * u, r.Y) * (0.3 + fog)
                out = np.broadcast_to(c, r.Y.shape[:1] + r.X.shape[1:] + (3,))
                return out + mist[..., None] * (haze - c)
            fill_below(img, top, col)
        fg_draw(img)
    return [draw]


# ------------------------------------------------------------------------------ city

def _buildings(f: Frame, base: float, width: tuple, height: tuple):
    rng, W, u = f.rng, f.width, f.unit
    edges = [float(rng.uniform(-0.05, 0) * u)]
    while edges[-1] < W:
        edges.append(edges[-1] + float(rng.uniform(*width)) * u)
    edges = np.array(edges, dtype=F32)
    hs = rng.uniform(*height, len(edges) - 1).astype(F32) * f.relief
    tall = rng.random(len(hs)) < 0.15
    hs[tall] *= 1.4
    ids = np.clip(np.searchsorted(edges, _xs(f)) - 1, 0, len(hs) - 1)
    top = (base - hs[ids]).astype(F32)
    return top, ids, edges


def _city(f: Frame) -> list[Step]:
    H, hz, u, p = f.height, f.horizon, f.unit, f.palette
    far_top, _, _ = _buildings(f, hz, (0.04, 0.08), (0.18, 0.5))
    near_top, ids, edges = _buildings(f, hz + 0.04 * (H - hz), (0.05, 0.10), (0.10, 0.36))
    _merge_skyline(f, far_top)
    _merge_skyline(f, near_top)
    _, fg_draw = _foreground(f, (0.28, 0.34, 0.24), depth=0.55, amp=0.02)
    lit_p = {"night": 0.45, "dusk": 0.35}.get(f.scene.time, 0.0)
    salt = int(f.rng.integers(1 << 20))
    win = max(3, int(round(0.022 * u)))

    def windows(r, top, ids, edges, p_lit):
        lx = (r.X - edges[ids][None, :]) % win
        wy = (r.Y - top[None, :])
        ly = wy % win
        inside = (lx > 1) & (lx < win - 0.5) & (ly > 1) & (ly < win - 0.5) & (wy > win)
        inside &= (r.X - edges[ids][None, :] > win * 0.7) & (edges[ids + 1][None, :] - r.X > win * 0.5)
        cell = (np.floor(r.X / win).astype(np.int64) * 73856093
                ^ np.floor(r.Y / win).astype(np.int64) * 19349663 ^ salt)
        on = ((cell % 1000) < p_lit * 1000) & inside
        return inside, on

    def draw(img):
        far = _aerial(f, (0.42, 0.46, 0.56), 0.55, floor=0.15)
        near = _aerial(f, (0.26, 0.28, 0.34), 0.15, floor=0.15)
        fill_below(img, far_top, far)

        def near_col(r):
            out = np.broadcast_to(near, r.Y.shape[:1] + r.X.shape[1:] + (3,)).copy()
            inside, on = windows(r, near_top, ids, edges, lit_p)
            glass = near * (1.25 if not p.dark else 1.1) + (0.04 if not p.dark else 0.0)
            out[inside] = np.minimum(glass, 1.0)
            out[on] = WINDOW_LIT
            return out
        fill_below(img, near_top, near_col, y_end=f.ground.max() + 2)
        fg_draw(img)
    return [draw]


# ------------------------------------------------------------------------------ water

def _wave_noise(f: Frame, rows: int) -> np.ndarray:
    """[rows, W] horizontal ripples on a perspective depth axis (row 0 at the horizon)."""
    return noise2d(f.rng, 96, f.width, 48, f.width / (0.09 * f.unit), octaves=2, gain=0.6)


def _draw_water(img: np.ndarray, f: Frame, y0: float, waves: np.ndarray, strength: float) -> None:
    H, W, p = f.height, f.width, f.palette
    r = Region(img.shape[:2], 0, y0, W - 1, H - 1)
    if r.empty:
        return
    z = np.clip((r.Y[:, 0] - y0) / (H - y0), 0, 1)                      # 0 at horizon
    mirror = np.clip(y0 - (r.Y[:, 0] - y0) * 1.3, 0, H - 1).astype(np.int64)
    rows = f.sky[mirror]
    deep = np.asarray(p.water, F32)
    rows = rows + (0.30 + 0.45 * z)[:, None] * (deep - rows)
    wi = np.clip((z ** 0.55) * (waves.shape[0] - 1), 0, waves.shape[0] - 1).astype(np.int64)
    wv = waves[wi]                                                     # [h, W]
    shade = 1.0 + strength * (wv - 0.5) * (0.5 + z[:, None])
    out = rows[:, None, :] * shade[..., None]
    glint = smoothstep(0.62, 0.75, wv) * 0.25 * strength / 0.3
    out = out + glint[..., None] * (f.haze - out)
    sy, sx = r.slices
    a = coverage(y0 - r.Y)
    img[sy, sx] += a[..., None] * (out - img[sy, sx])
    for (x, y, rad, colour) in f.lights:
        if y > y0 + rad:
            continue
        width = rad * (0.9 + 2.6 * z[:, None])
        core = np.exp(-((r.X - x) / width) ** 2)
        sparkle = smoothstep(0.45, 0.68, wv)
        bright = 0.95 if f.scene.sun else 0.75
        intensity = core * (bright * sparkle * (1.0 - 0.45 * z[:, None]) + 0.12)
        add_light(img, r, intensity, colour)


def _rock(img: np.ndarray, f: Frame, x: float, y: float, w: float, h: float) -> None:
    r = Region(img.shape[:2], x - w, y - h, x + w, y + 0.3 * h)
    d = np.sqrt(((r.X - x) / w) ** 2 + ((r.Y - y) / h) ** 2) - 1.0
    a = coverage(d * min(w, h)) * coverage(r.Y - y - 0.15 * h)
    shade = 0.75 + 0.35 * np.clip((y - r.Y) / h, 0, 1) * (1 + 0.3 * np.sign(r.X - x) * _light_dir(f))
    col = _aerial(f, (0.40, 0.36, 0.32), 0.0, floor=0.12)
    blend(img, r, a, col[None, None, :] * shade[..., None])


def _sea(f: Frame) -> list[Step]:
    H, hz = f.height, f.horizon
    f.skyline = np.full(f.width, hz, dtype=F32)
    f.water_y = hz + 0.42 * (H - hz)
    land_y = hz + 0.62 * (H - hz)
    rock_h = 0.05 * f.unit
    f.ground = np.full(f.width, land_y - 0.5 * rock_h, dtype=F32)
    waves = _wave_noise(f, 96)
    rocks = [(x, 0.13 * f.unit) for k, x in f.object_x.items() if k in LAND_KINDS]

    def draw(img):
        _draw_water(img, f, hz, waves, 0.3)
        for x, w in rocks:
            _rock(img, f, x, land_y, w, rock_h)
    return [draw]


def _lake(f: Frame) -> list[Step]:
    H, hz, u = f.height, f.horizon, f.unit
    shore = _rolling(f, hz, 0.10 * f.relief, 0.5)
    trees = _pines(f, hz, 0.04 * u, 0.4)
    far_top = np.minimum(shore, trees + (hz - shore) * 0.0)
    f.skyline = far_top
    waves = _wave_noise(f, 96)
    near_top, near_draw = _foreground(f, (0.30, 0.46, 0.22), depth=0.80, amp=0.06)
    f.water_y = hz + 0.45 * (float(near_top.mean()) - hz)

    def draw(img):
        far_c = _aerial(f, (0.22, 0.34, 0.28), 0.45, floor=0.12)
        fill_below(img, far_top, far_c, y_end=hz + 1)
        _draw_water(img, f, hz, waves, 0.18)
        # Reflection of the far shore: the mirrored silhouette, darker and rippled.
        depth = hz - far_top                                          # [W]
        r = Region(img.shape[:2], 0, hz, f.width - 1, hz + depth.max() + 1)
        wob = 1.2 * np.sin(r.Y * 1.3 + 0.3 * r.X)
        a = 0.75 * coverage(r.Y - (hz + depth[None, :] * 0.9) + wob) * coverage(hz - r.Y)
        blend(img, r, a, far_c * 0.75 + np.asarray(f.palette.water, F32) * 0.1)
        near_draw(img)
    return [draw]
