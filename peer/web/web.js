// The web view of one run: draws what the peer's Rust side sends and computes nothing of
// the protocol itself — every byte split, derivation and field offset arrives as JSON
// (GET /api/entry/N). No framework and no build step: the binary embeds this file as is.
//
// Rows arrive in order over /api/stream and are kept as compact arrays
// [index, millis, kind, from, to, label, flags]; the diagram draws only the rows in view
// (a fixed row height, absolutely placed), so a run of tens of thousands of rows scrolls
// as lightly as a short one. Details are fetched when a row is chosen.
"use strict";

const ROW = 26; // px, as --row in web.css
const OVERSCAN = 20; // rows drawn beyond the visible ones
const ARROWS = new Set(["call", "answer", "update", "error"]);
const BANDS = new Set(["fault", "hostile", "verdict"]);
const ENCRYPTED = 1;
const FAILED = 2;

const state = {
  rows: [], // every row, by index
  calls: 0,
  shown: [], // indexes of the rows drawn (notes may be hidden)
  lanes: ["server"],
  selected: null, // a row index
  details: new Map(), // index → detail JSON
  showNotes: true,
  showEmpty: false, // empty polls: getDifference calls answered updates.differenceEmpty
  emptyCalls: new Set(),
  follow: true,
  ended: false,
  firstRowsAt: null, // performance.now() when the first rows were drawn
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key === "title" || key === "href" || key === "src" || key === "alt" || key === "target") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- lanes: the server in the middle, devices around it --------------------------------

function laneOrder() {
  const devices = state.lanes.map((_, i) => i).filter((i) => i !== 0);
  const half = Math.ceil(devices.length / 2);
  return [...devices.slice(0, half), 0, ...devices.slice(half)];
}

function laneX(lane) {
  const order = laneOrder();
  const width = $("diagram").clientWidth || 600;
  const left = 70, right = 30;
  const step = order.length > 1 ? (width - left - right) / (order.length - 1) : 0;
  return left + order.indexOf(lane) * step;
}

function drawLanes() {
  const header = $("lanes");
  header.replaceChildren(...state.lanes.map((name, lane) =>
    el("div", { style: `left:${laneX(lane)}px`, "data-lane": lane }, name)));
}

// ---- the diagram, windowed -------------------------------------------------------------

function isEmptyPoll(row) {
  return (row[2] === "answer" && row[5] === "updates.differenceEmpty") || state.emptyCalls.has(row[0]);
}

function isShown(row) {
  if (!state.showNotes && (row[2] === "note" || row[2] === "key")) return false;
  return state.showEmpty || !isEmptyPoll(row);
}

function rebuildShown() {
  state.shown = state.rows.filter(isShown).map((row) => row[0]);
}

function time(millis) {
  return (millis / 1000).toFixed(2) + "s";
}

function drawRow(index, position) {
  const [i, millis, kind, from, to, label, flags] = state.rows[index];
  const row = el("div", { class: "row" + (state.selected === i ? " selected" : ""), "data-index": i, "data-kind": kind });
  row.style.top = `${position * ROW}px`;
  row.append(el("span", { class: "time" }, time(millis)));
  if (ARROWS.has(kind)) {
    const a = laneX(from), b = laneX(to);
    const arrow = el("div", {
      class: `arrow ${kind} ${b >= a ? "right" : "left"}` + (flags & ENCRYPTED ? " encrypted" : ""),
      title: label,
    }, el("span", {}, label));
    arrow.style.left = `${Math.min(a, b)}px`;
    arrow.style.width = `${Math.max(Math.abs(b - a), 8)}px`;
    row.append(arrow);
  } else if (BANDS.has(kind)) {
    row.append(el("div", { class: `band ${kind}` + (flags & FAILED ? " failed" : ""), title: label }, `${kind}: ${label}`));
  } else {
    const note = el("div", { class: `note ${kind}`, title: label }, label);
    const x = laneX(from);
    if (x > ($("diagram").clientWidth || 600) / 2) note.style.right = `${($("diagram").clientWidth || 600) - x + 4}px`;
    else note.style.left = `${x + 4}px`;
    row.append(note);
  }
  return row;
}

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

let drawn = ""; // what the rows on screen show: redrawn only when it changes

function draw() {
  const diagram = $("diagram");
  const spacer = $("spacer");
  spacer.style.height = `${state.shown.length * ROW}px`;
  const first = Math.max(0, Math.floor(diagram.scrollTop / ROW) - OVERSCAN);
  const last = Math.min(state.shown.length, Math.ceil((diagram.scrollTop + diagram.clientHeight) / ROW) + OVERSCAN);
  const now = [first, last, state.shown[first], state.shown[last - 1], state.selected, state.lanes.length, diagram.clientWidth].join(":");
  if (now === drawn) return;
  drawn = now;
  const nodes = state.lanes.map((_, lane) => {
    const line = el("div", { class: "lane-line" });
    line.style.left = `${laneX(lane)}px`;
    return line;
  });
  for (let position = first; position < last; position++) nodes.push(drawRow(state.shown[position], position));
  spacer.replaceChildren(...nodes);
}

function positionOf(index) {
  // state.shown is sorted: binary search.
  let low = 0, high = state.shown.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (state.shown[mid] === index) return mid;
    if (state.shown[mid] < index) low = mid + 1; else high = mid - 1;
  }
  return -1;
}

function scrollToIndex(index) {
  const position = positionOf(index);
  if (position < 0) return;
  const diagram = $("diagram");
  const top = position * ROW;
  if (top < diagram.scrollTop || top + ROW > diagram.scrollTop + diagram.clientHeight) {
    diagram.scrollTop = Math.max(0, top - diagram.clientHeight / 2);
  }
  draw();
}

// ---- details ---------------------------------------------------------------------------

function section(title, ...content) {
  return [el("h3", {}, title), ...content];
}

function specLink(spec) {
  return spec ? el("a", { href: `/spec#s${spec}`, target: "_blank", title: `SPEC §${spec}` }, `§${spec}`) : "";
}

function pretty(jsonText) {
  try { return JSON.stringify(JSON.parse(jsonText), null, 2); } catch { return jsonText; }
}

function wireView(anatomy) {
  const parts = anatomy.parts.map((part) => el("span", {
    class: `part part-${part.name}`, "data-part": part.name, "data-hex": part.hex,
    title: `${part.name}: bytes ${part.start}..${part.end}`,
  }, part.hex));
  const legend = el("div", { class: "legend" }, ...anatomy.parts.map((part) =>
    el("span", {}, el("i", { class: `part-${part.name}` }), `${part.name} [${part.start}..${part.end}) `, specLink(part.spec))));
  return [legend, el("div", { class: "hex wire", "data-testid": "wire" }, ...parts)];
}

function derivationView(anatomy) {
  const hashes = anatomy.derivation.hashes.map((step) => el("tr", {},
    el("td", {}, el("b", {}, step.name)),
    el("td", { class: "hex" }, ...step.parts.flatMap((p, i) => [i ? " ‖ " : "", el("span", { title: p.hex }, `${p.name} = ${p.hex}`)])),
    el("td", { class: "hex" }, step.result)));
  const outputs = anatomy.derivation.outputs.map((step) => el("tr", {},
    el("td", {}, el("b", {}, step.name)),
    el("td", { class: "hex" }, step.parts.map((p) => p.name).join(" ‖ ")),
    el("td", { class: "hex", "data-output": step.name }, step.result)));
  return el("table", { "data-testid": "derivation" },
    el("tr", {}, el("th", {}, "hash"), el("th", {}, "inputs (real bytes)"), el("th", {}, "digest")), ...hashes,
    el("tr", {}, el("th", {}, "output"), el("th", {}, "glued from"), el("th", {}, "value")), ...outputs);
}

function fieldsView(anatomy) {
  const parity = anatomy.sequence || {};
  const rows = anatomy.fields.map((field) => {
    let value = field.value ?? "";
    if ((field.name === "in_seq_no" || field.name === "out_seq_no") && parity[field.name]) {
      const seq = parity[field.name];
      value = `${seq.wire} = 2·${seq.raw ?? "?"} + ${seq.wire & 1}` + (parity.sender_by_parity ? ` (sent by the ${parity.sender_by_parity})` : "");
    }
    return el("tr", { "data-field": field.name },
      el("td", {}, `${field.start}..${field.end}`),
      el("td", { class: `depth${Math.min(field.depth, 4)} kind-${field.kind}` }, field.name),
      el("td", { class: "hex" }, field.hex.length > 96 ? field.hex.slice(0, 96) + "…" : field.hex),
      el("td", {}, String(value)),
      el("td", {}, specLink(field.spec)));
  });
  return el("table", { "data-testid": "fields" },
    el("tr", {}, el("th", {}, "bytes"), el("th", {}, "field"), el("th", {}, "hex"), el("th", {}, "value"), el("th", {}, "SPEC")), ...rows);
}

function anatomyView(anatomy) {
  const out = [...section("The bytes", ...wireView(anatomy))];
  if (anatomy.key) out.push(el("p", { class: "sub" }, `key ${anatomy.key.fingerprint}, held by ${anatomy.key.holders.join("; ")}`));
  if (anatomy.error) out.push(el("p", { class: "error", "data-testid": "anatomy-error" }, anatomy.error));
  if (!anatomy.derivation) return out;
  out.push(...section(`Decrypted: ${anatomy.version}, x = ${anatomy.x}` + (anatomy.sender ? ` (sent by the ${anatomy.sender})` : ""),
    anatomy.text != null ? el("p", {}, el("span", { class: "text", "data-testid": "decrypted-text" }, anatomy.text)) : null));
  out.push(...section("msg_key", el("p", { class: "formula" }, anatomy.msg_key.formula),
    el("p", { class: "hex" }, `hash = ${anatomy.msg_key.hash}`)));
  out.push(...section("Key derivation: msg_key → aes_key, aes_iv", derivationView(anatomy)));
  out.push(...section("The decrypted bytes, field by field", fieldsView(anatomy)));
  if (anatomy.object) out.push(...section("The object", el("pre", {}, JSON.stringify(anatomy.object, null, 2))));
  if (anatomy.tl_error) out.push(el("p", { class: "error" }, anatomy.tl_error));
  return out;
}

function showDetail(detail) {
  const pane = $("detail");
  const heading = ARROWS.has(detail.kind)
    ? `${detail.label}`
    : `${detail.kind}: ${detail.label}`;
  const where = ARROWS.has(detail.kind) ? `${detail.from} → ${detail.to}` : detail.from;
  const parts = [
    el("h2", { "data-testid": "detail-title" }, heading),
    el("p", { class: "sub" }, `#${detail.index} · ${where} · ${time(detail.millis)}` + (detail.method ? ` · answer to ${detail.method} (#${detail.call})` : "")),
  ];
  if (detail.json) {
    const title = detail.kind === "call" ? "JSON as sent" : detail.kind === "update" ? "The update" : "JSON";
    parts.push(...section(title, el("pre", { "data-testid": "json" }, pretty(detail.json))));
  }
  if (detail.anatomy) parts.push(...anatomyView(detail.anatomy));
  pane.replaceChildren(...parts);
  pane.scrollTop = 0;
}

async function select(index) {
  state.selected = index;
  scrollToIndex(index);
  let detail = state.details.get(index);
  if (!detail) {
    const response = await fetch(`/api/entry/${index}`);
    detail = await response.json();
    // An entry's details are final once the run has ended (every key is known by then).
    if (state.ended) state.details.set(index, detail);
  }
  if (state.selected === index) showDetail(detail);
}

function step(direction) {
  const arrows = state.shown.filter((i) => ARROWS.has(state.rows[i][2]));
  if (arrows.length === 0) return;
  let next;
  if (state.selected == null) next = direction > 0 ? arrows[0] : arrows[arrows.length - 1];
  else if (direction > 0) next = arrows.find((i) => i > state.selected) ?? arrows[arrows.length - 1];
  else next = [...arrows].reverse().find((i) => i < state.selected) ?? arrows[0];
  $("follow").checked = state.follow = false;
  select(next);
}

// ---- key pictures ----------------------------------------------------------------------

function drawPictures(pictures) {
  const byChat = new Map();
  for (const picture of [...pictures].sort((a, b) => a.lane - b.lane)) {
    if (!byChat.has(picture.chat_id)) byChat.set(picture.chat_id, []);
    byChat.get(picture.chat_id).push(picture);
  }
  const groups = [...byChat.entries()].map(([chat, sides]) => {
    const same = sides.length > 1 && sides.every((side) => side.hex === sides[0].hex);
    const verdict = sides.length < 2 ? el("span", { class: "sub" }, "one side so far")
      : same ? el("span", { class: "verdict-same" }, "the same picture on both sides")
        : el("span", { class: "verdict-differ" }, "DIFFERENT pictures: the two sides hold different keys");
    return el("div", { class: "chat-pictures", "data-chat": chat },
      el("div", { class: "sub" }, `chat ${chat}`),
      ...sides.map((side) => el("figure", {},
        el("img", { src: `/key/${side.lane}/${chat}.png?h=${side.hex.slice(0, 16)}`, alt: `key picture of ${side.device}`, "data-device": side.device, class: "key-picture" }),
        el("figcaption", {}, side.device))),
      verdict);
  });
  if (groups.length) $("pictures").replaceChildren(...groups);
}

// ---- the live stream -------------------------------------------------------------------

function onRun(run) {
  const lanesChanged = run.lanes.length !== state.lanes.length;
  state.lanes = run.lanes;
  if (lanesChanged) drawLanes();
  drawPictures(run.pictures);
  if (run.finished) {
    state.ended = true;
    $("status").textContent = "run ended (the page stays)";
    $("status").className = "ended";
    $("summary").textContent = run.finished.join("\n");
    $("summary-box").hidden = false;
  }
  scheduleDraw();
}

function onRows(batch) {
  if (batch.from !== state.rows.length) return; // a reconnected stream repeats what we have
  for (const row of batch.rows) {
    state.rows.push(row);
    if (row[2] === "call") state.calls += 1;
    if (row[2] === "answer" && row[5] === "updates.differenceEmpty" && row[7] != null) {
      state.emptyCalls.add(row[7]);
      // Its call is already drawn: take it out (it is near the end).
      if (!state.showEmpty) {
        const at = state.shown.lastIndexOf(row[7]);
        if (at >= 0) state.shown.splice(at, 1);
      }
    }
    if (isShown(row)) state.shown.push(row[0]);
  }
  if (state.firstRowsAt == null) state.firstRowsAt = performance.now();
  $("counts").textContent = `${state.rows.length} entries, ${state.calls} calls`;
  scheduleDraw();
  if (state.follow && !state.ended) {
    requestAnimationFrame(() => { $("diagram").scrollTop = state.shown.length * ROW; });
  }
}

function connect() {
  const stream = new EventSource("/api/stream");
  stream.addEventListener("open", () => {
    if (!state.ended) { $("status").textContent = "live"; $("status").className = "live"; }
  });
  stream.addEventListener("run", (message) => onRun(JSON.parse(message.data)));
  stream.addEventListener("rows", (message) => onRows(JSON.parse(message.data)));
}

// ---- wiring ----------------------------------------------------------------------------

$("diagram").addEventListener("scroll", scheduleDraw);
$("diagram").addEventListener("click", (event) => {
  const row = event.target.closest(".row");
  if (row) {
    $("follow").checked = state.follow = false;
    select(Number(row.dataset.index));
  }
});
$("prev").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
document.addEventListener("keydown", (event) => {
  if (event.key === "ArrowRight" || event.key === "ArrowDown") { step(1); event.preventDefault(); }
  if (event.key === "ArrowLeft" || event.key === "ArrowUp") { step(-1); event.preventDefault(); }
});
$("show-notes").addEventListener("change", (event) => {
  state.showNotes = event.target.checked;
  rebuildShown();
  scheduleDraw();
});
$("show-empty").addEventListener("change", (event) => {
  state.showEmpty = event.target.checked;
  rebuildShown();
  scheduleDraw();
});
$("follow").addEventListener("change", (event) => { state.follow = event.target.checked; });
window.addEventListener("resize", () => { drawLanes(); scheduleDraw(); });

// For tests and measurements: what the page holds and draws.
window.webView = {
  rows: () => state.rows,
  shownCount: () => state.shown.length,
  drawnRows: () => document.querySelectorAll("#spacer .row").length,
  ended: () => state.ended,
  scrollToIndex,
  select,
  drawNow: draw,
  firstRowsAt: () => state.firstRowsAt,
};

drawLanes();
connect();
