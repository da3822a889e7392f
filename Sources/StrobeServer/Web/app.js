// Strobe's web page: generate, modify and reframe through the server's OpenAI-style routes,
// reading the server-sent events with fetch (EventSource cannot POST). Plain JavaScript, no
// build step; the page's Content-Security-Policy allows no inline script or style, so every
// handler is attached here and every style lives in style.css.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    model: $("model"), keyPanel: $("key-panel"), apiKey: $("api-key"),
    form: $("generate-form"), prompt: $("prompt"), ratio: $("aspect-ratio"), sizeHint: $("size-hint"),
    count: $("count"), seed: $("seed"), seedHint: $("seed-hint"), seedClear: $("seed-clear"), sampler: $("sampler"),
    steps: $("steps"), stepsHint: $("steps-hint"), generate: $("generate"), cancel: $("cancel"),
    dropzone: $("dropzone"), file: $("file"), editForm: $("edit-form"), sourcePreview: $("source-preview"),
    sourceName: $("source-name"), sourceSize: $("source-size"), sourceClear: $("source-clear"),
    modeModify: $("mode-modify"), modeReframe: $("mode-reframe"), modifyOptions: $("modify-options"),
    reframeOptions: $("reframe-options"), strength: $("strength"), strengthValue: $("strength-value"),
    reframeRatio: $("reframe-ratio"), anchor: $("anchor"), editPrompt: $("edit-prompt"), editRun: $("edit-run"),
    progress: $("progress"), statusText: $("status-text"), error: $("error"), results: $("results"),
    empty: $("empty"), clearResults: $("clear-results"), overlay: $("drop-overlay"),
  };

  /** The ratios in the order a person scans them: square, landscapes, portraits. */
  const RATIO_ORDER = ["1:1", "4:3", "3:2", "16:9", "21:9", "3:4", "2:3", "9:16", "9:21"];
  const ANCHORS = ["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"];
  const KEY_STORAGE = "strobe.apiKey";

  const state = {
    model: null,          // the /v1/models entry
    controller: null,     // the running request's AbortController
    source: null,         // { file, url, width, height } for modify and reframe
    objectURLs: [],       // blob URLs the results hold, revoked on Clear
  };

  // MARK: - API key

  function storedKey() {
    try { return localStorage.getItem(KEY_STORAGE) || ""; } catch { return ""; }
  }
  function storeKey(value) {
    try {
      if (value) localStorage.setItem(KEY_STORAGE, value); else localStorage.removeItem(KEY_STORAGE);
    } catch { /* storage unavailable: the key lasts for this page only */ }
  }
  function authHeaders(extra) {
    const headers = new Headers(extra || {});
    const key = el.apiKey.value.trim();
    if (key) headers.set("Authorization", "Bearer " + key);
    return headers;
  }

  // MARK: - Errors and status

  /** An error from the server: its status and OpenAI-shaped body. */
  class APIError extends Error {
    constructor(body, status) {
      super((body && body.message) || "The server refused the request.");
      this.name = "APIError";
      this.status = status || 0;
      this.param = body && body.param;
      this.code = body && body.code;
      this.type = body && body.type;
    }
  }

  async function responseError(response) {
    let body = null;
    try { body = (await response.json()).error; } catch { /* not JSON */ }
    if (!body) body = { message: `${response.status} ${response.statusText || "error"}` };
    const error = new APIError(body, response.status);
    const retry = response.headers.get("Retry-After");
    if (response.status === 429 && retry) error.message += ` Try again in ${retry} s.`;
    return error;
  }

  function showError(error) {
    el.error.replaceChildren();
    const title = document.createElement("strong");
    let heading = "Something went wrong";
    if (error instanceof APIError) {
      heading = error.status === 401 ? "API key needed"
        : error.status === 429 ? "The server is busy"
        : error.status >= 500 ? "The server failed"
        : error.status ? "Request refused" : "The server reported an error";
      if (error.status) heading += ` (${error.status})`;
    } else if (error instanceof TypeError) {
      heading = "Could not reach the server";
    }
    title.textContent = heading;
    const message = document.createElement("span");
    message.textContent = error.message || String(error);
    el.error.append(title, message);
    if (error.param) {
      const param = document.createElement("code");
      param.textContent = error.param;
      el.error.append(param);
    }
    el.error.hidden = false;
    if (error instanceof APIError && error.status === 401) {
      el.keyPanel.open = true;
      el.apiKey.focus();
    }
  }
  function clearError() {
    el.error.hidden = true;
    el.error.replaceChildren();
  }
  function setStatus(text, fraction) {
    el.statusText.textContent = text;
    if (fraction === undefined) return;
    el.progress.max = 1;
    el.progress.value = Math.max(0, Math.min(1, fraction));
  }
  function setRunning(running) {
    el.generate.disabled = running || !state.model;
    el.editRun.disabled = running || !state.model || !state.source;
    el.cancel.disabled = !running;
    el.results.setAttribute("aria-busy", running ? "true" : "false");
    document.body.classList.toggle("running", running);
  }

  // MARK: - Model, sizes and samplers

  function ratioOrder(ratios) {
    const known = RATIO_ORDER.filter((r) => ratios.includes(r));
    return known.concat(ratios.filter((r) => !RATIO_ORDER.includes(r)).sort());
  }
  function fillRatios(select, sizes, keep) {
    const previous = select.value || keep;
    select.replaceChildren();
    for (const ratio of ratioOrder(Object.keys(sizes))) {
      const option = document.createElement("option");
      option.value = ratio;
      option.textContent = `${ratio}  ·  ${sizes[ratio].replace("x", "×")}`;
      select.append(option);
    }
    if (previous && sizes[previous]) select.value = previous;
  }
  function sizeOf(ratio) {
    return (state.model && state.model.sizes && state.model.sizes[ratio]) || "";
  }
  function updateSizeHint() {
    const size = sizeOf(el.ratio.value);
    el.sizeHint.textContent = size ? `${size.replace("x", " × ")} pixels` : "";
  }
  function updateSteps(resetValue) {
    const model = state.model;
    if (!model) return;
    const range = (model.samplers || {})[el.sampler.value];
    const fallback = (model.default_steps || {})[el.sampler.value];
    if (range) {
      el.steps.min = String(range[0]);
      el.steps.max = String(range[1]);
    }
    if (resetValue && fallback !== undefined) el.steps.value = String(fallback);
    el.stepsHint.textContent = range ? `${range[0]}–${range[1]}${fallback !== undefined ? `, default ${fallback}` : ""}` : "";
  }

  async function loadModel() {
    el.model.textContent = "connecting…";
    try {
      const response = await fetch("/v1/models", { headers: authHeaders() });
      if (!response.ok) throw await responseError(response);
      const body = await response.json();
      const model = body.data && body.data[0];
      if (!model || !model.sizes) throw new Error("The server listed no model.");
      state.model = model;
      el.model.textContent = model.id;
      el.model.classList.add("ready");
      if (model.limits && model.limits.max_images) el.count.max = String(model.limits.max_images);
      fillRatios(el.ratio, model.sizes, "1:1");
      fillRatios(el.reframeRatio, model.sizes, "16:9");
      const previous = el.sampler.value;
      el.sampler.replaceChildren();
      const samplers = Object.keys(model.samplers || { flash: [1, 10] });
      samplers.sort((a, b) => (a === "flash" ? -1 : b === "flash" ? 1 : a.localeCompare(b)));
      for (const name of samplers) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name === "flash" ? "flash (fast)" : name === "full" ? "full (best)" : name;
        el.sampler.append(option);
      }
      if (previous && samplers.includes(previous)) el.sampler.value = previous;
      updateSizeHint();
      updateSteps(!el.steps.value);
      clearError();
      setStatus("Ready.");
    } catch (error) {
      state.model = null;
      el.model.textContent = "not connected";
      el.model.classList.remove("ready");
      showError(error);
      setStatus("Not connected.");
    }
    setRunning(!!state.controller);
  }

  // MARK: - Reading the request's fields

  /** An integer field: its number, undefined when blank, or an error a person can act on. */
  function integerField(input, label) {
    if (input.validity && input.validity.badInput) throw new Error(`${label}: enter a whole number.`);
    const text = input.value.trim();
    if (text === "") return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) throw new Error(`${label}: enter a whole number, not “${text}”.`);
    return value;
  }
  /** Seed, sampler, steps and count: the fields every route shares. */
  function sharedFields() {
    const fields = { sampler: el.sampler.value || undefined };
    const seed = el.seed.value.trim();
    if (seed !== "") {
      if (!/^\d+$/.test(seed)) throw new Error(`Seed: enter a whole number from 0 to 18446744073709551615, or leave it blank for a random one.`);
      fields.seed = seed; // a string: JSON numbers lose digits beyond 2^53
    }
    const steps = integerField(el.steps, "Steps");
    if (steps !== undefined) fields.steps = steps;
    const count = integerField(el.count, "Images");
    fields.n = count === undefined ? 1 : count;
    return fields;
  }
  function resolvedSteps(fields) {
    if (fields.steps !== undefined) return fields.steps;
    return state.model && state.model.default_steps ? state.model.default_steps[fields.sampler] : undefined;
  }

  // MARK: - Runs: one card per request in #results

  function b64ToBlob(b64, type) {
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Blob([bytes], { type: type || "image/png" });
  }
  function dims(size) {
    const match = /^(\d+)x(\d+)$/.exec(size || "");
    return match ? [Number(match[1]), Number(match[2])] : null;
  }
  function prettySize(size) {
    return size ? size.replace("x", " × ") : "";
  }

  class Run {
    constructor(settings) {
      this.settings = settings;
      this.figures = new Map();
      this.completed = 0;
      this.started = performance.now();

      this.root = document.createElement("article");
      this.root.className = "run";
      this.root.dataset.kind = settings.operation;
      this.root.dataset.state = "running";

      const head = document.createElement("header");
      head.className = "run-head";
      this.promptNode = document.createElement("p");
      this.promptNode.className = "run-prompt";
      head.append(this.promptNode);
      this.list = document.createElement("dl");
      this.list.className = "run-settings";
      head.append(this.list);
      this.images = document.createElement("div");
      this.images.className = "run-images";
      this.images.dataset.count = String(settings.n);
      this.root.append(head, this.images);
      this.render();

      el.empty.hidden = true;
      el.clearResults.hidden = false;
      el.results.prepend(this.root);
      for (let i = 0; i < settings.n; i++) this.figure(i);
      // In one column the results sit below the settings: bring the new run into view.
      if (window.matchMedia("(max-width: 860px)").matches) {
        this.root.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    }

    render() {
      const s = this.settings;
      this.promptNode.textContent = s.prompt ? s.prompt : "(the prompt the image records)";
      this.promptNode.classList.toggle("muted", !s.prompt);
      const rows = [];
      if (s.operation !== "generation") rows.push(["Operation", s.operation === "modify" ? "modify" : "reframe"]);
      const seeds = s.seeds && s.seeds.length ? s.seeds : null;
      rows.push(["Seed", seeds ? (seeds.length > 3 ? `${seeds[0]} … ${seeds[seeds.length - 1]}` : seeds.join(", ")) : s.seed || "random"]);
      rows.push(["Size", prettySize(s.size) || "…"]);
      if (s.ratio) rows.push(["Ratio", s.ratio]);
      rows.push(["Sampler", s.sampler || "…"]);
      rows.push(["Steps", s.steps !== undefined ? String(s.steps) : "…"]);
      if (s.strength !== undefined) rows.push(["Strength", Number(s.strength).toFixed(2)]);
      if (s.anchor) rows.push(["Anchor", s.anchor]);
      if (s.n > 1) rows.push(["Images", String(s.n)]);
      if (s.elapsed !== undefined) rows.push(["Time", `${(s.elapsed / 1000).toFixed(1)} s`]);
      this.list.replaceChildren();
      for (const [name, value] of rows) {
        const row = document.createElement("div");
        const dt = document.createElement("dt");
        dt.textContent = name;
        const dd = document.createElement("dd");
        dd.textContent = value;
        row.append(dt, dd);
        this.list.append(row);
      }
    }

    figure(index) {
      let entry = this.figures.get(index);
      if (entry) return entry;
      const figure = document.createElement("figure");
      figure.className = "shot waiting";
      figure.dataset.index = String(index);
      const frame = document.createElement("div");
      frame.className = "frame";
      const img = document.createElement("img");
      img.alt = "";
      img.decoding = "async";
      const wh = dims(this.settings.size);
      if (wh) { img.width = wh[0]; img.height = wh[1]; }
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "waiting";
      frame.append(img, badge);
      const caption = document.createElement("figcaption");
      figure.append(frame, caption);
      this.images.append(figure);
      entry = { figure, img, badge, caption, partials: 0 };
      this.figures.set(index, entry);
      return entry;
    }

    partial(event) {
      const entry = this.figure(event.image_index || 0);
      const wh = dims(event.size);
      if (wh) { entry.img.width = wh[0]; entry.img.height = wh[1]; }
      if (event.size && !this.settings.size) { this.settings.size = event.size; this.render(); }
      if (event.steps && this.settings.steps !== event.steps) { this.settings.steps = event.steps; this.render(); }
      entry.partials += 1;
      entry.img.className = "partial";
      entry.img.src = "data:image/png;base64," + event.b64_json;
      entry.img.alt = `In progress: step ${event.step} of ${event.steps}`;
      entry.figure.classList.remove("waiting");
      entry.badge.textContent = `step ${event.step}/${event.steps}`;
    }

    async complete(event) {
      const index = event.image_index || 0;
      const entry = this.figure(index);
      let blob;
      if (event.b64_json) blob = b64ToBlob(event.b64_json);
      else if (event.url) blob = await (await fetch(event.url)).blob();
      else throw new Error("The server sent an image without data.");
      const url = URL.createObjectURL(blob);
      state.objectURLs.push(url);
      const seed = String(event.seed !== undefined ? event.seed : "");
      const size = event.size || this.settings.size;
      const wh = dims(size);
      if (wh) { entry.img.width = wh[0]; entry.img.height = wh[1]; }
      entry.img.src = url;
      entry.img.className = "result";
      entry.img.dataset.seed = seed;
      entry.img.dataset.size = size || "";
      entry.img.dataset.partials = String(entry.partials);
      entry.img.alt = event.revised_prompt || this.settings.prompt || "Generated image";
      entry.figure.classList.remove("waiting");
      entry.figure.classList.add("done");
      entry.badge.textContent = "";
      entry.blob = blob;

      this.settings.seeds = this.settings.seeds || [];
      this.settings.seeds[index] = seed;
      if (size) this.settings.size = size;
      if (!this.settings.prompt && event.revised_prompt) this.settings.prompt = event.revised_prompt;
      this.completed += 1;
      this.render();
      this.caption(entry, seed, size, blob);
    }

    caption(entry, seed, size, blob) {
      const meta = document.createElement("span");
      meta.className = "shot-meta";
      meta.textContent = `seed ${seed}`;
      const actions = document.createElement("span");
      actions.className = "shot-actions";

      const reuse = document.createElement("button");
      reuse.type = "button";
      reuse.className = "ghost small";
      reuse.textContent = "Use seed";
      reuse.title = `Put seed ${seed} in the seed box`;
      reuse.addEventListener("click", () => { el.seed.value = seed; el.seed.focus(); });

      const edit = document.createElement("button");
      edit.type = "button";
      edit.className = "ghost small";
      edit.textContent = "Edit";
      edit.title = "Modify or reframe this image";
      edit.addEventListener("click", () => {
        const suffix = this.settings.operation === "generation" ? "" : `-${this.settings.operation}`;
        setSource(new File([blob], `strobe-${seed}${suffix}.png`, { type: "image/png" }));
        el.editForm.scrollIntoView({ behavior: "smooth", block: "nearest" });
      });

      const download = document.createElement("a");
      download.className = "button small download";
      download.href = entry.img.src;
      const suffix = this.settings.operation === "generation" ? "" : `-${this.settings.operation}`;
      download.download = `strobe-${seed}${suffix}.png`;
      download.textContent = "Download";
      download.title = `Download ${download.download} (${prettySize(size)})`;

      actions.append(reuse, edit, download);
      entry.caption.replaceChildren(meta, actions);
    }

    finish(stateName) {
      this.root.dataset.state = stateName;
      this.settings.elapsed = performance.now() - this.started;
      for (const entry of this.figures.values()) {
        if (!entry.figure.classList.contains("done")) {
          entry.figure.classList.add("stopped");
          entry.badge.textContent = stateName === "cancelled" ? "cancelled" : "failed";
        }
      }
      this.render();
    }
  }

  // MARK: - Server-sent events over fetch

  function parseEvent(block, onEvent) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return Promise.resolve();
    let payload;
    try { payload = JSON.parse(data.join("\n")); } catch { throw new Error("The server sent an event that is not JSON."); }
    return onEvent(name, payload);
  }

  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        if (buffer.includes("\r")) buffer = buffer.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          await parseEvent(block, onEvent);
        }
      }
      if (buffer.trim()) await parseEvent(buffer, onEvent);
    } catch (error) {
      reader.cancel().catch(() => {});
      throw error;
    }
  }

  /** Sends one streaming request and shows its events in a new run card. */
  async function run(url, init, settings) {
    if (state.controller) return;
    clearError();
    const controller = new AbortController();
    state.controller = controller;
    setRunning(true);
    const verb = settings.operation === "generation" ? "Generating" : settings.operation === "modify" ? "Modifying" : "Reframing";
    setStatus(`${verb}…`, 0);
    const card = new Run(settings);
    try {
      const response = await fetch(url, { ...init, headers: authHeaders(init.headers), signal: controller.signal });
      if (!response.ok) throw await responseError(response);
      const type = response.headers.get("Content-Type") || "";
      if (type.includes("text/event-stream")) {
        await readEvents(response.body, async (name, data) => {
          if (name.endsWith(".partial_image")) {
            card.partial(data);
          } else if (name === "strobe.progress") {
            const total = data.total_calls || 1;
            setStatus(`${verb}… ${Math.round((100 * data.completed_calls) / total)}%`, data.completed_calls / total);
          } else if (name.endsWith(".completed")) {
            await card.complete(data);
          } else if (name === "error") {
            throw new APIError(data.error || data, 0);
          }
        });
      } else {
        // A server that answered without streaming: the images response.
        const body = await response.json();
        for (const [index, image] of (body.data || []).entries()) {
          await card.complete({ ...image, image_index: index, size: body.size });
        }
      }
      if (card.completed < settings.n) throw new Error("The connection ended before every image arrived.");
      card.finish("done");
      const seeds = (card.settings.seeds || []).filter(Boolean);
      if (!settings.seed && seeds.length) {
        el.seedHint.textContent = `Blank: a new random seed each time. The last run used ${seeds[0]}.`;
      }
      const seconds = ((performance.now() - card.started) / 1000).toFixed(1);
      setStatus(`Done: ${card.completed} image${card.completed === 1 ? "" : "s"} in ${seconds} s.`, 1);
    } catch (error) {
      if (error && error.name === "AbortError") {
        card.finish("cancelled");
        setStatus("Cancelled.", 0);
      } else {
        card.finish("failed");
        if (card.completed === 0) card.root.remove();
        if (!el.results.querySelector(".run")) { el.empty.hidden = false; el.clearResults.hidden = true; }
        showError(error);
        setStatus("Failed.", 0);
      }
    } finally {
      state.controller = null;
      setRunning(false);
    }
  }

  // MARK: - Generate

  function generate(event) {
    event.preventDefault();
    if (state.controller || !state.model) return;
    let fields;
    try {
      const prompt = el.prompt.value.trim();
      if (!prompt) { el.prompt.focus(); throw new Error("Write a prompt first."); }
      fields = { prompt, aspect_ratio: el.ratio.value, ...sharedFields(), stream: true, response_format: "b64_json" };
    } catch (error) {
      showError(error);
      return;
    }
    run("/v1/images/generations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(fields),
    }, {
      operation: "generation", prompt: fields.prompt, ratio: fields.aspect_ratio, size: sizeOf(fields.aspect_ratio),
      seed: fields.seed, sampler: fields.sampler, steps: resolvedSteps(fields), n: fields.n,
    });
  }

  // MARK: - Modify and reframe

  function setSource(file) {
    if (!file) return;
    if (!/^image\/(png|jpeg)$/.test(file.type) && !/\.(png|jpe?g)$/i.test(file.name || "")) {
      showError(new Error(`“${file.name || "That file"}” is not a PNG or JPEG image.`));
      return;
    }
    clearError();
    if (state.source) URL.revokeObjectURL(state.source.url);
    const url = URL.createObjectURL(file);
    state.source = { file, url, width: 0, height: 0 };
    el.sourcePreview.src = url;
    el.sourceName.textContent = file.name || "image";
    el.sourceSize.textContent = "";
    el.editForm.hidden = false;
    el.dropzone.classList.add("compact");
    setRunning(!!state.controller);
  }

  function clearSource() {
    if (state.source) URL.revokeObjectURL(state.source.url);
    state.source = null;
    el.sourcePreview.removeAttribute("src");
    el.editForm.hidden = true;
    el.dropzone.classList.remove("compact");
    el.file.value = "";
    setRunning(!!state.controller);
  }

  function updateMode() {
    const reframe = el.modeReframe.checked;
    el.modifyOptions.hidden = reframe;
    el.reframeOptions.hidden = !reframe;
    el.editRun.textContent = reframe ? "Reframe" : "Modify";
  }

  function selectedAnchor() {
    const checked = el.anchor.querySelector("input:checked");
    return checked ? checked.value : "center";
  }

  function edit(event) {
    event.preventDefault();
    if (state.controller || !state.model || !state.source) return;
    const reframe = el.modeReframe.checked;
    let fields;
    try {
      fields = sharedFields();
    } catch (error) {
      showError(error);
      return;
    }
    const form = new FormData();
    form.append("image", state.source.file, state.source.file.name || "image.png");
    const prompt = el.editPrompt.value.trim();
    if (prompt) form.append("prompt", prompt);
    for (const name of ["n", "seed", "sampler", "steps"]) {
      if (fields[name] !== undefined) form.append(name, String(fields[name]));
    }
    form.append("stream", "true");
    form.append("response_format", "b64_json");
    const settings = {
      operation: reframe ? "reframe" : "modify", prompt, seed: fields.seed, sampler: fields.sampler,
      steps: resolvedSteps(fields), n: fields.n,
    };
    if (reframe) {
      form.append("aspect_ratio", el.reframeRatio.value);
      form.append("anchor", selectedAnchor());
      settings.ratio = el.reframeRatio.value;
      settings.anchor = selectedAnchor();
    } else {
      form.append("strength", el.strength.value);
      settings.strength = Number(el.strength.value);
      settings.steps = undefined; // a modification runs part of the schedule: the stream says how many
    }
    run(reframe ? "/v1/images/reframes" : "/v1/images/edits", { method: "POST", body: form }, settings);
  }

  function buildAnchors() {
    for (const anchor of ANCHORS) {
      const id = `anchor-${anchor}`;
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "anchor";
      input.id = id;
      input.value = anchor;
      input.className = "visually-hidden";
      if (anchor === "center") input.checked = true;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.title = anchor;
      const text = document.createElement("span");
      text.className = "visually-hidden";
      text.textContent = anchor.replace("-", " ");
      label.append(text);
      el.anchor.append(input, label);
    }
  }

  // MARK: - Drag and drop anywhere on the page

  let dragDepth = 0;
  function hasFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  }
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    el.overlay.hidden = false;
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) el.overlay.hidden = true;
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    el.overlay.hidden = true;
    const file = event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) setSource(file);
  });

  // MARK: - Wiring

  el.apiKey.value = storedKey();
  if (el.apiKey.value) el.keyPanel.open = false;
  let keyTimer = 0;
  el.apiKey.addEventListener("input", () => {
    storeKey(el.apiKey.value.trim());
    clearTimeout(keyTimer);
    keyTimer = setTimeout(loadModel, 400);
  });

  el.form.addEventListener("submit", generate);
  el.prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) el.form.requestSubmit();
  });
  el.ratio.addEventListener("change", updateSizeHint);
  el.sampler.addEventListener("change", () => updateSteps(true));
  el.seedClear.addEventListener("click", () => { el.seed.value = ""; el.seed.focus(); });
  el.cancel.addEventListener("click", () => { if (state.controller) state.controller.abort(); });

  el.file.addEventListener("change", () => setSource(el.file.files && el.file.files[0]));
  el.sourceClear.addEventListener("click", clearSource);
  el.sourcePreview.addEventListener("load", () => {
    if (!state.source) return;
    state.source.width = el.sourcePreview.naturalWidth;
    state.source.height = el.sourcePreview.naturalHeight;
    el.sourceSize.textContent = `${state.source.width} × ${state.source.height}`;
    // Reframing to the ratio the image already has does nothing: offer the next one instead.
    const shape = state.source.width / state.source.height;
    const same = (ratio) => {
      const [w, h] = ratio.split(":").map(Number);
      return Math.abs(Math.log(w / h / shape)) < 0.02;
    };
    if (same(el.reframeRatio.value)) {
      const other = [...el.reframeRatio.options].find((option) => !same(option.value));
      if (other) el.reframeRatio.value = other.value;
    }
  });
  el.sourcePreview.addEventListener("error", () => {
    if (!state.source) return;
    const name = state.source.file.name;
    clearSource();
    showError(new Error(`“${name}” could not be read as an image.`));
  });
  el.modeModify.addEventListener("change", updateMode);
  el.modeReframe.addEventListener("change", updateMode);
  el.strength.addEventListener("input", () => { el.strengthValue.textContent = Number(el.strength.value).toFixed(2); });
  el.editForm.addEventListener("submit", edit);
  el.clearResults.addEventListener("click", () => {
    for (const run of el.results.querySelectorAll(".run")) run.remove();
    for (const url of state.objectURLs) URL.revokeObjectURL(url);
    state.objectURLs = [];
    el.empty.hidden = false;
    el.clearResults.hidden = true;
  });

  buildAnchors();
  updateMode();
  setRunning(false);
  loadModel();
})();
