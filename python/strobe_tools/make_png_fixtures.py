"""Write small PNG fixtures of every colour type for the Swift PNG decoder tests.

Output: Tests/StrobeTests/Fixtures/png/*.png and expected.json (the RGB each file must decode
to, as integers over max_value, alpha dropped; and its text chunks in file order).

The PNGs are assembled by hand (numpy + zlib + struct, no imaging library), so the fixtures
do not depend on the encoder under test.

Run from the repository root:

    python3 -m venv .venv && .venv/bin/pip install -e python
    .venv/bin/python -m strobe_tools.make_png_fixtures
"""

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np

from strobe_reference.paths import repository_path

W, H = 9, 7  # odd sizes so that every Adam7 pass has pixels

GREY, RGB, PALETTE, GREY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GREY: 1, RGB: 3, PALETTE: 1, GREY_ALPHA: 2, RGBA: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples: np.ndarray, bit_depth: int) -> bytes:
    """One scanline's samples (already flattened per pixel) as bytes, MSB first."""
    if bit_depth == 16:
        return samples.astype(">u2").tobytes()
    if bit_depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    out = bytearray((len(samples) + per_byte - 1) // per_byte)
    for i, v in enumerate(samples.tolist()):
        out[i // per_byte] |= int(v) << (8 - bit_depth * (i % per_byte + 1))
    return bytes(out)


def filter_rows(rows: list, bpp: int) -> bytes:
    """Alternates filter 0 (None) and 1 (Sub) to exercise the unfiltering."""
    out = bytearray()
    for r, row in enumerate(rows):
        if r % 2 == 0:
            out += b"\x00" + row
        else:
            sub = bytes((row[i] - (row[i - bpp] if i >= bpp else 0)) & 0xFF for i in range(len(row)))
            out += b"\x01" + sub
    return bytes(out)


def image_data(samples: np.ndarray, bit_depth: int, interlaced: bool) -> bytes:
    """samples: [H, W, C] integers. Returns the zlib stream of filtered scanlines."""
    h, w, c = samples.shape
    bpp = max(1, c * bit_depth // 8)
    if not interlaced:
        rows = [pack_row(samples[y].reshape(-1), bit_depth) for y in range(h)]
        return zlib.compress(filter_rows(rows, bpp), 9)
    raw = b""
    for x0, y0, dx, dy in ADAM7:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        raw += filter_rows([pack_row(row.reshape(-1), bit_depth) for row in sub], bpp)
    return zlib.compress(raw, 9)


def text_chunks(texts):
    out = []
    for kind, key, value in texts:
        if kind == "tEXt":
            out.append(chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
        elif kind == "zTXt":
            out.append(chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(value.encode("latin-1"))))
        else:  # iTXt, uncompressed, no language
            out.append(chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))
    return out


def png(samples, color_type, bit_depth, interlaced=False, palette=None, trns=None, texts_before=(), texts_after=()):
    h, w, _ = samples.shape
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, int(interlaced)))]
    if palette is not None:
        parts.append(chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1))))
    if trns is not None:
        parts.append(chunk(b"tRNS", trns))
    parts += text_chunks(texts_before)
    parts.append(chunk(b"IDAT", image_data(samples, bit_depth, interlaced)))
    parts += text_chunks(texts_after)
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


def pattern(channels: int, max_value: int) -> np.ndarray:
    """A deterministic [H, W, C] pattern covering 0 and max_value."""
    y, x = np.mgrid[0:H, 0:W]
    planes = [((x * 37 + y * 101 + c * 53) * 2654435761 % (max_value + 1)) for c in range(channels)]
    arr = np.stack(planes, axis=-1).astype(np.int64)
    arr[0, 0, :] = 0
    arr[H - 1, W - 1, :] = max_value
    return arr


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out = Path(repository_path("Tests", "StrobeTests", "Fixtures", "png",
                               needed_by="strobe_tools.make_png_fixtures (writes Tests/StrobeTests/Fixtures/png/)"))
    out.mkdir(parents=True, exist_ok=True)
    expected = {}

    def add(name, data, rgb, max_value, color_type, bit_depth, interlaced=False, texts=()):
        (out / name).write_bytes(data)
        expected[name] = {
            "width": W, "height": H, "max_value": max_value, "color_type": color_type,
            "bit_depth": bit_depth, "interlaced": interlaced,
            "rgb": np.asarray(rgb, dtype=np.int64).reshape(-1).tolist(),
            "text": [[k, v] for _, k, v in texts],
        }

    before = [("tEXt", "parameters", "a red fox\nSteps: 4, Sampler: tvm, Seed: 42, Size: 9x7, Model: m, Version: v"),
              ("zTXt", "Comment", "compressed caf\u00e9 text")]
    after = [("iTXt", "strobe", '{"prompt": "\u732b \u2713"}')]

    rgb8 = pattern(3, 255)
    add("rgb8.png", png(rgb8, RGB, 8, texts_before=before, texts_after=after), rgb8, 255, RGB, 8, texts=before + after)
    rgba8 = pattern(4, 255)
    add("rgba8.png", png(rgba8, RGBA, 8), rgba8[..., :3], 255, RGBA, 8)
    grey8 = pattern(1, 255)
    add("grey8.png", png(grey8, GREY, 8), np.repeat(grey8, 3, axis=-1), 255, GREY, 8)
    ga8 = pattern(2, 255)
    add("grey_alpha8.png", png(ga8, GREY_ALPHA, 8), np.repeat(ga8[..., :1], 3, axis=-1), 255, GREY_ALPHA, 8)
    for depth in (1, 2, 4):
        g = pattern(1, (1 << depth) - 1)
        scale = 255 // ((1 << depth) - 1)
        add(f"grey{depth}.png", png(g, GREY, depth), np.repeat(g * scale, 3, axis=-1), 255, GREY, depth)
    rgb16 = pattern(3, 65535)
    add("rgb16.png", png(rgb16, RGB, 16), rgb16, 65535, RGB, 16)
    rgba16 = pattern(4, 65535)
    add("rgba16.png", png(rgba16, RGBA, 16), rgba16[..., :3], 65535, RGBA, 16)
    grey16 = pattern(1, 65535)
    add("grey16.png", png(grey16, GREY, 16), np.repeat(grey16, 3, axis=-1), 65535, GREY, 16)
    palette = (np.arange(16 * 3).reshape(16, 3) * 5 + 3) % 256
    idx = pattern(1, 15)
    trns = bytes([0, 128, 255])  # alpha for the first three entries; dropped on decoding
    add("palette4.png", png(idx, PALETTE, 4, palette=palette, trns=trns), palette[idx[..., 0]], 255, PALETTE, 4)
    idx8 = pattern(1, 15)
    add("palette8.png", png(idx8, PALETTE, 8, palette=palette), palette[idx8[..., 0]], 255, PALETTE, 8)
    add("rgb8_interlaced.png", png(rgb8, RGB, 8, interlaced=True), rgb8, 255, RGB, 8, interlaced=True)
    add("palette2_interlaced.png", png(pattern(1, 3), PALETTE, 2, interlaced=True, palette=palette[:4]),
        palette[:4][pattern(1, 3)[..., 0]], 255, PALETTE, 2, interlaced=True)
    add("rgba16_interlaced.png", png(rgba16, RGBA, 16, interlaced=True), rgba16[..., :3], 65535, RGBA, 16, interlaced=True)

    # Corrupt files: the decoder must report an error, not crash.
    good = (out / "rgb8.png").read_bytes()
    idat = good.index(b"IDAT") - 4
    (out / "corrupt_truncated.png").write_bytes(good[: idat + 20])
    bad_crc = bytearray(good)
    length = struct.unpack(">I", good[idat:idat + 4])[0]
    bad_crc[idat + 8 + length] ^= 0xFF  # flip a byte of the IDAT CRC
    (out / "corrupt_crc.png").write_bytes(bytes(bad_crc))
    plain = png(rgb8, RGB, 8)
    start = plain.index(b"IDAT") - 4
    length = struct.unpack(">I", plain[start:start + 4])[0]
    data = bytearray(plain[start + 8:start + 8 + length])
    data[1] = 0xFF  # zlib header check bits no longer valid (CRC recomputed, so zlib must notice)
    bad_zlib = plain[:start] + chunk(b"IDAT", bytes(data)) + plain[start + 12 + length:]
    (out / "corrupt_zlib.png").write_bytes(bad_zlib)
    (out / "corrupt_signature.png").write_bytes(b"GIF89a" + good[6:])

    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"wrote {len(expected)} fixtures and 4 corrupt files to {out}")


if __name__ == "__main__":
    main()
