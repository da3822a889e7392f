"""The sky: gradient, horizon glow, stars, sun or moon, clouds."""
from __future__ import annotations

import numpy as np

from .frame import Frame
from .palette import MOON_COLOUR, MOON_HEIGHT, MOON_RADIUS
from .raster import (F32, Region, add_light, blend, coverage, noise2d, sd_circle, smoothstep)


def place_celestial(f: Frame, avoid: set[str]) -> None:
    """Choose where the sun or moon sits: a third without objects when possible, above terrain."""
    s, rng = f.scene, f.rng
    thirds = [p for p in ("left", "centre", "right") if p not in avoid] or ["left", "right"]
    pick = thirds[int(rng.integers(len(thirds)))]
    jitter = float(rng.uniform(-0.09, 0.09)) * f.width
    x = float(np.clip(f.third_x(pick) + jitter, 0.12 * f.width, 0.88 * f.width))
    r_sun = f.palette.sun_radius * f.unit
    if s.sun:
        lo, hi = f.palette.sun_height
        r = r_sun
        y = f.horizon - float(rng.uniform(lo, hi)) * f.horizon
        low = s.time in ("dawn", "sunset")
        colour = f.palette.sun_colour
    elif s.moon:
        r = MOON_RADIUS * f.unit
        y = f.horizon * (1.0 - float(rng.uniform(*MOON_HEIGHT)))
        low = False
        colour = MOON_COLOUR
    else:
        rng.uniform(), rng.uniform()    # keep the stream aligned
        f.sun_xy = None
        return
    # Keep the disc clear of the terrain: a rising or setting sun may touch it, others clear it.
    lo_x, hi_x = max(0, int(x - r)), min(f.width, int(x + r) + 1)
    ridge = float(f.skyline[lo_x:hi_x].min()) if f.skyline is not None else f.horizon
    y = min(y, ridge - (0.1 * r if low else 1.6 * r))
    y = max(y, 1.3 * r)
    f.sun_xy = (x, y, r)
    f.celestial_colour = colour
    f.lights.append((x, y, r, colour))


BODY_MASK_THRESHOLD = 0.05   # a pixel belongs to the sun, moon or stars where they changed it by more


def draw_sky(img: np.ndarray, f: Frame, want_bodies: bool = False) -> np.ndarray | None:
    """Draws the sky into img [H, W, 3]; with want_bodies, returns a bool mask [H, W] of the
    pixels the sun, moon and stars changed by more than BODY_MASK_THRESHOLD (the disc and the
    bright core of its glow, not the faint halo), else None."""
    img[:] = f.sky[:, None, :]
    s, p, W = f.scene, f.palette, f.width
    hz = int(np.ceil(f.horizon))
    r = Region(img.shape[:2], 0, 0, W - 1, hz)
    # Warm glow along the horizon around the sun (or where it set).
    if s.time in ("dawn", "sunset", "golden_hour", "dusk"):
        gx = f.sun_xy[0] if (f.sun_xy and s.sun) else float(f.rng.uniform(0.2, 0.8)) * W
        strength = {"dawn": 0.35, "sunset": 0.5, "golden_hour": 0.35, "dusk": 0.28}[s.time]
        glow = strength * np.exp(-((r.X - gx) / (0.45 * W)) ** 2
                                 - ((r.Y - f.horizon) / (0.35 * f.horizon)) ** 2)
        colour = p.sun_colour if s.time != "dusk" else (0.95, 0.55, 0.35)
        add_light(img, r, glow, colour)
    before = img.copy() if want_bodies else None
    if s.stars:
        _draw_stars(img, f)
    if f.sun_xy is not None:
        (_draw_sun if s.sun else _draw_moon)(img, f)
    bodies = None if before is None else np.abs(img - before).max(axis=2) > BODY_MASK_THRESHOLD
    if s.clouds:
        _draw_clouds(img, f)
    return bodies


def _draw_stars(img: np.ndarray, f: Frame) -> None:
    rng, W = f.rng, f.width
    n = int(0.0045 * W * f.horizon)
    xs = rng.integers(0, W, n)
    ys = (f.horizon * rng.random(n) ** 1.4).astype(np.int64)
    b = rng.uniform(0.3, 1.0, n).astype(F32)
    b *= np.clip(1.0 - ys / f.horizon * (1.5 if f.scene.time == "dusk" else 0.8), 0.0, 1.0)
    tint = np.where(rng.random((n, 1)) < 0.3, F32((0.8, 0.88, 1.0)), F32((1.0, 0.97, 0.9)))
    star = b[:, None] * tint
    img[ys, xs] = np.maximum(img[ys, xs], star)
    big = rng.random(n) < 0.12
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        yy, xx = np.clip(ys[big] + dy, 0, img.shape[0] - 1), np.clip(xs[big] + dx, 0, W - 1)
        img[yy, xx] = np.maximum(img[yy, xx], 0.45 * star[big])


def _draw_sun(img: np.ndarray, f: Frame) -> None:
    x, y, rad = f.sun_xy
    col = np.asarray(f.celestial_colour, dtype=F32)
    reach = 7 * rad
    r = Region(img.shape[:2], x - reach, y - reach, x + reach, y + reach)
    d = np.sqrt((r.X - x) ** 2 + (r.Y - y) ** 2)
    glow = 0.55 * np.exp(-(d / (1.8 * rad)) ** 2) + 0.25 * np.exp(-d / (3.0 * rad))
    add_light(img, r, glow * smoothstep(reach, 0.6 * reach, d), col)
    blend(img, r, coverage((d - rad) * 1.3), np.minimum(1.0, col * 0.15 + 0.9))


def _draw_moon(img: np.ndarray, f: Frame) -> None:
    x, y, rad = f.sun_xy
    rng = f.rng
    reach = 4 * rad
    r = Region(img.shape[:2], x - reach, y - reach, x + reach, y + reach)
    d = np.sqrt((r.X - x) ** 2 + (r.Y - y) ** 2)
    add_light(img, r, 0.22 * np.exp(-(d / (1.6 * rad)) ** 2), MOON_COLOUR)
    disc = coverage(d - rad)
    if rng.random() < 0.6:   # crescent: a shadow disc bites into it
        ang = rng.uniform(-2.5, 2.5) + (0 if rng.random() < 0.5 else np.pi)
        sx, sy = x + 0.55 * rad * np.cos(ang), y + 0.35 * rad * np.sin(ang)
        disc = disc * (1.0 - 0.92 * coverage(sd_circle(r, sx, sy, rad * 0.98)))
    else:
        rng.uniform(), rng.uniform()
    h, w = r.Y.shape[0], r.X.shape[1]
    maria = 0.9 + 0.1 * noise2d(rng, h, w, 2, 2)
    blend(img, r, disc, np.asarray(MOON_COLOUR, dtype=F32) * maria[..., None])


def _draw_clouds(img: np.ndarray, f: Frame) -> None:
    rng, p, W, u = f.rng, f.palette, f.width, f.unit
    hz = int(np.ceil(f.horizon))
    pad = max(2, int(0.03 * u))
    n = noise2d(rng, hz + pad, W, (hz + pad) / (0.11 * u), W / (0.32 * u), octaves=4, gain=0.5)
    ys = (np.arange(hz + pad, dtype=F32) + 0.5)[:, None] / max(hz, 1)
    band = float(rng.uniform(0.25, 0.55))        # the cloud belt's height in the sky
    envelope = 1.0 - 0.35 * np.abs(ys - band) - 0.25 * smoothstep(0.8, 1.0, ys)
    dens = n * envelope
    thr = float(rng.uniform(0.42, 0.48))
    alpha = smoothstep(thr, thr + 0.12, dens)[pad:]
    above = dens[:-pad]                           # density `pad` rows higher up
    shade = 1.0 - smoothstep(thr - 0.02, thr + 0.2, above)
    lit_c, shadow_c = np.asarray(p.cloud_lit, F32), np.asarray(p.cloud_shadow, F32)
    if f.scene.moon and p.dark:
        lit_c = lit_c * 1.3
    col = shadow_c + shade[..., None] * (lit_c - shadow_c)
    r = Region(img.shape[:2], 0, 0, W - 1, hz - 1)
    alpha = alpha[:r.Y.shape[0], :]
    if f.sun_xy is not None:   # keep the sun or moon readable: clouds part around the disc
        x, y, rad = f.sun_xy
        d = np.sqrt((r.X - x) ** 2 + (r.Y - y) ** 2)
        alpha = alpha * smoothstep(1.2 * rad, 2.6 * rad, d)
    blend(img, r, alpha * 0.95, col[:r.Y.shape[0], :])
