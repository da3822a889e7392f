"""Makes the README's editing picture, Benchmarks/results/edit-picture.png, with the Swift engine:

    swift build -c release --product strobe
    python -m strobe_tools.make_edit_picture [--strobe .build/release/strobe] [--model PATH]

Top row: one image made by `strobe generate`, then `strobe edit` of it at strength 0.4 and 0.8
with the time of day changed to night, then an inpainted square (a red hot-air balloon, from a
white-on-black mask). Bottom row: `strobe reframe` of the same image to 21:9, the original kept
in the middle. Every command, seed and prompt is in Benchmarks/results/edit-picture.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

from strobe_reference.paths import repository_root
from strobe_training.scenes.png import png_bytes, read_png

PROMPT = "a lighthouse on the left at noon, calm sea"
NIGHT = "a lighthouse on the left at night, calm sea"
BALLOON = "a red hot-air balloon on the right"
SQUARE = (slice(30, 110), slice(150, 230))  # rows, columns of the 256x256 image


def main() -> None:
    root = repository_root("strobe_tools.make_edit_picture (runs .build/release/strobe, writes Benchmarks/results/)")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strobe", default=os.path.join(root, ".build", "release", "strobe"))
    parser.add_argument("--model", default=os.path.join(root, "Models", "strobe-scenes.safetensors"))
    args = parser.parse_args()
    out_dir = os.path.join(root, "Benchmarks", "results")
    commands = []
    with tempfile.TemporaryDirectory() as work:
        def strobe(*arguments: str) -> None:
            command = [args.strobe, *arguments, "--model", args.model, "-q", "--overwrite"]
            subprocess.run(command, check=True, cwd=work)
            commands.append(["strobe", *arguments])

        mask = np.zeros((256, 256), np.uint8)
        mask[SQUARE] = 255
        with open(os.path.join(work, "mask.png"), "wb") as f:
            f.write(png_bytes(np.repeat(mask[..., None], 3, axis=-1)))
        strobe("generate", PROMPT, "-s", "3", "-o", "input.png")
        strobe("edit", "input.png", NIGHT, "--strength", "0.4", "-s", "5", "-o", "night-0.4.png")
        strobe("edit", "input.png", NIGHT, "--strength", "0.8", "-s", "5", "-o", "night-0.8.png")
        strobe("edit", "input.png", BALLOON, "--mask", "mask.png", "-s", "5", "-o", "balloon.png")
        strobe("reframe", "input.png", "--aspect-ratio", "21:9", "-s", "5", "-o", "reframe-21x9.png")
        top = np.concatenate([read_png(os.path.join(work, name)) for name in
                              ("input.png", "night-0.4.png", "night-0.8.png", "balloon.png")], axis=1)
        wide = read_png(os.path.join(work, "reframe-21x9.png"))
    gap = 8
    canvas = np.full((top.shape[0] + gap + wide.shape[0], max(top.shape[1], wide.shape[1]), 3), 255, np.uint8)
    canvas[:top.shape[0], :top.shape[1]] = top
    canvas[top.shape[0] + gap:, :wide.shape[1]] = wide
    with open(os.path.join(out_dir, "edit-picture.png"), "wb") as f:
        f.write(png_bytes(canvas))
    with open(os.path.join(out_dir, "edit-picture.json"), "w") as f:
        json.dump({"commands": commands, "layout": "top: input, edit 0.4, edit 0.8, inpaint; bottom: reframe 21:9"},
                  f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.join(out_dir, 'edit-picture.png')}")


if __name__ == "__main__":
    main()
