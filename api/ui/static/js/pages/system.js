// System: CPU, RAM, disk and per-GPU charts of the last hour (GET /system/history), kept live by system.sample
// events.
import { api } from "../api.js";
import { events } from "../events.js";
import { lineChart } from "../charts.js";
import { fmt, h, replace } from "../dom.js";

const WINDOW_S = 3600;
const MAX_PAGES = 20;

async function history() {
  const items = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await api.get("/system/history", { minutes: 60, limit: 1000, offset: items.length });
    items.push(...list.items);
    if (items.length >= list.total || !list.items.length) break;
  }
  return items;
}

function chartsOf(samples) {
  const x = samples.map((s) => s.ts);
  const col = (fn) => samples.map(fn);
  const charts = [
    ["CPU %", [{ label: "cpu", x, y: col((s) => s.cpu_percent) }]],
    ["Memory %", [{ label: "ram", x, y: col((s) => s.ram_percent) },
      { label: "swap", x, y: col((s) => (s.swap_total_mb ? (100 * s.swap_used_mb) / s.swap_total_mb : 0)) }]],
    ["Disk % (data dir)", [{ label: "disk", x, y: col((s) => s.disk_percent) }]],
  ];
  const gpuCount = Math.max(0, ...samples.map((s) => s.gpus.length));
  for (let g = 0; g < gpuCount; g++) {
    const gpu = (s) => s.gpus.find((x) => x.index === g) || {};
    charts.push([`GPU ${g} %`, [{ label: "utilization", x, y: col((s) => gpu(s).utilization_percent ?? null) },
      { label: "memory", x, y: col((s) => (gpu(s).memory_total_mb ? (100 * gpu(s).memory_used_mb) / gpu(s).memory_total_mb : null)) }]]);
  }
  return charts;
}

function summary(s) {
  const gpus = s.gpus.length ? s.gpus.map((g) => `${g.name} ${fmt.num(g.utilization_percent, 0)}%`).join(", ") : (s.gpu_error || "no GPU");
  return [["CPU", `${fmt.num(s.cpu_percent, 1)}% of ${s.cpu_count} cores, load ${s.load_avg.map((v) => fmt.num(v, 2)).join(" ")}`],
    ["RAM", `${fmt.num(s.ram_used_mb / 1024, 1)} / ${fmt.num(s.ram_total_mb / 1024, 1)} GiB`],
    ["Disk", `${fmt.num(s.disk_used_gb, 1)} / ${fmt.num(s.disk_total_gb, 1)} GB`],
    ["Server RSS", `${fmt.num(s.process_rss_mb, 0)} MB`], ["GPUs", gpus]].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]);
}

export async function systemPage(view, cleanup) {
  const now = h("dl", { class: "details", testid: "system-now" });
  const grid = h("div", { class: "charts" });
  view.append(h("section", { class: "page-head" }, h("h1", {}, "System"), h("span", { class: "muted" }, "last hour, live")), now, grid);
  const samples = await history();
  const els = new Map();
  const draw = () => {
    const cutoff = Date.now() / 1000 - WINDOW_S;
    while (samples.length && samples[0].ts < cutoff) samples.shift();
    if (samples.length) replace(now, ...summary(samples.at(-1)));
    for (const [title, series] of chartsOf(samples)) {
      if (els.has(title)) els.get(title).update(series);
      else {
        const el = lineChart(title, series, { testid: "system-chart", xLabel: "time", time: true });
        els.set(title, el);
        grid.append(el);
      }
    }
  };
  draw();
  let pending = false;
  cleanup.add(events.on("system.sample", (s) => {
    samples.push(s);
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; draw(); }, 1000);
  }));
  cleanup.add(() => els.forEach((el) => el.destroy()));
}
