"""Pure functions that turn streams, their counts and alerts into chat text (HTML: server text is escaped)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from telegram_bot.formatting import CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT
from telegram_bot.i18n import t
from telegram_bot.schemas import StreamRead

STREAM_STATUSES = {"starting": ("⏳", "stream-status-starting"), "running": ("🟢", "stream-status-running"),
                   "reconnecting": ("🔄", "stream-status-reconnecting"), "stopped": ("⚪", "stream-status-stopped"),
                   "failed": ("🔴", "stream-status-failed")}
STREAM_ALERTS = {"failed": "stream-alert-failed", "reconnecting": "stream-alert-reconnecting",
                 "recovered": "stream-alert-recovered"}
LineCounts = Mapping[str, Mapping[str, Mapping[str, int]]]  # line -> class -> {"in": n, "out": n}


def stream_head(stream: StreamRead, lang: str) -> str:
    """"🟢 #3 <b>door</b> — running · 12.5 fps"."""
    icon, key = STREAM_STATUSES.get(stream.status, ("❔", ""))
    status = t(lang, key) if key else escape(stream.status)
    fps = t(lang, "stream-fps", fps=f"{stream.telemetry.fps_proc:.1f}")
    return f"{icon} #{stream.id} <b>{escape(stream.name)}</b> — {status} · {fps}"


def _in_out(counts: Mapping[str, int], lang: str) -> str:
    return t(lang, "stream-in-out", n_in=counts.get("in", 0), n_out=counts.get("out", 0))


def line_counts_text(line_counts: LineCounts, lang: str, *, per_class: bool) -> str:
    """"middle: in 3 / out 1" per line, or per class: "middle: square in 3 / out 0, circle in 0 / out 1"."""
    parts = []
    for line, classes in line_counts.items():
        if per_class and classes:
            counts = ", ".join(f"{escape(name)} {_in_out(c, lang)}" for name, c in classes.items())
        else:
            counts = _in_out({way: sum(c.get(way, 0) for c in classes.values()) for way in ("in", "out")}, lang)
        parts.append(f"{escape(line)}: {counts}")
    return "; ".join(parts)


def _classes(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{escape(name)} {n}" for name, n in counts.items()) or "0"


def zone_counts_text(zone_counts: Mapping[str, Mapping[str, int]]) -> str:
    return "; ".join(f"{escape(zone)}: {_classes(classes)}" for zone, classes in zone_counts.items())


def stream_line(stream: StreamRead, lang: str) -> str:
    """A stream in the list: status, fps, line totals, and the last error while it is in trouble."""
    lines = [stream_head(stream, lang)]
    telemetry = stream.telemetry
    if telemetry.line_counts:
        lines.append(f"    {t(lang, 'stream-lines')} {line_counts_text(telemetry.line_counts, lang, per_class=False)}")
    if stream.status in ("failed", "reconnecting") and telemetry.last_error:
        lines.append(f"    ⚠️ {escape(telemetry.last_error[:200])}")
    return "\n".join(lines)


def _fit(parts: list[str], separator: str, limit: int) -> str:
    """The parts that fit in `limit` (whole ones: a cut could split an HTML tag), then "…" if some did not."""
    text = parts[0]
    for part in parts[1:]:
        if len(text) + len(separator) + len(part) > limit - 2:
            return text + separator + "…"
        text += separator + part
    return text


def streams_text(streams: list[StreamRead], lang: str) -> str:
    return _fit([t(lang, "streams-title"), *(stream_line(s, lang) for s in streams)], "\n\n", TELEGRAM_TEXT_LIMIT)


def streams_empty_text(api_base_url: str, lang: str) -> str:
    """No streams: how an admin makes one, with this server's address in the example."""
    body = '{"name": "door", "source": "rtsp://user:pass@camera/stream", "model": 1}'
    curl = (f'curl -H "X-API-Key: $ADMIN_KEY" -H "Content-Type: application/json" -d \'{body}\' '
            f"{api_base_url.rstrip('/')}/streams")
    return t(lang, "streams-empty", example=f"<code>{escape(curl, quote=False)}</code>")


def stream_caption(stream: StreamRead, lang: str) -> str:
    """The caption of a snapshot: name, status, fps, objects per zone, crossings per line and class."""
    lines = [stream_head(stream, lang)]
    telemetry = stream.telemetry
    if telemetry.zone_counts:
        lines.append(f"{t(lang, 'stream-zones')} {zone_counts_text(telemetry.zone_counts)}")
    if telemetry.line_counts:
        counts = line_counts_text(telemetry.line_counts, lang, per_class=True)
        if sum(len(line) + 1 for line in lines) + len(counts) + 20 > CAPTION_LIMIT:  # too long: totals per line
            counts = line_counts_text(telemetry.line_counts, lang, per_class=False)
        lines.append(f"{t(lang, 'stream-lines')} {counts}")
    return _fit(lines, "\n", CAPTION_LIMIT)


def stream_alert_text(kind: str, name: str, reason: str | None, lang: str) -> str:
    """A stream's trouble (failed, reconnecting) or recovery, with the server's reason."""
    text = t(lang, STREAM_ALERTS[kind], name=escape(name))
    return text + (f"\n<i>{escape(reason[:500])}</i>" if reason and kind != "recovered" else "")


def crossings_text(name: str, counts: LineCounts, lang: str) -> str:
    """Crossings since the last summary, per line and class (per line only if that would be too long)."""
    head = t(lang, "stream-alert-crossings", name=escape(name))
    for per_class in (True, False):
        text = f"{head} {line_counts_text(counts, lang, per_class=per_class)}"
        if len(text) <= TELEGRAM_TEXT_LIMIT:
            return text
    return f"{head} …"
