// acqflow web monitor: draws /ws updates (graph, stats, previews); sends controls with the token.
"use strict";

const STATE_COLORS = {running: "#2ca02c", initialized: "#1f77b4", stopped: "#7f7f7f",
  configured: "#9467bd", new: "#9467bd", closed: "#404040", error: "#d62728", restarting: "#ff7f0e"};
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (sel) => document.querySelector(sel);
const wanted = new Set();          // outputs ("node.output") whose previews are shown
const lastLoss = {};               // stream key -> gaps + dropped at the previous update
let socket = null, updates = 0;

const tokenInput = $("#token");
function tokenFromHash() {          // the link printed at start: http://HOST:PORT/#token=...
  const t = new URLSearchParams(location.hash.slice(1)).get("token");
  if (t) tokenInput.value = t;
  return t;
}
tokenFromHash();
window.addEventListener("hashchange", () => { if (tokenFromHash() && socket) socket.close(); });
const token = () => tokenInput.value.trim();

function fmt(v, digits = 0, scale = 1) {
  return v === null || v === undefined ? "-" : (v * scale).toLocaleString("en-US",
    {minimumFractionDigits: digits, maximumFractionDigits: digits});
}

function el(tag, attrs = {}, text = null, ns = null) {
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

function message(text, bad = false) {
  const m = $("#message");
  m.textContent = text;
  m.className = "message" + (bad ? " bad" : "");
}

// -- controls ---------------------------------------------------------------------
async function control(path, label) {
  const headers = token() ? {"Authorization": "Bearer " + token()} : {};
  message(label + "...");
  try {
    const r = await fetch(path, {method: "POST", headers});
    const body = await r.json().catch(() => ({error: r.statusText}));
    if (r.ok) {
      message(label + ": ok (" + Object.entries(body.states || {}).map(([n, s]) => n + " " + s).join(", ") + ")");
    } else {
      message(label + ": refused (" + r.status + "): " + body.error, true);
    }
  } catch (err) {
    message(label + ": " + err, true);
  }
}

function buttons(kind, name) {
  const td = el("td");
  for (const action of ["start", "stop", "restart"]) {
    const b = el("button", {"data-action": action, ["data-" + kind]: name}, action);
    b.addEventListener("click", () => control(`/api/${kind === "node" ? "nodes" : "groups"}/` +
      `${encodeURIComponent(name)}/${action}`, `${action} ${kind} ${name}`));
    td.appendChild(b);
  }
  return td;
}

document.querySelectorAll("[data-recording]").forEach((b) => b.addEventListener("click",
  () => control("/api/recording/" + b.dataset.recording, b.dataset.recording + " recording")));

// -- tables -----------------------------------------------------------------------
function upsert(tableId, key, attr, cells, extra = null) {
  const body = $(`#${tableId} tbody`);
  let tr = body.querySelector(`tr[${attr}="${CSS.escape(key)}"]`);
  if (!tr) {
    tr = el("tr", {[attr]: key});
    cells.forEach((c) => tr.appendChild(el("td", {class: c.cls || ""})));
    if (extra) tr.appendChild(extra());
    body.appendChild(tr);
  }
  cells.forEach((c, i) => {
    const td = tr.children[i];
    td.textContent = c.text;
    td.className = c.cls || "";
  });
  tr.dataset.seen = updates;
}

function prune(tableId) {
  document.querySelectorAll(`#${tableId} tbody tr`).forEach((tr) => {
    if (tr.dataset.seen !== String(updates)) tr.remove();
  });
}

function drawTables(graph, stats) {
  const transport = {};
  graph.connections.forEach((c) => transport[`${c.source}.${c.output}`] = `${c.protocol || "?"}/${c.transfermode || "?"}`);
  for (const s of stats.streams) {
    const key = `${s.source}.${s.output}->${s.target}.${s.input}`;
    const loss = s.gaps + s.dropped;
    const lossy = key in lastLoss && loss > lastLoss[key];
    lastLoss[key] = loss;
    upsert("streams", key, "data-stream", [
      {text: `${s.source}.${s.output} → ${s.target}.${s.input}`},
      {text: transport[`${s.source}.${s.output}`] || "-"},
      {text: fmt(s.rate), cls: "num rate"}, {text: fmt(s.sample_rate), cls: "num"},
      {text: fmt(s.latency, 2, 1e3), cls: "num"}, {text: fmt(s.latency_p99, 2, 1e3), cls: "num"},
      {text: String(s.gaps), cls: "num gaps" + (lossy ? " loss" : "")},
      {text: String(s.dropped), cls: "num dropped" + (lossy ? " loss" : "")}]);
  }
  for (const n of graph.nodes) {
    const st = stats.nodes[n.name] || {};
    upsert("nodes", n.name, "data-node", [{text: n.name}, {text: n.type}, {text: n.group}, {text: n.host},
      {text: n.state + (n.error ? `: ${n.error}` : ""), cls: `state st-${n.state}`},
      {text: fmt(st.cpu, 1), cls: "num cpu"}], () => buttons("node", n.name));
  }
  for (const g of graph.groups) {
    upsert("groups", g.name, "data-group", [{text: g.name}, {text: g.host}, {text: String(g.pid ?? "-")},
      {text: g.state + (g.reason ? `: ${g.reason}` : ""), cls: `state st-${g.state}`},
      {text: String(g.restarts), cls: "num"}], () => buttons("group", g.name));
  }
  ["streams", "nodes", "groups"].forEach(prune);
  $("#recording").hidden = !graph.nodes.some((n) => n.recorder);
}

// -- the graph: one lane per group (sorted by host), columns by depth ----------------
function layout(graph) {
  const depth = {};
  graph.nodes.forEach((n) => depth[n.name] = 0);
  for (let i = 0; i < graph.nodes.length; i++) {
    let changed = false;
    for (const c of graph.connections) {
      if (c.source in depth && c.target in depth && c.source !== c.target &&
          depth[c.target] < depth[c.source] + 1 && depth[c.source] + 1 <= graph.nodes.length) {
        depth[c.target] = depth[c.source] + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const lanes = [...graph.groups].sort((a, b) => (a.host + a.name).localeCompare(b.host + b.name));
  const W = 170, H = 50, PAD = 14, LABEL = 150, GAP = 190;
  const pos = {}, boxes = [];
  let y = PAD;
  for (const g of lanes) {
    const slots = {};
    const members = graph.nodes.filter((n) => n.group === g.name);
    members.forEach((n) => { const d = depth[n.name]; slots[d] = (slots[d] || 0) + 1; });
    const rows = Math.max(1, ...Object.values(slots));
    const used = {};
    for (const n of members) {
      const d = depth[n.name], r = used[d] = (used[d] || 0) + 1;
      pos[n.name] = {x: LABEL + PAD + d * (W + GAP), y: y + 8 + (r - 1) * (H + 10)};
    }
    const h = rows * (H + 10) + 6;
    boxes.push({group: g, y, h});
    y += h + 8;
  }
  const cols = Math.max(1, ...Object.values(depth).map((d) => d + 1));
  return {pos, boxes, W, H, LABEL, width: LABEL + PAD + cols * (W + GAP) - GAP + PAD, height: Math.max(y + PAD, 80)};
}

function drawGraph(graph, stats) {
  const svg = $("#graph");
  const L = layout(graph);
  svg.replaceChildren();
  svg.setAttribute("height", L.height);
  svg.setAttribute("viewBox", `0 0 ${Math.max(L.width, 600)} ${L.height}`);
  svg.style.minWidth = Math.max(L.width, 600) + "px";
  for (const b of L.boxes) {
    svg.appendChild(el("rect", {class: "lane", x: 4, y: b.y, width: L.width - 8, height: b.h, rx: 6}, null, SVGNS));
    const g = b.group;
    svg.appendChild(el("text", {class: "lane-label", x: 12, y: b.y + 18}, g.name, SVGNS));
    svg.appendChild(el("text", {class: "lane-label", x: 12, y: b.y + 33},
      `${g.host} · pid ${g.pid ?? "-"}`, SVGNS));
    svg.appendChild(el("text", {class: "lane-label", x: 12, y: b.y + 48}, g.state, SVGNS));
  }
  const rates = {}, labels = [];
  stats.streams.forEach((s) => rates[`${s.source}.${s.output}->${s.target}.${s.input}`] = s);
  for (const c of graph.connections) {
    const a = L.pos[c.source], b = L.pos[c.target];
    if (!a || !b) continue;
    const key = `${c.source}.${c.output}->${c.target}.${c.input}`, s = rates[key] || {};
    const x0 = a.x + L.W, y0 = a.y + L.H / 2, x1 = b.x, y1 = b.y + L.H / 2;
    const lossy = (s.gaps || 0) + (s.dropped || 0) > 0;
    const color = !s.rate ? "#777" : (lossy ? "#ff8c00" : "#50c850");
    const mx = (x0 + x1) / 2;
    svg.appendChild(el("path", {class: "edge", stroke: color, "data-edge": key,
      d: `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`}, null, SVGNS));
    labels.push({curve: [x0, y0, mx, x1, y1], lines: [
      `${c.output}→${c.input} · ${c.protocol || "?"}${c.transfermode === "sharedmem" ? "/shm" : ""}`,
      `${fmt(s.rate)}/s · ${fmt(s.latency, 1, 1e3)} ms · gaps ${s.gaps ?? "-"} · drop ${s.dropped ?? "-"}`]});
  }
  const taken = [];
  for (const n of graph.nodes) {
    const p = L.pos[n.name], st = stats.nodes[n.name] || {};
    taken.push({x: p.x, y: p.y, w: L.W, h: L.H});
    const g = el("g", {class: "node", "data-node": n.name, transform: `translate(${p.x},${p.y})`}, null, SVGNS);
    g.appendChild(el("rect", {width: L.W, height: L.H, fill: STATE_COLORS[n.state] || "#808080"}, null, SVGNS));
    g.appendChild(el("text", {x: 8, y: 17, "font-weight": "bold"}, n.name, SVGNS));
    g.appendChild(el("text", {class: "sub", x: 8, y: 31}, n.type, SVGNS));
    g.appendChild(el("text", {class: "sub", x: 8, y: 44}, `${n.state} · cpu ${fmt(st.cpu, 1)} %`, SVGNS));
    svg.appendChild(g);
  }
  labels.forEach((lab) => placeLabel(svg, lab, taken));
}

// An edge's label on its curve, where it covers no node and no other label.
function placeLabel(svg, lab, taken) {
  const [x0, y0, mx, x1, y1] = lab.curve;
  const at = (t) => {
    const u = 1 - t;
    return [u * u * u * x0 + 3 * u * t * (u + t) * mx + t * t * t * x1,
            (u * u * u + 3 * u * u * t) * y0 + (3 * u * t * t + t * t * t) * y1];
  };
  const g = el("g", {class: "edge-label-box"}, null, SVGNS);
  const bg = el("rect", {fill: "#101018", "fill-opacity": 0.85, rx: 3}, null, SVGNS);
  g.appendChild(bg);
  lab.lines.forEach((line, i) => g.appendChild(el("text", {class: "edge-label", x: 0, y: 11 + i * 13,
    "text-anchor": "middle"}, line, SVGNS)));
  svg.appendChild(g);
  const box = g.getBBox(), w = box.width + 8, h = 30;
  const free = (r) => taken.every((o) => r.x + r.w <= o.x || o.x + o.w <= r.x || r.y + r.h <= o.y || o.y + o.h <= r.y);
  let best = null;
  for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
    for (const dy of [0, -18, 18, -36, 36]) {
      const [x, y] = at(t);
      const r = {x: x - w / 2, y: y - h / 2 + dy, w, h};
      if (free(r)) { best = r; break; }
    }
    if (best) break;
  }
  best = best || (() => { const [x, y] = at(0.5); return {x: x - w / 2, y: y - h / 2, w, h}; })();
  taken.push(best);
  bg.setAttribute("x", -w / 2); bg.setAttribute("y", 0); bg.setAttribute("width", w); bg.setAttribute("height", h);
  g.setAttribute("transform", `translate(${best.x + w / 2},${best.y})`);
}

function drawOutputs(graph) {
  const box = $("#outputs");
  const keys = graph.nodes.flatMap((n) => Object.keys(n.outputs).map((o) => `${n.name}.${o}`));
  if (box.dataset.keys === keys.join(",")) return;
  box.dataset.keys = keys.join(",");
  box.replaceChildren();
  for (const key of keys) {
    const cb = el("input", {type: "checkbox", "data-preview": key});
    cb.checked = wanted.has(key);
    cb.addEventListener("change", () => {
      cb.checked ? wanted.add(key) : wanted.delete(key);
      sendWanted();
    });
    const label = el("label");
    label.append(cb, " " + key);
    box.appendChild(label);
  }
}

function sendWanted() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({previews: [...wanted]}));
  document.querySelectorAll("#previews .preview").forEach((p) => { if (!wanted.has(p.dataset.key)) p.remove(); });
}

function previewCanvas(key, w, h) {
  let box = document.querySelector(`#previews .preview[data-key="${CSS.escape(key)}"]`);
  if (!box) {
    box = el("div", {class: "preview", "data-key": key});
    box.append(el("div", {class: "title"}, key), el("canvas", {width: w, height: h}));
    $("#previews").appendChild(box);
  }
  const canvas = box.querySelector("canvas");
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  return {box, canvas};
}

function drawSignal(key, p) {
  const {box, canvas} = previewCanvas(key, 520, 180);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#0b0c12";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const n = p.data.length;
  const colors = ["#6cf", "#fc6", "#8e8", "#f8a", "#c9f", "#9ee"];
  p.data.forEach((trace, ch) => {
    const vals = trace.filter((v) => v !== null);
    if (!vals.length) return;
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const top = ch * canvas.height / n, h = canvas.height / n;
    ctx.strokeStyle = colors[ch % colors.length];
    ctx.beginPath();
    trace.forEach((v, i) => {
      if (v === null) return;
      const x = i * canvas.width / Math.max(1, trace.length - 1), y = top + h - 4 - (v - lo) / span * (h - 8);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  });
  const secs = p.rate && p.data.length ? (p.data[0].length * p.step / p.rate).toFixed(1) + " s" : "";
  box.querySelector(".title").textContent = `${key} · ${n} of ${p.channels ?? "?"} ch · ${secs}`;
}

function drawFrame(key, p) {
  if (p.index === null) return;
  const {box, canvas} = previewCanvas(key, p.width, p.height);
  const bytes = Uint8ClampedArray.from(atob(p.rgba), (c) => c.charCodeAt(0));
  canvas.getContext("2d").putImageData(new ImageData(bytes, p.width, p.height), 0, 0);
  box.querySelector(".title").textContent = `${key} · frame ${p.index} · ${p.width}×${p.height}`;
}

function drawPreviews(previews) {
  for (const [key, p] of Object.entries(previews)) {
    if (!wanted.has(key)) continue;
    if (p.kind === "signal") drawSignal(key, p);
    else if (p.kind === "frame") drawFrame(key, p);
    else previewCanvas(key, 320, 20).box.querySelector(".title").textContent = `${key}: ${p.error}`;
  }
}

// -- the live connection ----------------------------------------------------------
function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${proto}//${location.host}/ws` + (token() ? `?token=${encodeURIComponent(token())}` : ""));
  socket.onopen = () => { $("#status").textContent = "connected"; sendWanted(); };
  socket.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type !== "update") { message(msg.error || "", true); return; }
    updates++;
    const status = $("#status");
    const when = msg.stats.time ? new Date(msg.stats.time * 1000).toLocaleTimeString() : "-";
    status.textContent = msg.error || `${msg.graph.nodes.length} nodes in ${msg.graph.groups.length} processes · updated ${when}`;
    status.className = "status" + (msg.error ? " bad" : "");
    status.dataset.updates = updates;
    drawGraph(msg.graph, msg.stats);
    drawTables(msg.graph, msg.stats);
    drawOutputs(msg.graph);
    drawPreviews(msg.previews);
  };
  socket.onclose = async () => {
    $("#status").textContent = "disconnected; retrying...";
    $("#status").className = "status bad";
    try {          // off loopback every request needs the token: say so rather than retry silently
      const r = await fetch("/api/stats", {headers: token() ? {"Authorization": "Bearer " + token()} : {}});
      if (r.status === 401 || r.status === 403) {
        $("#status").textContent = r.status === 401 ? "this monitor needs the token (printed at start)"
                                                    : "wrong token";
      }
    } catch (err) { /* the server is gone: keep retrying */ }
    setTimeout(connect, 1000);
  };
}

tokenInput.addEventListener("change", () => socket && socket.close());
connect();
