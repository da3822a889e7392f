"""Colours: the sky and light of each time of day, and the object colours."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F32 = np.float32


@dataclass(frozen=True)
class TimePalette:
    sky: tuple                 # ((t, (r, g, b)), ...) t = 0 at the top, 1 at the horizon
    light: tuple               # multiplier of lit surfaces
    sun_colour: tuple
    sun_height: tuple          # (lo, hi) height of the sun above the horizon, fraction of sky
    sun_radius: float          # fraction of sqrt(W * H)
    cloud_lit: tuple
    cloud_shadow: tuple
    water: tuple               # deep water colour
    dark: bool                 # windows and lamps lit, birds drawn pale


TIMES: dict[str, TimePalette] = {
    "dawn": TimePalette(
        sky=((0, (0.22, 0.27, 0.52)), (0.55, (0.62, 0.55, 0.72)), (0.85, (0.98, 0.70, 0.66)),
             (1, (1.0, 0.84, 0.66))),
        light=(0.86, 0.76, 0.82), sun_colour=(1.0, 0.80, 0.60), sun_height=(-0.01, 0.04),
        sun_radius=0.055, cloud_lit=(1.0, 0.80, 0.80), cloud_shadow=(0.55, 0.50, 0.68),
        water=(0.20, 0.22, 0.42), dark=False),
    "morning": TimePalette(
        sky=((0, (0.30, 0.52, 0.85)), (0.7, (0.62, 0.78, 0.94)), (1, (0.86, 0.92, 0.97))),
        light=(0.97, 0.97, 0.96), sun_colour=(1.0, 0.97, 0.86), sun_height=(0.32, 0.48),
        sun_radius=0.045, cloud_lit=(1.0, 1.0, 1.0), cloud_shadow=(0.72, 0.77, 0.86),
        water=(0.10, 0.30, 0.50), dark=False),
    "noon": TimePalette(
        sky=((0, (0.10, 0.34, 0.80)), (0.6, (0.32, 0.58, 0.92)), (1, (0.70, 0.85, 0.98))),
        light=(1.06, 1.06, 1.04), sun_colour=(1.0, 1.0, 0.92), sun_height=(0.62, 0.80),
        sun_radius=0.04, cloud_lit=(1.0, 1.0, 1.0), cloud_shadow=(0.74, 0.80, 0.90),
        water=(0.04, 0.28, 0.52), dark=False),
    "golden_hour": TimePalette(
        sky=((0, (0.32, 0.48, 0.75)), (0.5, (0.75, 0.72, 0.62)), (0.85, (1.0, 0.78, 0.42)),
             (1, (1.0, 0.87, 0.52))),
        light=(1.05, 0.84, 0.58), sun_colour=(1.0, 0.86, 0.50), sun_height=(0.12, 0.22),
        sun_radius=0.05, cloud_lit=(1.0, 0.90, 0.70), cloud_shadow=(0.68, 0.58, 0.58),
        water=(0.18, 0.26, 0.36), dark=False),
    "sunset": TimePalette(
        sky=((0, (0.16, 0.12, 0.35)), (0.4, (0.55, 0.22, 0.40)), (0.75, (0.95, 0.40, 0.22)),
             (1, (1.0, 0.66, 0.22))),
        light=(0.80, 0.50, 0.44), sun_colour=(1.0, 0.58, 0.26), sun_height=(-0.01, 0.04),
        sun_radius=0.065, cloud_lit=(1.0, 0.58, 0.38), cloud_shadow=(0.42, 0.24, 0.36),
        water=(0.22, 0.12, 0.24), dark=False),
    "dusk": TimePalette(
        sky=((0, (0.03, 0.05, 0.18)), (0.55, (0.17, 0.15, 0.37)), (0.88, (0.52, 0.30, 0.42)),
             (1, (0.80, 0.48, 0.38))),
        light=(0.40, 0.38, 0.54), sun_colour=(1.0, 0.6, 0.3), sun_height=(0.0, 0.0),
        sun_radius=0.05, cloud_lit=(0.55, 0.38, 0.50), cloud_shadow=(0.18, 0.16, 0.30),
        water=(0.06, 0.07, 0.18), dark=True),
    "night": TimePalette(
        sky=((0, (0.01, 0.015, 0.05)), (0.7, (0.035, 0.06, 0.15)), (1, (0.10, 0.13, 0.28))),
        light=(0.30, 0.33, 0.50), sun_colour=(1.0, 1.0, 1.0), sun_height=(0.0, 0.0),
        sun_radius=0.05, cloud_lit=(0.30, 0.32, 0.42), cloud_shadow=(0.09, 0.10, 0.17),
        water=(0.03, 0.05, 0.12), dark=True),
}

MOON_COLOUR = (0.96, 0.95, 0.86)
MOON_HEIGHT = (0.45, 0.8)
MOON_RADIUS = 0.038
WINDOW_LIT = (1.0, 0.82, 0.42)

OBJECT_RGB: dict[str, tuple] = {
    "red": (0.86, 0.12, 0.10), "blue": (0.12, 0.32, 0.86), "yellow": (0.98, 0.84, 0.14),
    "white": (0.95, 0.95, 0.93), "green": (0.14, 0.64, 0.20), "orange": (0.99, 0.50, 0.06),
    "purple": (0.56, 0.20, 0.76), "black": (0.06, 0.06, 0.07),
}
FOLIAGE_RGB: dict[str, tuple] = {
    "green": (0.16, 0.52, 0.16), "orange": (0.96, 0.50, 0.10), "yellow": (0.95, 0.80, 0.16),
    "red": (0.78, 0.14, 0.10),
}


def sky_rows(palette: TimePalette, horizon: float, height: int) -> np.ndarray:
    """[height, 3] sky colour of each row (rows below the horizon repeat the horizon colour)."""
    t = np.clip((np.arange(height, dtype=F32) + 0.5) / max(horizon, 1.0), 0.0, 1.0)
    stops = np.array([s[0] for s in palette.sky], dtype=F32)
    cols = np.array([s[1] for s in palette.sky], dtype=F32)
    return np.stack([np.interp(t, stops, cols[:, c]) for c in range(3)], axis=1).astype(F32)


def lit(colour, palette: TimePalette, floor: float = 0.0) -> np.ndarray:
    """A surface colour under the time's light; `floor` keeps some of it visible at night."""
    c = np.asarray(colour, dtype=F32)
    light = np.asarray(palette.light, dtype=F32)
    return np.clip(c * (light * (1 - floor) + floor * 0.75), 0.0, 1.0)
