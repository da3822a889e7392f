"""The nine aspect ratios of the default model and their pixel sizes.

Every size is a multiple of 16 on both sides and close to 256 * 256 pixels in area.
"""
from __future__ import annotations

# "W:H" -> (width, height)
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (256, 256),
    "3:4": (224, 288),
    "4:3": (288, 224),
    "9:16": (192, 336),
    "16:9": (336, 192),
    "9:21": (160, 384),
    "21:9": (384, 160),
    "2:3": (208, 320),
    "3:2": (320, 208),
}
