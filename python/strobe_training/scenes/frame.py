"""The composition of one image: size, horizon, thirds, and what the renderer has decided."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .palette import TimePalette
from .scene import POSITIONS, Scene


@dataclass
class Frame:
    scene: Scene
    width: int
    height: int
    rng: np.random.Generator
    palette: TimePalette
    horizon: float                      # y of the horizon line, pixels from the top
    sky: np.ndarray                     # [H, 3] sky colour per row
    skyline: np.ndarray | None = None   # [W] top of the terrain silhouette per column
    ground: np.ndarray | None = None    # [W] y where standing objects stand
    water_y: float | None = None        # y where boats float (water terrains)
    object_x: dict = field(default_factory=dict)  # kind -> centre x of each object
    lights: list = field(default_factory=list)   # (x, y, radius, colour): reflected in water
    sun_xy: tuple | None = None         # centre and radius of the sun or moon disc
    celestial_colour: tuple | None = None

    @property
    def unit(self) -> float:
        """Size unit: sqrt of the image area (256 for the model's sizes)."""
        return float(np.sqrt(self.width * self.height))

    @property
    def relief(self) -> float:
        """Height scale of terrain features: the sky's height, capped in tall frames."""
        return min(self.horizon, 0.64 * self.unit)

    def third_x(self, position: str) -> float:
        return (POSITIONS.index(position) + 0.5) / 3.0 * self.width

    @property
    def haze(self) -> np.ndarray:
        """Colour of the air near the horizon (atmospheric perspective)."""
        return self.sky[max(0, min(self.height - 1, int(self.horizon) - 1))]
