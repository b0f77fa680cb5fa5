// The API client: the key lives in sessionStorage only and goes out as X-API-Key on every request.
const BASE = "/api/v1";
const KEY_NAME = "apiKey";
const WHO_NAME = "apiKeyWho";
const ROLES = { viewer: 0, operator: 1, admin: 2 };

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.details = error.details || {};
  }

  /** {"body.epochs": "message", ...} from a 422's details.fields. */
  fields() {
    const out = {};
    for (const f of this.details.fields || []) out[f.field] = f.message;
    return out;
  }
}

export const auth = {
  key: () => sessionStorage.getItem(KEY_NAME),
  set: (key) => sessionStorage.setItem(KEY_NAME, key),
  clear() {
    sessionStorage.removeItem(KEY_NAME);
    sessionStorage.removeItem(WHO_NAME);
  },
  role: null,
  keyName: null,
  /** The role and name GET /auth/me gave this tab's key (not secret): a reload paints before asking again. */
  remembered() {
    const who = JSON.parse(sessionStorage.getItem(WHO_NAME) || "null");
    if (who && this.key()) { this.role = who.role; this.keyName = who.name; }
    return !!(who && this.key());
  },
  can(role) {
    return this.role !== null && ROLES[this.role] >= ROLES[role];
  },
};

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function request(method, path, { json, form, query, signal } = {}) {
  const headers = { "X-API-Key": auth.key() || "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const url = BASE + path + (query ? "?" + new URLSearchParams(query) : "");
  return parse(await fetch(url, { method, headers, body, signal, cache: "no-store" }));
}

export const api = {
  get: (path, query, signal) => request("GET", path, { query, signal }),
  post: (path, json) => request("POST", path, { json }),
  patch: (path, json) => request("PATCH", path, { json }),
  del: (path) => request("DELETE", path),
  form: (path, form) => request("POST", path, { form }),
};

/** Signs in: the key is kept only when GET /auth/me accepts it. */
export async function signIn(key) {
  const previous = auth.key();
  auth.set(key);
  try {
    const me = await api.get("/auth/me");
    auth.role = me.key.role;
    auth.keyName = me.key.name;
    sessionStorage.setItem(WHO_NAME, JSON.stringify({ role: me.key.role, name: me.key.name }));
    return me;
  } catch (error) {
    if (previous) auth.set(previous); else auth.clear();
    throw error;
  }
}

/** A multipart POST with upload progress (fetch has none): onProgress(0..1). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", BASE + path);
    xhr.setRequestHeader("X-API-Key", auth.key() || "");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status < 300 ? resolve(xhr.response) : reject(new ApiError(xhr.status, xhr.response)));
    xhr.onerror = () => reject(new ApiError(0, { error: { message: "Network error" } }));
    xhr.send(form);
  });
}

/** An image the server guards with the key, as a blob: URL (an <img> cannot send headers). */
export async function imageUrl(path, signal) {
  const response = await fetch(BASE + path, { headers: { "X-API-Key": auth.key() || "" }, signal });
  if (!response.ok) throw new ApiError(response.status, null);
  return URL.createObjectURL(await response.blob());
}

/** Downloads a guarded file: fetch with the key, then a click on a blob: link. */
export async function download(path, filename) {
  const url = await imageUrl(path);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
