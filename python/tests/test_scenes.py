"""Tests of the procedural scene grammar and renderer (run: python -m pytest python/tests)."""
from __future__ import annotations

import struct
import zlib
from collections import defaultdict

import numpy as np
import pytest

from strobe_training.scenes import (ASPECT_SIZES, ATTRIBUTE_VALUES, HELDOUT, Scene, SceneObject, caption,
                                    complete_scene, heldout_scenes, is_heldout, parse_caption, render,
                                    render_with_masks, render_with_object_mask, sample_scene)
from strobe_training.scenes.png import png_bytes, to_uint8

N_DRAWS = 10_000


@pytest.fixture(scope="module")
def draws() -> list[Scene]:
    rng = np.random.default_rng(1234)
    return [sample_scene(rng) for _ in range(N_DRAWS)]


def test_aspect_sizes_table():
    assert len(ASPECT_SIZES) == 9
    for name, (w, h) in ASPECT_SIZES.items():
        rw, rh = (int(v) for v in name.split(":"))
        assert w % 16 == 0 and h % 16 == 0, name
        assert abs(w * h / 256 ** 2 - 1) < 0.07, (name, w * h)
        assert abs((w / h) / (rw / rh) - 1) < 0.1, (name, w / h)


def test_render_is_deterministic():
    scene = sample_scene(np.random.default_rng(3))
    a = render(scene, 256, 256, seed=7)
    b = render(scene, 256, 256, seed=7)
    c = render(scene, 256, 256, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("aspect", sorted(ASPECT_SIZES))
def test_all_sizes_render(aspect):
    w, h = ASPECT_SIZES[aspect]
    rng = np.random.default_rng(11)
    for i in range(4):
        img = render(sample_scene(rng), w, h, seed=i)
        assert img.shape == (3, h, w) and img.dtype == np.float32
        assert np.isfinite(img).all() and img.min() >= 0.0 and img.max() <= 1.0
        assert img.std() > 0.03, "image looks flat"


def test_every_terrain_time_and_object_renders():
    """A corner-case sweep: each terrain at each time, with each object kind somewhere."""
    rng = np.random.default_rng(5)
    for s in [complete_scene(rng, time=t, terrain=tr) for t in ATTRIBUTE_VALUES["time_of_day"]
              for tr in ATTRIBUTE_VALUES["terrain"]]:
        img = render(s, 160, 384, seed=1)
        assert img.min() >= 0.0 and img.max() <= 1.0


def test_captions_determine_attributes(draws):
    rng = np.random.default_rng(99)
    for scene in draws[:3000]:
        for _ in range(2):
            text = caption(scene, rng)
            assert parse_caption(text) == scene.attributes(), text


def test_caption_mentions_objects_with_colour_and_position():
    scene = Scene(time="night", terrain="desert", moon=True,
                  objects=(SceneObject("balloon", "red", "left"), SceneObject("birds", None, "right")))
    rng = np.random.default_rng(0)
    texts = {caption(scene, rng) for _ in range(50)}
    assert len(texts) > 30, "captions should vary"
    for text in texts:
        low = text.lower()
        assert "night" in low and ("desert" in low or "dunes" in low) and "moon" in low
        assert "red" in low and "balloon" in low and "left" in low and "birds" in low


def test_heldout_never_sampled(draws):
    assert not any(is_heldout(s) for s in draws)


def test_every_attribute_value_occurs(draws):
    seen = defaultdict(set)
    for s in draws:
        for k, v in s.attributes().items():
            seen[k].add(v)
    for key, values in ATTRIBUTE_VALUES.items():
        assert set(values) == seen[key], (key, set(values) - seen[key])


def test_attribute_schema(draws):
    for s in draws[:500]:
        attrs = s.attributes()
        assert list(attrs) == list(ATTRIBUTE_VALUES)
        for k, v in attrs.items():
            assert v in ATTRIBUTE_VALUES[k], (k, v)


def test_heldout_scenes():
    assert len(HELDOUT) >= 8
    pairs = heldout_scenes(seed=0, per_combination=3)
    assert len(pairs) == 3 * len(HELDOUT)
    for h, scene in pairs:
        assert h.matches(scene) and is_heldout(scene)
    assert [s for _, s in heldout_scenes(0, 3)] == [s for _, s in pairs]
    # Every combination is also reachable through the grammar when allowed.
    rng = np.random.default_rng(0)
    assert any(is_heldout(sample_scene(rng, allow_heldout=True)) for _ in range(2000))


@pytest.mark.parametrize("kwargs", [
    dict(time="noon", terrain="desert", objects=(SceneObject("sailboat", "red", "left"),)),
    dict(time="noon", terrain="sea", moon=True),
    dict(time="night", terrain="sea", sun=True),
    dict(time="dawn", terrain="hills", stars=True),
    dict(time="noon", terrain="hills", objects=(SceneObject("house", "red", "left"),
                                                SceneObject("tree", "green", "left"))),
    dict(time="noon", terrain="hills", objects=(SceneObject("house", "red", "left"),
                                                SceneObject("house", "blue", "right"))),
    dict(time="noon", terrain="volcano"),
])
def test_invalid_scenes_rejected(kwargs):
    with pytest.raises(ValueError):
        Scene(**kwargs)


@pytest.mark.parametrize("kind,colour", [("birds", "red"), ("house", "purple"), ("tree", None)])
def test_invalid_object_colour_rejected(kind, colour):
    with pytest.raises(ValueError):
        SceneObject(kind, colour, "left")


def test_objects_change_their_third():
    """An object changes pixels mostly in its own third of the width."""
    base = Scene(time="noon", terrain="hills")
    for position, col in (("left", 0), ("centre", 1), ("right", 2)):
        with_house = Scene(time="noon", terrain="hills",
                           objects=(SceneObject("lighthouse", "red", position),))
        diff = np.abs(render(with_house, 288, 224, 3) - render(base, 288, 224, 3)).sum(axis=(0, 1))
        thirds = [diff[i * 96:(i + 1) * 96].sum() for i in range(3)]
        assert int(np.argmax(thirds)) == col and thirds[col] > 0.8 * sum(thirds), thirds


def test_object_mask_covers_what_the_objects_drew():
    """The mask lies in the objects' thirds, the image is `render`'s, masked pixels differ from
    the object-free render far more than the rest (which differs a little: the sun avoids
    objects), and a scene without objects has an empty mask."""
    base = Scene(time="dusk", terrain="lake")
    scene = Scene(time="dusk", terrain="lake", objects=(SceneObject("sailboat", "red", "left"),
                                                        SceneObject("balloon", "blue", "right")))
    image, mask = render_with_object_mask(scene, 288, 224, 5)
    assert mask.shape == (224, 288) and mask.dtype == bool
    np.testing.assert_array_equal(image, render(scene, 288, 224, 5))
    assert 0.005 < mask.mean() < 0.15
    assert mask[:, :96].any() and mask[:, 192:].any() and not mask[:, 96:192].any()
    change = np.abs(image - render(base, 288, 224, 5)).max(axis=0)
    assert change[mask].mean() > 10 * change[~mask].mean()
    assert not render_with_object_mask(base, 288, 224, 5)[1].any()


def test_sky_body_mask_covers_the_sun_moon_and_stars():
    """The body mask is `render`'s image with the object mask beside it, it marks the sun's disc
    and glow core (pixels that differ from the sunless render), the moon's and the stars', and it
    is empty for a sky without them."""
    scene = Scene(time="noon", terrain="hills", sun=True, objects=(SceneObject("tree", "green", "left"),))
    image, objects, bodies = render_with_masks(scene, 256, 256, 3)
    np.testing.assert_array_equal(image, render(scene, 256, 256, 3))
    np.testing.assert_array_equal(objects, render_with_object_mask(scene, 256, 256, 3)[1])
    assert bodies.shape == (256, 256) and bodies.dtype == bool and 0.005 < bodies.mean() < 0.2
    sunless = render(Scene(time="noon", terrain="hills", objects=scene.objects), 256, 256, 3)
    change = np.abs(image - sunless).max(axis=0)
    assert change[bodies].mean() > 5 * change[~bodies & ~objects].mean()   # the rest: the faint halo
    night = Scene(time="night", terrain="sea", moon=True, stars=True)
    assert render_with_masks(night, 256, 256, 4)[2].mean() > 0.005
    assert not render_with_masks(Scene(time="noon", terrain="hills"), 256, 256, 3)[2].any()


def test_night_darker_than_noon():
    rng = np.random.default_rng(2)
    for terrain in ATTRIBUTE_VALUES["terrain"]:
        night = render(complete_scene(rng, time="night", terrain=terrain), 256, 256, 0).mean()
        noon = render(complete_scene(rng, time="noon", terrain=terrain), 256, 256, 0).mean()
        assert night < 0.5 * noon, (terrain, night, noon)


def test_png_writer_roundtrip():
    img = render(sample_scene(np.random.default_rng(4)), 48, 32, 0)
    rgb = to_uint8(img)
    data = png_bytes(rgb)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert (w, h) == (48, 32)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, 1 + 3 * w)
    assert (raw[:, 0] == 0).all()
    assert np.array_equal(raw[:, 1:].reshape(h, w, 3), rgb)


def test_every_object_renders_finite_pixels_at_every_size():
    """Regression: float32 cos(π/2) is slightly negative, and a fractional power of it was NaN."""
    rng = np.random.default_rng(3)
    for i in range(300):
        scene = sample_scene(rng)
        width, height = ASPECT_SIZES[sorted(ASPECT_SIZES)[i % len(ASPECT_SIZES)]]
        image = render(scene, width, height, i)
        assert np.isfinite(image).all(), (scene, width, height)
