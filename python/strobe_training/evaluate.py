"""Evaluates Strobe's default model (docs/architecture.md, its evaluation): attribute accuracy and
Fréchet distance of the flash sampler at 1, 2, 4, 8 steps, the naive 4-step baseline, the full
100-step sampler and the teacher (two-pass classifier-free guidance, 100 steps), plus a contact sheet.

    python -m strobe_training.evaluate --checkpoint RUN_DIR/tvm.ckpt --teacher RUN_DIR/teacher.ckpt \
        --tokenizer RUN_DIR/tokenizer.model [--weights ema] [--scenes 64] [--full-scenes 8] \
        [--out Benchmarks/results/quality.json] [--sheet Benchmarks/results/contact-sheet.png]
    python -m strobe_training.evaluate --weights-file Models/strobe-scenes.safetensors ...
    python -m strobe_training.evaluate --weights-file Models/strobe-scenes-v2.safetensors \
        --out Benchmarks/results/quality-v2.json ...     (a v2 file: sizes doubled, evaluation/generate.py)
    python -m strobe_training.evaluate --weights-file Models/strobe-scenes.safetensors --scenes 27 \
        --full-scenes 3 --only seams,variety [--variety-modes flash_4,full_100]

What is measured (details in strobe_training/evaluation/):
- Judge: a multi-head CNN trained on renders only: the committed one of the default recipe
  (evaluation/judges/, the same weights on every machine), else one cached under
  ~/.cache/strobe/evaluation, else trained; --retrain-classifier trains anew. meta.classifier
  names its weights (weights_sha256). Its accuracy on renders of the evaluation scenes is the
  ceiling ("meta.ceiling").
- Prompts: --scenes in-distribution scenes (sample_scene, fixed seed) and the held-out combinations
  (heldout_scenes, --heldout-per-combination each), each with one caption, one of the nine aspect
  ratios (cycled), noise seed = --seed + index.
- accuracy / accuracy_heldout: mean over scenes of the fraction of the scene's specified attributes
  (time, terrain, sky flags, presence of each kind, position and colour of each object present)
  the classifier reads from the generated image.
- fd: Fréchet distance between the classifier's 128-d penultimate features of the generated images
  (in-distribution and held-out together) and of renders of the same scenes at the same sizes.
  Small sets bias it upwards, so compare modes on equal sets: "meta.common_subset" repeats all
  three metrics on the scenes every mode ran, and "meta.ceiling.fd_floor" is the distance between
  two renders of each scene with different render seeds.
- full_100 and teacher_100 run on the first --full-scenes in-distribution and held-out scenes only.
- --carry OLD.json takes the modes of --carry-modes (teacher_100) that this run does not make from an
  earlier run's results, when that run used the same classifier (recipe and weights), scenes and seeds (else it
  stops and names what differs); meta.carried says which and from where. For a teacher whose
  checkpoint is gone.
- seam_ratio (per mode, per grid): the mean over the mode's images of the seam ratio at each of the
  grids the model's architecture could imprint (`ImageModel.seam_grids`; v1: its 16-px patches;
  v2: 2, 4, 8 (decoder), 16 (latent cell), 32 (DiT patch); --seam-grids overrides): the mean absolute colour step across the lines between pixel k·g − 1
  and k·g over the mean step elsewhere (evaluation/metrics.py). About 1: no grid.
  meta.ceiling.seam_ratio is the renders' own (1.07 at 16 px on v1's 39 scenes); meta.per_mode.*.seams has
  min, max and the renders' mean over the same scenes.
- variety_ratio (per mode of --variety-modes, default flash_4; per prompt set "long", "short" and
  "all"): for each prompt the mean pairwise RMS distance (of 255) between its images of seeds
  11–14 at 256x256 (512x512 for v2), over the same statistic for renders of scenes that match the prompt with what
  it leaves open drawn afresh (evaluation/variety.py: long = grammar captions, the render seed
  only; short = README-like prompts, unnamed time, terrain, colours and positions drawn); the
  ratio of the means over prompts. meta.variety has every distance and the wider "all_open"
  reference of the short prompts.
- --only seams,variety: measures only those (no classifier, no accuracy or FD) and merges them
  into the existing --out file, which must come from the same model, scenes and seeds; its other
  figures stay as they are.
- meta: scene counts and seeds, the checkpoint's step and training time, the classifier's
  validation accuracy per attribute, the ceiling (the classifier on renders of the evaluation
  scenes, clean, blurred and noisy), per mode the steps, image count, seconds, per-attribute and
  per-group accuracies and the standard error of the accuracy over scenes, and the seconds of one
  256x256 image at batch 1 per mode (--threads threads).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import numpy as np
import torch

from strobe_reference.model import ModelConfig, StrobeModel
from strobe_training.evaluation.classifier import (DEFAULT_EPOCHS, DEFAULT_TRAIN, DEFAULT_VAL, KEYS,
                                                   classifier_difference, labels_of, load_or_train, to_input)
from strobe_training.evaluation.generate import (FLOOR_SEED_BASE, EvalItem, ImageModel, LoadedModel,
                                                 evaluation_items, generate, load_checkpoint, load_weights_file,
                                                 time_forward)
from strobe_training.evaluation.metrics import attribute_accuracy, frechet_distance, seam_summary
from strobe_training.evaluation.variety import (RENDER_SAMPLES, SHORT_PROMPTS, VARIETY_SEEDS, VARIETY_SIZE,
                                                measure_variety, variety_prompts)
from strobe_training.evaluation.sheet import contact_sheet
from strobe_training.scenes import render
from strobe_training.scenes.png import to_uint8, write_png

# name → (sampler mode, steps; None: --full-steps, on the --full-scenes subset only)
MODES = {
    "flash_1": ("flash", 1), "flash_2": ("flash", 2), "flash_4": ("flash", 4), "flash_8": ("flash", 8),
    "naive_4": ("naive", 4), "full_100": ("full", None), "teacher_100": ("cfg", None),
}
SHEET_ROWS = 3   # in-distribution rows, then as many held-out rows
ONLY_PARTS = ("seams", "variety")
DEFINITIONS = {
    "accuracy": "mean over in-distribution scenes of the fraction of specified attributes read correctly "
                "(time_of_day, terrain, clouds/sun/moon/stars, presence of each of 6 kinds, position and "
                "colour of each object present) by the render-trained classifier",
    "accuracy_heldout": "the same over scenes of the held-out combinations",
    "fd": "Frechet distance of classifier penultimate features (128-d): generated images of a mode "
          "(in-distribution and held-out together) vs renders of the same scenes at the same sizes",
    "seam_ratio": "per grid g (pixels; the grids the model's architecture could imprint, v1: its 16-px patches): "
                  "mean over the mode's images of [mean absolute colour step (mean over RGB of |difference| of "
                  "uint8 values) across the borders between pixel columns/rows k*g-1 and k*g] / [mean absolute "
                  "step between all other neighbouring pixels]; about 1 without a grid; renders' own in "
                  "meta.ceiling.seam_ratio",
    "variety_ratio": "per prompt set (long: grammar captions naming every attribute; short: README-like prompts; "
                     "all): mean over prompts of the mean pairwise RMS distance (0-255) between a prompt's images "
                     "of several seeds, over the mean over the same prompts of that distance between renders of "
                     "scenes matching the prompt, with what it leaves open drawn afresh for each render (long: "
                     "the render seed; short: also unnamed time, terrain, object colours and positions); 1 = as "
                     "varied as the scenes; details in meta.variety",
}


def log(*args):
    print(*args, flush=True)


def judge(classifier, images: list[np.ndarray]) -> tuple[torch.Tensor, np.ndarray]:
    """uint8 [H, W, 3] images → (predicted classes [N, K], features [N, 128])."""
    if not images:
        return torch.empty(0, len(KEYS), dtype=torch.long), np.zeros((0, 128))
    x = torch.cat([to_input(torch.from_numpy(im).permute(2, 0, 1).float() / 255) for im in images])
    pred, feats = classifier.predict(x)
    return pred, feats.double().numpy()


def fd_or_none(a: np.ndarray, b: np.ndarray) -> float | None:
    return round(frechet_distance(a, b), 4) if len(a) >= 2 and len(b) >= 2 else None


def score(items: list[EvalItem], images: dict[int, np.ndarray], classifier, labels: dict[int, list[int]],
          ref_feats: dict[int, np.ndarray]) -> dict:
    """Metrics of `images` (index → uint8) over `items` that have an image."""
    done = [it for it in items if it.index in images]
    pred, feats = judge(classifier, [images[it.index] for it in done])
    out = {}
    for name, select in (("", lambda it: it.heldout is None), ("_heldout", lambda it: it.heldout is not None)):
        rows = [i for i, it in enumerate(done) if select(it)]
        acc = attribute_accuracy(pred[rows], torch.tensor([labels[done[i].index] for i in rows]).reshape(-1, len(KEYS)))
        out["accuracy" + name] = None if acc["accuracy"] is None else round(acc["accuracy"], 4)
        per_scene = np.array(acc["per_scene"])
        out["accuracy_sem" + name] = (round(float(per_scene.std(ddof=1) / np.sqrt(len(per_scene))), 4)
                                      if len(per_scene) > 1 else None)
        out["per_attribute" + name] = acc["per_attribute"]
        out["groups" + name] = acc["groups"]
        out["scenes" + name] = len(rows)
    out["fd"] = fd_or_none(feats, np.stack([ref_feats[it.index] for it in done]) if done else np.zeros((0, 128)))
    return out


def degraded(renders: dict[int, np.ndarray], seed: int) -> dict[str, dict[int, np.ndarray]]:
    """The renders blurred (4x down and up again) and with Gaussian noise (σ = 0.05): how much
    the judge's reading depends on sharp, clean pixels, as a guide to reading the generated scores."""
    gen = torch.Generator().manual_seed(seed)
    blur, noise = {}, {}
    for k, im in renders.items():
        x = torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255
        h, w = x.shape[-2:]
        small = torch.nn.functional.interpolate(x, size=(h // 4, w // 4), mode="area")
        b = torch.nn.functional.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        n = x + 0.05 * torch.randn(x.shape, generator=gen)
        blur[k] = (b[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        noise[k] = (n[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return {"blur_4x": blur, "noise_0.05": noise}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="train.py checkpoint (teacher.ckpt or tvm.ckpt)")
    src.add_argument("--weights-file", help="exported Strobe weights file (.safetensors)")
    p.add_argument("--tokenizer", help="SentencePiece model (with --checkpoint)")
    p.add_argument("--weights", default="ema", choices=["ema", "model", "target"])
    p.add_argument("--teacher", help="teacher checkpoint for teacher_100 (two-pass CFG); omitted: null")
    p.add_argument("--guidance", type=float, help="w (default: the weights file's, else 2.0)")
    p.add_argument("--scenes", type=int, default=64, help="in-distribution scenes")
    p.add_argument("--heldout-per-combination", type=int, default=1)
    p.add_argument("--heldout-scenes", type=int, help="cap on held-out scenes (first ones)")
    p.add_argument("--full-scenes", type=int, default=8,
                   help="full_100 and teacher_100 run on this many in-distribution and held-out scenes")
    p.add_argument("--full-steps", type=int, default=100, help="steps of full_100 and teacher_100")
    p.add_argument("--max-steps", type=int, help="cap on every mode's steps (smoke tests; meta records them)")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="Benchmarks/results/quality.json")
    p.add_argument("--sheet", help="contact sheet PNG (captions beside it as .json)")
    p.add_argument("--no-time-256", dest="time_256", action="store_false",
                   help="skip timing one 256x256 image per mode (batch 1)")
    p.add_argument("--carry", metavar="OLD_JSON",
                   help="take --carry-modes that this run does not make from an earlier run's results (same "
                        "classifier, scenes and seeds)")
    p.add_argument("--carry-modes", default="teacher_100", help="comma-separated modes for --carry")
    p.add_argument("--only", metavar="PARTS",
                   help="comma-separated subset of " + ",".join(ONLY_PARTS) + ": measure only these and merge them "
                        "into the existing --out file (same model, scenes and seeds), keeping its other figures")
    p.add_argument("--seam-grids", help="comma-separated grids in pixels (default: the model's; v1: 16)")
    p.add_argument("--variety-modes", default="flash_4",
                   help="comma-separated modes whose seed variety is measured (full_100 costs 25x flash_4; '' for none)")
    p.add_argument("--variety-long", type=int, default=4, help="grammar captions in the variety's long set")
    p.add_argument("--variety-seeds", default=",".join(map(str, VARIETY_SEEDS)), help="noise seeds per prompt")
    p.add_argument("--variety-renders", type=int, default=RENDER_SAMPLES, help="reference renders per prompt")
    p.add_argument("--variety-size", help=f"WxH of the variety images (default {VARIETY_SIZE[0]}x{VARIETY_SIZE[1]} "
                                          "times the model's scale: 512x512 for v2)")
    p.add_argument("--cache-dir", help="classifier cache (default ~/.cache/strobe/evaluation)")
    p.add_argument("--retrain-classifier", action="store_true")
    p.add_argument("--classifier-train", type=int, default=DEFAULT_TRAIN, help="training renders")
    p.add_argument("--classifier-val", type=int, default=DEFAULT_VAL, help="validation renders (full size)")
    p.add_argument("--classifier-epochs", type=int, default=DEFAULT_EPOCHS)
    args = p.parse_args()
    if args.checkpoint and not args.tokenizer:
        p.error("--checkpoint needs --tokenizer")
    if args.sheet and os.path.abspath(sheet_captions_path(args.sheet)) == os.path.abspath(args.out):
        p.error(f"--sheet {args.sheet} writes its captions to {sheet_captions_path(args.sheet)}, which is --out; "
                "name one of them differently")
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        p.error(f"unknown modes {unknown}; expected some of {list(MODES)}")
    carry_modes = [m for m in args.carry_modes.split(",") if m]
    if [m for m in carry_modes if m not in MODES]:
        p.error(f"unknown --carry-modes {[m for m in carry_modes if m not in MODES]}; expected some of {list(MODES)}")
    variety_modes = [m for m in args.variety_modes.split(",") if m]
    if [m for m in variety_modes if m not in MODES]:
        p.error(f"unknown --variety-modes {[m for m in variety_modes if m not in MODES]}; expected some of {list(MODES)}")
    try:
        args.variety_seeds = tuple(int(x) for x in args.variety_seeds.split(",") if x)
        args.variety_size = tuple(int(x) for x in args.variety_size.lower().split("x")) if args.variety_size else None
        args.seam_grids = tuple(int(x) for x in args.seam_grids.split(",") if x) if args.seam_grids else None
    except ValueError as e:
        p.error(f"--variety-seeds, --variety-size or --seam-grids: {e}")
    if len(args.variety_seeds) < 2 or args.variety_renders < 2 or (args.variety_size and len(args.variety_size) != 2):
        p.error("variety needs at least two seeds and two renders per prompt, and --variety-size WxH")
    if args.seam_grids is not None and (not args.seam_grids or min(args.seam_grids) < 2):
        p.error("--seam-grids: grids of at least 2 pixels")
    if args.only is not None:
        parts = [x for x in args.only.split(",") if x]
        if not parts or [x for x in parts if x not in ONLY_PARTS]:
            p.error(f"--only {args.only}: expected some of {','.join(ONLY_PARTS)}")
        if args.sheet or args.carry:
            p.error("--only merges into --out; it makes no --sheet and takes no --carry")
        torch.set_num_threads(args.threads)
        run_only(p, args, parts, modes, variety_modes)
        return
    carried_from = None
    if args.carry:
        with open(args.carry) as f:
            carried_from = json.load(f)
    torch.set_num_threads(args.threads)
    started = time.time()

    classifier, classifier_info = load_or_train(args.cache_dir, args.classifier_train, args.classifier_val,
                                                args.classifier_epochs, seed=0, retrain=args.retrain_classifier,
                                                log=log)

    lm = load_model(args)
    items, indist, heldout, full_items, identity = plan_items(args, lm.scale)
    to_carry = [m for m in carry_modes if m not in modes or (m == "teacher_100" and not args.teacher)]
    if carried_from is not None:
        problem = carry_problem(carried_from, identity, classifier_info, to_carry)
        if problem:
            p.error(f"--carry {args.carry}: {problem}")

    # Ground truth: labels, reference renders (features for the FD), second renders (FD floor).
    labels = {it.index: labels_of(it.scene) for it in items}
    t0 = time.time()
    renders = {it.index: to_uint8(render(it.scene, it.width, it.height, it.render_seed)) for it in items}
    floor = {it.index: to_uint8(render(it.scene, it.width, it.height, FLOOR_SEED_BASE + it.index)) for it in items}
    log(f"rendered {2 * len(items)} reference images in {time.time() - t0:.1f} s")
    _, ref = judge(classifier, [renders[it.index] for it in items])
    ref_feats = {it.index: f for it, f in zip(items, ref)}
    ceiling = score(items, renders, classifier, labels, ref_feats)
    _, floor_feats = judge(classifier, [floor[it.index] for it in items])
    ceiling["fd_floor"] = fd_or_none(floor_feats, ref)
    ceiling["degraded"] = {}
    for name, images_d in degraded(renders, args.seed).items():
        d = score(items, images_d, classifier, labels, ref_feats)
        ceiling["degraded"][name] = {k: d[k] for k in ("accuracy", "accuracy_heldout", "fd")}
    log(f"ceiling (classifier on renders): accuracy {ceiling['accuracy']}, held-out {ceiling['accuracy_heldout']}, "
        f"FD floor {ceiling['fd_floor']}; on degraded renders {ceiling['degraded']}")

    # Models.
    teacher: LoadedModel | None = None
    if args.teacher and ("teacher_100" in modes or "teacher_100" in variety_modes):
        teacher = load_teacher(args.teacher, lm)
    base = 256 * lm.scale
    t_fwd = time_forward(lm, base, base)
    log(f"model: {lm.info}; w = {lm.guidance}; one forward pass at {base}x{base}, batch 1, "
        f"{args.threads} thread(s): {t_fwd:.3f} s")

    plan = []
    for name in modes:
        mode, steps = MODES[name]
        steps = min(steps or args.full_steps, args.max_steps or 10**9)
        subset = full_items if MODES[name][1] is None else items
        if name == "teacher_100" and teacher is None:
            log("teacher_100: no --teacher given; reported as null")
            continue
        passes = steps * (2 if mode == "cfg" else 1)
        plan.append((name, mode, steps, subset, passes))
    estimate = sum(len(s) * passes * t_fwd for _, _, _, s, passes in plan)
    variety_estimate = variety_passes(args, variety_modes, teacher) * t_fwd
    log("estimate (batch-1 forward time × passes; batching is usually faster): "
        + ", ".join(f"{n} {len(s) * passes * t_fwd:.0f} s" for n, _, _, s, passes in plan)
        + f", variety {variety_estimate:.0f} s; total {estimate + variety_estimate:.0f} s")

    results: dict[str, dict] = {}
    per_mode: dict[str, dict] = {}
    images: dict[str, dict[int, np.ndarray]] = {}
    for name, mode, steps, subset, passes in plan:
        model = teacher if name == "teacher_100" else lm
        log(f"{name}: {mode}, {steps} steps, {len(subset)} images (estimate {len(subset) * passes * t_fwd:.0f} s)")
        t = time.time()
        images[name] = generate(model, subset, mode, steps, args.batch,
                                log=log if passes * len(subset) * t_fwd > 60 else None)
        seconds = time.time() - t
        s = score(items, images[name], classifier, labels, ref_feats)
        results[name] = {"accuracy": s["accuracy"], "accuracy_heldout": s["accuracy_heldout"], "fd": s["fd"]}
        per_mode[name] = {"sampler": mode, "steps": steps, "forward_passes_per_image": passes,
                          "images": len(subset), "seconds": round(seconds, 2),
                          "seconds_per_image_batched": round(seconds / max(1, len(subset)), 4),
                          "seconds_per_image_256_estimate": round(passes * t_fwd, 4),
                          **{k: v for k, v in s.items() if k not in results[name]}}
        log(f"{name}: {results[name]} ({seconds:.1f} s, {seconds / max(1, len(subset)):.3f} s/image)")
    # Seconds per image at 256x256, batch 1, one image per mode (the engine's common case).
    timing_256 = {}
    if args.time_256:
        probe = [dataclasses.replace(items[0], width=base, height=base)]
        for name, mode, steps, _, _ in plan:
            model = teacher if name == "teacher_100" else lm
            t = time.perf_counter()
            generate(model, probe, mode, steps, 1)
            timing_256[name] = round(time.perf_counter() - t, 4)
        log(f"seconds per {base}x{base} image, batch 1: " + ", ".join(f"{k} {v:.2f}" for k, v in timing_256.items()))
    # Seams of every mode's images (and of the renders), seed variety of --variety-modes.
    grids = args.seam_grids or lm.seam_grids
    ceiling.update(render_seams(items, renders, grids))
    for name in images:
        results[name]["seam_ratio"], per_mode[name]["seams"] = seams_of(images[name], items, renders, grids)
    log("seam ratios: renders " + json.dumps(ceiling["seam_ratio"]) + ", "
        + ", ".join(f"{n} {json.dumps(results[n]['seam_ratio'])}" for n in images))
    variety = variety_of(args, lm, teacher, variety_modes)
    for name in MODES:
        results.setdefault(name, {"accuracy": None, "accuracy_heldout": None, "fd": None})
    for name, r in (variety or {}).get("results", {}).items():
        results[name]["variety_ratio"] = r

    # The scenes every mode that ran has an image of: equal sets for comparing the FD.
    ran = [n for n in images]
    common = [it for it in items if all(it.index in images[n] for n in ran)]
    common_scores = {"scenes": sum(it.heldout is None for it in common),
                     "heldout_scenes": sum(it.heldout is not None for it in common)}
    c_ref = np.stack([ref_feats[it.index] for it in common]) if common else np.zeros((0, 128))
    c_floor = judge(classifier, [floor[it.index] for it in common])[1]
    common_scores["fd_floor"] = fd_or_none(c_floor, c_ref)
    for name in ["renders"] + ran:
        imgs = renders if name == "renders" else images[name]
        s = score(common, {it.index: imgs[it.index] for it in common}, classifier, labels, ref_feats)
        common_scores[name] = {"accuracy": s["accuracy"], "accuracy_heldout": s["accuracy_heldout"], "fd": s["fd"]}

    meta = {
        "definitions": dict(DEFINITIONS),
        **identity,
        "guidance": lm.guidance, "model": lm.info, "teacher": teacher.info if teacher else None,
        "classifier": classifier_info,
        "ceiling": ceiling,
        "per_mode": per_mode,
        "common_subset": common_scores,
        "variety": variety["meta"] if variety else None,
        "timing": {"threads": args.threads, "forward_256_batch1_seconds": round(t_fwd, 4),
                   "seconds_per_image_256_batch1": timing_256,
                   "batch": args.batch, "total_seconds": round(time.time() - started, 1)},
        "torch": torch.__version__,
    }
    if carried_from is not None:
        carry(carried_from, os.path.basename(args.carry), to_carry, results, meta)
    for name in MODES:
        results[name].setdefault("seam_ratio", None)
        results[name].setdefault("variety_ratio", None)
    out = {**{name: results[name] for name in MODES}, "meta": meta}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    log(f"wrote {args.out}")

    if args.sheet:
        steps = {name: min(MODES[name][1] or args.full_steps, args.max_steps or 10**9) for name in MODES}
        labels_row = ["RENDER"] + [f"{n.split('_')[0].upper()} {steps[n]}" for n in MODES]
        write_sheet(args.sheet, indist[:SHEET_ROWS] + heldout[:SHEET_ROWS], renders, images, labels_row)
    log(json.dumps({name: results[name] for name in MODES}))


def plan_items(args, scale: int = 1) -> tuple[list[EvalItem], list[EvalItem], list[EvalItem], list[EvalItem], dict]:
    """(items, in-distribution ones, held-out ones, those of the 100-step modes, identity): the
    evaluation scenes of `args` at the model's `scale` (ImageModel.scale), and what makes two
    runs' figures comparable (carry, --only)."""
    items = evaluation_items(args.scenes, args.heldout_per_combination, args.seed, scale)
    if args.heldout_scenes is not None:
        held = [it for it in items if it.heldout is not None][:args.heldout_scenes]
        items = [it for it in items if it.heldout is None] + held
    indist = [it for it in items if it.heldout is None]
    heldout = [it for it in items if it.heldout is not None]
    full_items = indist[:args.full_scenes] + heldout[:args.full_scenes]
    log(f"evaluation: {len(indist)} in-distribution + {len(heldout)} held-out scenes "
        f"({len(full_items)} for the 100-step modes)")
    identity = {
        "scenes": len(indist), "heldout_scenes": len(heldout),
        "heldout_per_combination": args.heldout_per_combination,
        "full_scenes": {"scenes": len(indist[:args.full_scenes]), "heldout_scenes": len(heldout[:args.full_scenes])},
        "seeds": {"scenes": args.seed, "noise": f"{args.seed} + scene index",
                  "reference_renders": "10000 + scene index", "floor_renders": "20000 + scene index"},
        "sizes": "aspect ratios cycled in sorted order over the scene index"
                 + (f", sizes x {scale}" if scale != 1 else ""),
    }
    return items, indist, heldout, full_items, identity


def load_model(args) -> ImageModel:
    """The model under evaluation: a v1 training checkpoint, or a weights file of either family
    (v1 `strobe-dit`, v2 `strobe-mmdit`). Another source (a v2 training checkpoint, say) is one more
    branch here returning an `ImageModel` (evaluation/generate.py); nothing else changes."""
    if args.checkpoint:
        return load_checkpoint(args.checkpoint, args.tokenizer, args.weights, args.guidance)
    return load_weights_file(args.weights_file, args.guidance)


def mode_steps(name: str, args) -> int:
    return min(MODES[name][1] or args.full_steps, args.max_steps or 10**9)


def render_like(it: EvalItem, image: np.ndarray, renders: dict[int, np.ndarray]) -> np.ndarray:
    """The item's reference render at the size of `image` (a model may draw at other sizes)."""
    r = renders.get(it.index)
    if r is not None and r.shape == image.shape:
        return r
    return to_uint8(render(it.scene, image.shape[1], image.shape[0], it.render_seed))


def render_seams(items: list[EvalItem], renders: dict[int, np.ndarray], grids) -> dict:
    """For meta.ceiling: the renders' mean seam ratio per grid and its summary."""
    s = seam_summary([renders[it.index] for it in items], grids)
    return {"seam_ratio": {str(g): s[g]["mean"] for g in grids}, "seams": {str(g): s[g] for g in grids}}


def seams_of(images: dict[int, np.ndarray], items: list[EvalItem], renders: dict[int, np.ndarray],
             grids) -> tuple[dict, dict]:
    """(the mode's seam_ratio {grid: mean}, per-mode details {grid: mean, min, max and the renders'
    mean over the same scenes}) of the images the mode made of `items`."""
    done = [it for it in items if it.index in images]
    s = seam_summary([images[it.index] for it in done], grids)
    r = seam_summary([render_like(it, images[it.index], renders) for it in done], grids)
    return ({str(g): s[g]["mean"] for g in grids},
            {str(g): {**s[g], "renders_mean": r[g]["mean"]} for g in grids})


def variety_passes(args, variety_modes: list[str], teacher) -> int:
    """Network calls of the variety measurement (for the estimate)."""
    n = (args.variety_long + len(SHORT_PROMPTS)) * len(args.variety_seeds)
    return sum(n * mode_steps(m, args) * (2 if MODES[m][0] == "cfg" else 1)
               for m in variety_modes if m != "teacher_100" or teacher is not None)


def variety_of(args, lm: ImageModel, teacher, variety_modes: list[str]) -> dict | None:
    """measure_variety for --variety-modes (teacher_100 with the teacher; skipped without one):
    {"results": {mode: ratios}, "meta": meta.variety}; None when no mode is measured."""
    prompts = variety_prompts(args.variety_long, args.seed)
    out = None
    for model, names in ((lm, [m for m in variety_modes if m != "teacher_100"]),
                         (teacher, [m for m in variety_modes if m == "teacher_100"])):
        if not names or model is None:
            if names:
                log("variety of teacher_100: no --teacher given; skipped")
            continue
        size = args.variety_size or (VARIETY_SIZE[0] * lm.scale, VARIETY_SIZE[1] * lm.scale)
        v = measure_variety(model, {m: (MODES[m][0], mode_steps(m, args)) for m in names}, prompts,
                            args.variety_seeds, size, args.variety_renders, args.batch, log=log)
        if out is None:
            out = v
        else:
            out["results"].update(v["results"])
            out["meta"] = merge_variety(out["meta"], v["meta"])[0]
    return out


def merge_variety(old: dict | None, new: dict) -> tuple[dict, list[str]]:
    """meta.variety of an earlier run with a new one's modes added, when both used the same prompts,
    seeds, size and reference (else the new one alone); and the earlier modes that were dropped."""
    same = old is not None and all(old.get(k) == new.get(k) for k in ("seeds", "size", "render_samples",
                                                                         "render_seeds", "renders")) \
        and [p["prompt"] for p in old.get("prompts", [])] == [p["prompt"] for p in new["prompts"]]
    if not same:
        return new, [m for m in (old or {}).get("modes", {}) if m not in new["modes"]]
    merged = {**old, **{k: v for k, v in new.items() if k not in ("modes", "prompts")}}
    merged["modes"] = {**old["modes"], **new["modes"]}
    merged["prompts"] = [{**po, **{k: v for k, v in pn.items() if k != "modes"}, "modes": {**po["modes"], **pn["modes"]}}
                         for po, pn in zip(old["prompts"], new["prompts"])]
    return merged, []


def run_only(p: argparse.ArgumentParser, args, parts: list[str], modes: list[str], variety_modes: list[str]) -> None:
    """--only: measures `parts` (seams of `modes` on the evaluation scenes, variety of
    `variety_modes`) and merges them into the existing --out file."""
    started = time.time()
    if not os.path.exists(args.out):
        p.error(f"--only merges into --out, and {args.out} does not exist; run the whole evaluation first")
    with open(args.out) as f:
        q = json.load(f)
    om = q.setdefault("meta", {})
    lm = load_model(args)
    items, _, _, full_items, identity = plan_items(args, lm.scale)
    if "seams" in parts:
        differ = [k for k in identity if om.get(k) != identity[k]]
        if differ:
            p.error(f"--only: {args.out} was made on other scenes or seeds ({', '.join(differ)}); give its "
                    "--scenes, --heldout-per-combination, --heldout-scenes, --full-scenes and --seed")
    if om.get("model") is not None and (om.get("model") != lm.info or om.get("guidance") != lm.guidance):
        p.error(f"--only: {args.out} has the figures of another model ({om.get('model')}, w = {om.get('guidance')}); "
                f"this one is {lm.info}, w = {lm.guidance}")
    teacher = None
    if args.teacher and ("teacher_100" in variety_modes or ("seams" in parts and "teacher_100" in modes)):
        teacher = load_teacher(args.teacher, lm)
    log(f"model: {lm.info}; w = {lm.guidance}; measuring only {', '.join(parts)} into {args.out}")
    per_mode = om.setdefault("per_mode", {})
    for name in MODES:
        q.setdefault(name, {"accuracy": None, "accuracy_heldout": None, "fd": None})
    measured = {"parts": parts, "threads": args.threads, "torch": torch.__version__}
    if "seams" in parts:
        grids = args.seam_grids or lm.seam_grids
        renders = {it.index: to_uint8(render(it.scene, it.width, it.height, it.render_seed)) for it in items}
        om.setdefault("ceiling", {}).update(render_seams(items, renders, grids))
        log(f"seam ratios of the renders: {om['ceiling']['seam_ratio']}")
        done = []
        for name in modes:
            model = teacher if name == "teacher_100" else lm
            if model is None:
                log("teacher_100: no --teacher given; its seams are not measured")
                continue
            mode, steps = MODES[name][0], mode_steps(name, args)
            ran = per_mode.get(name, {}).get("steps")
            if ran is not None and ran != steps:
                p.error(f"--only: {args.out}'s {name} ran {ran} steps, this run {steps} (--max-steps, --full-steps)")
            subset = full_items if MODES[name][1] is None else items
            t = time.time()
            imgs = generate(model, subset, mode, steps, args.batch)
            q[name]["seam_ratio"], details = seams_of(imgs, items, renders, grids)
            per_mode.setdefault(name, {})["seams"] = details
            done.append(name)
            log(f"{name}: seam ratio {q[name]['seam_ratio']} ({len(subset)} images, {time.time() - t:.0f} s)")
        measured["seam_modes"] = done
    if "variety" in parts:
        v = variety_of(args, lm, teacher, variety_modes)
        if v is not None:
            om["variety"], dropped = merge_variety(om.get("variety"), v["meta"])
            for name in dropped:
                q[name]["variety_ratio"] = None
            for name, r in v["results"].items():
                q[name]["variety_ratio"] = r
            measured["variety_modes"] = list(v["results"])
    for name in MODES:
        q[name].setdefault("seam_ratio", None)
        q[name].setdefault("variety_ratio", None)
    om["definitions"] = {**om.get("definitions", {}), **DEFINITIONS}
    measured["seconds"] = round(time.time() - started, 1)
    om.setdefault("merged_runs", []).append(measured)
    with open(args.out, "w") as f:
        json.dump(q, f, indent=1)
        f.write("\n")
    log(f"merged {', '.join(parts)} into {args.out}")
    log(json.dumps({name: {k: q[name].get(k) for k in ("seam_ratio", "variety_ratio")} for name in MODES}))


def carry_problem(old: dict, identity: dict, classifier_info: dict, modes: list[str]) -> str | None:
    """Why an earlier run's output `old` cannot lend this run `modes`: every difference in the
    scenes, seeds and classifier (`classifier_difference`), and every mode it has no results for; None if it can."""
    om = old.get("meta", {})
    differ = [k for k in identity if om.get(k) != identity[k]]
    judge = classifier_difference(om.get("classifier", {}), classifier_info)
    absent = [m for m in modes if (old.get(m) or {}).get("accuracy") is None]
    problems = ([f"it differs from this run in {', '.join(differ)}"] if differ else []) + \
               ([judge] if judge else []) + ([f"it has no results for {', '.join(absent)}"] if absent else [])
    return "; ".join(problems) or None


def carry(old: dict, source: str, modes: list[str], results: dict, meta: dict) -> None:
    """Copies `modes` (results and per-mode meta) from an earlier run's output `old`, checked by
    `carry_problem`, into this run's; records them in meta["carried"]."""
    om = old["meta"]
    for m in modes:
        results[m] = dict(old[m])
        meta["per_mode"][m] = {**om["per_mode"][m], "carried_from": source}
    if "teacher_100" in modes:
        meta["teacher"] = om.get("teacher")
    meta["carried"] = {"from": source, "modes": modes, "model_then": om.get("model")}


def load_teacher(path: str, student: LoadedModel) -> LoadedModel:
    """A teacher checkpoint (EMA weights) with the student's tokenizer and guidance w."""
    ck = torch.load(path, weights_only=False, map_location="cpu")
    model = StrobeModel(ModelConfig.from_json(ck["config"]))
    model.load_state_dict(ck["ema"])
    model.eval().requires_grad_(False)
    state = ck.get("state", {})
    return LoadedModel(model, student.tokenizer, student.guidance,
              {"source": "checkpoint", "path_name": os.path.basename(path), "weights": "ema",
               "step": state.get("step"), "training_hours": round(state.get("seconds", 0) / 3600, 3)})


def sheet_captions_path(sheet: str) -> str:
    """The JSON beside a contact sheet that lists its rows' prompts, seeds and attributes."""
    return os.path.splitext(sheet)[0] + ".json"


def write_sheet(path: str, rows: list[EvalItem], renders: dict, images: dict, columns: list[str]) -> None:
    grid = []
    for r, it in enumerate(rows):
        label = f"H{r - sum(x.heldout is None for x in rows) + 1}" if it.heldout else str(r + 1)
        grid.append((label, [renders[it.index]] + [images.get(n, {}).get(it.index) for n in MODES]))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_png(path, contact_sheet(grid, columns))
    side = {"columns": columns, "rows": [
        {"label": label, "prompt": it.prompt, "heldout": it.heldout, "size": f"{it.width}x{it.height}",
         "noise_seed": it.noise_seed, "render_seed": it.render_seed, "attributes": it.scene.attributes()}
        for (label, _), it in zip(grid, rows)]}
    with open(sheet_captions_path(path), "w") as f:
        json.dump(side, f, indent=1)
        f.write("\n")
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
