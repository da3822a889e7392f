"""Objects as simple, recognisable silhouettes: house, lighthouse, sailboat, tree, balloon, birds.

Sizes are fractions of the frame's unit (sqrt of the area); x is the centre of the object's third.
"""
from __future__ import annotations

import numpy as np

from .frame import Frame
from .palette import FOLIAGE_RGB, OBJECT_RGB, WINDOW_LIT, lit
from .raster import (F32, Region, add_light, blend, coverage, sd_box, sd_circle, sd_polygon,
                     sd_segment, smoothstep)

SLATE = (0.26, 0.25, 0.29)
WOOD = (0.40, 0.25, 0.14)
GLASS = (0.70, 0.84, 0.94)


def draw_objects(img: np.ndarray, f: Frame) -> None:
    # Ground objects first, then boats, then what flies.
    order = {"house": 0, "lighthouse": 0, "tree": 0, "sailboat": 1, "balloon": 2, "birds": 3}
    for o in sorted(f.scene.objects, key=lambda o: order[o.kind]):
        x = f.object_x[o.kind]
        DRAW[o.kind](img, f, x, o.colour)


def _c(f: Frame, rgb, floor: float = 0.35) -> np.ndarray:
    """Object colour under the scene light; objects keep their hue at night."""
    return lit(rgb, f.palette, floor)


def _ground_at(f: Frame, x: float) -> float:
    i = int(np.clip(x, 0, f.width - 1))
    return float(f.ground[i]) + 0.01 * f.unit


def _lamp_glow(img, f: Frame, x, y, radius, strength=0.55, colour=WINDOW_LIT):
    r = Region(img.shape[:2], x - 4 * radius, y - 4 * radius, x + 4 * radius, y + 4 * radius)
    d = np.sqrt((r.X - x) ** 2 + (r.Y - y) ** 2)
    add_light(img, r, strength * np.exp(-(d / (1.5 * radius)) ** 2), colour)


def house(img, f: Frame, x, colour):
    u, p = f.unit, f.palette
    w = 0.17 * u
    base = _ground_at(f, x)
    wall_h = 0.55 * w
    top = base - wall_h
    r = Region(img.shape[:2], x - 0.7 * w, top - 0.55 * w, x + 0.7 * w, base + 1)
    wall = _c(f, OBJECT_RGB[colour])
    shade = np.where(r.X > x + 0.25 * w, 0.85, 1.0).astype(F32)
    blend(img, r, coverage(sd_box(r, x, base - wall_h / 2, w / 2, wall_h / 2)),
          wall[None, None, :] * shade[..., None])
    roof = [(x - 0.62 * w, top + 0.02 * w), (x + 0.62 * w, top + 0.02 * w), (x, top - 0.45 * w)]
    blend(img, r, coverage(sd_box(r, x + 0.28 * w, top - 0.3 * w, 0.05 * w, 0.12 * w)), _c(f, SLATE))
    blend(img, r, coverage(sd_polygon(r, roof)), _c(f, SLATE))
    blend(img, r, coverage(sd_box(r, x - 0.2 * w, base - 0.19 * w, 0.08 * w, 0.19 * w)), _c(f, WOOD))
    wx, wy, ws = x + 0.17 * w, top + 0.22 * w, 0.09 * w
    blend(img, r, coverage(sd_box(r, wx, wy, ws + 0.025 * w, ws + 0.025 * w)), _c(f, (0.95, 0.95, 0.92)))
    glass = WINDOW_LIT if p.dark else _c(f, GLASS, 0.2)
    blend(img, r, coverage(sd_box(r, wx, wy, ws, ws)), glass)
    if p.dark:
        _lamp_glow(img, f, wx, wy, ws * 1.4)


def lighthouse(img, f: Frame, x, colour):
    u, p = f.unit, f.palette
    hgt = 0.40 * u
    base = _ground_at(f, x) + 0.01 * u
    tower_top = base - 0.74 * hgt
    wb, wt = 0.12 * hgt, 0.075 * hgt   # half widths at the bottom and top
    r = Region(img.shape[:2], x - 0.2 * hgt, base - hgt, x + 0.2 * hgt, base + 1)
    body = sd_polygon(r, [(x - wb, base), (x + wb, base), (x + wt, tower_top), (x - wt, tower_top)])
    white = _c(f, OBJECT_RGB["white"])
    band = _c(f, OBJECT_RGB[colour])
    n_bands = 5
    stripe = np.floor((base - r.Y) / ((base - tower_top) / n_bands)) % 2 == 1
    col = np.where(stripe[..., None], band, white) if colour != "white" else \
        np.broadcast_to(white, stripe.shape + (3,))
    shade = (1.0 - 0.22 * smoothstep(-0.2, 1.0, (r.X - x) / wb))[..., None]
    blend(img, r, coverage(body), col * shade)
    dark = _c(f, (0.14, 0.14, 0.16))
    gy = tower_top - 0.025 * hgt
    blend(img, r, coverage(sd_box(r, x, gy, wt * 1.45, 0.022 * hgt)), dark)
    lamp_y, lamp_h = gy - 0.075 * hgt, 0.055 * hgt
    lamp = (1.0, 0.92, 0.55) if p.dark else _c(f, GLASS, 0.3)
    blend(img, r, coverage(sd_box(r, x, lamp_y, wt * 0.85, lamp_h)), lamp)
    cap_y = lamp_y - lamp_h
    cap = [(x - wt * 1.1, cap_y), (x + wt * 1.1, cap_y), (x, cap_y - 0.07 * hgt)]
    blend(img, r, coverage(sd_polygon(r, cap)), dark)
    blend(img, r, coverage(sd_box(r, x, base - 0.04 * hgt, 0.035 * hgt, 0.04 * hgt)), dark)  # door
    if p.dark:
        _lamp_glow(img, f, x, lamp_y, 0.05 * hgt, 0.8, (1.0, 0.92, 0.6))
        _beam(img, f, x, lamp_y, hgt)


def _beam(img, f: Frame, x, y, hgt):
    """A soft wedge of light from the lamp toward the wider side of the frame."""
    direction = 1.0 if x < f.width / 2 else -1.0
    length = 0.9 * f.width
    r = Region(img.shape[:2], min(x, x + direction * length), y - 0.35 * length,
               max(x, x + direction * length), y + 0.2 * length)
    dx, dy = (r.X - x) * direction, r.Y - y
    ang = np.arctan2(dy + 0.12 * dx, np.maximum(dx, 1e-3))           # tilted slightly upward
    spread = 0.09
    a = np.exp(-(ang / spread) ** 2) * (dx > 0) * np.clip(1.0 - dx / length, 0, 1) ** 1.5
    a = a * smoothstep(0.0, 0.06 * hgt, dx)
    add_light(img, r, 0.55 * a, (1.0, 0.93, 0.7))


def sailboat(img, f: Frame, x, colour):
    u = f.unit
    s = 0.20 * u
    wy = f.water_y
    hull_top = wy - 0.07 * s
    mast_x = x - 0.05 * s
    top = wy - 0.95 * s
    boom = hull_top - 0.06 * s
    sail = _c(f, OBJECT_RGB[colour])
    r = Region(img.shape[:2], x - 0.7 * s, top - 2, x + 0.7 * s, wy + 0.9 * s)
    main = [(mast_x + 0.02 * s, top), (mast_x + 0.02 * s, boom), (mast_x + 0.46 * s, boom)]
    jib = [(mast_x - 0.03 * s, top + 0.12 * s), (mast_x - 0.03 * s, boom), (mast_x - 0.36 * s, boom)]
    # Reflection below the hull: the sails mirrored, faint.
    mirror = [[(px, 2 * wy - py) for px, py in tri] for tri in (main, jib)]
    for tri in mirror:
        blend(img, r, 0.28 * coverage(sd_polygon(r, tri)) * (1 + 0.3 * np.sin(r.Y * 1.7)), sail * 0.7)
    blend(img, r, coverage(sd_polygon(r, main)), sail)
    blend(img, r, coverage(sd_polygon(r, jib)), sail * 0.82)
    blend(img, r, coverage(sd_box(r, mast_x, (top + hull_top) / 2, 0.012 * s + 0.3, (hull_top - top) / 2)),
          _c(f, WOOD))
    hull = [(x - 0.5 * s, hull_top), (x + 0.55 * s, hull_top), (x + 0.35 * s, wy + 0.06 * s),
            (x - 0.38 * s, wy + 0.06 * s)]
    blend(img, r, coverage(sd_polygon(r, hull)), _c(f, (0.30, 0.20, 0.16)))
    blend(img, r, coverage(sd_box(r, x + 0.02 * s, hull_top + 0.015 * s, 0.5 * s, 0.012 * s + 0.25)),
          _c(f, (0.92, 0.92, 0.9)))


def tree(img, f: Frame, x, colour):
    u = f.unit
    h = 0.27 * u
    base = _ground_at(f, x)
    r = Region(img.shape[:2], x - 0.4 * h, base - 1.05 * h, x + 0.4 * h, base + 1)
    blend(img, r, coverage(sd_box(r, x, base - 0.22 * h, 0.045 * h, 0.22 * h)), _c(f, WOOD))
    cy = base - 0.62 * h
    blobs = [(0, 0, 0.27), (-0.17, 0.08, 0.19), (0.17, 0.07, 0.2), (0.0, -0.17, 0.2),
             (-0.1, -0.1, 0.18), (0.1, -0.12, 0.17)]
    leaf = _c(f, FOLIAGE_RGB[colour])
    for bx, by, br in blobs:   # each clump lit from above-left, darker where it overlaps
        e = sd_circle(r, x + bx * h, cy + by * h, br * h)
        lx, ly = x + (bx - 0.3 * br) * h, cy + (by - 0.35 * br) * h
        glow = np.exp(-((r.X - lx) ** 2 + (r.Y - ly) ** 2) / (0.5 * (br * h) ** 2))
        shade = 0.78 + 0.3 * glow - 0.12 * np.clip((r.Y - cy) / (0.4 * h), 0, 1)
        blend(img, r, coverage(e), leaf[None, None, :] * shade[..., None])


def balloon(img, f: Frame, x, colour):
    u, p = f.unit, f.palette
    rad = 0.085 * u
    cy = f.horizon * (0.34 + 0.08 * np.sin(x))        # a little variety, still deterministic
    cy = max(cy, 1.2 * rad)
    bottom = cy + 1.25 * rad
    r = Region(img.shape[:2], x - 1.1 * rad, cy - 1.1 * rad, x + 1.1 * rad, bottom + 0.75 * rad)
    # Envelope: a circle above, tapering to a mouth below.
    t = np.clip((r.Y - cy) / (bottom - cy), 0, 1)
    upper = np.sqrt(np.maximum(rad * rad - (r.Y - cy) ** 2, 0))
    lower = rad * (0.22 + 0.78 * np.maximum(np.cos(np.pi / 2 * t), 0) ** 0.9)  # float32 cos(π/2) < 0
    half = np.where(r.Y < cy, upper, lower)
    d = np.abs(r.X - x) - half
    a = coverage(d) * coverage(r.Y - bottom) * coverage(cy - rad - r.Y)
    uu = np.clip((r.X - x) / np.maximum(half, 1e-3), -1, 1)
    gore = (np.floor((np.arcsin(uu) / np.pi + 0.5) * 6) % 2 == 1)
    base = _c(f, OBJECT_RGB[colour])
    light = base * 0.55 + _c(f, (1, 1, 1)) * 0.45 if colour != "white" else base * 0.85
    col = np.where(gore[..., None], light, base)
    shade = 1.05 - 0.25 * uu - 0.2 * np.clip((r.Y - cy) / rad, -1, 1) * 0.5
    blend(img, r, a, col * np.clip(shade, 0.6, 1.2)[..., None])
    by = bottom + 0.45 * rad
    rope = _c(f, (0.25, 0.2, 0.15))
    for sgn in (-1, 1):
        dd = sd_segment(r, x + sgn * 0.22 * rad, bottom, x + sgn * 0.12 * rad, by - 0.1 * rad)
        blend(img, r, coverage(dd - 0.35), rope)
    blend(img, r, coverage(sd_box(r, x, by, 0.15 * rad, 0.12 * rad)), _c(f, WOOD))
    if p.dark:
        _lamp_glow(img, f, x, bottom + 0.1 * rad, 0.2 * rad, 0.6, (1.0, 0.7, 0.3))


def birds(img, f: Frame, x, colour):
    u, rng = f.unit, f.rng
    cy = f.horizon * 0.3
    n = int(rng.integers(3, 7))
    col = _c(f, (0.08, 0.08, 0.1)) if not f.palette.dark else np.array((0.72, 0.75, 0.84), F32)
    span = 0.2 * u
    thick = max(0.6, 0.0055 * u)
    for _ in range(n):
        bx = x + rng.uniform(-0.5, 0.5) * span
        by = cy + rng.uniform(-0.25, 0.25) * span
        b = rng.uniform(0.045, 0.065) * u
        flap = rng.uniform(0.15, 0.4)
        r = Region(img.shape[:2], bx - b, by - b, bx + b, by + b)
        d = np.minimum(sd_segment(r, bx - b / 2, by - b * flap, bx - b * 0.12, by - b * 0.02),
                       sd_segment(r, bx + b / 2, by - b * flap, bx + b * 0.12, by - b * 0.02))
        d = np.minimum(d, sd_segment(r, bx - b * 0.12, by - b * 0.02, bx, by + b * 0.06))
        d = np.minimum(d, sd_segment(r, bx + b * 0.12, by - b * 0.02, bx, by + b * 0.06))
        blend(img, r, coverage(d - thick), col)


DRAW = {"house": house, "lighthouse": lighthouse, "sailboat": sailboat, "tree": tree,
        "balloon": balloon, "birds": birds}
