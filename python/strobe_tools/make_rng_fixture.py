"""Write golden values of torch.randn for the Swift TorchGenerator tests.

Output: Tests/StrobeTests/Fixtures/rng/torch_randn.json

Run from the repository root:

    python3 -m venv .venv && .venv/bin/pip install -e python
    .venv/bin/python -m strobe_tools.make_rng_fixture

PyTorch's CPU normal kernel for float tensors with >= 16 elements depends on the
CPU capability torch dispatches to: x86 builds running with AVX2 or AVX-512
use a Box-Muller on 8-wide vectors with Cephes polynomial log/sin/cos
(avx_mathfun.h); the "default" capability (no SIMD, and non-x86 machines) uses
the C library's logf/sinf/cosf. This script records both by running torch in a
child process with ATEN_CPU_CAPABILITY set to "avx2" and to "default".
Tensors with fewer than 16 elements use a scalar double-precision path that
does not depend on the capability.

Each case stores the float32 bit patterns of the values (all of them when
n <= 64, else the first 32 and the last 32) and the float64 sum of all values,
accumulated left to right.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from strobe_reference.paths import repository_path

SEEDS = [0, 1, 42, 2**32 - 1, 2**63 - 1, 2**64 - 1]
COUNTS = [1, 2, 7, 15, 16, 17, 31, 32, 100, 1000, 3 * 64 * 64]
# Successive calls on one generator (the scalar path caches its second
# Box-Muller value between calls; the vectorised path leaves that cache alone).
SEQUENCES = [(42, [7, 16, 3, 1, 20]), (7, [1, 1, 1, 33])]


def record(values):
    import numpy as np

    a = np.asarray(values, dtype=np.float32)
    bits = a.view(np.uint32).tolist()
    total = 0.0
    for v in a.tolist():  # left-to-right float64 accumulation
        total += v
    if len(bits) <= 64:
        return {"head": bits, "tail": [], "sum": total}
    return {"head": bits[:32], "tail": bits[-32:], "sum": total}


def child(kernel):
    """Runs inside a process whose ATEN_CPU_CAPABILITY is already set."""
    import torch

    cases = []
    counts = COUNTS if kernel == "vectorized" else [n for n in COUNTS if n >= 16]
    for seed in SEEDS:
        for n in counts:
            torch.manual_seed(seed)
            x = torch.randn(n, dtype=torch.float32)
            cases.append({"seed": str(seed), "n": n, **record(x.tolist())})
    sequences = []
    if kernel == "vectorized":
        for seed, ns in SEQUENCES:
            torch.manual_seed(seed)
            parts = [torch.randn(n, dtype=torch.float32) for n in ns]
            sequences.append({"seed": str(seed), "counts": ns, **record(torch.cat(parts).tolist())})
    json.dump(
        {
            "capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__,
            "cases": cases,
            "sequences": sequences,
        },
        sys.stdout,
    )


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out_path = Path(repository_path("Tests", "StrobeTests", "Fixtures", "rng", "torch_randn.json",
                                    needed_by="strobe_tools.make_rng_fixture (writes Tests/StrobeTests/Fixtures/rng/)"))
    kernels = {}
    torch_version = None
    for kernel, capability in [("vectorized", "avx2"), ("scalar", "default")]:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
        out = subprocess.run(
            [sys.executable, "-m", "strobe_tools.make_rng_fixture", "--child", kernel], env=env, check=True, capture_output=True, text=True
        ).stdout
        result = json.loads(out)
        expected = "AVX2" if capability == "avx2" else "DEFAULT"
        if result["capability"] != expected:
            sys.exit(f"torch ran with capability {result['capability']}, wanted {expected}")
        torch_version = result["torch"]
        kernels[kernel] = {"capability": result["capability"], "cases": result["cases"], "sequences": result["sequences"]}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"torch": torch_version, "kernels": kernels}
    out_path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {out_path} ({out_path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
