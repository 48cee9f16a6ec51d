// lts-mock console: polls /api/poll, keeps the events sorted by their
// nanosecond time, filters them, shows one in full and draws a timeline.
// No dependencies. Times are BigInt nanoseconds (they do not fit a Number);
// the timeline works on Number offsets from a base, exact to the nanosecond.
"use strict";

const POLL_MS = 500;
const MAX_ROWS = 2000; // rows drawn in the tail; the filter count says how many match
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
const DAY_NS = 86400000000000n;

const state = {
  nextEvents: 0,
  nextRequests: 0,
  capacity: 10000,
  events: [],          // sorted by (off, seq)
  requests: new Map(), // index -> request
  base: null,          // BigInt: offsets are taken from here
  streams: new Set(),
  filtered: [],
  selected: null,      // seq
  view: "events",
  tl: { start: 0, span: 0, fitted: false },
  dirty: true,
};

const $ = (id) => document.getElementById(id);

// ---------- formatting ----------

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function rfc3339(t) {
  const secs = t / 1000000000n;
  const ns = (t % 1000000000n).toString().padStart(9, "0");
  const d = new Date(Number(secs) * 1000).toISOString();
  return d.slice(0, 19) + "." + ns + "Z";
}

function timeOfDay(t) {
  return rfc3339(t).slice(11, 29);
}

/** A duration in ns (BigInt or Number), exact: "180 ns", "1.234 µs", "12.345678 ms", "1.234567890 s";
 * with `trim`, without trailing zeros ("100 ms"). */
function fmtDur(d, trim) {
  let n = BigInt(d);
  const neg = n < 0n;
  if (neg) n = -n;
  const frac = (v, unit, digits) => {
    let f = (v % unit).toString().padStart(digits, "0");
    if (trim) f = f.replace(/0+$/, "");
    return (v / unit).toString() + (f ? "." + f : "");
  };
  let s;
  if (n < 1000n) s = n + " ns";
  else if (n < 1000000n) s = frac(n, 1000n, 3) + " µs";
  else if (n < 1000000000n) s = frac(n, 1000000n, 6) + " ms";
  else s = frac(n, 1000000000n, 9) + " s";
  return (neg ? "−" : "") + s;
}

function fmtBytes(n) {
  return Number(n).toLocaleString("en") + " B";
}

/** Parses "2026-12-02T18:46:43.392748242Z" (any fraction up to 9 digits) or a whole number of ns. */
function parseTime(s) {
  s = s.trim();
  if (s === "") return null;
  if (/^\d+$/.test(s)) return BigInt(s);
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) throw new Error("cannot read the time " + JSON.stringify(s) + ": want RFC 3339 or nanoseconds");
  const ms = Date.parse(m[1].replace(" ", "T") + (m[3] || "Z"));
  if (Number.isNaN(ms)) throw new Error("cannot read the time " + JSON.stringify(s));
  return BigInt(ms) * 1000000n + BigInt((m[2] || "").padEnd(9, "0"));
}

// ---------- events ----------

function parseLine(line) {
  let j = null;
  try {
    const v = JSON.parse(line);
    if (v && typeof v === "object" && !Array.isArray(v)) j = v;
  } catch (_) { /* a text line */ }
  if (j) {
    return {
      json: j,
      level: String(j.level || "").toUpperCase(),
      target: j.target == null ? "" : String(j.target),
      message: j.message == null ? "" : String(j.message),
      thread: j.thread == null ? null : String(j.thread),
      fields: j.fields && typeof j.fields === "object" ? j.fields : {},
      spans: Array.isArray(j.spans) ? j.spans : [],
    };
  }
  const lvl = /\b(TRACE|DEBUG|INFO|WARN|ERROR)\b/.exec(line);
  return { json: null, level: lvl ? lvl[1] : "", target: "", message: line, thread: null, fields: {}, spans: [] };
}

function addEvent(raw) {
  const t = BigInt(raw.time_ns);
  // Offsets from a midnight three days back (the mock keeps only ±2 days
  // around now), so that round offsets are round times of day.
  if (state.base === null) state.base = (t / DAY_NS - 3n) * DAY_NS;
  const p = parseLine(raw.line);
  const e = Object.assign(p, {
    seq: raw.seq,
    t,
    off: Number(t - state.base),
    line: raw.line,
    labels: raw.labels || {},
    api: raw.api,
    request: raw.request,
    stream: raw.stream,
  });
  e.lane = e.thread == null ? "(no thread)" : e.thread;
  state.streams.add(e.stream);
  // Insert in (time, seq) order; new events are usually the latest.
  const a = state.events;
  let i = a.length;
  while (i > 0 && (a[i - 1].off > e.off || (a[i - 1].off === e.off && a[i - 1].seq > e.seq))) i--;
  a.splice(i, 0, e);
}

function bound() {
  // Keep what the mock keeps: the newest `capacity` by arrival.
  const cap = state.capacity;
  if (cap == null || state.events.length <= cap) return;
  const cut = state.nextEvents - cap;
  state.events = state.events.filter((e) => e.seq >= cut);
}

function boundRequests() {
  const cap = state.capacity;
  if (cap == null || state.requests.size <= cap) return;
  const old = [...state.requests.keys()].sort((a, b) => a - b).slice(0, state.requests.size - cap);
  for (const k of old) state.requests.delete(k);
}

// ---------- filters ----------

function pairs(s) {
  return s.split(",").map((x) => x.trim()).filter(Boolean).map((x) => {
    const i = x.indexOf("=");
    return i < 0 ? { k: x, v: null } : { k: x.slice(0, i).trim(), v: x.slice(i + 1).trim() };
  });
}

function matchPairs(obj, ps) {
  for (const { k, v } of ps) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) return false;
    if (v !== null) {
      const x = obj[k];
      const sx = typeof x === "object" && x !== null ? JSON.stringify(x) : String(x);
      if (sx !== v) return false;
    }
  }
  return true;
}

function readFilter() {
  const levels = new Set([...document.querySelectorAll("input[name=level]:checked")].map((x) => x.value));
  let from = null, to = null, error = "";
  try { from = parseTime($("f-from").value); } catch (e) { error = e.message; }
  try { to = parseTime($("f-to").value); } catch (e) { error = e.message; }
  $("f-error").textContent = error;
  return {
    levels,
    target: $("f-target").value.trim(),
    text: $("f-text").value.trim().toLowerCase(),
    fields: pairs($("f-field").value),
    labels: pairs($("f-label").value),
    stream: $("f-stream").value,
    from,
    to,
  };
}

function passes(e, f) {
  if (e.level && LEVELS.includes(e.level) && !f.levels.has(e.level)) return false;
  if (f.target && !e.target.startsWith(f.target)) return false;
  if (f.text && !e.line.toLowerCase().includes(f.text)) return false;
  if (f.fields.length && !matchPairs(e.fields, f.fields)) return false;
  if (f.labels.length && !matchPairs(e.labels, f.labels)) return false;
  if (f.stream && e.stream !== f.stream) return false;
  if (f.from !== null && e.t < f.from) return false;
  if (f.to !== null && e.t > f.to) return false;
  return true;
}

// ---------- rendering ----------

function attemptOf(e) {
  const r = state.requests.get(e.request);
  return r ? r.attempt : null;
}

function renderTail() {
  const tail = $("tail");
  const atBottom = tail.scrollTop + tail.clientHeight >= tail.scrollHeight - 4;
  const follow = $("follow").checked && atBottom;
  const f = state.filtered;
  const first = Math.max(0, f.length - MAX_ROWS);
  const out = [];
  for (let i = first; i < f.length; i++) {
    const e = f[i];
    const gap = i > 0 ? "+" + fmtDur(e.t - f[i - 1].t) : "";
    const a = attemptOf(e);
    const tryCell = a == null ? "" : a > 1 ? `<span class="try2">${a}</span>` : String(a);
    out.push(
      `<tr data-seq="${e.seq}" data-time-ns="${e.t}" data-thread="${esc(e.lane)}" data-attempt="${a == null ? "" : a}"` +
        (e.seq === state.selected ? ' class="selected"' : "") + ">" +
        `<td class="t" title="${rfc3339(e.t)}">${timeOfDay(e.t)}</td>` +
        `<td class="gap">${gap}</td>` +
        `<td class="lvl ${esc(e.level)}">${esc(e.level)}</td>` +
        `<td>${esc(e.lane)}</td>` +
        `<td>${esc(e.target)}</td>` +
        `<td class="msg">${esc(e.message)}</td>` +
        `<td>${tryCell}</td></tr>`
    );
  }
  $("rows").innerHTML = out.join("");
  $("empty").hidden = state.events.length > 0;
  const shown = f.length - first;
  $("f-count").textContent =
    `${f.length.toLocaleString("en")} of ${state.events.length.toLocaleString("en")} events` +
    (shown < f.length ? ` (the last ${shown.toLocaleString("en")} drawn)` : "");
  if (follow) tail.scrollTop = tail.scrollHeight;
}

function renderRequests() {
  const rs = [...state.requests.values()].sort((a, b) => a.index - b.index);
  $("req-rows").innerHTML = rs.map((r) => {
    const cls = [r.status !== 200 && !(r.iam && r.status === 201) ? "bad" : "", r.attempt > 1 ? "retry" : ""].join(" ");
    return `<tr class="${cls}" data-index="${r.index}" data-status="${r.status}" data-attempt="${r.attempt}">` +
      `<td>${r.index}</td><td>${r.status || "none"}</td><td class="att">${r.attempt || ""}</td>` +
      `<td>${esc(r.fault || "")}</td><td>${esc(r.iam ? "iam" : r.api || "")}</td>` +
      `<td>${esc(r.content_encoding || "none")}</td><td>${fmtBytes(r.wire_bytes)}</td>` +
      `<td>${fmtBytes(r.decoded_bytes)}</td><td>${r.events}</td>` +
      `<td class="msg">${esc([r.error_code, r.error_msg].filter(Boolean).join(" "))}</td></tr>`;
  }).join("");
}

function kv(obj) {
  const keys = Object.keys(obj || {});
  if (!keys.length) return '<p class="muted">none</p>';
  return "<table>" + keys.map((k) => {
    const v = obj[k];
    const s = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    return `<tr><td>${esc(k)}</td><td class="mono">${esc(s)}</td></tr>`;
  }).join("") + "</table>";
}

function renderDetail() {
  const d = $("detail");
  const i = state.events.findIndex((e) => e.seq === state.selected);
  if (i < 0) {
    d.innerHTML = '<p class="muted">Click an event to see it in full.</p>';
    return;
  }
  const e = state.events[i];
  const prev = i > 0 ? state.events[i - 1] : null;
  let prevSame = null;
  for (let j = i - 1; j >= 0; j--) if (state.events[j].lane === e.lane) { prevSame = state.events[j]; break; }
  const r = state.requests.get(e.request);
  const spans = e.spans.length
    ? e.spans.map((s) => `<tr><td>${esc(s.name)}${s.id != null ? " #" + esc(s.id) : ""}</td><td class="mono">${esc(JSON.stringify(s.fields || {}))}</td></tr>`).join("")
    : "";
  let batch;
  if (!r) {
    batch = `<p class="muted">request #${e.request} is no longer kept</p>`;
  } else {
    const ratio = r.decoded_bytes ? (r.wire_bytes / r.decoded_bytes * 100).toFixed(1) + " % of decoded" : "";
    batch = "<table>" +
      `<tr><td>request</td><td>#${r.index} · ${esc(r.method)} ${esc(r.api || "")} · status ${r.status}</td></tr>` +
      `<tr><td>attempt</td><td id="d-attempt" class="${r.attempt > 1 ? "try2" : ""}">${r.attempt}</td></tr>` +
      `<tr><td>on the wire</td><td>${fmtBytes(r.wire_bytes)} ${ratio}</td></tr>` +
      `<tr><td>decoded</td><td>${fmtBytes(r.decoded_bytes)}</td></tr>` +
      `<tr><td>compression</td><td>${esc(r.content_encoding || "none")}</td></tr>` +
      `<tr><td>events in batch</td><td>${r.events}</td></tr>` +
      (r.fault ? `<tr><td>fault</td><td>${esc(r.fault)}</td></tr>` : "") +
      (r.auth ? `<tr><td>credential</td><td>${esc(r.auth)}</td></tr>` : "") +
      "</table>";
  }
  const pretty = e.json ? JSON.stringify(e.json, null, 2) : null;
  d.innerHTML =
    `<h2 class="${esc(e.level)}">${esc(e.level)} ${esc(e.message)}</h2>` +
    "<table>" +
    `<tr><td>time</td><td class="mono">${rfc3339(e.t)}</td></tr>` +
    `<tr><td>log_time_ns</td><td class="mono">${e.t}</td></tr>` +
    `<tr><td>after previous</td><td class="mono">${prev ? "+" + fmtDur(e.t - prev.t) + " (" + esc(prev.lane) + ")" : "first"}</td></tr>` +
    `<tr><td>after previous on ${esc(e.lane)}</td><td class="mono">${prevSame ? "+" + fmtDur(e.t - prevSame.t) : "first"}</td></tr>` +
    `<tr><td>target</td><td>${esc(e.target)}</td></tr>` +
    `<tr><td>stream</td><td class="mono">${esc(e.stream)} (${esc(e.api)})</td></tr>` +
    "</table>" +
    "<h3>Fields</h3>" + kv(e.fields) +
    "<h3>Spans (root first)</h3>" + (spans ? "<table>" + spans + "</table>" : '<p class="muted">none</p>') +
    "<h3>Labels</h3>" + kv(e.labels) +
    "<h3>Batch</h3>" + batch +
    "<h3>The line as received</h3><pre id=\"d-line\">" + esc(e.line) + "</pre>" +
    (pretty ? "<h3>Parsed</h3><pre>" + esc(pretty) + "</pre>" : "");
}

// ---------- timeline ----------

function lanes() {
  const ls = [...new Set(state.filtered.map((e) => e.lane))];
  ls.sort((a, b) => (a === "main" ? -1 : b === "main" ? 1 : a.localeCompare(b)));
  return ls;
}

function fitTimeline() {
  const f = state.filtered;
  if (!f.length) return;
  const lo = f[0].off, hi = f[f.length - 1].off;
  const span = Math.max(hi - lo, 1000);
  state.tl.start = lo - span * 0.03;
  state.tl.span = span * 1.06;
  state.tl.fitted = true;
}

function niceStep(span, n) {
  const raw = span / n;
  let step = 1;
  while (step * 10 <= raw) step *= 10;
  if (step * 5 <= raw) step *= 5;
  else if (step * 2 <= raw) step *= 2;
  return Math.max(1, step);
}

const LANE_H = 28, AXIS_H = 24;

function renderTimeline() {
  const c = $("timeline");
  if (state.view !== "timeline") return;
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  if (!state.tl.fitted) fitTimeline();
  const ls = lanes();
  const labels = $("tl-labels");
  labels.innerHTML = ls.map((l, i) =>
    `<div class="lane-label" data-thread="${esc(l)}" style="top:${AXIS_H + i * LANE_H}px;height:${LANE_H}px;line-height:${LANE_H}px">${esc(l)}</div>`
  ).join("");
  const { start, span } = state.tl;
  if (!span) { c.dataset.marks = "0"; c.dataset.lanes = String(ls.length); return; }
  const x = (off) => (off - start) / span * w;
  // lanes
  ls.forEach((l, i) => {
    g.fillStyle = i % 2 ? "#f7f9fc" : "#ffffff";
    g.fillRect(0, AXIS_H + i * LANE_H, w, LANE_H);
  });
  // axis: ticks at round offsets from the base, labelled in time of day
  const step = niceStep(span, Math.max(2, Math.floor(w / 140)));
  g.fillStyle = "#52607a"; g.strokeStyle = "#e3e8ef"; g.font = "11px ui-monospace, monospace";
  const first = Math.ceil(start / step) * step;
  for (let t = first; t <= start + span; t += step) {
    const px = Math.round(x(t)) + 0.5;
    g.beginPath(); g.moveTo(px, AXIS_H - 4); g.lineTo(px, h); g.stroke();
    const abs = state.base + BigInt(Math.round(t));
    const digits = Math.max(0, 9 - Math.floor(Math.log10(step) + 1e-9));
    const label = timeOfDay(abs).slice(0, digits ? 9 + digits : 8);
    g.fillText(label, px + 3, 14);
  }
  // marks
  const colors = { TRACE: "#8a94a6", DEBUG: "#2b7bb9", INFO: "#2e8b57", WARN: "#d69e2e", ERROR: "#c0392b" };
  const laneOf = new Map(ls.map((l, i) => [l, i]));
  let marks = 0;
  for (const e of state.filtered) {
    const px = x(e.off);
    if (px < -2 || px > w + 2) continue;
    const y = AXIS_H + laneOf.get(e.lane) * LANE_H;
    g.fillStyle = colors[e.level] || "#1f3a5f";
    g.fillRect(Math.round(px) - 1, y + 5, 3, LANE_H - 10);
    if (e.seq === state.selected) {
      g.strokeStyle = "#1f3a5f"; g.strokeRect(Math.round(px) - 3.5, y + 2.5, 7, LANE_H - 5);
      g.strokeStyle = "#e3e8ef";
    }
    marks++;
  }
  c.dataset.marks = String(marks);
  c.dataset.lanes = String(ls.length);
  const perPx = span / w >= 1 ? `${fmtDur(Math.round(span / w), true)} per pixel` : `${Math.round(w / span)} pixels per ns`;
  $("tl-scale").textContent = `window ${fmtDur(Math.round(span), true)} · ${perPx} · ticks every ${fmtDur(step, true)}`;
}

function nearest(px, py) {
  const c = $("timeline");
  const w = c.clientWidth;
  const ls = lanes();
  const lane = Math.floor((py - AXIS_H) / LANE_H);
  if (lane < 0 || lane >= ls.length) return null;
  const off = state.tl.start + px / w * state.tl.span;
  let best = null, bestD = 6 / w * state.tl.span;
  for (const e of state.filtered) {
    if (e.lane !== ls[lane]) continue;
    const d = Math.abs(e.off - off);
    if (d <= bestD) { best = e; bestD = d; }
  }
  return best;
}

function zoom(factor, atPx) {
  const c = $("timeline");
  const w = c.clientWidth || 1;
  const at = atPx == null ? w / 2 : atPx;
  const anchor = state.tl.start + at / w * state.tl.span;
  const span = Math.min(Math.max(state.tl.span * factor, 10), 10 * DAY_NS_NUM);
  state.tl.start = anchor - at / w * span;
  state.tl.span = span;
  renderTimeline();
}
const DAY_NS_NUM = 86400e9;

function setupTimeline() {
  const c = $("timeline");
  let drag = null;
  c.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    zoom(ev.deltaY < 0 ? 0.8 : 1.25, ev.offsetX);
  }, { passive: false });
  c.addEventListener("mousedown", (ev) => { drag = { x: ev.offsetX, start: state.tl.start, moved: false }; });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
  c.addEventListener("mousemove", (ev) => {
    if (drag && ev.buttons) {
      const dx = ev.offsetX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      state.tl.start = drag.start - dx / c.clientWidth * state.tl.span;
      renderTimeline();
      return;
    }
    const e = nearest(ev.offsetX, ev.offsetY);
    $("tl-hover").textContent = e ? `${rfc3339(e.t)}  ${e.level}  [${e.lane}]  ${e.target}: ${e.message}` : "";
  });
  c.addEventListener("click", (ev) => {
    if (drag && drag.moved) return;
    const e = nearest(ev.offsetX, ev.offsetY);
    if (e) select(e.seq);
  });
  $("tl-in").onclick = () => zoom(0.25);
  $("tl-out").onclick = () => zoom(4);
  $("tl-fit").onclick = () => { fitTimeline(); renderTimeline(); };
  window.addEventListener("resize", renderTimeline);
}

// ---------- wiring ----------

function refilter() {
  const f = readFilter();
  state.filtered = state.events.filter((e) => passes(e, f));
  renderTail();
  renderTimeline();
}

function select(seq) {
  state.selected = seq;
  for (const tr of document.querySelectorAll("#rows tr.selected")) tr.classList.remove("selected");
  const tr = document.querySelector(`#rows tr[data-seq="${seq}"]`);
  if (tr) tr.classList.add("selected");
  renderDetail();
  renderTimeline();
}

function showView(v) {
  state.view = v;
  for (const b of document.querySelectorAll("nav .tab")) b.classList.toggle("active", b.dataset.view === v);
  for (const id of ["events", "timeline", "requests"]) $("view-" + id).hidden = id !== v;
  if (v === "timeline") renderTimeline();
}

function renderStatus(p) {
  const s = p.stats;
  $("stream").textContent = `stream ${p.stream.log_stream_id}`;
  $("counters").textContent =
    `${s.events.toLocaleString("en")} events in ${s.requests.toLocaleString("en")} requests · ` +
    `kept ${p.kept_events.toLocaleString("en")}` +
    (p.capacity == null ? "" : ` of ${p.capacity.toLocaleString("en")}`) +
    ` · evicted ${p.evicted_events.toLocaleString("en")}`;
  renderFaults(p.faults);
  const sel = $("f-stream");
  for (const st of state.streams) {
    if (![...sel.options].some((o) => o.value === st)) sel.add(new Option(st, st));
  }
}

function renderFaults(f) {
  const on = [];
  if (f.fail_next) on.push(`fail next ${f.fail_next} (${f.fail_next_status})`);
  if (f.fail_fraction != null) on.push(`fail ${f.fail_fraction} (${f.fail_fraction_status})`);
  if (f.delay_next) on.push(`delay next ${f.delay_next} by ${f.delay_ms} ms`);
  if (f.delay_all_ms) on.push(`delay all by ${f.delay_all_ms} ms`);
  if (f.rate_limit != null) on.push(`429 above ${f.rate_limit} per ${f.rate_limit_window_ms} ms`);
  if (f.drop_next) on.push(`drop next ${f.drop_next}`);
  if (f.hang_next) on.push(`hang next ${f.hang_next}`);
  if (f.token_expired) on.push("token expired");
  $("fault-state").textContent = on.length ? "on: " + on.join(", ") : "none set";
}

async function poll() {
  let more = false;
  try {
    const r = await fetch(`/api/poll?events=${state.nextEvents}&requests=${state.nextRequests}&limit=${MAX_ROWS}`, { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const p = await r.json();
    state.capacity = p.capacity;
    for (const q of p.requests) state.requests.set(q.index, q);
    for (const e of p.events) addEvent(e);
    const changed = p.events.length > 0 || p.requests.length > 0;
    state.nextEvents = p.next_events;
    state.nextRequests = p.next_requests;
    bound();
    boundRequests();
    renderStatus(p);
    more = p.events.length >= MAX_ROWS || p.requests.length >= MAX_ROWS;
    state.dirty = state.dirty || changed;
    // Catching up on a full ring: draw once, at the end.
    if (state.dirty && !more) {
      state.dirty = false;
      refilter();
      renderRequests();
      if (state.selected !== null) renderDetail();
    }
    $("conn").textContent = "live";
    $("conn").className = "conn live";
  } catch (err) {
    $("conn").textContent = "disconnected";
    $("conn").className = "conn down";
  }
  setTimeout(poll, more ? 0 : POLL_MS);
}

async function setFault(body) {
  $("fault-error").textContent = "";
  try {
    const r = await fetch("/api/faults", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
    renderFaults(j);
  } catch (err) {
    $("fault-error").textContent = err.message;
  }
}

function num(id) { return Number($(id).value); }

function setup() {
  for (const id of ["f-target", "f-text", "f-field", "f-label", "f-from", "f-to"]) $(id).addEventListener("input", refilter);
  for (const x of document.querySelectorAll("input[name=level], #f-stream")) x.addEventListener("change", refilter);
  $("f-reset").onclick = () => {
    for (const id of ["f-target", "f-text", "f-field", "f-label", "f-from", "f-to"]) $(id).value = "";
    for (const x of document.querySelectorAll("input[name=level]")) x.checked = true;
    $("f-stream").value = "";
    refilter();
  };
  $("f-window").onclick = () => {
    if (!state.tl.span) return;
    $("f-from").value = rfc3339(state.base + BigInt(Math.floor(state.tl.start)));
    $("f-to").value = rfc3339(state.base + BigInt(Math.ceil(state.tl.start + state.tl.span)));
    refilter();
  };
  $("rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr) select(Number(tr.dataset.seq));
  });
  for (const b of document.querySelectorAll("nav .tab")) b.onclick = () => showView(b.dataset.view);
  $("fault-fail-next").onclick = () => setFault({ action: "fail_next", n: num("fault-n"), status: num("fault-status") });
  $("fault-fraction").onclick = () => setFault({ action: "fail_fraction", p: num("fault-p"), status: num("fault-p-status"), seed: 1 });
  $("fault-delay").onclick = () => setFault({ action: "delay_next", n: num("fault-delay-n"), ms: num("fault-delay-ms") });
  $("fault-drop").onclick = () => setFault({ action: "drop_next", n: num("fault-drop-n") });
  $("fault-clear").onclick = () => setFault({ action: "clear" });
  setupTimeline();
  poll();
}

setup();
