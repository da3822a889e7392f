"""`strobe serve` against real clients: the official `openai` package and raw HTTP (httpx).

The tests start the server themselves on a free loopback port (`--port 0`; the port is read from
the first line of its stdout), one without an API key and one with a key and a 1 MiB body limit.
The binary is $STROBE_BIN, else .build/debug/strobe; without it the module is skipped.

Every generation here is flash at 256x256 with n <= 2 (a fraction of a second an image), so
the whole file runs in well under a minute on two cores.

Install the clients with `pip install -e 'python[server-tests]'`.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import time
import zlib
from pathlib import Path

import pytest

openai = pytest.importorskip("openai", reason="the openai package is not installed (pip install -e 'python[server-tests]')")
httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e 'python[server-tests]')")
from PIL import Image  # noqa: E402
from served import ServedStrobe  # noqa: E402

try:  # the HTTP package the SDK is built on: httpx2 in openai 3, httpx before
    import httpx2 as sdk_httpx
except ImportError:
    sdk_httpx = httpx

REPO = Path(__file__).resolve().parents[2]
API_KEY = "test-key-0123456789"
SIZE = "256x256"
PROMPT = "a red barn under a blue sky"


def strobe_binary() -> Path:
    given = os.environ.get("STROBE_BIN")
    path = Path(given) if given else REPO / ".build" / "debug" / "strobe"
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.skip(f"no strobe binary at {path} (build it with `swift build --product strobe` or set STROBE_BIN)")
    return path


class Server(ServedStrobe):
    """A `strobe serve --port 0` child process (served.py) with a reader of its metrics."""

    def __init__(self, *args: str):
        super().__init__(*args, binary=strobe_binary())

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample of /metrics (0 when absent)."""
        text = httpx.get(f"{self.base}/metrics", timeout=30).text
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def keyed():
    """A server that requires an API key and takes bodies of 1 MiB at most."""
    s = Server("--api-key", API_KEY, "--max-body-mb", "1")
    yield s
    s.stop()


# One connection per request: connection reuse is tested on its own (test_keep_alive), so that a
# fault there fails that test and not every other one.
NO_KEEPALIVE = {"max_keepalive_connections": 0}


@pytest.fixture(scope="module")
def client(server):
    c = openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=0, timeout=120,
                      http_client=openai.DefaultHttpxClient(limits=sdk_httpx.Limits(**NO_KEEPALIVE)))
    yield c
    c.close()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.base, timeout=120, limits=httpx.Limits(**NO_KEEPALIVE)) as c:
        yield c


@pytest.fixture(scope="module")
def png(tmp_path_factory, client, server) -> Path:
    """A Strobe-made 256x256 picture to edit."""
    result = client.images.generate(model=server.model, prompt=PROMPT, size=SIZE, response_format="b64_json",
                                    extra_body={"seed": 3})
    path = tmp_path_factory.mktemp("server") / "input.png"
    path.write_bytes(base64.b64decode(result.data[0].b64_json))
    return path


def decode_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixel_size(size: str) -> tuple[int, int]:
    w, h = size.split("x")
    return int(w), int(h)


def assert_error(response: httpx.Response, status: int, *, param: str | None = ..., code: str | None = None) -> dict:
    """An OpenAI-shaped error: the status, {"error": {"message", "type", "param", "code"}} and, for
    4xx that a retry cannot fix, x-should-retry: false."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    if param is not ...:
        assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error
    if status in (400, 401, 404, 409, 413, 422):
        assert response.headers.get("x-should-retry") == "false", dict(response.headers)
    return error


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small valid PNG whose header declares width x height RGB pixels (30 GB decoded); its
    IDAT holds a few rows of zeros, compressed to almost nothing."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 8, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def solid_png(size: tuple[int, int], color: tuple[int, ...], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format="PNG")
    return out.getvalue()


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, name, data = [], None, []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            events.append((name, json.loads("\n".join(data))))
            name, data = None, []
    return events


# --- health, metrics, models ------------------------------------------------------------------


def test_health(http, server):
    r = http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["model"] == server.model
    assert str(body["ready"]).lower() == "true" and str(body["live"]).lower() == "true"


def test_models(client, http, server):
    models = client.models.list()
    assert [m.id for m in models.data] == [server.model]
    raw = http.get("/v1/models").json()
    assert raw["object"] == "list"
    model = raw["data"][0]
    assert model["object"] == "model" and model["sizes"]["1:1"] == SIZE
    assert model["samplers"]["flash"][0] >= 1 and model["default_steps"]["flash"] >= 1
    assert client.models.retrieve(server.model).id == server.model
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_metrics(http, png):
    r = http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "strobe_http_requests_total{" in text
    assert re.search(r"^strobe_images_total(\{[^}]*\})? [1-9]", text, re.M), "no image counted after a generation"
    assert re.search(r'^strobe_http_requests_total\{[^}]*route="/v1/images/generations"[^}]*\} [1-9]', text, re.M)
    assert "strobe_queue_depth" in text


# --- generations through the SDK ------------------------------------------------------------


def test_keep_alive(server):
    """Back-to-back requests on one kept-alive connection (as httpx and the SDK send them) are all
    answered: a server that closes the connection after an answer must say `Connection: close`."""
    failures = []
    with httpx.Client(base_url=server.base, timeout=60) as c:
        for i in range(24):
            route = ["/v1/images/generations", "/v1/images/edits", "/v1/models"][i % 3]
            try:
                if route == "/v1/models":
                    r = c.get(route)
                elif route == "/v1/images/edits":
                    r = c.post(route, files={"prompt": (None, "a barn")})  # 400: no image
                else:
                    r = c.post(route, json={"prompt": PROMPT, "n": 0})  # 400: n
                assert r.status_code in (200, 400), r.text
            except httpx.TransportError as error:
                failures.append(f"request {i} ({route}): {type(error).__name__}: {error}")
    assert not failures, failures


def test_generate_b64_json_is_deterministic(client, server):
    def generate():
        return client.images.generate(model=server.model, prompt=PROMPT, n=2, size=SIZE,
                                      response_format="b64_json", extra_body={"seed": 7})

    first = generate()
    assert first.created > 0 and len(first.data) == 2
    pngs = [base64.b64decode(item.b64_json) for item in first.data]
    for data in pngs:
        assert decode_png(data).size == pixel_size(SIZE)
    assert first.data[0].revised_prompt == PROMPT
    assert pngs[0] != pngs[1], "image 1 of n=2 must use the next seed"
    again = [base64.b64decode(item.b64_json) for item in generate().data]
    assert again == pngs, "the same seed must give the same bytes"


def test_generate_url(client, server):
    result = client.images.generate(model=server.model, prompt=PROMPT, n=1, size=SIZE, response_format="url",
                                    extra_body={"seed": 11})
    url = result.data[0].url
    assert url and url.startswith(f"{server.base}/files/") and url.endswith(".png"), url
    assert result.data[0].b64_json is None
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert decode_png(r.content).size == pixel_size(SIZE)
    missing = httpx.get(f"{server.base}/files/{'0' * 32}.png", timeout=30)
    assert_error(missing, 404)


def test_generate_aspect_ratio(http):
    r = http.post("/v1/images/generations", json={"prompt": PROMPT, "aspect_ratio": "16:9", "seed": 1})
    assert r.status_code == 200, r.text
    assert r.json()["size"] == "336x192"
    assert decode_png(base64.b64decode(r.json()["data"][0]["b64_json"])).size == (336, 192)


# --- edits ------------------------------------------------------------------------------------


def test_edit_modify(client, server, png):
    with open(png, "rb") as f:
        result = client.images.edit(model=server.model, image=f, prompt="a red barn at night", size=SIZE,
                                    extra_body={"strength": 0.5, "seed": 5})
    assert len(result.data) == 1
    edited = base64.b64decode(result.data[0].b64_json)
    assert decode_png(edited).size == pixel_size(SIZE)
    assert edited != png.read_bytes()


def test_edit_inpaint_with_mask(client, server, png, tmp_path):
    mask = Image.new("L", (256, 256), 0)
    mask.paste(255, (64, 64, 192, 192))  # white: repaint the middle
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    with open(png, "rb") as image, open(mask_path, "rb") as m:
        result = client.images.edit(model=server.model, image=image, mask=m, prompt="a pond", size=SIZE,
                                    response_format="b64_json", extra_body={"seed": 9})
    edited = decode_png(base64.b64decode(result.data[0].b64_json)).convert("RGB")
    original = Image.open(png).convert("RGB")
    assert edited.size == original.size == (256, 256)

    def mean_diff(box):
        a, b = original.crop(box).tobytes(), edited.crop(box).tobytes()
        return sum(abs(x - y) for x, y in zip(a, b)) / len(a)

    inside, outside = mean_diff((80, 80, 176, 176)), mean_diff((0, 0, 256, 32))
    assert inside > outside, (inside, outside)


def test_reframe(http, png):
    with open(png, "rb") as f:
        r = http.post("/v1/images/reframes", files={"image": ("in.png", f, "image/png")},
                      data={"aspect_ratio": "16:9", "anchor": "center", "seed": "2"})
    assert r.status_code == 200, r.text
    width, height = pixel_size(r.json()["size"])
    # the picture is kept whole and the canvas grows to 16:9 around it
    assert height >= 256 and width > 256 and abs(width / height - 16 / 9) < 0.1, r.json()["size"]
    assert decode_png(base64.b64decode(r.json()["data"][0]["b64_json"])).size == (width, height)


# --- errors through the SDK ---------------------------------------------------------------------


def test_sdk_bad_request_n_zero(client, server):
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model=server.model, prompt=PROMPT, n=0, size=SIZE)
    assert info.value.status_code == 400 and info.value.param == "n"


def test_sdk_bad_request_size(client, server):
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model=server.model, prompt=PROMPT, size="1024x1024")
    assert info.value.param == "size" and "1024x1024" in info.value.message


def test_sdk_bad_request_missing_prompt(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.post("/images/generations", body={"n": 1, "size": SIZE}, cast_to=object)
    assert info.value.param == "prompt" and info.value.code == "missing_required_parameter"


def test_sdk_not_found_model(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.images.generate(model="dall-e-3", prompt=PROMPT, size=SIZE)
    assert info.value.param == "model"


def test_sdk_does_not_retry_a_400(server):
    """x-should-retry: false, so a client with retries on sends a bad request once."""
    labels = {"route": "/v1/images/generations", "method": "POST", "status": "400"}
    before = server.metric("strobe_http_requests_total", **labels)
    with openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=2, timeout=60) as retrying:
        with pytest.raises(openai.BadRequestError):
            retrying.images.generate(model=server.model, prompt=PROMPT, n=0)
        with pytest.raises(openai.BadRequestError):
            retrying.images.generate(model=server.model, prompt=PROMPT, size="1024x1024")
    assert server.metric("strobe_http_requests_total", **labels) - before == 2


def test_sdk_authentication(keyed):
    with openai.OpenAI(base_url=f"{keyed.base}/v1", api_key="wrong-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as info:
            wrong.models.list()
        assert info.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            wrong.images.generate(model=keyed.model, prompt=PROMPT, size=SIZE)
        with pytest.raises(openai.AuthenticationError) as info:  # no Authorization header at all
            wrong.models.list(extra_headers={"Authorization": openai.Omit()})
        assert info.value.code == "missing_api_key"
    with openai.OpenAI(base_url=f"{keyed.base}/v1", api_key=API_KEY, max_retries=0) as right:
        assert [m.id for m in right.models.list().data] == [keyed.model]


# --- streaming ----------------------------------------------------------------------------------


def test_stream_raw(http):
    body = {"prompt": PROMPT, "size": SIZE, "seed": 4, "stream": True}
    with http.stream("POST", "/v1/images/generations", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    names = [name for name, _ in events]
    partials = [data for name, data in events if name == "image_generation.partial_image"]
    completed = [data for name, data in events if name == "image_generation.completed"]
    assert len(completed) == 1 and names[-1] == "image_generation.completed", names
    assert len(partials) == partials[0]["steps"] >= 1, names
    assert names.index("image_generation.completed") > max(i for i, n in enumerate(names) if n.endswith("partial_image"))
    assert [p["partial_image_index"] for p in partials] == list(range(len(partials)))
    assert [p["step"] for p in partials] == list(range(1, len(partials) + 1))
    for p in partials:
        assert p["type"] == "image_generation.partial_image"
        assert decode_png(base64.b64decode(p["b64_json"])).size == (256, 256)
    final = base64.b64decode(completed[0]["b64_json"])
    assert decode_png(final).size == (256, 256)
    # the same request without streaming gives the same image
    plain = http.post("/v1/images/generations", json={k: v for k, v in body.items() if k != "stream"})
    assert base64.b64decode(plain.json()["data"][0]["b64_json"]) == final


def test_stream_sdk_partial_images(client, server):
    stream = client.images.generate(model=server.model, prompt=PROMPT, size=SIZE, stream=True, partial_images=2,
                                    extra_body={"seed": 4})
    types = []
    for event in stream:
        types.append(event.type)
        if event.type == "image_generation.partial_image":
            assert decode_png(base64.b64decode(event.b64_json)).size == (256, 256)
        if event.type == "image_generation.completed":
            assert decode_png(base64.b64decode(event.b64_json)).size == (256, 256)
    assert types.count("image_generation.partial_image") == 2, types
    assert types[-1] == "image_generation.completed", types


# --- jobs ---------------------------------------------------------------------------------------


def poll(http, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_job_completes(http):
    r = http.post("/v1/jobs", json={"prompt": PROMPT, "n": 2, "size": SIZE, "seed": 7})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["object"] == "job" and job["status"] in ("queued", "running", "completed")
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    done = poll(http, job["id"])
    assert done["status"] == "completed", done
    assert done["progress"]["completed_calls"] == done["progress"]["total_calls"] > 0
    data = done["result"]["data"]
    assert len(data) == 2
    for item in data:
        assert decode_png(base64.b64decode(item["b64_json"])).size == (256, 256)


def test_job_reframe_multipart(http, png):
    with open(png, "rb") as f:
        r = http.post("/v1/jobs", files={"image": ("in.png", f, "image/png")},
                      data={"operation": "reframe", "aspect_ratio": "3:4", "response_format": "url"})
    assert r.status_code == 202, r.text
    done = poll(http, r.json()["id"])
    assert done["status"] == "completed" and done["kind"] == "reframe", done
    width, height = pixel_size(done["result"]["size"])
    assert width >= 256 and height > 256 and abs(width / height - 3 / 4) < 0.1, done["result"]["size"]
    image = httpx.get(done["result"]["data"][0]["url"], timeout=30)
    assert decode_png(image.content).size == (width, height)


def test_job_cancel(http):
    # a long job (full sampler, many steps) so it is still queued or running when cancelled
    r = http.post("/v1/jobs", json={"prompt": PROMPT, "size": SIZE, "sampler": "full", "steps": 400})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    cancelled = http.delete(f"/v1/jobs/{job_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"]["code"] == "cancelled"
    assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    assert_error(http.delete(f"/v1/jobs/{job_id}"), 409, code="job_finished")


def test_job_unknown(http):
    assert_error(http.get("/v1/jobs/job_doesnotexist"), 404, param="id")
    assert_error(http.delete("/v1/jobs/job_doesnotexist"), 404, param="id")


# --- bad input, each with its status and OpenAI-shaped error ---------------------------------


GEN = "/v1/images/generations"


@pytest.mark.parametrize("name, body, headers, param, code", [
    ("malformed JSON", b'{"prompt": "a barn", ', {"content-type": "application/json"}, None, "invalid_json"),
    ("JSON not an object", b'["a barn"]', {"content-type": "application/json"}, None, "invalid_json"),
    ("wrong content type", b"prompt=a+barn", {"content-type": "application/x-www-form-urlencoded"}, None,
     "unsupported_content_type"),
    ("no content type", b'{"prompt": "a barn"}', {}, None, "unsupported_content_type"),
    ("missing prompt", b'{"n": 1}', {"content-type": "application/json"}, "prompt", "missing_required_parameter"),
    ("n of 0", b'{"prompt": "a barn", "n": 0}', {"content-type": "application/json"}, "n", None),
    ("n of 1000", b'{"prompt": "a barn", "n": 1000}', {"content-type": "application/json"}, "n", None),
    ("n not an integer", b'{"prompt": "a barn", "n": "two"}', {"content-type": "application/json"}, "n", "invalid_type"),
    ("unsupported size", b'{"prompt": "a barn", "size": "1024x1024"}', {"content-type": "application/json"}, "size", None),
    ("size and ratio disagree", b'{"prompt": "a barn", "size": "256x256", "aspect_ratio": "16:9"}',
     {"content-type": "application/json"}, "size", None),
    ("unknown field", b'{"prompt": "a barn", "colour": "red"}', {"content-type": "application/json"}, "colour",
     "unknown_parameter"),
    ("unknown sampler", b'{"prompt": "a barn", "sampler": "ddim"}', {"content-type": "application/json"}, "sampler", None),
    ("steps out of range", b'{"prompt": "a barn", "steps": 0}', {"content-type": "application/json"}, "steps", None),
    ("bad response format", b'{"prompt": "a barn", "response_format": "jpeg"}', {"content-type": "application/json"},
     "response_format", None),
    ("empty prompt", b'{"prompt": ""}', {"content-type": "application/json"}, "prompt", None),
])
def test_bad_generation(http, name, body, headers, param, code):
    assert_error(http.post(GEN, content=body, headers=headers), 400, param=param, code=code)


def test_bad_body_over_limit(keyed):
    auth = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    big = json.dumps({"prompt": "x" * (2 << 20)}).encode()
    with httpx.Client(base_url=keyed.base, timeout=20) as c:
        assert_error(c.post(GEN, content=big, headers=auth), 413, code="body_too_large")

        def chunked():  # no Content-Length: the limit applies while reading
            for i in range(0, len(big), 64 << 10):
                yield big[i:i + (64 << 10)]
        assert_error(c.post(GEN, content=chunked(), headers=auth), 413, code="body_too_large")
        # multipart uploads over the limit, several on one connection
        files = {"image": ("big.png", b"\x89PNG" + b"\0" * (2 << 20), "image/png")}
        for _ in range(3):
            assert_error(c.post("/v1/images/edits", files=files, headers={"authorization": f"Bearer {API_KEY}"}), 413)
        # the server is still fine
        assert c.get("/v1/models", headers=auth).status_code == 200


def test_bad_body_far_over_limit(keyed):
    """A client that sends its whole body before reading (httpx, the openai SDK: no
    `Expect: 100-continue`) still gets its 413 when the body is far larger than the socket
    buffers: the server must read and discard the rest, or answer and close the connection."""
    auth = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    big = json.dumps({"prompt": "x" * (32 << 20)}).encode()
    with httpx.Client(base_url=keyed.base, timeout=20, limits=httpx.Limits(**NO_KEEPALIVE)) as c:
        assert_error(c.post(GEN, content=big, headers=auth), 413, code="body_too_large")


def test_bad_multipart_without_image(http):
    r = http.post("/v1/images/edits", files={"prompt": (None, "a barn")}, data={"n": "1"})
    assert_error(r, 400, param="image", code="missing_required_parameter")
    # JSON to a multipart route
    assert_error(http.post("/v1/images/edits", json={"prompt": "a barn"}), 400, code="unsupported_content_type")


def test_bad_non_image_upload(http):
    r = http.post("/v1/images/edits", files={"image": ("notes.png", b"this is not a picture\n" * 40, "image/png")},
                  data={"prompt": "a barn"})
    assert_error(r, 400, param="image", code="invalid_image")
    # a PNG signature with a broken body
    r = http.post("/v1/images/edits", files={"image": ("broken.png", bomb_png(64, 64)[:40], "image/png")},
                  data={"prompt": "a barn"})
    assert_error(r, 400, param="image", code="invalid_image")


def test_bad_decompression_bomb(http, server):
    bomb = bomb_png()
    assert len(bomb) < 4096
    rss_before = rss_kib(server.proc.pid)
    r = http.post("/v1/images/edits", files={"image": ("bomb.png", bomb, "image/png")}, data={"prompt": "a barn"})
    error = assert_error(r, 400, param="image", code="image_too_large")
    assert "100000x100000" in error["message"]
    # the same as a mask, and as a reframe
    with_mask = {"image": ("in.png", solid_png((256, 256), (90, 120, 200)), "image/png"),
                 "mask": ("mask.png", bomb, "image/png")}
    assert_error(http.post("/v1/images/edits", files=with_mask, data={"prompt": "a barn"}), 400, param="mask",
                 code="image_too_large")
    assert_error(http.post("/v1/images/reframes", files={"image": ("bomb.png", bomb, "image/png")},
                           data={"aspect_ratio": "16:9"}), 400, param="image", code="image_too_large")
    if rss_before:
        assert rss_kib(server.proc.pid) - rss_before < 256 << 10, "the bomb was decoded"


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def test_bad_key(keyed):
    with httpx.Client(base_url=keyed.base, timeout=30) as c:
        assert_error(c.get("/v1/models"), 401, code="missing_api_key")
        assert_error(c.get("/v1/models", headers={"authorization": "Bearer wrong"}), 401, code="invalid_api_key")
        assert_error(c.get("/v1/models", headers={"authorization": f"Basic {API_KEY}"}), 401)
        assert_error(c.post(GEN, json={"prompt": "a barn"}, headers={"authorization": f"Bearer {API_KEY}x"}), 401)
        assert_error(c.get("/v1/jobs/job_x"), 401)
        # health and metrics stay open for probes
        assert c.get("/health").status_code == 200
        assert c.get("/metrics").status_code == 200
        assert c.get("/v1/models", headers={"authorization": f"Bearer {API_KEY}"}).status_code == 200


def test_bad_unknown_route(http):
    assert_error(http.get("/v1/nothing-here"), 404)
    assert_error(http.post("/v1/images/variations", json={"prompt": "a barn"}), 404)


def test_bad_job_cancel_twice(http):
    r = http.post("/v1/jobs", json={"prompt": PROMPT, "size": SIZE, "seed": 1})
    assert r.status_code == 202
    job_id = r.json()["id"]
    first = http.delete(f"/v1/jobs/{job_id}")
    if first.status_code == 409:  # it had already finished: then both answers are 409
        assert poll(http, job_id)["status"] == "completed"
    else:
        assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert_error(http.delete(f"/v1/jobs/{job_id}"), 409, code="job_finished")


def test_bad_job_streaming(http):
    assert_error(http.post("/v1/jobs", json={"prompt": PROMPT, "stream": True}), 400, param="stream")
