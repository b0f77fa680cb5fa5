// Datasets: the list, zip upload by drag and drop (operator), and a dataset's class counts and sample images.
import { api, auth, imageUrl } from "../api.js";
import { fmt, h, replace, writeButton } from "../dom.js";
import { uploader } from "./models.js";

const SAMPLES = 8;

export function datasetsPage(view) {
  const body = h("tbody", { testid: "dataset-list" });
  const load = async () => {
    const list = await api.get("/datasets", { limit: 500 });
    replace(body, list.items.map((d) => h("tr", { testid: "dataset-row", "data-id": d.id },
      h("td", {}, h("a", { href: `#/datasets/${d.id}` }, `#${d.id} ${d.name}`)), h("td", {}, d.task),
      h("td", {}, d.classes.length), h("td", {}, Object.values(d.info.images).reduce((a, b) => a + b, 0)),
      h("td", { class: "hide-narrow" }, fmt.bytes(d.info.size_bytes)), h("td", { class: "hide-narrow" }, d.source))));
  };
  view.append(h("section", { class: "page-head" }, h("h1", {}, "Datasets")),
    auth.can("operator") ? uploader({ path: "/datasets", accept: ".zip", label: "Drop a dataset .zip here, or click to choose",
      testid: "dataset-upload", onDone: load }) : null,
    h("div", { class: "table-wrap" }, h("table", { class: "list" }, h("thead", {}, h("tr", {},
      ["Dataset", "Task", "Classes", "Images", "Size", "Source"].map((t, i) => h("th", { class: i > 3 ? "hide-narrow" : null }, t)))),
    body)));
  load();
}

export async function datasetPage(view, cleanup, id) {
  const d = await api.get(`/datasets/${id}`);
  const message = h("p", { class: "form-message", role: "status" });
  const max = Math.max(1, ...Object.values(d.info.instances));
  const counts = h("table", { class: "list compact", testid: "dataset-counts" }, h("tbody", {},
    Object.entries(d.info.instances).map(([name, n]) => h("tr", {}, h("td", {}, name), h("td", {}, n),
      h("td", { class: "bar-cell" }, h("meter", { min: 0, max, value: n }))))));
  const grid = h("div", { class: "grid", testid: "dataset-samples" });
  view.append(h("section", { class: "page-head" }, h("h1", {}, `#${d.id} ${d.name}`), h("span", { class: "muted" }, d.task)),
    h("div", { class: "actions" }, writeButton(auth, "operator", "Delete", "dataset-delete", async () => {
      if (!confirm(`Delete dataset #${d.id}?`)) return;
      try { await api.del(`/datasets/${d.id}`); location.hash = "#/datasets"; }
      catch (e) { message.textContent = e.message; message.classList.add("error"); }
    }, "danger")), message,
    h("dl", { class: "details" }, [["Images", Object.entries(d.info.images).map(([k, v]) => `${k} ${v}`).join(", ")],
      ["Background images", d.info.background_images], ["Size", fmt.bytes(d.info.size_bytes)],
      ["Image sizes", d.info.image_size_min ? `${d.info.image_size_min.join("×")} … ${d.info.image_size_max.join("×")}` : "—"],
      ["Created", fmt.time(d.created_at)]].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h2", {}, "Objects per class"), counts, h("h2", {}, "Samples"), grid);
  const urls = [];
  cleanup.add(() => urls.forEach((u) => URL.revokeObjectURL(u)));
  const total = Object.values(d.info.images).reduce((a, b) => a + b, 0);
  for (let n = 0; n < Math.min(SAMPLES, total); n++) {
    const url = await imageUrl(`/datasets/${d.id}/samples/${n}`);
    urls.push(url);
    grid.append(h("figure", { class: "thumb" }, h("img", { src: url, alt: `sample ${n}`, loading: "lazy" })));
  }
}
