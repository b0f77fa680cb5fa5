"""Texts of the models, past runs, queue and history screens: pure functions of API objects (HTML, escaped)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from telegram_bot.formatting import TELEGRAM_TEXT_LIMIT, metrics_line, session_title, status_word, verdict_text
from telegram_bot.i18n import t
from telegram_bot.schemas import EvaluationRead, ModelRead, QueueRead, RecognitionRead, SessionRead, SummaryGroup

EVAL_METRICS = ("mAP50", "mAP50-95", "precision", "recall", "top1", "top5")
PRIORITY_MIN, PRIORITY_MAX = -1000, 1000


def stamp(ts: float) -> str:
    """A moment as the server's local date and time, minutes precision."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "—"


def model_card(model: ModelRead, lang: str) -> str:
    """Details of a model: task, architecture, classes, metrics and where it came from."""
    lines = [f"#{model.id} <b>{escape(model.name)}</b> ({model.task}, {escape(model.architecture)}, "
             f"{model.size_bytes / 1e6:.1f} MB)",
             t(lang, "model-classes", classes=escape(", ".join(model.classes[:30])) or "—")]
    metrics = metrics_line(model.metrics)
    if metrics:
        lines.append(metrics)
    if model.session_id is not None:
        lines.append(t(lang, "model-from-run", id=model.session_id))
    else:
        lines.append(t(lang, "model-uploaded"))
    return "\n".join(lines)


def _number_line(values: dict[str, float]) -> str:
    return " · ".join(f"{key} {values[key]:.3f}" for key in EVAL_METRICS if key in values)


def evaluation_text(evaluation: EvaluationRead, lang: str, *, dataset: str, percent: float | None = None) -> str:
    """The evaluation's one message: its state while it waits or runs, then the metrics and a line per class."""
    head = t(lang, "eval-title", id=evaluation.id, model=evaluation.model_id or "—", dataset=escape(dataset),
             split=evaluation.split)
    if evaluation.status == "completed" and evaluation.metrics is not None:
        lines = [head, _number_line(evaluation.metrics)]
        lines.extend(f"• {escape(name)}: {_number_line(values)}" for name, values in (evaluation.per_class or {}).items())
        return "\n".join(lines)[:TELEGRAM_TEXT_LIMIT]
    if evaluation.status in ("failed", "cancelled", "stopped", "interrupted"):
        return f"{head}\n{t(lang, 'eval-failed', status=status_word(evaluation.status, lang))} {escape(evaluation.error or '')}"
    progress = f" {percent:.0f}%" if percent is not None and evaluation.status == "running" else ""
    return f"{head}\n{status_word(evaluation.status, lang)}{progress}"


def export_too_big_text(model_id: int, size_bytes: int, api_base: str, lang: str) -> str:
    curl = f'curl -H "X-API-Key: $K" -OJ "{api_base.rstrip("/")}/models/{model_id}/download?format=onnx"'
    return t(lang, "export-too-big", id=model_id, size=f"{size_bytes / 1e6:.0f}", curl=escape(curl))


def run_line(session: SessionRead, lang: str) -> str:
    progress = session.progress
    return (f"{session_title(session)} — {status_word(session.status, lang)}, {progress.epoch}/{progress.epochs}, "
            f"{stamp(session.created_at)}")


def runs_text(sessions: Sequence[SessionRead], *, offset: int, total: int, lang: str) -> str:
    if not sessions:
        return t(lang, "runs-none")
    head = t(lang, "runs-title", first=offset + 1, last=offset + len(sessions), total=total)
    return "\n".join([head, *(run_line(session, lang) for session in sessions)])


def queue_text(queue: QueueRead, lang: str) -> str:
    lines = [t(lang, "queue-title")]
    if queue.running:
        lines.append(t(lang, "status-running"))
        lines.extend(f"{session_title(s)} · {s.progress.epoch}/{s.progress.epochs}" for s in queue.running)
    if queue.queued:
        lines.append(t(lang, "status-queued"))
        lines.extend(f"{n}. {session_title(s)} · {t(lang, 'queue-priority', priority=s.priority)}"
                     for n, s in enumerate(queue.queued, 1))
    if len(lines) == 1:
        lines.append(t(lang, "queue-empty"))
    return "\n".join(lines)


def moved_priority(queued: Sequence[SessionRead], session_id: int, direction: str) -> int | None:
    """The priority that moves a queued run one place up or down (the queue is by priority, then age);
    None when it is already first (last) or not queued."""
    ids = [session.id for session in queued]
    if session_id not in ids:
        return None
    index = ids.index(session_id)
    neighbour = index - 1 if direction == "up" else index + 1
    if not 0 <= neighbour < len(queued):
        return None
    other = queued[neighbour].priority
    wanted = other + 1 if direction == "up" else other - 1
    clamped = min(max(wanted, PRIORITY_MIN), PRIORITY_MAX)
    return clamped if clamped == wanted else None


def history_line(recognition: RecognitionRead, lang: str) -> str:
    verdicts = "; ".join(verdict_text(image, lang).split("\n")[0] for image in recognition.images[:3])
    more = " …" if len(recognition.images) > 3 else ""
    return (f"#{recognition.id} · {stamp(recognition.created_at)} · "
            f"{t(lang, 'history-photos', n=len(recognition.images))}: {verdicts}{more}")


def history_text(recognitions: Sequence[RecognitionRead], *, offset: int, total: int, lang: str) -> str:
    if not recognitions:
        return t(lang, "history-none")
    head = t(lang, "history-title", first=offset + 1, last=offset + len(recognitions), total=total)
    return "\n".join([head, *(history_line(r, lang) for r in recognitions)])[:TELEGRAM_TEXT_LIMIT]


def summary_text(group: SummaryGroup | None, lang: str) -> str:
    if group is None:
        return t(lang, "history-none")
    return t(lang, "history-summary", count=group.count, complete=group.complete, incomplete=group.incomplete,
             unchecked=group.unchecked)
