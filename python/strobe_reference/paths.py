"""Where the Strobe repository checkout is, for the code that reads or writes its files
(Models/, Tests/StrobeTests/Fixtures/, FuzzTesting/corpus/, Benchmarks/results/, .build/).

Installed in editable mode from a checkout (`pip install -e python` at the repository root), the
packages stay in `python/` and the repository root is `python/..`. Installed as a copy
(`pip install python`), they find the checkout only when run from inside it: the current
directory or a folder above it.
"""
from __future__ import annotations

import os


def is_checkout(path: str) -> bool:
    """Whether `path` is the root of a Strobe checkout (its Swift package and this Python project)."""
    return (os.path.isfile(os.path.join(path, "Package.swift"))
            and os.path.isfile(os.path.join(path, "python", "pyproject.toml")))


def find_repository_root() -> str | None:
    """The checkout these packages were installed from, else the one holding the current
    directory, else None."""
    package = os.path.dirname(os.path.abspath(__file__))  # python/strobe_reference
    candidates = [os.path.dirname(os.path.dirname(package))]
    folder = os.path.abspath(os.getcwd())
    while True:
        candidates.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for candidate in candidates:
        if is_checkout(candidate):
            return candidate
    return None


def repository_root(needed_by: str | None = None) -> str:
    """The repository root; stops with a message when there is no checkout. `needed_by` says who
    needs it and for what, e.g. "strobe_tools.make_png_fixtures (writes Tests/StrobeTests/Fixtures/png/)"."""
    root = find_repository_root()
    if root is None:
        who = needed_by or "this command"
        raise SystemExit(
            f"{who} is meant to be run from a Strobe checkout, and none was found (looked beside the "
            f"installed package, {os.path.dirname(os.path.abspath(__file__))}, and in {os.getcwd()} and "
            "the folders above it). Install the Python packages from the checkout with "
            "`pip install -e python` at its root, or run this from inside the checkout.")
    return root


def repository_path(*parts: str, needed_by: str | None = None) -> str:
    """A path inside the repository, e.g. repository_path("Models", "strobe-scenes.safetensors")."""
    return os.path.join(repository_root(needed_by), *parts)
