// The shell: sign-in, navigation, and a hash router (#/runs, #/runs/12, ...) that mounts one page at a time.
import { auth, signIn } from "./api.js";
import { events } from "./events.js";
import { Cleanup, h, replace } from "./dom.js";
import { runsPage } from "./pages/runs.js";
import { runPage } from "./pages/run.js";
import { modelsPage, modelPage } from "./pages/models.js";
import { datasetsPage, datasetPage } from "./pages/datasets.js";
import { recognizePage } from "./pages/recognize.js";
import { streamsPage, streamPage } from "./pages/streams.js";
import { systemPage } from "./pages/system.js";

const ROUTES = [
  [/^#\/runs\/(\d+)$/, runPage],
  [/^#\/runs$/, runsPage],
  [/^#\/models\/(\d+)$/, modelPage],
  [/^#\/models$/, modelsPage],
  [/^#\/datasets\/(\d+)$/, datasetPage],
  [/^#\/datasets$/, datasetsPage],
  [/^#\/recognize$/, recognizePage],
  [/^#\/streams\/(\d+)$/, streamPage],
  [/^#\/streams$/, streamsPage],
  [/^#\/system$/, systemPage],
];

const view = document.getElementById("view");
const header = document.querySelector("header.top");
let cleanup = new Cleanup();

function signInPage(message) {
  header.hidden = true;
  const input = h("input", { type: "password", name: "key", autocomplete: "off", testid: "signin-key",
    placeholder: "tk_...", required: true });
  const error = h("p", { class: "form-message", testid: "signin-error", role: "alert" }, message || "");
  if (message) error.classList.add("error");
  const form = h("form", { class: "signin card", testid: "signin-form" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Enter your API key. It is kept in this browser tab only and sent as X-API-Key."),
    input, h("button", { type: "submit", testid: "signin-submit" }, "Sign in"), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await signIn(input.value.trim());
      location.hash = location.hash && location.hash !== "#/signin" ? location.hash : "#/runs";
      start();
    } catch (err) {
      error.textContent = err.status === 401 ? "That key was not accepted: check it and try again."
        : err.status === 429 ? "Too many failed attempts from this address: wait a few minutes." : err.message;
      error.classList.add("error");
    }
  });
  replace(view, form);
  input.focus();
}

function start() {
  header.hidden = false;
  document.querySelector("[data-testid=who]").textContent = `${auth.keyName} (${auth.role})`;
  document.body.dataset.role = auth.role;
  events.start();
  route();
}

let mounted = null;

function route() {
  if (!auth.role) return;
  const hash = location.hash || "#/runs";
  if (hash === mounted) return; // start() and the hashchange of the sign-in both ask for the same page
  mounted = hash;
  cleanup.run();
  cleanup = new Cleanup();
  for (const a of header.querySelectorAll("nav a")) a.classList.toggle("active", hash.startsWith(a.getAttribute("href")));
  for (const [pattern, page] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      replace(view);
      page(view, cleanup, ...match.slice(1).map(Number));
      return;
    }
  }
  location.hash = "#/runs";
}

document.querySelector("[data-testid=sign-out]").addEventListener("click", () => {
  auth.clear();
  auth.role = null;
  mounted = null;
  events.stop();
  cleanup.run();
  signInPage();
});

window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (e) => {
  if (e.reason && e.reason.status === 401) { auth.clear(); auth.role = null; mounted = null; signInPage("The key is no longer accepted."); }
});

async function boot() {
  if (!auth.key()) return signInPage();
  const known = auth.remembered();
  if (known) start(); // the page at once; the key is checked meanwhile (a role change shows on the next load)
  try {
    await signIn(auth.key());
    if (!known) start();
  } catch (err) {
    auth.role = null;
    mounted = null;
    events.stop();
    cleanup.run();
    if (err.status === 401) auth.clear();
    signInPage(err.status === 401 ? "The saved key is no longer accepted." : err.message);
  }
}

boot();
