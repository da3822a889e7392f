"""Loading a model (training checkpoint or exported weights file) and generating batches.

The evaluation prompts: `in_distribution` scenes come from `sample_scene` (held-out combinations
excluded) with a fixed seed, `heldout` scenes from `heldout_scenes`; every scene gets one caption
of the grammar, one of the nine aspect ratios (cycling through them in sorted order), a noise
seed (base seed + its index) and a render seed for its reference render.

Models: everything `strobe_training.evaluate` needs of a model is the `ImageModel` protocol
(images for a list of items with a sampler, the seconds of one network call, the pixel grids the
model's architecture could imprint on its images, its size scale, a description). `LoadedModel`
is v1's (`strobe-dit`, the pixel-space DiT, from a training checkpoint or a weights file);
`LoadedV2Model` is v2's (`strobe-mmdit`: the latent MMDiT and the autoencoder's decoder, from a
v2 weights file, `strobe_training.v2.export`). `load_weights_file` reads either, by the file's
family. Both sample with `strobe_reference.sampling` from `initial_noise(seed, …)` of the space
they sample in (pixels for v1, normalised latents [C, H/16, W/16] for v2).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import time
from typing import Protocol

import numpy as np
import torch
import torch.nn as nn

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


def evaluation_items(n_scenes: int, heldout_per_combination: int, seed: int = 0, scale: int = 1) -> list[EvalItem]:
    """In-distribution items first (n_scenes), then the held-out ones (12 × per combination); sizes
    are the nine aspect sizes × `scale` (a model's `ImageModel.scale`: 2 for v2's doubled sizes)."""
    rng = np.random.default_rng(seed)
    caption_rng = np.random.default_rng([seed, 1])
    scenes: list[tuple[Scene, str | None]] = [(sample_scene(rng), None) for _ in range(n_scenes)]
    if heldout_per_combination > 0:
        scenes += [(s, h.name) for h, s in heldout_scenes(seed, heldout_per_combination)]
    ratios = sorted(ASPECT_SIZES)
    items = []
    for i, (scene, name) in enumerate(scenes):
        w, h = ASPECT_SIZES[ratios[i % len(ratios)]]
        items.append(EvalItem(i, scene, caption(scene, caption_rng), scale * w, scale * h, seed + i, name))
    return items


# ---------------------------------------------------------------------------------------------
# Models


class ImageModel(Protocol):
    """What the evaluation needs of a model (v1's `LoadedModel`; v2's to come)."""

    guidance: float
    info: dict              # JSON-ready description: source, file or checkpoint name, step, ...

    @property
    def scale(self) -> int:
        """Its sizes over v1's (ASPECT_SIZES): 1 for v1, 2 for v2 (512² and the rest doubled)."""

    @property
    def seam_grids(self) -> tuple[int, ...]:
        """The pixel grids its architecture could imprint (v1: its patch size; v2: 16 for the
        latent cell, 32 for 2×2 latent patches, 2, 4, 8 for the decoder's upsamplings)."""

    def generate(self, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
                 log=None) -> dict[int, np.ndarray]:
        """index → uint8 [H, W, 3] of each item's prompt, noise seed and size, with the sampler
        `mode` ("flash", "full", "naive", "cfg") at `steps` steps."""

    def time_forward(self, width: int = 256, height: int = 256) -> float:
        """Median seconds of one network call on one image (batch 1)."""


@dataclasses.dataclass
class LoadedModel:
    """v1: `strobe-dit` (pixel space, patch tokens) with its tokenizer; an `ImageModel`."""
    model: StrobeModel
    tokenizer: object           # sentencepiece.SentencePieceProcessor
    guidance: float
    info: dict
    guidance_until: float | None = None     # the cfg sampler's guidance interval (sampling.sample)

    scale = 1

    @property
    def seam_grids(self) -> tuple[int, ...]:
        return (self.model.cfg.denoiser.patch_size,)

    def noise(self, seed: int, width: int, height: int) -> torch.Tensor:
        return initial_noise(seed, self.model.cfg.denoiser.channels, height, width)

    def pixels(self, x0: torch.Tensor) -> torch.Tensor:
        return to_pixels(x0)

    def generate(self, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
                 log=None) -> dict[int, np.ndarray]:
        return sample_items(self, items, mode, steps, batch, log)

    def time_forward(self, width: int = 256, height: int = 256) -> float:
        return time_call(self, width, height)


@dataclasses.dataclass
class LoadedV2Model:
    """v2: `strobe-mmdit` (latent MMDiT, its tokenizer and the autoencoder whose decoder draws
    the pixels); an `ImageModel`. Sizes: v1's doubled, multiples of 32."""
    model: nn.Module            # strobe_training.v2.dit.V2Model
    autoencoder: nn.Module      # strobe_training.v2.autoencoder.Autoencoder
    tokenizer: object
    guidance: float
    info: dict
    guidance_until: float | None = None     # the cfg sampler's guidance interval (sampling.sample)
    scale = 2

    @property
    def factor(self) -> int:
        return self.model.cfg.latent_factor

    @property
    def seam_grids(self) -> tuple[int, ...]:
        """The decoder's upsamplings (2, 4, 8), the latent cell (16), the DiT's patches (32)."""
        ups = tuple(2 ** k for k in range(1, int(np.log2(self.factor)) + 1))
        return ups + (self.factor * self.model.cfg.denoiser.patch_size,)

    def noise(self, seed: int, width: int, height: int) -> torch.Tensor:
        return initial_noise(seed, self.model.cfg.denoiser.latent_channels, height // self.factor,
                             width // self.factor)

    def pixels(self, x0: torch.Tensor) -> torch.Tensor:
        from strobe_training.v2.export import decode
        return decode(self.autoencoder, x0)

    def generate(self, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
                 log=None) -> dict[int, np.ndarray]:
        return sample_items(self, items, mode, steps, batch, log)

    def time_forward(self, width: int = 512, height: int = 512) -> float:
        return time_call(self, width, height)


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


def load_weights_file(path: str, guidance: float | None = None) -> LoadedModel | LoadedV2Model:
    """An exported Strobe weights file (architecture, sampler defaults, tokenizer in metadata), of
    either family: v1 (`strobe-dit`) or v2 (`strobe-mmdit`)."""
    tensors, meta = strobe_weights.load(path)
    if json.loads(meta["strobe.architecture"]).get("family") == "strobe-mmdit":
        return load_v2_weights_file(path, guidance, meta)
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


def load_v2_weights_file(path: str, guidance: float | None = None, meta: dict | None = None) -> LoadedV2Model:
    """A v2 weights file (`strobe_training.v2.export`), in fp32; `meta`: its metadata if read."""
    from strobe_training.v2.export import load
    model, ae, tok, defaults = load(path)
    model.requires_grad_(False)
    ae.requires_grad_(False)
    meta = meta if meta is not None else strobe_weights.load(path)[1]
    g = guidance if guidance is not None else float(defaults.get("guidance", DEFAULT_GUIDANCE))
    info = {"source": "weights file", "family": "strobe-mmdit", "path_name": path.rsplit("/", 1)[-1],
            "model_name": meta.get("strobe.model_name"), "description": meta.get("strobe.description"),
            "guidance_source": "argument" if guidance is not None else "metadata"}
    return LoadedV2Model(model, ae, tok, g, info)


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


def generate(lm: ImageModel, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
             log=None) -> dict[int, np.ndarray]:
    """Images for `items` (index → uint8 [H, W, 3]) with one sampler, by any `ImageModel`."""
    return lm.generate(items, mode, steps, batch, log)


def time_forward(lm: ImageModel, width: int = 256, height: int = 256) -> float:
    """Median seconds of one network call on one image (batch 1), by any `ImageModel`."""
    return lm.time_forward(width, height)


@torch.no_grad()
def sample_items(lm: LoadedModel | LoadedV2Model, items: list[EvalItem], mode: str, steps: int, batch: int = 8,
                 log=None) -> dict[int, np.ndarray]:
    """Images for `items` (index → uint8 [H, W, 3]) with one sampler of `strobe_reference.sampling`,
    from `lm.noise` to `lm.pixels`. mode "cfg" runs the two-pass teacher sampler with the empty
    prompt as the unconditional input, at w = `lm.guidance`, guided only at t ≤ `lm.guidance_until`
    when that is set."""
    model, out = lm.model, {}
    start = time.time()
    for chunk in batches(items, batch):
        text, mask = encode_prompts(model, lm.tokenizer, [it.prompt for it in chunk])
        uncond = encode_prompts(model, lm.tokenizer, [""] * len(chunk)) if mode == "cfg" else None
        noise = torch.stack([lm.noise(it.noise_seed, it.width, it.height) for it in chunk])
        x0 = sample(model, text, mask, noise, steps, lm.guidance, mode=mode, uncond=uncond,
                    guidance_until=lm.guidance_until if mode == "cfg" else None)
        pixels = lm.pixels(x0)
        for it, img in zip(chunk, pixels):
            out[it.index] = (img.permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()
        if log is not None:
            log(f"    {len(out)}/{len(items)} images ({time.time() - start:.0f} s)")
    return out


@torch.no_grad()
def time_call(lm: LoadedModel | LoadedV2Model, width: int = 256, height: int = 256, repeats: int = 3) -> float:
    """Median seconds of one denoiser call on one image (batch 1), after a warm-up."""
    model = lm.model
    text, mask = encode_prompts(model, lm.tokenizer, ["a red house on the left, hills at noon"])
    x = lm.noise(0, width, height)[None]
    args = (torch.ones(1), torch.zeros(1), torch.full((1,), 1 / lm.guidance), text, mask)
    model.denoiser.velocity(x, *args)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.denoiser.velocity(x, *args)
        times.append(time.perf_counter() - t)
    return float(np.median(times))
