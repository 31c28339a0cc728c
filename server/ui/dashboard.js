// The server dashboard: renders what /ui/stream sends. No framework and no build step:
// the server embeds this file as it is. All the numbers come from the server; this only
// draws them.
"use strict";

const MAX_EVENT_ROWS = 2000; // older rows leave the table (the server keeps 100 000 events)
const devices = new Map(); // device id → "user/device", from the latest state

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  }
  return node;
}

function cell(value, klass, field) {
  const attrs = { class: klass || "" };
  if (field) attrs["data-field"] = field;
  return el("td", attrs, value);
}

function count(value, field) {
  return cell(value, "num" + (value > 0 ? " nonzero" : ""), field);
}

function fillBody(table, rows, empty) {
  const body = document.querySelector(`#${table} tbody`);
  if (rows.length === 0) {
    const columns = document.querySelectorAll(`#${table} thead th`).length;
    rows = [el("tr", {}, el("td", { class: "empty", colSpan: columns }, empty))];
  }
  body.replaceChildren(...rows);
}

function date(seconds) {
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(".000Z", "Z");
}

function bytes(n) {
  if (n == null) return "–";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function who(deviceId) {
  return devices.get(deviceId) || (deviceId ? `device ${deviceId}` : "");
}

function renderState(state) {
  const server = state.server;
  devices.clear();
  const deviceRows = [];
  for (const user of server.users) {
    for (const device of user.devices) {
      devices.set(device.id, `${user.username}/${device.name}`);
      deviceRows.push(el("tr", { "data-device-id": device.id, "data-device": `${user.username}/${device.name}` },
        cell(user.username), cell(device.name), cell(device.id, "mono"), cell(device.door, "", "door"),
        cell(device.qts, "num", "qts"), cell(device.pts, "num", "pts"),
        count(device.queued_messages, "queued_messages"),
        count(device.queued_other_updates, "queued_other_updates")));
    }
  }
  fillBody("devices", deviceRows, "no device has signed in");

  fillBody("auth-keys", server.mtproto.auth_keys.map((key) => el("tr", { "data-auth-key-id": key.auth_key_id },
    cell(key.auth_key_id, "mono"), cell(key.kind), cell(key.device_id ?? "–", "mono"),
    cell(key.layer ?? "–", "num"),
    cell(key.client ? `${key.client.device_model}, ${key.client.app_version} (api_id ${key.client.api_id})` : "–"),
    cell(key.sessions.length, "num"),
    cell(key.connections.map((c) => `${c.transport} from ${c.peer}`).join("; ") || "none"))),
    "no MTProto client has made a key");

  fillBody("chats", server.chats.map((chat) => el("tr", { "data-chat-id": chat.id },
    cell(chat.id, "mono"), cell(chat.state, `state-${chat.state}`, "state"),
    cell(who(chat.admin_device)),
    cell(chat.participant_device ? who(chat.participant_device) : `user ${chat.participant_id} (no device yet)`),
    cell(chat.spam_reports, "num"), cell(date(chat.date)))), "no secret chat yet");

  const files = server.files;
  document.getElementById("files-summary").textContent =
    `${files.stored} stored (${bytes(files.stored_bytes)}), ${files.uploads_in_progress} upload(s) in progress`;
  fillBody("files", state.files.map((file) => el("tr", {},
    cell(file.id, "mono"), cell(bytes(file.size), "num"), cell(file.key_fingerprint, "mono"),
    cell(date(file.date)))), "no file stored");

  fillBody("rules", state.faults.rules.map((rule) => el("tr", { "data-rule-id": rule.id },
    cell(rule.id), cell(rule.seed, "mono"), cell(JSON.stringify(rule.rule), "mono"),
    cell(rule.matched, "num"), cell(rule.applied, "num"), count(rule.held))),
    "no fault rule installed");

  fillBody("hostile", state.hostile.modes.map((mode) => el("tr", { "data-hostile-id": mode.id },
    cell(mode.id), cell(mode.seed, "mono"), cell(JSON.stringify(mode.hostile), "mono"),
    cell(mode.bound_chat_id ?? "–"), cell(mode.applied, "num"))), "no hostile mode installed");

  const offset = server.clock.offset_seconds;
  document.getElementById("clock").textContent =
    date(server.clock.now) + (offset ? ` (moved ${offset} s ahead)` : "");
  document.getElementById("memory").textContent = bytes(server.process.rss_bytes);
}

const SHOWN_APART = new Set(["id", "date", "event", "device"]);
let eventsSeen = 0;
let lastEventId = 0; // a reconnected stream starts with events already shown

function renderEvents(batch) {
  const fresh = batch.events.filter((event) => event.id > lastEventId);
  if (fresh.length === 0) return;
  lastEventId = fresh[fresh.length - 1].id;
  const scroll = document.getElementById("log-scroll");
  const atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 24;
  const body = document.querySelector("#events tbody");
  if (batch.missed > 0) {
    body.append(el("tr", { class: "missed" },
      el("td", { class: "empty", colSpan: 5 }, `${batch.missed} older events were forgotten`)));
  }
  const rows = fresh.map((event) => {
    if (event.event === "signed_in") devices.set(event.device, `${event.username}/${event.device_name}`);
    const details = Object.entries(event)
      .filter(([key]) => !SHOWN_APART.has(key))
      .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : value}`)
      .join("  ");
    return el("tr", { class: `fresh event-${event.event}`, "data-event-id": event.id },
      cell(event.id, "num"), cell(date(event.date)), cell(event.event, "", "event"),
      cell(who(event.device)), cell(details, "mono"));
  });
  body.append(...rows);
  eventsSeen += fresh.length;
  while (body.rows.length > MAX_EVENT_ROWS) body.deleteRow(0);
  document.getElementById("event-count").textContent =
    `(${eventsSeen} received, the last ${body.rows.length} shown)`;
  if (atBottom) scroll.scrollTop = scroll.scrollHeight;
}

function connect() {
  const status = document.getElementById("connection");
  const stream = new EventSource("/ui/stream");
  stream.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "online";
  });
  stream.addEventListener("state", (message) => renderState(JSON.parse(message.data)));
  stream.addEventListener("events", (message) => renderEvents(JSON.parse(message.data)));
  stream.addEventListener("error", () => {
    // EventSource reconnects by itself; say so meanwhile.
    status.textContent = "reconnecting…";
    status.className = "offline";
  });
}

connect();
