"""Training charts (matplotlib, Agg): losses and validation metrics per epoch, sized for a phone screen."""

from __future__ import annotations

import io

_LOSS_PREFIXES = ("train/", "val/")
_METRIC_PREFIXES = ("metrics/",)


def render_training_chart(series: dict[str, list[tuple[int, float]]], title: str) -> bytes:
    """PNG bytes; blocking, so callers run it in a thread."""
    import matplotlib

    matplotlib.use("Agg")

    with matplotlib.rc_context({"text.parse_math": False}):  # titles and legends hold user text: no mathtext
        return _render(series, title)


def _render(series: dict[str, list[tuple[int, float]]], title: str) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 8), dpi=110, layout="constrained")
    losses, metrics = figure.subplots(2, 1, sharex=True)
    _plot(losses, series, "loss")
    _plot(metrics, series, "validation")
    metrics.set_xlabel("epoch", fontsize=12)
    metrics.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(title, fontsize=14)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _panel(key: str) -> str:
    """Which panel a key goes to: YOLO's by prefix; an external run's own keys by name (losses apart)."""
    if key.startswith(_LOSS_PREFIXES):
        return "loss"
    if key.startswith(_METRIC_PREFIXES) or key.startswith("lr/") or key == "epoch_time":
        return "validation" if key.startswith(_METRIC_PREFIXES) else "none"
    return "loss" if "loss" in key.lower() else "validation"


def _plot(axes: object, series: dict[str, list[tuple[int, float]]], label: str) -> None:
    drawn = 0
    for key, points in sorted(series.items()):
        if _panel(key) == label and points:
            xs, ys = zip(*points, strict=True)
            name = key.removeprefix("metrics/")
            axes.plot(xs, ys, marker="o", linewidth=2, label=name)  # type: ignore[attr-defined]
            drawn += 1
    axes.set_ylabel(label, fontsize=12)  # type: ignore[attr-defined]
    axes.grid(alpha=0.3)  # type: ignore[attr-defined]
    if drawn:
        axes.legend(fontsize=10, loc="best")  # type: ignore[attr-defined]
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)  # type: ignore[attr-defined]
