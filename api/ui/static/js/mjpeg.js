// The live preview: GET preview.mjpeg needs X-API-Key, which an <img src> cannot send, so the multipart stream
// is read with fetch() and a ReadableStream, each JPEG part (found by its Content-Length) shown as a blob: URL.
import { auth } from "./api.js";

const HEADER_END = new Uint8Array([13, 10, 13, 10]);

function indexOf(buffer, pattern, from = 0) {
  outer: for (let i = from; i <= buffer.length - pattern.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (buffer[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Shows frames in `img` until the stream ends (resolves with why) or `signal` aborts. */
export async function readMjpeg(path, img, signal, cleanup) {
  const response = await fetch(`/api/v1${path}`, { headers: { "X-API-Key": auth.key() }, signal });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    return body?.error?.message || `HTTP ${response.status}`;
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(0);
  let shown = null;
  cleanup.add(() => shown && URL.revokeObjectURL(shown));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "The stream stopped.";
    buffer = concat(buffer, value);
    for (;;) {
      const end = indexOf(buffer, HEADER_END);
      if (end < 0) break;
      const headers = new TextDecoder().decode(buffer.subarray(0, end));
      const length = Number((headers.match(/content-length:\s*(\d+)/i) || [])[1]);
      if (!length) { buffer = buffer.subarray(end + 4); continue; }
      if (buffer.length < end + 4 + length) break;
      const frame = buffer.slice(end + 4, end + 4 + length);
      buffer = buffer.subarray(end + 4 + length);
      const url = URL.createObjectURL(new Blob([frame], { type: "image/jpeg" }));
      img.src = url;
      if (shown) URL.revokeObjectURL(shown);
      shown = url;
      img.dataset.frames = String(Number(img.dataset.frames || 0) + 1);
    }
  }
}
