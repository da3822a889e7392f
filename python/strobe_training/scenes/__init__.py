"""Procedural landscape scenes with captions: the training data of Strobe's default model.

    scene = sample_scene(rng)                  # a random Scene (held-out combinations excluded)
    text = caption(scene, rng)                 # one of many wordings
    image = render(scene, width, height, seed) # float32 [3, H, W] in [0, 1]
    image, mask = render_with_object_mask(scene, width, height, seed)  # + bool [H, W]
    image, objects, bodies = render_with_masks(scene, width, height, seed)  # + sun/moon/stars [H, W]
    scene.attributes()                         # discrete labels for classifiers
"""
from .grammar import caption, complete_scene, parse_caption, sample_scene
from .heldout import HELDOUT, HeldOut, ObjectSpec, heldout_scenes, is_heldout
from .render import render, render_with_masks, render_with_object_mask
from .scene import (ATTRIBUTE_VALUES, COLOURS, KIND_COLOURS, KINDS, POSITIONS, SKY_FLAGS, TERRAINS,
                    TIMES, Scene, SceneObject)
from .sizes import ASPECT_SIZES

__all__ = [
    "ASPECT_SIZES", "ATTRIBUTE_VALUES", "COLOURS", "HELDOUT", "HeldOut", "KIND_COLOURS", "KINDS",
    "ObjectSpec", "POSITIONS", "SKY_FLAGS", "Scene", "SceneObject", "TERRAINS", "TIMES", "caption",
    "complete_scene", "heldout_scenes", "is_heldout", "parse_caption", "render", "render_with_masks", "render_with_object_mask", "sample_scene",
]
