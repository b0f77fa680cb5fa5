"""OSC over UDP to TouchDesigner (or any OSC receiver): one bundle per processed frame.

python-osc builds the messages; we send them on our own non-blocking socket because a dead or slow target must
cost the pipeline nothing (SimpleUDPClient's blocking socket would wait on a full send buffer).

per_slot: for each slot 1..N, `{prefix}p{n}_x`, `_y` (centre, 0..1), `_w`, `_h`, `_id`, `_cls`, `_conf`; an empty
slot sends zeros and id -1, so a receiver's channels fall back instead of freezing at the last value.
array: `{prefix}tracks` with [slot, id, cls, conf, x, y, w, h] per track, flattened.
Both: `{prefix}count` (tracks this frame); with zones and lines, `{prefix}zone/{name}/{class}` (objects inside) and
`{prefix}line/{name}/{class}/{in|out}` (crossings so far); last, `{prefix}frame` and `{prefix}capture_ts` (seconds
since the epoch, a double)."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

logger = logging.getLogger(__name__)


def _message(address: str, *values: Any) -> Any:
    builder = OscMessageBuilder(address=address)
    for value in values:
        if isinstance(value, float):
            builder.add_arg(value, OscMessageBuilder.ARG_TYPE_FLOAT)
        elif isinstance(value, tuple) and value[0] == "d":
            builder.add_arg(value[1], OscMessageBuilder.ARG_TYPE_DOUBLE)
        else:
            builder.add_arg(value)
    return builder.build()


class OscSink:
    def __init__(self, host: str, port: int, prefix: str, channel_format: str, slots: int) -> None:
        self.target = (host, port)
        self.prefix, self.channel_format, self.slots = prefix, channel_format, slots
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._address: tuple[Any, ...] | None = None
        self._resolved_at = float("-inf")
        self.sent = 0
        self.send_errors = 0

    def _resolve(self) -> tuple[Any, ...] | None:
        """A host name is looked up once (and again every 10 s while it fails), never per frame."""
        now = time.monotonic()
        if self._address is None and now - self._resolved_at > 10:
            self._resolved_at = now
            try:
                self._address = socket.getaddrinfo(*self.target, self._socket.family, socket.SOCK_DGRAM)[0][4]
            except OSError as exc:
                self._count_error(exc)
        return self._address

    def close(self) -> None:
        self._socket.close()

    def publish(self, frame: int, capture_ts: float, tracks: list[dict[str, Any]],
                zone_counts: dict[str, dict[str, int]], line_counts: dict[str, dict[str, dict[str, int]]]) -> None:
        bundle = OscBundleBuilder(IMMEDIATELY)
        p = self.prefix
        for message in self._tracks(tracks):
            bundle.add_content(message)
        bundle.add_content(_message(f"{p}count", len(tracks)))
        for zone, per_class in zone_counts.items():
            for cls, count in per_class.items():
                bundle.add_content(_message(f"{p}zone/{_part(zone)}/{_part(cls)}", count))
        for line, per_class in line_counts.items():
            for cls, both in per_class.items():
                for direction, count in both.items():
                    bundle.add_content(_message(f"{p}line/{_part(line)}/{_part(cls)}/{direction}", count))
        bundle.add_content(_message(f"{p}frame", frame))  # last: a receiver that sees these has the whole frame
        bundle.add_content(_message(f"{p}capture_ts", ("d", capture_ts)))
        self._send(bundle.build().dgram)

    def _tracks(self, tracks: list[dict[str, Any]]) -> list[Any]:
        p = self.prefix
        if self.channel_format == "array":
            flat: list[Any] = []
            for t in sorted((t for t in tracks if t["slot"] is not None), key=lambda t: t["slot"]):
                x, y, w, h = _centre_size(t["box"])
                flat += [t["slot"], t["id"], t["cls"], float(t["conf"]), x, y, w, h]
            return [_message(f"{p}tracks", *flat)]
        by_slot = {t["slot"]: t for t in tracks if t["slot"] is not None}
        messages = []
        for slot in range(1, self.slots + 1):
            t = by_slot.get(slot)
            x, y, w, h = _centre_size(t["box"]) if t else (0.0, 0.0, 0.0, 0.0)
            values = {"x": x, "y": y, "w": w, "h": h, "id": t["id"] if t else -1, "cls": t["cls"] if t else -1,
                      "conf": float(t["conf"]) if t else 0.0}
            messages += [_message(f"{p}p{slot}_{key}", value) for key, value in values.items()]
        return messages

    def _send(self, datagram: bytes) -> None:
        address = self._resolve()
        if address is None:
            return
        try:
            self._socket.sendto(datagram, address)
            self.sent += 1
        except OSError as exc:  # unreachable, buffer full, too big: this frame's values are lost, nothing waits
            self._count_error(exc)

    def _count_error(self, exc: OSError) -> None:
        self.send_errors += 1
        if self.send_errors in (1, 100, 10_000):
            logger.warning("OSC send to %s:%d failed (%d so far): %s", *self.target, self.send_errors, exc)


def _centre_size(box: tuple[float, float, float, float] | list[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def _part(name: str) -> str:
    """A zone, line or class name as one OSC address part (no '/', spaces or pattern characters)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cleaned or "_"


def close_quietly(sink: OscSink | None) -> None:
    if sink is not None:
        with contextlib.suppress(OSError):
            sink.close()
