// Streams: the list with status and fps, start/stop, and a stream's page: the live MJPEG preview, current
// tracks, zone and line counts, and the settings form (PATCH applies it live).
import { api, auth } from "../api.js";
import { events } from "../events.js";
import { badge, clearError, field, fmt, h, replace, select, showError, writeButton } from "../dom.js";
import { readMjpeg } from "../mjpeg.js";

function streamRow(s, reload) {
  const act = (path) => async () => { await api.post(`/streams/${s.id}/${path}`); reload(); };
  const running = !["stopped", "failed"].includes(s.status);
  return h("tr", { testid: "stream-row", "data-id": s.id, "data-status": s.status },
    h("td", {}, h("a", { href: `#/streams/${s.id}` }, `#${s.id} ${s.name}`)), h("td", {}, badge(s.status, "stream-status")),
    h("td", { testid: "stream-fps" }, `${fmt.num(s.telemetry.fps_in, 1)} in / ${fmt.num(s.telemetry.fps_proc, 1)} tracked`),
    h("td", { class: "hide-narrow" }, s.source), h("td", { class: "hide-narrow" }, `model #${s.model_id}`),
    h("td", {}, running ? writeButton(auth, "operator", "Stop", "stream-stop", act("stop"))
      : writeButton(auth, "operator", "Start", "stream-start", act("start"))));
}

export function streamsPage(view, cleanup) {
  const body = h("tbody", { testid: "stream-list" });
  const load = async () => {
    const list = await api.get("/streams", { limit: 200 });
    replace(body, list.items.length ? list.items.map((s) => streamRow(s, load))
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No streams. Define them with POST /streams or the YAML config.")));
  };
  const timer = setInterval(load, 2000); // fps changes continuously; status changes also arrive as events
  cleanup.add(() => clearInterval(timer));
  cleanup.add(events.on("stream.status", load));
  view.append(h("section", { class: "page-head" }, h("h1", {}, "Streams")),
    h("div", { class: "table-wrap" }, h("table", { class: "list" }, h("thead", {}, h("tr", {},
      ["Stream", "Status", "fps", "Source", "Model", ""].map((t, i) => h("th", { class: [3, 4].includes(i) ? "hide-narrow" : null }, t)))),
    body)));
  load();
}

export async function streamPage(view, cleanup, id) {
  const s = await api.get(`/streams/${id}`);
  const status = h("span", {}, badge(s.status, "stream-status"));
  const img = h("img", { class: "preview", alt: "live preview", testid: "stream-preview" });
  const previewNote = h("p", { class: "muted", testid: "stream-preview-note" });
  const tracks = h("tbody", { testid: "stream-tracks" });
  const counts = h("div", { testid: "stream-counts" });
  view.append(h("section", { class: "page-head" }, h("h1", {}, `#${s.id} ${s.name}`), status,
    h("span", { class: "muted" }, s.source)),
  h("div", { class: "two-col" }, h("div", {}, img, previewNote),
    h("div", {}, h("h2", {}, "Tracks"), h("table", { class: "list compact" }, h("thead", {}, h("tr", {},
      ["slot", "id", "class", "conf"].map((t) => h("th", {}, t)))), tracks), h("h2", {}, "Counts"), counts)),
  auth.can("operator") ? settingsForm(s) : null);
  replace(counts, countLines(s, s.telemetry.zone_counts, s.telemetry.line_counts));
  const aborter = new AbortController();
  cleanup.add(() => aborter.abort());
  const startPreview = () => readMjpeg(`/streams/${id}/preview.mjpeg?fps=5`, img, aborter.signal, cleanup)
    .then((why) => (previewNote.textContent = why || "The stream is not running."))
    .catch((e) => e.name !== "AbortError" && (previewNote.textContent = e.message));
  startPreview();
  let last = 0;
  cleanup.add(events.on("stream.tracks", (t) => {
    if (t.stream_id !== id || performance.now() - last < 250) return;
    last = performance.now();
    replace(tracks, t.tracks.map((k) => h("tr", {}, h("td", {}, k.slot ?? "—"), h("td", {}, k.id), h("td", {}, k.name),
      h("td", {}, fmt.num(k.conf, 2)))));
    replace(counts, countLines(s, t.zone_counts, t.line_counts));
  }));
  cleanup.add(events.on("stream.status", (e) => {
    if (e.stream_id !== id) return;
    replace(status, badge(e.status, "stream-status"), e.reason ? ` ${e.reason}` : "");
    if (e.status === "running") startPreview();
  }));
}

/** Every zone and line of the stream's definition, with what the latest frame counted there (0 until then). */
function countLines(stream, zones = {}, lines = {}) {
  const out = [];
  for (const { name } of stream.zones || []) out.push(h("div", {}, `zone ${name}: `,
    Object.entries(zones[name] || {}).map(([c, n]) => `${c} ${n}`).join(", ") || "0"));
  for (const { name } of stream.lines || []) out.push(h("div", {}, `line ${name}: `,
    Object.entries(lines[name] || {}).map(([c, d]) => `${c} in ${d.in} out ${d.out}`).join(", ") || "0"));
  return out.length ? out : [h("span", { class: "muted" }, "No zones or lines.")];
}

function settingsForm(s) {
  const number = (value, step) => h("input", { type: "number", step, value: value ?? "" });
  const inputs = {
    conf: number(s.conf, "0.05"), iou: number(s.iou, "0.05"), period_frames: number(s.period_frames, "1"),
    max_fps: number(s.max_fps, "1"), objects_max: number(s.objects_max, "1"), persistence_ms: number(s.persistence_ms, "100"),
    tracker: select([["bytetrack", "bytetrack"], ["botsort", "botsort"]], s.tracker),
    classes: h("input", { type: "text", value: (s.classes || []).join(","), placeholder: "all" }),
    roi: h("input", { type: "text", value: (s.roi || []).join(","), placeholder: "x1,y1,x2,y2 in 0..1" }),
  };
  const form = h("form", { class: "card", testid: "stream-settings", novalidate: true }, h("h2", {}, "Settings (applied live)"),
    h("div", { class: "fields" }, Object.entries(inputs).map(([name, input]) => field(name, name, input))),
    h("button", { type: "submit", class: "write", testid: "stream-apply" }, "Apply"),
    h("p", { class: "form-message", role: "status" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError(form);
    const body = { tracker: inputs.tracker.value };
    for (const name of ["conf", "iou", "period_frames", "objects_max", "persistence_ms"]) {
      if (inputs[name].value !== "") body[name] = Number(inputs[name].value);
    }
    body.max_fps = inputs.max_fps.value === "" ? null : Number(inputs.max_fps.value); // empty: no limit
    const list = (text) => text.split(",").map((x) => x.trim()).filter(Boolean);
    body.classes = list(inputs.classes.value).length ? list(inputs.classes.value) : null;
    body.roi = list(inputs.roi.value).length ? list(inputs.roi.value).map(Number) : null;
    try {
      await api.patch(`/streams/${s.id}`, body);
      form.querySelector(".form-message").textContent = "Applied.";
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}
