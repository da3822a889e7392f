"""Where the v2 training keeps its state by default.

Checkpoints, the render cache and the encoded latents live outside the repository's checkout,
under $STROBE_TRAINING_DIR, else $XDG_DATA_HOME/strobe/training (~/.local/share/strobe/training):
a fresh clone of the repository (or a checkout that is replaced) then resumes the same run
instead of starting over, and nothing large sits in the working tree.
"""
from __future__ import annotations

import os


def training_dir(*parts: str) -> str:
    """The training state folder, or a path inside it."""
    base = os.environ.get("STROBE_TRAINING_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"), "strobe", "training")
    return os.path.join(base, *parts)
