// Models: the list, upload by drag and drop (admin), and a model's page: metrics, classes, source run,
// download, ONNX export, evaluation.
import { api, auth, download, upload } from "../api.js";
import { dropZone, fmt, h, progressBar, replace, writeButton } from "../dom.js";

export function uploader({ path, accept, label, testid, onDone }) {
  const bar = progressBar(`${testid}-progress`);
  const message = h("p", { class: "form-message", role: "status", testid: `${testid}-message` });
  const zone = dropZone({ accept, label, testid, onFiles: async (files) => {
    const form = new FormData();
    form.append("file", files[0]);
    bar.hidden = false;
    bar.value = 0;
    message.textContent = `Uploading ${files[0].name}…`;
    message.classList.remove("error");
    try {
      const created = await upload(path, form, (f) => (bar.value = f));
      message.textContent = `Uploaded: #${created.id} ${created.name}`;
      onDone(created);
    } catch (error) {
      message.textContent = error.message;
      message.classList.add("error");
    } finally {
      bar.hidden = true;
    }
  } });
  return h("div", { class: "card uploader" }, zone, bar, message);
}

export function modelsPage(view) {
  const body = h("tbody", { testid: "model-list" });
  const load = async () => {
    const list = await api.get("/models", { limit: 500 });
    replace(body, list.items.length ? list.items.map((m) => h("tr", { testid: "model-row", "data-id": m.id },
      h("td", {}, h("a", { href: `#/models/${m.id}` }, `#${m.id} ${m.name}`)), h("td", {}, m.task),
      h("td", { class: "hide-narrow" }, m.architecture), h("td", {}, headline(m.metrics)),
      h("td", { class: "hide-narrow" }, m.source), h("td", { class: "hide-narrow" }, fmt.time(m.created_at))))
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No models yet: a finished run registers one.")));
  };
  view.append(h("section", { class: "page-head" }, h("h1", {}, "Models")),
    auth.can("admin") ? uploader({ path: "/models", accept: ".pt", label: "Drop a .pt file here, or click to choose",
      testid: "model-upload", onDone: load }) : null,
    h("div", { class: "table-wrap" }, h("table", { class: "list" }, h("thead", {}, h("tr", {},
      ["Model", "Task", "Architecture", "mAP50 / top1", "Source", "Created"].map((t, i) =>
        h("th", { class: [2, 4, 5].includes(i) ? "hide-narrow" : null }, t)))), body)));
  load();
}

function headline(metrics) {
  const value = metrics["metrics/mAP50(B)"] ?? metrics["metrics/accuracy_top1"];
  return value === undefined ? "—" : fmt.num(value, 3);
}

export async function modelPage(view, cleanup, id) {
  const m = await api.get(`/models/${id}`);
  const message = h("p", { class: "form-message", role: "status", testid: "model-message" });
  const evaluation = h("div", { testid: "model-evaluation" });
  const datasets = h("select", { testid: "evaluate-dataset" });
  const act = (fn) => async () => {
    message.classList.remove("error");
    try { message.textContent = await fn(); } catch (e) { message.textContent = e.message; message.classList.add("error"); }
  };
  const rows = [["Task", m.task], ["Architecture", m.architecture], ["Source", m.source],
    ["Source run", m.session_id ? h("a", { href: `#/runs/${m.session_id}` }, `#${m.session_id}`) : "—"],
    ["Size", fmt.bytes(m.size_bytes)], ["Created", fmt.time(m.created_at)], ["Validated", m.validated ? "yes" : "no"],
    ["Classes", m.classes.join(", ")]];
  if (m.quarantine_reason) rows.push(["Quarantined", m.quarantine_reason]);
  view.append(h("section", { class: "page-head" }, h("h1", {}, `#${m.id} ${m.name}`)),
    h("div", { class: "actions" },
      h("button", { type: "button", testid: "model-download", onclick: act(async () => {
        await download(`/models/${m.id}/download`, `${m.name}.pt`); return "Downloaded."; }) }, "Download .pt"),
      writeButton(auth, "operator", "Export to ONNX", "model-export", act(async () => {
        message.textContent = "Exporting… (a few seconds)";
        const e = await api.post(`/models/${m.id}/export?format=onnx`);
        return `ONNX ready (${fmt.bytes(e.size_bytes)}, ${e.imgsz} px).`;
      })),
      auth.can("operator") ? datasets : null,
      writeButton(auth, "operator", "Evaluate", "model-evaluate", act(async () => {
        const e = await api.post(`/models/${m.id}/evaluate`, { dataset: Number(datasets.value) });
        watchEvaluation(e.id, evaluation, cleanup);
        return `Evaluation #${e.id} queued.`;
      })),
      writeButton(auth, "operator", "Delete", "model-delete", act(async () => {
        if (!confirm(`Delete model #${m.id}?`)) return "Kept.";
        await api.del(`/models/${m.id}`);
        location.hash = "#/models";
        return "Deleted.";
      }), "danger")),
    message,
    h("dl", { class: "details" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h2", {}, "Final metrics"), metricsTable(m.metrics), evaluation);
  if (auth.can("operator")) {
    const list = await api.get("/datasets", { task: m.task, limit: 200 });
    replace(datasets, list.items.map((d) => h("option", { value: d.id }, `${d.name}`)));
  }
}

export function metricsTable(metrics) {
  return h("table", { class: "list compact", testid: "metrics-table" }, h("tbody", {},
    Object.entries(metrics).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, fmt.num(v, 4))))));
}

function watchEvaluation(id, container, cleanup) {
  const poll = async () => {
    const e = await api.get(`/evaluations/${id}`);
    replace(container, h("h2", {}, `Evaluation #${id}: ${e.status}`), e.metrics ? metricsTable(e.metrics) : null);
    if (!["completed", "failed", "cancelled", "stopped"].includes(e.status)) timer = setTimeout(poll, 2000);
  };
  let timer = setTimeout(poll, 500);
  cleanup.add(() => clearTimeout(timer));
}
