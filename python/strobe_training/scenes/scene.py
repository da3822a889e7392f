"""The scene value: vocabulary, validity rules and the discrete attributes classifiers learn.

A scene has a time of day, sky flags (clouds, sun, moon, stars), one terrain and 0-2 objects of
distinct kinds at distinct positions (left / centre / right thirds of the width), each with a
colour where the kind has one (birds have none).
"""
from __future__ import annotations

from dataclasses import dataclass

TIMES = ("dawn", "morning", "noon", "golden_hour", "sunset", "dusk", "night")
TERRAINS = ("mountains", "snowy_mountains", "hills", "desert", "sea", "lake", "forest", "city")
KINDS = ("house", "lighthouse", "sailboat", "tree", "balloon", "birds")
POSITIONS = ("left", "centre", "right")
COLOURS = ("red", "blue", "yellow", "white", "green", "orange", "purple", "black")
SKY_FLAGS = ("clouds", "sun", "moon", "stars")

# Colours each kind can take (an empty tuple: the kind has no colour).
KIND_COLOURS: dict[str, tuple[str, ...]] = {
    "house": ("red", "blue", "yellow", "white", "green"),
    "lighthouse": ("red", "blue", "white", "black"),
    "sailboat": COLOURS,
    "tree": ("green", "orange", "yellow", "red"),
    "balloon": ("red", "blue", "yellow", "white", "green", "orange", "purple"),
    "birds": (),
}
WATER_TERRAINS = ("sea", "lake")
SKY_KINDS = ("balloon", "birds")          # drawn in the sky, any terrain
SUN_TIMES = ("dawn", "morning", "noon", "golden_hour", "sunset")
NIGHT_SKY_TIMES = ("dusk", "night")       # moon and stars only then

MAX_OBJECTS = 2
NONE = "none"  # attribute value of an absent object's position / colour


def kind_allowed(kind: str, terrain: str) -> bool:
    """Sailboats only on water; every other kind goes anywhere."""
    return kind != "sailboat" or terrain in WATER_TERRAINS


def sky_flag_allowed(flag: str, time: str) -> bool:
    if flag == "sun":
        return time in SUN_TIMES
    if flag in ("moon", "stars"):
        return time in NIGHT_SKY_TIMES
    return True  # clouds


@dataclass(frozen=True)
class SceneObject:
    kind: str
    colour: str | None
    position: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown object kind {self.kind!r}; expected one of {KINDS}")
        if self.position not in POSITIONS:
            raise ValueError(f"unknown position {self.position!r}; expected one of {POSITIONS}")
        allowed = KIND_COLOURS[self.kind]
        if allowed and self.colour not in allowed:
            raise ValueError(f"{self.kind} colour {self.colour!r} not in {allowed}")
        if not allowed and self.colour is not None:
            raise ValueError(f"{self.kind} has no colour, got {self.colour!r}")


@dataclass(frozen=True)
class Scene:
    time: str
    terrain: str
    objects: tuple[SceneObject, ...] = ()
    clouds: bool = False
    sun: bool = False
    moon: bool = False
    stars: bool = False

    def __post_init__(self) -> None:
        if self.time not in TIMES:
            raise ValueError(f"unknown time of day {self.time!r}; expected one of {TIMES}")
        if self.terrain not in TERRAINS:
            raise ValueError(f"unknown terrain {self.terrain!r}; expected one of {TERRAINS}")
        object.__setattr__(self, "objects", tuple(self.objects))
        if len(self.objects) > MAX_OBJECTS:
            raise ValueError(f"at most {MAX_OBJECTS} objects, got {len(self.objects)}")
        kinds = [o.kind for o in self.objects]
        positions = [o.position for o in self.objects]
        if len(set(kinds)) != len(kinds) or len(set(positions)) != len(positions):
            raise ValueError(f"objects need distinct kinds and positions, got {self.objects}")
        for o in self.objects:
            if not kind_allowed(o.kind, self.terrain):
                raise ValueError(f"{o.kind} not allowed on terrain {self.terrain!r}")
        for flag in SKY_FLAGS:
            if getattr(self, flag) and not sky_flag_allowed(flag, self.time):
                raise ValueError(f"sky flag {flag!r} not allowed at time {self.time!r}")

    def object(self, kind: str) -> SceneObject | None:
        for o in self.objects:
            if o.kind == kind:
                return o
        return None

    def attributes(self) -> dict[str, str | bool]:
        """Discrete labels; keys and values as in ATTRIBUTE_VALUES."""
        attrs: dict[str, str | bool] = {"time_of_day": self.time, "terrain": self.terrain}
        for flag in SKY_FLAGS:
            attrs[flag] = bool(getattr(self, flag))
        for kind in KINDS:
            o = self.object(kind)
            attrs[kind] = o is not None
            attrs[f"{kind}_position"] = o.position if o else NONE
            if KIND_COLOURS[kind]:
                attrs[f"{kind}_colour"] = (o.colour if o else NONE)  # type: ignore[assignment]
        return attrs


def _attribute_values() -> dict[str, tuple]:
    values: dict[str, tuple] = {"time_of_day": TIMES, "terrain": TERRAINS}
    for flag in SKY_FLAGS:
        values[flag] = (False, True)
    for kind in KINDS:
        values[kind] = (False, True)
        values[f"{kind}_position"] = (NONE,) + POSITIONS
        if KIND_COLOURS[kind]:
            values[f"{kind}_colour"] = (NONE,) + KIND_COLOURS[kind]
    return values


# Every attribute key -> its possible values, in a fixed order (class indices for classifiers).
ATTRIBUTE_VALUES: dict[str, tuple] = _attribute_values()
