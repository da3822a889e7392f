"""Scene sampling and captions from a small grammar.

Captions vary in order and wording but always determine the scene's attributes: they name the time
of day, the terrain, every sky feature that is present (one not named is absent) and every object
with its colour (when the kind has one) and position. `parse_caption` recovers the attributes
and is the executable statement of that rule.
"""
from __future__ import annotations

import re

import numpy as np

from .heldout import ObjectSpec, is_heldout
from .scene import (KIND_COLOURS, KINDS, NONE, POSITIONS, SKY_FLAGS, SKY_KINDS, TERRAINS, TIMES,
                    Scene, SceneObject, kind_allowed, sky_flag_allowed)

# ---------------------------------------------------------------------------------- sampling

OBJECT_COUNT_P = (0.2, 0.4, 0.4)   # P(0, 1, 2 objects)
SKY_P = {"clouds": 0.45, "sun": 0.75, "moon": 0.6, "stars": 0.7}


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def complete_scene(rng: np.random.Generator, time: str | None = None, terrain: str | None = None,
                   objects: tuple[ObjectSpec, ...] = (), sky: dict[str, bool] | None = None,
                   extra_object_p: float | None = None) -> Scene:
    """A valid scene with the given parts fixed and the rest drawn at random.

    With no `objects`, the number of objects follows OBJECT_COUNT_P; with some, one more random
    object is added with probability `extra_object_p` (when there is room).
    """
    sky = dict(sky or {})
    if time is None:
        required = [flag for flag, on in sky.items() if on]
        time = _pick(rng, [t for t in TIMES if all(sky_flag_allowed(fl, t) for fl in required)])
    if terrain is None:
        options = [t for t in TERRAINS if all(kind_allowed(s.kind, t) for s in objects)]
        terrain = _pick(rng, options)
    # Fixed positions first, then the free ones, so that specs never collide.
    free = [p for p in POSITIONS if p not in {s.position for s in objects if s.position}]
    chosen: list[SceneObject] = []
    for spec in sorted(objects, key=lambda s: s.position is None):
        colours = KIND_COLOURS[spec.kind]
        colour = spec.colour if spec.colour is not None else (_pick(rng, colours) if colours else None)
        if spec.position is not None:
            position = spec.position
        else:
            position = free.pop(int(rng.integers(len(free))))
        chosen.append(SceneObject(spec.kind, colour, position))
    if objects:
        n_extra = int(extra_object_p is not None and len(chosen) < 2 and rng.random() < extra_object_p)
    else:
        n_extra = int(rng.choice(3, p=OBJECT_COUNT_P))
    for _ in range(n_extra):
        kinds = [k for k in KINDS if kind_allowed(k, terrain) and k not in {o.kind for o in chosen}]
        kind = _pick(rng, kinds)
        colours = KIND_COLOURS[kind]
        colour = _pick(rng, colours) if colours else None
        position = free.pop(int(rng.integers(len(free))))
        chosen.append(SceneObject(kind, colour, position))
    chosen.sort(key=lambda o: POSITIONS.index(o.position))
    flags = {}
    for flag in SKY_FLAGS:
        p = SKY_P[flag] if not (flag == "stars" and time == "dusk") else 0.5
        drawn = bool(rng.random() < p)   # always drawn, so the stream does not depend on time
        flags[flag] = sky.get(flag, drawn) and sky_flag_allowed(flag, time)
    return Scene(time=time, terrain=terrain, objects=tuple(chosen), **flags)


def sample_scene(rng: np.random.Generator, allow_heldout: bool = False) -> Scene:
    """One random scene; held-out combinations are rejected unless allow_heldout."""
    while True:
        scene = complete_scene(rng)
        if allow_heldout or not is_heldout(scene):
            return scene


# ---------------------------------------------------------------------------------- captions

TIME_PP = {  # "... at dawn"
    "dawn": ("at dawn", "at sunrise", "at daybreak", "at first light"),
    "morning": ("in the morning", "on a fresh morning", "on a bright morning", "in morning light"),
    "noon": ("at noon", "at midday", "at high noon"),
    "golden_hour": ("at golden hour", "in the golden hour", "in golden-hour light"),
    "sunset": ("at sunset", "at sundown", "during sunset"),
    "dusk": ("at dusk", "at twilight", "in the twilight"),
    "night": ("at night", "at midnight", "in the night", "on a dark night"),
}
TIME_NP = {  # "dawn over the sea"
    "dawn": ("dawn", "sunrise", "daybreak"),
    "morning": ("morning", "a fresh morning", "a bright morning"),
    "noon": ("noon", "midday", "high noon"),
    "golden_hour": ("golden hour", "the golden hour"),
    "sunset": ("sunset", "a beautiful sunset", "a fiery sunset"),
    "dusk": ("dusk", "twilight"),
    "night": ("night", "a quiet night", "a calm night", "a dark night"),
}
TERRAIN_NP = {
    "mountains": ("mountains", "the mountains", "peaks", "rocky peaks", "a mountain range"),
    "snowy_mountains": ("snowy mountains", "snowy peaks", "snow-capped mountains",
                        "snow-capped peaks", "a snowy mountain range"),
    "hills": ("hills", "rolling hills", "green hills", "the hills"),
    "desert": ("desert dunes", "sand dunes", "the dunes", "the desert", "a sandy desert"),
    "sea": ("the sea", "the ocean", "a calm sea", "the open sea"),
    "lake": ("a lake", "a calm lake", "a still lake", "the lake"),
    "forest": ("a forest", "a pine forest", "the woods", "a quiet forest"),
    "city": ("a city skyline", "the city skyline", "the city", "a skyline"),
}
NOUNS = {
    "house": ("house", "cottage", "cabin", "little house"),
    "lighthouse": ("lighthouse", "tall lighthouse"),
    "sailboat": ("sailboat", "sailing boat", "small sailboat"),
    "tree": ("tree", "lone tree"),
    "balloon": ("hot-air balloon", "hot air balloon", "balloon"),
    "birds": ("birds", "a flock of birds", "a few birds"),
}
VERBS = {
    "house": ("", "", "standing"), "lighthouse": ("", "", "standing"),
    "sailboat": ("", "sailing", "drifting"), "tree": ("", "standing", "growing"),
    "balloon": ("", "floating", "drifting", "rising"), "birds": ("", "flying", "soaring"),
}
POSITION_PP = {
    "left": ("on the left", "to the left", "at the left", "on the left side"),
    "centre": ("in the centre", "in the center", "in the middle", "at the centre"),
    "right": ("on the right", "to the right", "at the right", "on the right side"),
}
SKY_NP = {
    "clouds": ("clouds", "scattered clouds", "a few clouds", "soft clouds", "a cloudy sky"),
    "sun": ("the sun", "a bright sun", "a glowing sun"),
    "moon": ("the moon", "a pale moon", "a bright moon"),
    "stars": ("stars", "a starry sky", "twinkling stars", "many stars"),
}
CLEAR_SKY = ("a clear sky", "a cloudless sky", "clear skies")


def _article(words: str) -> str:
    return ("an " if words[0] in "aeiou" else "a ") + words


def _object_phrase(o: SceneObject, rng: np.random.Generator) -> str:
    noun = _pick(rng, NOUNS[o.kind])
    if o.kind == "birds":
        np_ = noun
    elif o.kind == "sailboat" and rng.random() < 0.3:
        np_ = _article(noun) + f" with {_article(o.colour)} sail"
    elif o.kind == "lighthouse" and o.colour != "white" and rng.random() < 0.3:
        np_ = _article(noun) + f" with {o.colour} stripes"
    else:
        words = noun.split(" ", 1)
        if len(words) == 2 and words[0] in ("little", "tall", "small", "lone"):
            np_ = _article(f"{words[0]} {o.colour} {words[1]}")   # "a little red house"
        else:
            np_ = _article(f"{o.colour} {noun}")
    verb = _pick(rng, VERBS[o.kind])
    return " ".join(w for w in (np_, verb, _pick(rng, POSITION_PP[o.position])) if w)


def _sky_clause(scene: Scene, rng: np.random.Generator) -> str:
    parts = [_pick(rng, SKY_NP[f]) for f in SKY_FLAGS if getattr(scene, f)]
    if not scene.clouds and rng.random() < 0.25:
        parts.insert(0, _pick(rng, CLEAR_SKY))
    if not parts:
        return ""
    order = rng.permutation(len(parts))
    parts = [parts[i] for i in order]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return _pick(rng, ("with ", "under ", ", with ")) + listed


def _join(*pieces: str) -> str:
    text = " ".join(p.strip() for p in pieces if p and p.strip())
    return re.sub(r"\s+,", ",", text)


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """One wording of the scene (draws from rng; call again for another wording)."""
    objs = [_object_phrase(o, rng) for o in scene.objects]
    objs = [objs[i] for i in rng.permutation(len(objs))]
    obj_list = " and ".join(objs)
    terrain = _pick(rng, TERRAIN_NP[scene.terrain])
    sky = _sky_clause(scene, rng)
    frames = ["terrain_first", "time_first", "list"] + (["objects_first"] * 2 if objs else [])
    frame = _pick(rng, frames)
    if frame == "terrain_first":       # "snowy peaks at dusk with a red balloon on the left"
        adj = _pick(rng, ("", "", "a beautiful view of", "a peaceful scene of", "a view of"))
        joiner = _pick(rng, (", with ", " and ", ", ")) if sky else "with "
        text = _join(adj, terrain, _pick(rng, TIME_PP[scene.time]), sky,
                     (joiner + obj_list) if objs else "")
    elif frame == "time_first":        # "A beautiful sunset over mountains, with clouds"
        text = _join(_pick(rng, TIME_NP[scene.time]), "over", terrain, sky,
                     (_pick(rng, (", with ", ", ", " and ")) + obj_list) if objs else "")
    elif frame == "objects_first":     # "a red hot-air balloon on the left above desert dunes at night"
        if all(o.kind in SKY_KINDS for o in scene.objects):
            rel = _pick(rng, ("above", "over"))
        elif any(o.kind == "sailboat" for o in scene.objects):
            rel = "on"
        else:
            rel = _pick(rng, ("near", "by", "in front of", "with"))
        text = _join(obj_list, rel, terrain, _pick(rng, TIME_PP[scene.time]), sky)
    else:                              # "a lighthouse on the right, golden hour, calm sea"
        items = [_pick(rng, TIME_NP[scene.time]), terrain] + objs
        if sky:
            items.append(sky.lstrip(", ").removeprefix("with ").removeprefix("under "))
        items = [items[i] for i in rng.permutation(len(items))]
        text = ", ".join(items)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.3:
        text += "."
    return text


# ---------------------------------------------------------------------------------- parsing

_TIME_WORDS = [  # (phrase, time), longest first where they overlap
    ("golden hour", "golden_hour"), ("first light", "dawn"), ("dawn", "dawn"),
    ("sunrise", "dawn"), ("daybreak", "dawn"), ("morning", "morning"), ("noon", "noon"),
    ("midday", "noon"), ("sunset", "sunset"), ("sundown", "sunset"), ("dusk", "dusk"),
    ("twilight", "dusk"), ("midnight", "night"), ("night", "night"),
]
_TERRAIN_WORDS = [
    ("snowy", "snowy_mountains"), ("snow capped", "snowy_mountains"), ("mountains", "mountains"),
    ("mountain", "mountains"), ("peaks", "mountains"), ("hills", "hills"), ("dunes", "desert"),
    ("desert", "desert"), ("sea", "sea"), ("ocean", "sea"), ("lake", "lake"), ("forest", "forest"),
    ("woods", "forest"), ("skyline", "city"), ("city", "city"),
]
_NOUN_WORDS = [  # (phrase, kind); a phrase's first word is where its colour is looked for
    ("hot air balloon", "balloon"), ("balloon", "balloon"), ("lighthouse", "lighthouse"),
    ("sailing boat", "sailboat"), ("sailboat", "sailboat"), ("house", "house"),
    ("cottage", "house"), ("cabin", "house"), ("tree", "tree"), ("birds", "birds"),
]
_SKY_WORDS = {"clouds": "clouds", "cloudy": "clouds", "sun": "sun", "moon": "moon",
              "stars": "stars", "starry": "stars"}
_POSITION_WORDS = {"left": "left", "right": "right", "centre": "centre", "center": "centre",
                   "middle": "centre"}
_MODIFIERS = ("little", "tall", "small", "lone")


def _tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z ]", " ", text.lower().replace("-", " ")).split()


def _find(tokens: list[str], phrase: str) -> list[int]:
    words = phrase.split()
    return [i for i in range(len(tokens) - len(words) + 1) if tokens[i:i + len(words)] == words]


def _first(tokens: list[str], table) -> str | None:
    hits = [(i, value) for phrase, value in table for i in _find(tokens, phrase)]
    return min(hits)[1] if hits else None


def parse_caption(text: str) -> dict[str, str | bool]:
    """The attributes a caption states (same schema as Scene.attributes)."""
    tokens = _tokens(text)
    # Terrain first: "snowy" wins over the "mountains" after it; ties resolve by table order.
    terrain = None
    for phrase, value in _TERRAIN_WORDS:
        if _find(tokens, phrase):
            terrain = value
            break
    attrs: dict[str, str | bool] = {"time_of_day": _first(tokens, _TIME_WORDS) or NONE,
                                    "terrain": terrain or NONE}
    for flag in SKY_FLAGS:
        attrs[flag] = any(_SKY_WORDS.get(t) == flag for t in tokens)
    # Object mentions: (start, end, kind), non-overlapping, in order.
    taken: set[int] = set()
    mentions = []
    for phrase, kind in _NOUN_WORDS:
        n = len(phrase.split())
        for i in _find(tokens, phrase):
            if not taken & set(range(i, i + n)):
                taken |= set(range(i, i + n))
                mentions.append((i, i + n, kind))
    mentions.sort()
    for kind in KINDS:
        attrs[kind] = False
        attrs[f"{kind}_position"] = NONE
        if KIND_COLOURS[kind]:
            attrs[f"{kind}_colour"] = NONE
    for m, (start, end, kind) in enumerate(mentions):
        stop = mentions[m + 1][0] if m + 1 < len(mentions) else len(tokens)
        attrs[kind] = True
        for t in tokens[end:stop]:
            if t in _POSITION_WORDS:
                attrs[f"{kind}_position"] = _POSITION_WORDS[t]
                break
        if KIND_COLOURS[kind]:
            before = tokens[start - 1] if start > 0 else ""
            after = tokens[end:end + 4]   # "with a red sail", "with red stripes"
            colour = None
            if before in KIND_COLOURS[kind]:
                colour = before
            elif after[:1] == ["with"]:
                rest = [w for w in after[1:] if w not in ("a", "an")]
                if rest and rest[0] in KIND_COLOURS[kind]:
                    colour = rest[0]
            attrs[f"{kind}_colour"] = colour or NONE
    return attrs
