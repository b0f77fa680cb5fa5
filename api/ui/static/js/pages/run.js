// One run: status and progress, zoomable live charts of every metric, logs that follow live, and the
// stop / resume / delete / priority buttons the key's role allows.
import { api, auth, download } from "../api.js";
import { events } from "../events.js";
import { lineChart } from "../charts.js";
import { badge, fmt, h, replace, writeButton } from "../dom.js";
import { percentOf } from "./runs.js";

const GROUPS = [
  ["Batch losses", (k) => k.startsWith("batch/"), "batch"],
  ["Train losses", (k) => k.startsWith("train/"), "epoch"],
  ["Validation losses", (k) => k.startsWith("val/"), "epoch"],
  ["Validation metrics", (k) => k.startsWith("metrics/"), "epoch"],
  ["Learning rate", (k) => k.startsWith("lr/"), "epoch"],
  ["Epoch time (s)", (k) => k === "epoch_time", "epoch"],
];
const DEFAULT_BATCH_KEYS = ["batch/train/box_loss", "batch/train/cls_loss", "batch/train/dfl_loss"];
const PAGE = 100000;
const EPOCH_PAGE = 1000;
const MAX_LOG_LINES = 3000;

/** One key's history as {x, y} (steps, values) from epoch `from` on, read in pages of 100k points. */
export async function fetchSeries(sessionId, key, from) {
  let x = [], y = [];
  for (let offset = 0; ; offset += PAGE) {
    const query = { key, format: "columns", fields: "steps,values", limit: PAGE, offset };
    if (from) query.epoch_from = from;
    const page = await api.get(`/sessions/${sessionId}/metrics`, query);
    x = x.concat(page.steps); y = y.concat(page.values);
    if (page.steps.length < PAGE || x.length >= page.total) return { x, y };
  }
}

export function runPage(view, cleanup, id) {
  const head = h("section", { class: "page-head" });
  const actions = h("div", { class: "actions", testid: "run-actions" });
  const message = h("p", { class: "form-message", role: "status", testid: "run-message" });
  const details = h("dl", { class: "details", testid: "run-details" });
  const charts = h("div", { class: "charts", testid: "run-charts" });
  const logs = h("pre", { class: "logs", testid: "run-logs" });
  view.append(head, actions, message, details, h("h2", {}, "Metrics"),
    h("p", { class: "muted" }, "Drag across a chart to zoom, double-click to reset."), charts, h("h2", {}, "Logs"), logs);
  const state = { session: null, series: new Map(), chartEls: new Map(), batchKeys: new Set(DEFAULT_BATCH_KEYS) };

  const show = (session) => {
    state.session = session;
    replace(head, h("h1", {}, `#${session.id} ${session.name}`), badge(session.status, "session-status"),
      h("progress", { max: 100, value: percentOf(session), testid: "session-progress" }),
      h("span", { class: "muted" }, `${percentOf(session)}% · epoch ${session.progress.epoch}/${session.progress.epochs}`
        + (session.progress.eta_s ? ` · ETA ${fmt.duration(session.progress.eta_s)}` : "")));
    replace(details, ...detailItems(session));
    replace(actions, ...actionButtons(session, message, () => load()));
    performance.mark("run-shown");
  };
  const load = async () => show(await api.get(`/sessions/${id}`));
  const refresh = throttle(() => refreshCharts(id, state, charts), 1500);
  cleanup.add(events.on("session.status", (s) => { if (s.id === id) { show(s); refresh(); } }));
  cleanup.add(events.on("session.epoch", (p) => { if (p.session_id === id) { load(); refresh(); } }));
  cleanup.add(events.on("session.progress", (p) => {
    if (p.session_id !== id) return;
    for (const k of Object.keys(p.losses || {})) state.batchKeys.add(`batch/${k}`);
    refresh();
  }));
  cleanup.add(events.on("session.deleted", (d) => { if (d.session_id === id) location.hash = "#/runs"; }));
  cleanup.add(events.on("events.reopened", () => { load(); refresh(); }));
  load();
  refresh(); // the first read needs nothing of the session: both at once
  const aborter = new AbortController();
  cleanup.add(() => aborter.abort());
  followLogs(id, logs, aborter.signal).catch((e) => e.name !== "AbortError" && console.warn("logs", e));
  cleanup.add(() => state.chartEls.forEach((el) => el.destroy()));
}

function detailItems(s) {
  const external = s.kind === "external";  // reported by an outside script: no dataset or device of ours
  const pairs = [["Task", s.task], ["Model", s.model], ["Dataset", external ? "—" : s.dataset_id ?? "deleted"],
    ["Device", s.device || "—"], ["Priority", s.priority], ["Created", fmt.time(s.created_at)],
    ["Started", fmt.time(s.started_at)], ["Ended", fmt.time(s.ended_at)], ["Attempts", s.attempts]];
  if (s.node) pairs.push(["Cluster node", s.node.slice(0, 12)]);
  for (const [k, v] of Object.entries(s.best_metrics || {})) pairs.push([`best ${k}`, fmt.num(v, 4)]);
  if (s.result_model_id) pairs.push(["Model produced", h("a", { href: `#/models/${s.result_model_id}` }, `#${s.result_model_id}`)]);
  if (s.error) pairs.push(["Error", s.error]);
  return pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]);
}

function actionButtons(s, message, reload) {
  const act = (fn, done) => async () => {
    try { await fn(); message.textContent = done; message.classList.remove("error"); reload(); }
    catch (e) { message.textContent = e.message; message.classList.add("error"); }
  };
  const running = ["queued", "running"].includes(s.status);
  const priority = h("input", { type: "number", value: s.priority, class: "narrow", testid: "run-priority-input" });
  return [
    running ? writeButton(auth, "operator", "Stop", "run-stop", act(() => api.post(`/sessions/${s.id}/stop`), "Stop requested.")) : null,
    ["stopped", "interrupted"].includes(s.status)
      ? writeButton(auth, "operator", "Resume", "run-resume", act(() => api.post(`/sessions/${s.id}/resume`), "Queued again.")) : null,
    auth.can("operator") && s.status === "queued" ? priority : null,
    s.status === "queued" ? writeButton(auth, "operator", "Set priority", "run-priority",
      act(() => api.patch(`/sessions/${s.id}`, { priority: Number(priority.value) }), "Priority changed.")) : null,
    !running ? writeButton(auth, "admin", "Delete", "run-delete", async () => {
      if (!confirm(`Delete run #${s.id}, its metrics and logs?`)) return;
      await act(() => api.del(`/sessions/${s.id}`), "Deleted.")();
    }, "danger") : null,
    h("button", { type: "button", testid: "run-chart-png",
      onclick: () => download(`/sessions/${s.id}/chart.png`, `run-${s.id}.png`) }, "Chart PNG"),
  ];
}

/** Every per-epoch key's points (from epoch `from` on) in one paged read: Map key -> {x, y}. */
async function fetchEpochSeries(sessionId, from) {
  const series = new Map();
  for (let offset = 0; ; offset += EPOCH_PAGE) {
    const query = { limit: EPOCH_PAGE, offset };
    if (from) query.epoch_from = from;
    const page = await api.get(`/sessions/${sessionId}/metrics`, query);
    for (const point of page.items) {
      if (!series.has(point.key)) series.set(point.key, { x: [], y: [] });
      series.get(point.key).x.push(point.step);
      series.get(point.key).y.push(point.value);
    }
    if (page.items.length < EPOCH_PAGE || offset + page.items.length >= page.total) return series;
  }
}

function merge(state, key, fresh) {
  const old = state.series.get(key);
  if (!old) { state.series.set(key, fresh); return; }
  if (!fresh.x.length) return;
  const keep = old.x.findIndex((step) => step >= fresh.x[0]); // the steps read again replace the old ones
  old.x = keep < 0 ? old.x.concat(fresh.x) : old.x.slice(0, keep).concat(fresh.x);
  old.y = keep < 0 ? old.y.concat(fresh.y) : old.y.slice(0, keep).concat(fresh.y);
}

/** Reads the points from the epoch in progress on (all of them the first time), and redraws the charts. */
async function refreshCharts(id, state, container) {
  const from = state.loaded ? Math.max(1, state.session?.progress.epoch || 1) : 0; // epochs finished: no new points
  state.loaded = true;
  const [epochs] = await Promise.all([fetchEpochSeries(id, from), ...[...state.batchKeys].map(async (key) =>
    merge(state, key, await fetchSeries(id, key, state.series.has(key) ? from : 0)))]);
  for (const [key, fresh] of epochs) merge(state, key, fresh);
  for (const [title, test, xLabel] of GROUPS) {
    const list = [...state.series.entries()].filter(([k, s]) => test(k) && s.y.length)
      .sort(([a], [b]) => a.localeCompare(b)).map(([k, s]) => ({ label: k.replace(/^batch\//, ""), x: s.x, y: s.y }));
    if (!list.length) continue;
    let el = state.chartEls.get(title);
    if (!el) {
      el = lineChart(title, list, { xLabel });
      state.chartEls.set(title, el);
      container.append(el);
    } else {
      el.update(list);
    }
  }
}

async function followLogs(id, pre, signal) {
  const response = await fetch(`/api/v1/sessions/${id}/logs?follow=true`,
    { headers: { "X-API-Key": auth.key() }, signal });
  if (!response.ok || !response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop();
    const lines = blocks.map(parseEvent).filter((e) => e && e.event === "log").map((e) => formatLog(e.data));
    if (lines.length) appendLogs(pre, lines);
  }
}

function parseEvent(block) {
  const out = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) out.event = line.slice(7);
    else if (line.startsWith("data: ")) out.data += line.slice(6);
  }
  return out.data ? out : null;
}

function formatLog(data) {
  const line = JSON.parse(data);
  return `${fmt.clock(line.ts)} ${line.level.padEnd(7)} ${line.message}`;
}

function appendLogs(pre, lines) {
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  pre.append(lines.join("\n") + "\n");
  while (pre.childNodes.length > MAX_LOG_LINES / 10) pre.firstChild.remove();
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

export function throttle(fn, ms) {
  let timer = null, again = false;
  const run = async () => {
    again = false;
    try { await fn(); } finally {
      timer = again ? setTimeout(run, ms) : null;
    }
  };
  return () => { if (timer) again = true; else timer = setTimeout(run, 0); };
}
