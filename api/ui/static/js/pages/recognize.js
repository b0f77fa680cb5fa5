// Recognize: drop photos (many at once), pick a model and a kit or an expected count, see each annotated image
// with its verdict and the per-stage timings; below, the history as a grid of thumbnails with filters.
import { api, auth, imageUrl, upload } from "../api.js";
import { events } from "../events.js";
import { badge, clearError, dropZone, field, fmt, h, progressBar, replace, showError } from "../dom.js";

const HISTORY = 24;

export const apiPath = (url) => url.replace(/^\/api\/v1/, "");

function verdictText(image) {
  const parts = [];
  for (const [k, v] of Object.entries(image.missing || {})) parts.push(`missing ${v} ${k}`);
  for (const [k, v] of Object.entries(image.extra || {})) parts.push(`extra ${v} ${k}`);
  return parts.join(", ");
}

/** An <img> for a guarded URL; its blob: URL is revoked when the page is left. */
function guardedImage(url, alt, cleanup) {
  const img = h("img", { alt, class: "loading" });
  imageUrl(apiPath(url)).then((blob) => {
    img.src = blob;
    img.classList.remove("loading");
    cleanup.add(() => URL.revokeObjectURL(blob));
  }).catch(() => img.replaceWith(h("span", { class: "muted" }, "image removed")));
  return img;
}

function resultView(r, cleanup) {
  const timings = Object.entries(r.timings_ms).map(([k, v]) => `${k} ${fmt.num(v, 1)} ms`).join(" · ");
  return h("section", { class: "card", testid: "recognize-result", "data-id": r.id },
    h("h2", {}, `Recognition #${r.id} `, badge(r.verdict || r.status, "recognize-overall")),
    h("p", { class: "muted", testid: "recognize-timings" }, `${r.runtime || ""} · ${timings}`),
    h("div", { class: "grid wide" }, r.images.map((image) => h("figure", { class: "result", testid: "recognize-image" },
      guardedImage(image.image_url, `image ${image.index}`, cleanup),
      h("figcaption", {}, badge(image.verdict, "recognize-verdict"), ` found ${image.found}`,
        image.expected !== null ? ` of ${image.expected}` : "", " ", verdictText(image),
        h("div", { class: "muted" }, Object.entries(image.counts).map(([k, v]) => `${k}: ${v}`).join(", ")))))));
}

function recognizeForm(view, cleanup, onDone) {
  const model = h("select", { testid: "recognize-model" });
  const kit = h("select", { testid: "recognize-kit" }, h("option", { value: "" }, "— none —"));
  const expected = h("input", { type: "number", min: 0, placeholder: "total per photo", testid: "recognize-expected" });
  const conf = h("input", { type: "number", step: "0.05", value: "0.25", testid: "recognize-conf" });
  const bar = progressBar("recognize-progress");
  const form = h("form", { class: "card", testid: "recognize-form", novalidate: true });
  const results = h("div", { testid: "recognize-results" });
  const send = async (files) => {
    clearError(form);
    const data = new FormData();
    for (const file of files) data.append("images", file);
    data.append("model", model.value);
    data.append("conf", conf.value || "0.25");
    if (kit.value) data.append("kit_id", kit.value);
    else if (expected.value !== "") data.append("expected_count", expected.value);
    bar.hidden = false;
    form.querySelector(".form-message").textContent = `Recognizing ${files.length} photo(s)…`;
    try {
      const r = await upload("/recognitions", data, (f) => (bar.value = f));
      form.querySelector(".form-message").textContent = "";
      results.prepend(resultView(r, cleanup));
      onDone();
    } catch (error) {
      showError(form, error);
    } finally {
      bar.hidden = true;
    }
  };
  form.append(h("div", { class: "fields" }, field("Model", "model", model), field("Kit", "kit_id", kit),
    field("Expected count", "expected_count", expected), field("Confidence", "conf", conf)),
  dropZone({ accept: "image/jpeg,image/png,image/webp", multiple: true, testid: "recognize-input",
    label: "Drop photos here (many at once), or click to choose", onFiles: (files) => send([...files]) }),
  bar, h("p", { class: "form-message", role: "status", testid: "recognize-message" }));
  Promise.all([api.get("/models", { limit: 500 }), api.get("/kits", { limit: 500 })]).then(([ms, ks]) => {
    replace(model, ms.items.filter((m) => m.validated && !m.quarantine_reason)
      .map((m) => h("option", { value: m.id }, `#${m.id} ${m.name}`)));
    kit.append(...ks.items.map((k) => h("option", { value: k.id }, k.name)));
  });
  view.append(form, results);
}

function historyFilters(onChange) {
  const inputs = {
    user: h("input", { type: "text", placeholder: "tg:42", testid: "history-user" }),
    model: h("input", { type: "number", placeholder: "id", testid: "history-model" }),
    kit_id: h("input", { type: "number", placeholder: "id", testid: "history-kit" }),
    verdict: h("select", { testid: "history-verdict" }, ["", "complete", "incomplete", "unchecked"].map((v) =>
      h("option", { value: v }, v || "any verdict"))),
    since: h("input", { type: "date", testid: "history-since" }),
    until: h("input", { type: "date", testid: "history-until" }),
  };
  const query = () => {
    const q = { limit: HISTORY };
    for (const [name, input] of Object.entries(inputs)) {
      if (!input.value) continue;
      q[name] = input.type === "date" ? Date.parse(input.value) / 1000 + (name === "until" ? 86400 : 0) : input.value;
    }
    return q;
  };
  for (const input of Object.values(inputs)) input.addEventListener("change", onChange);
  const bar = h("div", { class: "filters", testid: "history-filters" },
    Object.entries(inputs).map(([name, input]) => h("label", {}, name.replace("_id", ""), input)));
  return { bar, query };
}

export function recognizePage(view, cleanup) {
  view.append(h("section", { class: "page-head" }, h("h1", {}, "Recognize")));
  const grid = h("div", { class: "grid", testid: "history-grid" });
  let pageCleanup = null;
  const loadHistory = async () => {
    pageCleanup?.();
    const revokes = [];
    pageCleanup = () => revokes.splice(0).forEach((fn) => fn());
    const list = await api.get("/recognitions", filters.query());
    replace(grid, list.items.length ? list.items.map((r) => {
      const first = r.images[0];
      return h("figure", { class: "thumb", testid: "history-item", "data-id": r.id },
        first ? guardedImage(first.image_url, `recognition ${r.id}`, { add: (fn) => revokes.push(fn) }) : null,
        h("figcaption", {}, badge(r.verdict || r.status), ` #${r.id} · model ${r.model_id ?? "—"} · ${r.on_behalf_of || `key ${r.key_id}`}`,
          h("div", { class: "muted" }, fmt.time(r.created_at))));
    }) : h("p", { class: "muted" }, "No recognitions match."));
  };
  const filters = historyFilters(loadHistory);
  if (auth.can("operator")) recognizeForm(view, cleanup, loadHistory);
  else view.append(h("p", { class: "muted" }, "Recognition needs an operator key; the history is below."));
  view.append(h("h2", {}, "History"), filters.bar, grid);
  cleanup.add(() => pageCleanup?.());
  cleanup.add(events.on("recognition.created", throttleOnce(loadHistory)));
  loadHistory();
}

function throttleOnce(fn) {
  let pending = false;
  return () => { if (pending) return; pending = true; setTimeout(() => { pending = false; fn(); }, 1000); };
}
