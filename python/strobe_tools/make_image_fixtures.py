"""Makes the input-image fixtures under Tests/StrobeTests/Fixtures/images/ (PNG and JPEG files
users bring to `strobe edit` and `strobe reframe`), with Pillow:

    python -m strobe_tools.make_image_fixtures

Every JPEG encodes the same 24x16 pattern (`pattern.png`, lossless), so the Swift tests compare
each decoding with it within JPEG's error; `exif6.jpg` stores the pattern turned 90 degrees
anticlockwise with EXIF orientation 6, which turns it upright again. `cmyk.jpg` holds the
pattern's exact CMYK complement (K = 0, Adobe's inverted storage). `truncated.jpg` is
`baseline.jpg` cut in half; `huge-header.jpg` is `baseline.jpg` with its frame header claiming
50,000 x 50,000 pixels. The PNGs carry alpha three ways (RGBA, grey + alpha, a palette with
tRNS); `mask-alpha.png` (transparent square on opaque black, OpenAI's convention) and
`mask-white.png` (white square on black) mark the same square of a 24x16 image, and so does
`mask-white-rgba.png`, the white-on-black mask saved as RGBA with alpha 255 everywhere.
"""
from __future__ import annotations

import argparse
import io
import os

import numpy as np
from PIL import Image

from strobe_reference.paths import repository_root

WIDTH, HEIGHT = 24, 16
SQUARE = (slice(4, 12), slice(10, 18))  # rows, columns


def pattern() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    r = 40 + 8 * x
    g = 30 + 12 * y
    b = 200 - 4 * x - 3 * y
    return np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8)


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    folder = os.path.join(repository_root(), "Tests", "StrobeTests", "Fixtures", "images")
    os.makedirs(folder, exist_ok=True)
    rgb = Image.fromarray(pattern())
    files: dict[str, bytes] = {"pattern.png": png(rgb)}
    files["baseline.jpg"] = jpeg(rgb)
    files["progressive.jpg"] = jpeg(rgb, progressive=True)
    files["grey.jpg"] = jpeg(rgb.convert("L"))
    files["grey.png"] = png(rgb.convert("L"))  # the grey pattern, lossless
    files["cmyk.jpg"] = jpeg(Image.frombytes("CMYK", (WIDTH, HEIGHT), np.concatenate([255 - pattern(), np.zeros((HEIGHT, WIDTH, 1), np.uint8)], -1).tobytes()))
    exif = Image.Exif()
    exif[0x0112] = 6
    files["exif6.jpg"] = jpeg(rgb.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())
    files["truncated.jpg"] = files["baseline.jpg"][: len(files["baseline.jpg"]) // 2]
    huge = bytearray(files["baseline.jpg"])
    sof = huge.index(b"\xff\xc0")
    huge[sof + 5:sof + 9] = (50000).to_bytes(2, "big") + (50000).to_bytes(2, "big")
    files["huge-header.jpg"] = bytes(huge)
    alpha = (np.arange(WIDTH)[None, :] * 10 + np.zeros((HEIGHT, 1), int)).clip(0, 255).astype(np.uint8)
    files["rgba.png"] = png(Image.fromarray(np.concatenate([pattern(), alpha[..., None]], -1)))
    files["grey-alpha.png"] = png(Image.fromarray(np.stack([pattern()[..., 1], alpha], -1)))
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    files["palette-trns.png"] = png(palette)
    opaque = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    opaque[..., 3] = 255
    opaque[SQUARE[0], SQUARE[1], 3] = 0
    files["mask-alpha.png"] = png(Image.fromarray(opaque))
    white = np.zeros((HEIGHT, WIDTH), np.uint8)
    white[SQUARE] = 255
    files["mask-white.png"] = png(Image.fromarray(white))
    opaque_white = np.concatenate([np.repeat(white[..., None], 3, -1), np.full((HEIGHT, WIDTH, 1), 255, np.uint8)], -1)
    files["mask-white-rgba.png"] = png(Image.fromarray(opaque_white))
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        print(f"wrote {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
