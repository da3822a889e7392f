"""Evaluates Strobe's default model (docs/architecture.md, its evaluation): attribute accuracy and
Fréchet distance of the flash sampler at 1, 2, 4, 8 steps, the naive 4-step baseline, the full
100-step sampler and the teacher (two-pass classifier-free guidance, 100 steps), plus a contact sheet.

    python -m strobe_training.evaluate --checkpoint RUN_DIR/tvm.ckpt --teacher RUN_DIR/teacher.ckpt \
        --tokenizer RUN_DIR/tokenizer.model [--weights ema] [--scenes 64] [--full-scenes 8] \
        [--out Benchmarks/results/quality.json] [--sheet Benchmarks/results/contact-sheet.png]
    python -m strobe_training.evaluate --weights-file Models/strobe-scenes.safetensors ...

What is measured (details in strobe_training/evaluation/):
- Judge: a multi-head CNN trained on renders only (cached under ~/.cache/strobe/evaluation,
  retrained with --retrain-classifier). Its accuracy on renders of the evaluation scenes is the
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
  earlier run's results, when that run used the same classifier recipe, scenes and seeds (else it
  stops and names what differs); meta.carried says which and from where. For a teacher whose
  checkpoint is gone.
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
from strobe_training.evaluation.classifier import KEYS, labels_of, load_or_train, to_input
from strobe_training.evaluation.generate import (FLOOR_SEED_BASE, EvalItem, LoadedModel, evaluation_items,
                                                 generate, load_checkpoint, load_weights_file, time_forward)
from strobe_training.evaluation.metrics import attribute_accuracy, frechet_distance
from strobe_training.evaluation.sheet import contact_sheet
from strobe_training.scenes import render
from strobe_training.scenes.png import to_uint8, write_png

# name → (sampler mode, steps; None: --full-steps, on the --full-scenes subset only)
MODES = {
    "flash_1": ("flash", 1), "flash_2": ("flash", 2), "flash_4": ("flash", 4), "flash_8": ("flash", 8),
    "naive_4": ("naive", 4), "full_100": ("full", None), "teacher_100": ("cfg", None),
}
SHEET_ROWS = 3   # in-distribution rows, then as many held-out rows


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
    p.add_argument("--cache-dir", help="classifier cache (default ~/.cache/strobe/evaluation)")
    p.add_argument("--retrain-classifier", action="store_true")
    p.add_argument("--classifier-train", type=int, default=16_000, help="training renders")
    p.add_argument("--classifier-val", type=int, default=1_000, help="validation renders (full size)")
    p.add_argument("--classifier-epochs", type=int, default=8)
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
    carried_from = None
    if args.carry:
        with open(args.carry) as f:
            carried_from = json.load(f)
    torch.set_num_threads(args.threads)
    started = time.time()

    classifier, classifier_info = load_or_train(args.cache_dir, args.classifier_train, args.classifier_val,
                                                args.classifier_epochs, seed=0, retrain=args.retrain_classifier,
                                                log=log)

    items = evaluation_items(args.scenes, args.heldout_per_combination, args.seed)
    if args.heldout_scenes is not None:
        held = [it for it in items if it.heldout is not None][:args.heldout_scenes]
        items = [it for it in items if it.heldout is None] + held
    indist = [it for it in items if it.heldout is None]
    heldout = [it for it in items if it.heldout is not None]
    full_items = indist[:args.full_scenes] + heldout[:args.full_scenes]
    log(f"evaluation: {len(indist)} in-distribution + {len(heldout)} held-out scenes "
        f"({len(full_items)} for the 100-step modes)")
    # What makes two runs' figures comparable (and so carriable).
    identity = {
        "scenes": len(indist), "heldout_scenes": len(heldout),
        "heldout_per_combination": args.heldout_per_combination,
        "full_scenes": {"scenes": len(indist[:args.full_scenes]), "heldout_scenes": len(heldout[:args.full_scenes])},
        "seeds": {"scenes": args.seed, "noise": f"{args.seed} + scene index",
                  "reference_renders": "10000 + scene index", "floor_renders": "20000 + scene index"},
        "sizes": "aspect ratios cycled in sorted order over the scene index",
    }
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
    if args.checkpoint:
        lm = load_checkpoint(args.checkpoint, args.tokenizer, args.weights, args.guidance)
    else:
        lm = load_weights_file(args.weights_file, args.guidance)
    teacher: LoadedModel | None = None
    if args.teacher and "teacher_100" in modes:
        teacher = load_teacher(args.teacher, lm)
    t_fwd = time_forward(lm, 256, 256)
    log(f"model: {lm.info}; w = {lm.guidance}; one forward pass at 256x256, batch 1, "
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
    log("estimate (batch-1 forward time × passes; batching is usually faster): "
        + ", ".join(f"{n} {len(s) * passes * t_fwd:.0f} s" for n, _, _, s, passes in plan)
        + f"; total {estimate:.0f} s")

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
        probe = [dataclasses.replace(items[0], width=256, height=256)]
        for name, mode, steps, _, _ in plan:
            model = teacher if name == "teacher_100" else lm
            t = time.perf_counter()
            generate(model, probe, mode, steps, 1)
            timing_256[name] = round(time.perf_counter() - t, 4)
        log("seconds per 256x256 image, batch 1: " + ", ".join(f"{k} {v:.2f}" for k, v in timing_256.items()))
    for name in MODES:
        results.setdefault(name, {"accuracy": None, "accuracy_heldout": None, "fd": None})

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
        "definitions": {
            "accuracy": "mean over in-distribution scenes of the fraction of specified attributes read correctly "
                        "(time_of_day, terrain, clouds/sun/moon/stars, presence of each of 6 kinds, position and "
                        "colour of each object present) by the render-trained classifier",
            "accuracy_heldout": "the same over scenes of the held-out combinations",
            "fd": "Frechet distance of classifier penultimate features (128-d): generated images of a mode "
                  "(in-distribution and held-out together) vs renders of the same scenes at the same sizes",
        },
        **identity,
        "guidance": lm.guidance, "model": lm.info, "teacher": teacher.info if teacher else None,
        "classifier": classifier_info,
        "ceiling": ceiling,
        "per_mode": per_mode,
        "common_subset": common_scores,
        "timing": {"threads": args.threads, "forward_256_batch1_seconds": round(t_fwd, 4),
                   "seconds_per_image_256_batch1": timing_256,
                   "batch": args.batch, "total_seconds": round(time.time() - started, 1)},
        "torch": torch.__version__,
    }
    if carried_from is not None:
        carry(carried_from, os.path.basename(args.carry), to_carry, results, meta)
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


def carry_problem(old: dict, identity: dict, classifier_info: dict, modes: list[str]) -> str | None:
    """Why an earlier run's output `old` cannot lend this run `modes`: every difference in the
    scenes, seeds and classifier recipe, and every mode it has no results for; None if it can."""
    om = old.get("meta", {})
    differ = [k for k in identity if om.get(k) != identity[k]]
    if om.get("classifier", {}).get("recipe") != classifier_info.get("recipe"):
        differ.append("classifier recipe")
    absent = [m for m in modes if (old.get(m) or {}).get("accuracy") is None]
    problems = ([f"it differs from this run in {', '.join(differ)}"] if differ else []) + \
               ([f"it has no results for {', '.join(absent)}"] if absent else [])
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
