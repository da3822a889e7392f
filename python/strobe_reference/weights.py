"""Read and write Strobe weights files (weights-format.md): safetensors with Strobe's metadata.

The writer produces the canonical layout that the Swift `WeightsWriter` also produces, byte for
byte: tensors in name order and back to back (the safetensors package rejects gaps), header JSON with sorted keys and ASCII escapes,
padded with spaces to an 8-byte boundary. Writes are atomic (temporary file, then rename).

Needs only numpy. Used by the export (strobe_training.export) and by strobe_tools.make_weights_fixtures.
"""
from __future__ import annotations

import base64
import json
import os
import struct
import tempfile

import numpy as np

FORMAT_VERSION = "1"
DTYPE_SIZES = {"F32": 4, "F16": 2, "BF16": 2}
REQUIRED_KEYS = ("strobe.format_version", "strobe.architecture", "strobe.sampler_defaults",
                 "strobe.tokenizer")


def _to_numpy(value) -> np.ndarray:
    """Accepts numpy arrays and torch tensors (any float dtype); returns float32 numpy."""
    if hasattr(value, "detach"):  # torch.Tensor, without importing torch here
        value = value.detach().to("cpu").float().numpy()
    return np.array(value, dtype=np.float32, order="C")  # (ascontiguousarray would make 0-d 1-d)


def bfloat16_bits(x: np.ndarray) -> np.ndarray:
    """Round-to-nearest-even bfloat16 bit patterns (uint16) of float32 values."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    rounded[nan] = ((bits[nan] >> 16) | 0x0040).astype(np.uint16)
    return rounded


def _encode(array: np.ndarray, dtype: str) -> bytes:
    if dtype == "F32":
        return array.astype("<f4").tobytes()
    if dtype == "F16":
        return array.astype("<f2").tobytes()
    if dtype == "BF16":
        return bfloat16_bits(array).astype("<u2").tobytes()
    raise ValueError(f"unknown dtype {dtype!r}; known: {sorted(DTYPE_SIZES)}")


def encode(tensors: dict, metadata: dict[str, str] | None = None, dtypes: dict[str, str] | None = None,
           default_dtype: str = "F32") -> bytes:
    """The file's bytes. `dtypes` overrides `default_dtype` per tensor name."""
    dtypes = dtypes or {}
    data = bytearray()
    header = {}
    for name in sorted(tensors):
        array = _to_numpy(tensors[name])
        dtype = dtypes.get(name, default_dtype)
        begin = len(data)
        data += _encode(array, dtype)
        header[name] = {"data_offsets": [begin, len(data)], "dtype": dtype, "shape": list(array.shape)}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("metadata keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def strobe_metadata(architecture: dict, sampler_defaults: dict, tokenizer_model: bytes,
                    model_name: str | None = None, description: str | None = None) -> dict[str, str]:
    """Strobe's required `__metadata__` keys (weights-format.md §3)."""
    for key in ("flash_steps", "full_steps", "guidance"):
        if key not in sampler_defaults:
            raise ValueError(f"sampler_defaults lacks {key!r}")
    meta = {
        "strobe.format_version": FORMAT_VERSION,
        "strobe.architecture": json.dumps(architecture, sort_keys=True, separators=(",", ":")),
        "strobe.sampler_defaults": json.dumps(sampler_defaults, sort_keys=True, separators=(",", ":")),
        "strobe.tokenizer": base64.b64encode(tokenizer_model).decode("ascii"),
    }
    if model_name is not None:
        meta["strobe.model_name"] = model_name
    if description is not None:
        meta["strobe.description"] = description
    return meta


def save(path: str, tensors: dict, metadata: dict[str, str], dtypes: dict[str, str] | None = None,
         default_dtype: str = "F32") -> None:
    """Writes `path` atomically: a temporary file in the same directory, fsync, rename."""
    blob = encode(tensors, metadata, dtypes, default_dtype)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".strobe-weights-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors (as float32 numpy arrays) and metadata of a weights file. Checks the container
    rules of weights-format.md §6 (1–8) and raises ValueError listing every problem."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: file is {len(blob)} bytes, smaller than the header length field")
    (n,) = struct.unpack("<Q", blob[:8])
    if n < 2 or n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} does not fit in a file of {len(blob)} bytes")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    problems, tensors, ranges = [], {}, []
    for name, entry in sorted(header.items()):
        dtype, shape, (b, e) = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPE_SIZES:
            problems.append(f"{name}: unknown dtype {dtype}")
            continue
        if int(np.prod(shape, dtype=np.int64)) * DTYPE_SIZES[dtype] != e - b:
            problems.append(f"{name}: byte size does not match dtype x shape")
            continue
        if e > len(data):
            problems.append(f"{name}: offsets past the data section")
            continue
        raw = bytes(data[b:e])
        if dtype == "F32":
            array = np.frombuffer(raw, "<f4")
        elif dtype == "F16":
            array = np.frombuffer(raw, "<f2").astype(np.float32)
        else:
            array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array.reshape(shape).astype(np.float32)
        if e > b:
            ranges.append((b, e, name))
    ranges.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(ranges, ranges[1:]):
        if b1 < e0:
            problems.append(f"{n0} and {n1} overlap")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return tensors, metadata
