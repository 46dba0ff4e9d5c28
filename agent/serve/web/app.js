// The muie page: upload media, start a job, watch its steps (Server-Sent Events), show the
// result (masks, boxes, tracks, segments, tables), ask questions. Plain JavaScript; it talks
// to this server only, with the bearer token when the server asks for one.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const state = { token: sessionStorage.getItem("muie-token") || "", media: [], job: null, result: null,
                thread: null, urls: [] };
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
                "#469990", "#9a6324", "#800000", "#000075"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// -- talking to the server
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (state.token) headers.set("Authorization", "Bearer " + state.token);
  if (options.json !== undefined) {
    headers.set("Content-Type", "application/json");
    options = { ...options, body: JSON.stringify(options.json) };
  }
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) askForToken("the token was refused");
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new ApiError(response.status, message);
  }
  return response;
}

async function blobUrl(path) {
  const url = URL.createObjectURL(await (await api(path)).blob());
  state.urls.push(url);
  return url;
}

function askForToken(why) {
  $("#token-form").hidden = false;
  $("#server-status").textContent = why;
}

async function checkServer() {
  try {
    const models = await (await api("/v1/models")).json();
    $("#token-form").hidden = !state.token;
    $("#server-status").textContent = "connected: " + models.data.map((m) => m.id).join(", ");
    return true;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) $("#server-status").textContent = "server: " + e.message;
    return false;
  }
}

// -- inputs
function isText(file) { return file.type.startsWith("text/") || /\.(txt|md)$/i.test(file.name); }

async function addFiles(files) {
  for (const file of files) {
    if (isText(file)) {
      $("#text").value = (await file.text()).trim();
      continue;
    }
    const item = el("li", {}, el("span", {}, file.name), el("span", { class: "meta" }, "uploading..."));
    $("#media-list").append(item);
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const info = await (await api("/v1/media", { method: "POST", body: form })).json();
      const meta = [info.kind, (info.size / 1024).toFixed(0) + " KB"];
      if (info.width) meta.push(`${info.width}x${info.height}`);
      if (info.duration_s) meta.push(info.duration_s.toFixed(1) + " s");
      const entry = { name: file.name, ...info };
      state.media.push(entry);
      item.dataset.hash = info.hash;
      item.dataset.kind = info.kind;
      item.replaceChildren(el("span", {}, file.name), el("span", { class: "meta" }, meta.join(", ")),
        el("button", { type: "button", title: "leave out", onclick: () => {
          state.media = state.media.filter((m) => m !== entry);
          item.remove();
        } }, "x"));
    } catch (e) {
      item.classList.add("error");
      item.replaceChildren(el("span", {}, file.name), el("span", { class: "meta error" }, e.message));
    }
  }
}

function splitList(value) { return value.split(",").map((s) => s.trim()).filter(Boolean); }

function readSchema() {
  const raw = $("#schema-json").value.trim();
  if (raw) return JSON.parse(raw);
  const schema = {};
  const entities = splitList($("#entity-types").value);
  const relations = splitList($("#relation-types").value);
  if (entities.length) schema.entity_types = entities;
  if (relations.length) schema.relation_types = relations;
  const events = {};
  for (const m of $("#event-types").value.matchAll(/([^,()]+?)\s*(?:\(([^)]*)\))?\s*(?:,|$)/g)) {
    if (m[1].trim()) events[m[1].trim()] = m[2] ? splitList(m[2]) : [];
  }
  if (Object.keys(events).length) schema.event_types = events;
  return Object.keys(schema).length ? schema : null;
}

// -- a job
async function run() {
  $("#run-error").textContent = "";
  let schema;
  try { schema = readSchema(); } catch (e) { $("#run-error").textContent = "schema: " + e.message; return; }
  const body = { text: $("#text").value.trim() || null, schema,
                 images: state.media.filter((m) => m.kind === "image").map((m) => m.hash),
                 audio: state.media.filter((m) => m.kind === "audio").map((m) => m.hash),
                 video: state.media.filter((m) => m.kind === "video").map((m) => m.hash) };
  const tasks = [...document.querySelectorAll("#tasks input:checked")].map((i) => i.value);
  if (tasks.length < 3) body.tasks = tasks;
  clearResult();
  $("#run").disabled = true;
  try {
    state.job = await (await api("/v1/jobs", { method: "POST", json: body })).json();
    state.thread = null;
    setStatus(state.job.status);
    await follow(state.job.id);
  } catch (e) {
    $("#run-error").textContent = e.message;
  } finally {
    $("#run").disabled = false;
  }
}

function setStatus(status) {
  $("#job-status").textContent = "(" + status + ")";
  $("#progress").dataset.status = status;
}

async function follow(id) {
  const response = await api(`/v1/jobs/${id}/events`, { headers: { Accept: "text/event-stream" } });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) await onEvent(event, JSON.parse(data));
    }
  }
}

async function onEvent(event, data) {
  if (event === "status") setStatus(data.status);
  else if (event === "step") addStep(data);
  else if (event === "error") {
    setStatus("failed");
    $("#run-error").textContent = data.error ? data.error.message : "the job failed";
  } else if (event === "result") {
    setStatus("done");
    state.job = data;
    await showResult(data);
  }
}

function addStep(step) {
  const item = el("li", { value: step.step + 1, dataset: { node: step.node } },
    el("span", { class: "node" }, step.node), " ", step.summary || "");
  $("#steps").append(item);
  item.scrollIntoView({ block: "nearest" });
}

function clearResult() {
  for (const url of state.urls) URL.revokeObjectURL(url);
  state.urls = [];
  state.result = null;
  const parts = ["#steps", "#views", "#text-view", "#entities tbody", "#relations tbody", "#events tbody", "#answers"];
  for (const id of parts) $(id).replaceChildren();
  $("#question").disabled = $("#ask-button").disabled = true;
}

// -- the result
function where(g) {
  if (g.kind === "region") return `${g.input} box [${g.bbox.map(Math.round).join(", ")}]${g.mask ? " + mask" : ""}`;
  if (g.kind === "segment") return `${g.input} ${g.start_s.toFixed(2)}-${g.end_s.toFixed(2)} s`;
  if (g.kind === "track") {
    const f = g.frames;
    const span = f.length ? ` ${f[0].time_s.toFixed(1)}-${f[f.length - 1].time_s.toFixed(1)} s` : "";
    return `${g.input} track, ${f.length} frame(s)${span}`;
  }
  return g.input;
}

function mentionsWhere(mentions) { return mentions.map((m) => `${m.input}[${m.start}:${m.end}]`); }

async function showResult(job) {
  const result = job.result;
  state.result = result;
  const colour = {};
  result.entities.forEach((e, k) => { colour[e.id] = COLORS[k % COLORS.length]; });
  state.colour = colour;
  for (const input of result.inputs) {
    if (input.modality === "image") await showImage(job, input, result);
    else if (input.modality !== "text") await showPicture(job, input);
  }
  showText(job.text, result);
  const names = Object.fromEntries(result.entities.map((e) => [e.id, e.text]));
  for (const e of result.entities) {
    const places = [...mentionsWhere(e.mentions), ...e.groundings.map(where)];
    $("#entities tbody").append(el("tr", { dataset: { entity: e.id } }, el("td", {}, e.id),
      el("td", {}, el("span", { class: "swatch", style: { background: colour[e.id] } }), e.text), el("td", {}, e.type),
      el("td", {}, e.score.toFixed(2)), el("td", {}, places.join("; ") || "-")));
  }
  for (const r of result.relations) {
    $("#relations tbody").append(el("tr", { dataset: { relation: r.id } }, el("td", {}, r.id),
      el("td", {}, names[r.head]), el("td", {}, r.type), el("td", {}, names[r.tail]),
      el("td", {}, r.score.toFixed(2))));
  }
  for (const v of result.events) {
    const args = v.arguments.map((a) => `${a.role} = ${names[a.entity]}`).join(", ");
    const places = [...mentionsWhere(v.trigger.mentions), ...v.trigger.groundings.map(where)];
    $("#events tbody").append(el("tr", { dataset: { event: v.id } }, el("td", {}, v.id), el("td", {}, v.type),
      el("td", {}, v.trigger.text), el("td", {}, args || "-"), el("td", {}, places.join("; ") || "-")));
  }
  $("#result").dataset.entities = result.entities.length;
  $("#question").disabled = $("#ask-button").disabled = false;
}

async function showImage(job, input, result) {
  const digest = job.media[input.id];
  const img = el("img", { alt: `${input.id} as uploaded` });
  const layer = (name) => el("canvas", { class: name, width: input.width, height: input.height,
                                         dataset: { input: input.id } });
  const overlay = layer("overlay");
  const highlight = layer("highlight");
  const rendered = el("img", { class: "picture", alt: `${input.id} as the server drew it` });
  const figure = el("figure", { dataset: { input: input.id } }, el("div", { class: "stage" }, img, overlay, highlight),
    el("figcaption", {}, `${input.id}: ${input.width}x${input.height}, masks, boxes and labels`),
    el("details", {}, el("summary", {}, "as the server drew it"), rendered));
  $("#views").append(figure);
  img.src = await blobUrl(`/v1/media/${digest}/content`);
  const name = `${input.id}.png`;
  if (job.renders.includes(name)) rendered.src = await blobUrl(`/v1/jobs/${job.id}/render/${name}`);
  drawRegions(overlay, regionsOf(result, input.id), state.colour);
}

function regionsOf(result, inputId) {
  const out = [];
  const here = (g) => g.kind === "region" && g.input === inputId;
  for (const e of result.entities)
    for (const g of e.groundings.filter(here)) out.push({ id: e.id, label: `${e.text} (${e.type})`, g });
  for (const v of result.events)
    for (const g of v.trigger.groundings.filter(here)) out.push({ id: v.id, label: v.type, g });
  return out;
}

function drawRegions(canvas, regions, colour) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const pixels = ctx.createImageData(width, height);
  let masks = 0;
  for (const r of regions) {
    if (!r.g.mask) continue;
    const rgb = hexRgb(colour[r.id] || "#ffd400");
    paintMask(pixels, decodeRle(r.g.mask), rgb, 110);
    masks += 1;
  }
  ctx.putImageData(pixels, 0, 0);
  const font = Math.max(12, Math.round(width / 45));
  ctx.font = `${font}px sans-serif`;
  ctx.lineWidth = Math.max(2, width / 320);
  for (const r of regions) {
    const [x0, y0, x1, y1] = r.g.bbox;
    ctx.strokeStyle = colour[r.id] || "#ffd400";
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    const w = ctx.measureText(r.label).width + 8;
    const ty = y0 >= font + 4 ? y0 - font - 4 : y0;
    ctx.fillStyle = colour[r.id] || "#ffd400";
    ctx.fillRect(x0, ty, w, font + 4);
    ctx.fillStyle = "#fff";
    ctx.fillText(r.label, x0 + 4, ty + font);
  }
  canvas.dataset.regions = regions.length;
  canvas.dataset.masks = masks;
}

function hexRgb(hex) { return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)); }

// COCO compressed RLE (pycocotools' rleFrString): runs of 0s and 1s, column-major, over size [h, w].
function decodeRle(mask) {
  const [h, w] = mask.size;
  const s = mask.counts;
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      const c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p += 1; k += 1;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return { h, w, counts };
}

function paintMask(pixels, rle, rgb, alpha) {
  const { h, w, counts } = rle;
  if (w !== pixels.width || h !== pixels.height) return;
  let i = 0;
  counts.forEach((n, k) => {
    if (k % 2 === 1) {
      for (let j = i; j < i + n; j++) {
        const o = ((j % h) * w + Math.floor(j / h)) * 4;
        pixels.data[o] = rgb[0]; pixels.data[o + 1] = rgb[1]; pixels.data[o + 2] = rgb[2]; pixels.data[o + 3] = alpha;
      }
    }
    i += n;
  });
}

async function showPicture(job, input) {
  const name = `${input.id}.png`;
  const figure = el("figure", { dataset: { input: input.id } });
  const caption = input.modality === "audio"
    ? `${input.id}: ${input.duration_s.toFixed(1)} s, waveform with the labelled segments`
    : `${input.id}: ${input.frames} frames at ${input.fps.toFixed(1)} fps, a strip of frames with the tracks`;
  if (job.renders.includes(name)) {
    const src = await blobUrl(`/v1/jobs/${job.id}/render/${name}`);
    figure.append(el("img", { class: "picture", alt: caption, src }));
  }
  const player = el(input.modality === "audio" ? "audio" : "video", { controls: "", preload: "metadata" });
  player.src = await blobUrl(`/v1/media/${job.media[input.id]}/content`);
  figure.append(el("figcaption", {}, caption), player);
  $("#views").append(figure);
}

function showText(text, result) {
  if (!text) return;
  const spans = [];
  const inText = (m) => m.input === "text";
  for (const e of result.entities)
    for (const m of e.mentions.filter(inText)) spans.push({ ...m, label: e.type, id: e.id });
  for (const v of result.events)
    for (const m of v.trigger.mentions.filter(inText)) spans.push({ ...m, label: v.type, id: v.id });
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts = [];
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    const mark = el("mark", { dataset: { id: s.id, start: s.start } }, text.slice(s.start, s.end),
      el("small", {}, s.label));
    parts.push(text.slice(at, s.start), mark);
    at = s.end;
  }
  parts.push(text.slice(at));
  $("#text-view").replaceChildren(...parts);
}

// -- questions
async function ask(event) {
  event.preventDefault();
  const question = $("#question").value.trim();
  if (!question || !state.job) return;
  $("#ask-button").disabled = true;
  const box = el("div", { class: "answer" }, el("div", { class: "q" }, "Q: " + question),
    el("div", { class: "a" }, "..."));
  $("#answers").prepend(box);
  try {
    const json = { question, job: state.job.id, thread_id: state.thread };
    const answer = await (await api("/v1/ask", { method: "POST", json })).json();
    state.thread = answer.thread_id || state.thread;
    showAnswer(box, answer);
  } catch (e) {
    $(".a", box).textContent = e.message;
    box.classList.add("error");
  } finally {
    $("#ask-button").disabled = false;
  }
}

function showAnswer(box, answer) {
  $(".a", box).textContent = answer.answer;
  box.dataset.source = answer.source;
  const list = el("ul", { class: "citations" });
  for (const c of answer.citations) {
    const span = c.start !== null && c.start !== undefined ? `${c.input}[${c.start}:${c.end}]` : c.input;
    const place = c.grounding ? where(c.grounding) : span;
    list.append(el("li", { dataset: { input: c.input, kind: c.grounding ? c.grounding.kind : "text" } },
      el("b", {}, c.what), c.type ? ` (${c.type})` : "", " at " + place));
  }
  box.append(list);
  highlight(answer.citations);
}

function highlight(citations) {
  for (const canvas of document.querySelectorAll("canvas.highlight")) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = Math.max(4, canvas.width / 120);
    ctx.strokeStyle = "#ffd400";
    let n = 0;
    for (const c of citations) {
      const g = c.grounding;
      if (!g || g.kind !== "region" || g.input !== canvas.dataset.input) continue;
      const [x0, y0, x1, y1] = g.bbox;
      ctx.setLineDash([ctx.lineWidth * 2, ctx.lineWidth]);
      ctx.strokeRect(x0 - ctx.lineWidth, y0 - ctx.lineWidth, x1 - x0 + 2 * ctx.lineWidth, y1 - y0 + 2 * ctx.lineWidth);
      n += 1;
    }
    canvas.dataset.cited = n;
  }
  const cited = new Set(citations.map((c) => c.what));
  for (const row of document.querySelectorAll("#entities tbody tr"))
    row.classList.toggle("cited", cited.has(row.children[1].textContent));
  for (const mark of document.querySelectorAll("#text-view mark"))
    mark.classList.toggle("cited", cited.has(mark.firstChild.textContent));
}

// -- wiring
function wire() {
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    addFiles([...e.dataTransfer.files]);
  });
  $("#files").addEventListener("change", (e) => { addFiles([...e.target.files]); e.target.value = ""; });
  $("#run").addEventListener("click", run);
  $("#ask-form").addEventListener("submit", ask);
  $("#token-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    state.token = $("#token").value.trim();
    sessionStorage.setItem("muie-token", state.token);
    await checkServer();
  });
  checkServer();
}

wire();
