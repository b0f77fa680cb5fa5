// Runs: the sessions list with live status and progress (WS /events), a status filter, and the new-run form.
import { api, auth } from "../api.js";
import { events } from "../events.js";
import { badge, clearError, field, h, replace, select, showError, fmt } from "../dom.js";

const STATUSES = ["", "queued", "running", "completed", "failed", "stopped", "cancelled", "interrupted"];
const FIRST_PAGE = 100;
const MAX_ROWS = 1000;
const ARCHITECTURES = ["yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml", "yolo11n-cls.yaml"];

export function percentOf(session) {
  return Math.round(session.progress?.percent ?? 0);
}

function progressCell(session) {
  const pct = percentOf(session);
  return h("td", { class: "progress-cell" },
    h("progress", { max: 100, value: pct, testid: "session-progress" }),
    h("span", { class: "muted" }, ` ${pct}% · epoch ${session.progress.epoch}/${session.progress.epochs}`));
}

export function sessionRow(session) {
  return h("tr", { testid: "session-row", "data-id": session.id, "data-status": session.status,
    onclick: () => (location.hash = `#/runs/${session.id}`) },
  h("td", {}, h("a", { href: `#/runs/${session.id}` }, `#${session.id} ${session.name}`)),
  h("td", {}, badge(session.status, "session-status")),
  progressCell(session),
  h("td", { class: "hide-narrow" }, session.model),
  h("td", { class: "hide-narrow" }, session.device || "—"),
  h("td", { class: "hide-narrow" }, fmt.time(session.created_at)));
}

export function runsPage(view, cleanup) {
  const sessions = new Map();
  const filter = select(STATUSES.map((s) => [s, s || "all statuses"]), "");
  filter.dataset.testid = "status-filter";
  const body = h("tbody", { testid: "session-list" });
  const total = h("span", { class: "muted", testid: "session-total" });
  const render = () => {
    const rows = [...sessions.values()].filter((s) => !filter.value || s.status === filter.value)
      .sort((a, b) => b.id - a.id).map(sessionRow);
    replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No runs.")));
    performance.mark("runs-rendered", { detail: rows.length }); // read by benchmarks/dashboard_first_paint.py
  };
  const load = async () => {
    // A first page to paint early, then the rest (up to 1,000 rows), asked for before the first is drawn: the
    // server reads it while the browser draws. Rows are keyed by id, so a run created between the two reads shows
    // once; one missed there comes with its session.status event.
    const query = filter.value ? { status: filter.value } : {};
    const first = await api.get("/sessions", { ...query, limit: FIRST_PAGE });
    const rest = first.total > FIRST_PAGE
      ? api.get("/sessions", { ...query, limit: MAX_ROWS - FIRST_PAGE, offset: FIRST_PAGE }) : null;
    if (!filter.value) sessions.clear();
    const show = (page) => {
      for (const s of page.items) sessions.set(s.id, s);
      total.textContent = `${page.total} run${page.total === 1 ? "" : "s"}`
        + (page.total > MAX_ROWS ? `, the newest ${MAX_ROWS} shown` : "");
      render();
    };
    show(first);
    if (rest) show(await rest);
  };
  filter.addEventListener("change", load);
  cleanup.add(events.on("session.status", (s) => { sessions.set(s.id, s); render(); }));
  cleanup.add(events.on("session.deleted", (d) => { sessions.delete(d.session_id); render(); }));
  cleanup.add(events.on("session.progress", (p) => updateProgress(body, sessions.get(p.session_id), p)));
  cleanup.add(events.on("session.epoch", (p) => updateProgress(body, sessions.get(p.session_id), { ...p, batch: 0 })));
  cleanup.add(events.on("events.reopened", load)); // events were missed while disconnected: read the list again
  view.append(
    h("section", { class: "page-head" }, h("h1", {}, "Runs"), total, filter),
    auth.can("operator") ? newRunForm() : null,
    h("div", { class: "table-wrap" }, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Run", "Status", "Progress", "Model", "Device", "Created"].map((t, i) =>
        h("th", { class: i > 2 ? "hide-narrow" : null }, t)))), body)));
  load();
}

function updateProgress(body, session, event) {
  if (!session) return;
  const p = session.progress;
  p.epoch = event.batch ? event.epoch - 1 : event.epoch;
  p.epochs = event.epochs || p.epochs;
  const batches = event.batches || p.batches || 1;
  p.percent = Math.min(100, (100 * (p.epoch * batches + (event.batch || 0))) / (p.epochs * batches));
  const row = body.querySelector(`tr[data-id="${session.id}"]`);
  if (row) row.replaceWith(sessionRow(session));
}

function newRunForm() {
  const dataset = h("select", { testid: "new-run-dataset" });
  const model = h("select", { testid: "new-run-model" });
  const inputs = {
    name: h("input", { type: "text", placeholder: "optional" }),
    epochs: h("input", { type: "number", value: 3, testid: "new-run-epochs" }),
    imgsz: h("input", { type: "number", value: 128, testid: "new-run-imgsz" }),
    batch: h("input", { type: "number", placeholder: "16" }),
    device: select([["auto", "auto"], ["cpu", "cpu"], ["0", "GPU 0"], ["0,1", "GPUs 0,1"]], "auto"),
  };
  inputs.device.dataset.testid = "new-run-device";
  const message = h("p", { class: "form-message", testid: "new-run-message", role: "status" });
  const form = h("form", { class: "card new-run", testid: "new-run-form", novalidate: true },
    h("h2", {}, "New run"),
    h("div", { class: "fields" }, field("Dataset", "dataset", dataset), field("Model", "model", model),
      field("Epochs", "epochs", inputs.epochs), field("Image size", "imgsz", inputs.imgsz),
      field("Batch", "batch", inputs.batch), field("Device", "device", inputs.device), field("Name", "name", inputs.name)),
    h("button", { type: "submit", class: "write", testid: "new-run-submit" }, "Start run"), message);
  const tasks = new Map();
  Promise.all([api.get("/datasets", { limit: 200 }), api.get("/models", { limit: 200 })]).then(([ds, ms]) => {
    replace(dataset, ds.items.map((d) => { tasks.set(String(d.id), d.task); return h("option", { value: d.id }, `${d.name} (${d.task})`); }));
    replace(model, ARCHITECTURES.map((a) => h("option", { value: a }, `${a} (from scratch)`)),
      ms.items.map((m) => h("option", { value: m.id }, `#${m.id} ${m.name} (fine-tune)`)));
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError(form);
    const body = { dataset: Number(dataset.value), task: tasks.get(dataset.value) || "detect", device: inputs.device.value,
      model: /^\d+$/.test(model.value) ? Number(model.value) : model.value, epochs: Number(inputs.epochs.value) };
    if (body.model === "yolo11n-cls.yaml") body.task = "classify";
    for (const name of ["imgsz", "batch"]) if (inputs[name].value !== "") body[name] = Number(inputs[name].value);
    if (inputs.name.value.trim()) body.name = inputs.name.value.trim();
    try {
      const created = await api.post("/sessions", body);
      message.textContent = `Run #${created.id} queued.`;
      location.hash = `#/runs/${created.id}`;
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}
