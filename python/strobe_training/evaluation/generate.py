"""Loading a model (training checkpoint or exported weights file) and generating batches.

The evaluation prompts: `in_distribution` scenes come from `sample_scene` (held-out combinations
excluded) with a fixed seed, `heldout` scenes from `heldout_scenes`; every scene gets one caption
of the grammar, one of the nine aspect ratios (cycling through them in sorted order), a noise
seed (base seed + its index) and a render seed for its reference render.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import time

import numpy as np
import torch

from strobe_reference import weights as strobe_weights
from strobe_reference.model import ModelConfig, StrobeModel
from strobe_reference.sampling import encode_prompts, initial_noise, sample, to_pixels
from strobe_training.scenes import ASPECT_SIZES, Scene, caption, heldout_scenes, sample_scene

DEFAULT_GUIDANCE = 2.0       # train.py's constant w, when a checkpoint does not say otherwise
RENDER_SEED_BASE = 10_000    # reference renders of the evaluation scenes
FLOOR_SEED_BASE = 20_000     # second renders (other seeds) for the Fréchet distance's floor


@dataclasses.dataclass(frozen=True)
class EvalItem:
    index: int
    scene: Scene
    prompt: str
    width: int
    height: int
    noise_seed: int
    heldout: str | None = None        # the held-out combination's name

    @property
    def render_seed(self) -> int:
        return RENDER_SEED_BASE + self.index


def evaluation_items(n_scenes: int, heldout_per_combination: int, seed: int = 0) -> list[EvalItem]:
    """In-distribution items first (n_scenes), then the held-out ones (12 × per combination)."""
    rng = np.random.default_rng(seed)
    caption_rng = np.random.default_rng([seed, 1])
    scenes: list[tuple[Scene, str | None]] = [(sample_scene(rng), None) for _ in range(n_scenes)]
    if heldout_per_combination > 0:
        scenes += [(s, h.name) for h, s in heldout_scenes(seed, heldout_per_combination)]
    ratios = sorted(ASPECT_SIZES)
    items = []
    for i, (scene, name) in enumerate(scenes):
        w, h = ASPECT_SIZES[ratios[i % len(ratios)]]
        items.append(EvalItem(i, scene, caption(scene, caption_rng), w, h, seed + i, name))
    return items


# ---------------------------------------------------------------------------------------------
# Models


@dataclasses.dataclass
class LoadedModel:
    model: StrobeModel
    tokenizer: object           # sentencepiece.SentencePieceProcessor
    guidance: float
    info: dict


def _tokenizer(path: str | None = None, proto: bytes | None = None):
    import sentencepiece as spm
    if proto is not None:
        return spm.SentencePieceProcessor(model_proto=proto)
    return spm.SentencePieceProcessor(model_file=path)


def load_checkpoint(path: str, tokenizer_path: str, weights: str = "ema",
                    guidance: float | None = None) -> LoadedModel:
    """A train.py checkpoint: {"model", "ema", "target", "opt", "state", "config"}."""
    ck = torch.load(path, weights_only=False, map_location="cpu")
    cfg = ModelConfig.from_json(ck["config"])
    model = StrobeModel(cfg)
    model.load_state_dict(ck[weights])
    model.eval().requires_grad_(False)
    state = dict(ck.get("state", {}))
    info = {"source": "checkpoint", "path_name": path.rsplit("/", 1)[-1], "weights": weights,
            "step": state.get("step"), "samples": state.get("samples"),
            "training_hours": round(state["seconds"] / 3600, 3) if "seconds" in state else None,
            "guidance_source": "argument" if guidance is not None else "default (train.py GUIDANCE)"}
    g = guidance if guidance is not None else float(ck.get("guidance", DEFAULT_GUIDANCE))
    return LoadedModel(model, _tokenizer(tokenizer_path), g, info)


def load_weights_file(path: str, guidance: float | None = None) -> LoadedModel:
    """An exported Strobe weights file (architecture, sampler defaults, tokenizer in metadata)."""
    tensors, meta = strobe_weights.load(path)
    cfg = ModelConfig.from_json(meta["strobe.architecture"])
    model = StrobeModel(cfg)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}, strict=True)
    model.eval().requires_grad_(False)
    defaults = json.loads(meta.get("strobe.sampler_defaults", "{}"))
    g = guidance if guidance is not None else float(defaults.get("guidance", DEFAULT_GUIDANCE))
    info = {"source": "weights file", "path_name": path.rsplit("/", 1)[-1],
            "model_name": meta.get("strobe.model_name"), "description": meta.get("strobe.description"),
            "guidance_source": "argument" if guidance is not None else "metadata"}
    tok = _tokenizer(proto=base64.b64decode(meta["strobe.tokenizer"]))
    return LoadedModel(model, tok, g, info)


# ---------------------------------------------------------------------------------------------
# Generation


def batches(items: list[EvalItem], batch: int) -> list[list[EvalItem]]:
    """Groups items of the same size, in chunks of at most `batch` (order: first appearance)."""
    groups: dict[tuple[int, int], list[EvalItem]] = {}
    for it in items:
        groups.setdefault((it.width, it.height), []).append(it)
    out = []
    for group in groups.values():
        out += [group[i:i + batch] for i in range(0, len(group), batch)]
    return out


@torch.no_grad()
def generate(lm: LoadedModel, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
             log=None) -> dict[int, np.ndarray]:
    """Images for `items` (index → uint8 [H, W, 3]) with one sampler. mode "cfg" runs the
    two-pass teacher sampler with the empty prompt as the unconditional input."""
    model, out = lm.model, {}
    start = time.time()
    for chunk in batches(items, batch):
        text, mask = encode_prompts(model, lm.tokenizer, [it.prompt for it in chunk])
        uncond = encode_prompts(model, lm.tokenizer, [""] * len(chunk)) if mode == "cfg" else None
        noise = torch.stack([initial_noise(it.noise_seed, model.cfg.denoiser.channels, it.height, it.width)
                             for it in chunk])
        x0 = sample(model, text, mask, noise, steps, lm.guidance, mode=mode, uncond=uncond)
        pixels = to_pixels(x0)
        for it, img in zip(chunk, pixels):
            out[it.index] = (img.permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()
        if log is not None:
            log(f"    {len(out)}/{len(items)} images ({time.time() - start:.0f} s)")
    return out


@torch.no_grad()
def time_forward(lm: LoadedModel, width: int = 256, height: int = 256, repeats: int = 3) -> float:
    """Median seconds of one denoiser forward pass on one image (batch 1), after a warm-up."""
    model = lm.model
    text, mask = encode_prompts(model, lm.tokenizer, ["a red house on the left, hills at noon"])
    x = initial_noise(0, model.cfg.denoiser.channels, height, width)[None]
    args = (torch.ones(1), torch.zeros(1), torch.full((1,), 1 / lm.guidance), text, mask)
    model.denoiser.velocity(x, *args)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.denoiser.velocity(x, *args)
        times.append(time.perf_counter() - t)
    return float(np.median(times))
