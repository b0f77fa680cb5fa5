// WS /events: one socket for the whole page, the key sent as the first message (never in the URL),
// reconnected with backoff; pages subscribe to event types by prefix ("session." or "system.sample").
import { auth } from "./api.js";

const TOPICS = "system,session,recognition,stream";
const handlers = new Set();
let socket = null;
let retryMs = 500;
let timer = null;
let stopped = true;
let openedBefore = false;

function url() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/v1/events?topics=${TOPICS}`;
}

function connect() {
  if (stopped || socket) return;
  socket = new WebSocket(url());
  socket.onopen = () => {
    socket.send(JSON.stringify({ api_key: auth.key() }));
    retryMs = 500;
    if (openedBefore) emit({ type: "events.reopened", data: {} }); // events were missed meanwhile
    openedBefore = true;
  };
  socket.onmessage = (message) => {
    try {
      emit(JSON.parse(message.data));
    } catch (error) {
      console.warn("bad event", error);
    }
  };
  socket.onclose = (event) => {
    socket = null;
    emit({ type: "events.closed", data: { code: event.code } });
    if (stopped || event.code === 4401) return; // a bad key will not get better by retrying
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 15000);
  };
}

function emit(event) {
  for (const { prefix, fn } of handlers) {
    if (event.type.startsWith(prefix)) fn(event.data, event);
  }
}

export const events = {
  start() {
    stopped = false;
    connect();
  },
  stop() {
    stopped = true;
    openedBefore = false;
    clearTimeout(timer);
    if (socket) socket.close(1000);
    socket = null;
  },
  /** Calls fn(data, event) for every event whose type starts with prefix; returns the unsubscribe. */
  on(prefix, fn) {
    const entry = { prefix, fn };
    handlers.add(entry);
    return () => handlers.delete(entry);
  },
};
