"""Tests of the cfg sampler's guidance interval (strobe_reference.sampling) and of
strobe_training.v2.probe_variety (needs torch)."""
from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from strobe_reference.paths import repository_path  # noqa: E402
from strobe_reference.sampling import encode_prompts, guidance_schedule, sample, time_grid  # noqa: E402
from strobe_training.evaluation.generate import load_weights_file  # noqa: E402
from strobe_training.v2 import probe_variety  # noqa: E402

V2_FILE = repository_path("Tests", "StrobeTests", "Fixtures", "mmdit", "random.safetensors")

torch.set_num_threads(1)


class _Stub:
    """A denoiser whose velocity depends on x, t and the text (so u(c) ≠ u(∅)); it records its calls."""

    def __init__(self):
        self.denoiser, self.calls = self, []

    def velocity(self, x, t, gap, beta, text, mask):
        self.calls.append((float(t[0]), float(text.sum())))
        assert float(gap.abs().max()) == 0 and float(beta.min()) == 1              # the teacher: gap 0, β = 1
        return 0.3 * x + text.mean(dim=(1, 2)).view(-1, 1, 1, 1) * (1 + t).view(-1, 1, 1, 1)


def test_guidance_schedule():
    assert guidance_schedule(4, 2.0) == [2.0] * 4
    assert guidance_schedule(4, 2.0, 0.5) == [1.0, 1.0, 2.0, 2.0]                   # t = 1, 0.75 | 0.5, 0.25
    assert guidance_schedule(4, 2.0, 1.0) == [2.0] * 4 and guidance_schedule(4, 2.0, 0.0) == [1.0] * 4
    # t = 0.8 on the grid is float32(0.8), guided at until 0.8 (train_dit.guidance_at compares in float32).
    assert guidance_schedule(10, 2.0, 0.8) == [1.0, 1.0] + [2.0] * 8


def test_cfg_mixes_per_step_below_the_interval_only():
    text, mask = torch.full((2, 3, 4), 0.7), torch.ones(2, 3, dtype=torch.bool)
    uncond = (torch.full((2, 3, 4), -0.2), torch.ones(2, 3, dtype=torch.bool))
    noise = torch.randn(2, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    stub, w = _Stub(), 2.5
    out = sample(stub, text, mask, noise, 4, w, mode="cfg", uncond=uncond, guidance_until=0.5)
    # One pass (u(c)) at t = 1 and 0.75, two at t = 0.5 and 0.25.
    assert [t for t, _ in stub.calls] == [1.0, 0.75, 0.5, 0.5, 0.25, 0.25]
    assert [c > 0 for _, c in stub.calls] == [True, True, True, False, True, False]
    x, ref = noise.clone(), _Stub()
    grid = time_grid(4)
    for t, s in zip(grid[:-1], grid[1:]):
        tt = torch.full((2,), t)
        args = (tt, torch.zeros(2), torch.ones(2))
        u_c = ref.velocity(x, *args, text, mask)
        u = u_c if t > 0.5 else w * u_c + (1 - w) * ref.velocity(x, *args, *uncond)
        x = x + torch.tensor(s - t, dtype=torch.float32) * u
    assert torch.allclose(out, x, atol=1e-6)
    with pytest.raises(ValueError):
        sample(stub, text, mask, noise, 4, w, mode="full", guidance_until=0.5)


def test_cfg_interval_limits_on_a_v2_model():
    lm = load_weights_file(V2_FILE)
    text, mask = encode_prompts(lm.model, lm.tokenizer, ["a red hot-air balloon on the left, hills at noon"] * 2)
    uncond = encode_prompts(lm.model, lm.tokenizer, [""] * 2)
    noise = torch.stack([lm.noise(seed, 64, 64) for seed in (1, 2)])
    guided = sample(lm.model, text, mask, noise, 3, 2.0, mode="cfg", uncond=uncond)
    # until 1: guided at every step, as without an interval.
    assert torch.equal(sample(lm.model, text, mask, noise, 3, 2.0, mode="cfg", uncond=uncond, guidance_until=1.0),
                       guided)
    # until 0: never guided, the plain conditional sampler (gap 0, β = 1) whatever w.
    plain = sample(lm.model, text, mask, noise, 3, 1.0, mode="full")
    assert torch.equal(sample(lm.model, text, mask, noise, 3, 2.0, mode="cfg", uncond=uncond, guidance_until=0.0),
                       plain)
    assert not torch.equal(plain, guided)


def test_probe_on_the_v2_fixture(tmp_path, capsys):
    out = tmp_path / "probe" / "variety.json"
    returned = probe_variety.main(["--weights", V2_FILE, "--steps", "2", "--w", "1,2", "--until", "0.5",
                                   "--long", "1", "--short", "1", "--seeds", "1,2", "--renders", "2",
                                   "--size", "64x64", "--threads", "1", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(returned))
    assert list(data["results"]) == ["w1", "w2_until0.5"]
    assert data["settings"]["w1"] == {"w": 1.0, "guidance_until": None, "steps": 2, "calls_per_image": 2}
    assert data["settings"]["w2_until0.5"] == {"w": 2.0, "guidance_until": 0.5, "steps": 2, "calls_per_image": 3}
    variety = data["meta"]["variety"]
    assert variety["seeds"] == [1, 2] and variety["size"] == "64x64" and len(variety["prompts"]) == 2
    assert [p["set"] for p in variety["prompts"]] == ["long", "short"]
    figures = [v for r in data["results"].values() for v in r.values()]
    figures += [v for m in variety["modes"].values() for v in (*m["variety"].values(), m["ratio_short_all_open"])]
    figures += [v for p in variety["prompts"] for v in (p["renders"], *p["modes"].values())]
    assert all(set(r) == {"long", "short", "all"} for r in data["results"].values())
    assert figures and all(math.isfinite(v) and v >= 0 for v in figures), figures
    assert data["meta"]["model"]["family"] == "strobe-mmdit"
    printed = capsys.readouterr().out
    assert "w2_until0.5" in printed and "wrote" in printed
