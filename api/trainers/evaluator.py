"""Validation of a model on a dataset split, inside a training child process (kind 'evaluate')."""

from __future__ import annotations

from typing import Any


def _floats(values: dict[str, Any]) -> dict[str, float]:
    return {str(k): round(float(v), 6) for k, v in values.items()}


def evaluate(config: dict[str, Any]) -> dict[str, Any]:
    """Ultralytics' own model.val() with the given settings; overall and per-class numbers."""
    from ultralytics import YOLO

    model = YOLO(config["model"], task=config["task"])
    args = {"data": config["data"], "split": config["split"], "imgsz": config["imgsz"], "batch": config["batch"],
            "device": config["device"], "plots": False, "project": config["run_dir"], "name": "val", "exist_ok": True}
    if config["task"] == "detect":
        args.update(conf=config["conf"], iou=config["iou"])
    results = model.val(**args)
    names = model.names
    if config["task"] == "classify":
        metrics = {"top1": float(results.top1), "top5": float(results.top5)}
        return {"metrics": _floats(metrics), "per_class": {}}
    box = results.box
    metrics = {"precision": box.mp, "recall": box.mr, "mAP50": box.map50, "mAP50-95": box.map}
    per_class = {}
    for position, class_index in enumerate(results.ap_class_index):
        p, r, ap50, ap = box.class_result(position)
        per_class[names[int(class_index)]] = _floats({"precision": p, "recall": r, "mAP50": ap50, "mAP50-95": ap})
    return {"metrics": _floats(metrics), "per_class": per_class}
