// Small DOM helpers: elements from data (text only, never HTML strings), formatting, forms, drop zones.
import { ApiError } from "./api.js";

/** h("div", {class: "x", testid: "y", onclick: fn}, child, ...): children are nodes or text. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "testid") el.dataset.testid = value;
    else if (name === "class") el.className = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const fmt = {
  time: (ts) => (ts ? new Date(ts * 1000).toLocaleString() : "—"),
  clock: (ts) => new Date(ts * 1000).toLocaleTimeString(),
  num: (v, digits = 3) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits).replace(/\.?0+$/, "")),
  duration(s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
  },
  bytes(n) {
    const units = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  },
};

export function badge(status, testid) {
  return h("span", { class: `badge s-${status}`, testid }, status);
}

/** A button only for keys of at least `role`; null otherwise (a viewer sees no write buttons). */
export function writeButton(auth, role, label, testid, onclick, cls = "") {
  if (!auth.can(role)) return null;
  return h("button", { type: "button", class: `write ${cls}`, testid, onclick }, label);
}

/** Shows an error: next to the fields it names (422), else in the form's message line. */
export function showError(container, error) {
  container.querySelectorAll(".field-error").forEach((el) => (el.textContent = ""));
  const message = container.querySelector(".form-message") || container;
  if (error instanceof ApiError && error.status === 422 && error.details.fields) {
    const fields = error.fields();
    for (const [field, text] of Object.entries(fields)) {
      const slot = container.querySelector(`[data-error-for="${field.replace(/^body\./, "")}"]`);
      if (slot) slot.textContent = text;
    }
  }
  message.textContent = error.message || String(error);
  message.classList.add("error");
}

export function clearError(container) {
  container.querySelectorAll(".field-error").forEach((el) => (el.textContent = ""));
  const message = container.querySelector(".form-message");
  if (message) { message.textContent = ""; message.classList.remove("error"); }
}

/** A labelled input with a slot for its server-side validation error. */
export function field(label, name, input) {
  input.name = name;
  input.id = `f-${name}`;
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input,
    h("span", { class: "field-error", "data-error-for": name, testid: `error-${name}` }));
}

export function select(options, value) {
  return h("select", {}, options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text)));
}

/** A drop zone around a file input: drag and drop or click; onFiles(FileList). */
export function dropZone({ accept, multiple, label, testid, onFiles }) {
  const input = h("input", { type: "file", accept, multiple, testid, class: "drop-input" });
  input.addEventListener("change", () => input.files.length && onFiles(input.files));
  const zone = h("label", { class: "drop" }, input, h("span", {}, label));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) onFiles(e.dataTransfer.files);
  });
  return zone;
}

export function progressBar(testid) {
  return h("progress", { max: 1, value: 0, testid, class: "upload-progress", hidden: true });
}

/** A page's cleanup list: run every function when the page is left. */
export class Cleanup {
  constructor() { this.fns = []; }
  add(fn) { this.fns.push(fn); return fn; }
  run() { for (const fn of this.fns.splice(0)) { try { fn(); } catch (e) { console.warn(e); } } }
}
