"""Whether a v2 weights file may replace v1 as the default (issue 22): the issue's table filled in
from two `evaluate.py` results made on the same scenes, seeds and classifier, and the rule
"ship only when v2 beats v1 on seams, FD, variety and accuracy".

    PYTHONPATH=python python -m strobe_training.evaluation.verdict V1.json V2.json [--markdown OUT.md]

Exit status 0 when v2 beats v1 on all four, 1 when it does not, 2 when the two results cannot be
compared (other scenes or seeds, or another classifier: another recipe, or the same
recipe trained again, e.g. on another machine). What "beats" means, per measure (flash 4):
- seams: v2's worst grid has a lower seam ratio than v1's worst grid;
- FD: lower;
- variety: a higher variety ratio over all prompts;
- accuracy: higher in distribution, and not lower held out.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from strobe_training.evaluation.classifier import classifier_difference

# What must agree between the two results for their figures to be compared.
SAME = ("scenes", "heldout_scenes", "heldout_per_combination", "seeds")


@dataclass(frozen=True)
class Row:
    """One line of the issue's table: the measure, v1's and v2's figures, and the target."""
    name: str
    v1: float | None
    v2: float | None
    target: str
    met: bool | None    # v2 against the target (None: not measured)


class Incomparable(ValueError):
    """The two results were not made on the same scenes, seeds and classifier."""


def _get(result: dict, mode: str, key: str):
    return (result.get(mode) or {}).get(key)


def _group(result: dict, mode: str, group: str, heldout: bool = False):
    per = result["meta"].get("per_mode", {}).get(mode, {})
    return (per.get("groups_heldout" if heldout else "groups") or {}).get(group)


def _variety(result: dict) -> float | None:
    """flash 4's variety ratio over all prompts."""
    return (_get(result, "flash_4", "variety_ratio") or {}).get("all")


def worst_seam(result: dict, mode: str = "flash_4") -> float | None:
    """The largest seam ratio over the grids measured for `mode`."""
    seams = _get(result, mode, "seam_ratio")
    return max(seams.values()) if seams else None


def check_comparable(v1: dict, v2: dict) -> None:
    """Raises Incomparable naming every difference in scenes, seeds or classifier."""
    a, b = v1["meta"], v2["meta"]
    problems = [f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in SAME if a.get(k) != b.get(k)]
    judge = classifier_difference(a.get("classifier") or {}, b.get("classifier") or {})
    if judge:
        problems.append(judge)
    if problems:
        raise Incomparable("; ".join(problems))


def rows(v1: dict, v2: dict) -> list[Row]:
    """The issue's table (the measures evaluate.py makes), v1 and v2 side by side."""
    def ratio(r):
        f4, n4 = _get(r, "flash_4", "fd"), _get(r, "naive_4", "fd")
        return None if f4 is None or not n4 else f4 / n4

    def at_most(x, limit):
        return None if x is None else x <= limit

    def at_least(x, limit):
        return None if x is None else x >= limit

    out = []

    def add(name, get, target, met):
        a, b = get(v1), get(v2)
        out.append(Row(name, a, b, target, met(b)))
    add("seam ratio flash 4, worst grid", worst_seam, "≤ 1.15", lambda x: at_most(x, 1.15))
    add("variety ratio flash 4 (all prompts)", _variety, "≥ 0.6", lambda x: at_least(x, 0.6))
    add("FD flash 4", lambda r: _get(r, "flash_4", "fd"), "≤ 300", lambda x: at_most(x, 300))
    add("accuracy flash 4, in distribution", lambda r: _get(r, "flash_4", "accuracy"), "≥ 0.93",
        lambda x: at_least(x, 0.93))
    add("accuracy flash 4, held out", lambda r: _get(r, "flash_4", "accuracy_heldout"), "≥ 0.88",
        lambda x: at_least(x, 0.88))
    add("object position, flash 4", lambda r: _group(r, "flash_4", "position"), "≥ 0.85",
        lambda x: at_least(x, 0.85))
    add("named colour, flash 4", lambda r: _group(r, "flash_4", "colour"), "≥ 0.90",
        lambda x: at_least(x, 0.90))
    add("accuracy flash 1", lambda r: _get(r, "flash_1", "accuracy"), "≥ 0.85", lambda x: at_least(x, 0.85))
    add("FD flash 4 ÷ FD naive 4", ratio, "≤ 0.8", lambda x: at_most(x, 0.8))
    return out


def beats(v1: dict, v2: dict) -> dict[str, bool]:
    """Per measure of the shipping rule, whether v2 beats v1 (False where either lacks it)."""
    def both(x, y):
        return x is not None and y is not None

    s1, s2 = worst_seam(v1), worst_seam(v2)
    f1, f2 = _get(v1, "flash_4", "fd"), _get(v2, "flash_4", "fd")
    w1, w2 = _variety(v1), _variety(v2)
    a1, a2 = _get(v1, "flash_4", "accuracy"), _get(v2, "flash_4", "accuracy")
    h1, h2 = _get(v1, "flash_4", "accuracy_heldout"), _get(v2, "flash_4", "accuracy_heldout")
    return {
        "seams": both(s1, s2) and s2 < s1,
        "fd": both(f1, f2) and f2 < f1,
        "variety": both(w1, w2) and w2 > w1,
        "accuracy": both(a1, a2) and both(h1, h2) and a2 > a1 and h2 >= h1,
    }


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}" if abs(x) < 10 else f"{x:.0f}"


def report(v1: dict, v2: dict) -> str:
    """The table and the verdict, in Markdown."""
    lines = ["| measure | v1 | v2 | v2 target | v2 met |", "|---|---|---|---|---|"]
    for r in rows(v1, v2):
        met = "–" if r.met is None else ("yes" if r.met else "no")
        lines.append(f"| {r.name} | {_fmt(r.v1)} | {_fmt(r.v2)} | {r.target} | {met} |")
    b = beats(v1, v2)
    lost = [k for k, ok in b.items() if not ok]
    lines.append("")
    lines.append("v2 beats v1 on " + ", ".join(k for k, ok in b.items() if ok) if len(lost) < len(b)
                 else "v2 beats v1 on none of seams, FD, variety, accuracy")
    lines.append("verdict: ship v2 as the default" if not lost
                 else f"verdict: keep v1 (v2 does not beat it on {', '.join(lost)})")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("v1", help="evaluate.py result of v1")
    p.add_argument("v2", help="evaluate.py result of v2, same scenes, seeds and classifier")
    p.add_argument("--markdown", help="also write the report to this file")
    args = p.parse_args(argv)
    v1, v2 = (json.load(open(path)) for path in (args.v1, args.v2))
    try:
        check_comparable(v1, v2)
    except Incomparable as e:
        print(f"error: the two results are not comparable: {e}", file=sys.stderr)
        return 2
    text = report(v1, v2)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0 if all(beats(v1, v2).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
