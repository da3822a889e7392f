"""Makes the weights-format fixtures of Tests/StrobeTests/Fixtures/weights/.

Run from the repository root:
    python3 -m venv .venv && .venv/bin/pip install -e python
    .venv/bin/python -m strobe_tools.make_weights_fixtures

Writes:
- strobe_writer.safetensors: written by strobe_reference.weights (Strobe's writer), F32, F16 and
  BF16 tensors and Strobe's metadata; checked here to load in the `safetensors` package.
- torch_safetensors.safetensors: the same tensors written by `safetensors.torch.save_file`.
- expected.json: for every tensor, its shape, dtype and the float32 bit patterns the reader must
  produce, computed by torch's own conversions; and the metadata.
"""
import argparse
import json
import os

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from strobe_reference import weights as strobe_weights
from strobe_reference.paths import repository_path


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out = repository_path("Tests", "StrobeTests", "Fixtures", "weights",
                          needed_by="strobe_tools.make_weights_fixtures (writes Tests/StrobeTests/Fixtures/weights/)")
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    values = {
        "denoiser.blocks.0.attn.qkv.weight": (torch.randn(6, 5, generator=g), "F32"),
        "denoiser.blocks.0.attn.qkv.bias": (torch.randn(6, generator=g), "F16"),
        "text_encoder.embed.weight": (torch.randn(3, 7, generator=g) * 100, "BF16"),
        "text_encoder.final_norm.weight": (torch.tensor([1.0, -2.5, 65504.0, 6e-8, 0.1]), "F16"),
        "denoiser.scale": (torch.tensor(3.25), "F32"),
        "denoiser.empty": (torch.zeros(0, 4), "F32"),
    }
    torch_dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    metadata = strobe_weights.strobe_metadata(
        architecture={"family": "fixture", "layers": 1},
        sampler_defaults={"flash_steps": 4, "full_steps": 100, "guidance": 2.0},
        tokenizer_model=b"\x0a\x05hello not a real sentencepiece model",
        model_name="fixture \u00e9t\u00e9 \u2603",  # non-ASCII: exercises \\u escapes
    )

    tensors = {name: t for name, (t, _) in values.items()}
    dtypes = {name: d for name, (_, d) in values.items()}
    path = os.path.join(out, "strobe_writer.safetensors")
    strobe_weights.save(path, tensors, metadata, dtypes)

    converted = {name: t.to(torch_dtypes[d]) for name, (t, d) in values.items()}
    save_file({k: v.contiguous() for k, v in converted.items()},
              os.path.join(out, "torch_safetensors.safetensors"), metadata=metadata)

    # Strobe's file must load in the safetensors package with the same values.
    with safe_open(path, framework="pt") as f:
        assert f.metadata() == metadata
        for name, t in converted.items():
            assert torch.equal(f.get_tensor(name), t), name

    expected = {"metadata": metadata, "tensors": {}}
    for name, t in converted.items():
        f32 = t.float().numpy().astype(np.float32)
        expected["tensors"][name] = {
            "dtype": dtypes[name],
            "shape": list(t.shape),
            "bits": [int(b) for b in f32.reshape(-1).view(np.uint32)],
        }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
