"""Contact sheet: a PNG grid of images with a header row of labels in a tiny 5x7 bitmap font.

Each cell is a square box; an image is resized (area averaging) to fit it, keeping its aspect
ratio, and centred on the background. Missing images (a mode not run for that row) stay blank
with a dim cross.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# 5x7 glyphs: 7 rows of 5 columns per character ("#" = ink).
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    " ": (".....", ".....", ".....", ".....", ".....", ".....", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
}


def text_bitmap(text: str, scale: int = 2) -> np.ndarray:
    """bool [7·scale, 6·len·scale] (one blank column between glyphs); unknown characters blank."""
    cols = []
    for ch in text.upper():
        g = _GLYPHS.get(ch, _GLYPHS[" "])
        bits = np.array([[c == "#" for c in row] for row in g], dtype=bool)   # [7, 5]
        cols.append(np.concatenate([bits, np.zeros((7, 1), bool)], axis=1))
    bitmap = np.concatenate(cols, axis=1) if cols else np.zeros((7, 0), bool)
    return bitmap.repeat(scale, 0).repeat(scale, 1)


def draw_text(canvas: np.ndarray, text: str, x: int, y: int, colour=(235, 235, 235), scale: int = 2) -> None:
    bm = text_bitmap(text, scale)
    h = min(bm.shape[0], canvas.shape[0] - y)
    w = min(bm.shape[1], canvas.shape[1] - x)
    if h > 0 and w > 0:
        canvas[y:y + h, x:x + w][bm[:h, :w]] = colour


def fit(image: np.ndarray, box: int) -> np.ndarray:
    """uint8 [H, W, 3] → uint8 resized (area averaging) so that its longer side is `box`."""
    h, w = image.shape[:2]
    s = box / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    y = F.interpolate(x, size=size, mode="area")
    return y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def contact_sheet(rows: list[tuple[str, list[np.ndarray | None]]], columns: list[str], box: int = 160,
                  pad: int = 6, label_width: int = 44, scale: int = 2) -> np.ndarray:
    """rows: (row label, one image or None per column) → uint8 [H, W, 3]."""
    header = 7 * scale + 2 * pad
    width = label_width + len(columns) * (box + pad) + pad
    height = header + len(rows) * (box + pad) + pad
    canvas = np.full((height, width, 3), 24, np.uint8)
    for c, name in enumerate(columns):
        x0 = label_width + pad + c * (box + pad)
        tw = text_bitmap(name, scale).shape[1]
        draw_text(canvas, name, x0 + max(0, (box - tw) // 2), pad, scale=scale)
    for r, (label, images) in enumerate(rows):
        y0 = header + r * (box + pad)
        draw_text(canvas, label, pad, y0 + box // 2 - 7 * scale // 2, scale=scale)
        for c, img in enumerate(images):
            x0 = label_width + pad + c * (box + pad)
            cell = canvas[y0:y0 + box, x0:x0 + box]
            cell[:] = 40
            if img is None:
                idx = np.arange(box)
                cell[idx, idx] = 70
                cell[idx, box - 1 - idx] = 70
                continue
            t = fit(img, box)
            oy, ox = (box - t.shape[0]) // 2, (box - t.shape[1]) // 2
            cell[oy:oy + t.shape[0], ox:ox + t.shape[1]] = t
    return canvas
