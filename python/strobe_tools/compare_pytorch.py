"""Strobe against its PyTorch reference on the CPU: the same model file, prompt, seed, steps and
thread count, timed the same way (one image from prompt to PNG bytes with the model loaded,
warm-up first, then several runs; median).

    env -u OPENBLAS_CORETYPE python -m strobe_tools.compare_pytorch         # with the bf16 row where the CPU has it
    python -m strobe_tools.compare_pytorch --candidates eager,sdpa --runs 3   # a quick look

The Strobe side is the release `strobe bench --json` (`--modes flash_4,full_100`, the same
threads and runs), run by this script in the same session; the script builds it first with
`swift build -c release --product strobe` (a no-op when up to date) unless `--strobe PATH` names a
built executable. The prompts and seeds are the ones that bench reports, in the same order.

The PyTorch side is strobe_reference.model with the weights read by strobe_reference.weights
(F16 widened to fp32 exactly, as the engine does) and strobe_reference.sampling's sampler, in
configurations ("candidates"):

    eager           fp32, torch.no_grad, the reference as written (its sampler's own setting)
    inference_mode  fp32 under torch.inference_mode
    sdpa            inference_mode, attention through F.scaled_dot_product_attention (the same
                    math; the reference writes attention out because training needs forward-mode AD)
    compile         inference_mode + sdpa, the denoiser's velocity through torch.compile (inductor);
                    compile time excluded: every prompt runs once before timing
    compile_freeze  compile with torch._inductor.config.freezing (weights as constants, prepacked)
    bf16            inference_mode + sdpa under torch.autocast("cpu", bfloat16)
    compile_bf16    compile under torch.autocast("cpu", bfloat16)
    jit             inference_mode + sdpa, the denoiser traced with torch.jit.trace and frozen
                    (torch.jit.freeze; per prompt length, traced before timing)

channels-last is not a candidate: it is a memory format for 4-D convolution inputs, and this
model is a transformer whose every product is a linear layer or a batched matmul.
"Best" is the fastest flash-4 candidate whose flash-4 image stays within --sane-psnr dB of eager's.
OMP_WAIT_POLICY is PASSIVE unless set (see below); candidates run in one process, one after another.

Writes --out (default Benchmarks/results/vs-pytorch.json): PyTorch's time over Strobe's for flash 4
and full 100, end to end and per denoiser call (above 1: Strobe is faster), absolute times, the
best configuration, threads, versions, Strobe's bf16 flash 4 against PyTorch's best and best bf16
configurations (left out with --no-bf16 or without AVX512_BF16), and the PSNR between PyTorch's and Strobe's flash-4 images
of the first prompt and seed.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import types

# OpenMP's threads spin while they wait by default; on a machine whose cores other processes
# also use, a spinning thread that loses its core stalls every parallel region (measured here:
# a 256x256x768 product 15x slower with 2 threads than with 1). Passive waiting is the fair
# setting for both sides (Strobe's threads block); it must be set before torch loads OpenMP.
OMP_WAIT_POLICY = os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402
import torch._inductor.config  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from strobe_reference import model as strobe_model  # noqa: E402
from strobe_reference import weights as strobe_weights  # noqa: E402
from strobe_reference.model import ModelConfig, StrobeModel  # noqa: E402
from strobe_reference.paths import repository_root  # noqa: E402
from strobe_reference.sampling import initial_noise, sample, to_pixels  # noqa: E402
from strobe_training.scenes.png import png_bytes, read_png, to_uint8  # noqa: E402

NEEDED_BY = "strobe_tools.compare_pytorch (builds and runs the Swift engine, reads Models/, writes Benchmarks/results/)"

DESCRIPTIONS = {
    "eager": "fp32 eager under torch.no_grad: the reference as written",
    "inference_mode": "fp32 eager under torch.inference_mode",
    "sdpa": "fp32, torch.inference_mode, attention through F.scaled_dot_product_attention",
    "compile": "fp32, torch.inference_mode, SDPA attention, the denoiser's velocity through torch.compile "
               "(inductor, compile time excluded)",
    "compile_freeze": "fp32, torch.inference_mode, SDPA attention, torch.compile (inductor) with freezing "
                      "(weights folded as constants and prepacked), PyTorch's recommended CPU inference setting",
    "bf16": "torch.inference_mode, SDPA attention, torch.autocast('cpu', bfloat16)",
    "compile_bf16": "torch.inference_mode, SDPA attention, the denoiser's velocity through torch.compile "
                    "(inductor, compile time excluded), under torch.autocast('cpu', bfloat16)",
    "jit": "fp32, torch.inference_mode, SDPA attention, the denoiser traced with torch.jit.trace and torch.jit.freeze",
}
CANDIDATES = list(DESCRIPTIONS)
MODES = {"flash_4": ("flash", 4), "full_100": ("full", 100)}
REFERENCE_ATTENTION = strobe_model.attention


def sdpa_attention(q, k, v, bias=None, key_mask=None, scale=None):
    """strobe_model.attention through F.scaled_dot_product_attention: the same additive masks."""
    mask = bias
    if key_mask is not None:
        key_bias = torch.zeros(key_mask.shape, dtype=q.dtype, device=q.device)
        key_bias = key_bias.masked_fill(~key_mask, torch.finfo(q.dtype).min)[:, None, None, :]
        mask = key_bias if mask is None else mask + key_bias
    if mask is not None:
        mask = mask.to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)


def load_model(path: str) -> tuple[StrobeModel, spm.SentencePieceProcessor, float]:
    """The model, tokenizer and guidance of a Strobe weights file."""
    tensors, metadata = strobe_weights.load(path)
    cfg = ModelConfig.from_json(metadata["strobe.architecture"])
    model = StrobeModel(cfg).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    for p in model.parameters():
        p.requires_grad_(False)
    sp = spm.SentencePieceProcessor(model_proto=base64.b64decode(metadata["strobe.tokenizer"]))
    return model, sp, float(json.loads(metadata["strobe.sampler_defaults"])["guidance"])


class Pipeline:
    """Prompt → PNG bytes with one candidate configuration; records each denoiser call's time."""

    def __init__(self, name: str, model: StrobeModel, sp, guidance: float, size: tuple[int, int]):
        self.name, self.model, self.sp, self.guidance = name, model, sp, guidance
        self.width, self.height = size
        self.calls: list[float] = []
        self.traced: dict[int, torch.jit.ScriptModule] = {}
        self.velocity = model.denoiser.velocity
        if name in ("compile", "compile_freeze", "compile_bf16"):
            torch._inductor.config.freezing = name == "compile_freeze"
            torch._dynamo.reset()
            self.velocity = torch.compile(model.denoiser.velocity, backend="inductor")

    @contextlib.contextmanager
    def context(self):
        strobe_model.attention = REFERENCE_ATTENTION if self.name in ("eager", "inference_mode") else sdpa_attention
        try:
            grad = torch.no_grad() if self.name == "eager" else torch.inference_mode()
            bf16 = self.name in ("bf16", "compile_bf16")
            autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
            with grad, autocast:
                yield
        finally:
            strobe_model.attention = REFERENCE_ATTENTION

    def denoise(self, x, t, gap, beta, text, mask):
        if self.name == "jit":
            length = text.shape[1]
            if length not in self.traced:
                velocity_module = _VelocityModule(self.model.denoiser)
                traced = torch.jit.trace(velocity_module, (x, t, gap, beta, text, mask), check_trace=False)
                self.traced[length] = torch.jit.freeze(traced.eval())
            velocity = self.traced[length]
        else:
            velocity = self.velocity
        start = time.perf_counter()
        u = velocity(x, t, gap, beta, text, mask)
        self.calls.append(time.perf_counter() - start)
        return u

    def generate(self, prompt: str, seed: int, sampler: str, steps: int) -> tuple[bytes, np.ndarray]:
        """One image: tokenize, encode, noise, sample, pixels, PNG. Returns (PNG bytes, pixels [H, W, 3])."""
        with self.context():
            ids = self.sp.encode(prompt) + [self.sp.eos_id()]
            ids_t = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(ids_t, dtype=torch.bool)
            text = self.model.encode_text(ids_t, mask)
            noise = initial_noise(seed, self.model.cfg.denoiser.channels, self.height, self.width)[None]
            shim = types.SimpleNamespace(denoiser=types.SimpleNamespace(velocity=self.denoise))
            x0 = sample(shim, text, mask, noise, steps, self.guidance, sampler)
            pixels = to_uint8(to_pixels(x0[0].float()).numpy())
        return png_bytes(pixels), pixels


class _VelocityModule(torch.nn.Module):
    """The denoiser's velocity as a module, for torch.jit.trace."""

    def __init__(self, denoiser):
        super().__init__()
        self.denoiser = denoiser

    def forward(self, x, t, gap, beta, text, mask):
        return self.denoiser.velocity(x, t, gap, beta, text, mask)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (peak 255); inf when equal."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def finite(value):
    """`value` with every non-finite float (an infinite PSNR of identical images) as None."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def measure(pipe: Pipeline, mode: str, prompts: list[str], seeds: list[int], runs: int, warmup: int) -> dict:
    """Warm-up (every prompt once for candidates that specialise per prompt length), then timed runs."""
    sampler, steps = MODES[mode]
    if pipe.name in ("compile", "compile_freeze", "compile_bf16", "jit"):  # compile or trace for every prompt length first
        for i in range(len(prompts)):
            pipe.generate(prompts[i], seeds[i % len(seeds)], "flash", 1)
    for i in range(warmup):
        pipe.generate(prompts[i % len(prompts)], seeds[i % len(seeds)], sampler, steps)
    totals, calls, first = [], [], None
    for i in range(runs):
        pipe.calls = []
        start = time.perf_counter()
        png, pixels = pipe.generate(prompts[i % len(prompts)], seeds[i % len(seeds)], sampler, steps)
        totals.append((time.perf_counter() - start) * 1e3)
        calls += [c * 1e3 for c in pipe.calls]
        if i == 0:
            first = pixels
    return {"runs": runs, "median_ms": float(np.median(totals)), "min_ms": float(np.min(totals)),
            "run_ms": [round(t, 3) for t in totals], "denoiser_call_median_ms": float(np.median(calls)),
            "denoiser_call_min_ms": float(np.min(calls)), "_pixels": first}


def run_strobe(args, workdir: str, precision: str = "fp32") -> tuple[dict, np.ndarray]:
    """`strobe bench` for flash_4 and full_100 (bf16: flash_4 alone, with its fp32 twin runs);
    returns its JSON and its flash-4 image of prompt 0."""
    strobe = args.strobe
    if strobe is None:
        root = repository_root(NEEDED_BY)
        subprocess.run(["swift", "build", "-c", "release", "--product", "strobe"], cwd=root, check=True,
                       stdout=sys.stderr)
        strobe = os.path.join(root, ".build", "release", "strobe")
    args.strobe = strobe
    out = os.path.join(workdir, f"strobe-bench-{precision}.json")
    images = os.path.join(workdir, f"images-{precision}")
    modes = "flash_4,full_100" if precision == "fp32" else "flash_4"
    command = [strobe, "bench", "--model", args.weights, "--modes", modes, "--threads", str(args.threads),
               "--runs", str(args.runs), "--full-runs", str(args.full_runs), "--warmup", str(args.warmup),
               "--no-throughput", "--no-sgemm", "--precision", precision, "--json", out, "--images", images]
    print("+ " + " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True, stdout=sys.stderr)
    with open(out) as f:
        report = json.load(f)
    return report, read_png(os.path.join(images, "flash_4.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = repository_root(NEEDED_BY)
    parser.add_argument("--weights", default=os.path.join(root, "Models", "strobe-scenes.safetensors"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5, help="timed flash-4 runs per side")
    parser.add_argument("--full-runs", type=int, default=3, help="timed full-100 runs per side")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--candidates", default=",".join(CANDIDATES),
                        help=f"PyTorch configurations to try (of {','.join(CANDIDATES)}); eager is always run")
    parser.add_argument("--sane-psnr", type=float, default=25.0,
                        help="least PSNR (dB) of a candidate's flash-4 image against eager's for it to count as best")
    parser.add_argument("--strobe", help="a built strobe executable (default: build the release one)")
    parser.add_argument("--no-bf16", action="store_true", help="leave out the Strobe bf16 row")
    parser.add_argument("--out", default=os.path.join(root, "Benchmarks", "results", "vs-pytorch.json"))
    args = parser.parse_args()
    args.weights = os.path.abspath(args.weights)
    candidates = ["eager"] + [c for c in args.candidates.split(",") if c and c != "eager"]
    unknown = set(candidates) - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown candidates {sorted(unknown)}; known: {CANDIDATES}")
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    with tempfile.TemporaryDirectory() as workdir:
        strobe, strobe_pixels = run_strobe(args, workdir)
        strobe_bf16 = None
        if not args.no_bf16:
            # Strobe's bf16 (CPUs with AVX512_BF16): its bench refuses elsewhere, and the row is left out.
            try:
                strobe_bf16, _ = run_strobe(args, workdir, "bf16")
            except subprocess.CalledProcessError:
                print("strobe bench --precision bf16 failed (no AVX512_BF16?): no bf16 row", file=sys.stderr)
    prompts, seeds = strobe["settings"]["prompts"], strobe["settings"]["seeds"]
    width, height = (int(v) for v in strobe["settings"]["size"].split("x"))

    model, sp, guidance = load_model(args.weights)
    results: dict[str, dict] = {}
    for name in candidates:
        pipe = Pipeline(name, model, sp, guidance, (width, height))
        try:
            start = time.perf_counter()
            results[name] = {"flash_4": measure(pipe, "flash_4", prompts, seeds, args.runs, args.warmup)}
            results[name]["seconds_in_all"] = round(time.perf_counter() - start, 1)
        except Exception as error:  # a configuration this torch cannot run is reported, not fatal
            results[name] = {"error": f"{type(error).__name__}: {error}"[:500]}
            print(f"{name}: failed: {results[name]['error']}", file=sys.stderr)
            continue
        r = results[name]["flash_4"]
        print(f"{name}: flash_4 median {r['median_ms']:.1f} ms, call {r['denoiser_call_median_ms']:.2f} ms",
              file=sys.stderr)
    eager_pixels = results["eager"]["flash_4"]["_pixels"]
    for name, r in results.items():
        if "flash_4" in r:
            r["flash_4"]["psnr_vs_eager_db"] = psnr(r["flash_4"]["_pixels"], eager_pixels)
    sane = [n for n, r in results.items() if "flash_4" in r and r["flash_4"]["psnr_vs_eager_db"] >= args.sane_psnr]
    best = min(sane, key=lambda n: results[n]["flash_4"]["median_ms"])

    # Full 100 for eager and the best configuration.
    for name in dict.fromkeys(["eager", best]):
        pipe = Pipeline(name, model, sp, guidance, (width, height))
        results[name]["full_100"] = measure(pipe, "full_100", prompts, seeds, args.full_runs, args.warmup)
        print(f"{name}: full_100 median {results[name]['full_100']['median_ms']:.1f} ms", file=sys.stderr)

    def ratio(name: str, mode: str, key: str) -> float:
        return round(results[name][mode][key] / strobe[mode][key], 3)

    # Strobe bf16 against PyTorch's best configuration and its best bf16 one, flash 4.
    bf16_row = None
    if strobe_bf16 is not None:
        bf16_candidates = [n for n in sane if "bf16" in n]
        best_bf16 = min(bf16_candidates, key=lambda n: results[n]["flash_4"]["median_ms"]) if bf16_candidates else None
        s16 = strobe_bf16["flash_4"]
        bf16_row = {
            "strobe_bf16_flash_4_median_ms": s16["median_ms"],
            "strobe_bf16_vs_fp32": strobe_bf16.get("vs_fp32"),
            "flash_4_best_ratio": round(results[best]["flash_4"]["median_ms"] / s16["median_ms"], 3),
            "flash_4_call_best_ratio": round(results[best]["flash_4"]["denoiser_call_median_ms"]
                                             / s16["denoiser_call_median_ms"], 3),
            "best_pytorch_bf16": best_bf16,
            "flash_4_best_bf16_ratio": (round(results[best_bf16]["flash_4"]["median_ms"] / s16["median_ms"], 3)
                                        if best_bf16 else None),
        }

    out = {
        "threads": args.threads,
        "torch_version": torch.__version__,
        "torch_matmul_backend": "MKL" if torch.backends.mkl.is_available() else "other",
        "omp_wait_policy": OMP_WAIT_POLICY,
        "strobe_version": strobe["environment"]["strobe_version"],
        "openblas_core": strobe["environment"]["openblas_core"],
        "openblas_coretype_env": strobe["environment"].get("openblas_coretype_env"),
        "cpu": strobe["environment"].get("cpu"),
        "size": strobe["settings"]["size"],
        "prompts": prompts, "seeds": seeds,
        "runs": args.runs, "full_runs": args.full_runs, "warmup": args.warmup,
        "best": best,
        "best_description": DESCRIPTIONS[best],
        "flash_4_eager_ratio": ratio("eager", "flash_4", "median_ms"),
        "flash_4_best_ratio": ratio(best, "flash_4", "median_ms"),
        "full_100_eager_ratio": ratio("eager", "full_100", "median_ms"),
        "full_100_best_ratio": ratio(best, "full_100", "median_ms"),
        "flash_4_call_eager_ratio": ratio("eager", "flash_4", "denoiser_call_median_ms"),
        "flash_4_call_best_ratio": ratio(best, "flash_4", "denoiser_call_median_ms"),
        "full_100_call_eager_ratio": ratio("eager", "full_100", "denoiser_call_median_ms"),
        "full_100_call_best_ratio": ratio(best, "full_100", "denoiser_call_median_ms"),
        "parity_flash_4_psnr_db": round(psnr(eager_pixels, strobe_pixels), 2),
        "bf16": bf16_row,
        "strobe": {m: {k: strobe[m][k] for k in ("median_ms", "min_ms", "denoiser_call_median_ms", "runs")}
                   for m in MODES},
        "pytorch": {n: {k: ({kk: (round(vv, 3) if isinstance(vv, float) else vv) for kk, vv in v.items()
                             if not kk.startswith("_")} if isinstance(v, dict) else v)
                        for k, v in r.items()} for n, r in results.items()},
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(finite(out), f, indent=1, allow_nan=False)
        f.write("\n")

    print(f"Strobe {out['strobe_version']} (OpenBLAS {out['openblas_core']}) vs PyTorch {out['torch_version']}, "
          f"{args.threads} threads, {out['size']}; ratio = PyTorch time / Strobe time (above 1: Strobe faster)")
    print(f"{'':22}{'Strobe ms':>10}{'eager ms':>10}{'ratio':>8}{best + ' ms':>16}{'ratio':>8}")
    for mode in MODES:
        for key, label in (("median_ms", "end to end"), ("denoiser_call_median_ms", "per call")):
            s, e = strobe[mode][key], results["eager"][mode][key]
            b = results[best][mode][key]
            print(f"{mode + ' ' + label:22}{s:10.1f}{e:10.1f}{e / s:8.2f}{b:16.1f}{b / s:8.2f}")
    print("candidates, flash 4 (median ms; PSNR of the image against eager's):")
    for name, r in results.items():
        if "flash_4" in r:
            print(f"  {name:16}{r['flash_4']['median_ms']:10.1f}  {r['flash_4']['psnr_vs_eager_db']:.1f} dB")
        else:
            print(f"  {name:16}failed: {r['error']}")
    if bf16_row is not None:
        print(f"Strobe bf16 flash 4: {bf16_row['strobe_bf16_flash_4_median_ms']:.1f} ms; PyTorch best ({best}) / Strobe "
              f"bf16 = {bf16_row['flash_4_best_ratio']:.2f}; best PyTorch bf16 ({bf16_row['best_pytorch_bf16']}) / "
              f"Strobe bf16 = {bf16_row['flash_4_best_bf16_ratio']}")
    print(f"best: {best}; parity, flash 4 prompt 1 seed {seeds[0]}: PSNR {out['parity_flash_4_psnr_db']} dB "
          f"between PyTorch eager and Strobe")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
