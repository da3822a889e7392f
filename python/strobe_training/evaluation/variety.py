"""Seed variety: prompts, the renders that are their reference, and a model's images of them.

Two prompt sets (`variety_prompts`):
- "long": captions of the grammar, one per scene drawn by `sample_scene` (fixed seed). A grammar
  caption names every attribute, so what it leaves open is the render seed only: the reference is
  renders of that scene with fresh render seeds.
- "short": short prompts of the README kind (`SHORT_PROMPTS`). `parse_caption` reads what each
  names; the reference renders scenes where everything it leaves open is drawn afresh for each
  render, by the grammar's rule (`scene_sampler`, policy "grammar"): time of day and terrain when
  not named (every training caption names both, so the model has no rule for them: uniform, as
  `complete_scene` draws them), a named object's colour and position when not named; sky features
  and objects it does not name are absent, as in every training caption. The second policy,
  "all_open", also draws the unnamed sky features and objects (`complete_scene`'s probabilities),
  a wider reference that no model trained on the grammar is meant to reach; it is reported beside
  the first.

For each prompt the model makes one image per seed (`VARIETY_SEEDS`) at one size; the prompt's
variety is the mean pairwise RMS distance of those images (`metrics.mean_pairwise_rms`), its
reference the same statistic over `render_samples` renders. The ratio per set and overall is
`metrics.variety_ratio` (mean over prompts over mean over prompts).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from strobe_training.scenes import (KINDS, SKY_FLAGS, ObjectSpec, Scene, caption, complete_scene, parse_caption,
                                    render, sample_scene)
from strobe_training.scenes.png import to_uint8

from .generate import EvalItem, ImageModel
from .metrics import mean_pairwise_rms, variety_ratio

SHORT_PROMPTS = (   # the README's and docs' kind of prompt; each leaves something open
    "A beautiful sunset over mountains",
    "a lighthouse on the left at golden hour",
    "a sailboat on the sea at noon",
    "a red hot-air balloon over desert dunes at night",
)
VARIETY_SEEDS = (11, 12, 13, 14)       # noise seeds of each prompt (docs/training-v2.md's measurement)
VARIETY_SIZE = (256, 256)
RENDER_SAMPLES = 8                     # reference renders per prompt
RENDER_SEED_BASE = 30_000              # reference render seeds: base + 1000 · prompt + sample
POLICIES = ("grammar", "all_open")
NONE = "none"


@dataclasses.dataclass(frozen=True)
class VarietyPrompt:
    set: str                           # "long" or "short"
    prompt: str
    scene: Scene | None = None         # long: the scene its caption states (None: read from the prompt)


def variety_prompts(long: int = 4, seed: int = 0, short: tuple[str, ...] = SHORT_PROMPTS) -> list[VarietyPrompt]:
    """`long` grammar captions of scenes drawn with `seed`, then the short prompts."""
    rng, caption_rng = np.random.default_rng([seed, 3]), np.random.default_rng([seed, 4])
    out = []
    for _ in range(long):
        scene = sample_scene(rng)
        out.append(VarietyPrompt("long", caption(scene, caption_rng), scene))
    return out + [VarietyPrompt("short", p) for p in short]


def scene_sampler(prompt: str, policy: str = "grammar") -> Callable[[np.random.Generator], Scene]:
    """A function drawing a scene that matches `prompt`, with what it leaves open drawn afresh
    (module doc: policy "grammar" or "all_open")."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {POLICIES}")
    a = parse_caption(prompt)
    time_of_day = None if a["time_of_day"] == NONE else str(a["time_of_day"])
    terrain = None if a["terrain"] == NONE else str(a["terrain"])
    objects = tuple(ObjectSpec(kind, None if a.get(f"{kind}_colour", NONE) == NONE else a[f"{kind}_colour"],
                               None if a[f"{kind}_position"] == NONE else a[f"{kind}_position"])
                    for kind in KINDS if a[kind])
    if policy == "grammar":
        sky = {flag: bool(a[flag]) for flag in SKY_FLAGS}

        def draw(rng: np.random.Generator) -> Scene:
            scene = complete_scene(rng, time_of_day, terrain, objects, sky)
            return scene if objects else dataclasses.replace(scene, objects=())
    else:
        sky = {flag: True for flag in SKY_FLAGS if a[flag]}

        def draw(rng: np.random.Generator) -> Scene:
            # With no object named, 0–2 are drawn (OBJECT_COUNT_P); with some, one more half the time.
            return complete_scene(rng, time_of_day, terrain, objects, sky, extra_object_p=0.5)
    return draw


def reference_scenes(vp: VarietyPrompt, index: int, samples: int, policy: str = "grammar") -> list[tuple[Scene, int]]:
    """(scene, render seed) of the reference renders of prompt number `index`."""
    seeds = [RENDER_SEED_BASE + 1000 * index + j for j in range(samples)]
    if vp.scene is not None:
        return [(vp.scene, s) for s in seeds]
    draw = scene_sampler(vp.prompt, policy)
    return [(draw(np.random.default_rng([s, POLICIES.index(policy)])), s) for s in seeds]


def reference_variety(prompts: list[VarietyPrompt], width: int, height: int, samples: int = RENDER_SAMPLES,
                      policy: str = "grammar") -> list[float]:
    """Per prompt: the mean pairwise RMS distance of its reference renders."""
    return [mean_pairwise_rms([to_uint8(render(scene, width, height, s))
                               for scene, s in reference_scenes(vp, i, samples, policy)])
            for i, vp in enumerate(prompts)]


def variety_items(prompts: list[VarietyPrompt], seeds=VARIETY_SEEDS, size=VARIETY_SIZE) -> list[EvalItem]:
    """One item per (prompt, seed); index = prompt number · len(seeds) + seed number. Items carry
    a placeholder scene for short prompts (generation reads only prompt, size and noise seed)."""
    items = []
    for p, vp in enumerate(prompts):
        scene = vp.scene or scene_sampler(vp.prompt)(np.random.default_rng(0))
        for k, seed in enumerate(seeds):
            items.append(EvalItem(p * len(seeds) + k, scene, vp.prompt, size[0], size[1], seed))
    return items


def summarise(prompts: list[VarietyPrompt], values: list[float]) -> dict[str, float]:
    """Per-prompt values → their mean per set and over all prompts."""
    out = {}
    for name in sorted({vp.set for vp in prompts}) + ["all"]:
        v = [x for vp, x in zip(prompts, values) if name in ("all", vp.set)]
        out[name] = round(float(np.mean(v)), 3)
    return out


def ratios(prompts: list[VarietyPrompt], model: list[float], renders: list[float]) -> dict[str, float]:
    """`metrics.variety_ratio` per prompt set and over all prompts."""
    out = {}
    for name in sorted({vp.set for vp in prompts}) + ["all"]:
        rows = [i for i, vp in enumerate(prompts) if name in ("all", vp.set)]
        out[name] = round(variety_ratio([model[i] for i in rows], [renders[i] for i in rows]), 3)
    return out


def measure_variety(lm: ImageModel, modes: dict[str, tuple[str, int]], prompts: list[VarietyPrompt],
                    seeds=VARIETY_SEEDS, size=VARIETY_SIZE, samples: int = RENDER_SAMPLES, batch: int = 8,
                    log=None) -> dict:
    """The variety of `lm` under each mode (name → (sampler, steps), or (sampler, steps, model) to
    sample that mode with another `ImageModel` of the same size, e.g. `lm` at another guidance)
    against the reference renders: {"results": {mode: {"long", "short", "all"} ratios}, "meta":
    details for meta.variety}."""
    items = variety_items(prompts, seeds, size)
    refs: dict[tuple[int, int], dict[str, list[float]]] = {}    # image size → policy → per prompt

    def reference(w: int, h: int) -> dict[str, list[float]]:
        if (w, h) not in refs:
            refs[(w, h)] = {"grammar": reference_variety(prompts, w, h, samples, "grammar")}
            short = [vp for vp in prompts if vp.set == "short"]
            if short:
                # Only short prompts leave sky and objects open; long ones keep their scene.
                refs[(w, h)]["all_open"] = reference_variety(prompts, w, h, samples, "all_open")
        return refs[(w, h)]

    results, per_mode, per_prompt = {}, {}, [dict() for _ in prompts]
    for name, (mode, steps, *model) in modes.items():
        t = time.time()
        images = (model[0] if model else lm).generate(items, mode, steps, batch, log)
        seconds = time.time() - t
        h, w = images[items[0].index].shape[:2]
        ref = reference(w, h)
        v = [mean_pairwise_rms([images[p * len(seeds) + k] for k in range(len(seeds))]) for p in range(len(prompts))]
        results[name] = ratios(prompts, v, ref["grammar"])
        per_mode[name] = {"sampler": mode, "steps": steps, "image_size": f"{w}x{h}", "variety": summarise(prompts, v),
                          "ratio": results[name], "seconds": round(seconds, 1)}
        if "all_open" in ref:
            short = [i for i, vp in enumerate(prompts) if vp.set == "short"]
            per_mode[name]["ratio_short_all_open"] = round(
                variety_ratio([v[i] for i in short], [ref["all_open"][i] for i in short]), 3)
        for i in range(len(prompts)):
            per_prompt[i][name] = round(v[i], 3)
        if log is not None:
            log(f"variety {name}: {per_mode[name]['variety']} → ratio {results[name]} ({seconds:.0f} s)")
    w, h = size
    ref = reference(*next(iter(refs))) if refs else reference(w, h)
    meta = {
        "seeds": list(seeds), "size": f"{size[0]}x{size[1]}", "render_samples": samples,
        "render_seeds": f"{RENDER_SEED_BASE} + 1000 * prompt index + sample",
        "renders": summarise(prompts, ref["grammar"]),
        "prompts": [{"set": vp.set, "prompt": vp.prompt, "renders": round(ref["grammar"][i], 3),
                     **({"renders_all_open": round(ref["all_open"][i], 3)} if vp.set == "short" else {}),
                     "modes": per_prompt[i]} for i, vp in enumerate(prompts)],
        "modes": per_mode,
    }
    if "all_open" in ref:
        meta["renders_short_all_open"] = round(float(np.mean([r for vp, r in zip(prompts, ref["all_open"])
                                                              if vp.set == "short"])), 3)
    return {"results": results, "meta": meta}
