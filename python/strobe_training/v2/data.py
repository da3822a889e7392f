"""Training images of the v2 autoencoder: renders at the nine aspect ratios at about 512² pixels,
cached on disk as they are first needed, and random crops of them.

    sizes = V2_SIZES["16:9"]                     # (672, 384)
    cache = RenderCache(training_dir("v2-ae-renders"), count=3000, seed=0)
    cache.grow(2)                                # render up to 2 missing images
    x, w = cache.crops(rng, batch=8, size=256)   # [B, 3, S, S] in [0, 1], pixel weights [B, 1, S, S]
    x = heldout_renders(6, 512, 512, seed=0)     # [N, 3, 512, 512], scenes the cache never draws

Each cached image is one `.npz` (uint8 pixels [H, W, 3] and a uint8 mask [H, W] of the pixels
that objects, the sun, the moon or stars changed). Image i's scene, size and render seed follow
from (seed, i) alone, so a cache can be deleted and rebuilt the same.
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from strobe_training.scenes import ASPECT_SIZES, render, render_with_masks, sample_scene
from strobe_training.v2.device import to_device

# "W:H" -> (width, height): v1's sizes doubled, multiples of 32 (the DiT's 2×2 latent patches).
V2_SIZES: dict[str, tuple[int, int]] = {r: (2 * w, 2 * h) for r, (w, h) in ASPECT_SIZES.items()}
RATIOS = tuple(V2_SIZES)
HELDOUT_STREAM = 7_777   # held-out scenes come from their own stream of the seed


def image_spec(seed: int, index: int) -> tuple:
    """(scene, width, height, render seed) of cached image `index`."""
    rng = np.random.default_rng([seed, index])
    scene = sample_scene(rng)
    width, height = V2_SIZES[RATIOS[int(rng.integers(len(RATIOS)))]]
    return scene, width, height, int(rng.integers(2**31))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float [3, H, W] in [0, 1] → uint8 [H, W, 3]."""
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)


class RenderCache:
    """`count` renders under `root`, made on demand (`grow`), read back as random crops."""

    def __init__(self, root: str, count: int, seed: int = 0, in_memory: bool = False):
        self.root, self.count, self.seed = root, count, seed
        self.memory: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if in_memory else None
        os.makedirs(root, exist_ok=True)
        have = {n for n in os.listdir(root) if n.endswith(".npz")}
        self.ready = [i for i in range(count) if self._name(i) in have]
        self._next = 0

    def _name(self, i: int) -> str:
        return cache_file(self.seed, i)

    def grow(self, n: int) -> int:
        """Render up to n images not yet on disk; returns how many were made."""
        made, ready = 0, set(self.ready)
        while made < n and self._next < self.count:
            i = self._next
            self._next += 1
            if i in ready:
                continue
            _render_to_cache((self.root, self.seed, i))
            self.ready.append(i)
            made += 1
        return made

    def grow_parallel(self, n: int, workers: int, max_seconds: float = 0) -> int:
        """As `grow`, with the renders made by `workers` processes, stopping after `max_seconds`
        (0: no limit; images in progress then are not counted, though a later cache finds those
        that were written); returns how many were made."""
        ready = set(self.ready)
        todo = [i for i in range(self.count) if i not in ready][:n]
        import multiprocessing
        start, made = time.time(), []
        with multiprocessing.get_context("fork").Pool(workers) as pool:   # leaving it stops the workers
            for i in pool.imap_unordered(_render_to_cache, [(self.root, self.seed, i) for i in todo], chunksize=4):
                made.append(i)
                if max_seconds and time.time() - start > max_seconds:
                    break
        self.ready.extend(sorted(made))         # `grow` skips these: it continues from where it was
        return len(made)

    @property
    def full(self) -> bool:
        return len(self.ready) >= self.count

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Cached image i: uint8 pixels [H, W, 3] and mask [H, W] (kept in memory after the first
        read when the cache was made `in_memory`)."""
        if self.memory is not None and i in self.memory:
            return self.memory[i]
        with np.load(os.path.join(self.root, self._name(i))) as f:
            arrays = f["pixels"], f["mask"]
        if self.memory is not None:
            self.memory[i] = arrays
        return arrays

    def crops(self, rng: np.random.Generator, batch: int, size: int,
              device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """`batch` random size×size crops (random images, places and mirror) →
        pixels [B, 3, S, S] float in [0, 1], masks [B, 1, S, S] float in {0, 1}, on `device`
        (moved there as uint8, a quarter of the bytes of float)."""
        if not self.ready:
            raise RuntimeError("the render cache is empty: call grow() first")
        xs, ms = [], []
        for _ in range(batch):
            pixels, mask = self.load(self.ready[int(rng.integers(len(self.ready)))])
            h, w = mask.shape
            y0, x0 = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
            p = pixels[y0:y0 + size, x0:x0 + size]      # [S, S, 3]
            m = mask[y0:y0 + size, x0:x0 + size]        # [S, S]
            if rng.random() < 0.5:
                p, m = p[:, ::-1], m[:, ::-1]
            xs.append(torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1))
            ms.append(torch.from_numpy(np.ascontiguousarray(m))[None])
        x = to_device(torch.stack(xs), device).float() / 255     # [B, 3, S, S]
        return x, to_device(torch.stack(ms), device).float()     # [B, 1, S, S]


def cache_file(seed: int, i: int) -> str:
    """The name of cached image i of the stream `seed`."""
    return f"{seed}-{i:06d}.npz"


def _render_to_cache(job: tuple[str, int, int]) -> int:
    """Renders image i of the stream (root, seed, i) into the cache folder, whole or not at all;
    returns i."""
    root, seed, i = job
    scene, w, h, rseed = image_spec(seed, i)
    image, objects, bodies = render_with_masks(scene, w, h, rseed)
    tmp = os.path.join(root, f".tmp-{os.getpid()}.npz")
    np.savez(tmp, pixels=to_uint8(image), mask=(objects | bodies).astype(np.uint8))
    os.replace(tmp, os.path.join(root, cache_file(seed, i)))
    return i


def heldout_renders(n: int, width: int, height: int, seed: int = 0) -> torch.Tensor:
    """n renders of scenes from a stream the cache never uses, quantised to uint8 like a PNG:
    [N, 3, H, W] float in [0, 1]."""
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, HELDOUT_STREAM, i])
        scene = sample_scene(rng)
        image = render(scene, width, height, int(rng.integers(2**31)))
        out.append(torch.from_numpy(to_uint8(image)).permute(2, 0, 1))
    return torch.stack(out).float() / 255
