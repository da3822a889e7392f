"""Measures Strobe's image modification, inpainting and Reframe on renders the model was not tuned
on (fresh scenes and render seeds), with the evaluation's render-trained attribute classifier
(strobe_training.evaluation.classifier; cached) and Fréchet distance in its feature space. The
images are made by the Swift engine (`strobe edit`, `strobe reframe`, `strobe generate`), so what
is measured is what users run.

    swift build -c release --product strobe
    python -m strobe_training.evaluate_edits [--scenes 24] [--out Benchmarks/results/edit.json]

Per scene (a square render at the model's size, 256² for v1 and 512² for a v2 file, and one
caption of it):
- modify, own caption, strength 0.3: the attributes the classifier reads on the input, read the
  same on the output ("kept"); a scene counts when every one is kept;
- modify at strength 0.7 with only the time of day changed in the caption (daytime scenes: half
  to night, half to sunset): the new time read, the terrain kept;
- the mean RMS distance to the input (of 255) at strengths 0.2, 0.4, 0.6, 0.8, 1.0;
- inpaint a red hot-air balloon into the upper right (scenes without a balloon; the caption plus
  the balloon): pixels outside the mask equal the input's; a balloon read, on the right, red;
- reframe 1:1 to 21:9, 16:9, 9:16 and 3:4 (centred): the original's pixels unchanged; the seam
  ratio along the original's border (mean absolute step across it over the mean step between
  neighbours elsewhere in the new area), beside the same ratio across the model's own token
  borders in the new area (v1: 16-pixel patches; v2: 32-pixel latent patches, and 16-pixel latent
  cells), and that ratio's denominator over the same steps in the same strips of renders of the
  scenes (below 1: the drawn area is smoother than a render, which reads as a higher seam ratio),
  and both steps in 8-bit levels; and the local seam ratio: the step across the border over the
  steps beside it, within side/32 pixels on either side along the same stretch (about 1: no
  step that its neighbourhood does not have; the same on the renders, which have no border);
  the time of day and terrain read on the new area alone
  (its strips side by side), and on the same strips of renders of the scenes at the canvas size
  (the measure's ceiling), and how often the two readings agree (and, for chance, with the
  next scene's render); FD of the reframed images against renders of the same scenes at the
  canvas size, over the FD of text to image at that size against the same renders.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import torch

from strobe_reference.paths import repository_root
from strobe_training.evaluation.classifier import KEYS, labels_of, load_or_train, to_input
from strobe_training.evaluation.metrics import colour_steps, frechet_distance, specified
from strobe_training.scenes import ATTRIBUTE_VALUES, render
from strobe_training.scenes.grammar import caption, sample_scene
from strobe_training.scenes.png import png_bytes, read_png, to_uint8
from strobe_training.scenes.scene import MAX_OBJECTS, SceneObject

STRENGTHS = (0.2, 0.4, 0.6, 0.8, 1.0)
REFRAMES = ("21:9", "16:9", "9:16", "3:4")
MASK_256 = (16, 128, 160, 256)  # rows [16, 128), columns [160, 256): the upper right of a 256x256 image
DAYTIME = ("dawn", "morning", "noon", "golden_hour")
TIME, TERRAIN = KEYS.index("time_of_day"), KEYS.index("terrain")


def with_time(scene, time_of_day: str):
    """The scene at another time of day, with a sky that time allows."""
    night = time_of_day in ("dusk", "night")
    return dataclasses.replace(scene, time=time_of_day, sun=scene.sun and not night,
                               moon=scene.moon and night, stars=scene.stars and night)


def with_red_balloon(scene):
    """The scene with a red balloon on the right (at most one other object, not on the right)."""
    objects = [o for o in scene.objects if o.position != "right"][:MAX_OBJECTS - 1]
    return dataclasses.replace(scene, objects=tuple(objects) + (SceneObject("balloon", "red", "right"),))


def model_geometry(path: str) -> tuple[int, int, tuple[int, ...]]:
    """(square side, what sides are multiples of, token grids in pixels) of a weights file's model:
    v1 (strobe-dit) 256, 16, (16,); v2 (strobe-mmdit) 512, 32, (32, 16)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    arch = json.loads(header.get("__metadata__", {}).get("strobe.architecture", "{}"))
    if arch.get("family") == "strobe-mmdit":
        multiple = arch["latent_factor"] * arch["denoiser"]["patch_size"]
        return 512, multiple, (multiple, arch["latent_factor"])
    patch = arch.get("denoiser", {}).get("patch_size", 16)
    return 256, patch, (patch,)


def mask_slices(side: int) -> tuple[slice, slice]:
    """MASK_256 scaled to a square image of `side`."""
    r0, r1, c0, c1 = (v * side // 256 for v in MASK_256)
    return slice(r0, r1), slice(c0, c1)


def canvas_size(ratio: str, side: int = 256, patch: int = 16) -> tuple[int, int]:
    w, h = (int(v) for v in ratio.split(":"))
    r = w / h
    up = lambda v: -(-int(np.ceil(v - 1e-9)) // patch) * patch  # noqa: E731
    return (max(side, up(side * r)), side) if r > 1 else (side, max(side, up(side / r)))


MAX_SIDE = 4096  # GenerationConfig.maxSide


def grid_pad(origin: int, length: int, canvas: int, grid: int, multiple: int | None = None) -> int:
    """Where the engine's sampler grid lies along one axis of a v1 reframe's output
    (Sources/Strobe/Editing/ReframeLayout.swift): the working canvas starts this many pixels before
    the output, so that the original's borders with the drawn area fall mid-patch; 0 when they do
    already, when the original touches both ends of this axis, or when one more `multiple` (default
    `grid`) would pass the engine's longest side."""
    if origin == 0 and origin + length == canvas:
        return 0
    pad = ((grid // 2 - origin % grid) % grid + grid) % grid
    return pad if canvas + (multiple or grid) <= MAX_SIDE else 0


def main() -> None:
    root = repository_root("strobe_training.evaluate_edits (runs .build/release/strobe, writes Benchmarks/results/)")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strobe", default=os.path.join(root, ".build", "release", "strobe"))
    parser.add_argument("--model", default=os.path.join(root, "Models", "strobe-scenes.safetensors"))
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--seed", type=int, default=20261203, help="scene and render seed (not one training used)")
    parser.add_argument("--out", default=os.path.join(root, "Benchmarks", "results", "edit.json"))
    args = parser.parse_args()
    args.model = os.path.abspath(args.model)          # the engine runs in a temporary directory
    started = time.time()
    side, multiple, grids = model_geometry(args.model)
    MASK = mask_slices(side)
    classifier, classifier_info = load_or_train()
    rng = np.random.default_rng(args.seed)
    scenes = [sample_scene(rng) for _ in range(args.scenes)]
    captions = [caption(s, rng) for s in scenes]

    def read(images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return classifier.predict(to_input(np.stack([im.transpose(2, 0, 1) / 255.0 for im in images])))

    results: dict = {}
    with tempfile.TemporaryDirectory() as work:
        def strobe(*arguments: str) -> np.ndarray:
            out = os.path.join(work, "out.png")
            subprocess.run([args.strobe, *arguments, "-o", out, "--overwrite", "-q", "--model", args.model],
                           check=True, cwd=work)
            return read_png(out)

        inputs = []
        for i, scene in enumerate(scenes):
            image = to_uint8(render(scene, side, side, args.seed + i))
            with open(os.path.join(work, f"in{i}.png"), "wb") as f:
                f.write(png_bytes(image))
            inputs.append(image)
        labels = torch.tensor([labels_of(s) for s in scenes])
        mask = specified(labels)
        pred_in, _ = read(inputs)

        # Modify with the own caption at 0.3.
        outs = [strobe("edit", f"in{i}.png", captions[i], "--strength", "0.3", "-s", str(i)) for i in range(len(scenes))]
        pred_out, _ = read(outs)
        kept = (pred_out == pred_in) | ~mask
        results["modify_own_caption_0.3"] = {
            "scenes_all_kept": round(float(kept.all(1).double().mean()), 4),
            "attributes_kept": round(float(((pred_out == pred_in) & mask).sum() / mask.sum()), 4),
            # Which attributes the misses were: scenes where each was specified and read otherwise.
            "attributes_lost": {key: int(n) for key, n in zip(KEYS, ((pred_out != pred_in) & mask).sum(0).tolist()) if n},
            "target_scenes_all_kept": 0.95}

        # Modify at 0.7 with only the time of day changed.
        day = [i for i, s in enumerate(scenes) if s.time in DAYTIME]
        targets = {i: ("night" if n % 2 == 0 else "sunset") for n, i in enumerate(day)}
        outs = [strobe("edit", f"in{i}.png", caption(with_time(scenes[i], targets[i]), rng), "--strength", "0.7",
                       "-s", str(i)) for i in day]
        pred, _ = read(outs) if outs else (torch.empty(0, len(KEYS), dtype=torch.long), None)
        new_time = [ATTRIBUTE_VALUES["time_of_day"].index(targets[i]) for i in day]
        results["modify_time_of_day_0.7"] = {
            "scenes": len(day), "new_time_read": round(float((pred[:, TIME] == torch.tensor(new_time)).double().mean()), 4),
            "terrain_kept": round(float((pred[:, TERRAIN] == labels[day, TERRAIN]).double().mean()), 4),
            "targets": {"new_time_read": 0.9, "terrain_kept": 0.9}}

        # Distance to the input against strength.
        distances = {}
        for strength in STRENGTHS:
            d = [np.sqrt(np.mean((strobe("edit", f"in{i}.png", captions[i], "--strength", str(strength), "-s", str(i))
                                  .astype(float) - inputs[i]) ** 2)) for i in range(len(scenes))]
            distances[str(strength)] = round(float(np.mean(d)), 2)
        results["modify_distance_by_strength"] = {
            "rms_of_255": distances, "rises": all(distances[str(a)] < distances[str(b)] for a, b in zip(STRENGTHS, STRENGTHS[1:]))}

        # Inpaint a red balloon into the upper right.
        m = np.zeros((side, side, 3), np.uint8)
        m[MASK] = 255
        with open(os.path.join(work, "mask.png"), "wb") as f:
            f.write(png_bytes(m))
        chosen = [i for i, s in enumerate(scenes) if s.object("balloon") is None]
        outs, exact = [], True
        for i in chosen:
            out = strobe("edit", f"in{i}.png", caption(with_red_balloon(scenes[i]), rng), "--mask", "mask.png", "-s", str(i))
            outside = np.ones((side, side), bool)
            outside[MASK] = False
            exact &= bool((out[outside] == inputs[i][outside]).all())
            outs.append(out)
        pred, _ = read(outs)
        k = {key: KEYS.index(key) for key in ("balloon", "balloon_position", "balloon_colour")}
        found = (pred[:, k["balloon"]] == 1) & (pred[:, k["balloon_position"]] == ATTRIBUTE_VALUES["balloon_position"].index("right")) \
            & (pred[:, k["balloon_colour"]] == ATTRIBUTE_VALUES["balloon_colour"].index("red"))
        results["inpaint_red_balloon"] = {
            "scenes": len(chosen), "outside_mask_equal": exact,
            "balloon_found": round(float((pred[:, k["balloon"]] == 1).double().mean()), 4),
            "balloon_found_right_and_red": round(float(found.double().mean()), 4), "target": 0.8}

        # Reframe.
        reframe = {}
        for ratio in REFRAMES:
            w, h = canvas_size(ratio, side, multiple)
            ox, oy = (w - side) // 2, (h - side) // 2
            # v1 (one grid, its patches: model_geometry) samples on a canvas whose patch borders
            # avoid the original's; the centred reframes here extend one axis only.
            pixel_space = len(grids) == 1
            assert (ox == 0) != (oy == 0), (ratio, ox, oy)
            pad = grid_pad(ox, side, w, grids[0], multiple) if ox else grid_pad(oy, side, h, grids[0], multiple)

            def new_area(image: np.ndarray) -> np.ndarray:
                """The canvas less the original's place: its two strips side by side."""
                strips = [image[:, :ox], image[:, ox + side:]] if ox else [image[:oy], image[oy + side:]]
                return np.concatenate(strips, axis=1 if ox else 0)

            outs, wholes, gens, renders, render_strips, unchanged, seams = [], [], [], [], [], True, []
            smoothness, border_levels, rest_levels, local_seams, render_local_seams = [], [], [], [], []

            def border_steps(steps_x: np.ndarray, steps_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                """The steps across the original's border lines, and the steps beside them
                (parallel to them, within side/32 pixels on either side, along the same stretch)."""
                band = side // 32           # 8 px at 256², 16 at 512²
                across, beside = [], []
                if ox:
                    for line in (ox - 1, ox + side - 1):
                        across.append(steps_x[oy:oy + side, line])
                        beside += [steps_x[oy:oy + side, line - band:line].ravel(),
                                   steps_x[oy:oy + side, line + 1:line + 1 + band].ravel()]
                if oy:
                    for line in (oy - 1, oy + side - 1):
                        across.append(steps_y[line, ox:ox + side])
                        beside += [steps_y[line - band:line, ox:ox + side].ravel(),
                                   steps_y[line + 1:line + 1 + band, ox:ox + side].ravel()]
                return np.concatenate(across), np.concatenate(beside)

            patch_seams: dict[int, list[float]] = {g: [] for g in grids}
            for i in range(len(scenes)):
                out = strobe("reframe", f"in{i}.png", captions[i], "--aspect-ratio", ratio, "-s", str(i))
                assert out.shape[:2] == (h, w), (ratio, out.shape)
                wholes.append(out)
                unchanged &= bool((out[oy:oy + side, ox:ox + side] == inputs[i]).all())
                steps_x, steps_y = colour_steps(out)
                border, beside = border_steps(steps_x, steps_y)
                elsewhere = []
                patch_borders: dict[int, list[np.ndarray]] = {g: [] for g in grids}
                # The model's own token borders on the output: step k lies between pixels k and k + 1,
                # and v1's grid is shifted by the working canvas's pad (v2 gets none).
                first = {g: (g - 1 - (pad if pixel_space else 0)) % g for g in grids}
                if ox:
                    elsewhere.append(steps_x[:, :ox - 1].ravel())
                    for g in grids:
                        patch_borders[g].append(steps_x[:, first[g]:ox - 1:g].ravel())
                if oy:
                    elsewhere.append(steps_y[:oy - 1, :].ravel())
                    for g in grids:
                        patch_borders[g].append(steps_y[first[g]:oy - 1:g, :].ravel())
                rest = max(np.concatenate(elsewhere).mean(), 1e-6)
                seams.append(border.mean() / rest)
                border_levels.append(border.mean())
                local_seams.append(border.mean() / max(beside.mean(), 1e-6))
                rest_levels.append(rest)
                # The same measure across the model's own token borders inside the new area: the
                # seams every image of the v1 model has (v1's 16-px patches; v2's 32-px latent
                # patches and 16-px latent cells).
                for g in grids:
                    patch_seams[g].append(np.concatenate(patch_borders[g]).mean() / rest)
                outs.append(new_area(out))
                gens.append(strobe("generate", captions[i], "--size", f"{w}x{h}", "-s", str(i)))
                renders.append(to_uint8(render(scenes[i], w, h, args.seed + 10_000 + i)))
                # The same strips of a render of the scene at the canvas size: what the classifier
                # reads from such strips when they are right (the measure's ceiling).
                render_strips.append(new_area(renders[-1]))
                # The seam ratio's denominator against the renders': the mean step between
                # neighbours in the new area over the same in the same strips of the render. Below
                # 1, the drawn area is smoother than a render, and the ratio reads high for it.
                r_steps_x, r_steps_y = colour_steps(renders[-1])
                r_border, r_beside = border_steps(r_steps_x, r_steps_y)
                render_local_seams.append(r_border.mean() / max(r_beside.mean(), 1e-6))
                r_rest = r_steps_x[:, :ox - 1].ravel() if ox else r_steps_y[:oy - 1, :].ravel()
                smoothness.append(rest / max(r_rest.mean(), 1e-6))
            pred_new, _ = read(outs)
            pred_strips, _ = read(render_strips)
            _, f_ref = read(wholes)
            _, f_gen = read(gens)
            _, f_ren = read(renders)
            fd_reframe, fd_generate = frechet_distance(f_ref.numpy(), f_ren.numpy()), frechet_distance(f_gen.numpy(), f_ren.numpy())
            reframe[ratio] = {
                "canvas": f"{w}x{h}", "original_unchanged": unchanged,
                "seam_ratio_mean": round(float(np.mean(seams)), 3), "seam_ratio_max": round(float(np.max(seams)), 3),
                "new_area_steps_vs_renders": round(float(np.mean(smoothness)), 3),
                # In 8-bit levels: the mean step across the border and elsewhere in the new area.
                "border_step_levels": round(float(np.mean(border_levels)), 3),
                # The step across the border over the steps beside it (a seam is a step its
                # neighbourhood does not have), and the same on renders at the canvas size.
                "local_seam_ratio_mean": round(float(np.mean(local_seams)), 3),
                "local_seam_ratio_max": round(float(np.max(local_seams)), 3),
                "renders_local_seam_ratio": round(float(np.mean(render_local_seams)), 3),
                "new_area_step_levels": round(float(np.mean(rest_levels)), 3),
                "patch_seam_ratio_in_new_area": round(float(np.mean(patch_seams[grids[0]])), 3),
                **({f"seam_ratio_in_new_area_at_{g}px": round(float(np.mean(patch_seams[g])), 3) for g in grids[1:]}),
                "new_area_time_of_day": round(float((pred_new[:, TIME] == labels[:, TIME]).double().mean()), 4),
                "new_area_terrain": round(float((pred_new[:, TERRAIN] == labels[:, TERRAIN]).double().mean()), 4),
                "renders_same_strips_time_of_day": round(float((pred_strips[:, TIME] == labels[:, TIME]).double().mean()), 4),
                "renders_same_strips_terrain": round(float((pred_strips[:, TERRAIN] == labels[:, TERRAIN]).double().mean()), 4),
                # Whether the new area reads as the same strips of a render of the scene read,
                # right or wrong: the measure without the classifier's weakness on strips.
                "new_area_time_of_day_as_renders": round(float((pred_new[:, TIME] == pred_strips[:, TIME]).double().mean()), 4),
                "new_area_terrain_as_renders": round(float((pred_new[:, TERRAIN] == pred_strips[:, TERRAIN]).double().mean()), 4),
                # The same against the strips of the next scene's render: the agreement by chance.
                "new_area_time_of_day_as_other_renders": round(float((pred_new[:, TIME] == pred_strips.roll(1, 0)[:, TIME]).double().mean()), 4),
                "new_area_terrain_as_other_renders": round(float((pred_new[:, TERRAIN] == pred_strips.roll(1, 0)[:, TERRAIN]).double().mean()), 4),
                "fd_reframe": round(float(fd_reframe), 1), "fd_generate_same_size": round(float(fd_generate), 1),
                "fd_ratio": round(float(fd_reframe / fd_generate), 3)}
        results["reframe"] = reframe
        results["reframe_targets"] = {"seam_ratio": 1.3, "new_area_time_of_day_and_terrain": 0.9, "fd_ratio": 1.3}

    results["meta"] = {"scenes": args.scenes, "seed": args.seed, "seconds": round(time.time() - started, 1),
                       "input_side": side, "token_grids_px": list(grids),
                       "model": os.path.basename(args.model), "images_by": "the Swift engine (strobe edit, reframe, generate)",
                       "classifier": "strobe_training.evaluation.classifier.load_or_train() (renders only)",
                       "classifier_weights_sha256": classifier_info["weights_sha256"]}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
