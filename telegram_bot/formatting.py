"""Pure functions that turn API objects into chat text (HTML parse mode: server text is escaped)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from telegram_bot.i18n import t
from telegram_bot.schemas import (
    ClusterRead,
    DatasetRead,
    ImageResult,
    LogLine,
    ModelRead,
    RecognitionRead,
    SessionRead,
    SystemSample,
)

TELEGRAM_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# (metric key, label) in the order they are shown; classify runs have the top-k keys instead of mAP.
SHOWN_METRICS = (
    ("metrics/mAP50(B)", "mAP50"), ("metrics/mAP50-95(B)", "mAP50-95"), ("metrics/precision(B)", "P"),
    ("metrics/recall(B)", "R"), ("metrics/accuracy_top1", "top1"), ("metrics/accuracy_top5", "top5"),
    ("train/box_loss", "box_loss"), ("train/cls_loss", "cls_loss"), ("train/loss", "loss"),
)


def progress_bar(fraction: float, width: int = 12) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:.0f}%"


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def metrics_line(metrics: Mapping[str, float], shown: int = 4) -> str:
    """The known YOLO metrics; for a run that reports its own keys (an external script), its first few."""
    parts = [f"{label} {metrics[key]:.3f}" for key, label in SHOWN_METRICS if key in metrics]
    if not parts:
        parts = [f"{escape(key[:40])} {value:.4g}" for key, value in list(metrics.items())[:shown]
                 if key != "epoch" and not key.startswith("batch/")]
    return " · ".join(parts)


def status_word(status: str, lang: str) -> str:
    return t(lang, f"session-status-{status}")


def session_title(session: SessionRead) -> str:
    return f"#{session.id} <b>{escape(session.name)}</b>"


def session_card(session: SessionRead, lang: str) -> str:
    """The progress message of a run: status, bar, epoch i/N, key metrics, ETA."""
    progress = session.progress
    lines = [f"{session_title(session)} · {escape(session.model)} · {status_word(session.status, lang)}"]
    lines.append(progress_bar(progress.percent / 100))
    lines.append(t(lang, "session-epoch", epoch=progress.epoch, epochs=progress.epochs))
    metrics = metrics_line(session.latest_metrics)
    if metrics:
        lines.append(metrics)
    if session.status == "running" and progress.eta_s is not None:
        lines.append(t(lang, "session-eta", eta=format_duration(progress.eta_s)))
    return "\n".join(lines)


def session_line(session: SessionRead, lang: str) -> str:
    progress = session.progress
    return (f"{session_title(session)} — {status_word(session.status, lang)}, "
            f"{progress.epoch}/{progress.epochs} ({progress.percent:.0f}%)")


def final_caption(session: SessionRead, lang: str) -> str:
    lines = [t(lang, "session-done", id=session.id, name=escape(session.name))]
    metrics = metrics_line(session.best_metrics or session.latest_metrics)
    if metrics:
        lines.append(metrics)
    if session.result_model_id:
        lines.append(t(lang, "session-model", id=session.result_model_id))
    return "\n".join(lines)[:CAPTION_LIMIT]


def failure_text(session: SessionRead, lang: str, tail_lines: int = 15) -> str:
    tail = [line for line in (session.error_tail or []) if line.strip()][-tail_lines:]
    body = t(lang, "session-failed", id=session.id, name=escape(session.name), error=escape(session.error or ""))
    if tail:
        body += "\n<pre>" + escape("\n".join(tail))[-3000:] + "</pre>"
    return body


def ended_text(session: SessionRead, lang: str) -> str:
    return t(lang, "session-ended", id=session.id, name=escape(session.name), status=status_word(session.status, lang))


def system_card(sample: SystemSample, lang: str) -> str:
    text = t(lang, "status-system", cpu=f"{sample.cpu_percent:.0f}", ram_used=f"{sample.ram_used_mb / 1024:.1f}",
             ram_total=f"{sample.ram_total_mb / 1024:.1f}", ram_pct=f"{sample.ram_percent:.0f}",
             disk_pct=f"{sample.disk_percent:.0f}")
    if not sample.gpus:
        return text + "\n" + t(lang, "status-no-gpu")
    for gpu in sample.gpus:
        util = gpu.utilization_percent
        used, total = gpu.memory_used_mb, gpu.memory_total_mb
        memory = f"{used / 1024:.1f}/{total / 1024:.1f} GB" if used is not None and total else "—"
        text += f"\nGPU{gpu.index} {escape(gpu.name)}: {util if util is not None else '—'}% · {memory}"
        if gpu.temperature_c is not None:
            text += f" · {gpu.temperature_c:.0f}°C"
    return text


def cluster_card(cluster: ClusterRead, lang: str) -> str:
    """The Ray cluster's nodes, free CPUs / GPUs and runs; nothing for the local executor (the server card says it)."""
    if cluster.executor == "local":
        return ""
    if cluster.state != "connected":
        return t(lang, "status-cluster-down", state=cluster.state, error=escape((cluster.error or "")[:200]))
    lines = [t(lang, "status-cluster", nodes=len(cluster.nodes), capacity=cluster.capacity)]
    for node in cluster.nodes:
        free = node.free or node.total
        runs = " ".join(f"#{sid}" for sid in node.sessions) or "—"
        lines.append(t(lang, "status-cluster-node", node=node.id[:8], head=" ★" if node.head else "",
                       cpu_free=f"{free.cpus:g}", cpus=f"{node.total.cpus:g}", gpu_free=f"{free.gpus:g}",
                       gpus=f"{node.total.gpus:g}", runs=runs))
    return "\n".join(lines)


def dataset_line(dataset: DatasetRead) -> str:
    images = " / ".join(f"{split} {n}" for split, n in dataset.info.images.items())
    classes = ", ".join(escape(c) for c in dataset.classes[:8]) + (" …" if len(dataset.classes) > 8 else "")
    return f"#{dataset.id} <b>{escape(dataset.name)}</b> ({dataset.task}) — {images}; {classes}"


def model_line(model: ModelRead) -> str:
    metrics = metrics_line(model.metrics)
    size = f"{model.size_bytes / 1e6:.1f} MB"
    line = f"#{model.id} <b>{escape(model.name)}</b> ({model.task}, {escape(model.architecture)}, {size})"
    return line + (f"\n    {metrics}" if metrics else "")


def _items(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{escape(name)} ×{n}" for name, n in counts.items())


def verdict_text(result: ImageResult | Mapping[str, Any], lang: str) -> str:
    """One image's verdict: "✅ complete 11/11", "⚠️ missing: pliers ×1", a total count, or what was found."""
    result = ImageResult.model_validate(result)  # the API's JSON too: tests hold it against stored recognitions
    found, expected = result.found, result.expected
    if result.verdict == "unchecked":
        return t(lang, "verdict-unchecked", found=found)
    if expected is not None:
        if result.verdict == "complete":
            return t(lang, "verdict-complete", found=found, expected=expected)
        return t(lang, "verdict-count-short" if found < expected else "verdict-count-over", found=found, expected=expected)
    if result.verdict == "complete":
        kit_total = sum(result.counts.values())
        return t(lang, "verdict-complete", found=kit_total, expected=kit_total)
    parts = []
    if result.missing:
        parts.append(t(lang, "verdict-missing", items=_items(result.missing)))
    if result.extra:
        parts.append(t(lang, "verdict-extra", items=_items(result.extra)))
    return "\n".join(parts)


def counts_text(counts: Mapping[str, int], lang: str) -> str:
    return t(lang, "recognition-counts", counts=_items(counts) or t(lang, "recognition-nothing"))


def _model_line(recognition: RecognitionRead, lang: str) -> str:
    return t(lang, "recognition-model", id=recognition.model_id, conf=recognition.params.conf,
             ms=f"{recognition.timings_ms.get('total', 0.0):.0f}")


def recognition_caption(recognition: RecognitionRead, image: ImageResult, lang: str) -> str:
    """The caption of one annotated photo."""
    lines = [verdict_text(image, lang), counts_text(image.counts, lang), _model_line(recognition, lang)]
    return "\n".join(lines)[:CAPTION_LIMIT]


def recognition_summary(recognition: RecognitionRead | Mapping[str, Any], lang: str) -> str:
    """One summary for an album: the overall verdict, then a line per photo."""
    recognition = RecognitionRead.model_validate(recognition)  # the API's JSON too, as verdict_text
    images = recognition.images
    overall = t(lang, "verdict-complete", found=len(images), expected=len(images)) \
        if recognition.verdict == "complete" else "⚠️"
    lines = [t(lang, "recognition-summary", n=len(images), verdict=overall)]
    lines.extend(t(lang, "recognition-photo", n=image.index + 1, verdict=verdict_text(image, lang)) for image in images)
    lines.append(_model_line(recognition, lang))
    return "\n".join(lines)[:TELEGRAM_TEXT_LIMIT]


def logs_page(session_id: int, lines: list[LogLine], *, first: int, total: int, lang: str) -> str:
    header = t(lang, "logs-page", id=session_id, first=first, last=first + len(lines) - 1, total=total)
    body = "\n".join(f"{line.level[0]} {line.message}" for line in lines)
    room = TELEGRAM_TEXT_LIMIT - len(header) - 20
    body = escape(body[-room:]) if len(body) > room else escape(body)
    return f"{header}\n<pre>{body[-room:]}</pre>"


def parse_check(text: str) -> int | dict[str, int] | None:
    """A chat's kit check from text: "11" -> 11; "wrench=2, pliers=1" or JSON -> {name: count}; else None."""
    text = text.strip()
    if text.isdigit():
        return int(text) if int(text) <= 10_000 else None
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            return None
        pairs = list(value.items()) if isinstance(value, dict) else []
    else:
        pairs = []
        for part in text.replace(";", ",").replace("\n", ",").split(","):
            if not part.strip():
                continue
            name, sep, count = part.replace(":", "=").partition("=")
            if not sep:
                return None
            pairs.append((name.strip(), count.strip()))
    kit: dict[str, int] = {}
    for name, count in pairs:
        if not isinstance(name, str) or not name or not str(count).isdigit() or int(count) > 10_000:
            return None
        kit[name] = int(count)
    return kit or None


def check_text(expected_count: int | None, kit: Mapping[str, int] | None, lang: str) -> str:
    if kit:
        return t(lang, "settings-check-kit", kit=escape(", ".join(f"{k}={v}" for k, v in kit.items())))
    if expected_count is not None:
        return t(lang, "settings-check-count", n=expected_count)
    return t(lang, "settings-check-none")
