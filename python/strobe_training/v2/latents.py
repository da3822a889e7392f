"""Latents for the v2 DiT: renders encoded once with the autoencoder's EMA encoder, normalised
with its stored statistics, kept on disk in chunks (docs/training-v2.md, stage 2).

    python -m strobe_training.v2.latents [--ae v2-ae/ae.ckpt] [--out v2-latents] --images 20000 \
        [--workers 14 --device cuda --max-minutes 2]

(paths relative to the training state folder, `paths.py`, are the defaults)

Images come from the render cache's stream (`data.image_spec(seed, i)`: scene, v2 size and render
seed of image i, so the first 3,000 are the autoencoder's own training images, and the rest new
ones). Each image is rendered afresh (about 45 ms at 512², for the object and sky masks, which
the cache only holds merged), quantised to uint8 as a PNG would hold it, and encoded in float32.
With --workers N the renders come from N processes and the encoder runs on --device; the chunks
hold the same images as one process makes. --max-minutes stops starting chunks after that time
(a fast machine with a fixed budget keeps what it made).
With --mirror (default on) its mirror image is encoded too, as the scene with left and right
swapped (unless that scene is a held-out combination): twice the latents for one render.

Layout of OUT:
    meta.json            the autoencoder checkpoint's step, configuration and latent statistics,
                         the stream's seed, the chunk size; a run with another checkpoint refuses
                         to add to it
    chunk-000123.npz     images [123·C, 124·C) of the stream, grouped by size:
                           z_<W>x<H>        [n, 16, H/16, W/16] float16   normalised latents
                           objects_<W>x<H>  [n, H/16, W/16] uint8         share of each latent
                           bodies_<W>x<H>   [n, H/16, W/16] uint8         cell's 16×16 pixels that
                                                                           objects / the sun, moon or
                                                                           stars changed (×255)
                           scenes_<W>x<H>   JSON list of n scenes (captions are drawn at training
                                             time, a fresh wording each time)
A chunk is written whole (to a temporary name, then renamed), so a killed run loses at most the
chunk in progress and the same command resumes. `LatentSet` reads a folder back for training.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import numpy as np
import torch

from strobe_training.scenes import Scene, SceneObject, is_heldout, render_with_masks

from .autoencoder import Autoencoder, AutoencoderConfig
from .data import image_spec, to_uint8
from .paths import training_dir

MIRROR_POSITION = {"left": "right", "right": "left", "centre": "centre"}


def scene_to_json(scene: Scene) -> dict:
    return dataclasses.asdict(scene)


def scene_from_json(d: dict) -> Scene:
    objects = tuple(SceneObject(**o) for o in d.get("objects", ()))
    return Scene(**{**d, "objects": objects})


def mirrored(scene: Scene) -> Scene:
    """The scene with every object's left and right swapped (what its mirror image shows)."""
    objects = tuple(sorted((dataclasses.replace(o, position=MIRROR_POSITION[o.position]) for o in scene.objects),
                           key=lambda o: ("left", "centre", "right").index(o.position)))
    return dataclasses.replace(scene, objects=objects)


def pool_share(mask: np.ndarray, factor: int = 16) -> np.ndarray:
    """bool [H, W] → uint8 [H/f, W/f]: the share of each f×f cell that is set, × 255, rounded."""
    h, w = mask.shape
    share = mask.reshape(h // factor, factor, w // factor, factor).mean((1, 3))
    return np.round(share * 255).astype(np.uint8)


def load_encoder(path: str) -> tuple[Autoencoder, dict]:
    """The EMA autoencoder of a train_autoencoder checkpoint, and what identifies it."""
    ck = torch.load(path, weights_only=False, map_location="cpu")
    cfg = AutoencoderConfig.from_json(ck["config"])
    model = Autoencoder(cfg)
    model.load_state_dict(ck["ema"])
    model.eval().requires_grad_(False)
    state = ck.get("state", {})
    ident = {"ae_step": int(state.get("step", -1)), "ae_hours": round(float(state.get("seconds", 0)) / 3600, 4),
             "ae_config": cfg.to_json(), "latent_mean": [round(v, 6) for v in model.latent_mean.tolist()],
             "latent_std": [round(v, 6) for v in model.latent_std.tolist()]}
    if torch.all(model.latent_std == 1) and torch.all(model.latent_mean == 0):
        raise ValueError(f"{path}: its latent statistics were never measured (mean 0, std 1); "
                         "use a checkpoint written after an evaluation")
    return model, ident


@torch.no_grad()
def encode_images(ae: Autoencoder, images: list[np.ndarray]) -> np.ndarray:
    """uint8 images [H, W, 3] of one size → normalised latents float16 [n, C, H/16, W/16], on the
    autoencoder's device."""
    device = ae.latent_mean.device
    x = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2).float() / 255     # [n, 3, H, W]
    z = ae.normalise(ae.encode(x))                                                         # [n, C, h, w]
    return z.cpu().numpy().astype(np.float16)


def render_image(seed: int, index: int, mirror: bool) -> tuple[str, list]:
    """Image `index` of the stream, rendered: its size "WxH" and its variants (the render, and its
    mirror image when asked and allowed), each (uint8 pixels [H, W, 3], objects, bodies, scene JSON)
    with the masks pooled to the latent grid."""
    scene, w, h, rseed = image_spec(seed, index)
    image, objects, bodies = render_with_masks(scene, w, h, rseed)
    pixels = to_uint8(image)                                                     # [H, W, 3]
    variants = [(pixels, objects, bodies, scene)]
    if mirror and not is_heldout(mirrored(scene)):
        variants.append((pixels[:, ::-1].copy(), objects[:, ::-1], bodies[:, ::-1], mirrored(scene)))
    return f"{w}x{h}", [(p, pool_share(o), pool_share(b), scene_to_json(s)) for p, o, b, s in variants]


def _render_job(job: tuple[int, int, bool]) -> tuple[str, list]:
    return render_image(*job)


def make_chunk(ae: Autoencoder, rendered, batch: int = 8) -> dict:
    """The arrays of one chunk (see the module's docstring) from its images' `render_image` results,
    in stream order."""
    groups: dict[str, dict[str, list]] = {}
    for size, variants in rendered:
        g = groups.setdefault(size, {"images": [], "objects": [], "bodies": [], "scenes": []})
        for p, o, b, s in variants:
            g["images"].append(p)
            g["objects"].append(o)
            g["bodies"].append(b)
            g["scenes"].append(s)
    out = {}
    for size, g in groups.items():
        zs = [encode_images(ae, g["images"][k:k + batch]) for k in range(0, len(g["images"]), batch)]
        out[f"z_{size}"] = np.concatenate(zs)
        out[f"objects_{size}"] = np.stack(g["objects"])
        out[f"bodies_{size}"] = np.stack(g["bodies"])
        out[f"scenes_{size}"] = np.array(json.dumps(g["scenes"]))
    return out


def chunk_name(k: int) -> str:
    return f"chunk-{k:06d}.npz"


def build(args) -> None:
    torch.set_num_threads(args.threads)
    ae, ident = load_encoder(args.ae)
    os.makedirs(args.out, exist_ok=True)
    meta_path = os.path.join(args.out, "meta.json")
    # As JSON holds it (tuples become lists), so that a resumed run compares like with like.
    meta = json.loads(json.dumps({**ident, "seed": args.seed, "chunk": args.chunk, "mirror": args.mirror}))
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            old = json.load(f)
        if {k: old.get(k) for k in meta} != meta:
            diff = sorted(k for k in meta if old.get(k) != meta[k])
            raise SystemExit(f"{args.out} holds latents made otherwise ({', '.join(diff)} differ): "
                             "use another --out, or delete it to start again")
    else:
        with open(meta_path + ".tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.replace(meta_path + ".tmp", meta_path)
    chunks = (args.images + args.chunk - 1) // args.chunk
    start = time.time()
    made = 0
    todo = [k for k in range(chunks) if not os.path.exists(os.path.join(args.out, chunk_name(k)))]

    def jobs(k: int) -> list[tuple[int, int, bool]]:
        return [(args.seed, i, args.mirror) for i in range(k * args.chunk, min((k + 1) * args.chunk, args.images))]

    def out_of_time() -> bool:
        return bool(args.max_minutes) and time.time() - start > 60 * args.max_minutes

    pool = pending = None               # pending: the next chunk's renders, asked for ahead
    if args.workers > 1 and todo:       # the pool renders the next chunk while this one is encoded
        import multiprocessing
        pool = multiprocessing.get_context("fork").Pool(args.workers)
    ae.to(args.device)
    batch = 8 if args.device == "cpu" else 64
    for n_done, k in enumerate(todo):
        # The time limit is checked before a chunk's renders are asked for, so the pool never
        # has work in flight when the loop stops.
        if pending is None and out_of_time():
            print(f"stopped after {args.max_minutes} min (--max-minutes)", flush=True)
            break
        path = os.path.join(args.out, chunk_name(k))
        t0 = time.time()
        if pool is None:
            rendered = map(_render_job, jobs(k))
        else:
            rendered = (pending or pool.map_async(_render_job, jobs(k), chunksize=4)).get()
            more = n_done + 1 < len(todo) and not out_of_time()
            pending = pool.map_async(_render_job, jobs(todo[n_done + 1]), chunksize=4) if more else None
        arrays = make_chunk(ae, rendered, batch)
        tmp = os.path.join(args.out, f".tmp-{os.getpid()}.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        made += 1
        n = sum(len(v) for key, v in arrays.items() if key.startswith("z_"))
        print(json.dumps({"chunk": k, "latents": n, "seconds": round(time.time() - t0, 1),
                          "total_minutes": round((time.time() - start) / 60, 2)}), flush=True)
    if pool is not None:
        pool.close()
        pool.join()
    print(f"{made} new chunk(s); {args.out} holds {len(LatentSet(args.out))} latents", flush=True)


# ---------------------------------------------------------------------------------------------
# Reading back


class LatentSet:
    """Every chunk of a latents folder in memory, grouped by size.

        data = LatentSet(training_dir("v2-latents"))
        z, objects, bodies, scenes = data.batch(rng, 8)   # one size a batch
          z [B, 16, h, w] float32; objects, bodies [B, 1, h, w] float32 shares in [0, 1]; scenes: list of Scene
    """

    def __init__(self, root: str, max_chunks: int | None = None):
        names = sorted(n for n in os.listdir(root) if n.startswith("chunk-") and n.endswith(".npz"))
        if max_chunks is not None:
            names = names[:max_chunks]
        groups: dict[str, dict[str, list]] = {}
        for name in names:
            with np.load(os.path.join(root, name)) as f:
                for key in f.files:
                    if not key.startswith("z_"):
                        continue
                    size = key[2:]
                    g = groups.setdefault(size, {"z": [], "objects": [], "bodies": [], "scenes": []})
                    g["z"].append(f[key])
                    g["objects"].append(f[f"objects_{size}"])
                    g["bodies"].append(f[f"bodies_{size}"])
                    g["scenes"].extend(scene_from_json(s) for s in json.loads(str(f[f"scenes_{size}"])))
        self.sizes = sorted(groups)
        self.z = {s: np.concatenate(groups[s]["z"]) for s in self.sizes}
        self.objects = {s: np.concatenate(groups[s]["objects"]) for s in self.sizes}
        self.bodies = {s: np.concatenate(groups[s]["bodies"]) for s in self.sizes}
        self.scenes = {s: groups[s]["scenes"] for s in self.sizes}
        self.chunks = len(names)
        meta_path = os.path.join(root, "meta.json")
        self.meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}

    def __len__(self) -> int:
        return sum(len(v) for v in self.z.values())

    def batch(self, rng: np.random.Generator, batch: int):
        """`batch` random latents of one size, the size drawn in proportion to how many it has."""
        if not self.sizes:
            raise RuntimeError("no latents: run strobe_training.v2.latents first")
        counts = np.array([len(self.z[s]) for s in self.sizes], dtype=np.float64)
        size = self.sizes[int(rng.choice(len(self.sizes), p=counts / counts.sum()))]
        idx = rng.integers(len(self.z[size]), size=batch)
        z = torch.from_numpy(self.z[size][idx].astype(np.float32))                      # [B, C, h, w]
        objects = torch.from_numpy(self.objects[size][idx].astype(np.float32) / 255)[:, None]  # [B, 1, h, w]
        bodies = torch.from_numpy(self.bodies[size][idx].astype(np.float32) / 255)[:, None]
        return z, objects, bodies, [self.scenes[size][i] for i in idx]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ae", default=training_dir("v2-ae", "ae.ckpt"), help="train_autoencoder checkpoint (its EMA is used)")
    p.add_argument("--out", default=training_dir("v2-latents"))
    p.add_argument("--images", type=int, default=20000, help="renders of the stream to encode (images 0 … N−1)")
    p.add_argument("--chunk", type=int, default=256, help="renders per chunk file")
    p.add_argument("--seed", type=int, default=0, help="the stream's seed (the render cache's: 0)")
    p.add_argument("--no-mirror", dest="mirror", action="store_false")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1, help="processes that render (1: render in this one)")
    p.add_argument("--device", default="cpu", help="torch device of the encoder: cpu, cuda …")
    p.add_argument("--max-minutes", type=float, default=0, help="start no chunk after this long (0: no limit)")
    return p


def main():
    build(parser().parse_args())


if __name__ == "__main__":
    main()
