"""Attribute combinations held out of training, to test compositional generalisation.

`sample_scene` never returns a scene that matches one of these; `heldout_scenes` builds scenes that
do, for evaluation. Every single attribute value in a combination still occurs in training; only
the combination is new.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scene import Scene


@dataclass(frozen=True)
class ObjectSpec:
    kind: str
    colour: str | None = None     # None: any colour
    position: str | None = None   # None: any position

    def matches(self, scene: Scene) -> bool:
        o = scene.object(self.kind)
        return (o is not None and (self.colour is None or o.colour == self.colour)
                and (self.position is None or o.position == self.position))


@dataclass(frozen=True)
class HeldOut:
    name: str
    time: str | None = None
    terrain: str | None = None
    objects: tuple[ObjectSpec, ...] = ()
    sky: tuple[tuple[str, bool], ...] = ()   # (flag, value) pairs

    def matches(self, scene: Scene) -> bool:
        return ((self.time is None or scene.time == self.time)
                and (self.terrain is None or scene.terrain == self.terrain)
                and all(spec.matches(scene) for spec in self.objects)
                and all(getattr(scene, flag) == value for flag, value in self.sky))


HELDOUT: tuple[HeldOut, ...] = (
    HeldOut("lighthouse in the desert", terrain="desert", objects=(ObjectSpec("lighthouse"),)),
    HeldOut("red balloon at night over snowy mountains", time="night", terrain="snowy_mountains",
            objects=(ObjectSpec("balloon", "red"),)),
    HeldOut("purple sailboat on a lake at dawn", time="dawn", terrain="lake",
            objects=(ObjectSpec("sailboat", "purple"),)),
    HeldOut("yellow balloon on the left over the city at golden hour", time="golden_hour",
            terrain="city", objects=(ObjectSpec("balloon", "yellow", "left"),)),
    HeldOut("orange tree in snowy mountains", terrain="snowy_mountains",
            objects=(ObjectSpec("tree", "orange"),)),
    HeldOut("black lighthouse by a forest", terrain="forest",
            objects=(ObjectSpec("lighthouse", "black"),)),
    HeldOut("house on the right in the desert at dusk", time="dusk", terrain="desert",
            objects=(ObjectSpec("house", position="right"),)),
    HeldOut("birds over the sea at night", time="night", terrain="sea",
            objects=(ObjectSpec("birds"),)),
    HeldOut("green sailboat on the sea at sunset", time="sunset", terrain="sea",
            objects=(ObjectSpec("sailboat", "green"),)),
    HeldOut("blue house and a balloon over hills", terrain="hills",
            objects=(ObjectSpec("house", "blue"), ObjectSpec("balloon"))),
    HeldOut("stars over the desert", terrain="desert", sky=(("stars", True),)),
    HeldOut("sailboat on the left and lighthouse on the right",
            objects=(ObjectSpec("sailboat", position="left"),
                     ObjectSpec("lighthouse", position="right"))),
)


def is_heldout(scene: Scene) -> bool:
    return any(h.matches(scene) for h in HELDOUT)


def heldout_scenes(seed: int = 0, per_combination: int = 1) -> list[tuple[HeldOut, Scene]]:
    """Scenes matching each held-out combination (the rest of the scene drawn at random).

    Deterministic in (seed, per_combination); ordered by combination, then draw.
    """
    from .grammar import complete_scene  # grammar imports this module

    rng = np.random.default_rng(seed)
    out: list[tuple[HeldOut, Scene]] = []
    for h in HELDOUT:
        for _ in range(per_combination):
            scene = complete_scene(rng, time=h.time, terrain=h.terrain, objects=h.objects,
                                   sky=dict(h.sky), extra_object_p=0.3)
            assert h.matches(scene), (h, scene)
            out.append((h, scene))
    return out
