"""Contact sheet of several models side by side (issue 22: v1 and v2, three seeds per prompt).

    PYTHONPATH=python python -m strobe_training.evaluation.compare_sheet \
        --models Models/strobe-scenes.safetensors Models/strobe-scenes-v2.safetensors --labels v1 v2 \
        --out Benchmarks/results/v1-v2-sheet.png [--steps 4] [--seeds 11,12,13] [--prompts 8] [--threads 2]

Rows: the seed-variety prompts (`variety.variety_prompts`: grammar captions "L1"…, then the
README-like short prompts "S1"…); --prompts N keeps N of them, half long and half short (the
short ones at most four). Columns: one reference render of a scene matching the prompt (the first
of `variety.reference_scenes`, policy "grammar": a long caption's own scene, a short prompt's
scene with what it leaves open drawn), then for each model one image per noise seed ("V1 S11",
…) with the flash sampler at --steps steps, at the model's size (`variety.VARIETY_SIZE` × its
`ImageModel.scale`: 256² for v1, 512² for v2; the render at the largest of them). `sheet.py` fits
every image into its square box. Beside the PNG a .json lists the columns, the rows' prompts and
sets, and per model its path, sha256, label, family, size, sampler, steps, guidance and seeds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

import numpy as np
import torch

from strobe_training.evaluate import sheet_captions_path
from strobe_training.evaluation.generate import ImageModel, load_weights_file
from strobe_training.evaluation.sheet import contact_sheet, text_bitmap
from strobe_training.evaluation.variety import (SHORT_PROMPTS, VARIETY_SEEDS, VARIETY_SIZE, VarietyPrompt,
                                                reference_scenes, variety_items, variety_prompts)
from strobe_training.scenes import Scene, render
from strobe_training.scenes.png import to_uint8, write_png

DEFAULT_SEEDS = VARIETY_SEEDS[:3]
MODE = "flash"
BOX = 160                              # sheet.contact_sheet's default box


def log(*args):
    print(*args, flush=True)


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sheet_prompts(n: int | None = None, seed: int = 0) -> list[VarietyPrompt]:
    """The variety prompts (all eight by default); n: half long and half short, the short ones at
    most len(SHORT_PROMPTS), the long ones the rest."""
    if n is None:
        return variety_prompts(seed=seed)
    short = min(n // 2, len(SHORT_PROMPTS))
    return variety_prompts(n - short, seed, SHORT_PROMPTS[:short])


def row_labels(prompts: list[VarietyPrompt]) -> list[str]:
    """"L1", "L2", … for the long set, "S1", … for the short one."""
    count: dict[str, int] = {}
    out = []
    for vp in prompts:
        count[vp.set] = count.get(vp.set, 0) + 1
        out.append(f"{vp.set[0].upper()}{count[vp.set]}")
    return out


def reference_render(vp: VarietyPrompt, index: int, width: int, height: int) -> tuple[np.ndarray, Scene, int]:
    """(uint8 [H, W, 3], scene, render seed): prompt number `index`'s first reference render."""
    scene, seed = reference_scenes(vp, index, 1)[0]
    return to_uint8(render(scene, width, height, seed)), scene, seed


def model_size(lm: ImageModel) -> tuple[int, int]:
    return VARIETY_SIZE[0] * lm.scale, VARIETY_SIZE[1] * lm.scale


def build(models: list[tuple[str, str, ImageModel]], prompts: list[VarietyPrompt], seeds: tuple[int, ...],
          steps: int, batch: int = 8, log=log) -> tuple[np.ndarray, dict]:
    """models: (label, path, model) → (the sheet, its JSON sidecar)."""
    labels = row_labels(prompts)
    columns = ["RENDER"] + [f"{label} S{s}".upper() for label, _, _ in models for s in seeds]
    rw, rh = max(model_size(lm) for _, _, lm in models)
    renders = [reference_render(vp, i, rw, rh) for i, vp in enumerate(prompts)]
    cells: list[list[np.ndarray]] = [[img] for img, _, _ in renders]
    described = []
    for label, path, lm in models:
        size = model_size(lm)
        items = variety_items(prompts, seeds, size)
        t = time.time()
        images = lm.generate(items, MODE, steps, batch, log)
        seconds = time.time() - t
        log(f"{label}: {len(items)} images at {size[0]}x{size[1]}, {MODE} {steps} ({seconds:.0f} s)")
        for p in range(len(prompts)):
            cells[p] += [images[p * len(seeds) + k] for k in range(len(seeds))]
        described.append({"label": label, "path": path, "sha256": sha256_of(path),
                          "family": lm.info.get("family", "strobe-dit"), "model_name": lm.info.get("model_name"),
                          "size": f"{size[0]}x{size[1]}", "sampler": MODE, "steps": steps,
                          "guidance": lm.guidance, "seeds": list(seeds), "seconds": round(seconds, 1)})
    grid = contact_sheet(list(zip(labels, cells)), columns, box=BOX)
    side = {
        "columns": columns,
        "rows": [{"label": label, "set": vp.set, "prompt": vp.prompt, "render_seed": seed,
                  "render_size": f"{rw}x{rh}", "render_attributes": scene.attributes()}
                 for label, vp, (_, scene, seed) in zip(labels, prompts, renders)],
        "models": described,
    }
    return grid, side


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", required=True, help="Strobe weights files (v1 or v2)")
    p.add_argument("--labels", nargs="+", help="one short label per model (default m1, m2, …)")
    p.add_argument("--out", required=True, help="PNG (its .json beside it)")
    p.add_argument("--steps", type=int, default=4, help="flash sampler steps")
    p.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), help="comma-separated noise seeds")
    p.add_argument("--prompts", type=int, help="keep N prompts, half long and half short (default all 8)")
    p.add_argument("--guidance", type=float, help="w for every model (default: each file's)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    labels = args.labels or [f"m{i + 1}" for i in range(len(args.models))]
    if len(labels) != len(args.models) or len(set(labels)) != len(labels):
        p.error("--labels: one distinct label per model")
    try:
        seeds = tuple(int(x) for x in args.seeds.split(",") if x)
    except ValueError as e:
        p.error(f"--seeds: {e}")
    if not seeds or args.steps < 1 or (args.prompts is not None and args.prompts < 1):
        p.error("at least one seed, one step and one prompt")
    too_wide = [f"{label} S{s}" for label in labels for s in seeds if text_bitmap(f"{label} S{s}").shape[1] > BOX]
    if too_wide:
        p.error(f"column labels wider than a box: {too_wide}; shorten --labels")
    if not args.out.lower().endswith(".png"):
        p.error("--out: a .png path (the JSON goes beside it)")
    torch.set_num_threads(args.threads)
    models = [(label, path, load_weights_file(path, args.guidance)) for label, path in zip(labels, args.models)]
    grid, side = build(models, sheet_prompts(args.prompts), seeds, args.steps, args.batch)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_png(args.out, grid)
    with open(sheet_captions_path(args.out), "w") as f:
        json.dump(side, f, indent=1)
        f.write("\n")
    log(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]}) and {sheet_captions_path(args.out)}")


if __name__ == "__main__":
    main()
