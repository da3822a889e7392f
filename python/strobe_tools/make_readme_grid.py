"""Generates the README's grid with the Swift engine: flash 4 steps beside full 100 steps, for
several prompts and aspect ratios, and the latency of each `strobe generate` on this machine.

    swift build -c release --product strobe
    python -m strobe_tools.make_readme_grid [--strobe .build/release/strobe] [--model PATH]

Writes Benchmarks/results/readme-grid.png and Benchmarks/results/readme-grid.json (prompts,
seeds, sizes and the wall-clock seconds of every run: a whole `strobe generate` process, model
loading included, and the engine's own total from `--timings`). Needs only numpy.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np

from strobe_reference.paths import repository_root
from strobe_training.scenes.png import read_png, write_png

ROWS = [
    ("a lighthouse on the left at golden hour, calm sea", "1:1", 1),
    ("snowy peaks at dusk with a lake", "16:9", 2),
    ("a red hot-air balloon on the right above desert dunes at noon", "3:4", 3),
    ("a city skyline at night with stars and a moon", "21:9", 4),
    ("a sailboat on the sea at sunset with birds", "2:3", 5),
]
COLUMNS = [("flash", 4), ("full", 100)]


def run(strobe: str, model: str | None, prompt: str, aspect: str, seed: int, sampler: str, steps: int, out: str):
    cmd = [strobe, "generate", prompt, "--aspect-ratio", aspect, "-s", str(seed), "--sampler", sampler,
           "--steps", str(steps), "-o", out, "--overwrite", "--timings", "--quiet"]
    if model:
        cmd += ["--model", model]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"strobe failed ({proc.returncode}): {proc.stderr}")
    total = re.search(r"total\s+([\d.]+) ms", proc.stderr)
    return wall, float(total.group(1)) / 1000 if total else None


def main() -> None:
    root = repository_root("strobe_tools.make_readme_grid (runs .build/release/strobe, writes Benchmarks/results/)")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strobe", default=os.path.join(root, ".build", "release", "strobe"))
    parser.add_argument("--model")
    parser.add_argument("--out", default=os.path.join(root, "Benchmarks", "results", "readme-grid.png"))
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    records, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for prompt, aspect, seed in ROWS:
            cells = []
            for sampler, steps in COLUMNS:
                path = os.path.join(tmp, f"{seed}-{sampler}.png")
                wall, engine = run(args.strobe, args.model, prompt, aspect, seed, sampler, steps, path)
                cells.append(read_png(path))
                records.append({"prompt": prompt, "aspect_ratio": aspect, "seed": seed, "sampler": sampler,
                                "steps": steps, "process_seconds": round(wall, 3),
                                "engine_seconds": engine and round(engine, 3)})
                print(records[-1], flush=True)
            rows.append(cells)
    cell_h = max(c.shape[0] for row in rows for c in row)
    cell_w = max(c.shape[1] for row in rows for c in row)
    pad = 8
    sheet = np.full((len(rows) * (cell_h + pad) + pad, len(COLUMNS) * (cell_w + pad) + pad, 3), 32, np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y = pad + r * (cell_h + pad) + (cell_h - img.shape[0]) // 2
            x = pad + c * (cell_w + pad) + (cell_w - img.shape[1]) // 2
            sheet[y:y + img.shape[0], x:x + img.shape[1]] = img
    write_png(args.out, sheet)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"columns": [f"{s} {n} steps" for s, n in COLUMNS], "runs": records}, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
