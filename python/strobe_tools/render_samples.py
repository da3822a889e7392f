#!/usr/bin/env python3
"""Render a contact sheet of procedural scenes: rows are scenes, columns aspect ratios.

    python -m strobe_tools.render_samples --out sheet.png --scenes 8 --aspects 1:1 21:9 9:21 3:2
    python -m strobe_tools.render_samples --heldout --out heldout.png

Captions go to stdout and to a JSON file beside the PNG (same name, .json).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from strobe_training.scenes import ASPECT_SIZES, caption, heldout_scenes, render, sample_scene
from strobe_training.scenes.png import to_uint8, write_png


def contact_sheet(scenes, aspects, seed: int, pad: int = 6) -> np.ndarray:
    sizes = [ASPECT_SIZES[a] for a in aspects]
    cell_w = [w for w, _ in sizes]
    cell_h = max(h for _, h in sizes)
    sheet_w = sum(cell_w) + pad * (len(sizes) + 1)
    sheet_h = len(scenes) * cell_h + pad * (len(scenes) + 1)
    sheet = np.full((sheet_h, sheet_w, 3), 40, dtype=np.uint8)
    for i, scene in enumerate(scenes):
        x = pad
        y = pad + i * (cell_h + pad)
        for j, (w, h) in enumerate(sizes):
            img = to_uint8(render(scene, w, h, seed + i))
            oy = y + (cell_h - h) // 2
            sheet[oy:oy + h, x:x + w] = img
            x += w + pad
    return sheet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="scenes_sheet.png")
    ap.add_argument("--scenes", type=int, default=8)
    ap.add_argument("--aspects", nargs="+", default=["1:1", "21:9", "9:21", "3:2", "3:4"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--heldout", action="store_true", help="one scene per held-out combination")
    args = ap.parse_args()
    for a in args.aspects:
        if a not in ASPECT_SIZES:
            ap.error(f"unknown aspect {a!r}; choose from {sorted(ASPECT_SIZES)}")
    rng = np.random.default_rng(args.seed)
    if args.heldout:
        pairs = heldout_scenes(args.seed)
        scenes = [s for _, s in pairs]
        names = [h.name for h, _ in pairs]
    else:
        scenes = [sample_scene(rng) for _ in range(args.scenes)]
        names = [None] * len(scenes)
    records = []
    for i, (scene, name) in enumerate(zip(scenes, names)):
        text = caption(scene, rng)
        records.append({"row": i, "seed": args.seed + i, "caption": text, "heldout": name,
                        "attributes": scene.attributes()})
        print(f"{i:2d}: {text}" + (f"   [held out: {name}]" if name else ""))
    write_png(args.out, contact_sheet(scenes, args.aspects, args.seed))
    with open(os.path.splitext(args.out)[0] + ".json", "w") as fh:
        json.dump({"aspects": args.aspects, "rows": records}, fh, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
