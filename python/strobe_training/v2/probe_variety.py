"""Seed variety of a teacher under classifier-free guidance (docs/training-v2.md, "Variety" and
"Probes on the teacher"): the variety ratio of the two-pass sampler at each w, guided at every
step or only at t ≤ --until (`train_dit --guidance-until`'s interval, applied by mixing u(c) and
u(∅) per step).

    PYTHONPATH=python python -m strobe_training.v2.probe_variety --weights FILE [--steps 100] \\
        [--w 1,2] [--until 0.8,1] [--threads 2] [--out PATH.json]

FILE is a weights file of either family (`load_weights_file`); for a v2 teacher, export its
checkpoint first (`strobe_training.v2.export --dit teacher.ckpt --weights model --guidance 1 …`).
The prompts, seeds, reference renders, size (256² × the model's scale: 512² for v2) and the ratio
are `evaluate.py --only variety`'s (`evaluation/variety.py`); the sampler is mode "cfg"
(`strobe_reference.sampling.sample`, the empty prompt as u(∅)). Each setting is (w, until):
"w2_until0.8" guides at w = 2 for t ≤ 0.8 and samples u(c) alone above; until 1 guides every
step (the classic teacher). w = 1 is one setting, "w1", whatever --until says (u(c) at every
step, one pass). No classifier accuracy: the short prompts have no labelled scene, and 16 images
of the long ones would not separate the settings (`evaluate.py`'s teacher_100 measures it).

Cost: images × steps × passes (2 at a guided step, 1 otherwise); the estimate printed first is
the batch-1 call time × that. Output: a table (ratio per prompt set, the short prompts' ratio
against the wider "all_open" reference, seconds) and, with --out, JSON: {"results": {setting:
{"long", "short", "all"}}, "settings": {setting: {"w", "guidance_until", "steps",
"calls_per_image"}}, "meta": {"model", "threads", "seconds", "variety": measure_variety's meta}}.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import torch

from strobe_reference.sampling import guidance_schedule
from strobe_training.evaluation.generate import load_weights_file
from strobe_training.evaluation.variety import (RENDER_SAMPLES, SHORT_PROMPTS, VARIETY_SEEDS, VARIETY_SIZE,
                                                measure_variety, variety_prompts)


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def settings(ws: list[float], untils: list[float], steps: int) -> dict[str, dict]:
    """name → {"w", "guidance_until" (None for w = 1), "steps", "calls_per_image"}, in --w order."""
    out = {}
    for w in ws:
        for until in ([None] if w == 1 else untils):
            name = f"w{w:g}" if until is None else f"w{w:g}_until{until:g}"
            # w = 1 samples with an interval so that each step makes one pass (sampling.sample).
            schedule = guidance_schedule(steps, w, 1.0 if until is None else until)
            out[name] = {"w": w, "guidance_until": until, "steps": steps,
                         "calls_per_image": sum(1 if x == 1 else 2 for x in schedule)}
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True, help="a Strobe weights file (v1 or v2; a teacher exported at β = 1)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--w", default="1,2", help="comma-separated guidance weights")
    p.add_argument("--until", default="0.8,1", help="comma-separated guidance intervals t ≤ until (1: every step)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--out", help="JSON file of the results")
    p.add_argument("--long", type=int, default=4, help="grammar captions in the long set (evaluate's --variety-long)")
    p.add_argument("--short", type=int, default=len(SHORT_PROMPTS), help="how many of SHORT_PROMPTS (first ones)")
    p.add_argument("--seeds", default=",".join(map(str, VARIETY_SEEDS)), help="noise seeds per prompt")
    p.add_argument("--renders", type=int, default=RENDER_SAMPLES, help="reference renders per prompt")
    p.add_argument("--size", help=f"WxH (default {VARIETY_SIZE[0]}x{VARIETY_SIZE[1]} × the model's scale)")
    p.add_argument("--seed", type=int, default=0, help="seed of the long captions (evaluate's --seed)")
    return p


def main(argv: list[str] | None = None) -> dict:
    p = parser()
    args = p.parse_args(argv)
    try:
        ws, untils = floats(args.w), floats(args.until)
        seeds = tuple(int(x) for x in args.seeds.split(",") if x.strip())
        size = tuple(int(x) for x in args.size.lower().split("x")) if args.size else None
    except ValueError as e:
        p.error(f"--w, --until, --seeds or --size: {e}")
    if not ws or (any(w != 1 for w in ws) and not untils) or args.steps < 1:
        p.error("need some --w, some --until for w ≠ 1 and --steps ≥ 1")
    if len(seeds) < 2 or args.renders < 2 or (size and len(size) != 2):
        p.error("variety needs at least two seeds and two renders per prompt, and --size WxH")
    torch.set_num_threads(args.threads)
    started = time.time()

    lm = load_weights_file(args.weights)
    size = size or (VARIETY_SIZE[0] * lm.scale, VARIETY_SIZE[1] * lm.scale)
    prompts = variety_prompts(args.long, args.seed, SHORT_PROMPTS[:args.short])
    plan = settings(ws, untils, args.steps)
    images = len(prompts) * len(seeds)
    t_call = lm.time_forward(*size)
    print(f"model: {lm.info}; {len(prompts)} prompts × {len(seeds)} seeds at {size[0]}x{size[1]}, "
          f"{args.threads} thread(s); one call (batch 1) {t_call:.3f} s", flush=True)
    print("estimate: " + ", ".join(f"{n} {images * s['calls_per_image'] * t_call:.0f} s" for n, s in plan.items()),
          flush=True)

    modes = {name: ("cfg", args.steps, dataclasses.replace(
                 lm, guidance=s["w"], guidance_until=1.0 if s["guidance_until"] is None else s["guidance_until"]))
             for name, s in plan.items()}
    v = measure_variety(lm, modes, prompts, seeds, size, args.renders, args.batch,
                        log=lambda m: print(m, flush=True))

    out = {"results": v["results"], "settings": plan,
           "meta": {"model": lm.info, "threads": args.threads, "seconds": round(time.time() - started, 1),
                    "call_seconds": round(t_call, 4), "variety": v["meta"]}}
    print_table(out)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {args.out}")
    return out


def print_table(out: dict) -> None:
    meta = out["meta"]["variety"]
    sets = list(next(iter(out["results"].values())))
    print(f"\nvariety ratio (seeds {meta['seeds']}, {meta['size']}; renders' spread {meta['renders']})")
    print(f"{'setting':<18}" + "".join(f"{s:>8}" for s in sets) + f"{'short*':>8}{'seconds':>9}")
    for name, r in out["results"].items():
        m = meta["modes"][name]
        wide = m.get("ratio_short_all_open")
        print(f"{name:<18}" + "".join(f"{r[s]:>8.3f}" for s in sets)
              + (f"{wide:>8.3f}" if wide is not None else f"{'-':>8}") + f"{m['seconds']:>9.1f}")
    print("short*: the short prompts against the wider all_open reference")


if __name__ == "__main__":
    main()
