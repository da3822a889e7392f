"""The web page of `strobe serve`, driven in a real headless Chromium through Selenium as a person
would use it: load the page, type a prompt, pick an aspect ratio and a seed, press Generate, watch
the partial images and the progress bar, check the finished images and their downloads, see an
error for a bad request, cancel a long run, drop an image on the page to reframe it and choose a
file to modify it, and take screenshots.

Needs Debian's `chromium` and `chromium-driver` (or $CHROMIUM / $CHROMEDRIVER), selenium
(`pip install -e 'python[web-tests]'`) and a strobe binary ($STROBE_BIN, else
.build/debug/strobe); without one of them the module is skipped, saying which. Selenium Manager is
never used: the driver's path is given and SE_OFFLINE=1, so nothing is downloaded.

$STROBE_WEB_SCREENSHOT names a file to copy the screenshot of the finished landscape generation to
(scripts/check-web --screenshot writes docs/images/web-page.png with it).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import struct
import time
import urllib.request
from pathlib import Path

import pytest

if os.environ.get("STROBE_WEB_REQUIRED") != "1":
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e 'python[web-tests]')")
from PIL import Image  # noqa: E402
from served import ServedStrobe  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 90.0     # one flash generation, with room for a loaded machine
WINDOW = (1280, 900)
PROMPT = "a red hot-air balloon over green hills"
SEED = "42"

# Never let a proxy from the environment sit between the test, the driver and the server.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name, ""), "127.0.0.1", "localhost"]))
os.environ["SE_OFFLINE"] = "1"  # Selenium Manager must not try to download a browser or driver
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _executable(env: str, *names: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _executable("CHROMIUM", "chromium", "chromium-browser")
CHROMEDRIVER = _executable("CHROMEDRIVER", "chromedriver")
STROBE = Path(os.environ.get("STROBE_BIN") or REPO / ".build" / "debug" / "strobe")



def _missing(reason: str) -> None:
    """Skips the module, or fails it where the caller needs it to run (STROBE_WEB_REQUIRED=1)."""
    if os.environ.get("STROBE_WEB_REQUIRED") == "1":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)


if not CHROMIUM or not CHROMEDRIVER:
    _missing("chromium and chromedriver are needed (apt-get install chromium chromium-driver, "
             "or set CHROMIUM and CHROMEDRIVER)")
if not (STROBE.is_file() and os.access(STROBE, os.X_OK)):
    _missing(f"no strobe binary at {STROBE} (swift build --product strobe, or set STROBE_BIN)")


# MARK: - The server, the driver, and helpers


class Server(ServedStrobe):
    """A `strobe serve --port 0` child process (served.py) with JSON helpers that bypass proxies."""

    def __init__(self, *args: str):
        super().__init__(*args, binary=STROBE)

    def get_json(self, path: str) -> dict:
        with _DIRECT.open(self.base + path, timeout=30) as response:
            return json.load(response)

    def post_json(self, path: str, body: dict, timeout: float = RUN_TIMEOUT) -> dict:
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with _DIRECT.open(request, timeout=timeout) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def server():
    started = Server()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def model(server) -> dict:
    return server.get_json("/v1/models")["data"][0]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-proxy-server", "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                     "--force-device-scale-factor=1", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    chrome = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    set_viewport(chrome, *WINDOW)
    chrome.set_script_timeout(30)
    chrome.downloads = downloads
    yield chrome
    chrome.quit()


def set_viewport(driver, width: int, height: int) -> None:
    """Sizes the window so that the page itself gets width x height CSS pixels."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def wait(driver, condition, timeout: float = RUN_TIMEOUT, message: str = ""):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(d), message)


def open_page(driver, server) -> None:
    driver.get(server.base + "/")
    wait(driver, lambda d: d.find_element(By.ID, "generate").is_enabled(), 30,
         "the page did not load the model list (Generate stayed disabled)")


def dims(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def fill(element, text: str) -> None:
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)
    if text:
        element.send_keys(text)


def watch(driver) -> None:
    """Records, in order, every class an image in #results takes and every progress value."""
    driver.execute_script("""
        window.__seen = [];
        window.__progress = [];
        const results = document.getElementById('results');
        new MutationObserver((records) => {
          for (const r of records) {
            const nodes = r.type === 'childList' ? [...r.addedNodes] : [r.target];
            for (const node of nodes) {
              if (!(node instanceof Element)) continue;
              for (const img of node.matches('img') ? [node] : node.querySelectorAll('img')) {
                const figure = img.closest('figure');
                if (img.className) window.__seen.push([img.className, figure ? figure.dataset.index : '?']);
              }
            }
          }
        }).observe(results, {subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'src']});
        const progress = document.getElementById('progress');
        new MutationObserver(() => window.__progress.push(progress.value / progress.max))
          .observe(progress, {attributes: true, attributeFilter: ['value', 'max']});
    """)


def newest_run(driver):
    return driver.find_element(By.CSS_SELECTOR, "#results .run")


def wait_for_run(driver, timeout: float = RUN_TIMEOUT):
    """Waits until the newest run is no longer running; fails with the page's error if it failed."""
    def settled(d):
        runs = d.find_elements(By.CSS_SELECTOR, "#results .run")
        error = d.find_element(By.ID, "error")
        if error.is_displayed():
            raise AssertionError(f"the page shows an error: {error.text!r}")
        return runs and runs[0].get_attribute("data-state") != "running" and runs[0]
    run = wait(driver, settled, timeout, "the run did not finish")
    assert run.get_attribute("data-state") == "done", run.get_attribute("data-state")
    return run


def decoded_results(driver, run) -> list[dict]:
    """The run's result images once the browser has decoded them: natural size, seed, partial count."""
    def all_decoded(d):
        return d.execute_script("""
            const imgs = [...arguments[0].querySelectorAll('img.result')];
            if (!imgs.length || imgs.some((i) => !i.complete || i.naturalWidth === 0)) return null;
            return imgs.map((i) => ({w: i.naturalWidth, h: i.naturalHeight, seed: i.dataset.seed,
                                     size: i.dataset.size, partials: Number(i.dataset.partials), src: i.src}));
        """, run)
    return wait(driver, all_decoded, 30, "the result images were not decoded")


def download(driver, link, timeout: float = 30) -> bytes:
    """Clicks a download link and returns the file the browser saved (named as the link says)."""
    target = driver.downloads / link.get_attribute("download")
    target.unlink(missing_ok=True)
    link.click()
    wait(driver, lambda d: target.is_file() and target.stat().st_size > 0, timeout, f"{target.name} was not downloaded")
    return target.read_bytes()


def page_errors(driver) -> list[str]:
    """Console messages that mean the page is broken: exceptions and Content-Security-Policy refusals."""
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Uncaught" in entry["message"]]


# MARK: - Tests


def test_page_loads_with_the_models_settings(driver, server, model):
    open_page(driver, server)
    assert driver.title == "Strobe"
    assert driver.find_element(By.ID, "model").text == model["id"]
    ratios = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "aspect-ratio")).options]
    assert sorted(ratios) == sorted(model["sizes"])
    assert Select(driver.find_element(By.ID, "aspect-ratio")).first_selected_option.get_attribute("value") == "1:1"
    samplers = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "sampler")).options]
    assert sorted(samplers) == sorted(model["samplers"])
    steps = driver.find_element(By.ID, "steps")
    assert steps.get_attribute("value") == str(model["default_steps"]["flash"])
    assert [steps.get_attribute("min"), steps.get_attribute("max")] == [str(v) for v in model["samplers"]["flash"]]
    # Switching the sampler puts its default steps and range in.
    Select(driver.find_element(By.ID, "sampler")).select_by_value("full")
    assert steps.get_attribute("value") == str(model["default_steps"]["full"])
    assert steps.get_attribute("max") == str(model["samplers"]["full"][1])
    assert not driver.find_element(By.ID, "cancel").is_enabled()
    assert not driver.find_element(By.ID, "error").is_displayed()
    # Every control has a label a screen reader can read.
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')]
          .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id);
    """)
    assert unlabelled == []
    # At a phone's width nothing overflows sideways.
    set_viewport(driver, 390, 844)
    try:
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a 390 px window"
    finally:
        set_viewport(driver, *WINDOW)
    assert page_errors(driver) == []


def test_generate_landscape_with_seed(driver, server, model, tmp_path):
    open_page(driver, server)
    size = model["sizes"]["16:9"]
    width, height = dims(size)
    fill(driver.find_element(By.ID, "prompt"), PROMPT)
    Select(driver.find_element(By.ID, "aspect-ratio")).select_by_value("16:9")
    fill(driver.find_element(By.ID, "seed"), SEED)
    fill(driver.find_element(By.ID, "count"), "2")
    watch(driver)
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .run"), 10, "pressing Generate did not start a run")
    run = wait_for_run(driver)
    images = decoded_results(driver, run)

    assert len(images) == 2
    assert [(i["w"], i["h"]) for i in images] == [(width, height)] * 2, images
    assert [i["seed"] for i in images] == [SEED, str(int(SEED) + 1)]  # image i: seed + i, as the CLI's --count
    assert all(i["size"] == size for i in images)
    assert all(i["partials"] >= 1 for i in images), "no partial image was shown before the result"
    # The page showed each image's partial picture before its result.
    seen = driver.execute_script("return window.__seen")
    for index in ("0", "1"):
        classes = [c for c, i in seen if i == index]
        assert "partial" in classes and "result" in classes, (index, seen)
        assert classes.index("partial") < classes.index("result"), (index, classes)
    progress = driver.execute_script("return window.__progress")
    assert any(0 < p < 1 for p in progress), f"the progress bar never showed work in progress: {progress}"
    assert driver.find_element(By.ID, "progress").get_attribute("value") == "1"
    assert not driver.find_element(By.ID, "cancel").is_enabled()
    assert driver.find_element(By.ID, "generate").is_enabled()

    # The run shows its settings: prompt, seed, size, sampler, steps.
    assert run.find_element(By.CSS_SELECTOR, ".run-prompt").text == PROMPT
    settings = dict(zip([e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dt")],
                        [e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dd")]))
    assert settings["Seed"] == f"{SEED}, {int(SEED) + 1}"
    assert settings["Size"] == f"{width} × {height}"
    assert settings["Sampler"] == "flash"
    assert settings["Steps"] == str(model["default_steps"]["flash"])

    # Each image has a download link to its PNG, named after its seed, carrying its prompt.
    links = run.find_elements(By.CSS_SELECTOR, "a.download")
    assert [a.get_attribute("download") for a in links] == [f"strobe-{SEED}.png", f"strobe-{int(SEED) + 1}.png"]
    assert all(a.get_attribute("href").startswith("blob:") for a in links)
    data = download(driver, links[0])
    assert png_size(data) == (width, height)
    assert PROMPT.encode() in data  # the PNG's parameters chunk

    driver.execute_script("window.scrollTo(0, 0)")
    shot = tmp_path / "web-page.png"
    assert driver.save_screenshot(str(shot))
    assert png_size(shot.read_bytes()) == WINDOW
    if os.environ.get("STROBE_WEB_SCREENSHOT"):
        target = Path(os.environ["STROBE_WEB_SCREENSHOT"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
    assert page_errors(driver) == []


def test_bad_request_shows_the_servers_error(driver, server, model):
    open_page(driver, server)
    fill(driver.find_element(By.ID, "prompt"), "a red barn")
    high = model["samplers"]["flash"][1] + 40
    fill(driver.find_element(By.ID, "steps"), str(high))
    driver.find_element(By.ID, "generate").click()
    error = wait(driver, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"),
                 30, "no error was shown for steps out of range")
    text = error.text
    assert "400" in text and "out of range" in text and f"{high} steps" in text, text
    assert error.get_attribute("role") == "alert"
    assert driver.find_elements(By.CSS_SELECTOR, "#results img.result") == []
    assert driver.find_element(By.ID, "generate").is_enabled()

    # An empty prompt is caught before anything is sent.
    fill(driver.find_element(By.ID, "steps"), "")
    fill(driver.find_element(By.ID, "prompt"), "")
    driver.find_element(By.ID, "generate").click()
    assert "prompt" in driver.find_element(By.ID, "error").text.lower()

    # The next good request clears the error; with the seed blank, the page shows the one drawn.
    fill(driver.find_element(By.ID, "prompt"), "a red barn")
    assert driver.find_element(By.ID, "seed").get_attribute("value") == ""
    driver.find_element(By.ID, "generate").click()
    run = wait_for_run(driver)
    assert not driver.find_element(By.ID, "error").is_displayed()
    (image,) = decoded_results(driver, run)
    assert image["seed"].isdigit()
    assert f"used {image['seed']}" in driver.find_element(By.ID, "seed-hint").text


def test_cancel_stops_the_run_and_frees_the_server(driver, server):
    open_page(driver, server)
    fill(driver.find_element(By.ID, "prompt"), "a sailboat on the sea at noon")
    Select(driver.find_element(By.ID, "sampler")).select_by_value("full")
    fill(driver.find_element(By.ID, "steps"), "400")  # about a minute here; cancelled after its first step
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#results img.partial"), 60, "no partial image arrived")
    driver.find_element(By.ID, "cancel").click()
    run = wait(driver, lambda d: newest_run(d).get_attribute("data-state") != "running" and newest_run(d), 10)
    assert run.get_attribute("data-state") == "cancelled"
    assert driver.find_element(By.ID, "status-text").text == "Cancelled."
    assert not driver.find_element(By.ID, "error").is_displayed()
    assert driver.find_element(By.ID, "generate").is_enabled()
    # The server dropped the work: a short generation is answered long before 400 steps could end.
    started = time.monotonic()
    answer = server.post_json("/v1/images/generations", {"prompt": "a red barn", "size": "256x256"}, timeout=40)
    assert len(answer["data"]) == 1
    assert time.monotonic() - started < 30


@pytest.fixture(scope="module")
def landscape_png(server, tmp_path_factory) -> Path:
    """A 16:9 Strobe image to upload (it records its prompt, so a modify needs none)."""
    answer = server.post_json("/v1/images/generations", {"prompt": "a lighthouse on the left at golden hour",
                                                         "aspect_ratio": "16:9", "seed": 7})
    path = tmp_path_factory.mktemp("upload") / "lighthouse.png"
    path.write_bytes(base64.b64decode(answer["data"][0]["b64_json"]))
    return path


def test_reframe_a_dropped_image(driver, server, landscape_png, tmp_path):
    open_page(driver, server)
    assert not driver.find_element(By.ID, "edit-form").is_displayed()
    # Drop the file on the results area, as a drag from the desktop delivers it.
    overlay_seen = driver.execute_script("""
        const [b64, name] = arguments;
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: 'image/png'}));
        const target = document.getElementById('results');
        const fire = (type) => target.dispatchEvent(
          new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        fire('dragenter');
        fire('dragover');
        const shown = !document.getElementById('drop-overlay').hidden;
        fire('drop');
        return shown;
    """, base64.b64encode(landscape_png.read_bytes()).decode(), landscape_png.name)
    assert overlay_seen, "dragging a file over the page did not show the drop overlay"
    wait(driver, lambda d: d.find_element(By.ID, "edit-form").is_displayed(), 10, "the dropped image was not taken")
    width, height = png_size(landscape_png.read_bytes())
    wait(driver, lambda d: d.find_element(By.ID, "source-size").text == f"{width} × {height}", 10)
    assert driver.find_element(By.ID, "source-name").text == landscape_png.name

    driver.find_element(By.CSS_SELECTOR, "label[for='mode-reframe']").click()
    assert driver.find_element(By.ID, "edit-run").text == "Reframe"
    assert not driver.find_element(By.ID, "strength").is_displayed()
    Select(driver.find_element(By.ID, "reframe-ratio")).select_by_value("1:1")
    driver.find_element(By.CSS_SELECTOR, "label[for='anchor-top']").click()
    assert driver.find_element(By.ID, "anchor-top").is_selected()
    watch(driver)
    driver.find_element(By.ID, "edit-run").click()
    run = wait_for_run(driver)
    assert run.get_attribute("data-kind") == "reframe"
    (image,) = decoded_results(driver, run)
    # The original keeps its pixels on a square canvas as wide as it is, at the top.
    width, height = png_size(landscape_png.read_bytes())
    assert (image["w"], image["h"]) == (width, width)
    assert image["partials"] >= 1
    assert "partial" in [c for c, _ in driver.execute_script("return window.__seen")]
    settings = dict(zip([e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dt")],
                        [e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dd")]))
    assert settings["Operation"] == "reframe" and settings["Anchor"] == "top" and settings["Ratio"] == "1:1"
    # Without a prompt the server used the one the image records, and the page shows it.
    assert run.find_element(By.CSS_SELECTOR, ".run-prompt").text == "a lighthouse on the left at golden hour"
    link = run.find_element(By.CSS_SELECTOR, "a.download")
    assert re.fullmatch(r"strobe-\d+-reframe\.png", link.get_attribute("download"))
    data = download(driver, link)
    assert png_size(data) == (width, width)
    with Image.open(io.BytesIO(data)) as result, Image.open(landscape_png) as original:
        kept = result.convert("RGB").crop((0, 0, width, height))
        assert kept.tobytes() == original.convert("RGB").tobytes(), "the reframe changed the original's pixels"
    driver.save_screenshot(str(tmp_path / "reframe.png"))
    assert page_errors(driver) == []


def test_modify_a_chosen_file(driver, server, landscape_png):
    open_page(driver, server)
    driver.find_element(By.ID, "file").send_keys(str(landscape_png))  # the file chooser
    wait(driver, lambda d: d.find_element(By.ID, "edit-form").is_displayed(), 10, "the chosen file was not taken")
    assert driver.find_element(By.ID, "mode-modify").is_selected()
    assert driver.find_element(By.ID, "edit-run").text == "Modify"
    slider = driver.find_element(By.ID, "strength")
    slider.click()
    for _ in range(30):
        slider.send_keys(Keys.ARROW_LEFT)
    for _ in range(10):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert driver.find_element(By.ID, "strength-value").text == "0.50"
    fill(driver.find_element(By.ID, "edit-prompt"), "a lighthouse on the right at night")
    fill(driver.find_element(By.ID, "seed"), "5")
    driver.find_element(By.ID, "edit-run").click()
    run = wait_for_run(driver)
    assert run.get_attribute("data-kind") == "modify"
    (image,) = decoded_results(driver, run)
    assert (image["w"], image["h"]) == png_size(landscape_png.read_bytes())
    assert image["seed"] == "5" and image["partials"] >= 1
    settings = dict(zip([e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dt")],
                        [e.text for e in run.find_elements(By.CSS_SELECTOR, ".run-settings dd")]))
    assert settings["Strength"] == "0.50" and settings["Operation"] == "modify"
    assert page_errors(driver) == []


def test_api_key_is_asked_for_and_sent(driver):
    keyed = Server("--api-key", "web-test-key-0123")
    try:
        driver.get(keyed.base + "/")
        error = wait(driver, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"),
                     30, "no error was shown for a missing key")
        assert "401" in error.text
        assert driver.find_element(By.ID, "key-panel").get_attribute("open") is not None
        assert not driver.find_element(By.ID, "generate").is_enabled()
        fill(driver.find_element(By.ID, "api-key"), "web-test-key-0123")
        wait(driver, lambda d: d.find_element(By.ID, "generate").is_enabled(), 30, "the key did not unlock the page")
        assert not driver.find_element(By.ID, "error").is_displayed()
        # The key is kept in this browser and sent with the generation.
        driver.refresh()
        wait(driver, lambda d: d.find_element(By.ID, "generate").is_enabled(), 30, "the stored key was not used")
        fill(driver.find_element(By.ID, "prompt"), "a red barn")
        driver.find_element(By.ID, "generate").click()
        run = wait_for_run(driver)
        assert len(decoded_results(driver, run)) == 1
    finally:
        driver.execute_script("localStorage.clear()")
        keyed.stop()
